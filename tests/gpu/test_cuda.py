"""What only a GPU can check: the CUDA paths of local generation, training and scoring.

Skipped where torch sees no CUDA device (CI, laptops); run on a GPU machine with
``pytest -q tests/gpu``. Every check uses the tiny random model, so it needs no download.
"""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _requests(cfg, n: int = 6):
    from trait.llm import chat_request

    return [chat_request(cfg, [("system", "s"), ("user", "count " + "to ten " * i)], seed=i) for i in range(n)]


@pytest.fixture(scope="module")
def gen_cfg(tiny_model):
    from trait.llm.config import LLMConfig

    return LLMConfig(backend="transformers", model=str(tiny_model), max_tokens=12, batch_size=3, device="auto",
                     temperature=1.0, top_p=0.9)


def test_local_generation_runs_on_the_gpu_and_repeats_itself(gen_cfg):
    from trait.llm import ChatResult, make_backend

    torch.cuda.reset_peak_memory_stats()
    backend = make_backend(gen_cfg)  # device 'auto' must pick the GPU
    first = backend.generate(_requests(gen_cfg))
    again = backend.generate(_requests(gen_cfg))
    backend.close()
    assert torch.cuda.max_memory_allocated() > 0  # the model and its activations were on the GPU
    assert all(isinstance(r, ChatResult) for r in first)
    assert all(1 <= r.completion_tokens <= gen_cfg.max_tokens for r in first)
    assert [r.text for r in first] == [r.text for r in again]  # seeded sampling is deterministic on CUDA


def test_float32_gpu_outputs_do_not_depend_on_the_batch(gen_cfg):
    """A resumed run regenerates the missing requests in other batches: with ``llm.dtype: float32`` it
    gets the same texts (bfloat16, the GPU default, does not promise this: its rounding varies with
    the batch's shape, and so do the samples)."""
    from trait.llm import make_backend

    exact = gen_cfg.model_copy(update={"dtype": "float32"})
    batched = [r.text for r in make_backend(exact).generate(_requests(exact))]
    alone = make_backend(exact.model_copy(update={"batch_size": 1}))
    assert [r.text for r in alone.generate(_requests(exact)[::-1])][::-1] == batched


def test_bf16_training_on_the_gpu(tiny_model, packed, tmp_path):
    from safetensors.torch import load_file

    from trait.io import read_jsonl
    from trait.train.config import StageTrainConfig, TrainConfig
    from trait.train.trainer import stage_summary, train_stage

    torch.cuda.reset_peak_memory_stats()
    cfg = TrainConfig(base_model="tiny-random", batch_size=4, save_steps=5, logging_steps=1, bf16=True)
    final = train_stage(tiny_model, packed, tmp_path / "s1", StageTrainConfig(learning_rate=5e-3, max_steps=10,
                                                                             warmup_ratio=0.0), cfg, seed=0)
    assert torch.cuda.max_memory_allocated() > 0
    summary = stage_summary(tmp_path / "s1")
    assert summary["steps"] == 10 and summary["bf16"] is True
    log = read_jsonl(tmp_path / "s1" / "loss.jsonl")
    assert all(math.isfinite(r["loss"]) for r in log) and log[-1]["loss"] < log[0]["loss"]
    before = load_file(str(tiny_model / "model.safetensors"))
    after = load_file(str(final / "model.safetensors"))
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_scoring_on_the_gpu_matches_the_cpu(tiny_model):
    from trait.evaluate.nll import load, score_sequences

    seqs = [([5, 6, 7, 8, 9, 10], [-100, -100, 7, 8, 9, 10]), ([11, 12, 13], [-100, 12, 13])]
    cpu = score_sequences(load(tiny_model, "cpu")[0], seqs, batch_size=2)
    gpu = score_sequences(load(tiny_model, "cuda")[0], seqs, batch_size=2)
    assert [s.tokens for s in gpu] == [s.tokens for s in cpu] == [4, 2]
    for a, b in zip(cpu, gpu):
        assert b.nll == pytest.approx(a.nll, rel=1e-3)  # float32 on both: only kernel rounding differs
