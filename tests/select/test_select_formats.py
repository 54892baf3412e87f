"""``trait select`` end to end on corpora as users have them (issue 13): each format gives the same
selection as the plain jsonl.gz, or one clear error. Every yaml snippet of the README's "Bring your
own corpus" section is one of the cases: its files are written as it names them, then it is run."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
import zstandard
from typer.testing import CliRunner

from trait.io import iter_docs

README = Path(__file__).resolve().parents[2] / "README.md"
COMPRESS = {"gz": lambda data: gzip.compress(data, 1), "bz2": lambda data: bz2.compress(data, 1),
            "xz": lambda data: lzma.compress(data, preset=0),
            "zst": lambda data: zstandard.ZstdCompressor().compress(data)}
CORPORA = ("seed_corpus", "general_corpus", "replay_corpus", "heldout_general")


def readme_snippets() -> list[dict[str, Any]]:
    section = re.split(r"\n#{2,3} ", README.read_text().split("### Bring your own corpus", 1)[1])[0]
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)]


# ---- writing a corpus the way a config names it ---------------------------------------------------

def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
        return
    data = b"".join(json.dumps(r).encode() + b"\n" for r in rows)
    path.write_bytes(COMPRESS.get(path.suffix.lstrip("."), bytes)(data))


def materialize(root: Path, pattern: str, texts: list[str], prefix: str, text_key: str = "text",
                id_key: str | None = "id", first: int = 0) -> None:
    """``texts`` as the files ``pattern`` names: one file, a glob's two shards, or a folder's text
    files (one document each), with ``prefix-<i>`` ids (from ``first``) under ``id_key`` and one
    unused field."""
    if pattern.endswith("/"):
        (root / pattern).mkdir(parents=True, exist_ok=True)
        for i, t in enumerate(texts):
            (root / pattern / f"doc-{i:05d}.txt").write_text(t, encoding="utf-8")
        return
    rows = [{**({id_key: f"{prefix}-{i}"} if id_key else {}), text_key: t, "lang": "en"}
            for i, t in enumerate(texts, first)]
    if "*" in pattern:
        half = len(rows) // 2
        for i, part in enumerate((rows[:half], rows[half:])):
            _write(root / pattern.replace("*", f"part-{i:05d}"), part)
    else:
        _write(root / pattern, rows)


def write_case(root: Path, data: dict[str, Any], texts: dict[str, list[str]]) -> None:
    """The files of every corpus a ``data`` section names, with the fields it says they have."""
    for name in CORPORA:
        for item in data.get(name) or []:
            entry = item if isinstance(item, dict) else {"path": item}
            materialize(root, entry["path"], texts[name], "wiki" if name != "seed_corpus" else "seed",
                        entry.get("text_key") or data.get("text_key", "text"),
                        entry.get("id_key") or data.get("id_key", "id"))


# ---- running trait select -------------------------------------------------------------------------

def trait_select(root: Path, data: dict[str, Any], select: dict[str, Any]) -> tuple[int, str]:
    """``trait select`` on ``root/config.yaml`` in-process; (exit code, stdout + stderr)."""
    from datatrove.utils.logging import setup_default_logger

    from trait.cli import app

    (root / "config.yaml").write_text(yaml.safe_dump({"run": "r", "runs_dir": "runs", "data": data,
                                                      "select": select}))
    res = CliRunner().invoke(app, ["select", str(root / "config.yaml")])
    setup_default_logger()  # datatrove's loguru sink pointed at the runner's (now closed) stderr
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.stdout + res.stderr


def selected(root: Path) -> list[tuple[str, str]]:
    (path,) = root.glob("runs/r/choose-*/selected")  # a folder of shards
    return sorted((d.id, d.text) for d in iter_docs([path]))


@pytest.fixture(scope="module")
def select_settings(fast_classifier) -> dict[str, Any]:
    # reliability_kit's cheaper fastText settings (stable on these texts): 11 runs of select here
    classifier = fast_classifier | {"dim": 32, "epoch": 10}
    return {"keep_fraction": 0.1, "classifier": classifier, "quality": {"scorer": "none"},
            "dedup": {"minhash": False}}


@pytest.fixture(scope="module")
def texts(seed_texts, general_texts) -> dict[str, list[str]]:
    return {"seed_corpus": seed_texts, "general_corpus": general_texts, "replay_corpus": general_texts,
            "heldout_general": general_texts}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, texts, select_settings) -> list[tuple[str, str]]:
    """The selection from the plain jsonl.gz corpora."""
    root = tmp_path_factory.mktemp("jsonl-gz")
    data = {"seed_corpus": ["seed.jsonl.gz"], "general_corpus": ["general.jsonl.gz"]}
    write_case(root, data, texts)
    rc, out = trait_select(root, data, select_settings)
    assert rc == 0, out[-2000:]
    return selected(root)


README_CASES = readme_snippets()
SAME = [
    # the README's snippets: a FineWeb parquet glob, a Pile .jsonl.zst glob, a folder of .txt files as
    # the seed, fields per corpus (test_the_readme_shows_each_format checks that they still do)
    *[pytest.param(d["data"], id=f"readme-{i}") for i, d in enumerate(README_CASES)],
    pytest.param({"seed_corpus": ["seed.jsonl.gz"], "general_corpus": ["g.jsonl.zst"]}, id="jsonl-zst"),
    pytest.param({"seed_corpus": ["seed.jsonl.bz2"], "general_corpus": ["g.jsonl.bz2"]}, id="jsonl-bz2"),
    pytest.param({"seed_corpus": ["seed.jsonl.xz"], "general_corpus": ["g.jsonl.xz"]}, id="jsonl-xz"),
]


def test_the_readme_shows_each_format():
    items = [item for d in README_CASES for name in CORPORA for item in d["data"].get(name) or []]
    paths = [item["path"] if isinstance(item, dict) else item for item in items]
    assert any(p.endswith("*.parquet") for p in paths) and any(p.endswith(".jsonl.zst") for p in paths)
    assert any(p.endswith("/") for p in paths) and any(isinstance(item, dict) for item in items)


def _check_same(root: Path, data: dict[str, Any], select: dict[str, Any], baseline) -> None:
    rc, out = trait_select(root, data, select)
    assert rc == 0, out[-2000:]
    assert selected(root) == baseline
    summary = json.loads(next(root.glob("runs/r/score-*/summary.json")).read_text())
    assert summary["files"] and all(f["size"] > 0 for f in summary["files"])  # what was read, with sizes


@pytest.mark.parametrize("data", SAME)
def test_each_format_selects_what_the_jsonl_gz_does(data, tmp_path, texts, select_settings, baseline):
    write_case(tmp_path, data, texts)
    _check_same(tmp_path, data, select_settings, baseline)


def test_a_folder_of_mixed_shards_selects_what_the_jsonl_gz_does(tmp_path, texts, select_settings, baseline):
    general = texts["general_corpus"]
    materialize(tmp_path, "cc/a/*.jsonl.gz", general[:60], "wiki")
    materialize(tmp_path, "cc/b.parquet", general[60:], "wiki", first=60)
    (tmp_path / "cc" / "README.md").write_text("not a corpus file")  # a folder's other files are left out
    materialize(tmp_path, "seed.jsonl.gz", texts["seed_corpus"], "seed")
    _check_same(tmp_path, {"seed_corpus": ["seed.jsonl.gz"], "general_corpus": ["cc/"]}, select_settings,
                baseline)


def _seed(root: Path, texts: dict[str, list[str]]) -> None:
    materialize(root, "seed.jsonl.gz", texts["seed_corpus"], "seed")


def _truncated_zst(root: Path, texts: dict[str, list[str]]) -> None:
    _seed(root, texts)
    materialize(root, "g.jsonl.zst", texts["general_corpus"], "wiki")
    data = (root / "g.jsonl.zst").read_bytes()
    (root / "g.jsonl.zst").write_bytes(data[: len(data) // 2])


def _general_under_content(root: Path, texts: dict[str, list[str]]) -> None:
    _seed(root, texts)
    materialize(root, "g.jsonl", texts["general_corpus"], "wiki", text_key="content")


ERRORS = [
    pytest.param({"seed_corpus": ["seed.jsonl.gz"], "general_corpus": ["p-*.parquet"]}, _seed,
                 r"p-\*\.parquet: no file matches this pattern$", id="glob-without-match"),
    pytest.param({"seed_corpus": ["seed.jsonl.gz"], "general_corpus": ["g.jsonl.zst"]}, _truncated_zst,
                 r"g\.jsonl\.zst:\d+: compressed stream is truncated or corrupt", id="truncated-zst"),
    pytest.param({"text_key": "content", "seed_corpus": ["seed.jsonl.gz"], "general_corpus": ["g.jsonl"]},
                 _general_under_content, r"data\.seed_corpus: need at least 2 usable seed documents \(got 0\); "
                 r"0 of 60 records have the field 'content' \(data\.text_key\); the first record has: "
                 r"id, text, lang$", id="one-text-key-for-all"),
]


@pytest.mark.parametrize(("data", "write", "error"), ERRORS)
def test_bad_corpora_are_one_clear_error(data, write, error, tmp_path, texts, select_settings):
    write(tmp_path, texts)
    rc, out = trait_select(tmp_path, data, select_settings)
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert rc == 2 and len(errors) == 1 and re.search(error, errors[0]), out[-2000:]
    assert "Traceback" not in out
