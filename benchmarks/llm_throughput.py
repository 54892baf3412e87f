"""Throughput of the OpenAI-compatible LLM layer against a local server with a fixed latency.

The server (a subprocess, so it does not share our GIL) answers every request after ``--latency``
seconds, so with ``--concurrency`` slots the ceiling is ``concurrency / latency`` requests/s. We print
requests/s as a fraction of that ceiling for (a) the bare ``AsyncOpenAI`` client with a semaphore,
the anchor, and (b) ``make_llm`` (cache, retries, accounting, failure file). Goal: (b) >= 90%.

    python benchmarks/llm_throughput.py --requests 2000 --latency 0.2 --concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openai

from trait.synthesize.config import LLMConfig
from trait.synthesize.llm import chat_request, make_llm


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "trait.testing.openai_server", "--latency", str(latency)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise SystemExit("server did not start")
    return proc, url


async def bare_client(url: str, n: int, concurrency: int, tag: str) -> float:
    """The anchor: the plain client, no cache, no retries, no bookkeeping."""
    client = openai.AsyncOpenAI(base_url=url, api_key="sk-bench", max_retries=0)
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with sem:
            await client.chat.completions.create(model="bench", messages=[{"role": "user", "content": f"{tag}{i}"}],
                                                 max_tokens=16)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - t0
    await client.close()
    return n / elapsed


def trait_layer(url: str, n: int, concurrency: int, tag: str, workdir: Path) -> tuple[float, dict]:
    cfg = LLMConfig(backend="openai", base_url=url, model="bench", concurrency=concurrency, max_tokens=16,
                    prices_per_million={"input": 0.15, "output": 0.6})
    llm = make_llm(cfg, cache_path=workdir / "cache.sqlite", failures_path=workdir / "failures.jsonl")
    reqs = [chat_request(cfg, [("user", f"{tag}{i}")]) for i in range(n)]
    t0 = time.perf_counter()
    out = llm.generate(reqs, show_progress=False)
    elapsed = time.perf_counter() - t0
    stats = llm.stats()
    assert all(not hasattr(r, "reason") for r in out), "benchmark server injects no faults"
    t1 = time.perf_counter()
    llm.generate(reqs, show_progress=False)  # all cache hits now
    stats["rerun_s"] = round(time.perf_counter() - t1, 3)
    llm.close()
    return n / elapsed, stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, default=64)
    args = ap.parse_args()
    limit = args.concurrency / args.latency
    proc, url = start_server(args.latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            anchor = asyncio.run(bare_client(url, args.requests, args.concurrency, "anchor "))
            ours, stats = trait_layer(url, args.requests, args.concurrency, "trait ", Path(tmp))
    finally:
        proc.stdin.close()
        proc.wait(10)
    print(f"limit (concurrency/latency): {limit:.1f} req/s  [{args.requests} requests, "
          f"{args.concurrency} slots, {args.latency * 1000:.0f} ms]")
    print(f"bare AsyncOpenAI client:     {anchor:.1f} req/s = {anchor / limit:.1%} of limit")
    print(f"make_llm (cache+retries):    {ours:.1f} req/s = {ours / limit:.1%} of limit "
          f"({ours / anchor:.1%} of the bare client)")
    print(f"rerun from cache: {stats['rerun_s']} s for {args.requests} requests; "
          f"attempts {stats['attempts']}, failed {stats['failed']}, cost ${stats['cost_usd']}")
    print(f"goal >= 90% of limit: {'MET' if ours / limit >= 0.9 else 'NOT MET'}")


if __name__ == "__main__":
    main()
