"""Random and DSIR baseline scorers: fit / score / load through the shared scorer registry."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from trait.select.baselines import DSIRScorer, DSIRSettings, RandomScorer
from trait.select.choose import keep_mask
from trait.select.scorer import load_scorer, make_scorer


def _texts(path, n: int) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line, _ in zip(fh, range(n))]


@pytest.fixture(scope="module")
def seed_and_wiki(example_data) -> tuple[list[str], list[str]]:
    seed = _texts(example_data / "math_prose" / "openstax_math.jsonl.gz", 160)
    wiki = _texts(example_data / "wikipedia" / "wiki_sample.jsonl.gz", 160)
    return seed, wiki


def test_registry_builds_both_baselines():
    assert isinstance(make_scorer("random"), RandomScorer)
    assert isinstance(make_scorer("dsir"), DSIRScorer)


def test_dsir_ranks_seed_like_text_above_wiki(tmp_path, seed_and_wiki):
    seed, wiki = seed_and_wiki
    scorer = make_scorer("dsir")
    metrics = scorer.fit(seed[:120], wiki[:120], tmp_path / "dsir", seed=3)
    assert metrics["roc_auc"] > 0.8 and metrics["n_heldout"] == 48 and metrics["n_train"] == 192
    assert json.loads((tmp_path / "dsir" / "metrics.json").read_text())["roc_auc"] == metrics["roc_auc"]
    # unseen docs: seed-like ones get larger log importance weights than wiki articles
    new_seed, new_wiki = seed[120:], wiki[120:]
    lw = scorer.log_weight(new_seed + new_wiki)
    from sklearn.metrics import roc_auc_score
    assert roc_auc_score([1] * len(new_seed) + [0] * len(new_wiki), lw) > 0.8
    loaded = load_scorer("dsir", tmp_path / "dsir")
    assert np.allclose(loaded.score(new_seed), scorer.score(new_seed))
    assert np.allclose(loaded.log_weight(new_wiki), lw[len(new_seed):])


def test_dsir_length_normalized_weight_is_mean_per_ngram(tmp_path, seed_and_wiki):
    seed, wiki = seed_and_wiki
    raw = DSIRScorer()
    raw.fit(seed[:40], wiki[:40], tmp_path / "raw", seed=0)
    norm = DSIRScorer(params=DSIRSettings(length_normalize=True), log_ratio=raw.log_ratio)
    text = "the slope of a line is rise over run"
    n_features = 9 + 8  # unigrams + bigrams
    assert np.isclose(norm.log_weight([text])[0], raw.log_weight([text])[0] / n_features)
    assert np.isclose(norm.log_weight([text + " " + text])[0], norm.log_weight([text])[0], rtol=0.2)


def test_dsir_score_is_log_weight_plus_seeded_gumbel(tmp_path, seed_and_wiki):
    seed, wiki = seed_and_wiki
    a = DSIRScorer()
    a.fit(seed[:40], wiki[:40], tmp_path / "a", seed=1)
    b = DSIRScorer(log_ratio=a.log_ratio, seed=2)  # same model, another resampling seed
    texts = wiki[40:80]
    assert np.array_equal(a.log_weight(texts), b.log_weight(texts))
    noise_a, noise_b = a.score(texts) - a.log_weight(texts), b.score(texts) - b.log_weight(texts)
    assert not np.allclose(noise_a, noise_b)  # the resampling noise depends on the seed
    assert np.array_equal(a.score(texts), a.score(list(texts)))  # and is reproducible per text
    # Gumbel(0, 1) has mean ~0.577 and sd ~1.28
    g = DSIRScorer(log_ratio=np.zeros(10_000), seed=0).score([f"doc {i}" for i in range(4000)])
    assert abs(g.mean() - 0.5772) < 0.08 and abs(g.std() - 1.2825) < 0.08


def test_gumbel_top_k_resamples_in_proportion_to_weights():
    """Top-1 of log w + Gumbel picks item i with probability w_i / sum(w)."""
    w = np.array([1.0, 2.0, 3.0, 4.0])
    scorer = DSIRScorer(log_ratio=np.zeros(10_000), seed=0)
    wins = np.zeros(4)
    for trial in range(3000):
        texts = [f"trial {trial} item {i}" for i in range(4)]
        noise = scorer.score(texts)  # zero model: score is pure Gumbel noise
        wins[np.argmax(np.log(w) + noise)] += 1
    assert np.allclose(wins / wins.sum(), w / w.sum(), atol=0.03)


def test_random_scorer_fit_score_load(tmp_path, seed_and_wiki):
    seed, wiki = seed_and_wiki
    scorer = make_scorer("random")
    metrics = scorer.fit(seed[:50], wiki[:50], tmp_path / "rnd", seed=7)
    assert 0.2 < metrics["roc_auc"] < 0.8 and metrics["n_train"] == 0
    s = scorer.score(wiki)
    assert ((s > 0) & (s < 1)).all() and len(set(s.tolist())) == len(wiki)
    assert np.array_equal(load_scorer("random", tmp_path / "rnd").score(wiki), s)
    other = RandomScorer(seed=8).score(wiki)
    assert not np.array_equal(other, s)
    u = RandomScorer(seed=0).score([f"t{i}" for i in range(5000)])
    assert abs(u.mean() - 0.5) < 0.02 and abs(np.quantile(u, 0.1) - 0.1) < 0.02


def test_same_keep_fraction_same_count_for_every_method(tmp_path, seed_and_wiki):
    seed, wiki = seed_and_wiki
    counts = {}
    for name in ("random", "dsir"):
        scorer = make_scorer(name)
        scorer.fit(seed[:40], wiki[:40], tmp_path / name, seed=0)
        scores = scorer.score(wiki)
        mask, _ = keep_mask(scores, np.ones(len(wiki), dtype=bool), threshold=None, keep_fraction=0.1)
        counts[name] = int(mask.sum())
    assert counts == {"random": 16, "dsir": 16}


def test_unfitted_and_missing_models_are_clear_errors(tmp_path):
    from trait.errors import TraitError

    with pytest.raises(TraitError, match="not fitted"):
        DSIRScorer().score(["x"])
    with pytest.raises(TraitError, match="no dsir.npy"):
        load_scorer("dsir", tmp_path)
    with pytest.raises(TraitError, match="at least 2"):
        DSIRScorer().fit(["a"], ["b", "c"], tmp_path, seed=0)
