"""The few record types that flow between stages.

Every record carries where it came from (``source`` file and ``line``/row) so a score, a kept
document or a passage can always be traced back to its input.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(slots=True)
class Doc:
    """A document of the seed or general corpus, with the scores later stages attach."""

    id: str
    text: str
    source: str = ""
    line: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Doc:
        doc = cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})
        doc.meta, doc.scores = doc.meta or {}, doc.scores or {}  # parquet stores empty dicts as null
        return doc


@dataclass(slots=True)
class Problem:
    """One downstream-task item: its input and, where known, the gold answer and worked solution.

    ``input`` is the task's rendered ``input_template`` (one field or several). ``kind`` is the task
    type. For ``multiple_choice``, ``choices`` are the choice texts in order and ``answer`` the gold
    letter (A, B, ...); for ``classification``, ``choices`` are the label names and ``answer`` the gold
    label; for ``generate`` both are as before (``choices`` None).
    """

    id: str
    task: str
    input: str
    answer: str | None = None
    solution: str | None = None
    source: str = ""
    line: int = 0
    kind: str = "generate"
    choices: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Problem:
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})


@dataclass(slots=True)
class Passage:
    """A TRAIT synthetic passage: problem-specific paragraphs and one enlightenment paragraph."""

    id: str
    text: str
    problem_ids: list[str]
    tasks: list[str]
    paragraphs: list[str] = field(default_factory=list)
    enlightenment: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Passage:
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})
