"""Checks of a multiple-choice or classification paragraph: its answer line, and what its reasoning argues.

The answer line ("Answer: B", "Answer: (B) Aspirin", "Answer: Exact") or statement ("The correct choice
is B: Aspirin", "the label is yes") is read as a choice letter or a label and compared with gold. The
reasoning is what comes before the last one; a paragraph that states its answer first and reasons
after it ("The correct choice is B: Aspirin. It acetylates ...", as small models write) is read that way
round (``read_answer``), as is one that opens with "C. <choice C's text>" or a label ("Exact: ...").
With a gold hint the prompt dictates the answer, so its agreement is
trivially true (the summary says so). What the hint cannot dictate is the reasoning, hence
the ``reasoning_agrees`` check, which can fail under any hint:
- multiple choice: the last choice the reasoning names (by letter, "option C" / "(C)", or by a
  choice's full text; not one set aside, as in "not C" or "unlike heparin") must be the gold one, and
  the reasoning must mention the gold choice's content (its text, or one of its words that no other choice has; a choice without such a word,
  like "All of the above", is only held to the first rule);
- classification: the reasoning must name something of the input (one of its words beyond the labels
  and the words the task's template and the prompt gave it), and the last verdict ("the label is X",
  "so it is X.", "classified as X") must be the gold label. Plain mentions do not count: "no" and
  "exact" are ordinary words.
Before either, ``checks`` cuts from the reasoning what only says the prompt back or pastes the problem.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import NamedTuple

LETTERS = string.ascii_uppercase

_ANSWER_AT = re.compile(r"(?im)^[ \t>*#_-]*(?:final[ \t]+)?answer[ \t]*(?:\*\*)?[ \t]*[:=][ \t]*(\S[^\n]*?)[ \t]*$")
# "the answer is C", "The correct choice is B: ...", "the right label is yes", "The answer to the task is no"
_ANSWER_IS = re.compile(r"(?im)\bthe[ \t]+(?:(?:final|correct|right|best)[ \t]+)?"
                        r"(?:answer|choice|option|label|classification)"
                        r"(?:[ \t]+(?:to|for)[ \t]+(?:the|this)[ \t]+(?:question|problem|task|input))?"
                        r"[ \t]+(?:is|would[ \t]+be)[ \t]*:?[ \t]*(\S[^\n]*?)[ \t]*$")
# "Therefore, B is the correct answer", "C is the most appropriate choice.", "D is correct.": the letter
# is the value (it must start its clause: "vitamin A is the best source" is no answer)
_LETTER_IS = re.compile(r"(?:^|(?<=[.!?:,;(\n] )|(?<=\n)|(?<=so )|(?<=thus )|(?<=hence )|(?<=therefore ))"
                        r"\(?([A-Z])\)?[ \t]+is[ \t]+(?:the[ \t]+)?(?:most[ \t]+)?(?i:correct|right|best|appropriate)"
                        r"(?:[ \t]+(?i:answer|choice|option)\b|(?=[ \t]*[.!,;]))[.!]?", re.MULTILINE)
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")
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
    start: int  # where its sentence starts (the reasoning is what comes before)
    end: int  # where its line ends (what follows is chatter)


def _statements(text: str) -> list[re.Match]:
    return sorted((m for pattern in (_ANSWER_AT, _ANSWER_IS, _LETTER_IS) for m in pattern.finditer(text)),
                  key=lambda m: m.start(1))


def _sentence_start(text: str, pos: int) -> int:
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, pos)]
    return ends[-1] if ends else 0


def answer_line(text: str) -> AnswerLine | None:
    """The last "Answer: x" line or "the answer is x" statement (a label can be a long phrase); the
    reasoning is what comes before its sentence."""
    found = _statements(text)
    return _line(text, found[-1]) if found else None


def _line(text: str, m: re.Match) -> AnswerLine:
    return AnswerLine(m.group(1), _sentence_start(text, m.start()), m.end())


class Reading(NamedTuple):
    value: str  # the answer as written
    answer: str | None  # the letter or label it means (None: none of them)
    reasoning: str  # the text that argues for it
    kept: str  # the paragraph as kept: cut after a closing answer line; always ends with one


def read_answer(text: str, options: Sequence[str], mc: bool, min_words: int) -> Reading | None:
    """A paragraph's answer and its reasoning, closing form first: the last answer line or statement,
    reasoned before. When fewer than ``min_words`` words precede it (beyond an opening statement) but the
    paragraph opens with its answer ("The correct choice is B: Aspirin. It acetylates ...", "C. Aspirin\n
    ..."), the answer is that opening one and the reasoning all that follows it, up to its last full sentence."""
    found = _statements(text)
    lead = _opening(text, found, options, mc)
    if found:
        line = _line(text, found[-1])
        before = text[lead[2] if lead else 0: line.start]  # an opening statement is no reasoning
        answer = (pick_choice if mc else pick_label)(line.value, options)
        # an opening answer wins over a closing "the answer is right because ..." that names no choice
        if lead is None or (len(before.split()) >= min_words and answer is not None):
            return Reading(line.value, answer, before, text[: line.end].rstrip())
    if lead is None:
        return None
    value, answer, end = lead
    rest = text[end:]
    full = [m.end() for m in re.finditer(r"[.!?][\"')\]*]*(?=\s|$)", rest)]
    if full and rest.rstrip()[-1:] not in ".!?\"')]*":  # a sentence cut off (max_tokens): drop its stub
        rest = rest[: full[-1]]
    return Reading(value, answer, rest, f"{text[:end]}{rest}".rstrip() + f"\nAnswer: {answer}")


def _opening(text: str, found: list[re.Match], options: Sequence[str], mc: bool) -> tuple[str, str, int] | None:
    """(as written, letter or label, where it ends) of an answer the paragraph opens with: a statement
    at its start or after a short lead-in ("A short answer: the correct choice is B"), or (multiple choice) a first line
    "C. <the text of choice C>", or (classification) a first word that is a label ("No, ...", "Exact: ...")."""
    lead_in = text[: found[0].start()].strip() if found else ""
    if found and (not lead_in or (lead_in.endswith(":") and len(lead_in.split()) <= _LEAD_IN
                                  and not _SENTENCE_END.search(lead_in))):
        m = found[0]
        token = _lead_choice(m.group(1), options) if mc else _lead_label(m.group(1), options)
        if token:
            return m.group(1)[: token[1]], token[0], m.start(1) + token[1]
    first = text.lstrip()
    token = (_lead_choice(first, options, with_text=True) or _lead_choice(first, options, named=True) if mc
             else _lead_label(first, options, r"[:.,](?=\s)"))  # "Yes, the trial shows ...", "Exact: ..."
    if token:
        offset = len(text) - len(first)
        return first[: token[1]], token[0], offset + token[1]
    return None


_LEAD_IN = 6  # words of a lead-in ("A short and simple answer is:") an opening statement may follow
_OPEN = r"[\s*\"'`]*"  # markup before an answer token
_CLOSE = r"[*\"'`]*"
_ALONE = r"(?=[ \t]*(?:[.,;:!?)\]]|\n|$))"  # a choice's text ends its clause ("B. Aspirin." not "B. Aspirin acts")


def _choice_text(choice: str) -> str:
    return r"\W*".join(map(re.escape, norm(choice).split()))


def _lead_choice(value: str, options: Sequence[str], with_text: bool = False,
                 named: bool = False) -> tuple[str, int] | None:
    """(letter, characters read) of the choice ``value`` starts with: a letter ("B", "(B)", "B:"),
    with that choice's text read too where it stands alone ("B: Aspirin."), or a choice's text alone.
    ``with_text``: only a letter with its own choice's text, "B. Aspirin." or "B: Aspirin acts ..."
    (a bare "A." may start a list of the choices). ``named``: only a choice's text, standing alone or
    called the right one ("Prospective study is the most reliable ...")."""
    m = None if named else re.match(_OPEN + r"\(?([A-Z])(?![\w'])\)?" + _CLOSE + r"([.:)]?)", value)
    if m and LETTERS.index(m.group(1)) < len(options):
        letter, rest, own = m.group(1), value[m.end():], _choice_text(options[LETTERS.index(m.group(1))])
        alone = re.match(r"[ \t]*" + own + _CLOSE + _ALONE, rest, re.IGNORECASE)
        if alone:
            return letter, m.end() + alone.end()
        if with_text and not (m.group(2) == ":" and re.match(r"[ \t]*" + own + r"(?!\w)", rest, re.IGNORECASE)):
            return None
        return letter, m.end()
    if with_text:
        return None
    # named: "Prospective study." or "... is the most ...", not "Heparin, warfarin and ..." (a list)
    after = r"(?=[ \t]*(?:[.:!]|\n|$)|\s+is\s+(?:the\s+)?(?:most|best|correct|right)\b)" if named else _ALONE
    texts = [(re.match(_OPEN + _choice_text(c) + _CLOSE + after, value, re.IGNORECASE), LETTERS[i])
             for i, c in enumerate(options) if norm(c)]
    texts = [(t.end(), letter) for t, letter in texts if t]
    return (max(texts)[1], max(texts)[0]) if texts else None


def _lead_label(value: str, labels: Sequence[str], then: str = "") -> tuple[str, int] | None:
    """(label, characters read) of the label ``value`` starts with ("yes.", "**Exact**, as ..."), followed
    by ``then`` (a pattern) if given."""
    found = [(m.end(), label) for label in labels if norm(label)
             for m in [re.match(_OPEN + _choice_text(label) + r"(?!\w)" + _CLOSE + then, value, re.IGNORECASE)] if m]
    return (max(found)[1], max(found)[0]) if found else None


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


def argued_label(reasoning: str, labels: Sequence[str], gold: str, given: str = "",
                 fixed: str = "") -> tuple[str, str] | None:
    """Why the reasoning's last verdict is not ``gold``, or why it argues nothing about ``given`` (the
    problem's input: it names none of its words beyond the labels and ``fixed``, words it was given
    anyway: the template's, which every input shares, and the prompt's), as (reason, detail); else None."""
    from trait.synthesize.checks import _marks  # checks dispatches here: imported late, no cycle

    verdicts = []
    for label in labels:
        words = r"\s+".join(map(re.escape, norm(label).split()))
        for pattern in _VERDICT:
            verdicts += [(m.start(), label) for m in re.finditer(pattern.format(L=words), reasoning, re.IGNORECASE)]
    if verdicts and norm(max(verdicts)[1]) != norm(gold):
        return "argues_other", f"its last verdict is {max(verdicts)[1]!r}, gold {gold!r}"
    own = _marks(given) - _marks(" ".join(labels)) - _marks(fixed)
    if own and not own & _marks(reasoning):
        return "input_not_discussed", "names nothing of its input"
    return None
