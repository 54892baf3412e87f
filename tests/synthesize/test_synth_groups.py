"""Grouping problems into passages: cross-task, exact uses per problem, deterministic, prefix-stable."""

from __future__ import annotations

from collections import Counter

import pytest

from trait.errors import TraitError
from trait.records import Problem
from trait.synthesize.groups import make_groups


def _problems(task: str, n: int) -> list[Problem]:
    return [Problem(id=f"{task}-{i}", task=task, input=f"question {i} of {task}", answer=str(i)) for i in range(n)]


def _uses(groups) -> Counter:
    return Counter((p.task, p.id) for g in groups for p in g.problems)


def test_every_problem_used_exactly_uses_times_and_never_twice_in_a_passage():
    pools = {"a": _problems("a", 40), "b": _problems("b", 13), "c": _problems("c", 7)}
    groups = make_groups(pools, k=3, uses=2, seed=1)
    uses = _uses(groups)
    assert len(uses) == 60 and set(uses.values()) == {2}
    for g in groups:
        assert len({(p.task, p.id) for p in g.problems}) == len(g.problems)
        assert 1 <= len(g.problems) <= 3
    assert sum(len(g.problems) == 3 for g in groups) >= len(groups) - 1  # only the last may be short


def test_passages_draw_from_different_tasks_while_several_have_problems_left():
    pools = {"a": _problems("a", 30), "b": _problems("b", 30), "c": _problems("c", 30)}
    groups = make_groups(pools, k=3, uses=1, seed=0)
    # Equal pools, weighting by uses left: every passage takes one problem of each task.
    assert all(sorted(g.tasks) == ["a", "b", "c"] for g in groups)
    pools2 = {"a": _problems("a", 50), "b": _problems("b", 10)}
    groups2 = make_groups(pools2, k=2, uses=1, seed=0)
    mixed = sum(len(set(g.tasks)) == 2 for g in groups2)
    assert mixed == 10  # every 'b' problem is paired with an 'a' one; the rest are within 'a'


def test_single_task_groups_within_it():
    groups = make_groups({"only": _problems("only", 9)}, k=3, uses=1, seed=0)
    assert len(groups) == 3 and all(g.tasks == ["only"] * 3 for g in groups)


def test_deterministic_for_a_seed_and_different_across_seeds():
    pools = {"a": _problems("a", 20), "b": _problems("b", 20)}
    ids = lambda gs: [g.id for g in gs]
    assert ids(make_groups(pools, 2, 1, seed=5)) == ids(make_groups(pools, 2, 1, seed=5))
    assert ids(make_groups(pools, 2, 1, seed=5)) != ids(make_groups(pools, 2, 1, seed=6))


def test_max_passages_cuts_a_prefix_of_the_same_schedule():
    pools = {"a": _problems("a", 20), "b": _problems("b", 11)}
    full = make_groups(pools, 3, 2, seed=3)
    cut = make_groups(pools, 3, 2, seed=3, max_passages=4)
    assert [g.id for g in cut] == [g.id for g in full[:4]]
    assert [g.index for g in full] == list(range(len(full)))


def test_bad_k_is_an_error():
    with pytest.raises(TraitError, match="problems_per_passage"):
        make_groups({"a": _problems("a", 3)}, k=0, uses=1, seed=0)
