"""Every prompt and passage template of TRAIT synthesis, in one place, versioned by hash.

Templates use ``string.Template`` (``$name``) rather than ``str.format`` so braces in LaTeX answers
(``\\boxed{3/4}``) never break a user's override. The hash of the templates a request uses goes
into its seed (hence its cache key), and the hash of all templates into each passage's provenance
and the step hash: editing a prompt re-pays exactly the calls whose prompt changed. The ``domain``
section fills ``$domain`` / ``$domain_description`` in every template and is part of every hash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from string import Template

from trait.domain import DomainConfig
from trait.errors import ConfigError

PROMPTS_VERSION = "3"  # 3: the domain section fills $domain; multiple-choice and classification prompts

# Every template may use $domain and $domain_description (the ``domain`` section): no domain word is
# written here, so a law or e-commerce run reads like a mathematics one reads for mathematics.
DEFAULT_TEMPLATES: dict[str, str] = {
    "system": "You are a patient teacher of $domain who writes clear, correct textbook explanations. "
              "$domain_description",
    # One request per problem: small models manage one problem at a time far better than a whole passage.
    # The hint comes last, ending in the exact answer line: on SmolLM2-135M this raised gold agreement
    # from 3/9 to 5/9 on a probe of GSM8K/SVAMP/MAWPS problems (hint in the middle, generic answer line).
    "paragraph": (
        "Task: $task. $description\n"
        "Problem: $problem\n"
        "Write one paragraph that explains how to solve this problem step by step, saying which rule or "
        "idea of $domain each step uses and why it leads to the answer.\n"
        "${hint}"
    ),
    "hint_none": "End your paragraph with a line of the form \"Answer: <final answer>\".",
    "hint_answer": "The correct result is $answer. End your paragraph with the line \"Answer: $answer\".",
    "hint_solution": (
        "Follow this worked solution:\n$solution\n"
        "End your paragraph with the line \"Answer: $answer\"."
    ),
    # Multiple choice: the problem shows its lettered choices; the answer line holds the letter.
    "choices_block": "$problem\nChoices:\n$choices",
    "choice_item": "$letter. $text",
    "hint_none_choice": ("Weigh the choices, conclude with the one that is right, and end your paragraph with a "
                         "line of the form \"Answer: <letter>\"."),
    "hint_answer_choice": ("The correct choice is $answer: $choice. Say briefly why the other choices fail, then "
                           "conclude with why $answer is right. End your paragraph with the line \"Answer: $answer\"."),
    "hint_solution_choice": ("Follow this explanation:\n$solution\nThe correct choice is $answer: $choice. "
                             "End your paragraph with the line \"Answer: $answer\"."),
    # Classification: the problem lists the labels; the answer line holds one of them.
    "labels_block": "$problem\nPossible labels: $labels",
    "hint_none_label": ("Decide which label fits, and end your paragraph with a line of the form "
                        "\"Answer: <label>\", the label written exactly as listed."),
    "hint_answer_label": ("The correct label is $answer. Explain what in the input makes it fit, then end your "
                          "paragraph with the line \"Answer: $answer\"."),
    "hint_solution_label": ("Follow this explanation:\n$solution\nThe correct label is $answer. End your "
                            "paragraph with the line \"Answer: $answer\"."),
    # Given the problems (not the paragraphs): shorter prompts, and the lesson must not parrot one solution.
    "enlightenment": (
        "Here are $n problems from tasks of $domain, with their answers:\n$problems\n"
        "Write one short paragraph that says what these problems have in common, how they differ, "
        "and the general lesson for solving problems like them.${kinds_note} Do not solve them again."
    ),
    "enlightenment_item": "$index. [$task, $kind] $problem (answer: $answer)",
    # Added to the enlightenment (and passage) request when its problems are of several task types.
    "enlightenment_kinds": " They are of different task types ($kinds): also compare how each type asks for "
                           "its answer and what that changes in the reasoning.",
    # synthesize.mode=passage: the whole passage in one call, split back at the headers asked for here.
    "passage": (
        "Write a textbook passage of $domain about the $n problems below.\n\n$problems\n\n"
        "For each problem in order, write a section that starts with the line \"### Problem <number>\" and "
        "explains step by step how to solve it, saying which rule or idea of $domain each step uses and why "
        "it leads to the answer; do not copy the problem out again, and end the section with its answer line "
        "as asked. Then write a last section that starts with the line \"### Lesson\": one short paragraph on "
        "what these problems have in common, how they differ, and the general lesson for solving problems "
        "like them.${kinds_note}"
    ),
    "passage_item": "Problem $index ($task, $kind):\n$problem\n$hint",
    # How a passage is assembled from the generated pieces (no LLM call; part of the prompt hash).
    "passage_paragraph": "Problem $index ($task): $problem\n$explanation",
    "passage_enlightenment": "What these problems teach: $text",
    # The optional verifier (synthesize.verifier): no gold here, only whether the reasoning holds up.
    "verify": (
        "Problem: $problem\n\nProposed solution:\n$explanation\n\n"
        "Check each step of the proposed solution, and each calculation in it. Does its reasoning correctly "
        "lead to its final answer? Reply with one word: yes or no."
    ),
}

# How each task type is named to the generator (enlightenment items, passage items).
KIND_NAMES = {"generate": "open answer", "multiple_choice": "multiple choice", "classification": "classification"}
# The hint templates of each task type: (none, answer, solution).
HINTS = {"generate": ("hint_none", "hint_answer", "hint_solution"),
         "multiple_choice": ("hint_none_choice", "hint_answer_choice", "hint_solution_choice"),
         "classification": ("hint_none_label", "hint_answer_label", "hint_solution_label")}
_SHOWN = {"generate": (), "multiple_choice": ("choices_block", "choice_item"), "classification": ("labels_block",)}

def paragraph_request(kind: str) -> str:
    """The request kind of a paragraph of a task type ("paragraph" for generate, as before)."""
    return "paragraph" if kind == "generate" else f"paragraph:{kind}"


# Which templates shape which request: their hash seeds the request (so keys change with them). A
# paragraph request is keyed by its task type: an override of a classification hint re-pays no math call.
REQUEST_TEMPLATES = {
    **{paragraph_request(kind): ("system", "paragraph", *HINTS[kind], *_SHOWN[kind]) for kind in HINTS},
    "enlightenment": ("system", "enlightenment", "enlightenment_item", "enlightenment_kinds"),
    "passage": ("system", "passage", "passage_item", "enlightenment_kinds",
                *(t for kind in HINTS for t in (*HINTS[kind], *_SHOWN[kind]))),
    "verify": ("verify", *_SHOWN["multiple_choice"], *_SHOWN["classification"]),
}

DOMAIN_PLACEHOLDERS = {"domain", "domain_description"}  # allowed in every template
PLACEHOLDERS: dict[str, set[str]] = {
    "system": set(),
    "paragraph": {"task", "description", "problem", "hint"},
    "hint_none": set(),
    "hint_answer": {"answer"},
    "hint_solution": {"answer", "solution"},
    "choices_block": {"problem", "choices"},
    "choice_item": {"letter", "text"},
    "hint_none_choice": set(),
    "hint_answer_choice": {"answer", "choice"},
    "hint_solution_choice": {"answer", "choice", "solution"},
    "labels_block": {"problem", "labels"},
    "hint_none_label": {"labels"},
    "hint_answer_label": {"answer"},
    "hint_solution_label": {"answer", "solution"},
    "enlightenment": {"n", "problems", "kinds_note"},
    "enlightenment_item": {"index", "task", "kind", "problem", "answer"},
    "enlightenment_kinds": {"kinds"},
    "passage": {"n", "problems", "kinds_note"},
    "passage_item": {"index", "task", "kind", "problem", "hint"},
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
    """The effective templates (defaults + config overrides) and the domain they name, validated once."""

    templates: dict[str, str]
    domain: str = DomainConfig.model_fields["name"].default
    domain_description: str = ""

    @classmethod
    def from_overrides(cls, overrides: dict[str, str] | None = None, domain: DomainConfig | None = None) -> Prompts:
        templates = dict(DEFAULT_TEMPLATES)
        for name, text in (overrides or {}).items():
            if name not in DEFAULT_TEMPLATES:
                raise ConfigError(f"synthesize.prompts.{name}: unknown template "
                                  f"(have: {', '.join(sorted(DEFAULT_TEMPLATES))})")
            _check_placeholders(name, text)
            templates[name] = text
        domain = domain or DomainConfig()
        return cls(templates, domain.name, domain.description)

    def _parts(self, names) -> list[str]:
        # The domain fills every template, so it is part of every hash (a new domain re-pays every call).
        return [PROMPTS_VERSION, f"domain={self.domain}", f"domain_description={self.domain_description}",
                *(f"{k}={self.templates[k]}" for k in names)]

    @property
    def hash(self) -> str:
        """Hash of every template and the domain: provenance and step hash."""
        return _digest(self._parts(sorted(self.templates)))

    def request_hash(self, kind: str) -> str:
        """Hash of the templates one request kind uses: an unrelated override does not re-pay it."""
        return _digest(self._parts(REQUEST_TEMPLATES[kind]))

    def render(self, name: str, **values: object) -> str:
        values = {"domain": self.domain, "domain_description": self.domain_description, **values}
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
    unknown = used - PLACEHOLDERS[name] - DOMAIN_PLACEHOLDERS
    if unknown:
        raise ConfigError(f"synthesize.prompts.{name}: unknown placeholder(s) "
                          f"{', '.join('$' + u for u in sorted(unknown))} "
                          f"(allowed: {', '.join('$' + p for p in sorted(PLACEHOLDERS[name] | DOMAIN_PLACEHOLDERS))})")
