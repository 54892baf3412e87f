"""The synthesize stage with the real local transformers backend over the tiny random model.

A random model cannot agree with gold answers, so the tasks here have no gold (checker ``none``):
what is tested is the real generation path, assembly, summary, and a rerun served from the cache.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from trait.config import config_from_dict
from trait.io import read_jsonl
from trait.pipeline import synthesis_settings


def _settings(root: Path, model: Path, **synth):
    for name, n in (("facts", 4), ("sums", 4)):
        with open(root / f"{name}.jsonl", "w") as fh:
            fh.writelines(json.dumps({"question": f"{name} question {i}: what is {i} plus {i}?"}) + "\n" for i in range(n))
    return synthesis_settings(config_from_dict({
        "run": "local", "seed": 1,
        "data": {"seed_corpus": ["x.jsonl"], "general_corpus": ["x.jsonl"]},
        "tasks": [{"name": n, "train": f"{n}.jsonl", "answer_field": None, "checker": "none"} for n in ("facts", "sums")],
        "llm": {"backend": "transformers", "model": str(model), "max_tokens": 16, "batch_size": 4, "device": "cpu"},
        "synthesize": {"problems_per_passage": 2, "max_passages": 3, "min_paragraph_words": 0,
                       "min_enlightenment_words": 0, "min_problems_mentioned": 0, **synth},  # random text
    }, base_dir=root))


def test_local_backend_produces_passages_and_a_rerun_makes_no_new_calls(tmp_path, tiny_model):
    from trait.synthesize.stage import run_synthesize

    settings = _settings(tmp_path, tiny_model)
    step = run_synthesize(settings)
    summary = step.summary()
    passages = read_jsonl(step.path / "passages.jsonl")
    assert summary["planned"] == 3 and summary["passages"] == len(passages) >= 1
    assert summary["llm"]["sent"] >= 3 * 3 and summary["llm"]["completion_tokens"] > 0
    assert summary["agreement"]["paragraphs_with_gold"] == 0 and summary["agreement"]["first_try"] is None
    assert all(sorted(p["tasks"]) == ["facts", "sums"] for p in passages)
    assert all(p["provenance"]["backend"] == "transformers" for p in passages)
    assert (settings.run_dir / "llm_cache.sqlite").exists()

    before = (step.path / "passages.jsonl").read_bytes()
    shutil.rmtree(step.path)
    again = run_synthesize(settings)
    assert again.summary()["llm"]["sent"] == 0
    assert again.summary()["llm"]["cache_hits"] == summary["llm"]["requests"] - summary["llm"]["failed"]
    assert (again.path / "passages.jsonl").read_bytes() == before
