"""Settings of continual pre-training (both stages)."""

from __future__ import annotations

from pydantic import Field

from trait.schema import Section


class StageTrainConfig(Section):
    learning_rate: float = 5e-5
    epochs: float = 1.0
    warmup_ratio: float = 0.05
    lr_scheduler: str = "cosine"


class TrainConfig(Section):
    base_model: str = Field("smollm2-135m", description="Local path, or an alias (smollm2-135m, tiny-random).")
    batch_size: int = 4
    grad_accum: int = 1
    bf16: bool = False
    save_steps: int = 50
    stage1: StageTrainConfig = Field(default_factory=StageTrainConfig)
    stage2: StageTrainConfig = Field(default_factory=StageTrainConfig)
