"""Token and cost accounting covers every completed call a step used, including calls an earlier,
interrupted process completed; and the backend registry (a new backend is a class plus one line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trait.config import config_from_dict
from trait.llm import ChatResult, chat_request, make_llm
from trait.llm.backends import BACKENDS
from trait.llm.config import LLMConfig
from trait.testing.openai_server import OpenAIServer

N = 60
PRICES = {"input": 2.0, "output": 8.0}
TOTALS = ("calls", "prompt_tokens", "completion_tokens", "cost_usd", "truncated")


def cfg_for(srv: OpenAIServer) -> LLMConfig:
    return LLMConfig(backend="openai", base_url=srv.url, model="m", concurrency=8, backoff_s=0.01,
                     prices_per_million=PRICES)


def requests(cfg: LLMConfig) -> list:
    return [chat_request(cfg, [("user", "word " * (i % 7) + f"problem {i}")], seed=i) for i in range(N)]


def run(cfg: LLMConfig, cache: Path, reqs: list) -> dict:
    llm = make_llm(cfg, cache_path=cache / "cache.sqlite", failures_path=cache / "failures.jsonl")
    with llm:
        llm.generate(reqs, show_progress=False)
        return llm.stats()


def test_a_resumed_run_reports_the_whole_run(tmp_path):
    with OpenAIServer() as srv:
        cfg = cfg_for(srv)
        reqs = requests(cfg)
        clean = run(cfg, tmp_path / "clean", reqs)
        first = run(cfg, tmp_path / "resumed", reqs[:25])  # the interrupted process got this far
        resumed = run(cfg, tmp_path / "resumed", reqs)
    assert {k: resumed[k] for k in TOTALS} == {k: clean[k] for k in TOTALS}
    assert clean["calls"] == N and clean["cost_usd"] > 0
    assert resumed["cache_hits"] == 25 and resumed["fresh"] == resumed["sent"] == N - 25
    paid = resumed["paid_now"]
    assert paid["calls"] == N - 25
    assert paid["prompt_tokens"] == clean["prompt_tokens"] - first["prompt_tokens"]
    assert paid["completion_tokens"] == clean["completion_tokens"] - first["completion_tokens"]
    assert paid["cost_usd"] == pytest.approx(clean["cost_usd"] - first["cost_usd"])
    assert clean["paid_now"] == {k: clean[k] for k in ("calls", "prompt_tokens", "completion_tokens", "cost_usd")}


def test_each_call_counts_once_however_often_it_is_asked(tmp_path):
    with OpenAIServer() as srv:
        cfg = cfg_for(srv)
        reqs = requests(cfg)
        once = run(cfg, tmp_path / "once", reqs)
        llm = make_llm(cfg, cache_path=tmp_path / "c.sqlite", failures_path=tmp_path / "f.jsonl")
        with llm:
            llm.generate(reqs[:30] + reqs[:30], show_progress=False)
            llm.generate(reqs, show_progress=False)  # the first 30 again, now from the cache
            twice = llm.stats()
    assert {k: twice[k] for k in TOTALS} == {k: once[k] for k in TOTALS}
    assert twice["requests"] == 60 + N and twice["fresh"] == N and twice["cache_hits"] == 0


class EchoBackend:
    """A whole backend: a class taking the config, with ``name``, ``generate`` and ``close``."""

    name = "echo"

    def __init__(self, cfg: LLMConfig) -> None:
        self.cfg = cfg

    def generate(self, requests, on_result=None):
        return [ChatResult(text=r.messages[-1][1], prompt_tokens=3, completion_tokens=2, key=r.key)
                for r in requests]

    def close(self) -> None:
        pass


def test_a_new_backend_is_one_registry_line(tmp_path, monkeypatch):
    monkeypatch.setitem(BACKENDS, "echo", f"{__name__}:EchoBackend")
    cfg = config_from_dict({"data": {"seed_corpus": [], "general_corpus": []}, "llm": {"backend": "echo"}}).llm
    stats = run(cfg.model_copy(update={"prices_per_million": PRICES}), tmp_path, requests(cfg))
    assert stats["backend"] == "echo" and stats["calls"] == N and stats["prompt_tokens"] == 3 * N
    assert stats["cost_usd"] == pytest.approx((3 * 2.0 + 2 * 8.0) * N / 1e6)

