"""Shape evaluation rows into the report's tables: one row per arm, a column per task x metric."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from trait.report import plots

LOWER_IS_BETTER = ("loss", "perplexity", "ppl", "nll")


def lower_is_better(metric: str) -> bool:
    return any(k in metric for k in LOWER_IS_BETTER)


def _norm(row: dict[str, Any]) -> dict[str, Any]:
    return {"model": row.get("arm") or row.get("model") or row.get("name"), "task": row.get("task", ""),
            "metric": row.get("metric", ""), "value": row.get("value"),
            "low": row.get("ci_low", row.get("low")), "high": row.get("ci_high", row.get("high")),
            "n": row.get("n")}


def _cell(r: dict[str, Any]) -> str:
    if r["value"] is None:
        return "—"
    ci = f" [{r['low']:.3g}, {r['high']:.3g}]" if r["low"] is not None and r["high"] is not None else ""
    return f"{r['value']:.4g}{ci}"


def results_view(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in map(_norm, rows):
        ci = f"[{r['low']:.3g}, {r['high']:.3g}]" if r["low"] is not None and r["high"] is not None else ""
        out.append({**r, "value": f"{r['value']:.4g}" if r["value"] is not None else "—", "ci": ci})
    return out


def ablation_view(ablation: dict[str, Any]) -> dict[str, Any]:
    """Columns = task/metric pairs (+ cost columns); the best value of each column is marked."""
    rows = [_norm(r) for r in ablation.get("rows", [])]
    arms = list(dict.fromkeys(r["model"] for r in rows)) or list(ablation.get("costs", {}))
    columns = list(dict.fromkeys(f"{r['task']} {r['metric']}".strip() for r in rows))
    by_arm: dict[str, dict[str, Any]] = defaultdict(dict)
    for r in rows:
        by_arm[r["model"]][f"{r['task']} {r['metric']}".strip()] = r
    best: dict[str, str] = {}
    for c in columns:
        vals = [(by_arm[a][c]["value"], a) for a in arms if c in by_arm[a] and by_arm[a][c]["value"] is not None]
        if len(vals) > 1 and len({v for v, _ in vals}) > 1:  # a tie everywhere marks nothing
            best[c] = (min(vals) if lower_is_better(c) else max(vals))[1]
    cost_cols = ["train tokens", "LLM calls", "LLM cost ($)"]
    costs = ablation.get("costs", {})
    table = []
    for a in arms:
        cells = {c: _cell(by_arm[a][c]) for c in columns if c in by_arm[a]}
        for c, key in zip(cost_cols, ("train_tokens", "llm_calls", "llm_cost_usd")):
            v = costs.get(a, {}).get(key)
            cells[c] = f"{v:,.4g}" if isinstance(v, (int, float)) else "—"
        table.append({"arm": a, "cells": cells, "best": {c: best.get(c) == a for c in columns}})
    headline = [c for c in columns if c.startswith(("avg ", "general "))] + cost_cols
    detail = [c for c in columns if not c.startswith(("avg ", "general "))]
    return {"budget": ablation.get("budget", "?"), "columns": headline, "detail_columns": detail,
            "rows": table, "plots": _bars(rows, arms)}


def _bars(rows: list[dict[str, Any]], arms: list[str]) -> list[str]:
    uris = []
    for metric in dict.fromkeys(r["metric"] for r in rows):
        mrows = [r for r in rows if r["metric"] == metric and r["task"] and r["value"] is not None]
        tasks = list(dict.fromkeys(r["task"] for r in mrows))
        if not tasks:
            continue
        lookup = {(r["model"], r["task"]): r for r in mrows}
        series = {a: [((r := lookup[(a, t)])["value"], r["low"] if r["low"] is not None else r["value"],
                       r["high"] if r["high"] is not None else r["value"]) if (a, t) in lookup else None
                      for t in tasks] for a in arms}
        uris.append(plots.grouped_bars(tasks, series, title=f"{metric} per task",
                                       ylabel=metric + (" (lower is better)" if lower_is_better(metric) else "")))
    return uris
