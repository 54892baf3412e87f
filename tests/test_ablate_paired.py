"""The evidence section of the ablation, without training anything: paired differences against TRAIT,
a verdict that names only the differences whose interval excludes 0, and the report's view of them."""

from __future__ import annotations

import re

import numpy as np

from trait.ablate.paired import over_seeds, paired, verdict
from trait.report.tables import ablation_view

BOOT = {"iters": 500, "confidence": 0.95, "seed": 0}


def _loss_items(shift: float, rng) -> dict[str, tuple[float, float]]:
    tokens = rng.integers(20, 60, 30)
    return {f"q{i}": (float((1.5 + shift + 0.3 * np.sin(i)) * t + rng.normal(0, 1)), int(t))
            for i, t in enumerate(tokens)}


def _arms() -> dict:
    """base: clearly worse than TRAIT on task loss; cpt_seed: the same as TRAIT up to noise; exact match 0."""
    rng = np.random.default_rng(0)
    out = {}
    for arm, shift in (("base", 0.3), ("cpt_seed", 0.0), ("trait_two_stage", 0.0)):
        out[arm] = [{("gsm8k", "task_loss"): _loss_items(shift, rng),
                     ("gsm8k", "exact_match"): {f"q{i}": (0, 1) for i in range(5)}}]
    return out


def _rows(items: dict) -> list[dict]:
    return [{"model": a, "task": t, "metric": m, "value": sum(v[0] for v in its.values()) / sum(v[1] for v in its.values()),
             "ci_low": None, "ci_high": None, "n": len(its)} for a, runs in items.items() for (t, m), its in runs[0].items()]


def test_verdict_names_only_the_differences_that_exclude_zero():
    pairs = paired(_arms(), BOOT)
    sig = {(p["arm"], p["metric"]): p["significant"] for p in pairs}
    assert sig == {("base", "task_loss"): True, ("cpt_seed", "task_loss"): False,
                   ("base", "exact_match"): False, ("cpt_seed", "exact_match"): False}
    text = verdict([p for p in pairs if p["metric"] == "task_loss"], 0.95, 1)
    assert "TRAIT two-stage beats base on task loss: lower by 0.3" in text and "cpt_seed" not in text
    assert "The other 1 difference is not distinguishable from zero" in text
    assert "None of the 2 differences" in verdict([{**p, "significant": False} for p in pairs[:2]], 0.95, 1)
    assert paired({"base": _arms()["base"]}, BOOT) == []  # no TRAIT: no paired section


def test_the_report_shows_a_forest_plot_and_a_sentence_for_an_all_zero_metric():
    items = _arms()
    view = ablation_view({"rows": _rows(items), "paired": paired(items, BOOT), "confidence": 0.95,
                          "costs": {a: {"train_tokens": 9216, "llm_calls": 0, "llm_cost_usd": 0.0} for a in items}})
    [note] = view["notes"]
    assert note.startswith("Exact match is 0 for every arm on gsm8k (5 items each): no arm solved any item")
    assert view["detail_columns"] == ["gsm8k task_loss"] and len(view["plots"]) == 1  # no bars of zeros
    assert len(view["forest"]) == 1 and view["forest"][0].startswith("data:image/png;base64,")
    assert [p["metric"] for p in view["paired"]] == ["task loss (nats/token)"] * 2
    cells = [c for r in view["rows"] for c in r["cells"].values()] + [p["diff"] for p in view["paired"]]
    numbers = [n for c in cells for n in re.findall(r"\d[\d,.]*", c)]
    assert numbers and all(len(n.replace(",", "").replace(".", "").lstrip("0")) <= 4 for n in numbers), numbers


def test_rows_over_seeds_average_each_item_over_the_seeds():
    items = [{("t", "task_loss"): {"a": (2.0, 2), "b": (4.0, 2)}}, {("t", "task_loss"): {"a": (4.0, 2), "b": (6.0, 2)}}]
    rows = [[{"model": "x", "task": "t", "metric": "task_loss", "value": v, "n": 2}] for v in (1.5, 2.5)]
    [row] = over_seeds(rows, items, BOOT)
    assert row["value"] == 2.0 and row["n_seeds"] == 2 and row["ci_low"] <= 2.0 <= row["ci_high"]
    assert over_seeds(rows[:1], items[:1], BOOT) == [rows[0][0] | {"n_seeds": 1}]
