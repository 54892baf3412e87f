"""N-gram decontamination: drop selected documents that contain text of an evaluation item.

The usual rule (GPT-3, Llama): a document is contaminated when it shares a word n-gram (n=13 by
default) with any test item, after lower-casing and stripping punctuation. A test item shorter than
n words is matched as a whole, so a short question copied verbatim is still caught; items shorter
than ``min_words`` are too generic to prove anything and are left out (and counted).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from trait.records import Problem

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Lower-cased word tokens with punctuation dropped (``"12,000."`` -> ``["12", "000"]``)."""
    return _WORD.findall(text.lower())


@dataclass
class ContaminationIndex:
    """Every n-gram of every test item (and whole short items), mapped to the item's id."""

    n: int = 13
    min_words: int = 8
    grams: dict[str, str] = field(default_factory=dict)
    lengths: set[int] = field(default_factory=set)
    items: int = 0
    too_short: int = 0

    def add(self, item_id: str, text: str) -> None:
        toks = words(text)
        if len(toks) < self.min_words:
            self.too_short += 1
            return
        self.items += 1
        k = min(self.n, len(toks))
        self.lengths.add(k)
        for i in range(len(toks) - k + 1):
            self.grams.setdefault(" ".join(toks[i:i + k]), item_id)

    def add_problems(self, problems: Iterable[Problem]) -> None:
        """Index a test split: the question, and the worked solution when the task has one."""
        for p in problems:
            self.add(p.id, p.input)
            if p.solution:
                self.add(p.id, p.solution)

    def match(self, text: str) -> str | None:
        """The id of a test item whose n-gram occurs in ``text``, or None when the text is clean."""
        if not self.grams:
            return None
        toks = words(text)
        for k in sorted(self.lengths, reverse=True):
            for i in range(len(toks) - k + 1):
                hit = self.grams.get(" ".join(toks[i:i + k]))
                if hit is not None:
                    return hit
        return None

    def stats(self) -> dict[str, int]:
        return {"ngram": self.n, "test_items_indexed": self.items, "test_items_too_short": self.too_short,
                "ngrams": len(self.grams)}
