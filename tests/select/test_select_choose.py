"""Choosing from saved scores: quantile/threshold cut, drop accounting, versioned re-runs."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from trait.config import config_from_dict
from trait.errors import BadInputError
from trait.io import iter_docs, read_json, write_jsonl
from trait.pipeline import select_settings
from trait.records import Doc
from trait.select import choose as choose_mod
from trait.select.choose import SELECTED, choose_step, keep_mask, run_choose
from trait.steps import Step

N_WIKI = 60


@pytest.fixture(scope="module")
def wiki_texts(example_data) -> list[str]:
    with gzip.open(example_data / "wikipedia" / "wiki_sample.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line, _ in zip(fh, range(N_WIKI))]


def make_cfg(tmp_path, example_data, **select):
    select.setdefault("quality", {"scorer": "heuristic", "min_score": 0.5})
    return select_settings(config_from_dict({
        "run": "t", "runs_dir": str(tmp_path / "runs"),
        "data": {"seed_corpus": ["seed.jsonl"], "general_corpus": ["general.jsonl"]},
        "tasks": [{"name": "gsm8k", "test": str(example_data / "gsm8k" / "test.jsonl"),
                   "answer_format": "gsm8k"}],
        "select": select}, base_dir=tmp_path))


def make_score_step(cfg, docs: list[Doc], shards: int = 2, tag: str = "a") -> Step:
    """A completed score step whose shards we wrote ourselves (no classifier needed): the docs become
    the general corpus, the shards hold their score rows (no text), as the score step writes them."""
    corpus = cfg.data.general_corpus[0]
    write_jsonl(corpus, [{"id": d.id, "text": d.text} for d in docs])
    for i, d in enumerate(docs):
        d.source, d.line = corpus, i + 1
    step = Step(cfg.run_dir, "score", {"tag": tag})
    out = step.start()
    for s in range(shards):
        write_jsonl(out / "scores" / f"{s:05d}.jsonl.gz",
                    [{"id": d.id, "source": d.source, "line": d.line, "scores": d.scores} for d in docs[s::shards]])
    step.complete({"docs": len(docs)})
    return step


def scored_docs(texts: list[str]) -> list[Doc]:
    """Distinct domain scores 0..1 and a quality score that fails every 10th doc."""
    rng = np.random.default_rng(0)
    dom = rng.permutation(len(texts)) / len(texts)
    return [Doc(id=f"w{i}", text=t, source="wiki.jsonl", line=i + 1,
                scores={"domain": float(dom[i]), "quality": 0.0 if i % 10 == 0 else 1.0})
            for i, t in enumerate(texts)]


def selected_ids(step: Step) -> list[str]:
    return [d.id for d in iter_docs([step.path / SELECTED], on_error="fail")]


def test_keep_fraction_picks_exact_count_with_ties():
    domain = np.array([0.5, 0.9, 0.5, 0.5, 0.1, 0.9, 0.5, 0.2])
    ok = np.ones(8, dtype=bool)
    for frac in (0.125, 0.25, 0.5, 0.75, 1.0):
        mask, cut = keep_mask(domain, ok, threshold=None, keep_fraction=frac)
        assert mask.sum() == round(frac * 8)
        assert cut == domain[mask].min() and (domain[~mask] <= cut).all()
    mask, _ = keep_mask(domain, ok, threshold=None, keep_fraction=0.5)
    assert mask.tolist() == [True, True, True, False, False, True, False, False]  # ties: corpus order


def test_keep_fraction_counts_all_scored_docs_but_skips_low_quality():
    domain = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    ok = np.array([False, True, True, True, True])
    mask, cut = keep_mask(domain, ok, threshold=None, keep_fraction=0.4)
    assert mask.tolist() == [False, True, True, False, False] and cut == 0.7


def test_choose_keep_fraction_end_to_end(tmp_path, example_data, wiki_texts):
    cfg = make_cfg(tmp_path, example_data, keep_fraction=0.25)
    docs = scored_docs(wiki_texts)
    step = run_choose(cfg, make_score_step(cfg, docs), None)
    s = step.summary()
    n = len(docs)
    assert s["docs_scored"] == n and s["kept_before_dedup"] == round(0.25 * n)
    by = s["dropped_by_reason"]
    assert by["low_quality"] == n // 10
    assert s["kept"] + sum(by.values()) == n  # every doc is accounted for under one reason
    expect = sorted((d for d in docs if d.scores["quality"] >= 0.5), key=lambda d: -d.scores["domain"])
    expect_ids = {d.id for d in expect[:round(0.25 * n)]}
    assert set(selected_ids(step)) <= expect_ids
    assert s["tokens_kept"]["words"] > 0 and s["tokens_kept"]["chars"] > s["tokens_kept"]["words"]
    assert s["threshold"] == min(d.scores["domain"] for d in expect[:round(0.25 * n)])
    kept = list(iter_docs([step.path / SELECTED], on_error="fail"))
    assert kept[0].scores["domain"] >= s["threshold"] and kept[0].source == cfg.data.general_corpus[0]
    assert sorted(p.name for p in (step.path / SELECTED).iterdir()) == ["00000.jsonl.gz", "00001.jsonl.gz"]
    samples = read_json(step.path / "dropped_samples.json")
    assert samples["low_quality"] and len(samples["low_quality"][0]["text"]) <= 300


def test_threshold_mode(tmp_path, example_data, wiki_texts):
    cfg = make_cfg(tmp_path, example_data, threshold=0.6, keep_fraction=None)
    docs = scored_docs(wiki_texts)
    step = run_choose(cfg, make_score_step(cfg, docs), None)
    expect = {d.id for d in docs if d.scores["domain"] >= 0.6 and d.scores["quality"] >= 0.5}
    assert set(selected_ids(step)) == expect
    assert step.summary()["rule"] == "threshold" and step.summary()["threshold"] == 0.6


def test_duplicates_and_contamination_are_dropped_and_counted(tmp_path, example_data, wiki_texts):
    docs = scored_docs(wiki_texts[:20])
    for d in docs:
        d.scores = {"domain": 1.0, "quality": 1.0}
    base = wiki_texts[25]
    question = json.loads((example_data / "gsm8k" / "test.jsonl").read_text().splitlines()[3])["question"]
    docs += [Doc(id="orig", text=base, scores={"domain": 1.0, "quality": 1.0}),
             Doc(id="exact", text="  " + base.upper() + "\n", scores={"domain": 1.0, "quality": 1.0}),
             Doc(id="near", text=base[:-40] + " and a small edit at the very end.",
                 scores={"domain": 1.0, "quality": 1.0}),
             Doc(id="leak", text=wiki_texts[30] + "\nExercise: " + question,
                 scores={"domain": 1.0, "quality": 1.0})]
    cfg = make_cfg(tmp_path, example_data, keep_fraction=1.0)
    step = run_choose(cfg, make_score_step(cfg, docs, shards=1), None)
    s = step.summary()
    assert s["dropped_by_reason"] == {"low_quality": 0, "below_threshold": 0, "exact_duplicate": 1,
                                      "near_duplicate": 1, "contaminated": 1}
    ids = selected_ids(step)
    assert "orig" in ids and not {"exact", "near", "leak"} & set(ids) and len(ids) == 21
    samples = read_json(step.path / "dropped_samples.json")
    assert samples["contaminated"][0]["matched_test_item"] == "gsm8k:gsm8k-test-00003"
    assert s["decontamination"]["tasks"]["gsm8k"]["texts_indexed"] > 1319  # questions + solutions


def test_rerun_is_noop_and_keep_fraction_change_reruns_only_choose(tmp_path, example_data, wiki_texts,
                                                                   monkeypatch):
    cfg = make_cfg(tmp_path, example_data, keep_fraction=0.2)
    score = make_score_step(cfg, scored_docs(wiki_texts))
    score_mtime = (score.path / "SUCCESS").stat().st_mtime_ns
    first = run_choose(cfg, score, None)
    calls = []
    real_choose = choose_mod.choose
    monkeypatch.setattr(choose_mod, "choose", lambda *a: calls.append(a) or real_choose(*a))
    again = run_choose(make_cfg(tmp_path, example_data, keep_fraction=0.2), score, None)
    assert again.path == first.path and calls == []
    cfg2 = make_cfg(tmp_path, example_data, keep_fraction=0.4)
    second = run_choose(cfg2, Step(cfg2.run_dir, "score", {"tag": "a"}), None)
    assert second.path != first.path and len(calls) == 1 and second.done
    assert len(selected_ids(second)) > len(selected_ids(first))
    assert (score.path / "SUCCESS").stat().st_mtime_ns == score_mtime  # scores untouched


def test_classifier_metrics_copied(tmp_path, example_data, wiki_texts):
    cfg = make_cfg(tmp_path, example_data, keep_fraction=0.5)
    classify = Step(cfg.run_dir, "classify", {"x": 1})
    classify.start()
    classify.complete({"heldout": {"roc_auc": 0.97}})
    step = run_choose(cfg, make_score_step(cfg, scored_docs(wiki_texts[:10])), classify)
    assert step.summary()["classifier"] == {"heldout": {"roc_auc": 0.97}}


def test_missing_domain_score_is_one_clear_error(tmp_path, example_data, wiki_texts):
    cfg = make_cfg(tmp_path, example_data, keep_fraction=0.5)
    docs = scored_docs(wiki_texts[:5])
    docs[3].scores = {"quality": 1.0}
    with pytest.raises(BadInputError, match=r"doc 'w3' has no usable 'domain' score"):
        run_choose(cfg, make_score_step(cfg, docs, shards=1), None)


def test_no_shards_is_an_error(tmp_path, example_data):
    cfg = make_cfg(tmp_path, example_data, keep_fraction=0.5)
    with pytest.raises(BadInputError, match="no score shards"):
        run_choose(cfg, make_score_step(cfg, [], shards=0), None)


def test_interrupted_choose_resumes_without_redoing_or_doubling(tmp_path, example_data, wiki_texts,
                                                                monkeypatch):
    cfg = make_cfg(tmp_path, example_data, keep_fraction=0.5)
    score = make_score_step(cfg, scored_docs(wiki_texts))
    real = choose_mod._summarise

    def crash(*a):
        raise KeyboardInterrupt  # killed after the executor stages, before the step completed

    monkeypatch.setattr(choose_mod, "_summarise", crash)
    with pytest.raises(KeyboardInterrupt):
        run_choose(cfg, score, None)
    step = choose_step(cfg, score)
    work = step.path / "work"
    assert not step.done and len(list((work / "candidates").glob("*.jsonl.gz"))) == 2
    joined = (work / "candidates.json").stat().st_mtime_ns
    (work / "logs" / "filter" / "completions" / "00001").unlink()  # one task of the last stage died
    kept_0 = (step.path / SELECTED / "00000.jsonl.gz").stat().st_mtime_ns
    monkeypatch.setattr(choose_mod, "_summarise", real)
    step = run_choose(cfg, score, None)
    assert step.done and (work / "candidates.json").stat().st_mtime_ns == joined  # join pass not redone
    assert (step.path / SELECTED / "00000.jsonl.gz").stat().st_mtime_ns == kept_0  # finished task kept
    ids = selected_ids(step)
    assert len(ids) == len(set(ids)) == step.summary()["kept"]
    clean_dir = tmp_path / "clean"
    clean_dir.mkdir()
    clean_cfg = make_cfg(clean_dir, example_data, keep_fraction=0.5)
    clean = run_choose(clean_cfg, make_score_step(clean_cfg, scored_docs(wiki_texts)), None)
    assert selected_ids(clean) == ids and clean.summary()["dropped_by_reason"] == step.summary()["dropped_by_reason"]
    assert not (work / "candidates").exists() and not (work / "minhash").exists()  # scratch removed


def test_scores_join_the_corpus_by_file_and_line(tmp_path, example_data, wiki_texts):
    from trait.select.choose import joined_docs

    cfg = make_cfg(tmp_path, example_data, keep_fraction=0.5)
    docs = scored_docs(wiki_texts[:6])
    score = make_score_step(cfg, docs, shards=2)
    corpus = cfg.data.general_corpus[0]
    # a bad line in the corpus is skipped by the same reader the score step used: lines still match
    lines = Path(corpus).read_bytes().splitlines(keepends=True)
    rows = [{"id": d.id, "source": d.source, "line": d.line + (d.line > 2), "scores": d.scores} for d in docs]
    Path(corpus).write_bytes(b"".join(lines[:2] + [b'{"id": "broken", \n'] + lines[2:]))
    for s in range(2):
        write_jsonl(score.path / "scores" / f"{s:05d}.jsonl.gz", rows[s::2])
    got = list(joined_docs(cfg, choose_mod.score_shards(score)))
    assert [(d.id, d.text, d.scores) for d in got] == [(d.id, d.text, d.scores) for d in docs[0::2] + docs[1::2]]
    # the corpus changed since scoring: one line naming the file and line, not a wrong join
    Path(corpus).write_bytes(b"".join(lines[:2] + lines[3:]))  # w2 gone: w4 is now on w2's line
    with pytest.raises(BadInputError, match=rf"{corpus}:4: scored document 'w2' is not in the corpus"):
        list(joined_docs(cfg, choose_mod.score_shards(score)))


def test_a_selection_can_be_the_general_corpus_again(tmp_path, example_data, wiki_texts):
    """A file of Doc records (a previous selection) keeps its docs' first provenance: the score rows
    name the file read, the joined docs their original source and line."""
    from trait.select.choose import joined_docs

    cfg = make_cfg(tmp_path, example_data, keep_fraction=0.5)
    corpus = cfg.data.general_corpus[0]
    docs = [Doc(id=f"w{i}", text=t, source="first.jsonl", line=50 - 10 * i, scores={"domain": 0.1})
            for i, t in enumerate(wiki_texts[:4])]
    write_jsonl(corpus, docs)
    step = Step(cfg.run_dir, "score", {"tag": "docs"})
    write_jsonl(step.start() / "scores" / "00000.jsonl.gz",
                [{"id": d.id, "source": corpus, "line": d.line, "scores": {"domain": i / 4}}
                 for i, d in enumerate(docs)])
    got = list(joined_docs(cfg, choose_mod.score_shards(step)))
    assert [(d.id, d.text, d.source, d.line, d.scores["domain"]) for d in got] == \
        [(d.id, d.text, "first.jsonl", d.line, i / 4) for i, d in enumerate(docs)]
