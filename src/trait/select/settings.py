"""What the select steps read, and nothing else of the chain (``trait.pipeline.select_settings`` builds it)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from trait.config import DataConfig
from trait.contamination import DecontaminationConfig
from trait.domain import DomainConfig
from trait.llm.config import LLMConfig
from trait.schema import Section
from trait.select.config import SelectConfig
from trait.tasks import TaskSpec


class SelectSettings(Section):
    select: SelectConfig
    data: DataConfig  # the corpora and how to read them
    tasks: list[TaskSpec] = Field(default_factory=list)  # their test splits are decontaminated against
    decontaminate: DecontaminationConfig = Field(default_factory=DecontaminationConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)  # the judge's model
    domain: DomainConfig = Field(default_factory=DomainConfig)  # what the judge asks about
    seed: int = 0
    run_dir: Path
    run: str = "default"  # names Slurm jobs only (never hashed)
