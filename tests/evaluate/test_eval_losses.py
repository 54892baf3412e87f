"""Task loss and perplexity computed with transformers: finite, deterministic, and sensitive to training."""

from __future__ import annotations

import math

import pytest

from trait.evaluate.nll import IGNORE, load, score_sequences
from trait.evaluate.perplexity import perplexity, windows
from trait.evaluate.task_loss import task_loss
from trait.io import read_jsonl
from trait.pipeline import eval_settings


def test_task_loss_is_lower_after_training_on_gold_solutions(eval_cfg, tiny_model, tuned_model, tmp_path):
    base = task_loss(eval_settings(eval_cfg), *load(tiny_model), tmp_path / "base")
    tuned = task_loss(eval_settings(eval_cfg), *load(tuned_model), tmp_path / "tuned")
    assert sorted(base) == sorted(tuned) == ["arith", "gsm8k", "mawps", "svamp"]
    for task in base:
        assert math.isfinite(base[task]["value"]) and base[task]["n"] == 5
        assert base[task]["ci_low"] <= base[task]["value"] <= base[task]["ci_high"]
        assert tuned[task]["value"] < base[task]["value"] - 0.3, task
    items = read_jsonl(tmp_path / "base" / "task_loss" / "gsm8k.jsonl")
    assert len(items) == 5 and sum(i["tokens"] for i in items) == base["gsm8k"]["tokens"]


def test_task_loss_is_deterministic(eval_cfg, tiny_model, tmp_path):
    model, tok = load(tiny_model)
    assert task_loss(eval_settings(eval_cfg), model, tok, tmp_path / "a") == task_loss(eval_settings(eval_cfg), model, tok, tmp_path / "b")


def test_batching_and_padding_do_not_change_scores(tiny_model):
    model, tok = load(tiny_model)
    seqs = []
    for text in ["a short one", "a much longer sequence of text that needs padding in a batch", "mid length"]:
        ids = tok(text)["input_ids"]
        seqs.append((ids, [IGNORE] * 2 + ids[2:]))
    one = score_sequences(model, seqs, batch_size=1, pad_id=3)
    three = score_sequences(model, seqs, batch_size=3, pad_id=3)
    for a, b in zip(one, three):
        assert a.tokens == b.tokens and a.nll == pytest.approx(b.nll, rel=1e-4)
    assert [s.tokens for s in one] == [len(s[0]) - 2 for s in seqs]


def test_windows_score_every_token_but_the_first_exactly_once():
    ids = list(range(100, 110))
    for context, stride in [(4, 4), (4, 2), (20, 20), (3, 1), (2, 5)]:
        scored = []
        for x, y in windows(ids, context, stride):
            assert len(x) == len(y) <= context
            assert y[0] == IGNORE  # position 0 has no left context inside its window: never a label
            assert [t for t in y if t != IGNORE] == x[len(x) - sum(t != IGNORE for t in y):]
            scored += [t for t in y if t != IGNORE]
        assert scored == ids[1:], (context, stride)
    assert windows([7], 4, 4) == []


def test_perplexity_is_finite_with_ci(eval_cfg, tiny_model, tmp_path):
    res = perplexity(eval_settings(eval_cfg), *load(tiny_model), tmp_path)
    assert res is not None and res["n"] == 3 and res["tokens"] > 100
    assert math.isfinite(res["value"]) and res["ci_low"] <= res["value"] <= res["ci_high"]
    # random 260-way byte model: perplexity near the vocabulary size, far from 1
    assert 50 < res["value"] < 1000
    assert len(read_jsonl(tmp_path / "perplexity_docs.jsonl")) == 3


def test_perplexity_without_heldout_text_is_none(eval_cfg, tiny_model, tmp_path):
    eval_cfg.data.heldout_general = []
    assert perplexity(eval_settings(eval_cfg), *load(tiny_model), tmp_path) is None
