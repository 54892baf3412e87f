"""Test items never reach training: one index of every task's test split, checked against every text
that is trained on (seed, selected, replay, synthetic passages, task data) and every train problem
before synthesis.

The usual rule (GPT-3, Llama): a text is contaminated when it shares a word n-gram (n=13 by default)
with a test item, after lower-casing and stripping punctuation. A test item shorter than n words is
matched as a whole. One shorter than ``min_words`` is too generic for a substring match, so only a
text equal to it after the same normalisation counts (``exact_short``): a train question copied
verbatim from the test split is still caught.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from trait.io import OnError, ReadStats
from trait.records import Problem
from trait.schema import Section
from trait.ui import info

if TYPE_CHECKING:
    from trait.tasks import TaskSpec

_WORD = re.compile(r"\w+")
EXAMPLES = 5
EXAMPLE_CHARS = 300


class DecontaminationConfig(Section):
    """Drop every text trained on that holds a test item of any task, and such train problems too.

    Checked: the selected, seed, replay, synthetic and task-data documents (each build source, as it is
    read) and the tasks' train problems. The summaries and the report list what was dropped, where and why.
    """

    enabled: bool = True
    ngram: int = Field(13, ge=3, description="Words a shared n-gram needs to count as contamination.")
    min_words: int = Field(
        8, ge=1, description="Test items shorter than this are too generic for a substring match.")
    exact_short: bool = Field(
        True, description="Still drop a text equal to such a short test question after normalisation "
        "(lower case, punctuation dropped): a verbatim copy of it.")


def words(text: str) -> list[str]:
    """Lower-cased word tokens with punctuation dropped (``"12,000."`` -> ``["12", "000"]``)."""
    return _WORD.findall(text.lower())


_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier of the rolling polynomial hash


def _token_value(token: str) -> np.uint64:
    return np.uint64(int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little"))


def _rolling(values: np.ndarray, lengths: set[int]) -> Iterator[tuple[int, np.ndarray]]:
    """Hashes of every k-gram for each k in ``lengths``: h_k[i] = h_{k-1}[i] * M + v[i+k-1] (mod 2^64),
    so all lengths cost one vector pass each instead of a Python join per position."""
    h = values
    with np.errstate(over="ignore"):
        for k in range(1, max(lengths, default=0) + 1):
            if k > 1:
                h = h[:-1] * _MULT + values[k - 1:]
            if k in lengths and len(h):
                yield k, h


@dataclass(frozen=True)
class Hit:
    """Why a text is contaminated: the test item, the rule (``ngram`` or ``exact``) and the shared words."""

    item: str
    rule: str
    shared: str


@dataclass
class ContaminationIndex:
    """Every n-gram of every test item (and whole short items), mapped to the item's id.

    Matching hashes a text's word k-grams with a vectorised rolling hash, looks them up in sorted hash
    arrays, and confirms each hit on the exact n-gram string (so a hash collision can never drop a clean
    text).
    """

    n: int = 13
    min_words: int = 8
    exact_short: bool = False
    grams: dict[str, str] = field(default_factory=dict)
    exact: dict[str, str] = field(default_factory=dict)
    lengths: set[int] = field(default_factory=set)
    items: int = 0
    too_short: int = 0
    _vocab: dict[str, np.uint64] = field(default_factory=dict, repr=False)
    _parts: dict[int, list[np.ndarray]] = field(default_factory=dict, repr=False)
    _hashes: dict[int, np.ndarray] | None = field(default=None, repr=False)

    def _values(self, toks: list[str], grow: bool) -> np.ndarray:
        if grow:
            for t in toks:
                if t not in self._vocab:
                    self._vocab[t] = _token_value(t)
        zero = np.uint64(0)  # words no test item contains: no gram through them can match
        return np.fromiter((self._vocab.get(t, zero) for t in toks), dtype=np.uint64, count=len(toks))

    def add(self, item_id: str, text: str, exact: bool = True) -> None:
        """Index one test text; ``exact``: a short one is still matched by equality (a question, not an
        equation like ``x=5*9`` that many unrelated train items share)."""
        toks = words(text)
        if len(toks) < self.min_words:
            self.too_short += 1
            if exact and self.exact_short and toks:
                self.exact.setdefault(" ".join(toks), item_id)
            return
        self.items += 1
        k = min(self.n, len(toks))
        self.lengths.add(k)
        for i in range(len(toks) - k + 1):
            self.grams.setdefault(" ".join(toks[i:i + k]), item_id)
        for length, h in _rolling(self._values(toks, grow=True), {k}):
            self._parts.setdefault(length, []).append(h)
        self._hashes = None

    def add_problems(self, problems: Iterable[Problem], prefix: str = "") -> None:
        """Index a test split: the question, and the worked solution when the task has one."""
        for p in problems:
            self.add(prefix + p.id, p.input)
            if p.solution:
                self.add(prefix + p.id, p.solution, exact=False)

    def find(self, text: str) -> Hit | None:
        """Why ``text`` is contaminated, or None when it is clean."""
        if not self.grams and not self.exact:
            return None
        toks = words(text)
        if (item := self.exact.get(" ".join(toks))) is not None:
            return Hit(item, "exact", " ".join(toks))
        if not self.grams:
            return None
        if self._hashes is None:
            self._hashes = {k: np.unique(np.concatenate(parts)) for k, parts in self._parts.items()}
        for k, h in _rolling(self._values(toks, grow=False), self.lengths):
            table = self._hashes[k]  # sorted: a binary search per gram, no re-sorting per text
            pos = np.minimum(np.searchsorted(table, h), len(table) - 1)
            for i in np.flatnonzero(table[pos] == h):
                gram = " ".join(toks[i:i + k])
                if (item := self.grams.get(gram)) is not None:
                    return Hit(item, "ngram", gram)
        return None

    def match(self, text: str) -> str | None:
        """The id of a test item whose n-gram occurs in ``text``, or None when the text is clean."""
        hit = self.find(text)
        return hit.item if hit else None

    def stats(self) -> dict[str, int]:
        return {"ngram": self.n, "test_items_indexed": self.items, "test_items_too_short": self.too_short,
                "short_items_matched_exactly": len(self.exact), "ngrams": len(self.grams)}


@dataclass(frozen=True)
class Decontamination:
    """What an index is built from: the settings and every configured task's test split. Its
    ``identity`` is what a step (or a cached token source) filtered by it must hash."""

    config: DecontaminationConfig
    tasks: tuple[TaskSpec, ...] = ()
    on_bad_record: OnError = "skip"

    def identity(self) -> dict[str, Any]:
        from trait.corpus import path_identity

        if not self.config.enabled:
            return {"enabled": False}
        tasks = [{"spec": t.model_dump(mode="json", exclude={"description", "checker", "eval_only", "train"}),
                  "test_file": path_identity(test)}  # a one-file task's test split is its train path
                 for t in self.tasks if (test := t.split_file("test"))]
        return {"settings": self.config.model_dump(mode="json"), "tasks": tasks,
                "on_bad_record": self.on_bad_record}

    def index(self) -> tuple[ContaminationIndex, dict[str, Any]]:
        """Index every task's test split (empty when decontamination is off), and its statistics."""
        from trait.tasks import iter_problems

        d = self.config
        index = ContaminationIndex(n=d.ngram, min_words=d.min_words, exact_short=d.exact_short)
        if not d.enabled:
            return index, {"enabled": False}
        per_task: dict[str, Any] = {}
        for spec in self.tasks:
            stats, before = ReadStats(), index.items
            index.add_problems(iter_problems(spec, "test", on_error=self.on_bad_record, stats=stats),
                               prefix=f"{spec.name}:")
            per_task[spec.name] = {"texts_indexed": index.items - before, **stats.to_dict()}
        return index, {"enabled": True, **index.stats(), "tasks": per_task}

    def log(self) -> ContaminationLog:
        return ContaminationLog(self.index()[0])


class ContaminationLog:
    """Checks texts against an index; counts what it dropped by rule and test task, with a few examples."""

    def __init__(self, index: ContaminationIndex) -> None:
        self.index, self.checked, self.examples = index, 0, []
        self.by_rule: Counter[str] = Counter()
        self.by_task: Counter[str] = Counter()

    def clean(self, *texts: str | None, **where: Any) -> bool:
        """True when none of ``texts`` is contaminated; otherwise the drop is counted (``where`` names it)."""
        self.checked += 1
        for text in filter(None, texts):
            hit = self.index.find(text)
            if hit is not None:
                self.by_rule[hit.rule] += 1
                self.by_task[hit.item.split(":", 1)[0]] += 1
                if len(self.examples) < EXAMPLES:
                    self.examples.append({**where, "matched_test_item": hit.item, "rule": hit.rule,
                                          "shared": hit.shared[:EXAMPLE_CHARS], "text": text[:EXAMPLE_CHARS]})
                return False
        return True

    def summary(self) -> dict[str, Any]:
        return {"checked": self.checked, "dropped": sum(self.by_rule.values()), "by_rule": dict(self.by_rule),
                "by_test_task": dict(self.by_task), "examples": self.examples}


def drop_contaminated(problems: dict[str, list[Problem]], d: Decontamination,
                      ) -> tuple[dict[str, list[Problem]], dict[str, Any]]:
    """Train problems minus those that share an n-gram with (or copy) a test item of any task: synthesis
    must never write a passage from a test question's twin."""
    index, stats = d.index()
    log = ContaminationLog(index)
    kept = {task: [p for p in ps if log.clean(p.input, p.solution, id=f"{p.task}:{p.id}",
                                               where=f"{p.source}:{p.line}")]
            for task, ps in problems.items()}
    summary = log.summary()
    if summary["dropped"]:
        per_task = ", ".join(f"{k} {len(problems[k]) - len(v)}" for k, v in kept.items())
        info(f"decontamination: dropped {summary['dropped']} of {summary['checked']} train problems sharing "
             f"text with a test item ({per_task})")
    return kept, {"index": stats, **summary}
