"""Training throughput of TRAIT's ``train_stage`` against a plain ``transformers.Trainer``, in one run.

Both train the same model on the same packed blocks with the same batch, schedule and precision; both
timings cover load model -> train -> save the final model. The two are interleaved ``--repeats``
times and the best run of each is kept, so a busy shared CPU biases neither. Goal: ratio >= 0.95.
On a shared machine wall-clock rates mostly measure the neighbours; the process CPU time is also
printed, as tokens per CPU-second (x threads = the rate an idle machine would reach, at best).

    python benchmarks/cpt_throughput.py                                   # tiny random model, seconds
    python benchmarks/cpt_throughput.py --model smollm2-135m --seq-len 512 --steps 4 [--bf16]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "math" / "data" / "math_prose" / "openstax_math.jsonl.gz"


def timed(fn, *args) -> tuple[float, float, float]:
    """(wall seconds, process CPU seconds) of one call, and the seconds it says its training loop took."""
    w, c = time.perf_counter(), time.process_time()
    loop_s = fn(*args)
    return time.perf_counter() - w, time.process_time() - c, loop_s


def plain_trainer(model_path: Path, dataset_dir: Path, out: Path, args_kw: dict) -> float:
    """The reference: what a user would write with transformers alone."""
    import torch
    from datasets import load_from_disk
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        DataCollatorForLanguageModeling,
        Trainer,
        TrainingArguments,
    )

    tok = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    ds = load_from_disk(str(dataset_dir))
    trainer = Trainer(model=model, args=TrainingArguments(output_dir=str(out), save_strategy="no",
                                                          report_to="none", **args_kw),
                      train_dataset=ds, data_collator=DataCollatorForLanguageModeling(tok, mlm=False))
    t0 = time.perf_counter()  # timed as train_stage times its own trainer.train() call
    trainer.train()
    loop_s = time.perf_counter() - t0
    trainer.save_model(str(out / "final"))
    return loop_s


def ours(model_path: Path, dataset_dir: Path, out: Path, steps: int, batch: int, bf16: bool) -> float:
    from trait.train.config import StageTrainConfig, TrainConfig
    from trait.train.trainer import stage_summary, train_stage

    train_stage(model_path, dataset_dir, out, StageTrainConfig(max_steps=steps, warmup_ratio=0.0,
                                                               lr_scheduler="linear"),
                TrainConfig(batch_size=batch, bf16=bf16, save_steps=10**9, logging_steps=500), seed=0)
    return float(stage_summary(out)["wall_s"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="tiny-random", help="alias or local folder (trait.models.resolve_model)")
    ap.add_argument("--seq-len", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast (both trainers)")
    a = ap.parse_args()

    import torch

    from trait.build.corpus import CorpusSource, build_corpus
    from trait.models import resolve_model

    model = resolve_model(a.model)
    work = Path(tempfile.mkdtemp(prefix="cpt-bench-"))
    try:
        tokens = a.steps * a.batch_size * a.seq_len
        corpus = build_corpus([CorpusSource("math_prose", paths=[EXAMPLE], max_epochs=100)], model, a.seq_len, 0,
                              work / "corpus", total_tokens=tokens + a.seq_len)
        data = Path(corpus["dataset"])
        args_kw = {"per_device_train_batch_size": a.batch_size, "max_steps": a.steps, "learning_rate": 5e-5,
                   "lr_scheduler_type": "linear", "bf16": a.bf16, "logging_steps": 500, "seed": 0,
                   "use_cpu": a.bf16 and not torch.cuda.is_available()}
        ours(model, data, work / "warmup", 2, a.batch_size, a.bf16)  # one-time costs (imports, kernels)
        runs: dict[str, list[tuple[float, float, float]]] = {"plain Trainer": [], "train_stage": []}
        for r in range(a.repeats):  # alternate the order, so neither always runs second
            jobs = [("plain Trainer", plain_trainer, (model, data, work / f"plain{r}", args_kw)),
                    ("train_stage", ours, (model, data, work / f"ours{r}", a.steps, a.batch_size, a.bf16))]
            for name, fn, fn_args in (jobs if r % 2 == 0 else jobs[::-1]):
                runs[name].append(timed(fn, *fn_args))
                shutil.rmtree(fn_args[2], ignore_errors=True)

        print(f"model={a.model} seq_len={a.seq_len} batch={a.batch_size} steps={a.steps} bf16={a.bf16} "
              f"tokens/run={tokens} threads={torch.get_num_threads()} load={os.getloadavg()[0]:.1f}")
        best = {}
        for name, rs in runs.items():
            wall, cpu, loop = (min(r[i] for r in rs) for i in range(3))
            best[name] = (tokens / wall, tokens / cpu, tokens / loop)
            print(f"{name:14s}: {tokens / wall:9.1f} tok/s wall, {tokens / cpu:9.1f} tok/CPU-s, "
                  f"{tokens / loop:9.1f} tok/s in the training loop "
                  f"(runs: {', '.join(f'{w:.1f}s/{c:.1f}cpu-s/{lp:.1f}s loop' for w, c, lp in rs)})")
        (pw, pc, pl), (ow, oc, ol) = best["plain Trainer"], best["train_stage"]
        print(f"ratio (ours / plain) = {ow / pw:.3f} wall, {oc / pc:.3f} CPU, {ol / pl:.3f} training loop   "
              "goal >= 0.95 (wall)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
