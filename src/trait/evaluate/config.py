"""Settings of downstream and general-ability evaluation."""

from __future__ import annotations

from pydantic import Field

from trait.schema import Section


class EvaluateConfig(Section):
    num_fewshot: int = 4
    limit: int | None = Field(50, description="Test items per task (None = all).")
    max_gen_tokens: int = 256
    task_loss_limit: int | None = 100
    perplexity_max_docs: int | None = 20
    batch_size: int = 4
