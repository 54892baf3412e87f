"""Building and validating one passage: a request per problem paragraph, then one enlightenment.

A ``PassageJob`` is a small state machine. Each round it asks for the requests it still needs (a
paragraph that failed validation is asked again with a new seed; once every paragraph is good, the
enlightenment), takes the results back, and ends accepted or rejected with a reason. Requests are
pure functions of (settings, prompts, passage, problem, attempt), so a rerun rebuilds the same
requests and the LLM cache answers all of them: no call is ever paid twice.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from trait.answers import answers_match, extract_answer
from trait.llm.base import ChatRequest, ChatResult, LLMFailure
from trait.records import Passage, Problem
from trait.synthesize.groups import Group
from trait.synthesize.prompts import Prompts
from trait.tasks import TaskSpec

ENLIGHTENMENT = -1  # slot id of the enlightenment request (paragraph slots are 0..k-1)


@dataclass(frozen=True)
class Settings:
    """Everything that shapes requests and validation, resolved once per stage run."""

    prompts: Prompts
    tasks: dict[str, TaskSpec]
    model: str
    backend: str
    temperature: float
    top_p: float
    max_tokens: int
    seed: int
    gold_hints: str
    max_regenerations: int
    min_paragraph_words: int
    min_enlightenment_words: int

    def request(self, kind: str, user: str, parts: list[str], attempt: int) -> ChatRequest:
        # The seed folds in the hash of this kind's templates, so a prompt edit changes the cache key
        # even where the rendered text happens not to; the attempt gives each regeneration a new seed.
        tag = "|".join([str(self.seed), self.prompts.request_hash(kind), *parts, str(attempt)])
        seed = int(hashlib.sha256(tag.encode()).hexdigest()[:8], 16) & 0x7FFFFFFF
        return ChatRequest(model=self.model,
                           messages=(("system", self.prompts.render("system")), ("user", user)),
                           temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens,
                           seed=seed, meta={"kind": kind, "attempt": attempt})


@dataclass
class Attempt:
    """One generation and its verdict (kept for provenance and the rejected-passage sample)."""

    reason: str  # "ok" or why it was refused
    text: str = ""
    answer: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    key: str = ""

    @property
    def ok(self) -> bool:
        return self.reason == "ok"


@dataclass
class Piece:
    """A paragraph (or the enlightenment) and its attempts; ``final`` is the validated text."""

    attempts: list[Attempt] = field(default_factory=list)
    final: str | None = None


def hint_for(problem: Problem, mode: str, prompts: Prompts) -> str:
    """The gold hint the generator sees: small models explain a given answer far better than they guess."""
    if mode == "none" or problem.answer is None:
        return prompts.render("hint_none")
    if mode == "solution" and problem.solution:
        return prompts.render("hint_solution", answer=problem.answer, solution=problem.solution)
    return prompts.render("hint_answer", answer=problem.answer)


def check_paragraph(text: str, problem: Problem, spec: TaskSpec, min_words: int) -> tuple[str, str | None, str]:
    """(reason, extracted answer, explanation to keep). The explanation is cut after its answer line
    (small models ramble on) and always ends with an explicit ``Answer:`` line."""
    body = text.strip()
    if not body:
        return "empty", None, ""
    ex = extract_answer(body)
    needs_answer = problem.answer is not None or spec.checker != "none"
    if ex is None:
        if needs_answer:
            return "no_answer", None, body
        reason = "too_short" if len(body.split()) < min_words else "repetitive" if is_repetitive(body) else "ok"
        return reason, None, body
    kept = body[: ex.end].rstrip()
    if not ex.explicit:
        kept += f"\nAnswer: {ex.answer}"
    reasoning_words = len(body[: ex.end].split())
    if reasoning_words < min_words:
        return "too_short", ex.answer, kept
    if is_repetitive(kept):
        return "repetitive", ex.answer, kept
    if problem.answer is not None and not answers_match(ex.answer, problem.answer, spec.checker):
        return "disagrees", ex.answer, kept
    return "ok", ex.answer, kept


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


class PassageJob:
    """One passage in progress: its problems' paragraphs, then its enlightenment."""

    def __init__(self, group: Group, settings: Settings) -> None:
        self.group = group
        self.s = settings
        self.paragraphs = [Piece() for _ in group.problems]
        self.enlightenment = Piece()
        self.status = "pending"  # -> "accepted" | "rejected"
        self.reason = ""

    @property
    def max_attempts(self) -> int:
        return 1 + self.s.max_regenerations

    def pending(self) -> list[tuple[int, ChatRequest]]:
        """The requests this passage needs next (empty once it is finished)."""
        if self.status != "pending":
            return []
        todo = [(i, self._paragraph_request(i, len(p.attempts))) for i, p in enumerate(self.paragraphs)
                if p.final is None]
        if todo:
            return todo
        return [(ENLIGHTENMENT, self._enlightenment_request(len(self.enlightenment.attempts)))]

    def _paragraph_request(self, i: int, attempt: int) -> ChatRequest:
        p = self.group.problems[i]
        spec = self.s.tasks[p.task]
        user = self.s.prompts.render("paragraph", task=p.task, description=spec.description or "",
                                     problem=p.input, hint=hint_for(p, self.s.gold_hints, self.s.prompts))
        return self.s.request("paragraph", user, [self.group.id, f"{p.task}/{p.id}"], attempt)

    def _enlightenment_request(self, attempt: int) -> ChatRequest:
        items = []
        for i, (p, piece) in enumerate(zip(self.group.problems, self.paragraphs), 1):
            answer = p.answer if p.answer is not None else (piece.attempts[-1].answer or "see above")
            items.append(self.s.prompts.render("enlightenment_item", index=i, task=p.task, problem=p.input,
                                               answer=answer))
        user = self.s.prompts.render("enlightenment", n=len(items), problems="\n".join(items))
        return self.s.request("enlightenment", user, [self.group.id], attempt)

    def take(self, slot: int, request: ChatRequest, result: ChatResult | LLMFailure) -> None:
        """Record one result; decide whether the piece is done, retried, or sinks the passage."""
        piece = self.enlightenment if slot == ENLIGHTENMENT else self.paragraphs[slot]
        attempt = self._judge(slot, result)
        attempt.key = request.key
        piece.attempts.append(attempt)
        if attempt.ok:
            piece.final = attempt.text
        if self.status != "pending":  # a sibling already sank it this round: keep the attempt, no verdict
            return
        if not attempt.ok and len(piece.attempts) >= self.max_attempts:
            self.status = "rejected"
            self.reason = f"{'enlightenment' if slot == ENLIGHTENMENT else 'paragraph'}:{attempt.reason}"
        elif slot == ENLIGHTENMENT and attempt.ok:
            self.status = "accepted"

    def _judge(self, slot: int, result: ChatResult | LLMFailure) -> Attempt:
        if isinstance(result, LLMFailure):
            return Attempt("llm_failure", text=result.reason)
        tokens = {"prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens}
        if slot == ENLIGHTENMENT:
            text = result.text.strip()
            reason = ("empty" if not text else "too_short" if len(text.split()) < self.s.min_enlightenment_words
                      else "repetitive" if is_repetitive(text) else "ok")
            return Attempt(reason, text=text, **tokens)
        p = self.group.problems[slot]
        reason, answer, kept = check_paragraph(result.text, p, self.s.tasks[p.task], self.s.min_paragraph_words)
        return Attempt(reason, text=kept, answer=answer, **tokens)

    def passage(self) -> Passage:
        """The assembled passage (only for an accepted job)."""
        assert self.status == "accepted", self.status
        pr = self.s.prompts
        paras = [pr.render("passage_paragraph", index=i, task=p.task, problem=p.input, explanation=piece.final)
                 for i, (p, piece) in enumerate(zip(self.group.problems, self.paragraphs), 1)]
        enl = pr.render("passage_enlightenment", text=self.enlightenment.final)
        return Passage(id=self.group.id, text="\n\n".join(paras + [enl]),
                       problem_ids=[p.id for p in self.group.problems], tasks=self.group.tasks,
                       paragraphs=paras, enlightenment=enl, provenance=self.provenance())

    def _all_attempts(self) -> list[Attempt]:
        return [a for piece in self.paragraphs + [self.enlightenment] for a in piece.attempts]

    def provenance(self) -> dict[str, Any]:
        s = self.s
        return {
            "schedule_index": self.group.index,
            "model": s.model, "backend": s.backend,
            "prompt_hash": s.prompts.hash,
            "sampling": {"temperature": s.temperature, "top_p": s.top_p, "max_tokens": s.max_tokens, "seed": s.seed},
            "gold_hints": s.gold_hints,
            "attempts": {"paragraphs": [len(p.attempts) for p in self.paragraphs],
                         "enlightenment": len(self.enlightenment.attempts)},
            "answers": [{"problem_id": p.id, "gold": p.answer, "generated": piece.attempts[-1].answer
                         if piece.attempts else None} for p, piece in zip(self.group.problems, self.paragraphs)],
            "tokens": {"prompt": sum(a.prompt_tokens for a in self._all_attempts()),
                       "completion": sum(a.completion_tokens for a in self._all_attempts())},
            "request_keys": [p.attempts[-1].key for p in self.paragraphs if p.attempts]
                            + ([self.enlightenment.attempts[-1].key] if self.enlightenment.attempts else []),
        }

    def rejection(self, max_chars: int = 600) -> dict[str, Any]:
        """A compact record of why this passage was dropped (for the rejected sample)."""
        tries = []
        for slot, piece in [(i, p) for i, p in enumerate(self.paragraphs)] + [(ENLIGHTENMENT, self.enlightenment)]:
            for n, a in enumerate(piece.attempts):
                tries.append({"slot": "enlightenment" if slot == ENLIGHTENMENT else slot, "attempt": n,
                              "reason": a.reason, "answer": a.answer, "text": a.text[:max_chars]})
        return {"id": self.group.id, "reason": self.reason, "problem_ids": [p.id for p in self.group.problems],
                "tasks": self.group.tasks, "gold": [p.answer for p in self.group.problems], "attempts": tries}
