"""Any OpenAI-compatible chat-completions server (OpenAI, vLLM, SGLang, llama.cpp, Ollama).

Why this shape: a fixed pool of ``concurrency`` workers keeps exactly that many requests in flight
(memory stays flat for a million requests); retries are ours (tenacity, the client's own are off) so
they are bounded and counted, and a 429's Retry-After is obeyed by every worker (the server said it
is over its limit, so the whole pool holds back, not just the request that heard it); rate limits
are aiolimiter buckets.
How a POST travels (aiohttp or the openai SDK) is ``http.py``'s business; every outcome, whichever
transport ran, is mapped to a result, a retry or a fatal error here.
A problem that dooms every request (rejected key, unknown model, no server) stops the run at the
first sign with one ``TraitError`` line instead of failing a thousand requests slowly.
The API key is read from the environment and handed only to the client: it is never in a result,
a failure reason, the cache or a log.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import threading
import time
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any

import orjson
import tenacity as tn
from aiolimiter import AsyncLimiter

from trait.errors import TraitError
from trait.llm.base import ChatRequest, ChatResult, LLMFailure, ProgressFn
from trait.llm.config import LLMConfig
from trait.llm.http import Dropped, Reply, Transport, Unreachable, make_transport

DUMMY_KEY = "sk-local-no-key"  # local servers ignore the key, but the SDK insists on one
LIMIT_WINDOW_S = 10.0


def _limiter(per_minute: float) -> AsyncLimiter:
    """A bucket refilled over 10 s: the rate holds, and a minute's quota never leaves in one burst."""
    window = LIMIT_WINDOW_S if per_minute * LIMIT_WINDOW_S / 60 >= 1 else 60.0
    return AsyncLimiter(per_minute * window / 60, window)


class CallError(Exception):
    """One failed try: ``reason`` is what gets recorded; ``retry`` says whether another try may help."""

    def __init__(self, reason: str, *, retry: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retry, self.retry_after = reason, retry, retry_after


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``retry-after-ms`` / ``Retry-After`` (seconds or an HTTP date), if present."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, when.timestamp() - time.time()) if when else None


class OpenAIBackend:
    """The HTTP backend; ``generate`` is synchronous and runs its own event loop per call."""

    name = "openai"

    def __init__(self, cfg: LLMConfig) -> None:
        self.cfg = cfg
        key = os.environ.get(cfg.api_key_env, "")
        if not key and cfg.base_url is None:
            raise TraitError(f"llm.api_key_env: environment variable {cfg.api_key_env} is not set "
                             "(needed for api.openai.com; set llm.base_url for a local server)")
        self._api_key = key or DUMMY_KEY
        self._where = cfg.base_url or "api.openai.com"
        self.attempts = 0  # tries made, all calls together (retries = attempts - requests)
        self._answered = False  # has the server ever answered? (then a connect error is transient)
        self._hold_until = 0.0  # loop time before which no request is sent (a 429's Retry-After)

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIBackend(base_url={self.cfg.base_url!r}, model={self.cfg.model!r})"

    # ---- public ------------------------------------------------------------------------------
    def generate(self, requests: Sequence[ChatRequest], on_result: ProgressFn | None = None
                 ) -> list[ChatResult | LLMFailure]:
        return _run(self._generate(list(requests), on_result))

    def close(self) -> None:
        pass  # each ``generate`` opens and closes its own client

    # ---- the run -----------------------------------------------------------------------------
    async def _generate(self, requests: list[ChatRequest], on_result: ProgressFn | None
                        ) -> list[ChatResult | LLMFailure]:
        cfg = self.cfg
        results: list[ChatResult | LLMFailure | None] = [None] * len(requests)
        rpm = _limiter(cfg.requests_per_minute) if cfg.requests_per_minute else None
        tpm = _limiter(cfg.tokens_per_minute) if cfg.tokens_per_minute else None
        todo = iter(range(len(requests)))
        workers = min(cfg.concurrency, len(requests))
        transport = make_transport(cfg.http_client, cfg.base_url, self._api_key, workers)
        self._hold_until = 0.0  # each run has its own loop (and clock)

        lost = [0]  # requests in a row that ended unable to connect

        async def worker() -> None:
            for i in todo:  # a shared iterator: each index is taken by exactly one worker
                res = await self._one(transport, requests[i], rpm, tpm)
                results[i] = res
                if on_result is not None:
                    on_result(res)
                lost[0] = lost[0] + 1 if isinstance(res, LLMFailure) and res.kind == "unreachable" else 0
                if lost[0] >= workers:  # the server went away mid-run: stop instead of failing the rest slowly
                    raise TraitError(f"llm.base_url: lost {self._where}: {lost[0]} requests in a row "
                                     f"could not connect after retries ({res.reason})")

        try:
            async with asyncio.TaskGroup() as tg:
                for _ in range(workers):
                    tg.create_task(worker())
        except BaseExceptionGroup as eg:  # one worker's fatal error cancelled the others: surface it alone
            fatal = [e for e in eg.exceptions if isinstance(e, TraitError)]
            raise (fatal or list(eg.exceptions))[0] from None
        finally:
            await transport.close()
        return results  # type: ignore[return-value]

    async def _one(self, transport: Transport, req: ChatRequest, rpm: AsyncLimiter | None,
                   tpm: AsyncLimiter | None) -> ChatResult | LLMFailure:
        tries = 0

        async def attempt() -> ChatResult:
            nonlocal tries
            tries += 1
            self.attempts += 1
            while (hold := self._hold_until - asyncio.get_running_loop().time()) > 0:
                await asyncio.sleep(hold)
            if rpm is not None:
                await rpm.acquire()
            if tpm is not None:
                await tpm.acquire(min(_token_estimate(req), tpm.max_rate))
            return await self._call(transport, req)

        retrying = tn.AsyncRetrying(stop=tn.stop_after_attempt(self.cfg.max_retries + 1), wait=self._wait,
                                    retry=tn.retry_if_exception(lambda e: isinstance(e, CallError) and e.retry),
                                    reraise=True)
        try:
            return await retrying(attempt)
        except CallError as e:
            return LLMFailure(reason=e.reason, attempts=tries, key=req.key)

    def _wait(self, state: tn.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, CallError) and exc.retry_after is not None:
            return min(exc.retry_after, self.cfg.backoff_max_s)
        return tn.wait_random_exponential(multiplier=self.cfg.backoff_s, max=self.cfg.backoff_max_s)(state)

    async def _call(self, transport: Transport, req: ChatRequest) -> ChatResult:
        """One HTTP try, every outcome mapped to a result, a ``CallError`` or a fatal ``TraitError``."""
        try:
            async with asyncio.timeout(self.cfg.timeout_s):
                reply = await transport.post(req.payload())
        except Unreachable as e:
            if not self._answered:
                raise TraitError(f"llm.base_url: cannot reach {self._where} ({e})") from None
            raise CallError(f"unreachable: {e}", retry=True) from None
        except TimeoutError:
            raise CallError(f"timeout: no reply within {self.cfg.timeout_s:g}s", retry=True) from None
        except Dropped as e:
            raise CallError(f"connection: {e}", retry=True) from None
        self._answered = True
        if reply.status != 200:
            raise self._status_error(reply)
        try:
            resp = orjson.loads(reply.body)
        except orjson.JSONDecodeError as e:
            raise CallError(f"malformed response: not JSON ({e})"[:200], retry=True) from None
        return _to_result(resp, req)

    def _status_error(self, reply: Reply) -> Exception:
        code, msg = reply.status, _message(reply.body)
        if code in (401, 403):
            return TraitError(f"llm.api_key_env: {self._where} rejected the key in ${self.cfg.api_key_env} "
                              f"(HTTP {code}: {msg})")
        if code == 404:
            return TraitError(f"llm.model: {self._where} has no chat model {self.cfg.model!r} "
                              f"or no /chat/completions endpoint (HTTP 404: {msg})")
        if code == 429:
            wait = _retry_after(reply.headers)
            if wait is not None:  # hold every worker back, not only this request
                until = asyncio.get_running_loop().time() + min(wait, self.cfg.backoff_max_s)
                self._hold_until = max(self._hold_until, until)
            return CallError(f"rate limited: HTTP 429: {msg}", retry=True, retry_after=wait)
        retry = code >= 500 or code in (408, 409)
        return CallError(f"http {code}: {msg}", retry=retry, retry_after=_retry_after(reply.headers))


def _to_result(resp: Any, req: ChatRequest) -> ChatResult:
    """A chat-completion JSON object to a result; anything unusable is a retryable malformed response."""
    choices = resp.get("choices") if isinstance(resp, dict) else None
    if not choices or not isinstance(choices, list):
        raise CallError("malformed response: no choices", retry=True)
    choice = choices[0] if isinstance(choices[0], dict) else {}
    text = (choice.get("message") or {}).get("content")
    if not isinstance(text, str):
        raise CallError("malformed response: choice has no text content", retry=True)
    usage = resp.get("usage") or {}
    return ChatResult(text=text, key=req.key, finish_reason=str(choice.get("finish_reason") or "stop"),
                      prompt_tokens=int(usage.get("prompt_tokens") or _prompt_estimate(req)),
                      completion_tokens=int(usage.get("completion_tokens") or max(1, len(text) // 4)))


def _message(body: bytes) -> str:
    """The server's own words: ``error.message`` of a JSON error body, else the body's start."""
    try:
        err = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:200].decode("utf-8", "replace")
    if isinstance(err, dict):
        err = err.get("error", err)
        if isinstance(err, dict):
            err = err.get("message", err)
    return str(err)[:200]


def _prompt_estimate(req: ChatRequest) -> int:
    return max(1, sum(len(c) for _, c in req.messages) // 4)  # ~4 characters a token (English)


def _token_estimate(req: ChatRequest) -> int:
    return _prompt_estimate(req) + req.max_tokens


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to the end, also when the caller already runs a loop (then in a helper thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = e

    t = threading.Thread(target=target, name="trait-llm")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
