"""The configuration reference, generated from the pydantic models so the docs never drift from code.

``trait config-reference`` prints it; ``docs/config.md`` holds a copy that a test keeps in sync.
"""

from __future__ import annotations

import re
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from trait.schema import is_hashed

_PATH = re.compile(r"Annotated\[str, AfterValidator\(func=<function _resolve_path at 0x[0-9a-f]+>\)\]")
_OPTIONAL = re.compile(r"^Optional\[(.*)\]$")


def _aliases() -> dict[str, str]:
    """Named item types, shown by name (a corpus item is a path or an entry with its own fields)."""
    from trait.corpus import CorpusPath

    return {repr(CorpusPath): "path \\| entry"}


def _type_name(annotation: Any) -> str:
    text = str(annotation) if not isinstance(annotation, type) else annotation.__name__
    for long, short in _aliases().items():
        text = text.replace(long, short)
    text = _OPTIONAL.sub(r"\1 | None", _PATH.sub("path", text.replace("typing.", "")))
    return (text.replace("typing.", "").replace("trait.schema.", "").replace("NoneType", "None")
            .replace("<class '", "").replace("'>", ""))


def _sub_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _item_model(annotation: Any) -> type[BaseModel] | None:
    """A model nested deeper, as the entry of a ``list[path | entry]`` (documented as ``key[]``)."""
    for arg in typing.get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        if (model := _item_model(arg)) is not None:
            return model
    return None


def _default(field) -> str:
    if field.default is not PydanticUndefined:
        return "" if isinstance(field.default, BaseModel) else f"`{field.default!r}`"
    if field.default_factory is not None:
        try:
            value = field.default_factory()
        except TypeError:
            return ""
        return "" if isinstance(value, BaseModel) else f"`{value!r}`"
    return "**required**"


def reference(model: type[BaseModel] | None = None, prefix: str = "") -> str:
    from trait.config import TraitConfig

    model = model or TraitConfig
    lines: list[str] = []
    if not prefix:
        lines += ["# Configuration reference", "",
                  "Generated from the code by `trait config-reference`; do not edit by hand.",
                  "Relative paths are resolved against the config file's folder. Any key can be overridden",
                  "on the command line as `key.sub=value` (values are parsed as YAML).", "",
                  "**re-runs**: a key marked *nothing* changes how fast a step runs (process counts, batch",
                  "sizes, save/log intervals, concurrency, timeouts, retries, rate limits) or only an estimate",
                  "(prices); no step hashes it. Changing any other key re-runs the steps that read it (*its",
                  "steps on*) and every step after them, and reuses the rest",
                  "(`tests/test_rerun_table.py` states, key by key, which steps re-run).", ""]
    nested: list[tuple[str, type[BaseModel]]] = []
    rows = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        sub = _sub_model(field.annotation)
        desc = (field.description or "").replace("|", "\\|").replace("\n", " ")
        if sub is not None:
            is_list = typing.get_origin(field.annotation) is list
            nested.append((key + ("[]" if is_list else ""), sub))
            desc = desc or (sub.__doc__ or "").strip().split("\n")[0]
            rows.append(f"| `{key}` | section{' (list)' if is_list else ''} | {_default(field)} | | {desc} |")
        else:
            reruns = "its steps on" if is_hashed(model, name) else "*nothing*"
            rows.append(f"| `{key}` | `{_type_name(field.annotation)}` | {_default(field)} | {reruns} | {desc} |"
                        .replace(" | None`", " \\| None`"))
            item = _item_model(field.annotation)
            if item is not None and item not in {m for _, m in nested}:  # one section for all its lists
                nested.append((key + "[]", item))
    if rows:
        title = prefix.rstrip(".") or "top level"
        doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ") if prefix else ""
        lines += [f"## `{title}`", ""] + ([doc, ""] if doc else []) + \
            ["| key | type | default | re-runs | meaning |", "|---|---|---|---|---|"] + rows + [""]
    for key, sub in nested:
        lines.append(reference(sub, key + "."))
    return "\n".join(lines)
