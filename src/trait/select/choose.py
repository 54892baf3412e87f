"""Choose the selected corpus from saved scores: quality -> domain cut -> dedup -> decontamination.

Scores are written once by the score step; this step only reads them, so trying another
``keep_fraction`` or threshold costs two streaming passes over the score shards, never a retrain or
a re-score. Pass 1 keeps one float per document (the domain score) to find the global cut; pass 2
streams the documents through the filters. Every dropped document is counted under one reason, and
a few of each are kept for the report.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from trait.contamination import Decontamination
from trait.errors import BadInputError
from trait.io import ReadStats, iter_docs, write_json, write_jsonl
from trait.records import Doc
from trait.select.config import QualityConfig
from trait.select.dedup import ExactDedup, lsh_params, minhash_dedup
from trait.select.settings import SelectSettings
from trait.steps import Step, fingerprint
from trait.ui import info, progress

REASONS = ("low_quality", "below_threshold", "exact_duplicate", "near_duplicate", "contaminated")
SAMPLES_PER_REASON = 5
SAMPLE_CHARS = 300
SELECTED = "selected.jsonl.gz"
OUTPUTS = {"selected": SELECTED, "dropped_samples": "dropped_samples.json"}  # the step's declared files


def score_shards(score_step: Step) -> list[str]:
    """The score step's shards, in a fixed order (both passes must see documents in the same order)."""
    from trait.select.score import score_shards as shards_of

    paths = shards_of(score_step.path)
    if not paths:
        raise BadInputError(f"{score_step.path / 'scores'}: no score shards (*.jsonl.gz) to choose from")
    return paths


def labelled_precision(labels_path: str, score_paths: list[str], selected: Path) -> dict[str, Any]:
    """Precision of the choice on the general corpus itself, from the user's labelled sample (issue 7):
    the seed-split metrics alone can look perfect while the general corpus's own pages are missed."""
    from trait.select.precision import load_labels, precision_report

    kept_ids = {d.id for d in iter_docs([str(selected)], on_error="fail")}
    ids, scores = [], []
    for doc in _read_doc_stream(score_paths):
        ids.append(doc.id)
        scores.append(doc.scores.get("domain", float("nan")))
    return precision_report(ids, scores, [i in kept_ids for i in ids], load_labels(labels_path))


def choose_settings(s: SelectSettings) -> dict[str, Any]:
    """Exactly what the choose step depends on besides the scores (its hash covers nothing else)."""
    sel = s.select
    return {"threshold": sel.threshold, "keep_fraction": sel.keep_fraction,
            "quality_scorer": sel.quality.scorer, "quality_min_score": sel.quality.min_score,
            "dedup": sel.dedup, "decontaminate": decontamination(s).identity(), "seed": s.seed,
            "labels": fingerprint([sel.labels])[0] if sel.labels else None}


def run_choose(s: SelectSettings, score_step: Step, classify_step: Step | None = None) -> Step:
    """The versioned choose step; skipped when an identical one (same settings, same scores) is done."""
    return choose_step(s, score_step).run(lambda out: _choose_step(s, score_step, classify_step, out))


def choose_step(s: SelectSettings, score_step: Step) -> Step:
    return Step(s.run_dir, "choose", choose_settings(s), deps=(score_step,), outputs=OUTPUTS)


def _choose_step(s: SelectSettings, score_step: Step, classify_step: Step | None, out: Path) -> dict[str, Any]:
    summary = choose(s, score_shards(score_step), out)
    summary["method"] = s.select.method
    if s.select.labels:
        summary["general_precision"] = labelled_precision(s.select.labels, score_shards(score_step),
                                                          out / SELECTED)
    if classify_step is not None and classify_step.done and (classify_step.path / "summary.json").exists():
        summary["classifier"] = classify_step.summary()
    _print_summary(summary)
    return summary


# ---- the two passes ------------------------------------------------------------------------------

def _read_doc_stream(paths: list[str], stats: ReadStats | None = None) -> Iterator[Doc]:
    return iter_docs(paths, on_error="fail", stats=stats)


def _quality_ok(doc: Doc, q: QualityConfig, where: str) -> bool:
    if q.scorer == "none":
        return True
    value = doc.scores.get("quality")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise BadInputError(f"{where}: doc {doc.id!r} has no 'quality' score (quality.scorer={q.scorer})")
    return float(value) >= q.min_score


def _domain(doc: Doc, where: str) -> float:
    value = doc.scores.get("domain")
    if value is None or not isinstance(value, (int, float)) or math.isnan(value):
        raise BadInputError(f"{where}: doc {doc.id!r} has no usable 'domain' score (got {value!r})")
    return float(value)


def read_scores(quality: QualityConfig, paths: list[str]) -> tuple[np.ndarray, np.ndarray, ReadStats]:
    """Pass 1: the domain score and the quality verdict of every doc (9 bytes per doc in memory)."""
    domain, passed = array("d"), array("b")
    stats = ReadStats()
    where = str(Path(paths[0]).parent)
    with progress() as bar:
        task = bar.add_task("choose: reading scores", total=None)
        for doc in _read_doc_stream(paths, stats):
            domain.append(_domain(doc, where))
            passed.append(_quality_ok(doc, quality, where))
            bar.advance(task)
    return np.frombuffer(domain, dtype=np.float64), np.frombuffer(passed, dtype=np.int8).astype(bool), stats


def keep_mask(domain: np.ndarray, quality_ok: np.ndarray, *, threshold: float | None,
              keep_fraction: float | None) -> tuple[np.ndarray, float | None]:
    """Which docs pass the domain cut, and the score of the cut actually used.

    ``keep_fraction`` keeps exactly ``round(keep_fraction * N)`` of all N scored docs (fewer only if
    the quality filter left fewer): the highest domain scores among quality-passing docs, ties
    broken by corpus order. So every scoring method selects the same number of documents.
    """
    n = len(domain)
    if threshold is not None:
        keep = quality_ok & (domain >= threshold)
        return keep, float(threshold)
    k = round((keep_fraction or 0.0) * n)
    candidates = np.flatnonzero(quality_ok)
    order = candidates[np.argsort(-domain[candidates], kind="stable")][:k]
    keep = np.zeros(n, dtype=bool)
    keep[order] = True
    return keep, (float(domain[order[-1]]) if len(order) else None)


class DropLog:
    """Counts per reason plus the first few dropped docs of each, for the report."""

    def __init__(self) -> None:
        self.counts = {r: 0 for r in REASONS}
        self.samples: dict[str, list[dict[str, Any]]] = {r: [] for r in REASONS}

    def drop(self, reason: str, doc: Doc, **extra: Any) -> None:
        self.counts[reason] += 1
        if len(self.samples[reason]) < SAMPLES_PER_REASON:
            self.samples[reason].append({"id": doc.id, "source": doc.source, "line": doc.line,
                                         "scores": doc.scores, "text": doc.text[:SAMPLE_CHARS], **extra})


def decontamination(s: SelectSettings) -> Decontamination:
    """The test splits of every configured task, which chosen docs are checked against."""
    return Decontamination(s.decontaminate, tuple(s.tasks), s.data.on_bad_record)


def choose(s: SelectSettings, paths: list[str], out: Path) -> dict[str, Any]:
    """Run both passes and write ``selected.jsonl.gz``, ``dropped_samples.json``; return the summary."""
    sel = s.select
    domain, quality_ok, stats = read_scores(sel.quality, paths)
    keep, cut = keep_mask(domain, quality_ok, threshold=sel.threshold, keep_fraction=sel.keep_fraction)
    index, decontam = decontamination(s).index()
    log = DropLog()
    exact = ExactDedup() if sel.dedup.exact else None
    candidates = out / "work" / "candidates.jsonl"  # temporary: not worth compressing

    def pass2() -> Iterator[Doc]:
        with progress() as bar:
            task = bar.add_task("choose: filtering", total=len(domain))
            for i, doc in enumerate(_read_doc_stream(paths)):
                bar.advance(task)
                if not quality_ok[i]:
                    log.drop("low_quality", doc)
                elif not keep[i]:
                    log.drop("below_threshold", doc)
                elif exact is not None and exact.is_duplicate(doc.text):
                    log.drop("exact_duplicate", doc)
                else:
                    yield doc

    write_jsonl(candidates, pass2())

    def near_dedup() -> Iterator[Doc]:
        if not sel.dedup.minhash:
            yield from _read_doc_stream([str(candidates)])
            return
        d = sel.dedup
        for doc, dup in minhash_dedup(lambda: _read_doc_stream([str(candidates)]), out / "work" / "minhash",
                                      threshold=d.minhash_threshold, num_perm=d.num_perm, ngram=d.ngram,
                                      seed=s.seed + 1):
            if dup:
                log.drop("near_duplicate", doc)
            else:
                yield doc

    tokens = {"words": 0, "chars": 0}

    def decontaminate() -> Iterator[Doc]:
        for doc in near_dedup():
            hit = index.find(doc.text)
            if hit is not None:
                log.drop("contaminated", doc, matched_test_item=hit.item, rule=hit.rule, shared=hit.shared)
                continue
            tokens["words"] += len(doc.text.split())
            tokens["chars"] += len(doc.text)
            yield doc

    kept = write_jsonl(out / SELECTED, decontaminate())
    candidates.unlink(missing_ok=True)
    write_json(out / OUTPUTS["dropped_samples"], log.samples)
    bands, rows = lsh_params(sel.dedup.minhash_threshold, sel.dedup.num_perm)
    return {"docs_scored": len(domain), "kept": kept, "dropped_by_reason": log.counts,
            "tokens_kept": tokens,
            "rule": "threshold" if sel.threshold is not None else "keep_fraction",
            "keep_fraction": sel.keep_fraction, "threshold": cut,
            "kept_before_dedup": int(keep.sum()),
            "dedup": {**sel.dedup.model_dump(), "lsh_bands": bands, "lsh_rows": rows,
                      "implementation": "datatrove MinHash"},
            "decontamination": decontam, "scores_read": stats.to_dict(),
            "selected": str(out / SELECTED)}


def _print_summary(s: dict[str, Any]) -> None:
    dropped = ", ".join(f"{k}={v}" for k, v in s["dropped_by_reason"].items())
    cut = "n/a" if s["threshold"] is None else f"{s['threshold']:.4g}"
    info(f"choose: kept {s['kept']}/{s['docs_scored']} docs ({s['tokens_kept']['words']:,} words), "
         f"cut at score {cut}; dropped: {dropped}")
