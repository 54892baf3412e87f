"""``trait select``: classify -> score -> choose, three versioned steps.

Each step's hash covers only what changes its output, so changing ``select.keep_fraction`` (or a
dedup or ``decontaminate`` setting) re-runs only the choose step of selection: the classifier is not
retrained and the general corpus is not re-scored.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trait.config import DataConfig
from trait.errors import BadInputError, TraitError
from trait.io import ReadStats, iter_docs, write_jsonl
from trait.records import Doc
from trait.select.config import SelectConfig
from trait.select.score import build_pipeline, collect_summary, make_executor, run_pipeline
from trait.select.scorer import make_scorer
from trait.select.settings import SelectSettings
from trait.steps import Step, fingerprint
from trait.ui import info


def _reader_settings(d: DataConfig) -> dict[str, Any]:
    return {"text_key": d.text_key, "id_key": d.id_key, "on_bad_record": d.on_bad_record}


def classify_settings(s: SelectSettings) -> dict[str, Any]:
    """What the trained scorer depends on: the data it learns from, its settings, the seed."""
    sel = s.select
    extra: dict[str, Any] = {}
    if _bootstrapped(sel):  # only then: plain runs keep their hash
        used = set(sel.ensemble) | {sel.method, sel.bootstrap.scorer or sel.method}
        extra = {"bootstrap": sel.bootstrap, "ensemble": sel.ensemble,
                 "sections": {n: getattr(sel, n) for n in sorted(used) if hasattr(sel, n)}}
    return {"method": sel.method, "classifier": sel.classifier,
            "scorer": getattr(sel, sel.method, None),  # the method's own section, when it has one
            "seed": s.seed, "seed_corpus": fingerprint(s.data.seed_corpus),
            "general_corpus": fingerprint(s.data.general_corpus), **_reader_settings(s.data), **extra}


def _bootstrapped(sel: SelectConfig) -> bool:
    """Bootstrapping or ensembling (issue 7) replaces the single seed-vs-general fit."""
    return bool(sel.ensemble) or sel.bootstrap.rounds > 0


def trained_scorer(classify: Step) -> tuple[str, Path]:
    """(registry name, folder) of the scorer a classify step trained: what ``load_scorer`` needs."""
    s = classify.summary()
    return s.get("scorer", s["method"]), classify.path / s.get("scorer_dir", "model")


def score_settings(s: SelectSettings) -> dict[str, Any]:
    """What the score shards depend on (besides the classifier). Worker counts, batch size and the
    executor kind do not change a single score, so they are left out: a run started locally can be
    finished on Slurm. ``tasks`` sets the shard layout, so it is in."""
    q = s.select.quality
    quality = q.model_dump(mode="json", exclude={"min_score"}) if q.scorer == "model" else {"scorer": q.scorer}
    if q.scorer == "model":
        quality["labels"] = fingerprint([q.labels])[0]
    return {"general_corpus": fingerprint(s.data.general_corpus), "quality": quality,
            "tasks": s.select.executor.tasks, **_reader_settings(s.data)}


def _docs(d: DataConfig, paths: list[str], stats: ReadStats) -> Iterator[Doc]:
    return iter_docs(paths, text_key=d.text_key, id_key=d.id_key, on_error=d.on_bad_record, stats=stats)


def sample_training_docs(s: SelectSettings) -> tuple[list[Doc], list[Doc], dict[str, Any]]:
    """Positives = seed docs (at most ``max_seed_docs``, sampled with the seed); negatives = as many
    general docs, reservoir-sampled with the seed in one streaming pass (any corpus size)."""
    rng = random.Random(s.seed)
    seed_stats, general_stats = ReadStats(), ReadStats()
    positives = list(_docs(s.data, s.data.seed_corpus, seed_stats))
    cap = s.select.classifier.max_seed_docs
    if cap is not None and len(positives) > cap:
        positives = rng.sample(positives, cap)
    if len(positives) < 2:
        raise BadInputError(f"data.seed_corpus: need at least 2 usable seed documents (got {len(positives)}); "
                            + seed_stats.why_unusable("data.seed_corpus"))
    k, negatives = len(positives), []
    for i, doc in enumerate(_docs(s.data, s.data.general_corpus, general_stats)):
        if i < k:
            negatives.append(doc)
        elif (j := rng.randrange(i + 1)) < k:
            negatives[j] = doc
    if not negatives:
        raise BadInputError("data.general_corpus: no usable documents; "
                            + general_stats.why_unusable("data.general_corpus"))
    if len(negatives) < k:
        info(f"classify: general corpus has only {len(negatives)} docs for {k} seed docs: fewer negatives")
    return positives, negatives, {"seed_read": seed_stats.to_dict(), "general_read": general_stats.to_dict()}


def classify_step(s: SelectSettings) -> Step:
    return Step(s.run_dir, "classify", classify_settings(s))


def score_step(s: SelectSettings, classify: Step) -> Step:
    return Step(s.run_dir, "score", score_settings(s), deps=(classify,), outputs={"scores": "scores"})


def run_classify(s: SelectSettings) -> Step:
    return classify_step(s).run(lambda out: _classify(s, out))


def _classify(s: SelectSettings, out: Path) -> dict[str, Any]:
    positives, negatives, read = sample_training_docs(s)
    # The exact documents the scorer learned from (the texts themselves are in its train/held-out files).
    write_jsonl(out / "training_docs.jsonl", [{"label": label, "id": d.id, "source": d.source, "line": d.line}
                                              for label, docs in ((1, positives), (0, negatives)) for d in docs])
    sel = s.select
    if _bootstrapped(sel):
        from trait.select.bootstrap import reservoir_sample, train_selection

        # bootstrap rounds mine (and an ensemble ranks against) a larger general sample than the negatives
        pool = reservoir_sample(_docs(s.data, s.data.general_corpus, ReadStats()),
                                sel.bootstrap.sample_size, s.seed)
        trained = train_selection(sel, [d.text for d in positives], [d.text for d in pool],
                                  out / "model", s.seed)
        return {"method": sel.method, "scorer": trained.name,
                "scorer_dir": str(trained.out_dir.relative_to(out)), "selection": trained.summary,
                "metrics": trained.summary.get("heldout") or trained.summary.get("rounds", [{}])[-1].get(
                    "heldout", {}), "n_positives": len(positives),
                "n_negatives": len(negatives), "n_general_pool": len(pool), **read}
    scorer = make_scorer(sel.method, sel)
    metrics = scorer.fit([d.text for d in positives], [d.text for d in negatives], out / "model", s.seed)
    return {"method": sel.method, "metrics": metrics, "n_positives": len(positives),
            "n_negatives": len(negatives), **read}


def run_score(s: SelectSettings, classify: Step) -> Step:
    return score_step(s, classify).run(lambda out: _score(s, classify, out))


def _score(s: SelectSettings, classify: Step, out: Path) -> dict[str, Any]:
    sel, d = s.select, s.data
    quality_dir = None
    if sel.quality.scorer == "model":
        from trait.select.quality import ModelQuality

        quality_dir = out / "quality_model"
        if not (quality_dir / "model.joblib").exists():
            ModelQuality.fit(sel.quality, quality_dir, s.seed, text_key=d.text_key, on_error=d.on_bad_record)
    method, model_dir = trained_scorer(classify)
    pipeline = build_pipeline(d.general_corpus, out, method=method, model_dir=model_dir,
                              quality=sel.quality.scorer, quality_dir=quality_dir,
                              batch_size=sel.executor.batch_size, text_key=d.text_key,
                              id_key=d.id_key, on_error=d.on_bad_record)
    executor = make_executor(sel.executor, pipeline, out / "datatrove", job_name=f"trait-score-{s.run}")
    if not run_pipeline(executor, out):
        raise TraitError(f"score: tasks submitted to {sel.executor.kind} ({out / 'datatrove'}); rerun the "
                         "same command when they have finished to complete the step")
    summary = collect_summary(out)
    if summary["docs_scored"] != summary["docs_read"]:
        raise TraitError(f"score: {summary['docs_read']} docs read but {summary['docs_scored']} scored "
                         f"({out}): rerun to redo the incomplete tasks")
    summary.update(method=sel.method, quality=sel.quality.scorer, executor=sel.executor.kind,
                   tasks=sel.executor.tasks)
    if quality_dir is not None:
        from trait.io import read_json

        summary["quality_model"] = read_json(quality_dir / "metrics.json")
    info(f"score: {summary['docs_scored']} docs scored, {summary['docs_skipped']} skipped "
         f"{summary['skipped'] or ''} -> {out / 'scores'}")
    return summary


def run_select(s: SelectSettings) -> Step:
    """Classify, score, choose (and judge, when enabled); returns the choose step (its folder holds the
    selected docs)."""
    classify = run_classify(s)
    score = run_score(s, classify)
    from trait.select.choose import run_choose
    from trait.select.judge import run_judge

    choose = run_choose(s, score, classify)
    run_judge(s, score, choose)
    return choose
