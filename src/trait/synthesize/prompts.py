"""Every prompt and passage template of TRAIT synthesis, in one place, versioned by hash.

Templates use ``string.Template`` (``$name``) rather than ``str.format`` so braces in LaTeX answers
(``\\boxed{3/4}``) never break a user's override. The hash of the templates a request uses goes
into its seed (hence its cache key), and the hash of all templates into each passage's provenance
and the step hash: editing a prompt re-pays exactly the calls whose prompt changed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from string import Template

from trait.errors import ConfigError

PROMPTS_VERSION = "2"

DEFAULT_TEMPLATES: dict[str, str] = {
    "system": "You are a patient mathematics teacher who writes clear, correct textbook explanations.",
    # One request per problem: small models manage one problem at a time far better than a whole passage.
    # The hint comes last, ending in the exact answer line: on SmolLM2-135M this raised gold agreement
    # from 3/9 to 5/9 on a probe of GSM8K/SVAMP/MAWPS problems (hint in the middle, generic answer line).
    "paragraph": (
        "Task: $task. $description\n"
        "Problem: $problem\n"
        "Write one paragraph that explains how to solve this problem step by step, saying which rule or "
        "idea of the domain each step uses and why it leads to the answer.\n"
        "${hint}"
    ),
    "hint_none": "End your paragraph with a line of the form \"Answer: <final answer>\".",
    "hint_answer": "The correct result is $answer. End your paragraph with the line \"Answer: $answer\".",
    "hint_solution": (
        "Follow this worked solution:\n$solution\n"
        "End your paragraph with the line \"Answer: $answer\"."
    ),
    # Given the problems (not the paragraphs): shorter prompts, and the lesson must not parrot one solution.
    "enlightenment": (
        "Here are $n problems from tasks of the same domain, with their answers:\n$problems\n"
        "Write one short paragraph that says what these problems have in common, how they differ, "
        "and the general lesson for solving problems like them. Do not solve them again."
    ),
    "enlightenment_item": "$index. [$task] $problem (answer: $answer)",
    # How a passage is assembled from the generated pieces (no LLM call; part of the prompt hash).
    "passage_paragraph": "Problem $index ($task): $problem\n$explanation",
    "passage_enlightenment": "What these problems teach: $text",
    # The optional verifier (synthesize.verifier): no gold here, only whether the reasoning holds up.
    "verify": (
        "Problem: $problem\n\nProposed solution:\n$explanation\n\n"
        "Check each calculation and step of the proposed solution. Does its reasoning correctly lead to "
        "its final answer? Reply with one word: yes or no."
    ),
}

# Which templates shape which request kind: their hash seeds the request (so keys change with them).
REQUEST_TEMPLATES = {
    "paragraph": ("system", "paragraph", "hint_none", "hint_answer", "hint_solution"),
    "enlightenment": ("system", "enlightenment", "enlightenment_item"),
    "verify": ("verify",),
}

PLACEHOLDERS: dict[str, set[str]] = {
    "system": set(),
    "paragraph": {"task", "description", "problem", "hint"},
    "hint_none": set(),
    "hint_answer": {"answer"},
    "hint_solution": {"answer", "solution"},
    "enlightenment": {"n", "problems"},
    "enlightenment_item": {"index", "task", "problem", "answer"},
    "passage_paragraph": {"index", "task", "problem", "explanation"},
    "passage_enlightenment": {"text"},
    "verify": {"problem", "explanation"},
}


def _digest(parts: list[str]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode())
        h.update(b"\0")
    return h.hexdigest()[:12]


@dataclass(frozen=True)
class Prompts:
    """The effective templates (defaults + config overrides), validated once at stage start."""

    templates: dict[str, str]

    @classmethod
    def from_overrides(cls, overrides: dict[str, str] | None = None) -> Prompts:
        templates = dict(DEFAULT_TEMPLATES)
        for name, text in (overrides or {}).items():
            if name not in DEFAULT_TEMPLATES:
                raise ConfigError(f"synthesize.prompts.{name}: unknown template "
                                  f"(have: {', '.join(sorted(DEFAULT_TEMPLATES))})")
            _check_placeholders(name, text)
            templates[name] = text
        return cls(templates)

    @property
    def hash(self) -> str:
        """Hash of every template: provenance and step hash."""
        return _digest([PROMPTS_VERSION] + [f"{k}={self.templates[k]}" for k in sorted(self.templates)])

    def request_hash(self, kind: str) -> str:
        """Hash of the templates one request kind uses: an unrelated override does not re-pay it."""
        return _digest([PROMPTS_VERSION] + [f"{k}={self.templates[k]}" for k in REQUEST_TEMPLATES[kind]])

    def render(self, name: str, **values: object) -> str:
        return Template(self.templates[name]).substitute({k: str(v) for k, v in values.items()})


def _check_placeholders(name: str, text: str) -> None:
    """An override that names an unknown ``$field`` fails now, with the key, not mid-run."""
    try:
        used = {m.group("named") or m.group("braced") for m in Template.pattern.finditer(text)
                if m.group("named") or m.group("braced")}
        bad = [m.group(0) for m in Template.pattern.finditer(text) if m.group("invalid") is not None]
    except (ValueError, TypeError) as e:  # pragma: no cover - pattern is fixed
        raise ConfigError(f"synthesize.prompts.{name}: {e}") from None
    if bad:
        raise ConfigError(f"synthesize.prompts.{name}: stray '$' (write '$$' for a literal dollar sign)")
    unknown = used - PLACEHOLDERS[name]
    if unknown:
        raise ConfigError(f"synthesize.prompts.{name}: unknown placeholder(s) "
                          f"{', '.join('$' + u for u in sorted(unknown))} "
                          f"(allowed: {', '.join('$' + p for p in sorted(PLACEHOLDERS[name])) or 'none'})")
