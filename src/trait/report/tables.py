"""Shape evaluation rows into the report's tables: one row per arm, a column per task x metric, and
the paired differences against TRAIT as forest plots. A column that is 0 for every arm is a sentence."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from trait.report import plots
from trait.report.fmt import ci, metric, num, signed

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
    return f"{num(r['value'])} {ci(r['low'], r['high'])}".strip()


def results_view(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "value": num(r["value"]), "ci": ci(r["low"], r["high"]), "n": num(r["n"])}
            for r in map(_norm, rows)]


def zero_columns(rows: list[dict[str, Any]]) -> tuple[set[tuple[str, str]], list[str]]:
    """(task, metric) pairs that are 0 for every arm, and one sentence per such metric saying so."""
    values: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for r in rows:
        values[(r["task"], r["metric"])].append(r["value"])
    zero = {k for k, vs in values.items() if vs and all(v == 0 for v in vs)}
    notes = []
    for m in dict.fromkeys(k[1] for k in sorted(zero)):
        tasks = [t for t, mm in values if mm == m and (t, mm) in zero and t != "avg"]
        n = sorted({r["n"] for r in rows if r["metric"] == m and r["task"] in tasks and r["n"] is not None})
        items = f" ({n[0]} items each)" if len(n) == 1 else ""
        if tasks:
            notes.append(f"{metric(m)[0].capitalize()} is 0 for every arm on {_and(tasks)}{items}: no arm "
                         "solved any item, so this metric cannot tell the arms apart here.")
    return zero, notes


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


# cost column -> (key of the join's ``costs``, divisor into the column's unit)
COSTS = {"train tokens": ("train_tokens", 1), "LLM calls": ("llm_calls", 1), "LLM cost ($)": ("llm_cost_usd", 1),
         "CPU (min)": ("cpu_s", 60)}


def ablation_view(ablation: dict[str, Any]) -> dict[str, Any]:
    """Columns = task/metric pairs (+ cost columns); the best value of each column is marked."""
    rows = [_norm(r) for r in ablation.get("rows", [])]
    arms = list(dict.fromkeys(r["model"] for r in rows)) or list(ablation.get("costs", {}))
    zero, notes = zero_columns(rows)
    rows = [r for r in rows if (r["task"], r["metric"]) not in zero]
    columns = list(dict.fromkeys(f"{r['task']} {r['metric']}".strip() for r in rows))
    by_arm: dict[str, dict[str, Any]] = defaultdict(dict)
    for r in rows:
        by_arm[r["model"]][f"{r['task']} {r['metric']}".strip()] = r
    best: dict[str, str] = {}
    for c in columns:
        vals = [(by_arm[a][c]["value"], a) for a in arms if c in by_arm[a] and by_arm[a][c]["value"] is not None]
        if len(vals) > 1 and len({v for v, _ in vals}) > 1:  # a tie everywhere marks nothing
            best[c] = (min(vals) if lower_is_better(c) else max(vals))[1]
    cost_cols = list(COSTS)
    costs = ablation.get("costs", {})
    table = []
    for a in arms:
        cells = {c: _cell(by_arm[a][c]) for c in columns if c in by_arm[a]}
        for c, (key, unit) in COSTS.items():
            value = costs.get(a, {}).get(key)
            cells[c] = num(value if value is None or unit == 1 else value / unit)
        table.append({"arm": a, "cells": cells, "best": {c: best.get(c) == a for c in columns}})
    headline = [c for c in columns if c.startswith(("avg ", "general "))] + cost_cols
    detail = [c for c in columns if not c.startswith(("avg ", "general "))]
    pairs = [p for p in ablation.get("paired", []) if (p["task"], p["metric"]) not in zero]
    return {"budget": ablation.get("budget", "?"), "columns": headline, "detail_columns": detail,
            "compute": compute_sentence(ablation.get("compute")),
            "rows": table, "plots": _bars(rows, arms), "notes": notes, "seeds": ablation.get("seeds", []),
            "reference": ablation.get("reference"), "paired": _paired_rows(pairs),
            "forest": _forests(pairs, f"{ablation.get('confidence', 0.95):.0%}")}


def compute_sentence(compute: dict[str, float] | None) -> str:
    """What the comparison cost in machine time, in words (empty for runs that did not record it)."""
    if not compute or not compute.get("wall_s"):
        return ""
    return (f"CPU (min) is the CPU time of everything that made an arm's models (selection, synthesis, build "
            f"and training, every seed; a step two arms share counts in both). The whole comparison, "
            f"evaluations included, took {compute['cpu_s'] / 3600:.2g} CPU-hours and "
            f"{compute['wall_s'] / 60:.3g} minutes of wall time.")


def _paired_rows(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The paired differences as table cells, in the metric's reading units."""
    out = []
    for p in pairs:
        words, unit, scale, _ = metric(p["metric"])
        lo, hi = (None if p[k] is None else scale * p[k] for k in ("ci_low", "ci_high"))
        out.append({"arm": p["arm"], "task": p["task"], "metric": words + (f" ({unit})" if unit else ""),
                    "diff": signed(scale * p["diff"]), "ci": ci(lo, hi), "n_items": num(p["n_items"]),
                    "n_seeds": num(p["n_seeds"]), "significant": p["significant"]})
    return out


def _forests(pairs: list[dict[str, Any]], level: str) -> list[str]:
    """One forest plot per metric: a row per arm x task, arm - TRAIT with its CI."""
    uris = []
    for m in dict.fromkeys(p["metric"] for p in pairs):
        words, unit, scale, lower = metric(m)
        mp = [p for p in pairs if p["metric"] == m]  # tasks in table order, arms in arm order within
        rows = [(f"{p['arm']} · {p['task']}", scale * p["diff"], *(None if p[k] is None else scale * p[k]
                                                                  for k in ("ci_low", "ci_high")), p["significant"])
                for p in mp]
        better = "> 0: TRAIT better" if lower else "< 0: TRAIT better"
        uris.append(plots.forest(rows, title=f"{words}: arm − TRAIT two-stage (paired, {level} CI; bold: excludes 0)",
                                 xlabel=f"difference{f' ({unit})' if unit else ''}; {better}",
                                 breaks=[i for i in range(1, len(mp)) if mp[i]["task"] != mp[i - 1]["task"]]))
    return uris


def _bars(rows: list[dict[str, Any]], arms: list[str]) -> list[str]:
    uris = []
    for metric_ in dict.fromkeys(r["metric"] for r in rows):
        mrows = [r for r in rows if r["metric"] == metric_ and r["task"] and r["value"] is not None]
        tasks = list(dict.fromkeys(r["task"] for r in mrows))
        if not tasks:
            continue
        lookup = {(r["model"], r["task"]): r for r in mrows}
        series = {a: [((r := lookup[(a, t)])["value"], r["low"] if r["low"] is not None else r["value"],
                       r["high"] if r["high"] is not None else r["value"]) if (a, t) in lookup else None
                      for t in tasks] for a in arms}
        words, unit, scale, lower = metric(metric_)  # bars show the raw values: a unit only when unscaled
        uris.append(plots.grouped_bars(tasks, series, title=f"{words.capitalize()} per task",
                                       ylabel=words + (f" ({unit})" if unit and scale == 1 else "")
                                       + (", lower is better" if lower else "")))
    return uris
