"""A real lm-eval run (hf backend, CPU) over the generated tasks with the tiny model."""

from __future__ import annotations

from trait.evaluate import scoring
from trait.evaluate.harness import run_lmeval
from trait.evaluate.lmeval_tasks import write_lmeval_tasks
from trait.io import read_jsonl
from trait.pipeline import eval_settings


def test_simple_evaluate_returns_exact_match_per_task_and_saves_samples(eval_cfg, tiny_model, tmp_path):
    gen = write_lmeval_tasks(eval_settings(eval_cfg), tmp_path / "tasks")
    res = run_lmeval(eval_cfg.evaluate, tiny_model, gen, tmp_path, seed=0)
    assert sorted(res) == ["arith", "gsm8k", "mawps", "svamp"]
    for task, metrics in res.items():
        em = metrics["exact_match"]
        assert em["n"] == 3 and 0.0 <= em["value"] <= 1.0
        assert em["value"] == em["k"] / em["n"]
        samples = read_jsonl(tmp_path / "samples" / f"{task}.jsonl")
        assert len(samples) == 3
        for s in samples:
            assert s["prompt"].count("Question:") == 2  # one shot + the test question
            assert s["prompt"].endswith(f"Question: {s['question']}\nAnswer:")
            # The saved per-sample score is the scorer's verdict on the saved generation.
            assert s["exact_match"] == scoring.score(s["generation"], s["gold"])["exact_match"]


def test_local_completions_backend_against_a_live_server(make_cfg, tiny_model, completions_server, tmp_path):
    """The same tasks through lm-eval's local-completions over HTTP give the hf backend's generations."""
    cfg = make_cfg("evaluate.backend=local-completions", f"evaluate.base_url={completions_server.url}",
                   "evaluate.api_model=tiny", "evaluate.limit=2", "evaluate.batch_size=1")
    gen = write_lmeval_tasks(eval_settings(cfg), tmp_path / "tasks")
    res = run_lmeval(cfg.evaluate, tiny_model, gen, tmp_path / "api", seed=0)
    assert sorted(res) == ["arith", "gsm8k", "mawps", "svamp"] and all(r["exact_match"]["n"] == 2 for r in res.values())
    assert len(completions_server.requests) == 8  # 2 items x 4 tasks
    sent = completions_server.requests[0]
    assert sent["model"] == "tiny" and sent["max_tokens"] == 8 and "Question:" in sent["stop"]
    cfg.evaluate.backend = "hf"
    local = run_lmeval(cfg.evaluate, tiny_model, gen, tmp_path / "hf", seed=0)
    for task in res:
        api = [s["generation"] for s in read_jsonl(tmp_path / "api" / "samples" / f"{task}.jsonl")]
        hf = [s["generation"] for s in read_jsonl(tmp_path / "hf" / "samples" / f"{task}.jsonl")]
        assert api == hf and local[task]["exact_match"] == res[task]["exact_match"]


def test_local_completions_needs_a_url(make_cfg):
    import pytest

    from trait.errors import ConfigError

    with pytest.raises(ConfigError, match="base_url is required"):
        make_cfg("evaluate.backend=local-completions")
