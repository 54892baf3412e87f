"""Downstream task specs and their problems (shared by synthesis, decontamination and evaluation).

A task is a jsonl file (or a train and a test file) of items with an input field and, optionally,
a gold answer. GSM8K's ``#### `` answers, SVAMP and MAWPS load out of the box.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Literal

from pydantic import Field, model_validator

from trait.answers import split_gsm8k
from trait.errors import BadInputError
from trait.io import OnError, ReadStats, iter_rows_of
from trait.records import Problem
from trait.schema import DataPath, Section

Split = Literal["train", "test"]
GROUP_NGRAM = 13  # group_field: the decontamination default, so a group split leaves nothing to drop


class TaskSpec(Section):
    name: str
    description: str = Field("", description="One or two sentences the generator and the report show.")
    train: DataPath | None = Field(None, description="Train file (problems for synthesis).")
    test: DataPath | None = Field(None, description="Test file (held out: evaluation + decontamination).")
    split_field: str | None = Field(None, description="When train and test are one file: field naming the split.")
    train_values: list[str] = Field(default_factory=lambda: ["train"], description="split_field values of the train split.")
    test_values: list[str] = Field(default_factory=lambda: ["test"], description="split_field values of the test split.")
    holdout_fraction: float | None = Field(
        None, ge=0.0, lt=1.0,
        description="One file, no split field: this fraction (by a hash of the id) is the test split.")
    group_field: str | None = Field(
        None, description="With holdout_fraction: items whose values of this field share a word 13-gram (the "
        "whole value if shorter) are one group, and a group lands whole in one split, by a hash of its first "
        "item's value. Variants of one story (SVAMP) then never straddle train and test.")
    id_field: str | None = None
    input_field: str = "question"
    answer_field: str | None = "answer"
    answer_format: Literal["plain", "gsm8k"] = Field(
        "plain", description="gsm8k: the answer field holds a worked solution ending in '#### <answer>'.")
    solution_field: str | None = Field(None, description="Field with a worked solution, if separate.")
    checker: Literal["math", "exact", "none"] = "math"
    eval_only: bool = Field(False, description="Never used for synthesis (e.g. a non-commercial licence).")

    @model_validator(mode="after")
    def _needs_a_file(self) -> TaskSpec:
        if not self.train and not self.test:
            raise ValueError(f"task {self.name!r}: give a train or a test file")
        if self.group_field and self.holdout_fraction is None:
            raise ValueError(f"task {self.name!r}: group_field splits by holdout_fraction; set it too")
        return self

    @property
    def has_answers(self) -> bool:
        return self.answer_field is not None

    @property
    def one_file(self) -> bool:
        """Train and test share one file, told apart by ``split_field`` or a hash of the id."""
        return self.split_field is not None or self.holdout_fraction is not None

    def split_file(self, split: Split) -> str | None:
        """The file ``split`` is read from, None when the task has no such split: the one place that decides."""
        if self.one_file:
            return self.train or self.test
        return self.train if split == "train" else self.test

    @property
    def files(self) -> list[str]:
        """Every file the task's splits are read from (what a fingerprint of its data covers)."""
        return list(dict.fromkeys(f for f in (self.split_file("train"), self.split_file("test")) if f))


def _format_number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _split_of(spec: TaskSpec, obj: dict, key: str) -> Split | None:
    """The split of one item of a one-file task; ``key`` (its id, or its group) is what the hash reads."""
    if spec.split_field:
        v = str(obj.get(spec.split_field))
        return "train" if v in spec.train_values else "test" if v in spec.test_values else None
    if spec.holdout_fraction is not None:
        h = int(hashlib.sha256(f"{spec.name}:{key}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        return "test" if h < spec.holdout_fraction else "train"
    return None


def _groups(spec: TaskSpec, path: str) -> dict[int, str]:
    """Row number -> its group's key (the value of the group's first row): rows whose ``group_field``
    values share a word ``GROUP_NGRAM``-gram are joined (union-find), so a test item shares none with
    train. Bad rows are left to the main pass, which counts or raises on them."""
    from trait.contamination import words

    parent: dict[int, int] = {}
    values: dict[int, str] = {}
    owner: dict[str, int] = {}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for _, _, n, obj in iter_rows_of(path, on_error="skip"):
        value = str(obj.get(spec.group_field or "") or "")
        toks = words(value)
        if not toks:
            continue  # no group: the item is split by its id
        parent[n], values[n] = n, value
        k = min(GROUP_NGRAM, len(toks))
        for gram in {" ".join(toks[i:i + k]) for i in range(len(toks) - k + 1)}:
            a, b = root(owner.setdefault(gram, n)), root(n)
            parent[max(a, b)] = min(a, b)  # the root is the group's first row
    return {n: values[root(n)] for n in parent}


def iter_problems(spec: TaskSpec, split: Split, *, on_error: OnError = "fail",
                  stats: ReadStats | None = None) -> Iterator[Problem]:
    """Problems of one split; a missing input field or answer is a file:line error (or counted skip)."""
    path, single_file = spec.split_file(split), spec.one_file
    if path is None:
        return
    stats = stats if stats is not None else ReadStats()
    groups = _groups(spec, path) if single_file and spec.group_field else {}
    # A glob or folder of task files reads as one file; ``n`` numbers its lines across them.
    for file, lineno, n, obj in iter_rows_of(path, on_error=on_error, stats=stats):
        where = f"{file}:{lineno}"
        raw_id = obj.get(spec.id_field) if spec.id_field else None
        pid = str(raw_id) if raw_id is not None else f"{spec.name}-{split if not single_file else 'all'}-{n - 1:05d}"
        if single_file and _split_of(spec, obj, groups.get(n, pid)) != split:
            continue
        text = obj.get(spec.input_field)
        if not isinstance(text, str) or not text.strip():
            stats.skip(f"task {spec.name}: missing or empty input field '{spec.input_field}'", where, on_error)
            continue
        answer = solution = None
        if spec.answer_field:
            if spec.answer_field not in obj or obj[spec.answer_field] in (None, ""):
                stats.skip(f"task {spec.name}: missing answer field '{spec.answer_field}'", where, on_error)
                continue
            raw = obj[spec.answer_field]
            if spec.answer_format == "gsm8k":
                parsed = split_gsm8k(str(raw))
                if parsed is None:
                    stats.skip(f"task {spec.name}: answer has no '#### <final>' line", where, on_error)
                    continue
                solution, answer = parsed
            else:
                answer = _format_number(raw)
        if spec.solution_field and obj.get(spec.solution_field):
            solution = str(obj[spec.solution_field])
        yield Problem(id=pid, task=spec.name, input=text.strip(), answer=answer, solution=solution,
                      source=file, line=lineno)


def load_problems(spec: TaskSpec, split: Split, **kw) -> list[Problem]:
    problems = list(iter_problems(spec, split, **kw))
    if not problems and spec.split_file(split):
        raise BadInputError(f"task {spec.name}: no usable {split} problems in {spec.split_file(split)}")
    return problems
