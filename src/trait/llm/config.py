"""Settings of the LLM layer (used by synthesis and the relevance judge).

Knobs (``schema.knob``) change how fast calls go or what a cost estimate says, never a result: the
cache key is the request payload alone, so step hashes leave them out.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from trait.llm.backends import BACKENDS, unknown_backend
from trait.schema import Section, knob


class LLMConfig(Section):
    """Which LLM generates passages. API keys are read from ``api_key_env``, never from the config."""

    backend: str = Field("transformers", description=f"One of: {', '.join(BACKENDS)} (see trait/llm/backends.py).")
    model: str = Field("smollm2-135m-instruct", description="Model name (server) or path/alias (local).")
    base_url: str | None = None
    api_key_env: str = knob("OPENAI_API_KEY", description="Environment variable holding the API key.")
    http_client: Literal["aiohttp", "openai"] = knob(
        "aiohttp", description="How the openai backend sends requests: 'aiohttp' posts the JSON directly "
        "(~0.6 ms client CPU per request with cache and retries); 'openai' goes through the openai SDK's "
        "AsyncOpenAI (~1.4 ms).")
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 512
    concurrency: int = knob(16, ge=1, description="Requests in flight at once (HTTP backends).")
    timeout_s: float = knob(120.0, gt=0, description="Whole-request limit; a hung call counts as a failed try.")
    max_retries: int = knob(5, ge=0, description="Retries per request after the first try (ours, counted).")
    backoff_s: float = knob(1.0, ge=0, description="First retry wait; doubles per try, with jitter.")
    backoff_max_s: float = knob(60.0, ge=0, description="Cap on one retry wait (also on a 429 Retry-After).")
    requests_per_minute: float | None = knob(None, gt=0, description="Client-side request rate limit.")
    tokens_per_minute: float | None = knob(None, gt=0, description="Counts prompt estimate + max_tokens.")
    batch_size: int = knob(
        8, ge=1, description="Prompts per forward pass (local backends). Not hashed: in float32 a sample is "
        "the same in any batch, and where it is not (see dtype) the cache, keyed without it, still answers "
        "every completed call.")
    device: str = Field("auto", description="Local backends: 'auto' (cuda if available), 'cpu', 'cuda:0'...")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="Local backends' weights: 'auto' = bfloat16 on GPU, float32 on CPU. On a GPU only "
        "float32 keeps a sample independent of the batch it ran in (so a resumed run regenerates exactly "
        "what an uninterrupted one would); bfloat16 is faster and its samples vary with batching.")
    prices_per_million: dict[str, float] = knob(
        {}, description="{'input': $, 'output': $} per million tokens, for cost estimates.")

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, name: str) -> str:
        if name not in BACKENDS:
            raise ValueError(unknown_backend(name))
        return name
