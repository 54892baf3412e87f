"""Checks of one generated piece: the paragraph's answer line and arithmetic, the enlightenment's degeneracy.

A multiple-choice or classification paragraph is read as a choice letter or a label instead, and its
reasoning must argue for the gold one (``trait.synthesize.choices``); sentences that only say the
prompt back (its instructions, the hint) are left out of that reasoning (``own_text``).

Which apply depends on the task's checker, not on the gold hint: the answer line is compared with gold
where there is one; a math task's paragraph also goes through the calculator (every statement, and the
last derived value against the answer line); every enlightenment is tested for loops (a repeated
sentence, a high share of repeated word trigrams) and for naming none of the problems it compares.
Each judged piece records every check that applied (``Judged.checks``), so each gets its own pass rate.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from trait.answers import answers_match, extract_answer
from trait.records import Problem
from trait.synthesize.calculator import calculate, final_value_agrees, show_value
from trait.synthesize.choices import LETTERS, argued_choice, argued_label, pick_label, read_answer
from trait.tasks import TaskSpec

# Part of the synthesize step's hash: bump it when a check's verdicts change, so a run made under the old
# checks re-judges its passages (the LLM calls come back from the cache) instead of being served as current.
# 2: reasoning that pastes its problem, or names only words the template or prompt gave it, is refused.
CHECKS_VERSION = "2"


class Judged(NamedTuple):
    reason: str  # "ok" or the first reason to refuse
    answer: str | None
    kept: str  # a paragraph is cut after its answer line, and always ends with one
    checks: dict[str, bool]  # check name -> passed, for the checks that applied
    detail: str = ""  # what exactly failed: "154 - 78 = 114 (is 76)"
    statements: tuple[int, int] = (0, 0)  # arithmetic statements read, and found wrong


def check_paragraph(text: str, problem: Problem, spec: TaskSpec, min_words: int, echo: str = "") -> Judged:
    """Every check that applies to one paragraph, and the first reason to refuse it. ``echo``: the
    prompt's own words (its instructions and hint, not the problem); a sentence that only repeats them
    is no reasoning: it neither counts towards ``min_words`` nor argues (choice and classification tasks)."""
    body = text.strip()
    if not body:
        return Judged("empty", None, "", {})
    if problem.kind in ("multiple_choice", "classification") and problem.choices:
        return _check_choice(body, problem, min_words, echo, f"{template_words(spec)}\n{echo}")
    ex = extract_answer(body)
    kept = body if ex is None else body[: ex.end].rstrip() + ("" if ex.explicit else f"\nAnswer: {ex.answer}")
    answer = ex.answer if ex else None
    checks: dict[str, bool] = {}
    refusals: list[tuple[str, str, str]] = []  # (check, reason, detail), in the order they are reported
    if problem.answer is not None and spec.checker != "none":
        checks["answer_line"] = answer is not None and answers_match(answer, problem.answer, spec.checker)
        refusals.append(("answer_line", "disagrees", f"answer {answer!r}, gold {problem.answer!r}"))
    statements = (0, 0)
    if spec.checker == "math":
        calc = calculate(kept)
        statements = (calc.statements, len(calc.wrong))
        if calc.statements:
            checks["calculator"] = not calc.wrong
            refusals.append(("calculator", "wrong_arithmetic", "; ".join(calc.wrong[:3])))
        agrees = final_value_agrees(calc, answer, kept) if answer is not None else None
        if agrees is not None:
            checks["final_value"] = agrees
            refusals.append(("final_value", "final_value",
                             f"last derived value {show_value(calc.last[0])}, answer {answer!r}"))
    if ex is None and (problem.answer is not None or spec.checker != "none"):
        return Judged("no_answer", None, kept, checks, "", statements)
    if len(body[: ex.end if ex else len(body)].split()) < min_words:
        return Judged("too_short", answer, kept, checks, "", statements)
    if is_repetitive(kept):
        return Judged("repetitive", answer, kept, checks, "", statements)
    reason, detail = next(((r, d) for c, r, d in refusals if not checks[c]), ("ok", ""))
    return Judged(reason, answer, kept, checks, detail, statements)


def template_words(spec: TaskSpec) -> str:
    """The words every input of the task shares: its ``input_template`` less its fields ("Query", "Match:
    exact, substitute ..."). Naming one of them names nothing of this problem."""
    return re.sub(r"\{[^{}]*\}", " ", spec.input_template or "")


def _check_choice(body: str, problem: Problem, min_words: int, echo: str, fixed: str = "") -> Judged:
    """A multiple-choice or classification paragraph: its answer against gold, and whether its reasoning
    argues for the gold (``trait.synthesize.choices``); no calculator. ``fixed``: words the paragraph was
    given whatever its problem (the template's and the prompt's): naming them names nothing of the input."""
    mc = problem.kind == "multiple_choice"
    options = problem.choices or []
    read = read_answer(body, options, mc, min_words)
    if read is None:
        return Judged("no_answer", None, body, {}, "no answer line or statement")
    # the reasoning is its own sentences: one that only says the prompt back argues nothing, and a
    # stretch pasted from the problem says nothing about it
    kept, answer = read.kept, read.answer
    said = own_text(read.reasoning, echo)
    reasoning = uncopied(said, problem.input)
    gold = None
    if problem.answer is not None:
        gold = problem.answer.strip().upper() if mc else (pick_label(problem.answer, options) or problem.answer)
    checks: dict[str, bool] = {}
    refusals: list[tuple[str, str, str]] = []
    if gold is not None:
        checks["answer_line"] = answer == gold
        refusals.append(("answer_line", "disagrees", f"answer {read.value!r}, gold {gold!r}"))
    target = gold or answer
    if target is not None and (not mc or target in LETTERS[: len(options)]):
        why = argued_choice(reasoning, options, target) if mc else argued_label(reasoning, options, target, problem.input, fixed)
        checks["reasoning_agrees"] = why is None
        refusals.append(("reasoning_agrees", *(why or ("", ""))))
    if answer is None:
        listing = ", ".join(LETTERS[: len(options)]) if mc else ", ".join(options)
        return Judged("unknown_choice", None, kept, checks, f"answer {read.value!r} is none of {listing}")
    short = _too_short(said, reasoning, min_words)
    if short:
        if short[0] == "copies_input":
            checks["reasoning_agrees"] = False
        return Judged(short[0], answer, kept, checks, short[1])
    if is_repetitive(kept):
        return Judged("repetitive", answer, kept, checks)
    reason, detail = next(((r, d) for c, r, d in refusals if not checks[c]), ("ok", ""))
    return Judged(reason, answer, kept, checks, detail)


def own_text(text: str, echo: str = "") -> str:
    """The sentences of ``text`` of its own: one whose every word of 4+ letters is already in ``echo``
    (the prompt's instructions and hint) parrots them ("Explain what in the input makes it fit.", "The
    correct choice is B: Aspirin.") and is left out."""
    if not echo.strip():
        return text
    given = {w.casefold() for w in _WORD.findall(echo)}
    return " ".join(sentence for sentence in re.split(r"(?<=[.!?])\s+|\n+", text)
                    if any(len(w) >= 4 and w.casefold() not in given for w in _WORD.findall(sentence)))


COPY_RUN = 6  # words in a row taken from the problem that count as pasted, not said


def uncopied(text: str, *sources: str, run: int = COPY_RUN) -> str:
    """``text`` less every stretch of ``run``+ words in a row that also stand in a row in one of
    ``sources`` (the problems' inputs): "Query: running shoes for men. Product: Pegasus ..." pasted back
    names the input's words without saying anything about them. Shorter quotes ("men's running shoes") stay."""
    grams = set()
    for source in sources:
        norm = [w.casefold() for w in _WORD.findall(source)]
        grams.update(tuple(norm[i: i + run]) for i in range(len(norm) - run + 1))
    words = list(_WORD.finditer(text))
    keys = [w.group().casefold() for w in words]
    covered = [False] * len(words)
    for i in range(len(words) - run + 1):
        if tuple(keys[i: i + run]) in grams:
            covered[i: i + run] = [True] * run
    out, at = [], 0
    for i, w in enumerate(words):  # cut each pasted stretch whole, up to the next word said
        if covered[i] and (i == 0 or not covered[i - 1]):
            out.append(text[at: w.start()])
        if covered[i] and (i + 1 == len(words) or not covered[i + 1]):
            at = words[i + 1].start() if i + 1 < len(words) else len(text)
    return " ".join("".join([*out, text[at:]]).split()) if out else text


def _too_short(said: str, own: str, min_words: int) -> tuple[str, str] | None:
    """(reason, detail) when ``own`` (what ``said`` leaves once pastes are cut) is under ``min_words``:
    "copies_input" when only the paste made ``said`` long enough, else "too_short"."""
    if len(own.split()) >= min_words:
        return None
    if len(said.split()) >= min_words:
        return "copies_input", f"{len(own.split())} words of its own beyond {COPY_RUN}-word runs of its problem"
    return "too_short", ""


def check_enlightenment(text: str, problems: Sequence[Problem], *, min_words: int, max_repeated: float,
                        min_named: int) -> Judged:
    """Length, loops, and whether it names the problems it compares (``min_named``, capped at their count).
    Its length counts its own words: problems pasted back ("Here is the problem again: ...") do not."""
    text = text.strip()
    if not text:
        return Judged("empty", None, "", {})
    share = repeated_share(text)
    need = min(min_named, len(problems))
    short = _too_short(text, uncopied(text, *(p.input for p in problems)), min_words)
    named = problems_mentioned(text, [p.input for p in problems]) if need else 0
    repetitive = is_repetitive(text)
    checks = {"enlightenment_degeneracy": not repetitive and share <= max_repeated and named >= need
              and short is None}
    if short:
        return Judged(short[0], None, text, checks, short[1])
    if repetitive:
        return Judged("repetitive", None, text, checks)
    if share > max_repeated:
        return Judged("repeated_trigrams", None, text, checks,
                      f"{share:.0%} of its word trigrams repeat (max {max_repeated:.0%})")
    if named < need:
        return Judged("names_no_problem", None, text, checks, f"names {named} of its {len(problems)} problems")
    return Judged("ok", None, text, checks)


def is_repetitive(text: str, times: int = 3, min_words: int = 4) -> bool:
    """A sentence of ``min_words``+ words said ``times`` times: the loop small models fall into."""
    seen: dict[str, int] = {}
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
        norm = " ".join(re.findall(r"\w+", sentence.casefold()))
        if len(norm.split()) >= min_words:
            seen[norm] = seen.get(norm, 0) + 1
            if seen[norm] >= times:
                return True
    return False


# ---- enlightenment degeneracy -------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")
# Words any problem or lesson may use: sharing one of these names no problem (compared after _stem).
_COMMON = frozenset({
    "about", "above", "after", "again", "against", "also", "amount", "answer", "because", "been", "before",
    "being", "both", "calculate", "calculated", "calculating", "compare", "different", "does", "each", "every",
    "find", "first", "from", "given", "have", "having", "into", "just", "know", "lesson", "like", "many", "more",
    "most", "much", "need", "number", "only", "other", "problem", "question", "same", "second", "should",
    "solve", "solved", "solving", "some", "step", "such", "than", "that", "their", "them", "then", "there",
    "these", "they", "third", "this", "those", "three", "total", "under", "used", "using", "what", "when",
    "where", "which", "while", "will", "with", "would", "your", "similar", "involve", "involving",
    "require",
    # field names of multi-field inputs ("Query: ... Product: ...") and of choice tasks: in every problem
    "query", "product", "context", "input", "label", "choice", "option"})


def repeated_share(text: str, n: int = 3) -> float:
    """Share of word n-grams that repeat an earlier one: ~0 for prose, high for a loop."""
    words = [w.casefold() for w in _WORD.findall(text)]
    grams = [tuple(words[i: i + n]) for i in range(len(words) - n + 1)]
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


def _stem(w: str) -> str:
    w = w.casefold()
    return w[:-1] if len(w) > 4 and w.endswith("s") else w


def _marks(text: str) -> set[str]:
    """What identifies a problem: its uncommon words of 4+ letters and its numbers of 2+ digits."""
    return {_stem(w) for w in _WORD.findall(text)
            if (w.isdigit() and len(w) >= 2) or (w.isalpha() and len(w) >= 4 and _stem(w) not in _COMMON)}


def problems_mentioned(text: str, problems: Sequence[str]) -> int:
    """How many of ``problems`` the text names by one of their own words or numbers."""
    said = _marks(text)
    return sum(bool(_marks(p) & said) for p in problems)
