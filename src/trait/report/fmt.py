"""Numbers as a reader sees them: 3-4 significant digits, thousands separated, never 0.6857763938182242."""

from __future__ import annotations

import math
from typing import Any

# metric -> (words, unit, scale, lower is better): proportions are shown in percentage points.
METRICS = {"task_loss": ("task loss", "nats/token", 1.0, True), "perplexity": ("perplexity", "", 1.0, True),
           "exact_match": ("exact match", "points", 100.0, False),
           "math_verify": ("math-verify accuracy", "points", 100.0, False),
           "acc": ("accuracy", "points", 100.0, False),
           "acc_norm": ("length-normalised accuracy", "points", 100.0, False),
           "macro_f1": ("macro-F1", "points", 100.0, False),
           "f1": ("token F1", "points", 100.0, False)}


def metric(name: str) -> tuple[str, str, float, bool]:
    """How a metric is named and scaled for a reader (unknown metrics: as named, higher is better)."""
    if ":" in name:  # evaluate.lmeval_builtin: "<lm-eval task>:<filter>", scored by exact match
        task, flt = name.split(":", 1)
        return f"lm-eval {task} exact match ({flt})", "points", 100.0, False
    return METRICS.get(name, (name.replace("_", " "), "", 1.0, False))


def num(v: Any, digits: int = 4) -> str:
    """A number to ``digits`` significant digits (large ones whole, with separators); anything else as is."""
    if v is None:
        return "—"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if not math.isfinite(v):
        return str(v)
    if abs(v) >= 10 ** digits:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def pct(v: Any, digits: int = 3) -> str:
    """A share as a percentage: 0.6857 -> '68.6%'."""
    return num(v) if not isinstance(v, (int, float)) or isinstance(v, bool) else f"{num(100 * v, digits)}%"


def signed(v: float, digits: int = 3) -> str:
    """A difference, with its sign always shown."""
    return ("+" if v > 0 else "") + num(v, digits)


def ci(low: Any, high: Any, digits: int = 3) -> str:
    """``[low, high]``, or '' when there is no interval."""
    return f"[{num(low, digits)}, {num(high, digits)}]" if low is not None and high is not None else ""
