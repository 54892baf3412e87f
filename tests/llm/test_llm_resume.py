"""A run SIGKILLed mid-way, then rerun: completed calls are never sent again, outputs are the same, and
the rerun's token and cost totals are an uninterrupted run's."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections import Counter

from trait.llm import ChatResult, ResultCache, chat_request, make_llm
from trait.llm.config import LLMConfig
from trait.testing.openai_server import Behaviour, OpenAIServer, reply_text

N = 160
CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from trait.llm.config import LLMConfig
    from trait.llm import chat_request, make_llm
    url, out = sys.argv[1], Path(sys.argv[2])
    cfg = LLMConfig(backend="openai", base_url=url, model="m", concurrency=4, backoff_s=0.01, max_retries=3)
    reqs = [chat_request(cfg, [("user", f"problem {i}")], seed=i) for i in range(int(sys.argv[3]))]
    llm = make_llm(cfg, cache_path=out / "cache.sqlite", failures_path=out / "failures.jsonl")
    llm.generate(reqs, show_progress=False)
    print("finished", flush=True)
""")


def requests(cfg: LLMConfig) -> list:
    return [chat_request(cfg, [("user", f"problem {i}")], seed=i) for i in range(N)]


def wait_for_rows(path, n: int, proc: subprocess.Popen, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"child ended before the kill: {proc.communicate()}")
        if path.exists():
            cache = ResultCache(path)
            rows = len(cache)
            cache.close()
            if rows >= n:
                return
        time.sleep(0.02)
    raise AssertionError(f"cache never reached {n} rows")


def test_killed_run_resumes_without_repeating_completed_calls(tmp_path):
    def fault(body: dict, n: int) -> str | None:
        return "500" if n == 1 and body["seed"] % 7 == 0 else None

    with OpenAIServer(Behaviour(latency_s=0.05, fault_fn=fault)) as srv:
        proc = subprocess.Popen([sys.executable, "-c", CHILD, srv.url, str(tmp_path), str(N)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wait_for_rows(tmp_path / "cache.sqlite", 40, proc)
        finally:
            proc.kill()  # SIGKILL: no cleanup, no flush, no goodbye
            proc.wait()
        cache = ResultCache(tmp_path / "cache.sqlite")
        done_before = cache.keys()
        cache.close()
        sent_before = Counter(srv.stats.requests)
        assert 40 <= len(done_before) < N  # really killed mid-way

        cfg = LLMConfig(backend="openai", base_url=srv.url, model="m", concurrency=16, backoff_s=0.01,
                        prices_per_million={"input": 1.0, "output": 3.0})  # a knob: same cache keys
        reqs = requests(cfg)
        llm = make_llm(cfg, cache_path=tmp_path / "cache.sqlite", failures_path=tmp_path / "failures.jsonl")
        out = llm.generate(reqs, show_progress=False)
        stats = llm.stats()
        llm.close()

        fresh = make_llm(cfg, cache_path=tmp_path / "fresh" / "cache.sqlite",
                         failures_path=tmp_path / "fresh" / "failures.jsonl")
        clean = fresh.generate(reqs, show_progress=False)
        clean_stats = fresh.stats()
        fresh.close()

    assert {q.key for q in reqs} >= done_before
    for key in done_before:  # zero repeated calls for anything that had completed
        assert srv.stats.requests[key] - sent_before[key] == 1  # only the clean run's own call
    assert stats["cache_hits"] == len(done_before) and stats["sent"] == N - len(done_before)
    totals = ("calls", "prompt_tokens", "completion_tokens", "cost_usd")
    assert {k: stats[k] for k in totals} == {k: clean_stats[k] for k in totals} and stats["calls"] == N
    assert stats["paid_now"]["calls"] == N - len(done_before) and stats["paid_now"]["cost_usd"] < stats["cost_usd"]
    assert all(isinstance(r, ChatResult) for r in out)
    assert [r.text for r in out] == [r.text for r in clean] == [reply_text(q.payload()) for q in reqs]
