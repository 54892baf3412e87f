"""Throughput of the OpenAI-compatible LLM layer against a local server with a fixed latency.

The server (a subprocess, so it does not share our GIL) answers every request after ``--latency``
seconds, so with ``--concurrency`` slots the ceiling is ``concurrency / latency`` requests/s. We print
requests/s as a fraction of that ceiling for (a) a minimal raw aiohttp client (what this machine can
do at all: the anchor), (b) the bare ``AsyncOpenAI`` client with a semaphore, (c) ``make_llm``
(cache, retries, accounting, progress bar) with its default aiohttp transport and (d) with
``llm.http_client: openai`` (the SDK under our layer). Goal: (c) >= 90% of the limit.
Both run ``--repeat`` times, interleaved; the best and median are printed, with the client's CPU time
per request (which says how far from CPU-bound the client is on a busy machine).

    python benchmarks/llm_throughput.py --requests 2000 --latency 0.2 --concurrency 64 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openai

from trait.llm import chat_request, make_llm
from trait.llm.config import LLMConfig


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "trait.testing.openai_server", "--latency", str(latency)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise SystemExit("server did not start")
    return proc, url


async def raw_aiohttp(url: str, n: int, concurrency: int, tag: str) -> tuple[float, float]:
    """The anchor: the least a client can do (one POST, one JSON parse): this machine's own ceiling."""
    import aiohttp
    import orjson

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        todo = iter(range(n))

        async def worker() -> None:
            for i in todo:
                body = {"model": "bench", "messages": [{"role": "user", "content": f"{tag}{i}"}], "max_tokens": 16}
                async with session.post(url + "/chat/completions", json=body) as r:
                    orjson.loads(await r.read())

        c0, t0 = cpu_s(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return n / (time.perf_counter() - t0), (cpu_s() - c0) / n * 1000


async def bare_client(url: str, n: int, concurrency: int, tag: str) -> tuple[float, float]:
    """The SDK as most code uses it: ``chat.completions.create``, no cache, no retries, no bookkeeping."""
    client = openai.AsyncOpenAI(base_url=url, api_key="sk-bench", max_retries=0)
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with sem:
            await client.chat.completions.create(model="bench", messages=[{"role": "user", "content": f"{tag}{i}"}],
                                                 max_tokens=16)

    c0, t0 = cpu_s(), time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed, cpu = time.perf_counter() - t0, cpu_s() - c0
    await client.close()
    return n / elapsed, cpu / n * 1000


def trait_layer(url: str, n: int, concurrency: int, tag: str, workdir: Path, http_client: str = "aiohttp"
                ) -> tuple[float, float, dict]:
    cfg = LLMConfig(backend="openai", base_url=url, model="bench", concurrency=concurrency, max_tokens=16,
                    http_client=http_client, prices_per_million={"input": 0.15, "output": 0.6})
    llm = make_llm(cfg, cache_path=workdir / "cache.sqlite", failures_path=workdir / "failures.jsonl")
    reqs = [chat_request(cfg, [("user", f"{tag}{i}")]) for i in range(n)]
    c0, t0 = cpu_s(), time.perf_counter()
    out = llm.generate(reqs, description="benchmark")
    elapsed, cpu = time.perf_counter() - t0, cpu_s() - c0
    stats = llm.stats()
    assert all(not hasattr(r, "reason") for r in out), "benchmark server injects no faults"
    t1 = time.perf_counter()
    llm.generate(reqs, show_progress=False)  # all cache hits now
    stats["rerun_s"] = round(time.perf_counter() - t1, 3)
    llm.close()
    return n / elapsed, cpu / n * 1000, stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n, limit = args.requests, args.concurrency / args.latency
    proc, url = start_server(args.latency)
    runs: dict[str, list[tuple[float, float]]] = {"raw": [], "bare": [], "trait": [], "trait_sdk": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.repeat):
                runs["raw"].append(asyncio.run(raw_aiohttp(url, n, args.concurrency, f"r{r} ")))
                runs["bare"].append(asyncio.run(bare_client(url, n, args.concurrency, f"a{r} ")))
                rate, cpu, _ = trait_layer(url, n, args.concurrency, f"s{r} ", Path(tmp) / f"s{r}", "openai")
                runs["trait_sdk"].append((rate, cpu))
                rate, cpu, stats = trait_layer(url, n, args.concurrency, f"t{r} ", Path(tmp) / str(r))
                runs["trait"].append((rate, cpu))
    finally:
        proc.stdin.close()
        proc.wait(10)
    print(f"limit (concurrency/latency): {limit:.1f} req/s  [{n} requests, {args.concurrency} slots, "
          f"{args.latency * 1000:.0f} ms, {args.repeat} runs each]")
    for name, label in (("raw", "raw aiohttp (anchor)"), ("bare", "bare AsyncOpenAI client"),
                        ("trait", "make_llm (default: aiohttp)"), ("trait_sdk", "make_llm (http_client=openai)")):
        rates = [x for x, _ in runs[name]]
        cpu = statistics.median(c for _, c in runs[name])
        print(f"{label:30s} best {max(rates):6.1f} req/s = {max(rates) / limit:6.1%} of limit; "
              f"median {statistics.median(rates):6.1f} = {statistics.median(rates) / limit:6.1%}; "
              f"client CPU {cpu:.2f} ms/req")
    best = max(x for x, _ in runs["trait"])
    median = statistics.median(x for x, _ in runs["trait"])
    print(f"make_llm (best) / raw aiohttp anchor (best): {best / max(x for x, _ in runs['raw']):.1%}; "
          f"/ bare SDK client: {best / max(x for x, _ in runs['bare']):.1%}")
    print(f"last run: rerun from cache {stats['rerun_s']} s for {n} requests; attempts {stats['attempts']}, "
          f"failed {stats['failed']}, cost ${stats['cost_usd']}")
    print(f"goal >= 90% of limit: {'MET' if median / limit >= 0.9 else 'NOT MET'} (median run, default transport)")


if __name__ == "__main__":
    main()
