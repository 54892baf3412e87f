"""Settings of the LLM layer and of task-oriented passage synthesis."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from trait.schema import Section


class LLMConfig(Section):
    """Which LLM generates passages. API keys are read from ``api_key_env``, never from the config."""

    backend: Literal["openai", "transformers", "vllm"] = "transformers"
    model: str = Field("smollm2-135m-instruct", description="Model name (server) or path/alias (local).")
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 512
    concurrency: int = 16
    timeout_s: float = 120.0
    max_retries: int = 5
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    batch_size: int = 8
    prices_per_million: dict[str, float] = Field(
        default_factory=dict, description="{'input': $, 'output': $} per million tokens, for cost estimates.")


class SynthesizeConfig(Section):
    problems_per_passage: int = Field(3, ge=1)
    uses_per_problem: int = Field(1, ge=1)
    max_passages: int | None = None
    gold_hints: Literal["none", "answer", "solution"] = "solution"
    max_regenerations: int = Field(2, ge=0)
    prompts: dict[str, str] = Field(default_factory=dict, description="Override prompt templates by name.")
