"""Duplicate removal for the chosen documents: exact (normalised-text hash) and MinHash near-dedup.

Near-dedup runs datatrove's four MinHash stages (signatures -> bucket matches -> clusters -> filter)
in-process, one rank each, over a jsonl file of the candidates: the same, well-tested code that
deduplicates web-scale corpora, so a corpus that outgrows one machine can move the same stages onto
datatrove's Slurm/Ray executors. Only LSH-colliding signatures count as duplicates (no pairwise
Jaccard check), as in datatrove and most pretraining pipelines.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from trait.records import Doc

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


def _whitespace_tokenizer():
    """datatrove shingles ``simplify_text`` output (lower case, no punctuation, single spaces), so a
    split on spaces gives the same words as its default spaCy tokenizer at a fraction of the cost."""
    from datatrove.utils.word_tokenizers import WordTokenizer

    class WhitespaceTokenizer(WordTokenizer):
        def word_tokenize(self, text: str) -> list[str]:
            return text.split()

        def sent_tokenize(self, text: str) -> list[str]:
            return [text]

        def span_tokenize(self, text: str) -> list[tuple[int, int]]:
            return [(0, len(text))]

    return WhitespaceTokenizer("en")


@contextmanager
def _quiet_datatrove() -> Iterator[None]:
    """datatrove logs every stage at INFO; the choose step reports its own counts instead."""
    from loguru import logger

    logger.disable("datatrove")
    try:
        yield
    finally:
        logger.enable("datatrove")


def minhash_dedup(docs: Callable[[], Iterable[Doc]], work_dir: Path, *, threshold: float,
                  num_perm: int, ngram: int, seed: int = 1) -> Iterator[tuple[Doc, bool]]:
    """Yield ``(doc, is_near_duplicate)`` for every doc of ``docs()`` (called twice: one pass writes
    signatures, the other filters; both must give the same order). One doc per cluster survives."""
    from datatrove.data import Document
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )

    bands, rows = lsh_params(threshold, num_perm)
    mh = MinhashConfig(n_grams=ngram, num_buckets=bands, hashes_per_bucket=rows, seed=seed)
    shutil.rmtree(work_dir, ignore_errors=True)  # stale signatures from an interrupted run would mix in
    sigs, dups, remove = work_dir / "sigs", work_dir / "dups", work_dir / "remove"

    pending: deque[Doc] = deque()  # docs handed to the filter and not yet resolved

    def as_datatrove(track: bool) -> Iterator[Document]:
        for d in docs():
            if track:
                pending.append(d)
            yield Document(text=d.text, id=d.id)

    with _quiet_datatrove():
        MinhashDedupSignature(str(sigs), config=mh, language=_whitespace_tokenizer()).run(as_datatrove(False), rank=0, world_size=1)
        for bucket in range(bands):
            MinhashDedupBuckets(str(sigs), str(dups), config=mh).run(None, rank=bucket, world_size=bands)
        MinhashDedupCluster(str(dups), str(remove), config=mh).run(None, 0, 1)
        for _kept in MinhashDedupFilter(str(remove)).run(as_datatrove(True), rank=0, world_size=1):
            # everything pulled before the doc the filter passed on was removed
            while len(pending) > 1:
                yield pending.popleft(), True
            yield pending.popleft(), False
        while pending:
            yield pending.popleft(), True
    shutil.rmtree(work_dir, ignore_errors=True)
