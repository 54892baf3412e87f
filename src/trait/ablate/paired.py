"""The evidence of the comparison: each arm vs. TRAIT two-stage on the same items, and a verdict.

Per-arm intervals that overlap say little: items differ in difficulty far more than arms do. Every
arm is scored on the same held-out items, so the difference arm - TRAIT is taken item by item and
resampled as pairs (``trait.evaluate.stats.paired_bootstrap``); only a difference whose interval
excludes 0 is named in the verdict. Several training seeds: each item is averaged over an arm's seeds.
"""

from __future__ import annotations

import math
from typing import Any

from trait.evaluate.per_item import EXP_METRICS
from trait.evaluate.stats import bootstrap_ratio, paired_bootstrap, seed_mean
from trait.report.fmt import metric, num

REFERENCE = "trait_two_stage"

Runs = list[dict[tuple[str, str], dict[str, tuple[float, float]]]]  # per seed: (task, metric) -> items


def over_seeds(rows: list[list[dict[str, Any]]], items: Runs, boot: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (task, metric) of an arm from its per-seed rows. Several seeds: the value and CI are
    those of the seed-averaged items (a mean over seeds; perplexity: the geometric mean)."""
    if len(rows) == 1:
        return [r | {"n_seeds": 1} for r in rows[0]]
    out = []
    for r in rows[0]:
        key = (r["task"], r["metric"])
        mean = seed_mean([run.get(key, {}) for run in items])
        if not mean and not any(key in run for run in items):  # no per-item values (macro-F1): seeds' mean
            values = [x["value"] for rs in rows for x in rs if (x["task"], x["metric"]) == key]
            out.append(r | {"value": sum(values) / len(values), "ci_low": None, "ci_high": None,
                            "n_seeds": len(rows), "ci_method": "mean over seeds", "stderr": None})
            continue
        if not mean:
            continue
        nums, dens = zip(*mean.values())
        low, high = bootstrap_ratio(list(nums), list(dens), **boot)
        f = math.exp if r["metric"] in EXP_METRICS else float
        out.append(r | {"value": f(sum(nums) / sum(dens)), "ci_low": f(low), "ci_high": f(high), "n": len(mean),
                        "n_seeds": len(rows), "ci_method": "bootstrap (items averaged over seeds)", "stderr": None})
    return out


def paired(items: dict[str, Runs], boot: dict[str, Any]) -> list[dict[str, Any]]:
    """arm - TRAIT per (task, metric) both have, for every arm; [] without TRAIT two-stage."""
    if REFERENCE not in items:
        return []
    ref = items[REFERENCE]
    out = []
    for key in ref[0]:
        for arm, runs in items.items():
            if arm == REFERENCE or not all(key in r for r in runs + ref):
                continue
            p = paired_bootstrap([r[key] for r in runs], [r[key] for r in ref], exp=key[1] in EXP_METRICS, **boot)
            out.append({"arm": arm, "task": key[0], "metric": key[1], **p.to_dict(), "n_seeds": len(runs)})
    return out


def verdict(pairs: list[dict[str, Any]], confidence: float, n_seeds: int) -> str:
    """A few plain sentences: the differences whose interval excludes 0 (one sentence per arm, metric and
    winner), and how many do not."""
    if not pairs:
        return "No metric was measured on both TRAIT two-stage and another arm in a way that can tell them apart."
    level = f"{confidence:.0%}"
    n = sorted({p["n_items"] for p in pairs})
    size = (f"{n[0]}" if len(n) == 1 else f"{n[0]}–{n[-1]}") + (
        f" items per task, {n_seeds} training seed{'s' if n_seeds > 1 else ''} per trained arm")
    head = (f"Every arm against TRAIT two-stage on the same held-out items (paired bootstrap, {level} "
            f"intervals; {size}).")
    groups: dict[tuple[str, str, bool], list[dict[str, Any]]] = {}
    for p in pairs:
        if p["significant"]:
            groups.setdefault((p["arm"], p["metric"], _trait_better(p)), []).append(p)
    rest = len(pairs) - sum(map(len, groups.values()))
    if not groups:
        return (f"{head} None of the {rest} differences is distinguishable from zero at this sample size: the "
                "data do not show that any arm is better or worse than TRAIT.")
    tail = (f" The other {rest} difference{'s are' if rest > 1 else ' is'} not distinguishable from zero at "
            "this sample size." if rest else "")
    arms = list(dict.fromkeys(p["arm"] for p in pairs))
    ordered = sorted(groups.items(), key=lambda kv: arms.index(kv[0][0]))  # by arm, then as found
    return " ".join([head, *(_sentence(k, ps, level) for k, ps in ordered)]) + tail


def _trait_better(p: dict[str, Any]) -> bool:
    return (p["diff"] > 0) == metric(p["metric"])[3]


def _sentence(key: tuple[str, str, bool], pairs: list[dict[str, Any]], level: str) -> str:
    """E.g. 'TRAIT two-stage beats base on task loss: lower by 0.0965 nats/token on gsm8k (95% CI 0.0494
    to 0.146) and 0.142 on mawps (0.0869 to 0.191).' Sizes are the winner's margin, always positive."""
    arm, name, trait_better = key
    words, unit, scale, lower_better = metric(name)
    parts = []
    for i, p in enumerate(pairs):
        lo, hi = sorted(abs(scale * p[k]) for k in ("ci_low", "ci_high"))
        where = "held-out general text" if p["task"] == "general" else p["task"]
        first = i == 0
        parts.append(f"{num(abs(scale * p['diff']), 3)}{f' {unit}' if unit and first else ''} on {where} "
                     f"({f'{level} CI ' if first else ''}{num(lo, 3)} to {num(hi, 3)})")
    winner, loser = ("TRAIT two-stage", arm) if trait_better else (arm, "TRAIT two-stage")
    listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    return f"{winner} beats {loser} on {words}: {'lower' if lower_better else 'higher'} by {listed}."
