"""Settings of downstream and general-ability evaluation."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from trait.schema import Section, knob


class EvaluateConfig(Section):
    num_fewshot: int = Field(4, ge=0, description="Few-shot examples per prompt, drawn from the task's train split.")
    task_limits: dict[str, int | None] = Field(
        default_factory=dict, description="Per-task override of limit, e.g. {arith: null}: a task whose short "
        "answers are cheap to generate can be scored on every held-out item while long ones stay capped.")
    fewshot_pool: int = Field(64, ge=1, description="Train items written as the few-shot pool of each task.")
    limit: int | None = Field(50, ge=1, description="Test items per task for lm-eval (None = all).")
    max_gen_tokens: int = Field(256, ge=1)
    task_loss_limit: int | None = Field(
        None, ge=1, description="Test items per task for the task loss (None = all: one forward pass per item, "
        "no generation, so every held-out item counts toward the paired comparison; a 2-core CPU takes ~1 s per "
        "item for SmolLM2-135M, so the CPU demo sets a limit).")
    perplexity_max_docs: int | None = Field(
        60, ge=1, description="Held-out general documents (None = all); 60 is about all of WikiText-2's test "
        "articles. Documents are the units the intervals resample: for SmolLM2-135M vs. a 9-step CPT of it "
        "(difference -0.95), the paired 95% CI of the perplexity difference is 0.40 wide from 20 documents and "
        "0.24 from 60; from 3 it misses the 60-document value. About 3 s per 512-token document on 2 CPU cores.")
    perplexity_context: int = Field(512, ge=8, description="Tokens per window of the perplexity check.")
    perplexity_stride: int | None = Field(
        None, ge=1, description="New tokens scored per window: smaller = more left context, more compute "
                                "(None = context - 1, windows overlap by one token).")
    perplexity_max_tokens_per_doc: int | None = Field(
        512, ge=8, description="Truncate each general document to bound CPU time (None = whole document): "
        "60 x 512 tokens costs less than 20 x 2048 and gives the CI three times the documents.")
    max_length: int = Field(1024, ge=16, description="Longest prompt + solution scored for the task loss.")
    batch_size: int = knob(4, ge=1, description="Items per forward pass (scores agree across batch sizes up to float rounding).")
    bootstrap_iters: int = Field(1000, ge=0, description="Resamples for loss / perplexity CIs (0 = no CI).")
    confidence: float = Field(0.95, gt=0.0, lt=1.0)
    backend: Literal["hf", "local-completions"] = Field(
        "hf", description="hf: load the model in-process; local-completions: an OpenAI-compatible server.")
    server: Literal["external", "transformers", "vllm"] = Field(
        "external", description="local-completions: who serves each model. external: your server at base_url "
        "(one model: refused where several arms are evaluated, so one model is never scored under several "
        "names); transformers / vllm: the tool starts `transformers serve` (pip install 'trait[serve]') or "
        "`vllm serve` over each arm's own model on a free local port, and stops it after.")
    server_start_timeout_s: float = knob(600.0, gt=0, description="How long a started server may take to answer.")
    base_url: str | None = Field(None, description="local-completions with server: external, e.g. "
                                 "http://localhost:8000/v1/completions.")
    api_model: str | None = Field(None, description="local-completions: the model name the server expects.")
    lmeval_builtin: dict[str, str] = Field(
        default_factory=dict, description="Also score a task with lm-eval's own built-in task definition (its "
        "prompt, regex filters and metrics), on the same held-out items: {trait task: lm-eval task}, e.g. "
        "{gsm8k: gsm8k}. The items are written in GSM8K's fields (question; answer = worked solution + "
        "'#### <final>'), so it fits gsm8k and its variants. Shots and generation length are this section's "
        "(published GSM8K figures are 5-shot).")
    device: str = "cpu"
    dtype: Literal["float32", "bfloat16", "float16", "auto"] = "float32"
    general_ability: bool = Field(True, description="Measure perplexity on data.heldout_general.")
    task_loss: bool = True
    downstream: bool = Field(True, description="Run the lm-eval few-shot generation tasks.")

    def limit_for(self, task: str) -> int | None:
        """The lm-eval item limit of ``task``: its task_limits entry, else limit."""
        return self.task_limits.get(task, self.limit)

    @model_validator(mode="after")
    def _api_needs_url(self) -> EvaluateConfig:
        if self.backend == "local-completions" and self.server == "external" and not self.base_url:
            raise ValueError("evaluate.base_url is required when evaluate.backend is local-completions and "
                             "evaluate.server is external (or set evaluate.server: transformers or vllm)")
        return self
