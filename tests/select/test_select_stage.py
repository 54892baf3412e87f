"""``run_select``: classify -> score -> choose as versioned steps; keep_fraction re-runs only choose."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trait.io import read_json, read_jsonl
from trait.select.score import iter_scores, score_shards
from trait.select.stage import run_classify, run_score, run_select


def _mtimes(folder: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_select_end_to_end_then_keep_fraction_only_rechooses(stage_settings, general_texts, capsys):
    cfg = stage_settings(method="fasttext")  # one seed-vs-general classifier, whose metrics are checked
    chosen = run_select(cfg)
    classify, score = run_classify(cfg), run_score(cfg, run_classify(cfg))
    assert classify.done and score.done and chosen.done
    assert "held-out ROC-AUC" in capsys.readouterr().err
    metrics = classify.summary()["metrics"]
    assert metrics["roc_auc"] > 0.9 and read_json(classify.path / "model" / "metrics.json") == metrics
    assert classify.summary()["n_negatives"] == classify.summary()["n_positives"] == 60
    labels = [r["label"] for r in read_jsonl(classify.path / "training_docs.jsonl")]
    assert labels.count(1) == labels.count(0) == 60
    docs = list(iter_scores(score_shards(score.path)))
    assert len(docs) == len(general_texts) == score.summary()["docs_scored"]
    assert all({"domain", "quality"} <= d.scores.keys() for d in docs)
    assert {d.source for d in docs} == {cfg.data.general_corpus[0]}

    frozen = {**_mtimes(classify.path), **_mtimes(score.path)}
    again = run_select(cfg)  # nothing changed: every step is skipped
    assert again.path == chosen.path and _mtimes(chosen.path) == _mtimes(again.path)

    cfg2 = stage_settings(method="fasttext", keep_fraction=0.2)
    rechosen = run_select(cfg2)
    assert rechosen.path != chosen.path
    assert run_classify(cfg2).path == classify.path and run_score(cfg2, classify).path == score.path
    assert {**_mtimes(classify.path), **_mtimes(score.path)} == frozen  # no retrain, no rescore
    assert rechosen.summary()["kept"] > chosen.summary()["kept"]


def test_quality_and_corpus_changes_rescore_but_do_not_retrain(stage_settings, tmp_path, general_texts):
    cfg = stage_settings(quality={"scorer": "none"})
    classify = run_classify(cfg)
    score = run_score(cfg, classify)
    assert all("quality" not in d.scores for d in iter_scores(score_shards(score.path)))
    cfg_q = stage_settings(quality={"scorer": "heuristic", "min_score": 0.3})
    assert run_classify(cfg_q).path == classify.path
    assert run_score(cfg_q, classify).path != score.path
    # min_score is a choose setting: it must not change the score step
    assert run_score(stage_settings(quality={"scorer": "heuristic", "min_score": 0.6}), classify).path == \
        run_score(cfg_q, classify).path
    # editing the general corpus retrains (negatives come from it) and rescores
    corpus = Path(cfg.data.general_corpus[0])
    os.utime(corpus, ns=(corpus.stat().st_atime_ns, corpus.stat().st_mtime_ns + 10**9))
    assert run_classify(cfg).path != classify.path


@pytest.mark.parametrize("method", ["random", "dsir"])
def test_baseline_methods_train_through_the_same_interface(stage_settings, method):
    pytest.importorskip("trait.select.baselines")
    cfg = stage_settings(method=method, quality={"scorer": "none"})
    classify = run_classify(cfg)
    assert classify.summary()["method"] == method and "roc_auc" in classify.summary()["metrics"]
    score = run_score(cfg, classify)
    docs = list(iter_scores(score_shards(score.path)))
    assert len(docs) == 120 and len({d.scores["domain"] for d in docs}) > 100


def test_bad_seed_corpus_is_one_clear_error(stage_settings, tmp_path):
    from trait.errors import BadInputError

    bad = tmp_path / "seed_bad.jsonl"
    bad.write_text('{"text": "only one"}\n{"text": \n')
    cfg = stage_settings(data={"on_bad_record": "fail"})
    cfg.data.seed_corpus = [str(bad)]
    with pytest.raises(BadInputError, match=r"seed_bad\.jsonl:2: malformed JSON"):
        run_classify(cfg)
