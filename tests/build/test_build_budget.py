"""Token-budget arithmetic: shares, caps, shortfalls and exact document choice."""

from __future__ import annotations

import numpy as np
import pytest

from trait.build.budget import Want, allocate, choose_docs
from trait.errors import TraitError


def test_fraction_and_fill_share_the_total():
    wants = [Want("seed", 100), Want("selected", 300), Want("replay", 10_000, fraction=0.2)]
    req, got = allocate(wants, 200)
    assert req == [40, 120, 40]  # fill sources split 160 in proportion 100:300
    assert got == req


def test_capped_fill_source_passes_its_excess_to_the_others():
    wants = [Want("small", 10, max_epochs=1), Want("big", 1000, max_epochs=3)]
    req, got = allocate(wants, 2000)  # proportional shares would be ~20 : ~1980, but small has only 10
    assert got == [10, 1990] and req == got


def test_shortfall_is_reported_not_hidden():
    wants = [Want("a", 100, max_epochs=2), Want("r", 1000, fraction=0.5)]
    req, got = allocate(wants, 1000)
    assert req == [500, 500] and got == [200, 500]


def test_fixed_shares_over_total_is_an_error():
    with pytest.raises(TraitError, match="exceed the total"):
        allocate([Want("a", 10, tokens=80), Want("b", 10, fraction=0.5), Want("c", 10)], 100)


def test_fraction_without_total_is_an_error():
    with pytest.raises(TraitError, match="corpus source r"):
        allocate([Want("r", 10, fraction=0.5)], None)


def test_no_total_takes_everything_once():
    assert allocate([Want("a", 7), Want("b", 5, tokens=3)], None) == ([7, 3], [7, 3])


def test_choose_docs_meets_budget_exactly_and_is_seeded():
    lengths = np.array([5, 7, 3, 9, 4])
    rows, partial = choose_docs(lengths, 20, seed=1)
    got = int(lengths[rows].sum()) + (partial[1] if partial else 0)
    assert got == 20
    again = choose_docs(lengths, 20, seed=1)
    assert np.array_equal(rows, again[0]) and partial == again[1]
    assert not np.array_equal(rows, choose_docs(lengths, 20, seed=2)[0]) or partial != choose_docs(
        lengths, 20, seed=2)[1]


def test_choose_docs_repeats_whole_epochs_before_a_partial_one():
    lengths = np.array([4, 6])
    for seed in range(5):
        rows, partial = choose_docs(lengths, 25, seed=seed)
        assert rows[:4].tolist().count(0) == 2 and rows[:4].tolist().count(1) == 2  # two full epochs first
        assert partial is not None and int(lengths[rows].sum()) + partial[1] == 25
