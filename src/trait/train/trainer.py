"""One CPT stage on ``transformers.Trainer``: checkpoints, resume after a crash, loss log, atomic save.

The same function runs on a laptop CPU and under ``accelerate launch`` on many GPUs (Trainer reads
the distributed setup from the environment; see examples/accelerate/fsdp.yaml).
"""

from __future__ import annotations

import inspect
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trait.errors import TraitError
from trait.io import read_json, write_json
from trait.train.callbacks import LossLog, PackedCollator, last_good_checkpoint
from trait.train.config import StageTrainConfig, TrainConfig
from trait.ui import info

FINAL, CHECKPOINTS, LOSS_LOG, STAGE_SUMMARY = "final", "checkpoints", "loss.jsonl", "stage.json"


def native_bf16(cpuinfo: str) -> bool:
    """Whether a CPU (its /proc/cpuinfo text) computes bf16 natively; without it autocast is emulated:
    a SmolLM2-135M step (4 x 256 tokens) took 228 s in bf16 against 17 s in float32 on an AVX2 CPU."""
    flags = set(cpuinfo.split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def _warn_emulated_bf16(train_cfg: TrainConfig) -> None:
    if train_cfg.bf16 and not _has_accelerator() and os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            if not native_bf16(fh.read()):
                info("[yellow]train.bf16 on a CPU without native bf16 (no avx512_bf16 / amx_bf16): autocast "
                     "is emulated and about 13x slower than float32; set train.bf16: false[/yellow]")


def training_args(out_dir: Path, stage_cfg: StageTrainConfig, train_cfg: TrainConfig, seed: int) -> Any:
    """The TrainingArguments of a stage (also used by the throughput benchmark's plain Trainer)."""
    from transformers import TrainingArguments

    # transformers renamed gradient_checkpointing to activation_checkpointing (older GPU images lack it)
    params = inspect.signature(TrainingArguments.__init__).parameters
    checkpointing = ("activation_checkpointing" if "activation_checkpointing" in params
                     else "gradient_checkpointing")
    return TrainingArguments(
        output_dir=str(out_dir / CHECKPOINTS), per_device_train_batch_size=train_cfg.batch_size,
        gradient_accumulation_steps=train_cfg.grad_accum, learning_rate=stage_cfg.learning_rate,
        num_train_epochs=stage_cfg.epochs, max_steps=stage_cfg.max_steps or -1,
        warmup_steps=0, lr_scheduler_type=stage_cfg.lr_scheduler,  # warmup: see _WarmupTrainer
        weight_decay=stage_cfg.weight_decay, max_grad_norm=train_cfg.max_grad_norm, bf16=train_cfg.bf16,
        save_strategy="steps", **{checkpointing: train_cfg.gradient_checkpointing},
        save_steps=train_cfg.save_steps, save_total_limit=train_cfg.save_total_limit,
        logging_steps=train_cfg.logging_steps, include_num_input_tokens_seen="all", report_to="none",
        seed=seed, data_seed=seed, dataloader_num_workers=train_cfg.dataloader_workers,
        remove_unused_columns=False, dataloader_pin_memory=_has_accelerator(),
        use_cpu=train_cfg.bf16 and not _has_accelerator())  # Trainer refuses bf16 on CPU unless told


def train_stage(model_path: str | os.PathLike, dataset_dir: str | os.PathLike, out_dir: str | os.PathLike,
                stage_cfg: StageTrainConfig, train_cfg: TrainConfig, seed: int,
                *, callbacks: Sequence[Any] = ()) -> Path:
    """Train ``model_path`` on the packed blocks in ``dataset_dir``; return ``out_dir/final``.

    Checkpoints go to ``out_dir/checkpoints`` every ``save_steps``; a rerun after a crash resumes
    from the newest complete one. A finished stage (``final`` exists) returns at once.
    """
    import torch
    from datasets import load_from_disk
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer

    _warn_emulated_bf16(train_cfg)
    out_dir = Path(out_dir)
    final = out_dir / FINAL
    if (final / "config.json").exists() and (out_dir / STAGE_SUMMARY).exists():
        return final
    if not Path(dataset_dir).is_dir():
        raise TraitError(f"{dataset_dir}: packed dataset missing (run `trait build`)")
    out_dir.mkdir(parents=True, exist_ok=True)
    dataset = load_from_disk(str(dataset_dir)).with_format("numpy")
    if len(dataset) == 0 or "input_ids" not in dataset.column_names:
        raise TraitError(f"{dataset_dir}: no packed input_ids blocks to train on")
    tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    model = AutoModelForCausalLM.from_pretrained(str(model_path), dtype=torch.float32)
    args = training_args(out_dir, stage_cfg, train_cfg, seed)
    trainer = _warmup_trainer(Trainer, stage_cfg.warmup_ratio)(model=model, args=args, train_dataset=dataset, data_collator=PackedCollator(),
                      processing_class=tokenizer, callbacks=[LossLog(out_dir / LOSS_LOG), *callbacks])
    resume = last_good_checkpoint(out_dir / CHECKPOINTS, clean=trainer.is_world_process_zero())
    start = read_json(resume / "trainer_state.json") if resume else {}
    start_step, start_tokens = int(start.get("global_step", 0)), int(start.get("num_input_tokens_seen", 0))
    if resume:
        info(f"{out_dir.name}: resuming from {resume.name} (step {start_step})")
    t0 = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    wall = time.perf_counter() - t0
    state = trainer.state
    tokens_run = state.num_input_tokens_seen - start_tokens  # this session only, for tokens/s
    _save_final(trainer, final)
    summary = {"model_in": str(model_path), "dataset": str(dataset_dir), "model": str(final),
               "blocks": len(dataset), "seq_len": len(dataset[0]["input_ids"]),
               "steps": state.global_step, "tokens": int(state.num_input_tokens_seen),
               "resumed_from": str(resume) if resume else None, "start_step": start_step,
               "final_loss": _last_loss(state.log_history), "train_loss": result.training_loss,
               "wall_s": round(wall, 2), "tokens_per_s": round(tokens_run / wall, 2) if wall else None,
               "bf16": train_cfg.bf16, "world_size": args.world_size,
               "schedule": stage_cfg.model_dump(mode="json")}
    if trainer.is_world_process_zero():
        write_json(out_dir / STAGE_SUMMARY, summary)
        info(f"{out_dir.name}: {summary['steps']} steps, {summary['tokens']} tokens, final loss "
             f"{summary['final_loss']}, {summary['tokens_per_s']} tok/s")
    trainer.accelerator.wait_for_everyone()  # other ranks read the summary after this
    return final


def _warmup_trainer(base: type, ratio: float) -> type:
    """A Trainer whose warmup never spends an update at learning rate 0.

    transformers' schedules give update 1 the factor step/warmup = 0, so a 9-step stage with one
    warmup step trained 8 times. Here the warmup is floor(ratio x steps) updates (a ratio that rounds
    to 0 means none), and update k of it runs at k/(warmup+1) of the schedule's rate.
    """

    class WarmupTrainer(base):  # type: ignore[misc, valid-type]
        def create_scheduler(self, num_training_steps: int, optimizer: Any = None) -> Any:
            sched = super().create_scheduler(num_training_steps, optimizer)
            warmup = int(ratio * num_training_steps)
            if warmup > 0 and hasattr(sched, "lr_lambdas"):
                sched.lr_lambdas = [lambda s, f=f: f(s) * min(1.0, (s + 1) / (warmup + 1))
                                    for f in sched.lr_lambdas]
                for group, f, base_lr in zip(sched.optimizer.param_groups, sched.lr_lambdas, sched.base_lrs):
                    group["lr"] = base_lr * f(sched.last_epoch)  # the first update's rate, recomputed
                sched._last_lr = [g["lr"] for g in sched.optimizer.param_groups]
            return sched

    return WarmupTrainer


def _has_accelerator() -> bool:
    import torch

    return torch.cuda.is_available()


def stage_summary(out_dir: str | os.PathLike) -> dict[str, Any]:
    return read_json(Path(out_dir) / STAGE_SUMMARY)


def _save_final(trainer: Any, final: Path) -> None:
    """Save into a temp folder, then rename: ``final`` is either absent or complete.
    Every rank calls save_model (FSDP gathers the weights; the tokenizer is saved with them); only the
    main process writes and renames."""
    tmp = final.with_name(f".{final.name}.tmp")
    if trainer.is_world_process_zero():
        shutil.rmtree(tmp, ignore_errors=True)
    trainer.save_model(str(tmp))
    if trainer.is_world_process_zero():
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)


def _last_loss(history: list[dict[str, Any]]) -> float | None:
    losses = [h["loss"] for h in history if "loss" in h]
    return float(losses[-1]) if losses else None
