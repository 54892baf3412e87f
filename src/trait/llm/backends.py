"""The backend registry: ``llm.backend`` names a class here, imported only when chosen.

Why strings: torch, transformers and vLLM are heavy (or absent), so nothing is imported until a
backend is built. Adding a backend = its module (a class taking ``LLMConfig``, speaking ``base.LLM``)
plus one line below.
"""

from __future__ import annotations

import importlib

from trait.errors import ConfigError

BACKENDS: dict[str, str] = {
    "openai": "trait.llm.openai_backend:OpenAIBackend",
    "transformers": "trait.llm.transformers_backend:TransformersBackend",
    "vllm": "trait.llm.vllm_backend:VLLMBackend",
}


def unknown_backend(name: str) -> str:
    return f"unknown backend {name!r} (known: {', '.join(BACKENDS)})"


def backend_class(name: str) -> type:
    """The class registered under ``name``, importing its module now."""
    if name not in BACKENDS:
        raise ConfigError(f"llm.backend: {unknown_backend(name)}")
    module, _, cls = BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module), cls)
