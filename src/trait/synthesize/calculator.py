"""A calculator for the arithmetic a paragraph states: every statement re-done in exact fractions.

Why: with a gold hint the prompt dictates the answer line, so agreeing with gold says little about the
reasoning. ``calculate`` reads each statement (``48 / 2 = 24``, ``0.2 x 50 = $10``, chains such as
``5 * 2 = 10 + 3 = 13``, ``25% of 80 = 20``, GSM8K's ``<<48/2=24>>`` notes; thousands separators,
decimals, ``×`` ``÷`` ``−``) and the last value it derived. It is conservative: a statement it cannot
read (units inside, a variable, a word that scales a number: "half of 10 = 5", "= 2 dozen", a time
"0900-0130", an index "Weeks 1-2") is skipped, never counted wrong; only a statement read and found false
is. A result in dollars may restate a left side counted in cents or thousands, or in whole dollars. On the
8,792 GSM8K gold solutions (train and test) it reads 28,633 statements and flags 18, every one a real
slip of the solution itself (``14*20=140``); see ``tests/synthesize/test_synth_calculator.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

from trait.answers import answers_match

_TOKEN = re.compile(r"""
    (?P<note><<|>>)                                         # GSM8K calculator-note brackets
  | (?P<num>\$?(?:[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+)(?:\.[0-9]+)?|\$?\.[0-9]+)
  | (?P<op>\\times|\\cdot|\\div|[-+*/×÷−–=()%])
  | (?P<word>[^\W\d_]+)
  | (?P<nl>\s*\n\s*)
  | (?P<space>\s+)
  | (?P<other>.)""", re.VERBOSE | re.DOTALL)
_OPS = {"\\times": "*", "\\cdot": "*", "×": "*", "x": "*", "X": "*", "\\div": "/", "÷": "/", "−": "-", "–": "-"}
_BLANKED = re.compile(r"(?m)\*\*|\\[()\[\]]|^[ \t]*[-*+•](?=\s)")  # bold, LaTeX delimiters, bullets
# Words that scale or relate the number beside them, so the number alone is not what is meant
# ("twice 4 = 8", "5 x 3 = 15" after a unit, "= 2 dozen", "$1 / 2 = 50 cents").
_SCALES_BEFORE = frozenset({"twice", "double", "triple", "thrice", "half", "third", "quarter", "times", "by",
                            "per", "minus", "plus", "over", "than", "less", "more", "into", "x"})
_SCALES_AFTER = frozenset({"hundred", "thousand", "million", "billion", "trillion", "dozen", "percent", "times",
                           "squared", "cubed", "cents", "cent"})
# Words that make the number after them an index, not a quantity: "Weeks 1-2", "Step 3 * 2" (a range, a label).
_INDEXES = frozenset({"week", "weeks", "day", "days", "month", "months", "step", "steps", "page", "pages", "chapter",
                      "chapters", "grade", "grades", "level", "levels", "round", "rounds", "part", "parts", "row",
                      "rows", "room", "rooms", "floor", "floors", "lap", "laps", "stage", "stages", "question",
                      "questions", "item", "items", "no", "number", "numbers"})
_FRACTIONS = frozenset({"half", "halves", "third", "thirds", "quarter", "quarters", "fourth", "fourths", "fifth",
                        "fifths", "tenth", "tenths", "twice", "double", "triple", "percent", "fraction", "times"})
_BINDS_BEFORE = _SCALES_BEFORE | _INDEXES
_LEADING_ZERO = frozenset(f"0{d}" for d in range(10))
_PUNCT = frozenset(".,;:!?")  # ends a clause when followed by a space
_QUOTES = frozenset("\"'“”‘’[]$")  # may touch a statement


class _Tok(NamedTuple):
    kind: str  # num | op | word | note | nl | other
    text: str
    start: int
    end: int
    spaced: bool  # whitespace before it


@dataclass(frozen=True)
class Calc:
    """What the calculator read: how many statements, the false ones, the last derived value."""

    statements: int = 0
    wrong: tuple[str, ...] = ()  # "154 - 78 = 114 (is 76)"
    last: tuple[Fraction, ...] = ()  # the last statement's result (each reading of it)
    last_end: int = 0  # where the last statement ends in the text


def _tokens(text: str) -> list[_Tok]:
    text = _BLANKED.sub(lambda m: " " * len(m.group(0)), text)
    out: list[_Tok] = []
    spaced = True
    for m in _TOKEN.finditer(text):
        if m.lastgroup == "space":
            spaced = True
            continue
        kind = m.lastgroup
        if kind == "num" and m.group(0).lstrip("$")[:2] in _LEADING_ZERO:
            kind = "other"  # "0730": a time or a code, not a quantity
        out.append(_Tok(kind, m.group(0), m.start(), m.end(), spaced))
        spaced = kind == "nl"
    # 'x' multiplies between numbers ("0.2 x 50"); 'of' after a percentage ("25% of 80").
    for i, t in enumerate(out):
        if t.kind != "word" or t.text not in ("x", "X", "of") or not 0 < i < len(out) - 1:
            continue
        prev, nxt = out[i - 1], out[i + 1]
        if (t.text == "of" and prev.text == "%") or (t.text != "of" and (prev.kind == "num" or prev.text in ")%")
                                                     and (nxt.kind == "num" or nxt.text == "(")):
            out[i] = t._replace(kind="op")
    return out


def _at(toks: Sequence[_Tok], i: int) -> _Tok | None:
    return toks[i] if 0 <= i < len(toks) else None


def _runs(toks: list[_Tok]) -> list[tuple[int, int]]:
    """Maximal spans of arithmetic tokens holding an '='."""
    spans, i = [], 0
    while i < len(toks):
        if toks[i].kind not in ("num", "op"):
            i += 1
            continue
        j = i
        while j < len(toks) and toks[j].kind in ("num", "op"):
            j += 1
        if any(t.text == "=" for t in toks[i:j]):
            spans.append((i, j))
        i = j
    return spans


def _free(toks: list[_Tok], at: int, step: int) -> bool:
    """Whether the run edge beside toks[at] (``step`` -1: the token before the run, +1: after) may be read."""
    t, far = _at(toks, at), _at(toks, at + step)
    if t is None or t.kind in ("note", "nl"):
        return True
    touching = not (t.spaced if step > 0 else toks[at + 1].spaced)
    if t.kind == "word":
        w = t.text.casefold()
        if touching or w in (_BINDS_BEFORE if step < 0 else _SCALES_AFTER):
            return False
        if w == "and":  # a mixed number: "1 and 1/4", "= 3 and a half", "16 and (2/3)"
            return not (far and (far.kind == "num" or far.text.casefold() in ("a", "an", "(")))
        if w == "of" and step < 0:  # "half of 10 = 5", "3/4 of 360 = 270"; but "a total of 400/25 = 16"
            return bool(far and far.kind == "word" and far.text.casefold() not in _FRACTIONS)
        return True
    if t.text in _QUOTES:
        return True
    # Clause punctuation, unless it sits among numbers ("3:4", "+ . 84", "14, 400 / 80": a spaced
    # thousands group); any other symbol ("^", "<", "&") binds.
    if t.text not in _PUNCT or (far is not None and far.kind == "op"):
        return False
    return not (far is not None and far.kind == "num" and not (far.spaced if step > 0 else t.spaced)
                and (touching or (step < 0 and t.text == ",")))


class _Parser:
    """Recursive descent over one side of a statement; ``pct`` is what '%' multiplies by; ``tight``
    reads a fraction written without spaces as one number ("60 / 3/4" is 60 / (3/4))."""

    def __init__(self, toks: Sequence[_Tok], pct: Fraction, tight: bool, lead_minus: bool) -> None:
        self.toks, self.pct, self.tight, self.lead_minus, self.i = toks, pct, tight, lead_minus, 0

    def value(self) -> Fraction | None:
        try:
            v = self._expr()
        except (ValueError, ZeroDivisionError, IndexError):
            return None
        return v if self.i == len(self.toks) else None

    def _op(self, at: int = 0) -> str | None:
        t = _at(self.toks, self.i + at)
        return _OPS.get(t.text, t.text) if t is not None and t.kind == "op" else None

    def _expr(self) -> Fraction:
        v = self._term()
        while (op := self._op()) in ("+", "-"):
            self.i += 1
            v = v + self._term() if op == "+" else v - self._term()
        return v

    def _term(self) -> Fraction:
        v = self._factor()
        while (op := self._op()) in ("*", "/", "of"):
            self.i += 1
            v = v / self._factor() if op == "/" else v * self._factor()
        return v

    def _factor(self) -> Fraction:
        if self._op() == "-" and (self.i or self.lead_minus):  # no leading minus on a first side: "x - 5 = 12"
            self.i += 1
            return -self._factor()
        if self._op() == "(":
            self.i += 1
            v = self._expr()
            if self._op() != ")":
                raise ValueError("unbalanced")
            self.i += 1
        else:
            v = self._number()
        if self._op() == "%":
            self.i += 1
            v *= self.pct
        return v

    def _number(self) -> Fraction:
        t = self.toks[self.i]
        if t.kind != "num":
            raise ValueError(t.text)
        self.i += 1
        v = _number(t)
        den = _at(self.toks, self.i + 1)
        # "14 / 1 / 4": nobody divides by one, so "1 / 4" is a fraction however it is spaced.
        unit = t.text == "1" and self.i > 1 and self._op(-2) == "/"
        if self.tight and self._op() == "/" and den and den.kind == "num" and (unit or not (
                self.toks[self.i].spaced or den.spaced)):
            self.i += 2
            v /= _number(den)
        return v


def _readings(side: Sequence[_Tok], first: bool) -> tuple[Fraction, ...]:
    """A side's values under each reading of its '%' (25% as 0.25 or 25) and fractions: conservative."""
    texts = {t.text for t in side}
    scales = (Fraction(1, 100), Fraction(1)) if "%" in texts else (Fraction(1, 100),)
    tights = (False, True) if "/" in texts else (False,)
    values = [_Parser(side, s, tight, not first).value() for s in scales for tight in tights]
    return tuple(dict.fromkeys(v for v in values if v is not None))


def _decimals(side: Sequence[_Tok]) -> int | None:
    """Decimal places of a side that is one number (what it may have been rounded to), else None."""
    nums = [t for t in side if t.kind == "num"]
    if len(nums) != 1 or any(t.kind == "op" and t.text != "%" for t in side):
        return None
    return len(nums[0].text.partition(".")[2])


def _close(a: Fraction, b: Fraction, places: int | None) -> bool:
    """Equal, or ``b`` is ``a`` rounded to ``b``'s shown decimal places."""
    if a == b:
        return True
    if places is None:
        return False
    unit = Fraction(1, 10**places)
    return (a / unit).denominator != 1 and abs(a - b) <= unit / 2


def _agree(left: Sequence[_Tok], lv: tuple[Fraction, ...], right: Sequence[_Tok], rv: tuple[Fraction, ...]) -> bool:
    if any(_close(a, b, _decimals(right)) or _close(b, a, _decimals(left)) for a in lv for b in rv):
        return True
    if _in_dollars(left, right) and any(_converted(a, b, _numbers(left)) for a in lv for b in rv):
        return True
    # A running total: "5 * 2 = 10 + 3 = 13" (the right side starts from the left side's value).
    head = _readings(right[:1], False) if right and right[0].kind == "num" and len(right) > 1 else ()
    return any(a == h for a in lv for h in head)


def _numbers(side: Sequence[_Tok]) -> list[_Tok]:
    return [t for t in side if t.kind == "num"]


def _in_dollars(left: Sequence[_Tok], right: Sequence[_Tok]) -> bool:
    """Only the result is a dollar amount: the left side may count in another unit, or in whole dollars."""
    nums = _numbers(right)
    return len(nums) == 1 and nums[0].text.startswith("$") and not any(t.text.startswith("$") for t in left)


def _converted(a: Fraction, b: Fraction, terms: Sequence[_Tok]) -> bool:
    """``a`` (cents, thousands, millions, or whole dollars) restated as the dollar amount ``b``:
    "100 * 0.75 = $0.75", "5 * 3 = $15,000" (5 thousand), "7 + 9 + 1 + 2 = $19.50" (cents dropped).
    A factor of 10 is never a unit ("192*100=$1920" is a slip)."""
    if a and b / a in (Fraction(1, 100), 1000, 1_000_000):
        return True
    whole = not any("." in t.text for t in terms)  # each term may have lost under a dollar of cents
    return whole and b.denominator != 1 and 0 < b - a < len(terms)


def _split(run: Sequence[_Tok]) -> list[list[_Tok]]:
    sides: list[list[_Tok]] = [[]]
    for t in run:
        if t.text == "=":
            sides.append([])
        else:
            sides[-1].append(t)
    return sides


def calculate(text: str) -> Calc:
    """Every arithmetic statement of ``text`` the calculator can read, checked exactly."""
    toks = _tokens(text)
    read, wrong, last, last_end = 0, [], (), 0
    for i, j in _runs(toks):
        sides = _split(toks[i:j])
        if sides[0] and sides[0][0].text == "(" and _depth(sides[0]) > 0:  # "(48 / 2 = 24)"
            sides[0] = sides[0][1:]
        right_free = _free(toks, j, 1)
        if sides[-1] and sides[-1][-1].text == ")" and _depth(sides[-1]) < 0:
            sides[-1] = sides[-1][:-1]
        elif _depth(sides[-1]) > 0:  # "= 2 (10 lost - 8 gained)", "= 24 (clips)": the aside is not the value
            cut = next((k for k, t in enumerate(sides[-1]) if t.text == "(" and t.spaced), 0)
            sides[-1], right_free = sides[-1][:cut], True
        ends = (_free(toks, i - 1, -1), right_free)
        values = [_readings(side, k == 0) if side and (k or ends[0]) and (k < len(sides) - 1 or ends[1]) else ()
                  for k, side in enumerate(sides)]
        for k in range(len(sides) - 1):
            a, b = sides[k], sides[k + 1]
            if not (values[k] and values[k + 1]) or not _has_op(a if k == 0 else a + b):
                continue  # unreadable, or a label: "Remaining 10 = 62,300/10", "12 = 12"
            read += 1
            last, last_end = values[k + 1], b[-1].end
            if not _agree(a, values[k], b, values[k + 1]):
                wrong.append(f"{text[a[0].start: b[-1].end]} (is {show_value(values[k][0])})")
    return Calc(read, tuple(wrong), last, last_end)


def _depth(side: Sequence[_Tok]) -> int:
    return sum((t.text == "(") - (t.text == ")") for t in side)


def _has_op(side: Sequence[_Tok]) -> bool:
    return any(t.kind == "op" and t.text != "%" for t in side)


def show_value(v: Fraction) -> str:
    """As a reader would write it: 76, 0.1667."""
    return str(v.numerator) if v.denominator == 1 else f"{float(v):.4f}".rstrip("0").rstrip(".")


def final_value_agrees(calc: Calc, answer: str, text: str) -> bool | None:
    """Whether ``text``'s answer is the last value its reasoning derived (None: nothing to compare).

    A later step the calculator could not read ("$222 / 6 books = $37") counts when the text names the
    answer after its last read statement, besides in the answer line itself."""
    toks = _tokens(answer)
    at = next((i for i, t in enumerate(toks) if t.kind == "num"), None)
    if not calc.last or at is None:
        return None
    stated = _number(toks[at]) * (-1 if at and toks[at - 1].text in "-−–" and not toks[at].spaced else 1)
    places = len(toks[at].text.partition(".")[2])
    # x100: a fraction stated as a percentage, dollars as cents ("0.8" -> "Answer: 80").
    if any(_close(v, stated, places) or _close(100 * v, stated, places) for v in calc.last):
        return True
    later = [t for t in _tokens(text[calc.last_end:]) if t.kind == "num" and _number(t) == abs(stated)]
    # Last, the slow symbolic comparison ("\\frac{3}{4}", "3/4"), only where the numbers disagree.
    return len(later) >= 2 or any(answers_match(_exact(v), answer, "math") for v in calc.last)


def _number(t: _Tok) -> Fraction:
    return Fraction(t.text.lstrip("$").replace(",", ""))


def _exact(v: Fraction) -> str:
    return format(Decimal(v.numerator) / Decimal(v.denominator), "f")
