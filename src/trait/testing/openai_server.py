"""A real local HTTP server speaking the OpenAI chat-completions API, with latency and fault injection.

Why: the LLM layer must be tested against real HTTP (timeouts, 429 with Retry-After, 500s, truncated
and malformed bodies) without network access, and benchmarked against a server whose limit is known
(``concurrency / latency``). Replies are a deterministic function of the payload (``reply_text``) so
tests can check outputs, and every payload is counted so tests can assert that nothing is repeated.

Run in a background thread (``OpenAIServer().start()``, shares the GIL with the caller) or as a
subprocess (``python -m trait.testing.openai_server``, prints its URL; counters at ``GET /_stats``).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import socket
import ssl
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

import orjson
from aiohttp import web

FAULTS = ("hang", "429", "500", "truncated", "malformed", "empty_choices", "length")
FaultFn = Callable[[dict[str, Any], int], str | None]


def payload_key(body: dict[str, Any]) -> str:
    """The same hash as ``ChatRequest.key`` over the fields a request sends."""
    fields = {k: body[k] for k in ("model", "messages", "temperature", "top_p", "max_tokens", "seed") if k in body}
    return hashlib.sha256(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)).hexdigest()


def reply_text(body: dict[str, Any]) -> str:
    """The deterministic completion for a payload: tests recompute it to check outputs."""
    last = body["messages"][-1]["content"] if body.get("messages") else ""
    return f"reply {payload_key(body)[:12]} to: {last[:200]}"


def _unit(key: str) -> float:
    return int(key[12:20], 16) / 0xFFFFFFFF


@dataclass
class Behaviour:
    """What the server does. Faults are assigned per payload by a hash, so runs are reproducible."""

    latency_s: float = 0.0
    fault_rates: dict[str, float] = field(default_factory=dict)  # fault kind -> fraction of payloads
    fault_attempts: int = 1  # how many attempts of a faulty payload fail before it is served (big: always)
    retry_after_s: float = 1.0
    hang_s: float = 3600.0
    api_key: str | None = None  # when set, any other bearer token gets 401
    fault_fn: FaultFn | None = None  # (body, attempt number) -> fault kind or None; overrides fault_rates
    reply_fn: Callable[[dict[str, Any]], str] | None = None  # body -> completion text (default reply_text)

    def fault(self, body: dict[str, Any], key: str, attempt: int) -> str | None:
        if self.fault_fn is not None:
            return self.fault_fn(body, attempt)
        if attempt > self.fault_attempts:
            return None
        u, acc = _unit(key), 0.0
        for kind in FAULTS:
            acc += self.fault_rates.get(kind, 0.0)
            if u < acc:
                return kind
        return None


@dataclass
class Stats:
    """Counters a test asserts on: requests per payload, successful replies per payload, peak concurrency."""

    requests: Counter = field(default_factory=Counter)
    served: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)
    arrivals: dict[str, list[float]] = field(default_factory=dict)
    in_flight: int = 0
    peak_in_flight: int = 0
    unauthorized: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"requests": dict(self.requests), "served": dict(self.served), "faults": dict(self.faults),
                "peak_in_flight": self.peak_in_flight, "unauthorized": self.unauthorized,
                "total_requests": sum(self.requests.values()), "total_served": sum(self.served.values())}


def _completion(body: dict[str, Any], key: str, finish: str,
                reply: Callable[[dict[str, Any]], str] = reply_text) -> dict[str, Any]:
    text = reply(body)
    if finish == "length":
        text = text[: max(1, len(text) // 2)]
    prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    return {"id": f"chatcmpl-{key[:16]}", "object": "chat.completion", "created": 0,
            "model": body.get("model", ""),
            "choices": [{"index": 0, "finish_reason": finish,
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(text.split()),
                      "total_tokens": prompt_tokens + len(text.split())}}


class OpenAIServer:
    """``POST /v1/chat/completions`` on 127.0.0.1, a free port, in a background thread."""

    def __init__(self, behaviour: Behaviour | None = None, *, port: int = 0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.behaviour = behaviour or Behaviour()
        self.stats = Stats()
        self.port = port
        self.ssl_context = ssl_context  # serve HTTPS (tests of certificate handling)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{self.port}/v1"

    # ---- request handling -------------------------------------------------------------------
    async def _chat(self, request: web.Request) -> web.StreamResponse:
        b = self.behaviour
        if b.api_key is not None and request.headers.get("Authorization") != f"Bearer {b.api_key}":
            with self._lock:
                self.stats.unauthorized += 1
            return web.json_response({"error": {"message": "Incorrect API key provided",
                                                "type": "invalid_request_error", "code": "invalid_api_key"}},
                                     status=401)
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return web.json_response({"error": {"message": "body is not JSON"}}, status=400)
        key = payload_key(body)
        with self._lock:
            self.stats.requests[key] += 1
            attempt = self.stats.requests[key]
            self.stats.arrivals.setdefault(key, []).append(time.monotonic())
            self.stats.in_flight += 1
            self.stats.peak_in_flight = max(self.stats.peak_in_flight, self.stats.in_flight)
        try:
            fault = b.fault(body, key, attempt)
            if fault:
                with self._lock:
                    self.stats.faults[fault] += 1
            if b.latency_s:
                await asyncio.sleep(b.latency_s)
            return await self._respond(request, body, key, fault)
        finally:
            with self._lock:
                self.stats.in_flight -= 1

    async def _respond(self, request: web.Request, body: dict[str, Any], key: str,
                       fault: str | None) -> web.StreamResponse:
        b = self.behaviour
        if fault == "hang":
            try:
                await asyncio.wait_for(self._stopping.wait(), b.hang_s)
            except TimeoutError:
                pass
            return web.json_response({"error": {"message": "hung"}}, status=504)
        if fault == "429":
            return web.json_response({"error": {"message": "Rate limit reached", "type": "requests"}},
                                     status=429, headers={"Retry-After": f"{b.retry_after_s:g}"})
        if fault == "500":
            return web.json_response({"error": {"message": "internal error"}}, status=500)
        if fault == "malformed":
            return web.Response(body=b'{"id": "x", "choices": [ {"message": oops', content_type="application/json")
        if fault == "empty_choices":
            data = _completion(body, key, "stop")
            data["choices"] = []
            return web.json_response(data)
        data = orjson.dumps(_completion(body, key, "length" if fault == "length" else "stop",
                                   b.reply_fn or reply_text))
        if fault == "truncated":
            # Announce the full length, send half, then drop the connection: a real cut-off body.
            resp = web.StreamResponse(headers={"Content-Type": "application/json",
                                               "Content-Length": str(len(data))})
            await resp.prepare(request)
            await resp.write(data[: len(data) // 2])
            request.transport.close()
            return resp
        with self._lock:
            self.stats.served[key] += 1
        return web.Response(body=data, content_type="application/json")

    async def _stats(self, request: web.Request) -> web.Response:
        with self._lock:
            return web.json_response(self.stats.to_dict())

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "fake", "object": "model"}]})

    # ---- lifecycle --------------------------------------------------------------------------
    async def _serve(self, ready: threading.Event) -> None:
        self._stopping = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/_stats", self._stats)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(1024)
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock, backlog=1024, ssl_context=self.ssl_context).start()
        ready.set()
        await self._stopping.wait()
        await self._runner.cleanup()

    def start(self) -> OpenAIServer:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._serve(ready),),
                                        name="openai-test-server", daemon=True)
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError("test OpenAI server did not start within 30 s")
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(10)
        self._loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Subprocess mode: its own interpreter (and GIL), so a benchmark measures the client, not the server."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--api-key", default=None)
    args = ap.parse_args(argv)
    server = OpenAIServer(Behaviour(latency_s=args.latency, api_key=args.api_key), port=args.port).start()
    print(server.url, flush=True)
    try:
        sys.stdin.read()  # runs until the parent closes our stdin (or kills us)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
