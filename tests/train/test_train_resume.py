"""A stage killed mid-training resumes from its last complete checkpoint, not from step 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import TrainerCallback

from trait.io import read_jsonl
from trait.train.callbacks import last_good_checkpoint
from trait.train.config import StageTrainConfig, TrainConfig
from trait.train.trainer import stage_summary, train_stage

TRAIN = TrainConfig(base_model="tiny-random", batch_size=2, save_steps=2, logging_steps=1)
STAGE = StageTrainConfig(learning_rate=5e-3, max_steps=6, warmup_ratio=0.0)


class Crash(TrainerCallback):
    """Raise right after the first checkpoint is written, as a crash at a known point would."""

    def on_save(self, args, state, control, **kwargs):
        raise RuntimeError(f"simulated crash after checkpoint-{state.global_step}")



def test_crash_then_rerun_resumes_from_checkpoint(tiny_model, packed, tmp_path):
    out = tmp_path / "stage1"
    with pytest.raises(RuntimeError, match="simulated crash after checkpoint-2"):
        train_stage(tiny_model, packed, out, STAGE, TRAIN, seed=0, callbacks=[Crash()])
    assert not (out / "final").exists()
    assert last_good_checkpoint(out / "checkpoints").name == "checkpoint-2"

    final = train_stage(tiny_model, packed, out, STAGE, TRAIN, seed=0)
    s = stage_summary(out)
    assert s["resumed_from"].endswith("checkpoint-2") and s["start_step"] == 2 and s["steps"] == 6
    assert s["tokens"] == 6 * 64  # token count carried over from the checkpoint
    assert [r["step"] for r in read_jsonl(out / "loss.jsonl")] == [1, 2, 3, 4, 5, 6]  # each step once

    # Resuming restores optimizer, schedule, RNG and data position: same weights as an unbroken run.
    clean = train_stage(tiny_model, packed, tmp_path / "clean", STAGE, TRAIN, seed=0)
    a, b = load_file(str(final / "model.safetensors")), load_file(str(clean / "model.safetensors"))
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


def test_half_written_checkpoint_is_ignored(tmp_path):
    ck = tmp_path / "checkpoints"
    (ck / "checkpoint-4").mkdir(parents=True)
    (ck / "checkpoint-4" / "trainer_state.json").write_text(json.dumps({"global_step": 4}))
    (ck / "checkpoint-6").mkdir()  # killed while saving: no trainer state yet
    (ck / "checkpoint-8").mkdir()
    (ck / "checkpoint-8" / "trainer_state.json").write_text('{"global_st')  # cut mid-write
    assert last_good_checkpoint(ck).name == "checkpoint-4"
    assert sorted(p.name for p in ck.iterdir()) == ["checkpoint-4"]


CHILD = """
import sys
from trait.train.config import StageTrainConfig, TrainConfig
from trait.train.trainer import train_stage
train_stage(sys.argv[1], sys.argv[2], sys.argv[3], StageTrainConfig(learning_rate=5e-3, max_steps=30),
            TrainConfig(batch_size=2, save_steps=2), seed=0)
"""


def test_sigkill_mid_stage_then_rerun_finishes(tiny_model, packed, tmp_path):
    out = tmp_path / "stage1"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).parents[2] / "src"),
                                                                      os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(tiny_model), str(packed), str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while last_good_checkpoint(out / "checkpoints", clean=False) is None:
            assert proc.poll() is None, "training exited before writing a checkpoint"
            assert time.monotonic() < deadline, "no checkpoint within 120 s"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert not (out / "final").exists()
    killed_at = int(last_good_checkpoint(out / "checkpoints", clean=False).name.split("-")[1])
    stage = StageTrainConfig(learning_rate=5e-3, max_steps=30)
    train_stage(tiny_model, packed, out, stage, TrainConfig(batch_size=2, save_steps=2), seed=0)
    s = stage_summary(out)
    assert s["start_step"] >= killed_at >= 2 and s["steps"] == 30
    steps = [r["step"] for r in read_jsonl(out / "loss.jsonl")]
    assert steps == sorted(set(steps)) and steps[-1] == 30
