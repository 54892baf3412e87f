"""The local OpenAI-compatible test server itself: it must misbehave exactly as asked, and count."""

from __future__ import annotations

import http.client
import subprocess
import sys
import urllib.error
import urllib.request

import orjson
import pytest

from trait.testing.openai_server import FAULTS, Behaviour, OpenAIServer, payload_key, reply_text

BODY = {"model": "m", "messages": [{"role": "user", "content": "2+2?"}], "temperature": 0.5, "top_p": 1.0,
        "max_tokens": 8, "seed": 3}


def post(url: str, body: dict, key: str = "k") -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url + "/chat/completions", data=orjson.dumps(body), method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_reply_is_deterministic_and_counted():
    with OpenAIServer() as srv:
        a = post(srv.url, BODY)
        b = post(srv.url, BODY)
    assert a[0] == 200 and a[2] == b[2]
    data = orjson.loads(a[2])
    assert data["choices"][0]["message"]["content"] == reply_text(BODY)
    assert srv.stats.requests[payload_key(BODY)] == 2 and srv.stats.served[payload_key(BODY)] == 2


@pytest.mark.parametrize("fault", [f for f in FAULTS if f != "hang"])
def test_each_fault_is_what_it_says(fault):
    with OpenAIServer(Behaviour(fault_fn=lambda body, n: fault, retry_after_s=7)) as srv:
        if fault == "truncated":
            with pytest.raises((http.client.IncompleteRead, ConnectionError)):
                post(srv.url, BODY)
            return
        status, headers, raw = post(srv.url, BODY)
    if fault == "429":
        assert status == 429 and headers["Retry-After"] == "7"
    elif fault == "500":
        assert status == 500
    elif fault == "malformed":
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(raw)
    elif fault == "empty_choices":
        assert orjson.loads(raw)["choices"] == []
    elif fault == "length":
        choice = orjson.loads(raw)["choices"][0]
        assert choice["finish_reason"] == "length" and reply_text(BODY).startswith(choice["message"]["content"])
    assert srv.stats.faults[fault] == 1
    assert srv.stats.served[payload_key(BODY)] == (fault == "length")  # a cut reply is still a reply


def test_hang_is_released_when_the_server_stops():
    srv = OpenAIServer(Behaviour(fault_fn=lambda body, n: "hang", hang_s=0.3)).start()
    status, _, _ = post(srv.url, BODY)
    srv.stop()
    assert status == 504


def test_api_key_is_checked():
    with OpenAIServer(Behaviour(api_key="sk-right")) as srv:
        assert post(srv.url, BODY, key="sk-wrong")[0] == 401
        assert post(srv.url, BODY, key="sk-right")[0] == 200
    assert srv.stats.unauthorized == 1


def test_subprocess_mode_serves_and_reports_stats():
    proc = subprocess.Popen([sys.executable, "-m", "trait.testing.openai_server", "--latency", "0.01"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert post(url, BODY)[0] == 200
        with urllib.request.urlopen(url.removesuffix("/v1") + "/_stats", timeout=5) as r:
            stats = orjson.loads(r.read())
        assert stats["total_requests"] == 1 and stats["total_served"] == 1
    finally:
        proc.stdin.close()
        assert proc.wait(10) == 0
