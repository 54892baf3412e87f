"""N-gram decontamination: drop selected documents that contain text of an evaluation item.

The usual rule (GPT-3, Llama): a document is contaminated when it shares a word n-gram (n=13 by
default) with any test item, after lower-casing and stripping punctuation. A test item shorter than
n words is matched as a whole, so a short question copied verbatim is still caught; items shorter
than ``min_words`` are too generic to prove anything and are left out (and counted).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from trait.records import Problem

_WORD = re.compile(r"\w+")


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


@dataclass
class ContaminationIndex:
    """Every n-gram of every test item (and whole short items), mapped to the item's id.

    Matching hashes a document's word k-grams with a vectorised rolling hash, looks them up in
    sorted hash arrays, and confirms each hit on the exact n-gram string (so a hash collision can
    never drop a clean document).
    """

    n: int = 13
    min_words: int = 8
    grams: dict[str, str] = field(default_factory=dict)
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
        for length, h in _rolling(self._values(toks, grow=True), {k}):
            self._parts.setdefault(length, []).append(h)
        self._hashes = None

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
        if self._hashes is None:
            self._hashes = {k: np.unique(np.concatenate(parts)) for k, parts in self._parts.items()}
        toks = words(text)
        for k, h in _rolling(self._values(toks, grow=False), self.lengths):
            table = self._hashes[k]  # sorted: a binary search per gram, no re-sorting per doc
            pos = np.minimum(np.searchsorted(table, h), len(table) - 1)
            for i in np.flatnonzero(table[pos] == h):
                hit = self.grams.get(" ".join(toks[i:i + k]))
                if hit is not None:
                    return hit
        return None

    def stats(self) -> dict[str, int]:
        return {"ngram": self.n, "test_items_indexed": self.items, "test_items_too_short": self.too_short,
                "ngrams": len(self.grams)}
