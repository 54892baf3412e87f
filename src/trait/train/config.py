"""Settings of continual pre-training (both stages)."""

from __future__ import annotations

from pydantic import Field

from trait.schema import Section, knob


class StageTrainConfig(Section):
    """One stage's schedule: stage 2 restarts the optimizer and LR schedule from stage 1's weights."""

    learning_rate: float = Field(5e-5, gt=0)
    epochs: float = Field(1.0, gt=0, description="Passes over the stage's packed corpus.")
    max_steps: int | None = Field(None, ge=1, description="Stop after this many optimizer steps (overrides epochs).")
    warmup_ratio: float = Field(0.05, ge=0, lt=1)
    lr_scheduler: str = Field("cosine", description="Any transformers scheduler name (cosine, linear, constant...).")
    weight_decay: float = Field(0.0, ge=0)


class TrainConfig(Section):
    base_model: str = Field("smollm2-135m", description="Local path, or an alias (smollm2-135m, tiny-random).")
    batch_size: int = Field(4, ge=1, description="Blocks per device per micro-batch.")
    grad_accum: int = Field(1, ge=1)
    bf16: bool = Field(False, description="bf16 autocast (CPU or GPU); weights and optimizer stay fp32.")
    save_steps: int = knob(50, ge=1, description="Checkpoint every N optimizer steps (resume point after a crash).")
    save_total_limit: int = knob(2, ge=1, description="Checkpoints kept per stage (oldest are deleted).")
    logging_steps: int = knob(1, ge=1, description="Loss-log interval in optimizer steps.")
    max_grad_norm: float = Field(1.0, gt=0)
    gradient_checkpointing: bool = knob(False, description="Recompute activations in the backward pass: less memory, same updates.")
    dataloader_workers: int = knob(0, ge=0)
    stage1: StageTrainConfig = Field(default_factory=StageTrainConfig)
    stage2: StageTrainConfig = Field(default_factory=StageTrainConfig)
