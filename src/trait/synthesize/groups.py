"""Sampling problems into passages: k problems per passage, across different tasks, each used u times.

The schedule is computed for *all* training problems and only then cut at ``max_passages``, so it
does not depend on ``max_passages``: raising it extends the same list, and every passage already
generated keeps its id, its problems and its (cached) LLM calls.
"""

from __future__ import annotations

import hashlib
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from trait.errors import TraitError
from trait.records import Problem


@dataclass(frozen=True, slots=True)
class Group:
    """The problems of one passage, in passage order; ``index`` is its place in the full schedule."""

    index: int
    problems: tuple[Problem, ...]

    @property
    def id(self) -> str:
        ids = "\0".join(f"{p.task}/{p.id}" for p in self.problems)
        return f"p{self.index:06d}-{hashlib.sha256(ids.encode()).hexdigest()[:8]}"

    @property
    def tasks(self) -> list[str]:
        return [p.task for p in self.problems]


def make_groups(problems_by_task: dict[str, Sequence[Problem]], k: int, uses: int, seed: int,
                max_passages: int | None = None) -> list[Group]:
    """Deterministic passages of ``k`` problems; each problem appears ``uses`` times overall.

    Tasks are drawn without replacement, weighted by how many uses they have left, so big and small
    tasks run out together and passages stay cross-task for as long as possible; once only one task
    is left, passages are drawn within it. No passage holds the same problem twice. The last passage
    may be short when the total number of uses is not a multiple of ``k``.
    """
    if k < 1 or uses < 1:
        raise TraitError(f"synthesize: problems_per_passage and uses_per_problem must be >= 1 (got {k}, {uses})")
    rng = random.Random(f"trait-groups:{seed}")
    queues: dict[str, deque[Problem]] = {}
    for task in sorted(problems_by_task):
        items = list(problems_by_task[task])
        order: list[Problem] = []
        for _ in range(uses):  # each round is a fresh shuffle: uses of one problem stay far apart
            rnd = items[:]
            rng.shuffle(rnd)
            order.extend(rnd)
        if order:
            queues[task] = deque(order)
    groups: list[Group] = []
    while queues and (max_passages is None or len(groups) < max_passages):
        groups.append(Group(len(groups), tuple(_draw(queues, k, rng))))
    return groups


def _draw(queues: dict[str, deque[Problem]], k: int, rng: random.Random) -> list[Problem]:
    picked: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    while len(picked) < k and queues:
        # One problem from each of up to (k - picked) distinct tasks, weighted by uses left.
        names = sorted(queues)
        tasks = _weighted_sample(names, [len(queues[t]) for t in names], k - len(picked), rng)
        progressed = False
        for task in tasks + [t for t in names if t not in tasks]:
            if progressed and task not in tasks:
                break  # the fallback tasks are only for when every drawn task would repeat a problem
            p = _pop_unseen(queues[task], seen)
            if p is None:
                continue
            picked.append(p)
            seen.add((p.task, p.id))
            progressed = True
            if not queues[task]:
                del queues[task]
        if not progressed:  # every remaining use repeats a problem already in this passage
            break
    return picked


def _pop_unseen(q: deque[Problem], seen: set[tuple[str, str]]) -> Problem | None:
    """The next problem of a task not already in this passage (a repeat stays queued for a later one)."""
    for i, p in enumerate(q):
        if (p.task, p.id) not in seen:
            del q[i]
            return p
    return None


def _weighted_sample(items: list[str], weights: list[int], n: int, rng: random.Random) -> list[str]:
    """``n`` distinct items, probability proportional to weight (Efraimidis-Spirakis keys)."""
    keys = [rng.random() ** (1.0 / w) for w in weights]
    order = sorted(range(len(items)), key=lambda i: -keys[i])
    return [items[i] for i in order[:n]]
