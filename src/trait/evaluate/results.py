"""All metrics of one model as table rows, and the table itself (jsonl + csv + a dict view).

A row is one (model, task, metric): value, CI low/high, n, and how the CI was made (Wilson for
proportions: exact match, accuracy; bootstrap over items for losses, perplexity, token F1 and
macro-F1); ``items.jsonl`` beside it holds the per-item values behind each row (``per_item``), for
paired comparisons of arms. ``evaluate_model`` is what the evaluate stage and the ablation call for
every arm; each part (lm-eval, task loss, perplexity) is saved as soon as it is done under a
fingerprint of everything it depends on, so a rerun reuses finished parts and an interrupted one
resumes.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from trait.evaluate.config import EvaluateConfig
from trait.evaluate.per_item import item_rows, write_items
from trait.evaluate.settings import EvalSettings
from trait.evaluate.stats import bootstrap_macro_f1, bootstrap_ratio, wilson
from trait.io import atomic_open, read_json, read_jsonl, write_json, write_jsonl
from trait.steps import config_hash, fingerprint
from trait.ui import info

FORMAT = 2  # of a part's result; 2: with per-item values (parts cached before lack them)
COLUMNS = ["model", "task", "metric", "value", "ci_low", "ci_high", "n", "ci_method", "higher_is_better",
           "stderr", "tokens"]


def _model_files(model_path: Path) -> list[str]:
    return sorted(str(p) for p in Path(model_path).glob("*") if p.suffix in {".json", ".safetensors", ".bin"})


# Settings each part depends on: changing a perplexity setting must not re-run lm-eval, and the
# on/off switches (downstream, task_loss, general_ability) invalidate nothing.
PART_KEYS = {
    "lmeval": ["num_fewshot", "fewshot_pool", "limit", "task_limits", "max_gen_tokens", "backend", "server",
               "base_url", "api_model", "device", "dtype"],
    "lmeval_builtin": ["lmeval_builtin", "num_fewshot", "fewshot_pool", "limit", "task_limits", "max_gen_tokens",
                       "backend", "server", "base_url", "api_model", "device", "dtype"],
    "task_loss": ["task_loss_limit", "max_length", "bootstrap_iters", "confidence", "device", "dtype"],
    "perplexity": ["perplexity_max_docs", "perplexity_context", "perplexity_stride",
                   "perplexity_max_tokens_per_doc", "bootstrap_iters", "confidence", "device", "dtype"],
}


def eval_fingerprint(s: EvalSettings, model_path: Path, part: str) -> str:
    """Changes when the part's settings, its data (task files or held-out text) or the model's weights change."""
    ev = s.evaluate.model_dump(mode="json")
    if part == "perplexity":
        data = {"heldout": fingerprint(s.heldout), "text_key": s.text_key,
                "id_key": s.id_key, "on_bad_record": s.on_bad_record}
    else:
        data = {"tasks": s.tasks, "files": fingerprint([p for t in s.tasks for p in t.files])}
    return config_hash({"part": part, "settings": {k: ev[k] for k in PART_KEYS[part]}, "seed": s.seed,
                        "data": data, "model": fingerprint(_model_files(model_path)), "format": FORMAT})


def _cached(cache_dir: Path, out_dir: Path, part: str, fp: str, compute) -> Any:
    """The saved result of ``part`` when one with this fingerprint exists, else compute and save it.
    Results live in the run's cache, outside any step folder: a new evaluate step (another setting of
    another part) still finds them. A copy goes into the step folder, which records what it used."""
    cached = Path(cache_dir) / f"{part}-{fp}.json"
    if cached.exists():
        result = read_json(cached)["result"]
    else:
        result = compute()
        write_json(cached, {"fingerprint": fp, "result": result})
    write_json(out_dir / "parts" / f"{part}.json", {"fingerprint": fp, "result": result})
    return result


def _lmeval_ci(m: dict[str, Any], ev: EvaluateConfig, seed: int) -> tuple[float, float, str]:
    """A proportion's Wilson interval; a mean token F1's or a macro-F1's bootstrap one over items."""
    if "k" in m:
        return (*wilson(m["k"], m["n"], ev.confidence), "wilson")
    boot = {"iters": ev.bootstrap_iters, "confidence": ev.confidence, "seed": seed}
    if "pairs" in m:
        low, high = bootstrap_macro_f1([p[1] for p in m["pairs"]], [p[2] for p in m["pairs"]], **boot)
    else:
        scores = [float(v) for _, v in m["items"]]
        low, high = bootstrap_ratio(scores, [1.0] * len(scores), **boot)
    return low, high, "bootstrap"


def _rows(name: str, lmeval: dict, losses: dict, ppl: dict | None, ev: EvaluateConfig,
          seed: int = 0) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for task, metrics in lmeval.items():
        for metric, m in metrics.items():
            low, high, method = _lmeval_ci(m, ev, seed)
            rows.append({"model": name, "task": task, "metric": metric, "value": m["value"], "ci_low": low,
                         "ci_high": high, "n": m["n"], "ci_method": method, "higher_is_better": True,
                         "stderr": m.get("stderr")})
    for task, m in losses.items():
        rows.append({"model": name, "task": task, "metric": "task_loss", "value": m["value"], "ci_low": m["ci_low"],
                     "ci_high": m["ci_high"], "n": m["n"], "ci_method": "bootstrap", "higher_is_better": False,
                     "tokens": m["tokens"]})
    if ppl is not None:
        rows.append({"model": name, "task": "general", "metric": "perplexity", "value": ppl["value"],
                     "ci_low": ppl["ci_low"], "ci_high": ppl["ci_high"], "n": ppl["n"], "ci_method": "bootstrap",
                     "higher_is_better": False, "tokens": ppl["tokens"]})
    return [{c: r.get(c) for c in COLUMNS} for r in rows]


def evaluate_model(s: EvalSettings, model_path: Path, name: str, out_dir: Path) -> list[dict[str, Any]]:
    """All metrics of one model (rows of the results table, also written with ``items.jsonl``); reuses
    finished parts found in the run's cache."""
    from trait.evaluate.harness import run_lmeval
    from trait.evaluate.lmeval_tasks import write_lmeval_tasks
    from trait.evaluate.serve import served

    out_dir, model_path = Path(out_dir), Path(model_path)
    ev = s.evaluate
    loaded: dict[str, Any] = {}

    def model_and_tok():
        if not loaded:
            from trait.evaluate.nll import load

            loaded["m"] = load(model_path, ev.device, ev.dtype)
        return loaded["m"]

    def lmeval() -> dict:
        info(f"evaluate {name}: lm-eval few-shot tasks ({ev.backend})")
        with served(ev, model_path, out_dir) as ev_:
            return run_lmeval(ev_, model_path, write_lmeval_tasks(s, out_dir / "lmeval_tasks"), out_dir, s.seed)

    def builtin() -> dict:
        from trait.evaluate.standard import run_builtin

        info(f"evaluate {name}: lm-eval built-in tasks ({', '.join(sorted(set(ev.lmeval_builtin.values())))})")
        with served(ev, model_path, out_dir) as ev_:
            return run_builtin(s.model_copy(update={"evaluate": ev_}), model_path, out_dir)

    def losses() -> dict:
        from trait.evaluate.task_loss import task_loss

        info(f"evaluate {name}: task loss")
        return task_loss(s, *model_and_tok(), out_dir)

    def ppl() -> dict | None:
        from trait.evaluate.perplexity import perplexity

        info(f"evaluate {name}: perplexity on held-out general text")
        return perplexity(s, *model_and_tok(), out_dir)

    cache = s.run_dir / "cache" / "eval"
    lm = _cached(cache, out_dir, "lmeval", eval_fingerprint(s, model_path, "lmeval"), lmeval) if ev.downstream else {}
    if ev.downstream and ev.lmeval_builtin:
        std = _cached(cache, out_dir, "lmeval_builtin", eval_fingerprint(s, model_path, "lmeval_builtin"), builtin)
        lm = {task: {**lm.get(task, {}), **std.get(task, {})} for task in {**lm, **std}}
    tl = _cached(cache, out_dir, "task_loss", eval_fingerprint(s, model_path, "task_loss"), losses) if ev.task_loss else {}
    pp = _cached(cache, out_dir, "perplexity", eval_fingerprint(s, model_path, "perplexity"), ppl) if ev.general_ability else None
    rows = _rows(name, lm, tl, pp, ev, s.seed)
    write_table(out_dir, rows)
    write_items(out_dir, item_rows(lm, tl, pp))
    return rows


def write_table(out_dir: Path, rows: list[dict[str, Any]]) -> None:
    """``results.jsonl`` and ``results.csv`` (same rows, same column order)."""
    write_jsonl(Path(out_dir) / "results.jsonl", rows)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_open(Path(out_dir) / "results.csv", "w") as fh:
        fh.write(buf.getvalue())


def read_table(out_dir: Path) -> list[dict[str, Any]]:
    return read_jsonl(Path(out_dir) / "results.jsonl")


def as_dict(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """``{model: {task: {metric: row}}}`` for the report and the ablation."""
    out: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for r in rows:
        out.setdefault(r["model"], {}).setdefault(r["task"], {})[r["metric"]] = r
    return out


def format_table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table (one line per row) for the console and closing notes."""
    w = max([10, *(len(r["task"]) for r in rows)])  # long task names must not shift the columns
    lines = [f"{'model':<12} {'task':<{w}} {'metric':<12} {'value':>9}  {'95% CI':<21} n"]
    for r in rows:
        ci = f"[{r['ci_low']:.4g}, {r['ci_high']:.4g}]" if r.get("ci_low") is not None else ""
        lines.append(f"{r['model']:<12} {r['task']:<{w}} {r['metric']:<12} {r['value']:>9.4g}  {ci:<21} {r['n']}")
    return "\n".join(lines)
