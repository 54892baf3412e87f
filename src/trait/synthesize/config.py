"""Settings of task-oriented passage synthesis (the LLM's own are in ``trait.llm.config``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from trait.schema import Section, knob


class VerifierConfig(Section):
    """An LLM asked whether each paragraph's reasoning supports its answer; a 'no' is regenerated."""

    enabled: bool = Field(False, description="Ask after every paragraph that passed the other checks "
                          "(one greedy call each, cached like every call).")
    model: str | None = Field(None, description="The verifier's model on the llm section's backend "
                              "(null: the llm section's model).")
    max_tokens: int = Field(8, ge=1, description="Length of the verifier's reply; its first yes/no is read.")


class SynthesizeConfig(Section):
    """How problems become TRAIT passages (grouping, gold hints, validation, prompts)."""

    mode: Literal["per_problem", "passage"] = Field(
        "per_problem", description="per_problem: one call per problem paragraph, then one for the "
        "enlightenment; a refused paragraph alone is asked again. Fits small local generators (SmolLM2-135M "
        "and the like), which manage one problem at a time but lose the thread of a long passage. passage: "
        "one call writes the whole passage (every problem paragraph, then the enlightenment), as in the "
        "paper, split back at '### Problem <n>' / '### Lesson' headers; a passage that does not split, or "
        "has any refused piece, is asked again whole. Fits strong API models: fewer calls, and the lesson "
        "is written with the paragraphs in view. Raise llm.max_tokens to hold a whole passage.")
    problems_per_passage: int = Field(3, ge=1, description="Problems per passage, drawn across tasks.")
    uses_per_problem: int = Field(1, ge=1, description="Times each training problem appears overall.")
    max_passages: int | None = Field(
        None, ge=1, description="Cut the schedule here; raising it later reuses every completed call.")
    gold_hints: Literal["none", "answer", "solution"] = Field(
        "solution", description="Hand the gold answer / worked solution to the generator to explain.")
    max_regenerations: int = Field(2, ge=0, description="New seeds for a refused piece before the passage is dropped.")
    min_paragraph_words: int = Field(8, ge=0, description="Reasoning shorter than this is refused.")
    min_enlightenment_words: int = Field(15, ge=0, description="An enlightenment shorter than this is refused.")
    max_repeated_trigram_share: float = Field(
        0.3, ge=0, le=1, description="An enlightenment in which a larger share of word trigrams repeat an "
        "earlier one is refused as a loop (1: off).")
    min_problems_mentioned: int = Field(
        1, ge=0, description="An enlightenment must name this many of its problems (by one of their own "
        "uncommon words or numbers; capped at the passage's count; 0: off).")
    min_kept_fraction: float = Field(
        0.2, ge=0, le=1, description="Stop after synthesis with a diagnosis (top rejection reasons, truncation "
        "rate, the setting to change) when fewer of the planned passages are kept (0: never stop).")
    verifier: VerifierConfig = Field(default_factory=VerifierConfig)
    chunk_passages: int = knob(64, ge=1, description="Passages generated together (one LLM batch per round).")
    rejected_sample: int = Field(50, ge=0, description="Rejected passages kept in rejected.jsonl for inspection.")
    prompts: dict[str, str] = Field(default_factory=dict, description="Override prompt templates by name (see "
                                    "synthesize/prompts.py; every template may use $domain and $domain_description).")
