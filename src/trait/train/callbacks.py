"""Small pieces around ``transformers.Trainer``: the packed-block collator, the per-stage loss log,
and finding a checkpoint that is safe to resume from."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import TrainerCallback

from trait.io import atomic_open, dumps

STATE_FILE = "trainer_state.json"


class PackedCollator:
    """Blocks are full ``seq_len`` rows, so a batch is a plain stack and labels are the inputs.

    (``DataCollatorForLanguageModeling`` would mask every token equal to the pad id as -100; SmolLM2
    pads with its EOS token, so it would silently drop the document separators from the loss.)
    """

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        ids = torch.from_numpy(np.stack([np.asarray(f["input_ids"], dtype=np.int64) for f in features]))
        return {"input_ids": ids, "labels": ids.clone()}


class LossLog(TrainerCallback):
    """Append ``{step, loss, lr, tokens, grad_norm, epoch, elapsed_s}`` per log to a jsonl file.

    On resume, entries past the checkpoint's step (written by the crashed run) are dropped first, so
    the log shows each step once.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.t0 = time.perf_counter()

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        kept = [r for r in _read_log(self.path) if r.get("step", 0) <= state.global_step]
        self.offset = kept[-1].get("elapsed_s", 0.0) if kept else 0.0
        with atomic_open(self.path, "wb") as fh:
            for r in kept:
                fh.write(dumps(r))
        self.t0 = time.perf_counter()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs or "loss" not in logs:
            return
        row = {"step": state.global_step, "loss": float(logs["loss"]),
               "lr": float(logs.get("learning_rate", 0.0)), "tokens": int(state.num_input_tokens_seen),
               "grad_norm": _maybe_float(logs.get("grad_norm")), "epoch": _maybe_float(logs.get("epoch")),
               "elapsed_s": round(getattr(self, "offset", 0.0) + time.perf_counter() - self.t0, 3)}
        with open(self.path, "ab") as fh:
            fh.write(dumps(row))


def last_good_checkpoint(folder: str | os.PathLike, *, clean: bool = True) -> Path | None:
    """The newest ``checkpoint-N`` whose trainer state (written last by Trainer) is complete JSON.

    Trainer does not write checkpoints atomically, so a kill mid-save leaves a folder without a
    readable state; such folders are removed (``clean``) rather than resumed from.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return None
    found = []
    for p in folder.glob("checkpoint-*"):
        suffix = p.name.split("-", 1)[1]
        if not (p.is_dir() and suffix.isdigit()):
            continue
        try:
            json.loads((p / STATE_FILE).read_text())
            found.append((int(suffix), p))
        except (OSError, ValueError):
            if clean:
                shutil.rmtree(p, ignore_errors=True)
    return max(found)[1] if found else None


def _read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_bytes().splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue  # a line cut by the crash: the step is re-run and logged again
    return rows


def _maybe_float(x: Any) -> float | None:
    return None if x is None else float(x)
