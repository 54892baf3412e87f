"""Plots for the report, returned as inline PNG data URIs so the page needs no network or files."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _to_uri(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def histogram(values: Sequence[float], *, title: str, xlabel: str, threshold: float | None = None) -> str:
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(values, bins=50, color="#4c72b0")
    if threshold is not None:
        ax.axvline(threshold, color="#c44e52", linestyle="--", label=f"threshold {threshold:.3g}")
        ax.legend()
    ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("documents (log)")
    return _to_uri(fig)


def loss_curves(curves: dict[str, tuple[Sequence[float], Sequence[float]]], *, title: str) -> str:
    fig, ax = plt.subplots(figsize=(6, 3))
    for name, (x, y) in curves.items():
        ax.plot(x, y, label=name)
    ax.set_title(title)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.legend(fontsize=8)
    return _to_uri(fig)


def grouped_bars(groups: list[str], series: dict[str, list[tuple[float, float, float] | None]], *,
                 title: str, ylabel: str) -> str:
    """Bars per group (task) and series (arm), with CI whiskers; ``None`` leaves a gap."""
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(groups) * max(1, len(series)) / 3), 3.2))
    width = 0.8 / max(1, len(series))
    for i, (name, vals) in enumerate(series.items()):
        xs, ys, lo, hi = [], [], [], []
        for g, v in enumerate(vals):
            if v is None:
                continue
            xs.append(g + i * width)
            ys.append(v[0])
            lo.append(max(0.0, v[0] - v[1]))
            hi.append(max(0.0, v[2] - v[0]))
        ax.bar(xs, ys, width, yerr=[lo, hi], capsize=2, label=name)
    ax.set_xticks([g + width * (len(series) - 1) / 2 for g in range(len(groups))], groups)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7, ncols=2)
    return _to_uri(fig)


def forest(rows: list[tuple[str, float, float | None, float | None, bool]], *, title: str, xlabel: str,
           breaks: Sequence[int] = ()) -> str:
    """One row per (label, difference, CI low, CI high, significant), top to bottom, with a zero line and
    a faint line above each row index in ``breaks`` (a new group). Significant rows (the CI excludes 0)
    are filled and bold; the others hollow and grey."""
    fig, ax = plt.subplots(figsize=(6.5, 0.9 + 0.3 * len(rows)))
    ys = list(range(len(rows)))[::-1]
    for y, (_, d, lo, hi, sig) in zip(ys, rows):
        colour = "#4c72b0" if sig else "#999999"
        if lo is not None and hi is not None:
            ax.plot([lo, hi], [y, y], color=colour, linewidth=2, solid_capstyle="butt")
        ax.plot([d], [y], "o", color=colour, markerfacecolor=colour if sig else "white", markersize=6)
    ax.axvline(0, color="black", linewidth=0.8)
    for b in breaks:
        ax.axhline(len(rows) - b - 0.5, color="#cccccc", linewidth=0.8)
    ax.set_yticks(ys, [r[0] for r in rows])
    for tick, row in zip(ax.get_yticklabels(), rows):
        tick.set_fontweight("bold" if row[4] else "normal")
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    return _to_uri(fig)
