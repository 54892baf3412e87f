"""What evaluation reads, and nothing else of the chain: its own section, the tasks, the held-out text."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from trait.corpus import CorpusPath
from trait.evaluate.config import EvaluateConfig
from trait.schema import Section
from trait.tasks import TaskSpec


class EvalSettings(Section):
    evaluate: EvaluateConfig
    tasks: list[TaskSpec]
    heldout: list[CorpusPath] = Field(default_factory=list)
    text_key: str = "text"
    id_key: str | None = "id"
    on_bad_record: Literal["skip", "fail"] = "skip"
    seed: int = 0  # item choice, few-shot draws and bootstrap resamples: the same for every arm and seed
    train_seed: int | None = None  # the seed the model was trained with (None: the base model); only recorded
    base_model: str  # the model of the ``base`` arm
    run_dir: Path  # where finished evaluation parts are cached (never hashed)
