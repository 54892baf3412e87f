"""Local generation with the tiny random model: batching, seeds, token counts, cache, and the vLLM guard."""

from __future__ import annotations

import importlib.util

import pytest

from trait.errors import TraitError
from trait.llm import ChatResult, LLMFailure, chat_request, make_backend, make_llm
from trait.llm.config import LLMConfig


@pytest.fixture(scope="module")
def cfg(tiny_model) -> LLMConfig:
    return LLMConfig(backend="transformers", model=str(tiny_model), max_tokens=6, batch_size=3, device="cpu",
                     temperature=1.0, top_p=0.9)


def reqs(cfg: LLMConfig, n: int = 5) -> list:
    return [chat_request(cfg, [("system", "s"), ("user", "count " + "to ten " * i)], seed=i) for i in range(n)]


@pytest.fixture(scope="module")
def backend(cfg):
    b = make_backend(cfg)
    yield b
    b.close()


def test_generates_with_counts_from_the_tokenizer(cfg, backend):
    out = backend.generate(reqs(cfg))
    assert all(isinstance(r, ChatResult) for r in out)
    tok = backend._tok
    for q, r in zip(reqs(cfg), out):
        prompt = tok.apply_chat_template([{"role": a, "content": b} for a, b in q.messages], tokenize=False,
                                         add_generation_prompt=True)
        assert r.prompt_tokens == len(tok(prompt, add_special_tokens=False)["input_ids"])
        assert 1 <= r.completion_tokens <= cfg.max_tokens and r.key == q.key
        assert r.finish_reason in ("stop", "length")
    assert len({r.prompt_tokens for r in out}) == len(out)  # different prompts really went in


def test_outputs_depend_on_the_request_not_the_batch(cfg, backend):
    batched = [r.text for r in backend.generate(reqs(cfg))]
    alone = make_backend(cfg.model_copy(update={"batch_size": 1}))
    reversed_alone = [r.text for r in alone.generate(reqs(cfg)[::-1])][::-1]
    assert batched == reversed_alone
    reseeded = [chat_request(cfg, q.messages, seed=100 + i) for i, q in enumerate(reqs(cfg))]
    assert [r.text for r in backend.generate(reseeded)] != batched  # the seed is really used


def test_dtype_is_configurable(cfg):
    import torch

    from trait.llm.transformers_backend import TransformersBackend

    half = TransformersBackend(cfg.model_copy(update={"dtype": "bfloat16"}))
    out = half.generate(reqs(cfg, 2))
    assert all(isinstance(r, ChatResult) for r in out)
    assert half._model.dtype == torch.bfloat16  # 'auto' on CPU would have been float32


def test_greedy_at_temperature_zero(cfg, backend):
    greedy = cfg.model_copy(update={"temperature": 0.0})
    a = backend.generate([chat_request(greedy, [("user", "x")], seed=1)])[0]
    b = backend.generate([chat_request(greedy, [("user", "x")], seed=2)])[0]
    assert a.text == b.text


def test_prompt_longer_than_the_context_is_a_recorded_failure(cfg, backend):
    long = chat_request(cfg, [("user", "y" * 2100)])
    out = backend.generate([long, reqs(cfg, 1)[0]])
    assert isinstance(out[0], LLMFailure) and out[0].kind == "prompt too long"
    assert isinstance(out[1], ChatResult)


def test_cached_rerun_never_loads_the_model(cfg, tmp_path):
    llm = make_llm(cfg, cache_path=tmp_path / "c.sqlite", failures_path=tmp_path / "f.jsonl")
    first = llm.generate(reqs(cfg), show_progress=False)
    llm.close()
    again = make_llm(cfg, cache_path=tmp_path / "c.sqlite", failures_path=tmp_path / "f.jsonl")
    second = again.generate(reqs(cfg), show_progress=False)
    assert again.backend._model is None  # nothing to generate, so nothing loaded
    assert [r.text for r in second] == [r.text for r in first] and all(r.cached for r in second)
    assert again.stats()["cache_hits"] == 5 and again.stats()["sent"] == 0


def test_missing_model_is_one_clear_error(tmp_path):
    cfg = LLMConfig(backend="transformers", model=str(tmp_path / "nope"))
    with pytest.raises(TraitError, match="nope"):
        make_backend(cfg).generate([chat_request(cfg, [("user", "x")])])


def test_row_sampler_follows_temperature_and_top_p():
    import torch

    from trait.llm import ChatRequest
    from trait.llm.transformers_backend import RowSampler

    n = 4000
    rows = [ChatRequest(model="m", messages=(("user", "x"),), temperature=1.0, top_p=0.8, seed=i) for i in range(n)]
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]])).repeat(n, 1)
    picked = RowSampler(rows)(None, logits).argmax(-1)
    freq = torch.bincount(picked, minlength=4).float() / n
    assert freq[2] == 0 and freq[3] == 0  # outside the 0.8 nucleus
    assert abs(freq[0] - 0.625) < 0.03 and abs(freq[1] - 0.375) < 0.03  # renormalised inside it
    greedy = [ChatRequest(model="m", messages=(("user", "x"),), temperature=0.0, seed=i) for i in range(5)]
    assert RowSampler(greedy)(None, logits[:5]).argmax(-1).tolist() == [0] * 5
    again = RowSampler(rows[:50])(None, logits[:50]).argmax(-1)
    assert again.tolist() == picked[:50].tolist()  # same seeds, same draws, whatever the batch size


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_vllm_backend_without_vllm_says_how_to_install():
    with pytest.raises(TraitError, match=r"pip install 'trait\[vllm\]'"):
        make_backend(LLMConfig(backend="vllm"))
