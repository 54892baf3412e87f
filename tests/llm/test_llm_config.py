"""The ``llm`` section: backend names checked against the registry, speed knobs out of step hashes."""

from __future__ import annotations

import pytest

from trait.config import config_from_dict
from trait.errors import ConfigError, TraitError
from trait.llm import make_backend
from trait.llm.config import LLMConfig
from trait.synthesize.stage import llm_settings

DATA = {"seed_corpus": [], "general_corpus": []}


def test_an_unknown_backend_is_one_line_naming_the_known_ones():
    with pytest.raises(ConfigError, match=r"llm\.backend: .*unknown backend 'gpt' \(known: openai, transformers, vllm"):
        config_from_dict({"data": DATA, "llm": {"backend": "gpt"}})
    cfg = LLMConfig().model_copy(update={"backend": "gpt"})  # past validation: the registry still says no
    with pytest.raises(TraitError, match="known: openai"):
        make_backend(cfg)


def test_speed_knobs_leave_the_synthesis_hash_alone():
    base = {"backend": "openai", "base_url": "http://x/v1", "model": "m"}
    knobs = {"concurrency": 64, "timeout_s": 5, "max_retries": 0, "backoff_s": 0.1, "backoff_max_s": 1,
             "requests_per_minute": 60, "tokens_per_minute": 1000, "http_client": "openai", "batch_size": 1,
             "api_key_env": "OTHER_KEY", "prices_per_million": {"input": 1.0}}
    settings = llm_settings(config_from_dict({"data": DATA, "llm": base}).llm)
    assert llm_settings(config_from_dict({"data": DATA, "llm": {**base, **knobs}}).llm) == settings
    assert not any("key" in k for k in settings)  # not even the variable's name
    for changed in ({"temperature": 0.1}, {"model": "n"}, {"max_tokens": 7}, {"dtype": "float32"}):
        assert llm_settings(config_from_dict({"data": DATA, "llm": {**base, **changed}}).llm) != settings
