"""Checks of a multiple-choice or classification paragraph: its answer line, and what its reasoning argues.

The answer line ("Answer: B", "Answer: (B) Aspirin", "Answer: Exact") is read as a choice letter or a
label and compared with gold. With a gold hint the prompt dictates that line, so its agreement is
trivially true (the summary says so). What the hint cannot dictate is the reasoning before it, hence
the ``reasoning_agrees`` check, which can fail under any hint:
- multiple choice: the last choice the reasoning names (by letter, "option C" / "(C)", or by a
  choice's full text; not one set aside, as in "not C" or "unlike heparin") must be the gold one, and
  the reasoning must mention the gold choice's content (its text, or one of its words that no other choice has; a choice without such a word,
  like "All of the above", is only held to the first rule);
- classification: the last verdict ("the label is X", "so it is X.", "classified as X") must be the
  gold label. Plain mentions do not count: "no" and "exact" are ordinary words.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import NamedTuple

LETTERS = string.ascii_uppercase

_ANSWER_AT = re.compile(r"(?im)^[ \t>*#_-]*(?:final[ \t]+)?answer[ \t]*(?:\*\*)?[ \t]*[:=][ \t]*(\S[^\n]*?)[ \t]*$")
_ANSWER_IS = re.compile(r"(?im)\bthe[ \t]+(?:final[ \t]+|correct[ \t]+)?answer[ \t]+is[ \t]*:?[ \t]*(\S[^\n]*?)[ \t]*$")
# Words that set the next choice aside ("not C", "unlike heparin (A)", "rather than warfarin").
_SET_ASIDE = re.compile(r"(?i)\b(?:not|nor|unlike|than|instead\s+of|except|excluding|never|no)\b\W*(?:\w+\W+){0,2}\W*$")
_LETTER_REF = re.compile(r"(?i:option|choice|letter|answer(?:\s+is)?)\s*\(?\s*([A-Z])\b"
                         r"|\(([A-Z])\)|^\s*([A-Z])[.)](?:\s|$)"
                         r"|\b([A-Z])\s+is\s+(?i:the\s+)?(?i:correct|right|wrong|incorrect|best|true|false)\b",
                         re.MULTILINE)
_VERDICT = (  # "the label is X", "so it is X.", "classified as X": {L} is the label's words
    r"\b(?:label|class|category|verdict|answer|classification)\s+(?:is|would\s+be|should\s+be|must\s+be|:)\s*[\"'*(]*{L}\b",
    r"\b(?:therefore|thus|hence|so)\b[^.!?\n]{{0,60}}?\b(?:is|as)\s+(?:an?\s+|the\s+)?[\"'*(]*{L}[\"'*)]*\s*(?:[.!?]|$)",
    r"\b(?:labell?ed|classified\s+as|classify\s+(?:it|this)\s+as|counts\s+as)\s+(?:an?\s+)?[\"'*(]*{L}\b",
)


class AnswerLine(NamedTuple):
    value: str  # what follows the marker, as written
    start: int  # where its line starts (the reasoning is what comes before)
    end: int  # where its line ends (what follows is chatter)


def answer_line(text: str) -> AnswerLine | None:
    """The last "Answer: x" line or "the answer is x" statement (a label can be a long phrase)."""
    found = [m for pattern in (_ANSWER_AT, _ANSWER_IS) for m in pattern.finditer(text)]
    if not found:
        return None
    m = max(found, key=lambda m: m.start(1))
    start = text.rfind("\n", 0, m.start()) + 1
    return AnswerLine(m.group(1), start, m.end())


def norm(s: str) -> str:
    return " ".join(re.sub(r"[^\w\s]|_", " ", s.casefold()).split())


def _clean(raw: str) -> str:
    return raw.strip().strip("*`\"' ").rstrip(".").strip()


def pick_choice(raw: str, choices: Sequence[str]) -> str | None:
    """The letter an answer means: a choice's full text, a letter ("B", "(B)", "B. Aspirin"), or a
    text that starts with a choice's text and names no other choice."""
    a = _clean(raw)
    n = norm(a)
    for i, c in enumerate(choices):
        if n and norm(c) == n:
            return LETTERS[i]
    m = re.match(r"\(?([A-Z])\)?(?=$|[\s.):,;])", a)
    if len(a) == 1 and a.isalpha():
        m = re.match(r"(.)", a.upper())
    if m and LETTERS.index(m.group(1)) < len(choices):
        return m.group(1)
    said = [i for i, c in enumerate(choices) if _phrase(n, norm(c))]  # "Heparin or aspirin": no answer
    return LETTERS[said[0]] if len(said) == 1 and n.startswith(norm(choices[said[0]]) + " ") else None


def pick_label(raw: str, labels: Sequence[str]) -> str | None:
    """The label an answer means: the label itself, or a text that starts with it and names no other."""
    n = norm(_clean(raw))
    exact = [label for label in labels if norm(label) == n]
    if exact:
        return exact[0]
    said = [label for label in labels if re.search(rf"\b{re.escape(norm(label))}\b", n)] if n else []
    return said[0] if len(said) == 1 and n.startswith(norm(said[0]) + " ") else None


def _phrase(text_norm: str, phrase: str) -> bool:
    return len(phrase) >= 3 and re.search(rf"\b{re.escape(phrase)}\b", text_norm) is not None


def _choice_refs(text: str, choices: Sequence[str]) -> list[tuple[int, str]]:
    """(position, letter) of every reference to a choice, by letter or by its full text, that is not
    set aside by a word like "not", "unlike" or "rather than" just before it."""
    refs = [(m.start(), next(g for g in m.groups() if g)) for m in _LETTER_REF.finditer(text)]
    for i, c in enumerate(choices):
        words = norm(c).split()
        if len(" ".join(words)) >= 3:
            pattern = r"(?<!\w)" + r"\W+".join(map(re.escape, words)) + r"(?!\w)"
            refs += [(m.start(), LETTERS[i]) for m in re.finditer(pattern, text, re.IGNORECASE)]
    return sorted((pos, r) for pos, r in refs
                  if LETTERS.index(r) < len(choices) and not _SET_ASIDE.search(text[max(0, pos - 40): pos]))


def argued_choice(reasoning: str, choices: Sequence[str], gold: str) -> tuple[str, str] | None:
    """Why the reasoning does not argue for ``gold`` (reason, detail), or None when it does."""
    from trait.synthesize.checks import _marks  # checks dispatches here: imported late, no cycle

    refs = _choice_refs(reasoning, choices)
    if refs and refs[-1][1] != gold:
        return "argues_other", f"the last choice it argues for is {refs[-1][1]}, gold {gold}"
    g = LETTERS.index(gold)
    if _phrase(norm(reasoning), norm(choices[g])):
        return None
    own = _marks(choices[g]) - set().union(*(_marks(c) for i, c in enumerate(choices) if i != g))
    if own and not own & _marks(reasoning):
        return "gold_not_discussed", f"never mentions choice {gold} ({choices[g][:60]!r})"
    return None


def argued_label(reasoning: str, labels: Sequence[str], gold: str) -> tuple[str, str] | None:
    """Why the reasoning's last verdict is not ``gold`` (reason, detail), or None."""
    verdicts = []
    for label in labels:
        words = r"\s+".join(map(re.escape, norm(label).split()))
        for pattern in _VERDICT:
            verdicts += [(m.start(), label) for m in re.finditer(pattern.format(L=words), reasoning, re.IGNORECASE)]
    if not verdicts:
        return None
    _, said = max(verdicts)
    if norm(said) != norm(gold):
        return "argues_other", f"its last verdict is {said!r}, gold {gold!r}"
    return None
