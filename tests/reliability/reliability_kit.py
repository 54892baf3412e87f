"""Shared pieces of the reliability tests: a tiny project folder (corpora, task files, config.yaml),
a keyed local OpenAI-compatible server, and the real ``trait`` CLI run in-process or as a process.
(A module of its own, imported by name: ``conftest`` is ambiguous across test folders.)

The project is small enough that ``trait select`` / ``trait synthesize`` finish in seconds, yet real:
fastText, datatrove, the HTTP LLM path. Replies of the test server lead with the gold hint (the
paragraph prompt is overridden), so passages validate against gold.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from trait.testing import processes
from trait.testing.openai_server import Behaviour, OpenAIServer

SECRET = "sk-reliability-5ecret-0123456789abcdef"
KEY_ENV = "TRAIT_RELIABILITY_KEY"
PROMPTS = {"paragraph": "${hint}Task: $task. $description\nProblem: $problem",
           "hint_answer": "Answer: $answer\n", "hint_solution": "Answer: $answer\n"}
FAST_CLASSIFIER = {"dim": 32, "epoch": 10, "lr": 0.5, "bucket": 20_000, "max_chars": 4000, "min_count": 1}
SRC = Path(__file__).resolve().parents[2] / "src"


def _head(src: Path, n: int) -> list[str]:
    opener = gzip.open if src.suffix == ".gz" else open
    with opener(src, "rt", encoding="utf-8") as fh:
        return [line for line, _ in zip(fh, range(n))]


def write_project(root: Path, example_data: Path, url: str, *, n_general: int = 80) -> Path:
    """Corpora, two task files and ``config.yaml`` under ``root``; returns the config path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "seed.jsonl").write_text("".join(_head(example_data / "math_prose" / "openstax_math.jsonl.gz", 40)))
    (root / "general.jsonl").write_text("".join(_head(example_data / "wikipedia" / "wiki_sample.jsonl.gz",
                                                      n_general)))
    (root / "gsm.jsonl").write_text("".join(_head(example_data / "gsm8k" / "train.jsonl", 6)))
    (root / "sums.jsonl").write_text("".join(
        json.dumps({"id": f"s{i}", "question": f"Tom has {i + 2} apples and buys {i} more. How many?",
                    "answer": 2 * i + 2}) + "\n" for i in range(6)))
    cfg = {"run": "r", "runs_dir": "runs", "seed": 1,
           "data": {"seed_corpus": ["seed.jsonl"], "general_corpus": ["general.jsonl"]},
           "tasks": [{"name": "gsm8k", "train": "gsm.jsonl", "answer_format": "gsm8k",
                      "description": "Grade-school word problems."},
                     {"name": "sums", "train": "sums.jsonl", "id_field": "id", "description": "Apple sums."}],
           # fastText: the default's bootstrap round needs more than these 80 general docs
           "select": {"method": "fasttext", "keep_fraction": 0.2, "classifier": FAST_CLASSIFIER,
                      "dedup": {"minhash": False}},
           "decontaminate": {"enabled": False},
           "llm": {"backend": "openai", "base_url": url, "model": "fake", "api_key_env": KEY_ENV,
                   "max_tokens": 64, "concurrency": 4, "max_retries": 1, "backoff_s": 0.01, "timeout_s": 10},
           "synthesize": {"problems_per_passage": 2, "max_passages": 4, "gold_hints": "answer",
                          "min_paragraph_words": 3, "prompts": PROMPTS, "chunk_passages": 1},
           "train": {"base_model": "tiny-random"}}
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def keyed_server() -> Iterator[OpenAIServer]:
    """A local chat server that answers only ``Bearer SECRET`` (anything else: HTTP 401)."""
    with OpenAIServer(Behaviour(api_key=SECRET)) as srv:
        yield srv


def cli(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run ``trait ARGS`` in-process (typer's CliRunner); returns (exit code, stdout + stderr)."""
    from trait.cli import app

    env = {KEY_ENV: SECRET, **(env or {})}
    res = CliRunner().invoke(app, [str(a) for a in args], env=env)
    # datatrove points loguru at the sys.stderr of the moment (here the runner's, now closed): point
    # it back at the real one, as a fresh process would have it.
    from datatrove.utils.logging import setup_default_logger

    setup_default_logger()
    out = res.stdout + res.stderr
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        out += f"\nTraceback: unhandled {type(res.exception).__name__}: {res.exception}"
    return res.exit_code, out


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error:")]


def trait_process(args: list[str], env: dict[str, str] | None = None, **popen: Any) -> subprocess.Popen:
    """``trait ARGS`` as its own process (``python -m trait.cli``), for tests that kill it."""
    tag = processes.new_tag()  # this run's own tag: its processes can be found after a kill
    full_env = {**os.environ, KEY_ENV: SECRET, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
                **(env or {}), processes.TAG_ENV: tag}
    proc = subprocess.Popen([sys.executable, "-m", "trait.cli", *map(str, args)], env=full_env, **popen)
    proc.trait_tag = tag  # type: ignore[attr-defined]
    return proc


def kill_when(proc: subprocess.Popen, ready: Callable[[], bool], limit_s: float = 240) -> None:
    """SIGKILL ``proc`` the moment ``ready()`` holds (no cleanup runs); fails if it ended first.
    Then every process of the killed run (its pool workers too) must be gone within seconds."""
    try:
        _kill_when(proc, ready, limit_s)
    finally:
        proc.kill()
        proc.wait()
    tag = getattr(proc, "trait_tag", None)
    if tag:
        deadline = time.monotonic() + 10
        while (left := processes.tagged(tag)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not left, f"processes of the killed run still alive: {processes.orphans(tag) or left}"


def _kill_when(proc: subprocess.Popen, ready: Callable[[], bool], limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while not ready():
        if proc.poll() is not None:
            raise AssertionError(f"process ended (rc {proc.returncode}) before the kill point")
        if time.monotonic() > deadline:
            raise AssertionError(f"kill point not reached within {limit_s:g} s")
        time.sleep(0.01)
