"""Which held-out items each evaluation sees: a seeded, order-free choice shared by every metric.

Taking the first N lines would be biased when a file is sorted (SVAMP and MAWPS are grouped by
problem type); ranking by a hash of (seed, id) is deterministic, independent of file order, and a
smaller limit is always a prefix of a larger one, so the task loss and lm-eval see the same items.
"""

from __future__ import annotations

import hashlib

from trait.evaluate import scoring
from trait.records import Problem
from trait.tasks import LETTERS, Split, TaskSpec, label_verbalizers, load_problems


def _rank(seed: int, pid: str) -> str:
    return hashlib.sha256(f"{seed}:{pid}".encode()).hexdigest()


def choose(problems: list[Problem], limit: int | None, seed: int) -> list[Problem]:
    ranked = sorted(problems, key=lambda p: _rank(seed, p.id))
    return ranked if limit is None else ranked[:limit]


def eval_items(spec: TaskSpec, split: Split, limit: int | None, seed: int) -> list[Problem]:
    """Items of ``split`` that have a gold answer, chosen deterministically (file errors raise)."""
    if spec.split_file(split) is None:  # e.g. a train-only task: no test items to score
        return []
    problems = [p for p in load_problems(spec, split) if p.answer is not None]
    return choose(problems, limit, seed)


def choice_texts(spec: TaskSpec, p: Problem) -> list[str]:
    """What a model is scored on for each choice: the choice texts (multiple_choice) or each label's
    verbalizer (classification)."""
    if spec.type == "classification":
        verbal = label_verbalizers(spec)
        return [verbal[name] for name in p.choices or []]
    return list(p.choices or [])


def gold_index(p: Problem) -> int:
    """The gold choice's position: its letter (multiple_choice) or its label (classification)."""
    return LETTERS.index(p.answer or "") if p.kind == "multiple_choice" else (p.choices or []).index(p.answer)


def target_text(spec: TaskSpec, p: Problem) -> str:
    """The gold answer text after the prompt: the worked answer, the gold choice or the gold verbalizer."""
    if spec.type == "generate":
        return scoring.format_target(p.answer or "", p.solution)
    return choice_texts(spec, p)[gold_index(p)]
