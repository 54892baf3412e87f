"""What synthesis reads, and nothing else of the chain (``trait.pipeline.synthesis_settings`` builds it)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from trait.contamination import Decontamination, DecontaminationConfig
from trait.domain import DomainConfig
from trait.io import OnError
from trait.llm.config import LLMConfig
from trait.schema import Section
from trait.synthesize.config import SynthesizeConfig
from trait.tasks import TaskSpec


class SynthesisSettings(Section):
    run_dir: Path  # holds the run-level LLM cache (never hashed)
    seed: int
    synthesize: SynthesizeConfig
    llm: LLMConfig
    tasks: list[TaskSpec]  # all configured tasks; ``synthesis_tasks`` picks those with a train split
    on_bad_record: OnError
    domain: DomainConfig = Field(default_factory=DomainConfig)  # fills $domain in every prompt
    # train problems sharing an n-gram with a test item of any task never reach a passage
    decontaminate: DecontaminationConfig = Field(default_factory=DecontaminationConfig)

    def decontamination(self) -> Decontamination:
        """Every task's test split, which the train problems are checked against before grouping."""
        return Decontamination(self.decontaminate, tuple(self.tasks), self.on_bad_record)
