"""Duplicate removal for the chosen documents: exact (normalised-text hash) and MinHash near-dedup.

Near-dedup is datatrove's four MinHash stages (signatures -> bucket matches -> clusters -> filter),
run on the scoring executor (local, Slurm or Ray, ``select.executor``) over sharded candidates: one
signature and one filter task per candidate shard (as many as scoring), one bucket task per LSH band
and one clustering task (datatrove's layout: the clusters hold only the duplicate pairs). Each stage
marks its finished tasks, so a rerun redoes only unfinished ones. Only LSH-colliding signatures count
as duplicates (no pairwise Jaccard check), as in datatrove and most pretraining pipelines.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from datatrove.pipeline.base import PipelineStep
from datatrove.utils.word_tokenizers import WordTokenizer

from trait.errors import TraitError

_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """What "the same text" means for exact dedup: NFKC, lower case, collapsed whitespace."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


class ExactDedup:
    """Remembers a 16-byte hash per distinct text seen (memory grows with kept docs, not texts)."""

    def __init__(self) -> None:
        self._seen: set[bytes] = set()

    def is_duplicate(self, text: str) -> bool:
        key = hashlib.blake2b(normalize_text(text).encode("utf-8"), digest_size=16).digest()
        if key in self._seen:
            return True
        self._seen.add(key)
        return False


def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) with bands*rows <= num_perm minimising false positives + negatives
    around ``threshold`` (the rule datasketch uses), so users set a similarity, not an LSH shape."""
    s = np.linspace(0.0, 1.0, 201)
    best, best_err = (1, 1), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            p = 1.0 - (1.0 - s**r) ** b  # probability that a pair of similarity s collides
            fp = np.trapezoid(np.where(s < threshold, p, 0.0), s)
            fn = np.trapezoid(np.where(s >= threshold, 1.0 - p, 0.0), s)
            if fp + fn < best_err:
                best, best_err = (b, r), fp + fn
    return best


class WhitespaceTokenizer(WordTokenizer):
    """datatrove shingles ``simplify_text`` output (lower case, no punctuation, single spaces), so a
    split on spaces gives the same words as its default spaCy tokenizer at a fraction of the cost."""

    def __init__(self) -> None:
        super().__init__("en")

    def word_tokenize(self, text: str) -> list[str]:
        return text.split()

    def sent_tokenize(self, text: str) -> list[str]:
        return [text]

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        return [(0, len(text))]


@contextmanager
def quiet_datatrove() -> Iterator[None]:
    """datatrove logs every stage at INFO; the choose step reports its own counts instead."""
    from loguru import logger

    logger.disable("datatrove")
    try:
        yield
    finally:
        logger.enable("datatrove")


def minhash_config(threshold: float, num_perm: int, ngram: int, seed: int) -> Any:
    from datatrove.pipeline.dedup.minhash import MinhashConfig

    bands, rows = lsh_params(threshold, num_perm)
    return MinhashConfig(n_grams=ngram, num_buckets=bands, hashes_per_bucket=rows, seed=seed)


def dedup_stages(shards: list[str], work: Path, dedup: Any, seed: int,
                 tail: list[PipelineStep]) -> list[tuple[str, list[PipelineStep], int]]:
    """(name, pipeline, tasks) of every stage: MinHash over the Doc shards ``shards`` (when
    ``dedup.minhash``), then one task per shard reading it, dropping its near duplicates (written to
    ``work/near_duplicates``) and passing the rest through ``tail`` (e.g. a writer)."""
    from datatrove.pipeline.dedup.minhash import (
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )

    from trait.select.score import CorpusReader, ShardWriter

    def reader() -> CorpusReader:  # shards by file: task i reads shard i, in every stage
        return CorpusReader(shards, str(work / "read_stats"), on_error="fail")

    n = len(shards)
    if not dedup.minhash:
        return [("filter", [reader(), *tail], n)]
    mh = minhash_config(dedup.minhash_threshold, dedup.num_perm, dedup.ngram, seed)
    sigs, dups, remove = (str(work / "minhash" / d) for d in ("sigs", "dups", "remove"))
    near = ShardWriter(str(work / "near_duplicates"))
    return [("signatures", [reader(), MinhashDedupSignature(sigs, config=mh, language=WhitespaceTokenizer())], n),
            ("buckets", [MinhashDedupBuckets(sigs, dups, config=mh)], mh.num_buckets),
            ("clusters", [MinhashDedupCluster(dups, remove, config=mh)], 1),
            ("filter", [reader(), MinhashDedupFilter(remove, exclusion_writer=near), *tail], n)]


def run_stages(ex: Any, stages: list[tuple[str, list, int]], logs: Path, job_name: str) -> None:
    """Run (or resume) each stage on the ``select.executor`` executor, in order."""
    from trait.select.score import make_executor, run_pipeline

    for name, pipeline, tasks in stages:
        executor = make_executor(ex, pipeline, logs / name, job_name=f"{job_name}-{name}", tasks=tasks)
        with quiet_datatrove():
            done = run_pipeline(executor, logs, bar=False)
        if not done:
            raise TraitError(f"choose: stage {name} submitted to {ex.kind} ({logs / name}); rerun the same "
                             "command when its tasks have finished to continue")
