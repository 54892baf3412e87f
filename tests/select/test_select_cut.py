"""The keep_fraction cut found by histogram passes over score chunks equals the in-memory rule and
numpy's exact quantile, ties and all."""

from __future__ import annotations

import numpy as np
import pytest

from trait.select.choose import keep_mask
from trait.select.cut import Keeper, chunked, find_cut, threshold_cut


def _chunks(domain: np.ndarray, ok: np.ndarray, size: int = 97):
    return lambda: chunked(zip(domain.tolist(), ok.tolist()), size)


def _kept(cut, domain, ok, threshold_mode=False) -> np.ndarray:
    keeper = Keeper(cut, threshold_mode)
    return np.array([bool(q) and keeper.keep(d) for d, q in zip(domain, ok)])


@pytest.mark.parametrize("kind", ["spread", "ties", "clustered"])
@pytest.mark.parametrize("frac", [0.0, 0.003, 0.05, 0.5, 1.0])
def test_histogram_cut_equals_in_memory_rule_and_numpy_quantile(kind, frac):
    rng = np.random.default_rng(7)
    n = 5000
    domain = {"spread": rng.random(n), "ties": rng.integers(0, 7, n) / 7.0,
              # almost every score in one tiny interval: the first histogram puts them in one bin
              "clustered": np.where(rng.random(n) < 0.9, 0.5 + rng.random(n) * 1e-9, rng.random(n))}[kind]
    ok = rng.random(n) > 0.1
    # few bins and a tiny exact budget force several refinement passes
    cut = find_cut(_chunks(domain, ok), frac, bins=16, exact_max=40)
    mask, value = keep_mask(domain, ok, threshold=None, keep_fraction=frac)
    k = round(frac * n)
    assert cut.kept == int(mask.sum()) == min(k, int(ok.sum())) and cut.n_docs == n
    assert (_kept(cut, domain, ok) == mask).all()  # the same docs, ties in corpus order
    if k:
        assert cut.value == value
        # numpy's exact quantile over the m quality-passing scores: the k-th highest is the smallest
        # value whose empirical CDF reaches (m - k + 1) / m (half a step below, to stay off float ties)
        m = int(ok.sum())
        q = np.quantile(domain[ok], (m - min(k, m) + 0.5) / m, method="inverted_cdf")
        assert cut.value == q
    else:
        assert cut.value is None and not _kept(cut, domain, ok).any()
    if kind == "clustered" and 0 < frac < 1:
        assert cut.passes > 2  # refined, not sorted in one go


def test_one_pass_histogram_then_exact_sort_when_the_bin_is_small():
    rng = np.random.default_rng(1)
    domain, ok = rng.random(20_000), np.ones(20_000, dtype=bool)
    cut = find_cut(_chunks(domain, ok, 4096), 0.1)
    assert cut.kept == 2000 and cut.value == np.sort(domain)[-2000] and cut.passes == 3


def test_threshold_counts_exactly():
    domain = np.array([0.1, 0.6, 0.6, 0.9, 0.3])
    ok = np.array([True, True, False, True, True])
    cut = threshold_cut(_chunks(domain, ok), 0.6)
    assert cut.kept == 2 and cut.n_docs == 5
    assert _kept(cut, domain, ok, threshold_mode=True).tolist() == [False, True, False, True, False]
