"""``trait synthesize`` over HTTP SIGKILLed at seeded random points, then rerun: the passages equal an
uninterrupted run's, and no LLM call that had completed (was in the cache) is ever sent again."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

from reliability_kit import SECRET, cli, kill_when, trait_process, write_project

from trait.io import read_json, read_jsonl
from trait.llm import ResultCache
from trait.steps import latest
from trait.testing.openai_server import Behaviour, OpenAIServer

OVERRIDES = ["synthesize.max_passages=6"]  # 12 problems, 2 a passage: 18 calls, one passage at a time


def _cached(cache: Path) -> set[str]:
    if not cache.exists():
        return set()
    c = ResultCache(cache)
    try:
        return c.keys()
    finally:
        c.close()


def _server() -> OpenAIServer:
    return OpenAIServer(Behaviour(api_key=SECRET, latency_s=0.05))


def test_synthesis_killed_twice_resends_nothing_completed_and_gives_the_same_passages(tmp_path, example_data):
    rng = random.Random(6)
    with _server() as srv:
        config = write_project(tmp_path / "killed", example_data, srv.url)
        run = config.parent / "runs" / "r"
        cache = run / "llm_cache.sqlite"
        completed: set[str] = set()
        sent_by_then: dict[str, int] = {}  # for each completed call: how often it had been sent when it completed
        for _ in range(2):
            kill_at = rng.randint(len(completed) + 2, len(completed) + 6)
            proc = trait_process(["synthesize", config, *OVERRIDES],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            kill_when(proc, lambda k=kill_at: len(_cached(cache)) >= k)
            now = _cached(cache)
            assert now >= completed and len(now) >= kill_at
            completed = now
            counts = dict(srv.stats.requests)
            sent_by_then.update({k: counts[k] for k in now if k not in sent_by_then})
            assert latest(run, "synthesize") is None  # killed before SUCCESS: not complete
        rc, out = cli(["synthesize", config, *OVERRIDES])
        assert rc == 0, out[-2000:]
        requests = dict(srv.stats.requests)

    step = latest(run, "synthesize")
    llm = read_json(step / "summary.json")["llm"]
    # a completed call is never sent again (one in flight at the kill is, since its answer was lost)
    assert sent_by_then and all(requests[k] == sent_by_then[k] for k in completed)
    assert llm["cache_hits"] >= len(completed) and llm["sent"] == llm["requests"] - llm["cache_hits"]
    assert 0 < llm["sent"] < llm["requests"]  # really resumed mid-way

    with _server() as fresh:
        clean_config = write_project(tmp_path / "clean", example_data, fresh.url)
        rc, out = cli(["synthesize", clean_config, *OVERRIDES])
        assert rc == 0, out[-2000:]
    clean = latest(clean_config.parent / "runs" / "r", "synthesize")
    got, want = read_jsonl(step / "passages.jsonl"), read_jsonl(clean / "passages.jsonl")
    assert len(want) == 6 and len({p["id"] for p in got}) == len(got)  # no losses, no duplicates
    assert got == want
