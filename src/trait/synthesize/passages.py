"""Building and validating one passage: a request per problem paragraph, then one enlightenment.

A ``PassageJob`` is a small state machine. Each round it asks for the requests it still needs (a
paragraph that failed validation is asked again with a new seed; with ``synthesize.verifier`` on, a
paragraph that passed is first put to the verifier; once every paragraph is good, the enlightenment),
takes the results back, and ends accepted or rejected with a reason. Requests are pure functions of
(settings, prompts, passage, problem, attempt), so a rerun rebuilds the same requests and the LLM
cache answers all of them: no call is ever paid twice. Each attempt records the outcome of every check
that applied to it (``Attempt.checks``), so the summary can give each check's own pass rate.
A multiple-choice problem is shown with its lettered choices and a classification problem with its
labels (``shown``); ``synthesize.mode: passage`` is ``trait.synthesize.whole``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from trait.llm import parse_verdict
from trait.llm.base import ChatRequest, ChatResult, LLMFailure
from trait.records import Passage, Problem
from trait.synthesize.checks import check_enlightenment, check_paragraph
from trait.synthesize.choices import LETTERS
from trait.synthesize.groups import Group
from trait.synthesize.prompts import HINTS, KIND_NAMES, Prompts, paragraph_request
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
    max_repeated_trigram_share: float = 1.0
    min_problems_mentioned: int = 0
    verifier: tuple[str, int] | None = None  # (model, max_tokens) when synthesize.verifier is on
    mode: str = "per_problem"  # or "passage": one call writes the whole passage (trait.synthesize.whole)

    def request(self, kind: str, user: str, parts: list[str], attempt: int, templates: str | None = None) -> ChatRequest:
        # The seed folds in the hash of this kind's templates, so a prompt edit changes the cache key
        # even where the rendered text happens not to; the attempt gives each regeneration a new seed.
        tag = "|".join([str(self.seed), self.prompts.request_hash(templates or kind), *parts, str(attempt)])
        seed = int(hashlib.sha256(tag.encode()).hexdigest()[:8], 16) & 0x7FFFFFFF
        return ChatRequest(model=self.model,
                           messages=(("system", self.prompts.render("system").strip()), ("user", user)),
                           temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens,
                           seed=seed, meta={"kind": kind, "attempt": attempt})

    def verify_request(self, problem: Problem, explanation: str) -> ChatRequest:
        """Greedy and seedless: the verdict is a function of the text alone, so equal texts share a call."""
        model, max_tokens = self.verifier
        user = self.prompts.render("verify", problem=shown(problem, self.prompts), explanation=explanation)
        return ChatRequest(model=model, messages=(("user", user),), temperature=0.0, top_p=1.0,
                           max_tokens=max_tokens, meta={"kind": "verify"})


@dataclass
class Attempt:
    """One generation and its verdict (kept for provenance and the rejected-passage sample)."""

    reason: str  # "ok" or why it was refused
    text: str = ""
    answer: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    key: str = ""
    checks: dict[str, bool] = field(default_factory=dict)  # check name -> passed, for the checks that applied
    detail: str = ""  # what exactly failed ("154 - 78 = 114 (is 76)")
    statements: tuple[int, int] = (0, 0)  # arithmetic statements the calculator read, and found wrong
    truncated: bool = False  # the completion stopped at llm.max_tokens
    tail: str = ""  # how the completion itself ended (before any answer line was added)
    verdict: str | None = None  # the verifier's: "yes", "no", "unclear" (no yes/no read), "failed"
    completion: bool = True  # False for a piece cut out of a whole-passage completion (counted there)

    @property
    def ok(self) -> bool:
        return self.reason == "ok"


@dataclass
class Piece:
    """A paragraph (or the enlightenment) and its attempts; ``final`` is the validated text."""

    attempts: list[Attempt] = field(default_factory=list)
    final: str | None = None


def kind_of(problem: Problem) -> str:
    """The task type synthesis treats a problem as (a choice task without choices reads as generate)."""
    return problem.kind if problem.kind in HINTS and (problem.choices or problem.kind == "generate") else "generate"


def shown(problem: Problem, prompts: Prompts) -> str:
    """The problem as the generator and the passage show it: with its lettered choices, or its labels."""
    kind = kind_of(problem)
    if kind == "multiple_choice":
        items = [prompts.render("choice_item", letter=LETTERS[i], text=c) for i, c in enumerate(problem.choices)]
        return prompts.render("choices_block", problem=problem.input, choices="\n".join(items))
    if kind == "classification":
        return prompts.render("labels_block", problem=problem.input, labels=", ".join(problem.choices))
    return problem.input


def gold_choice(problem: Problem) -> str:
    """The text of a multiple-choice problem's gold choice ("" for other problems)."""
    if problem.answer is None or kind_of(problem) != "multiple_choice":
        return ""
    i = LETTERS.find(problem.answer.strip().upper()[:1])
    return problem.choices[i] if 0 <= i < len(problem.choices) else ""


def gold_shown(problem: Problem) -> str | None:
    """The gold answer in words: "B. Aspirin" for a multiple-choice problem, else the answer itself."""
    choice = gold_choice(problem)
    return f"{problem.answer}. {choice}" if choice else problem.answer


def hint_for(problem: Problem, mode: str, prompts: Prompts) -> str:
    """The gold hint the generator sees: small models explain a given answer far better than they guess."""
    none, answer, solution = HINTS[kind_of(problem)]
    labels = ", ".join(problem.choices or [])
    if mode == "none" or problem.answer is None:
        return prompts.render(none, labels=labels)
    choice = gold_choice(problem)
    if mode == "solution" and problem.solution:
        return prompts.render(solution, answer=problem.answer, solution=problem.solution, choice=choice)
    return prompts.render(answer, answer=problem.answer, choice=choice)


def kinds_note(problems: tuple[Problem, ...], prompts: Prompts) -> str:
    """The enlightenment's extra sentence when its problems are of several task types, else nothing."""
    kinds = list(dict.fromkeys(KIND_NAMES[kind_of(p)] for p in problems))
    return prompts.render("enlightenment_kinds", kinds=", ".join(kinds)) if len(kinds) > 1 else ""


class PassageJob:
    """One passage in progress: its problems' paragraphs, then its enlightenment."""

    def __init__(self, group: Group, settings: Settings) -> None:
        self.group = group
        self.s = settings
        self.paragraphs = [Piece() for _ in group.problems]
        self.enlightenment = Piece()
        self.whole = Piece()  # whole-passage completions (synthesize.mode=passage); empty per problem
        self.status = "pending"  # -> "accepted" | "rejected"
        self.reason = ""

    @property
    def max_attempts(self) -> int:
        return 1 + self.s.max_regenerations

    def pending(self) -> list[tuple[int, ChatRequest]]:
        """The requests this passage needs next (empty once it is finished)."""
        if self.status != "pending":
            return []
        todo = []
        for i, piece in enumerate(self.paragraphs):
            if piece.final is None:
                last = piece.attempts[-1] if piece.attempts else None
                todo.append((i, self.s.verify_request(self.group.problems[i], last.text) if last and last.ok
                             else self._paragraph_request(i, len(piece.attempts))))
        if todo:
            return todo
        return [(ENLIGHTENMENT, self._enlightenment_request(len(self.enlightenment.attempts)))]

    def _paragraph_request(self, i: int, attempt: int) -> ChatRequest:
        p = self.group.problems[i]
        spec = self.s.tasks[p.task]
        user = self.s.prompts.render("paragraph", task=p.task, description=spec.description or "",
                                     problem=shown(p, self.s.prompts),
                                     hint=hint_for(p, self.s.gold_hints, self.s.prompts))
        return self.s.request("paragraph", user, [self.group.id, f"{p.task}/{p.id}"], attempt,
                              templates=paragraph_request(kind_of(p)))

    def _enlightenment_request(self, attempt: int) -> ChatRequest:
        items = []
        for i, (p, piece) in enumerate(zip(self.group.problems, self.paragraphs), 1):
            answer = gold_shown(p) if p.answer is not None else (piece.attempts[-1].answer or "see above")
            items.append(self.s.prompts.render("enlightenment_item", index=i, task=p.task, problem=p.input,
                                               kind=KIND_NAMES[kind_of(p)], answer=answer))
        user = self.s.prompts.render("enlightenment", n=len(items), problems="\n".join(items),
                                     kinds_note=kinds_note(self.group.problems, self.s.prompts))
        return self.s.request("enlightenment", user, [self.group.id], attempt)

    def take(self, slot: int, request: ChatRequest, result: ChatResult | LLMFailure) -> None:
        """Record one result; decide whether the piece is done, retried, or sinks the passage."""
        piece = self.enlightenment if slot == ENLIGHTENMENT else self.paragraphs[slot]
        if request.meta.get("kind") == "verify":
            attempt = piece.attempts[-1]
            self._verdict(attempt, result)
        else:
            attempt = self._judge(slot, result, request)
            attempt.key = request.key
            piece.attempts.append(attempt)
        if attempt.ok and (slot == ENLIGHTENMENT or self.s.verifier is None or attempt.verdict is not None):
            piece.final = attempt.text
        if self.status != "pending":  # a sibling already sank it this round: keep the attempt, no verdict
            return
        if not attempt.ok and len(piece.attempts) >= self.max_attempts:
            self.status = "rejected"
            self.reason = f"{'enlightenment' if slot == ENLIGHTENMENT else 'paragraph'}:{attempt.reason}"
        elif slot == ENLIGHTENMENT and attempt.ok:
            self.status = "accepted"

    def _verdict(self, attempt: Attempt, result: ChatResult | LLMFailure) -> None:
        """A 'no' refuses the paragraph; no reply, or one without yes/no, lets it stand (counted)."""
        said = parse_verdict(result.text) if isinstance(result, ChatResult) else None
        attempt.verdict = ("failed" if isinstance(result, LLMFailure) else "unclear" if said is None
                           else "yes" if said else "no")
        if said is not None:
            attempt.checks["verifier"] = bool(said)
        if said == 0:
            attempt.reason, attempt.detail = "verifier_no", f"verifier: {result.text.strip()[:80]!r}"

    def _judge(self, slot: int, result: ChatResult | LLMFailure, request: ChatRequest) -> Attempt:
        if isinstance(result, LLMFailure):
            return Attempt("llm_failure", text=result.reason)
        meta = {"prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
                "truncated": result.finish_reason == "length", "tail": " ".join(result.text.split())[-60:]}
        if slot == ENLIGHTENMENT:
            j = check_enlightenment(result.text, self.group.problems, min_words=self.s.min_enlightenment_words,
                                    max_repeated=self.s.max_repeated_trigram_share,
                                    min_named=self.s.min_problems_mentioned)
        else:
            p = self.group.problems[slot]
            echo = request.messages[-1][1].replace(shown(p, self.s.prompts), " ")  # the prompt less its problem
            j = check_paragraph(result.text, p, self.s.tasks[p.task], self.s.min_paragraph_words, echo)
        return Attempt(j.reason, text=j.kept, answer=j.answer, checks=j.checks, detail=j.detail,
                       statements=j.statements, **meta)

    def passage(self) -> Passage:
        """The assembled passage (only for an accepted job)."""
        assert self.status == "accepted", self.status
        pr = self.s.prompts
        paras = [pr.render("passage_paragraph", index=i, task=p.task, problem=shown(p, pr), explanation=piece.final)
                 for i, (p, piece) in enumerate(zip(self.group.problems, self.paragraphs), 1)]
        enl = pr.render("passage_enlightenment", text=self.enlightenment.final)
        return Passage(id=self.group.id, text="\n\n".join(paras + [enl]),
                       problem_ids=[p.id for p in self.group.problems], tasks=self.group.tasks,
                       paragraphs=paras, enlightenment=enl, provenance=self.provenance())

    def _all_attempts(self) -> list[Attempt]:
        return [a for piece in self.paragraphs + [self.enlightenment, self.whole] for a in piece.attempts]

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
            "checks": {"paragraphs": [p.attempts[-1].checks if p.attempts else {} for p in self.paragraphs],
                       "enlightenment": self.enlightenment.attempts[-1].checks if self.enlightenment.attempts
                       else {}},
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
                              "reason": a.reason, "detail": a.detail, "answer": a.answer,
                              "truncated": a.truncated, "verdict": a.verdict, "checks": a.checks,
                              "text": a.text[:max_chars]})
        return {"id": self.group.id, "reason": self.reason, "problem_ids": [p.id for p in self.group.problems],
                "tasks": self.group.tasks, "gold": [p.answer for p in self.group.problems], "attempts": tries}
