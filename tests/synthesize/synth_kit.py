"""What the synthesis tests over the real test HTTP server share."""

from __future__ import annotations

from pathlib import Path

from trait.llm import make_llm
from trait.llm.config import LLMConfig
from trait.synthesize.rounds import run_jobs


def run_over_http(tmp_path: Path, url: str, jobs) -> dict:
    """Run passage jobs against the OpenAI-compatible test server at ``url``; the LLM layer's stats."""
    llm = make_llm(LLMConfig(backend="openai", base_url=url, model="fake", max_retries=0),
                   cache_path=tmp_path / "cache.sqlite", failures_path=tmp_path / "failures.jsonl")
    try:
        run_jobs(jobs, llm, show_progress=False)
        return llm.stats()
    finally:
        llm.close()
