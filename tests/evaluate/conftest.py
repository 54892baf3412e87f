"""Fixtures of the evaluate tests: a small config over the example tasks, and a model tuned on gold answers."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from trait.config import TraitConfig, load_config

EXAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "math" / "config.yaml"
SMALL = ["evaluate.limit=3", "evaluate.num_fewshot=1", "evaluate.fewshot_pool=4", "evaluate.max_gen_tokens=8",
         "evaluate.task_loss_limit=5", "evaluate.perplexity_max_docs=3", "evaluate.perplexity_context=64",
         "evaluate.perplexity_max_tokens_per_doc=200", "evaluate.batch_size=4", "evaluate.bootstrap_iters=200",
         "evaluate.task_limits={}", "evaluate.lmeval_builtin={}"]  # the demo's extras: tested on their own


@pytest.fixture
def make_cfg(tmp_path, tiny_model) -> Callable[..., TraitConfig]:
    """The math example's tasks and held-out text, tiny budgets, the tiny model as base (+ overrides)."""
    def make(*overrides: str) -> TraitConfig:
        return load_config(EXAMPLE_CONFIG, SMALL + [f"runs_dir={tmp_path / 'runs'}", f"train.base_model={tiny_model}",
                                                    *overrides])
    return make


@pytest.fixture
def eval_cfg(make_cfg) -> TraitConfig:
    return make_cfg()


@pytest.fixture
def completions_server(tiny_model):
    """A live OpenAI-compatible completions server over the tiny model."""
    from eval_completions_server import CompletionsServer

    server = CompletionsServer(tiny_model).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tuned_model(tiny_model, tmp_path_factory) -> Path:
    """The tiny model after 40 AdamW steps on the gold worked answers of the task-loss items."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from trait.evaluate.items import eval_items
    from trait.evaluate.task_loss import encode

    cfg = load_config(EXAMPLE_CONFIG, SMALL + [f"train.base_model={tiny_model}"])
    tok = AutoTokenizer.from_pretrained(tiny_model)
    seqs = [encode(tok, p, 256) for spec in cfg.tasks
            for p in eval_items(spec, "test", cfg.evaluate.task_loss_limit, cfg.seed)]
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for step in range(40):
        ids, labels = seqs[step % len(seqs)]
        loss = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels])).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    out = tmp_path_factory.mktemp("tuned") / "model"
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture
def model_copy(tiny_model, tmp_path) -> Path:
    """A private copy of the tiny model (tests that change a model's files must not touch the shared one)."""
    dst = tmp_path / "model-copy"
    shutil.copytree(tiny_model, dst)
    return dst
