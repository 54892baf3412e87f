"""Choose the selected corpus from saved scores: quality -> domain cut -> dedup -> decontamination.

Scores are written once by the score step; this step only reads them, so trying another
``keep_fraction`` or threshold never retrains or re-scores. The score rows hold no text: the cut is
found from the rows alone (``trait.select.cut``: histogram passes, never every score in memory),
then one streaming pass joins the rows back to the general corpus by (file, line), applies the cut,
quality and exact dedup, and writes the candidates as one shard per score shard. MinHash near-dedup
and decontamination then run on the scoring executor (``select.executor``) with one task per shard,
writing ``selected/<rank>.jsonl.gz``. Every dropped document is counted under one reason, and a few
of each are kept for the report. Each stage resumes: finished shards and tasks are not redone.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from trait.contamination import Decontamination
from trait.corpus import CorpusFile, resolve
from trait.errors import BadInputError
from trait.io import iter_docs, read_json, write_json, write_jsonl
from trait.records import Doc
from trait.select.config import QualityConfig
from trait.select.cut import Cut, Keeper, chunked, find_cut, threshold_cut
from trait.select.dedup import ExactDedup, dedup_stages, lsh_params, run_stages
from trait.select.score import iter_scores
from trait.select.settings import SelectSettings
from trait.steps import Step, fingerprint
from trait.ui import info, progress

REASONS = ("low_quality", "below_threshold", "exact_duplicate", "near_duplicate", "contaminated")
SAMPLES_PER_REASON = 5
SAMPLE_CHARS = 300
SELECTED = "selected"  # a folder: one shard per task, <rank>.jsonl.gz
OUTPUTS = {"selected": SELECTED, "dropped_samples": "dropped_samples.json"}  # the step's declared files


def score_shards(score_step: Step) -> list[str]:
    """The score step's shards, in a fixed order (both passes must see documents in the same order)."""
    from trait.select.score import score_shards as shards_of

    paths = shards_of(score_step.path)
    if not paths:
        raise BadInputError(f"{score_step.path / 'scores'}: no score shards (*.jsonl.gz) to choose from")
    return paths


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


# ---- reading scores and joining them to the corpus ------------------------------------------------

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


def _verdicts(quality: QualityConfig, paths: list[str]) -> Iterator[tuple[float, bool]]:
    for path in paths:
        for doc in iter_scores([path]):
            yield _domain(doc, path), _quality_ok(doc, quality, path)


def find_choice_cut(s: SelectSettings, paths: list[str]) -> Cut:
    """The domain cut over every score shard, from the score rows alone (see ``trait.select.cut``)."""
    sel = s.select

    def chunks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        return chunked(_verdicts(sel.quality, paths))

    if sel.threshold is not None:
        return threshold_cut(chunks, sel.threshold)
    return find_cut(chunks, sel.keep_fraction or 0.0)


def keep_mask(domain: np.ndarray, quality_ok: np.ndarray, *, threshold: float | None,
              keep_fraction: float | None) -> tuple[np.ndarray, float | None]:
    """The cut rule on in-memory arrays (baselines compare methods with it; ``find_cut`` is the same
    rule over score shards). ``keep_fraction`` keeps exactly ``round(keep_fraction * N)`` of all N
    scored docs (fewer only if the quality filter left fewer): the highest domain scores among
    quality-passing docs, ties broken by corpus order. So every method selects the same number."""
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


def corpus_files(s: SelectSettings) -> dict[str, CorpusFile]:
    """The general corpus's files by path, with the keys the score step read them with."""
    d = s.data
    return {f.path: f for f in resolve(d.general_corpus, d.text_key, d.id_key)}


def joined_docs(s: SelectSettings, score_paths: list[str],
                files: dict[str, CorpusFile] | None = None) -> Iterator[Doc]:
    """Every scored document with its text: the score rows, in order, joined to the general corpus by
    (file, line) while streaming it. Each corpus file is read by the reader the score step used (same
    keys, same bad-record rule), so the same records come back in the same order: normally each file
    is read once, from top to bottom (rows out of the file's order cost a re-read from the top)."""
    d = s.data
    files = files if files is not None else corpus_files(s)
    source, docs = None, iter(())

    def reopen(row: Doc) -> Iterator[Doc]:
        if row.source not in files:
            raise BadInputError(f"{row.source}: a scored file that is not in data.general_corpus (the corpus "
                                "changed since scoring: rerun the score step)")
        return iter_docs([files[row.source]], on_error=d.on_bad_record)

    for path in score_paths:
        for row in iter_scores([path]):
            if row.source != source:
                source, docs = row.source, reopen(row)
            doc = _find(docs, row)
            if doc is None:  # not ahead in the file: once more from its top
                docs = reopen(row)
                doc = _find(docs, row)
            if doc is None:
                raise BadInputError(f"{row.source}:{row.line}: scored document {row.id!r} is not in the corpus "
                                    "any more (changed since scoring? rerun the score step)")
            doc.scores = row.scores
            yield doc


def _find(docs: Iterator[Doc], row: Doc) -> Doc | None:
    """The next doc at the row's line with its id (None at the end of the file)."""
    return next((doc for doc in docs if doc.line == row.line and doc.id == row.id), None)


def labelled_precision(labels_path: str, score_paths: list[str], selected: Path) -> dict[str, Any]:
    """Precision of the choice on the general corpus itself, from the user's labelled sample (issue 7):
    the seed-split metrics alone can look perfect while the general corpus's own pages are missed."""
    from trait.select.precision import load_labels, precision_report

    kept_ids = {d.id for d in iter_docs([str(selected)], on_error="fail")}
    ids, scores = [], []
    for doc in iter_scores(score_paths):
        ids.append(doc.id)
        scores.append(doc.scores.get("domain", float("nan")))
    return precision_report(ids, scores, [i in kept_ids for i in ids], load_labels(labels_path))


class DropLog:
    """Counts per reason plus the first few dropped docs of each, for the report."""

    def __init__(self) -> None:
        self.counts = {r: 0 for r in REASONS}
        self.samples: dict[str, list[dict[str, Any]]] = {r: [] for r in REASONS}

    def drop(self, reason: str, doc: Doc, **extra: Any) -> None:
        self.counts[reason] += 1
        if len(self.samples[reason]) < SAMPLES_PER_REASON:
            self.samples[reason].append(drop_sample(doc, **extra))

    def to_dict(self) -> dict[str, Any]:
        return {"counts": self.counts, "samples": self.samples}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DropLog:
        log = cls()
        log.counts.update(d["counts"])
        log.samples.update(d["samples"])
        return log


def drop_sample(doc: Doc, **extra: Any) -> dict[str, Any]:
    return {"id": doc.id, "source": doc.source, "line": doc.line, "scores": doc.scores,
            "text": doc.text[:SAMPLE_CHARS], **extra}


def decontamination(s: SelectSettings) -> Decontamination:
    """The test splits of every configured task, which chosen docs are checked against."""
    return Decontamination(s.decontaminate, tuple(s.tasks), s.data.on_bad_record)


# ---- the stages ------------------------------------------------------------------------------------

def write_candidates(s: SelectSettings, paths: list[str], cut: Cut, work: Path) -> DropLog:
    """The join pass: quality, the cut and exact dedup over the corpus joined to its scores; one
    candidate shard per score shard. Done once: a rerun after a crash reuses the finished pass."""
    done = work / "candidates.json"
    if done.exists():
        return DropLog.from_dict(read_json(done))
    sel, log = s.select, DropLog()
    keeper = Keeper(cut, threshold_mode=sel.threshold is not None)
    exact = ExactDedup() if sel.dedup.exact else None
    files = corpus_files(s)
    with progress() as bar:
        task = bar.add_task("choose: filtering", total=cut.n_docs)
        for i, path in enumerate(paths):

            def shard(path: str = path) -> Iterator[Doc]:
                for doc in joined_docs(s, [path], files):
                    bar.advance(task)
                    if not _quality_ok(doc, sel.quality, path):
                        log.drop("low_quality", doc)
                    elif not keeper.keep(_domain(doc, path)):
                        log.drop("below_threshold", doc)
                    elif exact is not None and exact.is_duplicate(doc.text):
                        log.drop("exact_duplicate", doc)
                    else:
                        yield doc

            write_jsonl(work / "candidates" / f"{i:05d}.jsonl.gz", shard())
    write_json(done, log.to_dict())
    return log


class DecontaminateStep(PipelineStep):
    """Drops chosen docs holding a test item (the index is built in each task), writes them with
    their match to ``<contaminated>/<rank>.jsonl.gz`` and the kept-token counts to ``<stats>/<rank>.json``."""

    name = "🧪 decontaminate"
    type = "🔻 - FILTER"

    def __init__(self, decontam: Decontamination, stats_dir: str) -> None:
        super().__init__()
        self.decontam, self.stats_dir = decontam, stats_dir

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        index, index_stats = self.decontam.index()
        n = words = chars = 0
        dropped: list[dict[str, Any]] = []
        n_dropped = 0
        for doc in data or ():
            hit = index.find(doc.text)
            if hit is not None:
                n_dropped += 1
                if len(dropped) < SAMPLES_PER_REASON:
                    md = doc.metadata
                    d = Doc(id=doc.id, text=doc.text, source=md["source"], line=md["line"], scores=md["scores"])
                    dropped.append(drop_sample(d, matched_test_item=hit.item, rule=hit.rule, shared=hit.shared))
                self.stat_update("contaminated")
                continue
            n, words, chars = n + 1, words + len(doc.text.split()), chars + len(doc.text)
            yield doc
        write_json(Path(self.stats_dir) / f"{rank:05d}.json",
                   {"kept": n, "words": words, "chars": chars, "contaminated": n_dropped,
                    "samples": dropped, "index": index_stats})


def run_selection_stages(s: SelectSettings, out: Path) -> None:
    """MinHash near-dedup and decontamination of the candidate shards, on the scoring executor."""
    from trait.select.score import ShardWriter

    work = out / "work"
    candidates = sorted(str(p) for p in (work / "candidates").glob("*.jsonl.gz"))
    tail = [DecontaminateStep(decontamination(s), str(work / "kept_stats")), ShardWriter(str(out / SELECTED))]
    run_stages(s.select.executor, dedup_stages(candidates, work, s.select.dedup, s.seed + 1, tail),
               work / "logs", job_name=f"trait-choose-{s.run}")


def choose(s: SelectSettings, paths: list[str], out: Path) -> dict[str, Any]:
    """Cut, join pass, executor stages; writes ``selected/``, ``dropped_samples.json``; returns the summary."""
    work = out / "work"
    result = work / "result.json"
    if result.exists():  # a rerun after the stages finished but before the step was marked done
        return read_json(result)
    cut = find_choice_cut(s, paths)
    log = write_candidates(s, paths, cut, work)
    run_selection_stages(s, out)
    summary = _summarise(s, cut, log, len(paths), out)
    write_json(out / OUTPUTS["dropped_samples"], log.samples)
    write_json(result, summary)
    for scratch in ("candidates", "minhash", "near_duplicates"):  # texts and signatures: no use once done
        shutil.rmtree(work / scratch, ignore_errors=True)
    return summary


def _summarise(s: SelectSettings, cut: Cut, log: DropLog, shards: int, out: Path) -> dict[str, Any]:
    """Counts of every stage: near duplicates from their shards, kept tokens and contamination per task."""
    sel, work = s.select, out / "work"
    for doc in iter_docs(sorted(map(str, (work / "near_duplicates").glob("*.jsonl.gz"))), on_error="fail"):
        log.drop("near_duplicate", doc)
    tokens, kept, decontam = {"words": 0, "chars": 0}, 0, None
    for p in sorted((work / "kept_stats").glob("*.json")):
        st = read_json(p)
        kept += st["kept"]
        tokens["words"] += st["words"]
        tokens["chars"] += st["chars"]
        log.counts["contaminated"] += st["contaminated"]
        log.samples["contaminated"].extend(st["samples"][:SAMPLES_PER_REASON - len(log.samples["contaminated"])])
        decontam = decontam or st["index"]
    bands, rows = lsh_params(sel.dedup.minhash_threshold, sel.dedup.num_perm)
    return {"docs_scored": cut.n_docs, "kept": kept, "dropped_by_reason": log.counts,
            "tokens_kept": tokens,
            "rule": "threshold" if sel.threshold is not None else "keep_fraction",
            "keep_fraction": sel.keep_fraction, "threshold": cut.value,
            "kept_before_dedup": cut.kept, "cut": {"passes": cut.passes, "ties": cut.ties},
            "dedup": {**sel.dedup.model_dump(), "lsh_bands": bands, "lsh_rows": rows,
                      "implementation": "datatrove MinHash"},
            "decontamination": decontam, "executor": sel.executor.kind, "shards": shards,
            "selected": str(out / SELECTED)}


def _print_summary(s: dict[str, Any]) -> None:
    dropped = ", ".join(f"{k}={v}" for k, v in s["dropped_by_reason"].items())
    cut = "n/a" if s["threshold"] is None else f"{s['threshold']:.4g}"
    info(f"choose: kept {s['kept']}/{s['docs_scored']} docs ({s['tokens_kept']['words']:,} words), "
         f"cut at score {cut}; dropped: {dropped}")
