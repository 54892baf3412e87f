"""Render the collected run data into one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from trait.report.fmt import num


def _fmt(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return f"{len(v)} items" if len(v) > 12 else f"[{', '.join(map(_fmt, v))}]"
    if isinstance(v, dict):  # a record inside a list: its numbers formatted too
        return "{" + ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items()) + "}"
    return num(v)


def kv_table(data: dict[str, Any] | None, title: str) -> Markup:
    """A two-column table of a (possibly nested) summary dict; nested dicts are flattened with dots."""
    if not data:
        return Markup("")
    rows: list[tuple[str, Any]] = []

    def walk(prefix: str, d: dict[str, Any]) -> None:
        for k, v in d.items():
            key = f"{prefix}{k}"
            if isinstance(v, dict) and v:
                walk(key + ".", v)
            else:
                rows.append((key, v))

    walk("", data)
    body = "".join(f"<tr><td>{escape(k)}</td><td class='num'>{escape(_fmt(v))}</td></tr>" for k, v in rows)
    return Markup(f"<h3>{escape(title)}</h3><table>{body}</table>")


def render(data: dict[str, Any], out: Path) -> Path:
    env = jinja2.Environment(loader=jinja2.PackageLoader("trait.report", "."),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.ChainableUndefined)
    env.globals["kv_table"] = kv_table
    html = env.get_template("template.html.j2").render(**data)
    from trait.io import atomic_open

    with atomic_open(out, "w") as fh:
        fh.write(html)
    return out
