"""fastText domain classifier: real seed-vs-Wikipedia text, saved artefacts, determinism, registry."""

from __future__ import annotations

import numpy as np
import pytest

from trait.errors import ConfigError, TraitError
from trait.io import read_json
from trait.select.classifier import FastTextScorer, normalize
from trait.select.config import ClassifierConfig
from trait.select.scorer import DomainScorer, binary_metrics, load_scorer, make_scorer, split_heldout


def test_normalize_is_one_lowercase_line_with_punctuation_split_and_truncated():
    out = normalize("Hello, World!\nIt's 3.5 km.", max_chars=1000)
    assert "\n" not in out and out == out.lower()
    assert out.split() == ["hello", ",", "world", "!", "it", "'", "s", "3", ".", "5", "km", "."]
    assert normalize("abcdef" * 100, max_chars=10).split() == ["abcdefabcd"]


def test_split_heldout_is_seeded_disjoint_and_complete():
    items = list(range(50))
    train, held = split_heldout(items, 0.2, seed=3)
    assert len(held) == 10 and sorted(train + held) == items
    assert split_heldout(items, 0.2, seed=3) == (train, held)
    assert split_heldout(items, 0.2, seed=4) != (train, held)


def test_binary_metrics_against_hand_counts():
    m = binary_metrics([1, 1, 0, 0], [0.9, 0.4, 0.6, 0.1])
    assert (m["precision"], m["recall"], m["roc_auc"]) == (0.5, 0.5, 0.75)


def test_fit_separates_math_from_wikipedia_and_saves_everything(tmp_path, seed_texts, general_texts,
                                                                fast_classifier):
    scorer = make_scorer("fasttext", ClassifierConfig(**fast_classifier))
    assert isinstance(scorer, DomainScorer)
    negatives = general_texts[: len(seed_texts)]
    metrics = scorer.fit(seed_texts, negatives, tmp_path / "m", seed=0)
    assert metrics["roc_auc"] > 0.9 and metrics["f1"] > 0.8
    assert metrics["n_heldout"] == 24 and metrics["n_train"] == 96
    for name in ("model.bin", "train.txt", "heldout.txt", "params.json", "metrics.json"):
        assert (tmp_path / "m" / name).stat().st_size > 0, name
    assert read_json(tmp_path / "m" / "metrics.json")["roc_auc"] == metrics["roc_auc"]
    assert read_json(tmp_path / "m" / "params.json")["fasttext"]["thread"] == 1
    train = (tmp_path / "m" / "train.txt").read_text().splitlines()
    held = (tmp_path / "m" / "heldout.txt").read_text().splitlines()
    assert len(train) == 96 and len(held) == 24 and not set(train) & set(held)
    assert all(line.startswith(("__label__in ", "__label__out ")) for line in train + held)
    # held-out general docs are never trained on
    held_neg = {line for line in held if line.startswith("__label__out")}
    assert held_neg and not held_neg & set(train)

    unseen = general_texts[len(seed_texts):]
    s = load_scorer("fasttext", tmp_path / "m").score(unseen + seed_texts[:5])
    assert s.dtype == np.float64 and s.shape == (len(unseen) + 5,) and ((s >= 0) & (s <= 1)).all()
    assert s[-5:].min() > np.median(s[:-5])


def test_fit_is_deterministic(tmp_path, seed_texts, general_texts, fast_classifier):
    a = FastTextScorer(ClassifierConfig(**fast_classifier))
    b = FastTextScorer(ClassifierConfig(**fast_classifier))
    a.fit(seed_texts[:30], general_texts[:30], tmp_path / "a", seed=1)
    b.fit(seed_texts[:30], general_texts[:30], tmp_path / "b", seed=1)
    probe = general_texts[60:80]
    assert np.array_equal(a.score(probe), b.score(probe))
    for name in ("train.txt", "heldout.txt", "model.bin"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown scorer 'nope'"):
        make_scorer("nope")
    with pytest.raises(TraitError, match="at least 2"):
        FastTextScorer().fit(["one doc"], ["other", "doc"], tmp_path, seed=0)
    with pytest.raises(TraitError, match="no fastText model.bin"):
        FastTextScorer.load(tmp_path / "missing")
    with pytest.raises(TraitError, match="not trained"):
        FastTextScorer().score(["x"])
