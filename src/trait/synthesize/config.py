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
    http_client: Literal["aiohttp", "openai"] = Field(
        "aiohttp", description="How the openai backend sends requests: 'aiohttp' posts the JSON directly "
        "(~0.6 ms client CPU per request with cache and retries); 'openai' goes through the openai SDK's "
        "AsyncOpenAI (~1.4 ms).")
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 512
    concurrency: int = Field(16, ge=1, description="Requests in flight at once (HTTP backends).")
    timeout_s: float = Field(120.0, gt=0, description="Whole-request limit; a hung call counts as a failed try.")
    max_retries: int = Field(5, ge=0, description="Retries per request after the first try (ours, counted).")
    backoff_s: float = Field(1.0, ge=0, description="First retry wait; doubles per try, with jitter.")
    backoff_max_s: float = Field(60.0, ge=0, description="Cap on one retry wait (also on a 429 Retry-After).")
    requests_per_minute: float | None = Field(None, gt=0)
    tokens_per_minute: float | None = Field(None, gt=0, description="Counts prompt estimate + max_tokens.")
    batch_size: int = Field(8, ge=1, description="Prompts per forward pass (local backends).")
    device: str = Field("auto", description="Local backends: 'auto' (cuda if available), 'cpu', 'cuda:0'...")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="Local backends' weights: 'auto' = bfloat16 on GPU, float32 on CPU. On a GPU only "
        "float32 keeps a sample independent of the batch it ran in (so a resumed run regenerates exactly "
        "what an uninterrupted one would); bfloat16 is faster and its samples vary with batching.")
    prices_per_million: dict[str, float] = Field(
        default_factory=dict, description="{'input': $, 'output': $} per million tokens, for cost estimates.")


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
    chunk_passages: int = Field(64, ge=1, description="Passages generated together (one LLM batch per round).")
    rejected_sample: int = Field(50, ge=0, description="Rejected passages kept in rejected.jsonl for inspection.")
    prompts: dict[str, str] = Field(default_factory=dict, description="Override prompt templates by name.")
