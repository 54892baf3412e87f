"""Confidence intervals: Wilson for proportions (exact match), percentile bootstrap for losses.

Wilson rather than the normal approximation because the CPU demo scores 0 or 1 of 20 items,
where ``p ± z·se`` collapses to a zero-width or negative interval.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np


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
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(num_a), size=(iters, len(num_a)))
    stats = num_a[idx].sum(axis=1) / np.maximum(den_a[idx].sum(axis=1), 1e-12)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(stats, [alpha, 1 - alpha])
    # The percentile interval need not contain the point estimate in skewed small samples: widen it.
    return min(float(low), value), max(float(high), value)
