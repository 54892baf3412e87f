"""Confidence intervals: Wilson for proportions (exact match, accuracy), percentile bootstrap for losses,
mean token F1 and macro-F1, and a paired bootstrap for the difference of two arms on the same items.

Wilson rather than the normal approximation because the CPU demo scores 0 or 1 of 20 items,
where ``p ± z·se`` collapses to a zero-width or negative interval. Arms are compared by the paired
difference, not by overlapping per-arm intervals: items differ in difficulty far more than arms do,
and pairing cancels that shared part.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist

import numpy as np

# An item's value: (numerator, denominator) of a ratio metric (summed NLL, tokens), or a plain number
# (a 0/1 score), which counts as (value, 1) so a proportion is the same sum/sum.
Value = float | tuple[float, float] | Sequence[float]
Items = Mapping[str, Value]


def z_value(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of k successes out of n (0..1); (0, 1) when n == 0."""
    if n == 0:
        return 0.0, 1.0
    z = z_value(confidence)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if k == 0 else max(0.0, centre - half)  # exact bounds at 0/n and n/n, not float residue
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


def bootstrap_ratio(num: list[float], den: list[float], *, iters: int = 1000, confidence: float = 0.95,
                    seed: int = 0) -> tuple[float, float]:
    """Percentile CI of sum(num)/sum(den) resampling units (items, documents) with replacement.

    The ratio (not a mean of per-unit ratios) is what "NLL per token" means; resampling whole units
    keeps the tokens of one document together, as they are not independent.
    """
    num_a, den_a = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    value = float(num_a.sum() / den_a.sum())
    if iters <= 0 or len(num_a) < 2:
        return value, value
    idx = _resample(len(num_a), iters, seed)
    return _percentile(_ratio(num_a, den_a, idx), value, confidence)


def bootstrap_macro_f1(golds: Sequence[int], preds: Sequence[int], *, iters: int = 1000, confidence: float = 0.95,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile CI of the macro-F1 of (gold, predicted) label pairs, resampling items: macro-F1 is no
    sum over items, so no ratio of sums."""
    from trait.evaluate.scoring import macro_f1_rows

    g, p = np.asarray(golds, dtype=int), np.asarray(preds, dtype=int)
    value = float(macro_f1_rows(g[None], p[None])[0])
    if iters <= 0 or len(g) < 2:
        return value, value
    idx = _resample(len(g), iters, seed)
    return _percentile(macro_f1_rows(g[idx], p[idx]), value, confidence)


def _resample(n: int, iters: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(iters, n))


def _ratio(num: np.ndarray, den: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return num[idx].sum(axis=1) / np.maximum(den[idx].sum(axis=1), 1e-12)


def _percentile(stats: np.ndarray, value: float, confidence: float) -> tuple[float, float]:
    alpha = (1 - confidence) / 2
    low, high = np.quantile(stats, [alpha, 1 - alpha])
    # The percentile interval need not contain the point estimate in skewed small samples: widen it.
    return min(float(low), value), max(float(high), value)


@dataclass(frozen=True)
class Paired:
    """metric(arm) - metric(reference) on the same items, with its bootstrap CI (None: no resampling)."""

    diff: float
    ci_low: float | None
    ci_high: float | None
    n_items: int

    @property
    def significant(self) -> bool:
        """The CI excludes 0."""
        return self.ci_low is not None and (self.ci_low > 0 or self.ci_high < 0)

    def to_dict(self) -> dict[str, float | int | bool | None]:
        return asdict(self) | {"significant": self.significant}


def seed_mean(runs: Items | Sequence[Items]) -> dict[str, tuple[float, float]]:
    """Per item, the mean (numerator, denominator) over an arm's seeds; items every seed has."""
    runs = [runs] if isinstance(runs, Mapping) else list(runs)
    if not runs:
        return {}
    ids = [i for i in runs[0] if all(i in r for r in runs[1:])]
    pairs = np.array([[_pair(r[i]) for i in ids] for r in runs], dtype=float).reshape(len(runs), len(ids), 2)
    return {i: (float(n), float(d)) for i, (n, d) in zip(ids, pairs.mean(axis=0))}


def _pair(v: Value) -> tuple[float, float]:
    return (float(v), 1.0) if isinstance(v, (int, float)) else (float(v[0]), float(v[1]))


def paired_bootstrap(arm: Items | Sequence[Items], ref: Items | Sequence[Items], *, iters: int = 1000,
                     confidence: float = 0.95, seed: int = 0, exp: bool = False) -> Paired:
    """metric(arm) - metric(ref) over the items both have, with a paired percentile bootstrap CI.

    ``arm`` and ``ref`` map item id -> value (one seed) or are lists of such maps (one per seed). Across
    seeds, an arm's per-item values are averaged over its seeds first (items every seed has), then items
    are resampled with replacement, the same draw for both arms (that is the pairing). Seeds are not
    resampled: a shift shared by all items of one seed is averaged, not counted, so with few seeds the
    interval can be narrower than a seed-level one. metric = sum(numerator) / sum(denominator)
    (a mean for 0/1 values), or its exp with ``exp`` (perplexity from NLL and tokens). Deterministic for
    a given ``seed``. Raises ValueError when the two arms share no item.
    """
    a, r = seed_mean(arm), seed_mean(ref)
    ids = sorted(set(a) & set(r))
    if not ids:
        raise ValueError("paired bootstrap: the two arms share no item id")
    (an, ad), (rn, rd) = (np.array([m[i] for i in ids], dtype=float).T for m in (a, r))
    f = np.exp if exp else (lambda x: x)
    diff = float(f(an.sum() / ad.sum()) - f(rn.sum() / rd.sum()))
    if iters <= 0 or len(ids) < 2:
        return Paired(diff, None, None, len(ids))
    idx = _resample(len(ids), iters, seed)
    low, high = _percentile(f(_ratio(an, ad, idx)) - f(_ratio(rn, rd, idx)), diff, confidence)
    return Paired(diff, low, high, len(ids))
