"""Confidence intervals of the results table."""

from __future__ import annotations

import pytest

from trait.evaluate.stats import bootstrap_ratio, wilson


def test_wilson_known_value():
    low, high = wilson(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-3) and high == pytest.approx(0.7634, abs=1e-3)


@pytest.mark.parametrize("k, n", [(0, 20), (20, 20), (1, 3), (0, 1)])
def test_wilson_contains_estimate_and_stays_in_unit_interval(k, n):
    low, high = wilson(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0
    assert high - low > 0  # never the zero-width interval of the normal approximation at 0 or 1


def test_wilson_narrows_with_more_items():
    assert wilson(50, 100)[1] - wilson(50, 100)[0] < wilson(5, 10)[1] - wilson(5, 10)[0]


def test_bootstrap_ratio_is_deterministic_and_brackets_the_ratio():
    num, den = [10.0, 20.0, 5.0, 40.0, 12.0], [5, 8, 4, 10, 6]
    a = bootstrap_ratio(num, den, iters=500, seed=1)
    assert a == bootstrap_ratio(num, den, iters=500, seed=1)
    assert a[0] <= sum(num) / sum(den) <= a[1] and a[0] < a[1]


def test_bootstrap_degenerate_inputs_give_a_point():
    assert bootstrap_ratio([3.0], [2], iters=100) == (1.5, 1.5)
    assert bootstrap_ratio([3.0, 1.0], [2, 2], iters=0) == (1.0, 1.0)
