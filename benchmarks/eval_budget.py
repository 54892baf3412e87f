"""Wall time and figures of one model's evaluation, part by part, to size the demo's budget.

    python benchmarks/eval_budget.py [model] [key=value overrides...]

Default: SmolLM2-135M on 20 items per task of the math example, 4-shot, + WikiText-2 perplexity.
Prints one line per part (wall and CPU seconds) and the results table.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from trait.config import load_config
from trait.evaluate.results import evaluate_model
from trait.models import resolve_model

REPO = Path(__file__).resolve().parents[1]
DEFAULTS = ["evaluate.limit=20", "evaluate.num_fewshot=4", "evaluate.task_loss_limit=20",
            "evaluate.max_gen_tokens=160", "evaluate.batch_size=8", "evaluate.perplexity_max_docs=10",
            "evaluate.perplexity_max_tokens_per_doc=1024", "evaluate.perplexity_context=512"]
# Cheapest first: on a shared machine the likelihood metrics report before generation does.
PARTS = {"task_loss": "task_loss", "perplexity": "general_ability", "lm-eval": "downstream"}


def main(argv: list[str]) -> None:
    model = argv[0] if argv else "smollm2-135m"
    cfg = load_config(REPO / "examples" / "math" / "config.yaml", DEFAULTS + argv[1:])
    t0 = time.perf_counter()
    path = resolve_model(model)
    print(f"resolve {model}: {time.perf_counter() - t0:.1f}s -> {path}", flush=True)
    out = REPO / "runs" / "eval-budget" / Path(model).name
    rows = []
    cfg.evaluate.downstream = cfg.evaluate.task_loss = cfg.evaluate.general_ability = False
    for part, flag in PARTS.items():  # parts are cached separately: each call computes one more part
        setattr(cfg.evaluate, flag, True)
        t, c = time.perf_counter(), time.process_time()
        rows = evaluate_model(cfg, path, Path(model).name, out)
        print(f"{part}: wall {time.perf_counter() - t:.1f}s, cpu {time.process_time() - c:.1f}s", flush=True)
    print(f"total: wall {time.perf_counter() - t0:.1f}s, cpu {time.process_time():.1f}s "
          f"(cpu = all threads; on a busy machine it is the better guide to the idle wall time)")
    for r in rows:
        print(f"{r['task']:>8} {r['metric']:<12} {r['value']:9.4f}  [{r['ci_low']:.4f}, {r['ci_high']:.4f}]  n={r['n']}")


if __name__ == "__main__":
    main(sys.argv[1:])
