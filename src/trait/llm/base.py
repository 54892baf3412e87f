"""The one small protocol every generator backend speaks.

A ``ChatRequest`` is the full payload (model, messages, sampling); its ``key`` is the cache key, so
anything that changes the output changes the key. Backends turn requests into ``ChatResult``s, or
``LLMFailure``s that say why (recorded, never raised for one bad request).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import orjson


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    messages: tuple[tuple[str, str], ...]  # (role, content) pairs: hashable and order-stable
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 512
    seed: int | None = None  # also distinguishes regeneration attempts of the same prompt
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)  # not sent, not hashed

    def payload(self) -> dict[str, Any]:
        """What is sent (and hashed): never includes credentials."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": r, "content": c} for r, c in self.messages],
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
        }
        if self.seed is not None:
            body["seed"] = self.seed
        return body

    @property
    def key(self) -> str:
        return hashlib.sha256(orjson.dumps(self.payload(), option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(slots=True)
class ChatResult:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"  # "length": cut at max_tokens (a result, cached; callers decide)
    cached: bool = False
    key: str = ""  # the request's key, so streaming callbacks can tell which request this answers

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class LLMFailure:
    reason: str  # "<kind>: <detail>", e.g. "timeout: no reply within 30s"; kind is counted in stats
    attempts: int = 1
    key: str = ""

    @property
    def kind(self) -> str:
        return self.reason.split(":", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


ProgressFn = Callable[[ChatResult | LLMFailure], None]


class LLM(Protocol):
    """A generator: many requests in, one result or failure per request out, in order.

    ``on_result`` is called once per result as it completes (any order; from the calling thread).
    A problem that dooms every request (bad API key, unreachable server) raises ``TraitError``.
    """

    name: str

    def generate(self, requests: Sequence[ChatRequest], on_result: ProgressFn | None = None
                 ) -> list[ChatResult | LLMFailure]: ...

    def close(self) -> None: ...
