"""The synthesize stage end to end against a real local OpenAI-compatible HTTP server.

The server's reply echoes the start of the prompt, so with the paragraph template overridden to lead
with the gold hint ("Answer: <gold>") its paragraphs agree with gold and passages are produced; a
payload that fails once exercises regeneration through real HTTP. Reruns must send nothing twice.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from trait.config import config_from_dict
from trait.io import read_json, read_jsonl
from trait.pipeline import synthesis_settings
from trait.synthesize.settings import SynthesisSettings
from trait.testing.openai_server import Behaviour, OpenAIServer, reply_text

PROMPTS = {"paragraph": "${hint}Task: $task. $description\nProblem: $problem",
           "hint_answer": "Answer: $answer\n", "hint_solution": "Answer: $answer\n"}


def _write_tasks(root: Path, example_data: Path) -> None:
    lines = (example_data / "gsm8k" / "train.jsonl").read_text().splitlines()[:10]
    (root / "gsm.jsonl").write_text("\n".join(lines[:7]) + "\n")
    (root / "held.jsonl").write_text("\n".join(lines[7:]) + "\n")  # test items: the train ones stay clean
    with open(root / "sums.jsonl", "w") as fh:
        fh.writelines(json.dumps({"id": f"s{i}", "question": f"Tom has {i + 2} apples and buys {i} more. "
                                 "How many apples does he have?", "answer": float(2 * i + 2)}) + "\n" for i in range(5))
        fh.write('{"id": "broken", "question": \n')  # a bad record: counted and reported, never silent


def _settings(root: Path, url: str, **synth) -> SynthesisSettings:
    return synthesis_settings(config_from_dict(_config(url, **synth), base_dir=root))


def _config(url: str, **synth) -> dict:
    return {
        "run": "t", "runs_dir": "runs", "seed": 3,
        "data": {"seed_corpus": ["none.jsonl"], "general_corpus": ["none.jsonl"]},
        "tasks": [{"name": "gsm8k", "train": "gsm.jsonl", "answer_format": "gsm8k", "description": "Word problems."},
                  {"name": "sums", "train": "sums.jsonl", "id_field": "id"},
                  {"name": "held", "test": "held.jsonl", "answer_format": "gsm8k"}],
        "llm": {"backend": "openai", "base_url": url, "model": "fake", "api_key_env": "TRAIT_TEST_KEY",
                "max_retries": 0, "concurrency": 4, "max_tokens": 64},
        "synthesize": {"problems_per_passage": 2, "max_passages": 5, "gold_hints": "answer",
                       "min_paragraph_words": 3, "prompts": PROMPTS, **synth},
    }


@pytest.fixture()
def server():
    failed: set[str] = set()

    def fail_first_payload_of_s3(body, attempt):
        # The first payload asking about problem s3 gets a 500 (no retries configured): the stage must
        # regenerate that paragraph with a new seed, i.e. a new payload.
        user = body["messages"][-1]["content"]
        if "has 5 apples" in user and not failed:
            failed.add(user)
            return "500"
        return None

    with OpenAIServer(Behaviour(fault_fn=fail_first_payload_of_s3)) as srv:
        yield srv


def test_stage_writes_passages_summary_and_provenance_then_is_skipped(tmp_path, example_data, server, monkeypatch):
    from trait.synthesize.stage import run_synthesize

    monkeypatch.setenv("TRAIT_TEST_KEY", "sk-test-secret-123")
    _write_tasks(tmp_path, example_data)
    settings = _settings(tmp_path, server.url)
    step = run_synthesize(settings)
    assert step.done and step.path.parent == settings.run_dir
    passages = read_jsonl(step.path / "passages.jsonl")
    summary = read_json(step.path / "summary.json")
    assert summary["planned"] == 5 and summary["passages"] == len(passages) == 5
    assert summary["rejection_rate"] == 0.0 and summary["agreement"]["after_regeneration"] == 1.0
    assert summary["attempts"]["paragraph:llm_failure"] == 1  # the injected 500, regenerated
    assert summary["llm"]["failed"] == 1 and summary["llm"]["cache_hits"] == 0
    assert summary["cross_task_fraction"] == 1.0  # 2 tasks, k=2: every passage mixes them
    # Echoed prompts hold no arithmetic: only the (hinted, so trivially true) answer line and the
    # enlightenment are checked; the verifier is off; a short echo is never cut at max_tokens.
    checks = summary["checks"]
    assert checks["answer_line"]["rate"] == 1.0 and summary["trivially_true"] == ["answer_line"]
    assert checks["calculator"]["checked"] == 0 and checks["verifier"]["checked"] == 0
    assert checks["enlightenment_degeneracy"] == {"checked": 5, "passed": 5, "rate": 1.0}
    assert summary["truncation"] == {"completions": 15, "truncated": 0, "rate": 0.0}
    assert summary["problems"] == {"gsm8k": 7, "sums": 5}  # 'held' has no train split
    assert summary["input"]["sums"]["skipped"] == {"malformed JSON": 1}
    assert "sums.jsonl:6: malformed JSON" in summary["input"]["sums"]["skip_examples"][0]
    p = passages[0]
    assert len(p["paragraphs"]) == 2 and sorted(p["tasks"]) == ["gsm8k", "sums"]
    assert p["text"].count("Answer: ") == 2 and "What these problems teach:" in p["text"]
    prov = p["provenance"]
    assert prov["model"] == "fake" and prov["prompt_hash"] == summary["prompt_hash"]
    assert prov["sampling"]["max_tokens"] == 64 and prov["tokens"]["completion"] > 0
    assert (step.path / "rejected.jsonl").exists() and (step.path / "llm_failures.jsonl").exists()
    for f in step.path.iterdir():  # the key never reaches an output
        assert "sk-test-secret-123" not in f.read_text(errors="ignore")
    sent = sum(server.stats.requests.values())
    again = run_synthesize(settings)
    assert again.path == step.path and sum(server.stats.requests.values()) == sent


def test_rerun_after_a_crash_repeats_no_completed_call_and_gives_the_same_passages(
        tmp_path, example_data, server, monkeypatch):
    from trait.synthesize import stage

    monkeypatch.setenv("TRAIT_TEST_KEY", "sk-test")
    _write_tasks(tmp_path, example_data)
    settings = _settings(tmp_path, server.url, chunk_passages=2)
    real_run_jobs, chunks = stage.run_jobs, []

    def crash_on_third_chunk(*a, **kw):
        chunks.append(1)
        if len(chunks) == 3:
            raise KeyboardInterrupt
        return real_run_jobs(*a, **kw)

    monkeypatch.setattr(stage, "run_jobs", crash_on_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        stage.run_synthesize(settings)
    monkeypatch.setattr(stage, "run_jobs", real_run_jobs)
    served_before = sum(server.stats.served.values())
    step = stage.run_synthesize(settings)
    assert max(server.stats.served.values()) == 1  # no payload was ever answered twice
    summary = step.summary()
    # Every completed call came from the cache except the regeneration of s3: failures are not cached,
    # so the rerun first retries s3's original payload, which the server now answers.
    assert summary["llm"]["cache_hits"] == served_before - 1 and summary["passages"] == 5

    # Same settings, fresh run folder and server: identical passages.
    clean_root = tmp_path / "clean"
    shutil.copytree(tmp_path, clean_root, ignore=shutil.ignore_patterns("runs", "clean"))
    with OpenAIServer() as fresh:
        clean = stage.run_synthesize(_settings(clean_root, fresh.url, chunk_passages=2))
    assert read_jsonl(clean.path / "passages.jsonl") == read_jsonl(step.path / "passages.jsonl")

    # Deleting the step and rerunning makes zero new calls and writes byte-identical passages.
    before = (step.path / "passages.jsonl").read_bytes()
    shutil.rmtree(step.path)
    redo = stage.run_synthesize(settings)
    assert redo.summary()["llm"]["sent"] == 0 and (redo.path / "passages.jsonl").read_bytes() == before

    # More passages: a new step, the first five reused from the cache (only new work is sent).
    more = stage.run_synthesize(_settings(tmp_path, server.url, chunk_passages=2, max_passages=6))
    assert more.path != step.path
    assert read_jsonl(more.path / "passages.jsonl")[:5] == read_jsonl(step.path / "passages.jsonl")
    assert max(server.stats.served.values()) == 1


def test_bad_task_record_fails_with_file_and_line_when_asked(tmp_path, example_data):
    from trait.errors import BadInputError
    from trait.synthesize.stage import run_synthesize

    _write_tasks(tmp_path, example_data)
    settings = _settings(tmp_path, "http://127.0.0.1:9/v1")
    settings.on_bad_record = "fail"
    with pytest.raises(BadInputError, match=r"sums\.jsonl:6: malformed JSON"):
        run_synthesize(settings)


def test_unknown_prompt_override_is_a_config_error_before_any_work(tmp_path, example_data):
    from trait.errors import ConfigError
    from trait.synthesize.stage import run_synthesize

    _write_tasks(tmp_path, example_data)
    settings = _settings(tmp_path, "http://127.0.0.1:9/v1", prompts={"enlightment": "typo"})
    with pytest.raises(ConfigError, match="synthesize.prompts.enlightment: unknown template"):
        run_synthesize(settings)
    assert not settings.run_dir.exists()


def test_verifier_on_a_second_model_refuses_a_paragraph_which_is_regenerated(tmp_path, example_data, monkeypatch):
    from trait.synthesize.stage import run_synthesize

    monkeypatch.setenv("TRAIT_TEST_KEY", "sk-test")
    _write_tasks(tmp_path, example_data)
    refused: set[str] = set()

    def reply(body):  # the generator echoes; the judge says no once, to the first paragraph about s3
        user = body["messages"][-1]["content"]
        if "Proposed solution:" not in user:
            return reply_text(body)
        if body["model"] == "judge" and "has 5 apples" in user and not refused:
            refused.add(user)
            return "No, the reasoning does not support it."
        return "Yes"

    with OpenAIServer(Behaviour(reply_fn=reply)) as srv:
        settings = _settings(tmp_path, srv.url, verifier={"enabled": True, "model": "judge", "max_tokens": 4})
        step = run_synthesize(settings)
        summary = step.summary()
        assert summary["passages"] == 5 and summary["attempts"]["paragraph:ok"] == 10
        assert summary["attempts"]["paragraph:verifier_no"] == 1
        assert summary["checks"]["verifier"] == {"checked": 11, "passed": 10, "rate": 10 / 11, "unanswered": 0}
        assert summary["llm"]["verifier"]["model"] == "judge" and summary["llm"]["verifier"]["calls"] == 11
        assert summary["llm"]["calls"] == 5 * 2 + 1 + 5  # paragraphs, the regeneration, enlightenments
        sent = sum(srv.stats.requests.values())
        shutil.rmtree(step.path)  # every call, the judge's too, is answered by the cache
        assert run_synthesize(settings).summary()["llm"]["sent"] == 0 and sum(srv.stats.requests.values()) == sent

        # model null: the llm section's model verifies, in the same batches as the generation.
        same = run_synthesize(_settings(tmp_path, srv.url, verifier={"enabled": True})).summary()
        assert same["passages"] == 5 and same["checks"]["verifier"]["rate"] == 1.0 and "verifier" not in same["llm"]
        assert same["llm"]["calls"] == 15 + 10 and same["llm"]["cache_hits"] == 15


def test_synthesis_keeping_too_little_stops_with_one_diagnosis_and_a_rerun_pays_nothing(
        tmp_path, example_data, monkeypatch):
    """As SmolLM2 with llm.max_tokens 160 did: every completion cut at max_tokens, none agreeing."""
    import yaml
    from typer.testing import CliRunner

    from trait.cli import app
    from trait.errors import TraitError
    from trait.synthesize.stage import run_synthesize, synthesize_step

    monkeypatch.setenv("TRAIT_TEST_KEY", "sk-test")
    _write_tasks(tmp_path, example_data)
    with OpenAIServer(Behaviour(fault_rates={"length": 1.0})) as srv:
        settings = _settings(tmp_path, srv.url, prompts={}, max_passages=3)  # the hint comes last: cut off
        with pytest.raises(TraitError) as err:
            run_synthesize(settings)
        message = str(err.value)
        assert "\n" not in message and message.startswith(
            "synthesize kept 0 of 3 passages (0%, below synthesize.min_kept_fraction=0.2). Top rejection reasons: "
            "paragraph:disagrees x3 (e.g. gsm8k/")
        assert ", cut at llm.max_tokens)" in message and "Change: raise llm.max_tokens." in message
        assert "Truncation: 18/18 completions hit llm.max_tokens=64." in message  # 3 passages x 2 paragraphs x 3
        step = synthesize_step(settings)
        assert not step.done and read_json(step.path / "summary.json")["truncation"]["rate"] == 1.0

        # The CLI says it in one line, exit code 2.
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(_config(srv.url, prompts={}, max_passages=3)))
        res = CliRunner().invoke(app, ["synthesize", str(tmp_path / "config.yaml")],
                                 env={"TRAIT_TEST_KEY": "sk-test", "COLUMNS": "10000"})
        errors = [line for line in res.output.splitlines() if line.startswith("error:")]
        assert res.exit_code == 2 and len(errors) == 1 and "synthesize kept 0 of 3 passages" in errors[0]

        # Changing the setting re-runs the step, and the cache answers every call.
        sent = sum(srv.stats.requests.values())
        done = run_synthesize(_settings(tmp_path, srv.url, prompts={}, max_passages=3, min_kept_fraction=0))
        assert done.done and done.summary()["passages"] == 0 and sum(srv.stats.requests.values()) == sent


def test_verifier_settings_count_in_the_step_hash_only_when_it_is_on(tmp_path):
    from trait.synthesize.stage import synthesize_step

    def path(**verifier):
        return synthesize_step(_settings(tmp_path, "http://127.0.0.1:9/v1", verifier=verifier)).path

    assert path(model="judge") == path(model="other", max_tokens=3) != path(enabled=True)
    assert path(enabled=True, model="judge") != path(enabled=True)


def test_a_train_problem_duplicating_a_test_item_never_reaches_synthesis(tmp_path, example_data, monkeypatch):
    """MAWPS ships train items that copy test items verbatim: they are dropped before grouping, so no
    prompt ever carries them, and the summary names each one with the test item it copies."""
    from trait.synthesize.stage import run_synthesize

    monkeypatch.setenv("TRAIT_TEST_KEY", "sk-test")
    _write_tasks(tmp_path, example_data)
    dup = "Sara has 35 marbles and gives 12 of them to her brother after school on Monday. How many are left?"
    rows = [("t1", "test", dup), ("t2", "test", "How many pens does Sam have?"),
            ("d1", "train", dup), ("d2", "train", "How many pens does Sam have ?")]
    rows += [(f"c{i}", "train", f"Tom has {i + 2} red pens and {i} blue pens. How many?") for i in range(4)]
    with open(tmp_path / "mawps.jsonl", "w") as fh:
        fh.writelines(json.dumps({"id": i, "split": s, "question": q, "answer": 1}) + "\n" for i, s, q in rows)
    settings = _settings(tmp_path, "unused", max_passages=None)
    settings.tasks.append(settings.tasks[0].model_validate(
        {"name": "mawps", "train": str(tmp_path / "mawps.jsonl"), "split_field": "split", "id_field": "id"}))
    prompts: list[str] = []

    def record(body, attempt):
        prompts.append(body["messages"][-1]["content"])

    with OpenAIServer(Behaviour(fault_fn=record)) as srv:
        settings.llm.base_url = srv.url
        step = run_synthesize(settings)
    s = step.summary()
    assert s["problems"]["mawps"] == 4 and s["decontamination"]["dropped"] == 2
    assert {(e["id"], e["matched_test_item"], e["rule"]) for e in s["decontamination"]["examples"]} == {
        ("mawps:d1", "mawps:t1", "ngram"), ("mawps:d2", "mawps:t2", "exact")}
    used = {pid for p in read_jsonl(step.path / "passages.jsonl") for pid in p["problem_ids"]}
    assert used & {"c0", "c1", "c2", "c3"} and not used & {"d1", "d2"}
    assert prompts and not [p for p in prompts if "35 marbles" in p or "Sam have" in p]
