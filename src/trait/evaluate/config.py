"""Settings of downstream and general-ability evaluation."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from trait.schema import Section, knob


class EvaluateConfig(Section):
    num_fewshot: int = Field(4, ge=0, description="Few-shot examples per prompt, drawn from the task's train split.")
    fewshot_pool: int = Field(64, ge=1, description="Train items written as the few-shot pool of each task.")
    limit: int | None = Field(50, ge=1, description="Test items per task for lm-eval (None = all).")
    max_gen_tokens: int = Field(256, ge=1)
    task_loss_limit: int | None = Field(100, ge=1, description="Test items per task for the task loss (None = all).")
    perplexity_max_docs: int | None = Field(20, ge=1, description="Held-out general documents (None = all).")
    perplexity_context: int = Field(512, ge=8, description="Tokens per window of the perplexity check.")
    perplexity_stride: int | None = Field(
        None, ge=1, description="New tokens scored per window: smaller = more left context, more compute "
                                "(None = context - 1, windows overlap by one token).")
    perplexity_max_tokens_per_doc: int | None = Field(
        2048, ge=8, description="Truncate each general document to bound CPU time (None = whole document).")
    max_length: int = Field(1024, ge=16, description="Longest prompt + solution scored for the task loss.")
    batch_size: int = knob(4, ge=1, description="Items per forward pass (scores agree across batch sizes up to float rounding).")
    bootstrap_iters: int = Field(1000, ge=0, description="Resamples for loss / perplexity CIs (0 = no CI).")
    confidence: float = Field(0.95, gt=0.0, lt=1.0)
    backend: Literal["hf", "local-completions"] = Field(
        "hf", description="hf: load the model in-process; local-completions: an OpenAI-compatible server.")
    base_url: str | None = Field(None, description="local-completions: e.g. http://localhost:8000/v1/completions.")
    api_model: str | None = Field(None, description="local-completions: the model name the server expects.")
    device: str = "cpu"
    dtype: Literal["float32", "bfloat16", "float16", "auto"] = "float32"
    general_ability: bool = Field(True, description="Measure perplexity on data.heldout_general.")
    task_loss: bool = True
    downstream: bool = Field(True, description="Run the lm-eval few-shot generation tasks.")

    @model_validator(mode="after")
    def _api_needs_url(self) -> EvaluateConfig:
        if self.backend == "local-completions" and not self.base_url:
            raise ValueError("evaluate.base_url is required when evaluate.backend is local-completions")
        return self
