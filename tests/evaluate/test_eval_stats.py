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


# ---- paired bootstrap: arm - reference on the same items -------------------------------------------

def _items(values, prefix="q"):
    return {f"{prefix}{i}": v for i, v in enumerate(values)}


def _noisy(n, seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    nll, tokens = rng.uniform(20, 80, n), rng.integers(20, 60, n)  # items of very different difficulty
    return nll, tokens


def test_paired_bootstrap_finds_a_clear_difference():
    from trait.evaluate.stats import paired_bootstrap

    nll, tokens = _noisy(40, 0)
    ref = _items([(a, b) for a, b in zip(nll, tokens)])
    arm = _items([(a + 0.1 * b, b) for a, b in zip(nll, tokens)])  # +0.1 nats on every token
    p = paired_bootstrap(arm, ref, iters=500, seed=3)
    assert p.diff == pytest.approx(0.1) and p.n_items == 40
    assert 0 < p.ci_low <= p.diff <= p.ci_high and p.significant
    # The per-arm intervals overlap: only pairing shows the difference.
    assert bootstrap_ratio(nll + 0.1 * tokens, tokens, iters=500)[0] < bootstrap_ratio(nll, tokens, iters=500)[1]
    assert paired_bootstrap(ref, arm, iters=500, seed=3).ci_high < 0  # the other way round: below 0


def test_paired_bootstrap_on_identical_arms_includes_zero():
    from trait.evaluate.stats import paired_bootstrap

    nll, tokens = _noisy(40, 1)
    ref = _items([(a, b) for a, b in zip(nll, tokens)])
    p = paired_bootstrap(ref, dict(ref), iters=500)
    assert p.diff == 0 and p.ci_low <= 0 <= p.ci_high and not p.significant
    # Two arms that differ only by noise around the same mean: 0 inside the interval.
    ones = _items([1, 0, 1, 1, 0, 0, 1, 0, 1, 0] * 3)
    shuffled = _items([0, 1, 1, 0, 1, 0, 0, 1, 0, 1] * 3)
    q = paired_bootstrap(ones, shuffled, iters=500)
    assert q.diff == 0 and q.ci_low < 0 < q.ci_high and not q.significant


def test_paired_bootstrap_is_deterministic_and_pairs_by_item_id():
    from trait.evaluate.stats import paired_bootstrap

    nll, tokens = _noisy(30, 2)
    arm = _items([(a, b) for a, b in zip(nll, tokens)])
    ref = _items([(a, b) for a, b in zip(nll[::-1], tokens)])
    assert paired_bootstrap(arm, ref, seed=5) == paired_bootstrap(arm, ref, seed=5)
    assert paired_bootstrap(arm, ref, seed=5) != paired_bootstrap(arm, ref, seed=6)
    extra = {**ref, "only-in-ref": (1.0, 1)}  # an item the arm lacks is left out, not misaligned
    assert paired_bootstrap(arm, extra, seed=5) == paired_bootstrap(arm, ref, seed=5)
    assert paired_bootstrap(dict(reversed(arm.items())), ref, seed=5) == paired_bootstrap(arm, ref, seed=5)
    assert paired_bootstrap(_items([1, 1, 0, 1]), _items([0, 1, 0, 0])).diff == pytest.approx(0.5)


def test_paired_bootstrap_refuses_disjoint_items():
    from trait.evaluate.stats import paired_bootstrap

    with pytest.raises(ValueError, match="share no item"):
        paired_bootstrap(_items([1, 0], "a"), _items([1, 0], "b"))


def test_paired_bootstrap_averages_an_arms_seeds_first_and_takes_exp():
    import math

    from trait.evaluate.stats import paired_bootstrap, seed_mean

    seed1, seed2 = _items([(2.0, 2), (4.0, 2)]), _items([(4.0, 2), (6.0, 2), (9.0, 3)])
    assert seed_mean([seed1, seed2]) == {"q0": (3.0, 2.0), "q1": (5.0, 2.0)}  # items every seed has
    ref = _items([(2.0, 2), (2.0, 2)])
    p = paired_bootstrap([seed1, seed2], [ref], iters=0)
    assert p.diff == pytest.approx(1.0) and p.ci_low is None and not p.significant  # no resampling: no claim
    ppl = paired_bootstrap([seed1, seed2], ref, iters=0, exp=True)
    assert ppl.diff == pytest.approx(math.exp(2.0) - math.exp(1.0))
