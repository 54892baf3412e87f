"""Settings of task-oriented passage synthesis (the LLM's own are in ``trait.llm.config``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from trait.schema import Section, knob


class SynthesizeConfig(Section):
    """How problems become TRAIT passages (grouping, gold hints, validation, prompts)."""

    problems_per_passage: int = Field(3, ge=1, description="Problems per passage, drawn across tasks.")
    uses_per_problem: int = Field(1, ge=1, description="Times each training problem appears overall.")
    max_passages: int | None = Field(
        None, ge=1, description="Cut the schedule here; raising it later reuses every completed call.")
    gold_hints: Literal["none", "answer", "solution"] = Field(
        "solution", description="Hand the gold answer / worked solution to the generator to explain.")
    max_regenerations: int = Field(2, ge=0, description="New seeds for a refused piece before the passage is dropped.")
    min_paragraph_words: int = Field(8, ge=0, description="Reasoning shorter than this is refused.")
    min_enlightenment_words: int = Field(15, ge=0, description="An enlightenment shorter than this is refused.")
    chunk_passages: int = knob(64, ge=1, description="Passages generated together (one LLM batch per round).")
    rejected_sample: int = Field(50, ge=0, description="Rejected passages kept in rejected.jsonl for inspection.")
    prompts: dict[str, str] = Field(default_factory=dict, description="Override prompt templates by name.")
