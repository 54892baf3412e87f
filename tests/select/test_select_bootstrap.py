"""Bootstrapping across the style gap, ensembling, and the train_selection entry point (small data)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import trait.select.bootstrap as bs
from trait.errors import TraitError
from trait.io import read_json
from trait.select.bootstrap import EnsembleScorer, _ecdf, bootstrap, reservoir_sample, train_selection
from trait.select.config import SelectConfig
from trait.select.scorer import load_scorer

# Seed docs: school math in textbook style. General corpus: encyclopedia style; its math pages use
# mostly *other* math words than the seed (the style/topic gap of issue 7), sharing only a few.
SEED_MATH = ["fraction", "percent", "decimal", "ratio", "perimeter", "rectangle", "multiply", "divide", "denominator", "numerator"]
SHARED = ["number", "equation", "integer", "prime", "triangle", "theorem", "function", "variable"]
GEN_MATH = ["topology", "manifold", "lemma", "axiom", "ideal", "homomorphism", "measure", "group", "conjecture", "proof", "ring"]
OTHER = ["river", "mountain", "king", "army", "battle", "church", "music", "album", "song", "village", "football", "league", "player", "castle", "painting", "novel", "film", "actor", "island", "coast", "harbour", "wine", "bread", "farm"]
TEXTBOOK = ["you", "we", "let's", "try", "example", "solution", "step", "notice", "remember", "exercise", "check", "answer", "now"]
ENCYC = ["was", "born", "century", "known", "located", "founded", "named", "during", "later", "became", "historian", "early", "modern"]
FILL = ["the", "of", "and", "a", "in", "to", "is", "for", "on", "with", "as", "by", "that", "this", "from", "at", "an", "it"]


def _doc(rng: random.Random, topics: list[list[str]], style: list[str], n: int = 80) -> str:
    words = []
    for _ in range(n):
        r = rng.random()
        words.append(rng.choice(rng.choice(topics)) if r < 0.3 else rng.choice(style) if r < 0.6
                     else rng.choice(FILL))
    return " ".join(words)


@pytest.fixture(scope="module")
def data() -> tuple[list[str], list[str], list[int]]:
    rng = random.Random(0)
    seed = [_doc(rng, [SEED_MATH, SEED_MATH, SHARED], TEXTBOOK) for _ in range(40)]
    general, labels = [], []
    for _ in range(240):
        math = rng.random() < 0.1
        general.append(_doc(rng, [GEN_MATH, GEN_MATH, SHARED] if math else [OTHER], ENCYC))
        labels.append(int(math))
    return seed, general, labels


def cfg(**kw) -> SelectConfig:
    boot = {"rounds": 1, "top_fraction": 0.06, "bottom_fraction": 0.5, **kw.pop("bootstrap", {})}
    return SelectConfig.model_validate({"method": "dsir", "bootstrap": boot, **kw})


def test_reservoir_sample_is_uniform_deterministic_and_complete() -> None:
    assert reservoir_sample(range(5), 10, 0) == [0, 1, 2, 3, 4]
    a, b = reservoir_sample(range(1000), 50, 1), reservoir_sample(range(1000), 50, 1)
    assert a == b and len(set(a)) == 50
    hits = np.zeros(10)
    for s in range(400):
        for x in reservoir_sample(range(10), 3, s):
            hits[x] += 1
    assert hits.min() > 80 and hits.max() < 160  # expected 120 each


def test_one_round_trains_the_final_scorer_on_general_text_only(data, tmp_path, monkeypatch) -> None:
    seed, general, labels = data
    calls: list[tuple[str, list[str], list[str]]] = []
    real_fit = bs.fit_scorer

    def spy(name, settings, positives, negatives, out_dir, s):
        calls.append((str(out_dir), list(positives), list(negatives)))
        return real_fit(name, settings, positives, negatives, out_dir, s)

    monkeypatch.setattr(bs, "fit_scorer", spy)
    trained = bootstrap("dsir", cfg(), seed, general, tmp_path, seed=0)
    # round 0: 2 cross-fitted fits on seed vs. the other fold; then the final fit on pseudo-labels
    assert [Path(c[0]).relative_to(tmp_path).as_posix() for c in calls] == [
        "round-0/fold-0", "round-0/fold-1", "final"]
    (_, p0, n0), (_, p1, n1), (_, pf, nf) = calls
    assert p0 == seed and p1 == seed
    assert not set(n0) & set(n1) and set(n0) | set(n1) == set(general)  # each doc ranked out-of-fold
    assert set(pf) <= set(general) and set(nf) <= set(general) and not set(pf) & set(nf)
    assert len(pf) == int(np.ceil(0.06 * len(general))) and len(nf) == len(general) // 2
    # the pseudo-positives are mostly the general corpus's own math pages
    gen_math = {t for t, y in zip(general, labels) if y}
    assert len(set(pf) & gen_math) / len(pf) > 0.7
    assert roc_auc_score(labels, trained.scorer.score(general)) > 0.95
    rounds = trained.summary["rounds"]
    assert [r["round"] for r in rounds] == [0, 1] and rounds[1]["n_pos_general"] == len(pf)
    assert read_json(tmp_path / "bootstrap.json")["first_scorer"] == "dsir"
    again = load_scorer(trained.name, trained.out_dir)
    np.testing.assert_allclose(again.score(general[:20]), trained.scorer.score(general[:20]))


def test_next_round_scorer_can_differ_and_seed_can_be_kept(data, tmp_path) -> None:
    seed, general, _ = data
    trained = bootstrap("random", cfg(bootstrap={"scorer": "fasttext", "include_seed": True}),
                        seed, general, tmp_path, seed=3)
    assert trained.name == "fasttext" and trained.summary["rounds"][1]["scorer"] == "fasttext"
    assert trained.summary["rounds"][1]["n_pos"] == len(seed) + trained.summary["rounds"][1]["n_pos_general"]


def test_too_few_pseudo_labels_is_a_clear_error(data, tmp_path) -> None:
    seed, general, _ = data
    with pytest.raises(TraitError, match="top_fraction"):
        bootstrap("dsir", cfg(bootstrap={"top_fraction": 0.01}), seed, general[:100], tmp_path, seed=0)


def test_config_rejects_overlapping_fractions() -> None:
    with pytest.raises(ValueError, match="top_fraction"):
        cfg(bootstrap={"top_fraction": 0.6, "bottom_fraction": 0.5})


def test_ecdf_mid_ranks() -> None:
    ref = np.array([1.0, 2.0, 2.0, 3.0])
    np.testing.assert_allclose(_ecdf(ref, np.array([0.0, 1.0, 2.0, 5.0])), [0.0, 0.125, 0.5, 1.0])


def test_ensemble_rank_averages_members_and_reloads(data, tmp_path) -> None:
    seed, general, labels = data
    settings = cfg(ensemble=["dsir", "random"], bootstrap={"rounds": 0})
    trained = train_selection(settings, seed, general, tmp_path, seed=0)
    assert trained.name == "ensemble" and isinstance(trained.scorer, EnsembleScorer)
    choice = trained.summary["choice"]
    assert choice == {"members": ["dsir", "random"], "bootstrap_rounds": 0, "bootstrap_scorer": None,
                      "combine": "rank_average"}
    s = trained.scorer.score(general)
    assert ((s >= 0) & (s <= 1 + 1e-5)).all()
    # the mean rank of an informative and an uninformative member still ranks math first on average
    assert roc_auc_score(labels, s) > 0.7
    member = trained.scorer.members[0].scorer.score(general)
    expected = np.mean([_ecdf(r, m.scorer.score(general)) for m, r in
                        zip(trained.scorer.members, trained.scorer.refs)], axis=0)
    np.testing.assert_allclose(s, expected, atol=1e-5)
    assert np.corrcoef(member, s)[0, 1] > 0.3
    again = load_scorer("ensemble", tmp_path / "ensemble")
    np.testing.assert_allclose(again.score(general), s)
    assert read_json(tmp_path / "selection.json")["final_scorer"] == "ensemble"


def test_train_selection_single_member_with_bootstrap(data, tmp_path) -> None:
    seed, general, labels = data
    trained = train_selection(cfg(), seed, general, tmp_path, seed=0)
    assert trained.name == "dsir" and trained.out_dir == tmp_path / "dsir" / "final"
    assert trained.summary["choice"]["bootstrap_rounds"] == 1 and trained.summary["final_scorer"] == "dsir"
    assert roc_auc_score(labels, trained.scorer.score(general)) > 0.95


def test_duplicate_ensemble_member_is_an_error(data, tmp_path) -> None:
    seed, general, _ = data
    with pytest.raises(TraitError, match="listed twice"):
        train_selection(cfg(ensemble=["dsir", "dsir"]), seed, general, tmp_path, seed=0)


def test_stage_trains_bootstrapped_ensemble_and_scores_with_it(stage_settings) -> None:
    """Wiring: select.ensemble + select.bootstrap train through run_classify; run_score loads the result."""
    from trait.select.choose import joined_docs
    from trait.select.score import score_shards
    from trait.select.stage import run_classify, run_score, trained_scorer

    cfg = stage_settings(ensemble=["dsir", "random"], quality={"scorer": "none"},
                         bootstrap={"rounds": 1, "top_fraction": 0.1, "bottom_fraction": 0.5})
    classify = run_classify(cfg)
    summary = classify.summary()
    assert summary["scorer"] == "ensemble" and summary["selection"]["choice"]["bootstrap_rounds"] == 1
    assert summary["n_general_pool"] == 120
    name, folder = trained_scorer(classify)
    assert name == "ensemble" and (folder / "ensemble.json").exists()
    docs = list(joined_docs(cfg, score_shards(run_score(cfg, classify).path)))  # rows + corpus text
    expected = load_scorer(name, folder).score([d.text for d in docs])
    np.testing.assert_allclose([d.scores["domain"] for d in docs], expected, rtol=1e-9)
    # plain runs keep their old step hash; turning bootstrapping on retrains
    assert run_classify(stage_settings(ensemble=["dsir", "random"], quality={"scorer": "none"})).path != classify.path
