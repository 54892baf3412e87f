"""A real lm-eval run (hf backend, CPU) over the generated tasks with the tiny model."""

from __future__ import annotations

from trait.evaluate import scoring
from trait.evaluate.harness import run_lmeval
from trait.evaluate.lmeval_tasks import write_lmeval_tasks
from trait.io import read_jsonl


def test_simple_evaluate_returns_exact_match_per_task_and_saves_samples(eval_cfg, tiny_model, tmp_path):
    gen = write_lmeval_tasks(eval_cfg, tmp_path / "tasks")
    res = run_lmeval(eval_cfg.evaluate, tiny_model, gen, tmp_path, seed=0)
    assert sorted(res) == ["gsm8k", "mawps", "svamp"]
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
