"""Per-item values of one evaluation (``items.jsonl``): what a paired comparison of two arms needs.

One row per (task, metric, item id): ``num``/``den`` are the item's summed NLL and token count (task
loss; perplexity, per document, on task ``general``), or its score and 1 (0/1: exact match, math-verify,
acc, acc_norm; a fraction: token F1): every metric is then sum(num) / sum(den) over items (perplexity:
its exp). Macro-F1 is no sum over items, so it has no rows here (its CI is a bootstrap of its own).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from trait.io import read_jsonl, write_jsonl

ITEMS = "items.jsonl"
EXP_METRICS = {"perplexity"}  # reported as exp(sum nll / sum tokens)


def item_rows(lmeval: dict, losses: dict, ppl: dict | None) -> list[dict[str, Any]]:
    """Rows from the part results of ``evaluate_model`` (each carries ``items``)."""
    groups = [(task, metric, [(i, v, 1) for i, v in m["items"]])
              for task, metrics in lmeval.items() for metric, m in metrics.items() if "items" in m]
    groups += [(task, "task_loss", m["items"]) for task, m in losses.items()]
    if ppl is not None:
        groups.append(("general", "perplexity", ppl["items"]))
    return [{"task": task, "metric": metric, "id": i, "num": num, "den": den}
            for task, metric, items in groups for i, (_, num, den) in zip(_unique([x[0] for x in items]), items)]


def _unique(ids: list[Any]) -> list[str]:
    """Item ids as strings, a repeated id suffixed ``#2``, ``#3``...: items stay apart, in the same order
    for every arm (all arms score the same items in the same order)."""
    seen: Counter[str] = Counter()
    out = []
    for i in map(str, ids):
        seen[i] += 1
        out.append(i if seen[i] == 1 else f"{i}#{seen[i]}")
    return out


def write_items(out_dir: Path, rows: list[dict[str, Any]]) -> None:
    write_jsonl(Path(out_dir) / ITEMS, rows)


def read_items(path: Path) -> dict[tuple[str, str], dict[str, tuple[float, float]]]:
    """``{(task, metric): {item id: (num, den)}}`` of one ``items.jsonl``."""
    out: dict[tuple[str, str], dict[str, tuple[float, float]]] = {}
    for r in read_jsonl(path):
        out.setdefault((r["task"], r["metric"]), {})[r["id"]] = (r["num"], r["den"])
    return out
