"""Final-answer extraction from generated text, and comparison with the gold answer.

Generators mark answers many ways ("Answer: 72", "#### 72", ``\\boxed{72}``, "The answer is 72.");
the latest explicit marker wins, else the last number. ``math`` comparison uses math-verify (so
``\\boxed{3/4}`` equals ``0.75``) with a numeric fallback for what its parser misses; ``exact``
compares normalised strings; ``none`` accepts any answer (tasks without a checkable gold).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

Checker = Literal["math", "exact", "none"]

_ANSWER_LINE = re.compile(r"(?im)(?:^|[\s*#>_-])(?:final\s+)?answer\s*(?:\*\*)?\s*[:=]\s*(?:\*\*)?[ \t]*(\S[^\n]*)")
_ANSWER_IS = re.compile(r"(?i)\bthe\s+(?:final\s+|correct\s+)?answer\s+is\s*:?[ \t]*(\S[^\n]*?)(?:\.(?:\s|$)|\n|$)")
_HASHES = re.compile(r"(?m)####[ \t]*(\S[^\n]*)")
_NUMBER = re.compile(r"[-−]?\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+)?|[-−]?\.\d+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Extracted:
    """An extracted answer; ``end`` is where its line ends (text after it is trailing chatter)."""

    answer: str
    end: int
    explicit: bool  # False when it is only the last number of the text


def _boxed(text: str) -> list[tuple[int, str, int]]:
    """Every ``\\boxed{...}`` with balanced braces: (start, content, end)."""
    out = []
    for m in re.finditer(r"\\(?:boxed|fbox)\s*\{", text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth == 0:
            out.append((m.start(), text[m.end(): i - 1], i))
    return out


def _line_end(text: str, pos: int) -> int:
    nl = text.find("\n", pos)
    return len(text) if nl < 0 else nl


def extract_answer(text: str) -> Extracted | None:
    """The final answer of ``text``: the latest explicit marker, else the last number, else None."""
    found: list[tuple[int, str, int]] = list(_boxed(text))
    for pattern in (_ANSWER_LINE, _HASHES, _ANSWER_IS):
        for m in pattern.finditer(text):
            if pattern is _ANSWER_IS and not _looks_like_answer(m.group(1)):
                continue  # "the answer is based on the steps of 1": prose, not an answer
            found.append((m.start(1), m.group(1), _line_end(text, m.start(1))))
    found = [(s, clean_answer(a), e) for s, a, e in found if clean_answer(a)]
    if found:
        start, answer, end = max(found, key=lambda f: f[0])
        # A boxed answer inside an "Answer:" line: prefer the boxed content (it is the tighter span).
        inner = [b for b in _boxed(answer)]
        return Extracted(clean_answer(inner[-1][1]) if inner else answer, max(end, _line_end(text, start)), True)
    numbers = list(_NUMBER.finditer(text))
    if numbers:
        m = numbers[-1]
        return Extracted(clean_answer(m.group(0)), _line_end(text, m.end()), False)
    return None


def _looks_like_answer(phrase: str) -> bool:
    """A value (number, money, LaTeX, expression) or a short phrase, not a clause of prose."""
    p = phrase.strip().lstrip("*$( ").replace("−", "-")
    return bool(p) and (p[0].isdigit() or p[0] in "-.\\" or len(p.split()) <= 3)


def clean_answer(answer: str) -> str:
    """Strip markdown, math delimiters, a trailing period and surrounding quotes."""
    a = answer.strip().replace("−", "-")
    a = re.sub(r"^\*+|\*+$", "", a).strip()
    a = re.sub(r"^\\\(|\\\)$|^\\\[|\\\]$", "", a).strip()
    if a.startswith("$$") and a.endswith("$$") and len(a) > 4:
        a = a[2:-2]
    elif a.startswith("$") and a.endswith("$") and len(a) > 2 and not re.fullmatch(r"\$[\d.,]+\$?", a):
        a = a[1:-1]
    return a.strip().rstrip(".").strip().strip("\"'`").strip()


def first_number(answer: str) -> Fraction | None:
    """The first number in an answer as an exact fraction (``1,234`` -> 1234, ``3/4`` -> 3/4)."""
    m = _NUMBER.search(answer.replace("−", "-"))
    if not m:
        return None
    s = _THOUSANDS.sub("", m.group(0)).replace(",", "").replace(" ", "")
    try:
        value = Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None
    if answer[m.end(): m.end() + 1] == "%":
        value /= 100
    return value


def _math_verify(gold: str, predicted: str) -> bool:
    try:
        from math_verify import parse, verify
    except ImportError:  # pragma: no cover - a declared dependency; the numeric path still works
        return False
    try:
        g, p = parse(_THOUSANDS.sub("", gold)), parse(_THOUSANDS.sub("", predicted))
        return bool(g and p and verify(g, p))
    except Exception as e:  # noqa: BLE001 - math-verify raises anything on odd LaTeX (or off the main thread)
        log.debug("math-verify failed on %r vs %r: %s", gold, predicted, e)
        return False


def _normalise(s: str) -> str:
    return re.sub(r"\s+", " ", clean_answer(s)).casefold()


def answers_match(predicted: str, gold: str, checker: Checker = "math") -> bool:
    """Whether a predicted final answer agrees with the gold one, under the task's checker."""
    if checker == "none":
        return True
    if checker == "exact":
        return _normalise(predicted) == _normalise(gold)
    if _math_verify(gold, predicted):
        return True
    g, p = first_number(gold), first_number(predicted)
    if g is None or p is None:
        return _normalise(predicted) == _normalise(gold)
    return abs(g - p) <= Fraction(1, 10**6) * max(1, abs(g))
