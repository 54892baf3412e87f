"""The transports under the OpenAI-compatible backend: proxies from the environment, raw replies."""

from __future__ import annotations

import asyncio

import pytest

from trait.synthesize.llm.http import Unreachable, env_proxy, make_transport
from trait.testing.openai_server import Behaviour, OpenAIServer, reply_text


def test_proxy_comes_from_the_environment_and_no_proxy_is_honoured(monkeypatch):
    for var in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
                "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    assert env_proxy("https://api.openai.com/v1/chat/completions") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "llm.internal")
    assert env_proxy("https://api.openai.com/v1/chat/completions") == "http://proxy.internal:3128"
    assert env_proxy("https://llm.internal/v1/chat/completions") is None
    assert env_proxy("http://10.0.0.5:8000/v1/chat/completions") is None  # no HTTP_PROXY set


@pytest.mark.parametrize("kind", ["aiohttp", "openai"])
def test_both_transports_return_the_same_raw_replies(kind):
    payload = {"model": "m", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 8}

    async def post(url: str, key: str):
        t = make_transport(kind, url, key, 4)
        try:
            return await t.post(payload)
        finally:
            await t.close()

    async def talk(url: str) -> tuple[int, bytes, int, str]:
        ok, bad = await post(url, "sk-right"), await post(url, "sk-wrong")
        return ok.status, ok.body, bad.status, bad.body.decode()

    with OpenAIServer(Behaviour(api_key="sk-right")) as srv:
        status, body, bad_status, bad_body = asyncio.run(talk(srv.url))
    assert status == 200 and reply_text(payload).encode() in body
    assert bad_status == 401 and "sk-right" not in bad_body


@pytest.mark.parametrize("kind", ["aiohttp", "openai"])
def test_a_closed_port_is_unreachable_not_a_timeout(kind):
    with OpenAIServer() as srv:
        url = srv.url
    # the server is stopped: its port now refuses connections

    async def talk() -> None:
        t = make_transport(kind, url, "k", 1)
        try:
            await t.post({"model": "m", "messages": []})
        finally:
            await t.close()

    with pytest.raises(Unreachable, match="Connect call failed"):
        asyncio.run(talk())
