"""A CPT stage SIGKILLed at seeded random checkpoints, then rerun: it resumes from the newest complete
checkpoint (never from step 0), logs every step once, and ends with the same step count, token
count and weights as an uninterrupted run."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
from pathlib import Path

import torch
from reliability_kit import kill_when
from safetensors.torch import load_file

from trait.build.corpus import CorpusSource, build_corpus
from trait.io import read_jsonl
from trait.train.callbacks import last_good_checkpoint
from trait.train.config import StageTrainConfig, TrainConfig
from trait.train.trainer import stage_summary, train_stage

STEPS, SAVE = 12, 2
TRAIN = TrainConfig(base_model="tiny-random", batch_size=2, save_steps=SAVE, logging_steps=1)
STAGE = StageTrainConfig(learning_rate=5e-3, max_steps=STEPS, warmup_ratio=0.0)
CHILD = textwrap.dedent(f"""
    import sys
    from trait.train.config import StageTrainConfig, TrainConfig
    from trait.train.trainer import train_stage
    train_stage(sys.argv[1], sys.argv[2], sys.argv[3], StageTrainConfig.model_validate_json({STAGE.model_dump_json()!r}),
                TrainConfig.model_validate_json({TRAIN.model_dump_json()!r}), seed=0)
""")


def _newest(out: Path) -> int:
    ck = last_good_checkpoint(out / "checkpoints", clean=False)
    return int(ck.name.split("-")[1]) if ck else 0


def test_training_killed_twice_resumes_from_checkpoints_to_the_same_model(tiny_model, tmp_path):
    texts = [f"Item {i}: {i} times 7 is {7 * i}. " * 3 for i in range(30)]
    packed = build_corpus([CorpusSource("math", texts=texts)], tiny_model, 32, 0, tmp_path / "packed")["dataset"]
    rng = random.Random(6)
    out = tmp_path / "stage1"
    for _ in range(2):
        kill_at = rng.randrange(_newest(out) + SAVE, STEPS - SAVE, SAVE)  # some checkpoint before the last
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(tiny_model), str(packed), str(out)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kill_when(proc, lambda k=kill_at: _newest(out) >= k)
        assert not (out / "final").exists() and _newest(out) < STEPS
    killed_at = _newest(out)

    final = train_stage(tiny_model, packed, out, STAGE, TRAIN, seed=0)
    s = stage_summary(out)
    assert s["resumed_from"].endswith(f"checkpoint-{killed_at}") and s["start_step"] == killed_at > 0
    assert s["steps"] == STEPS and s["tokens"] == STEPS * 2 * 32
    assert [r["step"] for r in read_jsonl(out / "loss.jsonl")] == list(range(1, STEPS + 1))  # each step once

    clean = train_stage(tiny_model, packed, tmp_path / "clean", STAGE, TRAIN, seed=0)
    assert stage_summary(tmp_path / "clean")["steps"] == STEPS
    a, b = load_file(str(final / "model.safetensors")), load_file(str(clean / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
