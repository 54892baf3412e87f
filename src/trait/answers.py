"""Is this answer correct? Final-answer extraction, normalisation and equivalence, in one place.

Synthesis validation (``trait.synthesize.passages``) and evaluation (``trait.evaluate.scoring``, the
lm-eval hook) both judge answers here, so a generated paragraph and a model's test answer are held
to the same rules. It imports nothing from ``trait``: it is copied beside the generated lm-eval YAMLs.

Extraction. Markers: ``#### x`` (GSM8K), ``Answer: x`` / ``**Final Answer:** x``, ``the (final|correct)
answer is x`` and ``\\boxed{x}``. The latest marker wins (a model that corrects itself means its last
word); without one, the last number. A marker's value runs to the end of its sentence or line, and
a marker followed by a clause of prose ("the answer is based on...") is not an answer.

Equivalence. ``exact``: normalised strings (case, spaces, ``$``, thousands commas, a trailing ``%``,
``72.0`` == ``72``); a bare-number gold also accepts a number followed by units (``72 clips``).
``math``: exact, else math-verify (``\\frac{3}{4}`` == ``0.75``), else the leading numbers within a
relative 1e-6 (a percentage may mean either ``25`` or ``0.25``). ``f1``: free-text answers, SQuAD's
token-overlap F1 (lowercased, punctuation and articles dropped); an answer counts as right at
F1 >= ``F1_PASS``. ``none``: anything is accepted.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Literal, NamedTuple

Checker = Literal["math", "exact", "f1", "none"]
F1_PASS = 0.5  # f1 checker: at least half the words right (SQuAD reports the mean F1, not a verdict)

# A number: proper thousands groups only (so "1,2,3" is three numbers), decimals, ".5", fractions.
_NUM = r"-?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?:\s*/\s*\d+)?"
_NUMBER = re.compile(_NUM)
_TAIL = r"[ \t]*(\S[^\n]*?)[ \t]*(?:\.(?=\s|$)|$)"  # the value: to the end of its sentence or line
_ANSWER_LINE = re.compile(r"(?im)(?:^|[\s*#>_-])(?:final\s+)?answer\s*(?:\*\*)?\s*[:=]\s*(?:\*\*)?" + _TAIL)
_ANSWER_IS = re.compile(r"(?im)\bthe\s+(?:final\s+|correct\s+)?answer\s+is\s*:?" + _TAIL)
_HASHES = re.compile(r"(?m)####(?=[ \t]*[-−$\\.\d])" + _TAIL)  # a value, not a markdown heading
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_CALC_NOTE = re.compile(r"<<[^>]*>>")  # GSM8K's calculator annotations: "48/2 = <<48/2=24>>24"
_WITH_UNITS = re.compile(rf"({_NUM})\s*%?(?:\s+[^\W\d_].*)?", re.DOTALL)  # "72 clips", "50% of them"

log = logging.getLogger(__name__)


class Extracted(NamedTuple):
    """An extracted answer; ``end`` is where its line ends (text after it is trailing chatter)."""

    answer: str
    end: int
    explicit: bool  # False when it is only the last number of the text


def _boxed(text: str) -> list[tuple[int, str, int]]:
    """Every ``\\boxed{...}`` with balanced braces: (start, content, end)."""
    out = []
    for m in _BOXED.finditer(text):
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


def _looks_like_answer(phrase: str) -> bool:
    """A value (number, money, LaTeX, expression) or a short phrase, not a clause of prose."""
    p = phrase.strip().lstrip("*$( ").replace("−", "-")
    return bool(p) and (p[0].isdigit() or p[0] in "-.\\" or len(p.split()) <= 3)


def extract_answer(text: str) -> Extracted | None:
    """The final answer of ``text``: the latest explicit marker, else the last number, else None."""
    found = [(s, content, _line_end(text, e - 1)) for s, content, e in _boxed(text)]
    for pattern in (_ANSWER_LINE, _ANSWER_IS, _HASHES):
        found += [(m.start(1), m.group(1), _line_end(text, m.start(1)))
                  for m in pattern.finditer(text) if _looks_like_answer(m.group(1))]
    found = [(s, a, e) for s, a, e in ((s, clean_answer(a), e) for s, a, e in found) if a]
    if found:
        _, answer, end = max(found, key=lambda f: f[0])
        inner = _boxed(answer)  # "Answer: \boxed{5}": the boxed content is the tighter span
        return Extracted(clean_answer(inner[-1][1]) if inner else answer, end, True)
    numbers = list(_NUMBER.finditer(text.replace("−", "-")))
    if numbers:
        m = numbers[-1]
        return Extracted(clean_answer(m.group(0)), _line_end(text, m.end()), False)
    return None


def final_answer(text: str) -> str | None:
    """Just the answer string of :func:`extract_answer` (what evaluation scores and shows)."""
    ex = extract_answer(text)
    return ex.answer if ex else None


def clean_answer(answer: str) -> str:
    """Strip markdown, math delimiters, a currency sign, a trailing period and surrounding quotes."""
    a = answer.strip().replace("−", "-")
    a = re.sub(r"^\*+|\*+$", "", a).strip()
    a = re.sub(r"^\\\(|\\\)$|^\\\[|\\\]$", "", a).strip()
    if a.startswith("$$") and a.endswith("$$") and len(a) > 4:
        a = a[2:-2]
    elif a.startswith("$") and a.endswith("$") and len(a) > 2:
        a = a[1:-1]
    a = re.sub(r"^\\?\$\s?(?=-?[\d.])", "", a.strip())  # "$1,250": money, not LaTeX
    return a.strip().rstrip(".,;").strip().strip("\"'`").strip()


def normalize(answer: str) -> str:
    """Canonical string for exact comparison: ``" $1,250.0 "`` -> ``1250``, ``" Positive. "`` -> ``positive``."""
    a = re.sub(r"\s+", "", _THOUSANDS.sub("", clean_answer(answer))).casefold()
    number = a.removesuffix("%")
    if _NUMBER.fullmatch(number) and "/" not in number:
        try:
            d = Decimal(number)
        except InvalidOperation:  # pragma: no cover - the regex admits only decimals
            return a
        return "0" if d == 0 else format(d.normalize(), "f")
    return a


def exact_match(pred: str | None, gold: str) -> bool:
    if pred is None:
        return False
    g = normalize(gold)
    if normalize(pred) == g:
        return True
    # A bare-number gold: "72 clips" states 72. (A worded gold must match in full: "3 stars" != "3 planets".)
    m = _WITH_UNITS.fullmatch(clean_answer(pred))
    return bool(m) and _NUMBER.fullmatch(g) is not None and normalize(m.group(1)) == g


def _numbers(answer: str) -> list[Fraction]:
    """The leading number of an answer as exact fractions; a percentage gives both readings."""
    m = _NUMBER.search(answer.replace("−", "-"))
    if not m:
        return []
    try:
        value = Fraction(m.group(0).replace(",", "").replace(" ", ""))
    except (ValueError, ZeroDivisionError):
        return []
    return [value, value / 100] if answer[m.end(): m.end() + 1] == "%" else [value]


def _math_verify(gold: str, pred: str) -> bool:
    try:
        from math_verify import parse, verify
    except ImportError:  # pragma: no cover - a declared dependency; the numeric path still works
        return False
    try:
        g, p = parse(_THOUSANDS.sub("", gold)), parse(_THOUSANDS.sub("", pred))
        return bool(g and p and verify(g, p))
    except Exception as e:  # noqa: BLE001 - math-verify raises anything on odd LaTeX (or off the main thread)
        log.debug("math-verify failed on %r vs %r: %s", gold, pred, e)
        return False


def math_equal(pred: str | None, gold: str) -> bool:
    """Exact, symbolic (math-verify) or numeric equality."""
    if pred is None:
        return False
    if exact_match(pred, gold) or _math_verify(gold, pred):
        return True
    tol = Fraction(1, 10**6)
    return any(abs(g - p) <= tol * max(1, abs(g)) for g in _numbers(gold) for p in _numbers(pred))


def free_answer(text: str) -> str | None:
    """A free-text final answer (the f1 checker): the latest marker's value whatever its length (the
    math extractor takes a long phrase for prose), else the first non-empty line."""
    found = [(s, content) for s, content, _ in _boxed(text)]
    found += [(m.start(1), m.group(1)) for p in (_ANSWER_LINE, _ANSWER_IS, _HASHES) for m in p.finditer(text)]
    if found:
        return clean_answer(max(found)[1]) or None
    return clean_answer(next((line for line in text.splitlines() if line.strip()), "")) or None


def _squad_tokens(text: str) -> list[str]:
    """SQuAD's answer normalisation: lowercase, no punctuation, no articles, split on whitespace."""
    t = "".join(c for c in text.casefold() if c.isalnum() or c.isspace())
    return re.sub(r"\b(a|an|the)\b", " ", t).split()


def token_f1(pred: str | None, gold: str) -> float:
    """SQuAD token-overlap F1 of a predicted and a gold answer (1.0 when both normalise to nothing)."""
    p, g = _squad_tokens(pred or ""), _squad_tokens(gold)
    if not p or not g:
        return float(p == g and pred is not None)
    same = sum((Counter(p) & Counter(g)).values())
    if not same:
        return 0.0
    precision, recall = same / len(p), same / len(g)
    return 2 * precision * recall / (precision + recall)


def squad_exact(pred: str | None, gold: str) -> bool:
    """SQuAD exact match: equal after its normalisation."""
    return pred is not None and _squad_tokens(pred) == _squad_tokens(gold)


def answers_match(pred: str | None, gold: str, checker: Checker = "math") -> bool:
    """Whether a predicted final answer agrees with the gold one, under the task's checker."""
    if checker == "none":
        return True
    if checker == "f1":
        return token_f1(pred, gold) >= F1_PASS
    return exact_match(pred, gold) if checker == "exact" else math_equal(pred, gold)


def split_gsm8k(text: str) -> tuple[str, str] | None:
    """A GSM8K answer field ("<worked solution>\\n#### 72"): (solution without calculator notes, final answer)."""
    matches = list(_HASHES.finditer(text))
    if not matches:
        return None
    m = matches[-1]
    return _CALC_NOTE.sub("", text[: m.start()]).strip(), _THOUSANDS.sub("", clean_answer(m.group(1)))
