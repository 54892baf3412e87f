"""The OpenAI-compatible backend against a real local HTTP server that misbehaves on purpose."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from trait.errors import TraitError
from trait.llm import ChatResult, LLMFailure, chat_request, make_llm
from trait.llm.config import LLMConfig
from trait.testing.openai_server import Behaviour, OpenAIServer, reply_text

KEY_ENV = "TRAIT_TEST_LLM_KEY"
SECRET = "sk-test-5ecret-do-not-leak-0123456789"
HTTP_CLIENT = {"name": "aiohttp"}


@pytest.fixture(autouse=True, params=["aiohttp", "openai"])
def http_client(request, monkeypatch):
    """Every test runs over both transports: outcomes must not depend on how the POST travelled."""
    monkeypatch.setitem(HTTP_CLIENT, "name", request.param)
    return request.param


def cfg_for(server: OpenAIServer, **kw) -> LLMConfig:
    base = {"backend": "openai", "base_url": server.url, "model": "fake-model", "api_key_env": KEY_ENV,
            "http_client": HTTP_CLIENT["name"],
            "concurrency": 8, "timeout_s": 2.0, "max_retries": 3, "backoff_s": 0.01, "backoff_max_s": 0.05,
            "max_tokens": 32}
    return LLMConfig(**{**base, **kw})


def requests_for(cfg: LLMConfig, n: int, tag: str = "q") -> list:
    return [chat_request(cfg, [("system", "be brief"), ("user", f"{tag} {i}")], seed=i) for i in range(n)]


def llm_for(cfg: LLMConfig, tmp_path: Path):
    return make_llm(cfg, cache_path=tmp_path / "cache.sqlite", failures_path=tmp_path / "failures.jsonl")


def failures(tmp_path: Path) -> list[dict]:
    path = tmp_path / "failures.jsonl"
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


def test_completes_despite_every_kind_of_fault(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    rates = {"hang": .06, "429": .1, "500": .1, "truncated": .08, "malformed": .08, "empty_choices": .08}
    behaviour = Behaviour(fault_rates=rates, fault_attempts=1, retry_after_s=0.05, api_key=SECRET)
    with OpenAIServer(behaviour) as srv:
        cfg = cfg_for(srv, timeout_s=2.0)  # a hang times out; a healthy reply on a busy machine does not
        reqs = requests_for(cfg, 120)
        llm = llm_for(cfg, tmp_path)
        out = llm.generate(reqs, show_progress=False)
        stats = llm.stats()
        llm.close()
    assert all(isinstance(r, ChatResult) for r in out), [r for r in out if isinstance(r, LLMFailure)][:3]
    assert [r.text for r in out] == [reply_text(q.payload()) for q in reqs]
    faulted = sum(srv.stats.faults.values())
    assert set(srv.stats.faults) == set(rates) and faulted > 20  # every fault kind really happened
    assert stats["fresh"] == stats["calls"] == 120 and stats["failed"] == 0
    # Client and server agree on every attempt; each fault cost one retry (a reply slower than the
    # timeout on a loaded machine may cost one more, never a duplicate answer).
    assert stats["attempts"] == srv.stats.to_dict()["total_requests"] >= 120 + faulted
    assert max(srv.stats.requests.values()) <= 1 + cfg.max_retries
    assert max(srv.stats.served.values()) == 1 and srv.stats.unauthorized == 0


def test_retries_are_bounded_and_failures_recorded_without_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    doomed = {"q 1": "500", "q 2": "malformed", "q 3": "hang", "q 4": "empty_choices"}

    def fault(body, attempt):
        return doomed.get(body["messages"][-1]["content"])

    with OpenAIServer(Behaviour(fault_fn=fault, api_key=SECRET)) as srv:
        cfg = cfg_for(srv, max_retries=2, timeout_s=0.3)
        reqs = requests_for(cfg, 8)
        llm = llm_for(cfg, tmp_path)
        out = llm.generate(reqs, show_progress=False)
        stats = llm.stats()
        llm.close()
    bad = {i for i, r in enumerate(out) if isinstance(r, LLMFailure)}
    assert bad == {1, 2, 3, 4}
    for i in bad:
        assert srv.stats.requests[reqs[i].key] == 3 and out[i].attempts == 3  # 1 try + max_retries
    assert [out[i].kind for i in (1, 2, 3, 4)] == ["http 500", "malformed response", "timeout", "malformed response"]
    recorded = failures(tmp_path)
    assert {f["key"] for f in recorded} == {reqs[i].key for i in bad}
    assert all(f["reason"] and f["attempts"] == 3 for f in recorded)
    assert stats["failed"] == 4 and stats["failure_reasons"] == {"http 500": 1, "malformed response": 2, "timeout": 1}
    for path in tmp_path.rglob("*"):  # cache, its WAL, the failures file: the key is in none of them
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_failures_are_retried_by_the_next_run_not_replayed(tmp_path):
    broken = {"on": True}
    with OpenAIServer(Behaviour(fault_fn=lambda body, n: "500" if broken["on"] and "q 0" in str(body) else None)
                      ) as srv:
        cfg = cfg_for(srv, max_retries=0)
        reqs = requests_for(cfg, 3)
        first = llm_for(cfg, tmp_path).generate(reqs, show_progress=False)
        assert isinstance(first[0], LLMFailure) and all(isinstance(r, ChatResult) for r in first[1:])
        broken["on"] = False
        llm = llm_for(cfg, tmp_path)
        second = llm.generate(reqs, show_progress=False)
        assert [r.text for r in second] == [reply_text(q.payload()) for q in reqs]
        assert [r.cached for r in second] == [False, True, True]
        assert llm.stats()["cache_hits"] == 2 and llm.stats()["sent"] == 1
        assert srv.stats.requests[reqs[0].key] == 2 and srv.stats.requests[reqs[1].key] == 1


def test_retry_after_is_honoured(tmp_path):
    with OpenAIServer(Behaviour(fault_fn=lambda body, n: "429" if n == 1 else None, retry_after_s=0.6)) as srv:
        cfg = cfg_for(srv, backoff_s=0.01, backoff_max_s=5)
        reqs = requests_for(cfg, 3)
        out = llm_for(cfg, tmp_path).generate(reqs, show_progress=False)
    assert all(isinstance(r, ChatResult) for r in out)
    for q in reqs:
        first, second = srv.stats.arrivals[q.key]
        assert 0.6 <= second - first < 1.5  # waited what the server asked, not the 10 ms backoff


def test_a_429_holds_back_every_worker_for_its_retry_after(tmp_path):
    def fault(body, n):  # one request in the middle of the run is told to back off
        return "429" if body["messages"][-1]["content"] == "q 10" and n == 1 else None

    latency, wait = 0.05, 0.5
    with OpenAIServer(Behaviour(fault_fn=fault, retry_after_s=wait, latency_s=latency)) as srv:
        cfg = cfg_for(srv, concurrency=4, backoff_s=0.01, backoff_max_s=5)
        reqs = requests_for(cfg, 40)
        out = llm_for(cfg, tmp_path).generate(reqs, show_progress=False)
    assert all(isinstance(r, ChatResult) for r in out)
    told = srv.stats.arrivals[reqs[10].key][0] + latency  # when the 429 left the server
    during = [t for times in srv.stats.arrivals.values() for t in times if told + 0.03 < t < told + wait - 0.03]
    assert during == []  # nobody kept sending while the server said to wait
    after = [t for times in srv.stats.arrivals.values() for t in times if t >= told + wait - 0.03]
    assert len(after) >= 20  # and the run went on afterwards


def test_length_finish_is_a_cached_result(tmp_path):
    with OpenAIServer(Behaviour(fault_fn=lambda body, n: "length")) as srv:
        cfg = cfg_for(srv)
        llm = llm_for(cfg, tmp_path)
        out = llm.generate(requests_for(cfg, 2), show_progress=False)
        assert [r.finish_reason for r in out] == ["length", "length"]
        assert llm.generate(requests_for(cfg, 2), show_progress=False)[0].cached
        assert llm.stats()["truncated"] == 2


def test_concurrency_is_bounded_and_used(tmp_path):
    with OpenAIServer(Behaviour(latency_s=0.1)) as srv:
        cfg = cfg_for(srv, concurrency=6)
        llm_for(cfg, tmp_path).generate(requests_for(cfg, 36), show_progress=False)
    # Every slot used at once, never more (how fast that is: benchmarks/llm_throughput.py, not a test).
    assert srv.stats.peak_in_flight == 6


def test_requests_per_minute_limit(tmp_path):
    with OpenAIServer() as srv:
        cfg = cfg_for(srv, requests_per_minute=600)  # 100 per 10 s bucket, then 10/s
        t0 = time.perf_counter()
        llm_for(cfg, tmp_path).generate(requests_for(cfg, 115), show_progress=False)
        elapsed = time.perf_counter() - t0
    assert 1.3 <= elapsed < 30  # 15 requests past the bucket at 10/s (the bound: not stuck)


def test_tokens_per_minute_limit(tmp_path):
    tpm, n, cost = 6000, 28, 40  # a 1000-token bucket refilled at 100 tokens/s; 40 tokens a request
    with OpenAIServer() as srv:
        cfg = cfg_for(srv, tokens_per_minute=tpm, max_tokens=cost - 1, concurrency=8)
        reqs = [chat_request(cfg, [("user", f"q {i:03d}")], seed=i) for i in range(n)]  # prompt estimate: 1
        t0 = time.perf_counter()
        out = llm_for(cfg, tmp_path).generate(reqs, show_progress=False)
        elapsed = time.perf_counter() - t0
    assert all(isinstance(r, ChatResult) for r in out)
    bucket, rate = tpm / 6, tpm / 60
    assert 0.9 * (n * cost - bucket) / rate <= elapsed < 30  # 120 tokens past the bucket at 100/s: >= 1.2 s
    arrivals = sorted(t for times in srv.stats.arrivals.values() for t in times)
    for k, t in enumerate(arrivals, 1):  # no stretch of the run sent more than the bucket plus its refill
        assert k * cost <= bucket + rate * (t - arrivals[0]) + cost


def test_duplicate_requests_are_sent_once(tmp_path):
    with OpenAIServer() as srv:
        cfg = cfg_for(srv)
        reqs = requests_for(cfg, 4)
        out = llm_for(cfg, tmp_path).generate(reqs + reqs, show_progress=False)
    assert [r.text for r in out[:4]] == [r.text for r in out[4:]]
    assert sum(srv.stats.requests.values()) == 4


def test_wrong_key_fails_fast_with_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-wrong")
    with OpenAIServer(Behaviour(api_key=SECRET)) as srv:
        cfg = cfg_for(srv, concurrency=4)
        with pytest.raises(TraitError, match=f"rejected the key in \\${KEY_ENV} \\(HTTP 401") as e:
            llm_for(cfg, tmp_path).generate(requests_for(cfg, 500), show_progress=False)
    assert "sk-wrong" not in str(e.value) and "\n" not in str(e.value)
    assert srv.stats.unauthorized <= 4  # stopped at the first answer, not after 500 requests


def test_unreachable_server_fails_fast(tmp_path):
    with OpenAIServer() as srv:
        url = srv.url
    cfg = LLMConfig(backend="openai", base_url=url, model="m", max_retries=5, backoff_s=1.0)
    t0 = time.perf_counter()
    with pytest.raises(TraitError, match="cannot reach"):
        llm_for(cfg, tmp_path).generate(requests_for(cfg, 50), show_progress=False)
    assert time.perf_counter() - t0 < 15  # no backoff rounds (those would take 1+2+4+8+16 = 31 s)


def test_wrong_endpoint_is_one_clear_error(tmp_path):
    with OpenAIServer() as srv:
        cfg = cfg_for(srv, base_url=srv.url.removesuffix("/v1"))  # forgot the /v1: 404 everywhere
        with pytest.raises(TraitError, match="HTTP 404"):
            llm_for(cfg, tmp_path).generate(requests_for(cfg, 20), show_progress=False)


def test_missing_key_for_the_real_api_is_an_error(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(TraitError, match=KEY_ENV):
        make_llm(LLMConfig(backend="openai", model="gpt-4o-mini", api_key_env=KEY_ENV),
                 cache_path=Path("unused.sqlite"), failures_path=Path("unused.jsonl"))


def test_a_hung_first_call_is_a_timeout_not_an_unreachable_server(tmp_path):
    with OpenAIServer(Behaviour(fault_fn=lambda body, n: "hang" if n == 1 else None)) as srv:
        cfg = cfg_for(srv, timeout_s=0.3)
        t0 = time.perf_counter()
        out = llm_for(cfg, tmp_path).generate(requests_for(cfg, 1), show_progress=False)
    assert isinstance(out[0], ChatResult) and time.perf_counter() - t0 >= 0.3
    assert srv.stats.requests[out[0].key] == 2


def test_server_lost_mid_run_stops_the_run_and_keeps_what_completed(tmp_path):
    srv = OpenAIServer().start()
    cfg = cfg_for(srv, concurrency=2, max_retries=1)
    llm = llm_for(cfg, tmp_path)
    seen = []

    def on_result(res) -> None:
        seen.append(res)
        if len(seen) == 10:
            srv.stop()  # the server dies under the run

    with pytest.raises(TraitError, match="lost .* requests in a row could not connect") as err:
        llm.generate(requests_for(cfg, 200), on_result=on_result, show_progress=False)
    assert "Connect call failed" in str(err.value)  # the real cause, not an unrelated library error
    ok = [r for r in seen if isinstance(r, ChatResult)]
    assert len(ok) >= 10 and len(seen) < 20  # stopped within a few requests, not after 190 failures
    assert len(llm.cache) == len(ok)
