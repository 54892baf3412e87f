"""Bad input through the real CLI: each case is one ``error:`` line naming the file:line / key /
record and exit code 2 (never a traceback), or exit 0 with the skip counted in the step's summary.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from reliability_kit import KEY_ENV, SECRET, cli, error_lines, write_project

from trait.config import load_config
from trait.errors import BadInputError
from trait.io import read_json
from trait.steps import latest

BAD_LINE = 3  # bad records are inserted as line 3 of a copy of the general corpus / a task file


@dataclass
class Case:
    id: str
    command: str  # select | synthesize | build
    overrides: list[str] = field(default_factory=list)
    files: dict[str, Callable[[Path], bytes]] = field(default_factory=dict)  # name -> content from root
    error: str | None = None  # expected fragment of the one error line (None: must succeed)
    check: Callable[[dict[str, Any]], None] | None = None  # on the step's summary.json
    env: dict[str, str] = field(default_factory=dict)


def _general_with(bad: bytes) -> Callable[[Path], bytes]:
    def make(root: Path) -> bytes:
        lines = (root / "general.jsonl").read_bytes().splitlines(keepends=True)
        return b"".join(lines[:BAD_LINE - 1]) + bad + b"\n" + b"".join(lines[BAD_LINE - 1:])
    return make


def _truncated_gz(root: Path) -> bytes:
    data = gzip.compress((root / "general.jsonl").read_bytes())
    return data[: len(data) // 2]


def _sums_with(bad: dict[str, Any] | None = None, drop: str | None = None) -> Callable[[Path], bytes]:
    def make(root: Path) -> bytes:
        rows = [json.loads(line) for line in (root / "sums.jsonl").read_text().splitlines()]
        if bad is not None:
            rows.insert(BAD_LINE - 1, bad)
        if drop:
            rows = [{k: v for k, v in r.items() if k != drop} for r in rows]
        return "".join(json.dumps(r) + "\n" for r in rows).encode()
    return make


def skipped(reason: str, n: int = 1, at: str = f"bad.jsonl:{BAD_LINE}") -> Callable[[dict], None]:
    def check(summary: dict[str, Any]) -> None:
        assert summary["skipped"] == {reason: n}, summary["skipped"]
        assert any(at in e for e in summary["skip_examples"]), summary["skip_examples"]
    return check


def task_skipped(reason: str) -> Callable[[dict], None]:
    def check(summary: dict[str, Any]) -> None:
        sums = summary["input"]["sums"]
        assert sums["skipped"] == {reason: 1} and f"sums.jsonl:{BAD_LINE}" in sums["skip_examples"][0]
        assert summary["problems"]["sums"] == 6 and summary["passages"] > 0
    return check


def huge_doc_scored(summary: dict[str, Any]) -> None:
    assert summary["docs_scored"] == summary["docs_read"] == 81 and summary["docs_skipped"] == 0


def no_gold_check(summary: dict[str, Any]) -> None:
    assert summary["passages"] > 0 and summary["problems"]["sums"] == 6 and summary["cross_task_fraction"] == 1
    # Every passage has one gsm8k and one sums paragraph; only the gsm8k one has gold to check.
    assert summary["agreement"]["paragraphs_with_gold"] == summary["passages"]


GENERAL = "data.general_corpus=[bad.jsonl]"
SUMS = "tasks.1.train=bad_sums.jsonl"
CASES = [
    # corpora (trait select)
    Case("malformed-json-skip", "select", [GENERAL], {"bad.jsonl": _general_with(b'{"id": "x", "text": ')},
         check=skipped("malformed JSON")),
    Case("malformed-json-fail", "select", [GENERAL, "data.on_bad_record=fail"],
         {"bad.jsonl": _general_with(b'{"id": "x", "text": ')}, error=f"bad.jsonl:{BAD_LINE}: malformed JSON"),
    Case("non-utf8-skip", "select", [GENERAL], {"bad.jsonl": _general_with(b'{"text": "caf\xe9 \xff"}')},
         check=skipped("not valid UTF-8")),
    Case("non-utf8-fail", "select", [GENERAL, "data.on_bad_record=fail"],
         {"bad.jsonl": _general_with(b'{"text": "caf\xe9 \xff"}')}, error=f"bad.jsonl:{BAD_LINE}: not valid UTF-8"),
    Case("gzip-truncated", "select", ["data.general_corpus=[bad.jsonl.gz]"], {"bad.jsonl.gz": _truncated_gz},
         error="compressed stream is truncated or corrupt"),
    Case("empty-doc-counted-even-in-fail-mode", "select", [GENERAL, "data.on_bad_record=fail"],
         {"bad.jsonl": _general_with(b'{"id": "e", "text": "  \\n "}')}, check=skipped("empty document")),
    Case("missing-text-field-skip", "select", [GENERAL], {"bad.jsonl": _general_with(b'{"id": "m", "body": "x"}')},
         check=skipped("missing text field 'text'")),
    Case("missing-text-field-fail", "select", [GENERAL, "data.on_bad_record=fail"],
         {"bad.jsonl": _general_with(b'{"id": "m", "body": "x"}')}, error=f"bad.jsonl:{BAD_LINE}: missing text field"),
    Case("mistyped-text-field", "select", [GENERAL], {"bad.jsonl": _general_with(b'{"id": "t", "text": 42}')},
         check=skipped("text field 'text' is int, not a string")),
    Case("10mb-doc", "select", [GENERAL], {"bad.jsonl": _general_with(
        json.dumps({"id": "huge", "text": "The integral of a sum is a sum of integrals. " * 230_000}).encode())},
         check=huge_doc_scored),
    Case("missing-corpus-file", "select", ["data.general_corpus=[nope.jsonl]"], error="nope.jsonl: file not found"),
    # task files (trait synthesize)
    Case("task-missing-input-skip", "synthesize", [SUMS], {"bad_sums.jsonl": _sums_with({"id": "q", "answer": 1})},
         check=task_skipped("task sums: missing or empty input field 'question'")),
    Case("task-missing-input-fail", "synthesize", [SUMS, "data.on_bad_record=fail"],
         {"bad_sums.jsonl": _sums_with({"id": "q", "answer": 1})},
         error=f"bad_sums.jsonl:{BAD_LINE}: task sums: missing or empty input field 'question'"),
    Case("task-mistyped-input", "synthesize", [SUMS], {"bad_sums.jsonl": _sums_with({"question": 7, "answer": 1})},
         check=task_skipped("task sums: missing or empty input field 'question'")),
    Case("task-missing-answer", "synthesize", [SUMS], {"bad_sums.jsonl": _sums_with({"question": "How?"})},
         check=task_skipped("task sums: missing answer field 'answer'")),
    Case("task-no-answers-answer-field-null", "synthesize", [SUMS, "tasks.1.answer_field=null"],
         {"bad_sums.jsonl": _sums_with(drop="answer")}, check=no_gold_check),
    Case("task-no-answers-but-answer-field-set", "synthesize", [SUMS], {"bad_sums.jsonl": _sums_with(drop="answer")},
         error="task sums: no usable train problems"),
    Case("task-field-typo", "synthesize", ["tasks.1.answer_feild=answer"], error="tasks.1.answer_feild: unknown key"),
    Case("task-file-missing", "synthesize", ["tasks.1.train=nope.jsonl"], error="nope.jsonl: file not found"),
    # config
    Case("config-key-typo", "select", ["select.keep_fracton=0.1"], error="select.keep_fracton: unknown key"),
    Case("config-wrong-type", "select", ["select.keep_fraction=lots"], error="select.keep_fraction:"),
    Case("config-bad-override", "select", ["select.keep_fraction"], error="expected key=value"),
    # LLM server
    Case("llm-unreachable", "synthesize", ["llm.base_url=http://127.0.0.1:9/v1"], error="llm.base_url: cannot reach"),
    Case("llm-wrong-key", "synthesize", [], env={KEY_ENV: "sk-wrong"}, error="rejected the key in $" + KEY_ENV),
    Case("llm-no-key-for-openai", "synthesize", ["llm.base_url=null", "llm.api_key_env=TRAIT_UNSET_KEY_VAR"],
         error="environment variable TRAIT_UNSET_KEY_VAR is not set"),
    # base model: refused before any selection or synthesis work
    Case("base-model-missing", "build", ["train.base_model=/no/such/model"], error="model '/no/such/model': no such"),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory, example_data, keyed_server) -> Path:
    return write_project(tmp_path_factory.mktemp("bad-input"), example_data, keyed_server.url)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_error_line_or_a_counted_skip(case: Case, project: Path):
    root = project.parent
    for name, make in case.files.items():
        (root / name).write_bytes(make(root))
    rc, out = cli([case.command, project, f"run={case.id}", *case.overrides], env=case.env)
    assert "Traceback" not in out, out[-3000:]
    run_dir = root / "runs" / case.id
    if case.error is not None:
        assert rc == 2, out[-2000:]
        errors = error_lines(out)
        assert len(errors) == 1 and case.error in errors[0], out[-2000:]
        assert SECRET not in out and "sk-wrong" not in out
        if case.command == "build":
            # nothing was started before the check (the run's lock file aside)
            assert not run_dir.exists() or not [p for p in run_dir.iterdir() if p.is_dir()]
        return
    assert rc == 0 and not error_lines(out), out[-2000:]
    step = latest(run_dir, "score" if case.command == "select" else case.command)
    assert step is not None
    case.check(read_json(step / "summary.json"))


def test_yaml_syntax_error_names_the_line(project: Path):
    bad = project.with_name("broken.yaml")
    lines = project.read_text().splitlines()
    lines.insert(4, "  general_corpus: [general.jsonl")  # unclosed flow sequence
    bad.write_text("\n".join(lines) + "\n")
    rc, out = cli(["select", bad])
    assert rc == 2 and "Traceback" not in out
    (line,) = error_lines(out)
    assert "broken.yaml:" in line and "not valid YAML" in line


def test_missing_config_file(project: Path):
    rc, out = cli(["synthesize", project.with_name("nope.yaml")])
    assert rc == 2 and error_lines(out) == [f"error: {project.with_name('nope.yaml')}: config file not found"]


def test_bad_record_inside_the_datatrove_pipeline_is_one_line_not_a_traceback(project: Path, capfd):
    """The CLI's classify step reads the corpus first, so a bad record normally stops the run there;
    here the scorer is trained on a clean corpus and the bad one reaches datatrove's task runner,
    which logs task exceptions with a traceback: a TraitError must reach only the task log file."""
    from trait.pipeline import select_settings
    from trait.select.stage import run_classify, run_score

    root = project.parent
    (root / "dt_bad.jsonl").write_bytes(_general_with(b'{"id": "x", "text": ')(root))
    clean = load_config(project, ["run=datatrove-fail"])
    bad = load_config(project, ["run=datatrove-fail", "data.general_corpus=[dt_bad.jsonl]",
                                "data.on_bad_record=fail"])
    classify = run_classify(select_settings(clean))
    capfd.readouterr()
    with pytest.raises(BadInputError, match=f"dt_bad.jsonl:{BAD_LINE}: malformed JSON"):
        run_score(select_settings(bad), classify)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "malformed JSON" not in err, err[-2000:]
    logs = list((root / "runs" / "datatrove-fail").glob("score-*/datatrove/logs/task_00000.log"))
    assert len(logs) == 1 and "malformed JSON" in logs[0].read_text()  # kept for debugging, off the console
