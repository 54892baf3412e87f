"""The domain-score cut of ``keep_fraction`` from score shards, never holding every score at once.

``keep_fraction`` keeps exactly ``k = round(keep_fraction * N)`` of the N scored docs: the highest
domain scores among quality-passing docs, ties broken by corpus order (``keep_mask`` is the same rule
on in-memory arrays). ``find_cut`` finds the k-th highest score with histogram passes over the score
rows, holding one chunk of rows and ``BINS`` counters at a time:

- pass 1 counts the docs and the min/max score of the quality-passing ones;
- each further pass histograms the scores inside the current interval [lo, hi] into ``BINS`` bins
  and narrows the interval to the exact min..max of the values in the bin holding the k-th score.
  Error bound: after a pass, the cut is known to lie in one bin, so the number of docs a cut at that
  bin's edge keeps is off from k by at most that bin's count (about N/BINS for spread scores); the
  passes repeat until the bin holds at most ``EXACT_MAX`` values (then they are sorted: exact) or a
  single distinct value (a tie).

So the result is exact, not approximate: the cut is one of the scores, and ``n_above`` (docs
strictly above it) plus ``ties`` (docs at it, taken in corpus order) is exactly k. Scores spread
over many values need 1 + 1-3 passes; each pass reads only the small score rows, never text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

BINS = 1 << 14
EXACT_MAX = 1 << 20  # values sorted in memory at the end (8 MiB)
CHUNK = 1 << 18  # rows converted to numpy at a time

Chunks = Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]]  # each call: (domain, quality_ok) chunks


@dataclass(frozen=True)
class Cut:
    """Keep quality-passing docs with score > ``value``, and the first ``ties`` of those == ``value``."""

    value: float | None  # None: nothing is kept
    n_docs: int  # all scored docs
    n_above: int
    ties: int
    passes: int

    @property
    def kept(self) -> int:
        return self.n_above + self.ties


def chunked(rows: Iterator[tuple[float, bool]], size: int = CHUNK) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(domain, quality_ok) pairs -> numpy chunks of at most ``size`` rows."""
    dom, ok = [], []
    for d, q in rows:
        dom.append(d)
        ok.append(q)
        if len(dom) == size:
            yield np.asarray(dom, dtype=np.float64), np.asarray(ok, dtype=bool)
            dom, ok = [], []
    if dom:
        yield np.asarray(dom, dtype=np.float64), np.asarray(ok, dtype=bool)


def find_cut(chunks: Chunks, keep_fraction: float, *, bins: int = BINS, exact_max: int = EXACT_MAX) -> Cut:
    """The cut keeping ``round(keep_fraction * N)`` docs (all quality-passing ones if fewer)."""
    n = n_ok = 0
    lo, hi = np.inf, -np.inf
    for dom, ok in chunks():
        n += len(dom)
        n_ok += int(ok.sum())
        if ok.any():
            lo, hi = min(lo, float(dom[ok].min())), max(hi, float(dom[ok].max()))
    passes = 1
    k = min(round(keep_fraction * n), n_ok)
    if k == 0:
        return Cut(None, n, 0, 0, passes)
    above = 0  # quality-passing docs with score > hi
    while lo < hi:
        passes += 1
        counts = np.zeros(bins, dtype=np.int64)
        bin_lo, bin_hi = np.full(bins, np.inf), np.full(bins, -np.inf)
        n_over = 0
        for dom, ok in chunks():
            v = dom[ok]
            n_over += int((v > hi).sum())
            v = v[(v >= lo) & (v <= hi)]
            idx = np.minimum(((v - lo) / (hi - lo) * bins).astype(np.int64), bins - 1)  # monotone in v
            counts += np.bincount(idx, minlength=bins)
            np.minimum.at(bin_lo, idx, v)
            np.maximum.at(bin_hi, idx, v)
        above = n_over
        # walk down from the top bin until the k-th score is inside
        for b in range(bins - 1, -1, -1):
            if above + counts[b] >= k:
                break
            above += counts[b]
        lo, hi = float(bin_lo[b]), float(bin_hi[b])
        if counts[b] <= exact_max:
            passes += 1
            inside = np.concatenate([dom[ok][(dom[ok] >= lo) & (dom[ok] <= hi)] for dom, ok in chunks()] or [[]])
            inside[::-1].sort()
            value = float(inside[k - above - 1])
            n_above = above + int((inside > value).sum())
            return Cut(value, n, n_above, k - n_above, passes)
    # one distinct value holds the k-th score: every doc above it is kept, the rest are ties
    return Cut(lo, n, above, k - above, passes)


def threshold_cut(chunks: Chunks, threshold: float) -> Cut:
    """``select.threshold``: every quality-passing doc scoring at least ``threshold`` (one pass)."""
    n = kept = 0
    for dom, ok in chunks():
        n += len(dom)
        kept += int((ok & (dom >= threshold)).sum())
    return Cut(float(threshold), n, kept, 0, 1)


class Keeper:
    """Applies a cut to docs streamed in corpus order (counts the ties it has taken)."""

    def __init__(self, cut: Cut, threshold_mode: bool) -> None:
        self.cut, self.threshold_mode, self._ties = cut, threshold_mode, 0

    def keep(self, score: float) -> bool:
        c = self.cut
        if c.value is None:
            return False
        if self.threshold_mode:
            return score >= c.value
        if score > c.value:
            return True
        if score == c.value and self._ties < c.ties:
            self._ties += 1
            return True
        return False
