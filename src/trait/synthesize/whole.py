"""``synthesize.mode: passage``: one LLM call writes the whole passage, as in the paper.

The prompt lists the passage's problems (each with its choices or labels and its gold hint) and asks
for a section per problem headed "### Problem <n>", then a "### Lesson" section. The completion is
split back at those headers, each section goes through the same checks as a per-problem paragraph
and the lesson through the enlightenment's; a completion that does not split, or whose pieces fail a
check (or, with the verifier on, get a 'no'), is asked again with a new seed, up to
``max_regenerations``. Requests are pure functions of (settings, prompts, passage, attempt), so the
LLM cache answers a rerun exactly as in per-problem mode.
"""

from __future__ import annotations

import re
from typing import Any

from trait.llm.base import ChatRequest, ChatResult, LLMFailure
from trait.synthesize.checks import check_enlightenment, check_paragraph
from trait.synthesize.groups import Group
from trait.synthesize.passages import (
    KIND_NAMES,
    Attempt,
    PassageJob,
    Settings,
    hint_for,
    kind_of,
    kinds_note,
    shown,
)

PASSAGE = -2  # slot id of the whole-passage request

# A header: "### Problem 2" (a markdown heading: its whole line), "**Problem 2:**", "Problem 2 (sums):",
# "Lesson:" (the rest of its line is body). "Problem 2 asks..." is a sentence, not a header.
_HEADER = re.compile(r"(?im)^[ \t]*(#{1,6}[ \t]*)?(?:\*\*)?[ \t]*(?:problem[ \t]+(\d+)|(lesson))"
                     r"(?:[ \t]*\([^)\n]*\))?[ \t]*(?:[:.)]|\*\*|$)(?:[ \t]*\*\*)?")


def split_passage(text: str, n: int) -> tuple[list[str], str] | str:
    """The ``n`` problem sections and the lesson of a whole-passage completion, or why it does not split.

    Headers are taken in the order asked for (Problem 1, ..., Problem n, Lesson); any other header-like
    line (a copied problem list, "Problem 1" said twice) stays in the section it appears in."""
    want, cuts = 1, []
    for m in _HEADER.finditer(text):
        heading, number, lesson = m.groups()
        if (want <= n and number is not None and int(number) == want) or (want > n and lesson is not None):
            end = text.find("\n", m.end()) if heading else m.end()
            cuts.append((m.start(), len(text) if end < 0 else end))
            want += 1
            if want > n + 1:
                break
    if want <= n + 1:
        found = [f"Problem {i}" for i in range(1, min(want, n + 1))]
        missing = f"Problem {want}" if want <= n else "Lesson"
        return f"no '{missing}' header after {', '.join(found) or 'the start'}"
    bodies = [text[end: cuts[i + 1][0] if i + 1 < len(cuts) else len(text)].strip()
              for i, (_, end) in enumerate(cuts)]
    return bodies[:n], bodies[n]


class WholePassageJob(PassageJob):
    """A passage written in one call: ``whole`` holds its completions, the pieces the checked sections."""

    def pending(self) -> list[tuple[int, ChatRequest]]:
        if self.status != "pending":
            return []
        last = self.whole.attempts[-1] if self.whole.attempts else None
        if last is not None and last.ok and self.s.verifier is not None:  # it split and passed: verify
            return [(i, self.s.verify_request(self.group.problems[i], piece.attempts[-1].text))
                    for i, piece in enumerate(self.paragraphs) if piece.attempts[-1].verdict is None]
        return [(PASSAGE, self._passage_request(len(self.whole.attempts)))]

    def _passage_request(self, attempt: int) -> ChatRequest:
        pr, problems = self.s.prompts, self.group.problems
        items = [pr.render("passage_item", index=i, task=p.task, kind=KIND_NAMES[kind_of(p)], problem=shown(p, pr),
                           hint=hint_for(p, self.s.gold_hints, pr)) for i, p in enumerate(problems, 1)]
        user = pr.render("passage", n=len(items), problems="\n\n".join(items), kinds_note=kinds_note(problems, pr))
        return self.s.request("passage", user, [self.group.id], attempt)

    def take(self, slot: int, request: ChatRequest, result: ChatResult | LLMFailure) -> None:
        if self.status != "pending":
            return
        if request.meta.get("kind") == "verify":
            self._verdict(self.paragraphs[slot].attempts[-1], result)
            verdicts = [piece.attempts[-1] for piece in self.paragraphs]
            if any(a.verdict is None for a in verdicts):
                return  # the other verdicts of this round are still to come
            refused = [i for i, a in enumerate(verdicts, 1) if a.reason == "verifier_no"]
            if refused:
                whole = self.whole.attempts[-1]
                whole.reason, whole.detail = "paragraph:verifier_no", f"problem {refused[0]}: verifier said no"
            self._settle()
            return
        attempt = self._judge_whole(result)
        attempt.key = request.key
        self.whole.attempts.append(attempt)
        if not attempt.ok or self.s.verifier is None:
            self._settle()

    def _settle(self) -> None:
        """Accept the last completion, or reject the passage once its tries are spent (else: try again)."""
        last = self.whole.attempts[-1]
        if last.ok:
            for piece in (*self.paragraphs, self.enlightenment):
                piece.final = piece.attempts[-1].text
            self.status = "accepted"
        elif len(self.whole.attempts) >= self.max_attempts:
            self.status = "rejected"
            self.reason = last.reason if ":" in last.reason else f"passage:{last.reason}"

    def _judge_whole(self, result: ChatResult | LLMFailure) -> Attempt:
        if isinstance(result, LLMFailure):
            return Attempt("llm_failure", text=result.reason)
        meta: dict[str, Any] = {"prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
                                "truncated": result.finish_reason == "length",
                                "tail": " ".join(result.text.split())[-60:]}
        problems = self.group.problems
        parts = split_passage(result.text, len(problems))
        if isinstance(parts, str):
            return Attempt("split_failed", text=result.text, detail=parts, checks={"passage_split": False}, **meta)
        sections, lesson = parts
        reason, detail = "ok", ""
        for i, (p, text, piece) in enumerate(zip(problems, sections, self.paragraphs), 1):
            j = check_paragraph(text, p, self.s.tasks[p.task], self.s.min_paragraph_words)
            piece.attempts.append(Attempt(j.reason, text=j.kept, answer=j.answer, checks=j.checks, detail=j.detail,
                                          statements=j.statements, completion=False))
            if reason == "ok" and j.reason != "ok":
                reason, detail = f"paragraph:{j.reason}", f"problem {i}: {j.detail}".rstrip(": ")
        j = check_enlightenment(lesson, problems, min_words=self.s.min_enlightenment_words,
                                max_repeated=self.s.max_repeated_trigram_share, min_named=self.s.min_problems_mentioned)
        self.enlightenment.attempts.append(Attempt(j.reason, text=j.kept, checks=j.checks, detail=j.detail,
                                                   completion=False))
        if reason == "ok" and j.reason != "ok":
            reason, detail = f"enlightenment:{j.reason}", j.detail
        return Attempt(reason, text=result.text, detail=detail, checks={"passage_split": True}, **meta)

    def provenance(self) -> dict[str, Any]:
        out = super().provenance()
        out["mode"] = "passage"
        out["attempts"]["passages"] = len(self.whole.attempts)
        out["request_keys"] = [self.whole.attempts[-1].key] if self.whole.attempts else []
        return out

    def rejection(self, max_chars: int = 600) -> dict[str, Any]:
        out = super().rejection(max_chars)
        out["attempts"] += [{"slot": "passage", "attempt": n, "reason": a.reason, "detail": a.detail,
                             "answer": None, "truncated": a.truncated, "verdict": None, "text": a.text[:max_chars]}
                            for n, a in enumerate(self.whole.attempts)]
        return out


def make_job(group: Group, settings: Settings) -> PassageJob:
    """The job of one passage in the configured mode."""
    return WholePassageJob(group, settings) if settings.mode == "passage" else PassageJob(group, settings)
