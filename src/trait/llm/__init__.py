"""The LLM layer: one small protocol (``base``), backends (``backends.BACKENDS``), a cache in front of them.

Stages call ``make_llm(cfg.llm, cache_path=..., failures_path=...)`` and then ``generate(requests)``;
``chat_request`` builds a request with the configured model and sampling settings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trait.llm.backends import backend_class
from trait.llm.base import LLM, ChatRequest, ChatResult, LLMFailure, ProgressFn
from trait.llm.cache import ResultCache
from trait.llm.cached import CachedLLM
from trait.llm.config import LLMConfig

__all__ = ["LLM", "CachedLLM", "ChatRequest", "ChatResult", "LLMFailure", "ProgressFn", "ResultCache",
           "chat_request", "make_backend", "make_llm", "parse_verdict"]

_VERDICT = re.compile(r"\b(yes|no)\b", re.IGNORECASE)


def make_backend(cfg: LLMConfig) -> LLM:
    """The configured backend (heavy imports happen here, lazily; models load on first use)."""
    return backend_class(cfg.backend)(cfg)


def make_llm(cfg: LLMConfig, *, cache_path: Path, failures_path: Path) -> CachedLLM:
    """The configured backend behind the sqlite result cache (what every stage should use)."""
    return CachedLLM(make_backend(cfg), ResultCache(cache_path), failures_path, model=cfg.model,
                     prices_per_million=cfg.prices_per_million)


def chat_request(cfg: LLMConfig, messages: Sequence[tuple[str, str]], *, seed: int | None = None,
                 meta: dict[str, Any] | None = None) -> ChatRequest:
    """A request with the configured model and sampling settings (all part of the cache key)."""
    return ChatRequest(model=cfg.model, messages=tuple((r, c) for r, c in messages),
                       temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=cfg.max_tokens, seed=seed,
                       meta=dict(meta or {}))


def parse_verdict(reply: str) -> int | None:
    """1 for yes, 0 for no: the first of the two words in the reply's first 80 characters, else None."""
    found = _VERDICT.search(reply[:80])
    return None if found is None else int(found.group(1).lower() == "yes")
