"""Token budgets: how many tokens each source gives to a corpus, and which documents supply them.

Pure functions over token counts, kept apart from tokenising so the arithmetic is easy to test.
A source asks for an absolute ``tokens`` budget, a ``fraction`` of the total, or neither ("fill"):
fill sources share what is left in proportion to the tokens they have, so a big selected corpus and
a small seed corpus mix at their natural ratio. Nothing is repeated beyond ``max_epochs``; what a
source cannot supply is returned as a shortfall for the summary instead of being hidden.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trait.errors import TraitError


@dataclass(frozen=True)
class Want:
    """One source's request, as the allocator sees it."""

    name: str
    available: int
    tokens: int | None = None
    fraction: float | None = None
    max_epochs: float = 1.0

    @property
    def cap(self) -> int:
        return int(self.available * self.max_epochs)


def allocate(wants: Sequence[Want], total: int | None) -> tuple[list[int], list[int]]:
    """Return (requested, granted) tokens per source; granted <= requested, the gap is the shortfall."""
    requested: list[int | None] = []
    for w in wants:
        if w.tokens is not None:
            requested.append(int(w.tokens))
        elif w.fraction is not None:
            if total is None:
                raise TraitError(f"corpus source {w.name}: a fraction budget needs a total token budget")
            requested.append(round(w.fraction * total))
        else:
            requested.append(None if total is not None else w.available)
    fill = [i for i, r in enumerate(requested) if r is None]
    if fill:
        fixed = sum(r for r in requested if r is not None)
        if fixed > total:
            raise TraitError(f"corpus budgets: fixed and fraction shares ({fixed} tokens) exceed the total "
                             f"({total} tokens)")
        _water_fill(wants, fill, total - fixed, requested)
    req = [int(r) for r in requested]  # type: ignore[arg-type]
    return req, [min(r, w.cap) for r, w in zip(req, wants)]


def _water_fill(wants: Sequence[Want], fill: list[int], budget: int, requested: list[int | None]) -> None:
    """Share ``budget`` among fill sources in proportion to their tokens; a capped source's excess goes
    to the others, so one small source never leaves the corpus short while another has text to spare."""
    open_ = list(fill)
    grants = {i: 0 for i in fill}
    left = budget
    while open_ and left > 0:
        avail = sum(wants[i].available for i in open_)
        if avail == 0:
            break
        capped = []
        shares = _split(left, [wants[i].available for i in open_])
        for i, share in zip(open_, shares):
            room = wants[i].cap - grants[i]
            if share >= room:
                grants[i] += room
                capped.append(i)
            else:
                grants[i] += share
        left = budget - sum(grants.values())
        if not capped:
            break
        open_ = [i for i in open_ if i not in capped]
    # Whatever no fill source can supply stays requested (and so shows up as a shortfall).
    if left > 0:
        target = max(fill, key=lambda i: wants[i].available)
        grants[target] += left
    for i in fill:
        requested[i] = grants[i]


def _split(total: int, weights: Sequence[int]) -> list[int]:
    """Integer shares of ``total`` proportional to ``weights`` that add up exactly (largest remainder)."""
    w = np.asarray(weights, dtype=np.float64)
    exact = total * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    rest = int(total - base.sum())
    order = np.argsort(-(exact - base), kind="stable")
    base[order[:rest]] += 1
    return [int(x) for x in base]


def choose_docs(lengths: np.ndarray, take: int, seed: int) -> tuple[np.ndarray, tuple[int, int] | None]:
    """Pick documents worth ``take`` tokens: a seeded permutation per epoch, whole documents first.

    Returns the row indices (repeats allowed across epochs) and, when the budget ends inside a
    document, ``(row, tokens)`` of that last, truncated document, so budgets are met exactly.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if take <= 0 or lengths.sum() == 0:
        return np.zeros(0, dtype=np.int64), None
    rng = np.random.default_rng(seed)
    parts: list[np.ndarray] = []
    got = 0
    while True:
        perm = rng.permutation(len(lengths))
        cum = np.cumsum(lengths[perm]) + got
        k = int(np.searchsorted(cum, take, side="right"))
        parts.append(perm[:k])
        got = int(cum[k - 1]) if k else got
        if got >= take:
            return np.concatenate(parts), None
        if k < len(perm):
            return np.concatenate(parts), (int(perm[k]), take - got)
