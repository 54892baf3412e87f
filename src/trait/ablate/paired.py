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
        if not mean:
            continue
        nums, dens = zip(*mean.values())
        low, high = bootstrap_ratio(list(nums), list(dens), **boot)
        f = math.exp if r["metric"] in EXP_METRICS else float
        out.append(r | {"value": f(sum(nums) / sum(dens)), "ci_low": f(low), "ci_high": f(high), "n": len(mean),
                        "n_seeds": len(rows), "ci_method": "bootstrap (items averaged over seeds)"})
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


def verdict(pairs: list[dict[str, Any]], confidence: float) -> str:
    """A few plain sentences: the differences whose interval excludes 0, and how many do not."""
    if not pairs:
        return f"TRAIT two-stage ({REFERENCE}) was not among the arms: no paired comparison; see the table."
    level = f"{confidence:.0%}"
    seeds = sorted({p["n_seeds"] for p in pairs})
    items = sorted({p["n_items"] for p in pairs})
    size = (f"{items[0]}" if len(items) == 1 else f"{items[0]}–{items[-1]}") + " items per task, " + (
        f"{seeds[-1]} training seed{'s' if seeds[-1] > 1 else ''} per trained arm")
    sig = [p for p in pairs if p["significant"]]
    head = (f"Every arm against TRAIT two-stage on the same held-out items (paired bootstrap, {level} "
            f"intervals; {size}).")
    if not sig:
        return (f"{head} None of the {len(pairs)} differences is distinguishable from zero at this sample size: "
                "the data do not show that any arm is better or worse than TRAIT.")
    rest = len(pairs) - len(sig)
    tail = (f" The other {rest} difference{'s are' if rest > 1 else ' is'} not distinguishable from zero at "
            "this sample size." if rest else "")
    return " ".join([head, *(_sentence(p, level) for p in sig)]) + tail


def _sentence(p: dict[str, Any], level: str) -> str:
    words, unit, scale, lower_better = metric(p["metric"])
    d, lo, hi = (scale * p[k] for k in ("diff", "ci_low", "ci_high"))
    where = "held-out general text" if p["task"] == "general" else p["task"]
    trait_better = (d > 0) == lower_better
    unit = f" {unit}" if unit else ""
    return (f"{p['arm']} has {'higher' if d > 0 else 'lower'} {words} than TRAIT on {where}, by "
            f"{num(abs(d), 3)}{unit} ({level} CI {num(lo, 3)} to {num(hi, 3)}): "
            f"TRAIT is {'better' if trait_better else 'worse'} there.")
