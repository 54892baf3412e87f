"""How one chat-completions POST reaches the server: two interchangeable transports.

Why two: the ``openai`` SDK builds each request through pydantic options, httpx models and header
merging, ~1.7 ms of CPU per request; at a few hundred requests/s that alone keeps a fast local server
(vLLM, SGLang) from being saturated. ``aiohttp`` posts the same JSON body for ~0.2 ms (``llm.http_client``:
'aiohttp', the default). 'openai' goes through ``AsyncOpenAI`` for whoever needs the SDK's own behaviour.
Both hand back the raw reply (status, headers, body) or raise ``Unreachable`` / ``Dropped``, so the
backend maps outcomes to retries and errors in one place, whichever transport ran.
"""

from __future__ import annotations

import os
import socket
import ssl
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import orjson

from trait import __version__

OPENAI_URL = "https://api.openai.com/v1"


@dataclass(slots=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes


class Unreachable(Exception):
    """The server could not be reached at all (refused, DNS, no answer to connect)."""


class Dropped(Exception):
    """The server was reached but the reply never arrived whole (reset, cut-off body)."""


class Transport(Protocol):
    async def post(self, payload: dict[str, Any]) -> Reply: ...

    async def close(self) -> None: ...


def _cause(exc: BaseException) -> str:
    """The innermost explicit cause: 'ConnectError: ...' says more than the SDK's 'Connection error.'.
    Only ``raise ... from`` links: an implicit ``__context__`` is often an unrelated error handled
    earlier inside the library."""
    inner = _chain(exc)[-1]
    return f"{type(inner).__name__}: {inner}"[:200]


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(out) < 20:
        out.append(seen)
        seen = seen.__cause__
    return out


class AiohttpTransport:
    """A POST of the JSON body with a bearer token: all that an OpenAI-compatible server needs."""

    def __init__(self, base_url: str | None, api_key: str, connections: int) -> None:
        self._url = (base_url or OPENAI_URL).rstrip("/") + "/chat/completions"
        self._headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json",
                         "Accept": "application/json", "User-Agent": f"trait/{__version__}"}
        self._proxy = env_proxy(self._url)
        # Timeouts are the backend's (one asyncio.timeout over the whole try). The proxy is looked up
        # once: aiohttp's trust_env would do it (and a netrc read) in a thread for every request.
        tls = ssl_context() if self._url.startswith("https:") else None
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections, ttl_dns_cache=300, ssl=tls or True),
            timeout=aiohttp.ClientTimeout(total=None))

    async def post(self, payload: dict[str, Any]) -> Reply:
        try:
            async with self._session.post(self._url, data=orjson.dumps(payload), headers=self._headers,
                                          proxy=self._proxy) as r:
                return Reply(r.status, r.headers, await r.read())
        except aiohttp.ClientConnectorError as e:  # refused, DNS, connect failed
            raise Unreachable(f"{type(e).__name__}: {e}"[:200]) from None
        except (aiohttp.ClientError, ConnectionError) as e:  # reset, disconnected, cut-off payload
            raise Dropped(f"{type(e).__name__}: {e}"[:200]) from None

    async def close(self) -> None:
        await self._session.close()


def ssl_context() -> ssl.SSLContext:
    """Trusted CAs as httpx finds them: SSL_CERT_FILE / SSL_CERT_DIR when set (a corporate CA), else
    certifi's bundle (many containers have no system store), else the system's."""
    cafile, capath = os.environ.get("SSL_CERT_FILE") or None, os.environ.get("SSL_CERT_DIR") or None
    if cafile is None and capath is None:
        try:
            import certifi

            cafile = certifi.where()
        except ImportError:
            pass
    return ssl.create_default_context(cafile=cafile, capath=capath)


def env_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url`` (HTTPS_PROXY / HTTP_PROXY, minus NO_PROXY), as httpx does."""
    parts = urllib.parse.urlsplit(url)
    if parts.hostname is None or urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme)


class SDKTransport:
    """The same POST through ``openai.AsyncOpenAI`` (its retries off: ours count and bound them)."""

    def __init__(self, base_url: str | None, api_key: str, connections: int) -> None:
        import openai

        self._openai = openai
        # The backend's asyncio.timeout bounds each try; the SDK's own timeout is only a backstop.
        # ``connections`` is not needed: the SDK's pool (1,000) is larger than any concurrency here.
        self._client = openai.AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=600.0,
                                          http_client=_sdk_http_client(openai))

    async def post(self, payload: dict[str, Any]) -> Reply:
        openai = self._openai
        try:
            raw = await self._client.post("/chat/completions", body=payload, cast_to=bytes)
        except openai.APIStatusError as e:
            return Reply(e.status_code, e.response.headers, e.response.content)
        except openai.APIConnectionError as e:  # APITimeoutError too: a refused connect may come as one
            if _is_connect_error(e):
                raise Unreachable(_cause(e)) from None
            if isinstance(e, openai.APITimeoutError):
                raise TimeoutError from None
            raise Dropped(_cause(e)) from None
        return Reply(200, {}, raw)

    async def close(self) -> None:
        await self._client.close()


def _sdk_http_client(openai: Any) -> Any:
    """aiohttp under the SDK where it ships it (half httpx's CPU per request), else the SDK's default."""
    aio = getattr(openai, "DefaultAioHttpClient", None)
    try:
        return aio() if aio is not None else None
    except RuntimeError:  # the SDK's aiohttp extra is not installed
        return None


_CONNECT_ERRORS = {"ConnectError", "ConnectTimeout", "ClientConnectorError", "ClientConnectorDNSError"}


def _is_connect_error(exc: BaseException) -> bool:
    """Names, not classes: the SDK's transport (httpx or aiohttp) varies by version."""
    return any(type(e).__name__ in _CONNECT_ERRORS or isinstance(e, (ConnectionRefusedError, socket.gaierror))
               for e in _chain(exc))


TRANSPORTS: dict[str, Any] = {"aiohttp": AiohttpTransport, "openai": SDKTransport}


def make_transport(kind: str, base_url: str | None, api_key: str, connections: int) -> Transport:
    return TRANSPORTS[kind](base_url, api_key, connections)
