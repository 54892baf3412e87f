"""Few-shot downstream evaluation through lm-evaluation-harness (``simple_evaluate``).

Backends: ``hf`` loads the model in-process (CPU or GPU); ``local-completions`` sends the same
prompts to any OpenAI-compatible completions server (vLLM, SGLang, llama.cpp, ...). Every sample
(prompt, generation, extracted answer, per-sample scores) is saved as jsonl so a reader can check
what the numbers are made of.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from trait.answers import final_answer
from trait.errors import TraitError
from trait.evaluate.config import EvaluateConfig
from trait.evaluate.lmeval_tasks import GeneratedTasks, task_manager
from trait.io import write_jsonl


def _model_args(ev: EvaluateConfig, model_path: Path) -> tuple[str, dict[str, Any]]:
    if ev.backend == "local-completions":
        args: dict[str, Any] = {"base_url": ev.base_url, "model": ev.api_model or str(model_path),
                                "max_gen_toks": ev.max_gen_tokens, "num_concurrent": ev.batch_size}
        # Prompts go as text (every server takes it); a local tokenizer, when there is one, only
        # lets lm-eval measure prompt lengths.
        args["tokenized_requests"] = False
        if (Path(model_path) / "config.json").exists():
            args |= {"tokenizer_backend": "huggingface", "tokenizer": str(model_path)}
        else:
            args["tokenizer_backend"] = "none"
        return "local-completions", args
    return "hf", {"pretrained": str(model_path), "dtype": ev.dtype}  # device: simple_evaluate's argument


def _sample_row(task: str, s: dict[str, Any]) -> dict[str, Any]:
    generation = s["resps"][0][0] if s.get("resps") and s["resps"][0] else ""
    doc = s["doc"]
    return {"task": task, "id": doc.get("id"), "question": doc.get("question"), "gold": doc.get("answer"),
            "prompt": s["arguments"][0][0] if s.get("arguments") else None, "generation": generation,
            "extracted": final_answer(generation),
            **{m: s[m] for m in s.get("metrics", []) if m in s}}


def run_lmeval(ev: EvaluateConfig, model_path: Path, tasks: GeneratedTasks, out_dir: Path,
               seed: int = 0) -> dict[str, dict[str, Any]]:
    """Run every generated task; returns ``{task: {metric: {value, stderr, k, n, items}}}`` (items:
    [id, 0/1] per sample) and writes the samples."""
    import lm_eval

    if not tasks.tasks:
        return {}
    logging.getLogger("lm_eval").setLevel(logging.WARNING)
    model, model_args = _model_args(ev, Path(model_path))
    model_args = {k: v for k, v in model_args.items() if v is not None}
    try:
        res = lm_eval.simple_evaluate(
            model=model, model_args=model_args, tasks=tasks.lmeval_names, task_manager=task_manager(tasks.folder),
            batch_size=ev.batch_size, device=ev.device if ev.backend == "hf" else None, log_samples=True,
            random_seed=seed, numpy_random_seed=seed, torch_random_seed=seed, fewshot_random_seed=seed,
            bootstrap_iters=100)  # mean metrics get their closed-form stderr; nothing is resampled
    except (OSError, ValueError) as e:  # unreadable model folder, bad server URL...
        raise TraitError(f"evaluate: lm-eval failed for model {model_path}: {e}") from e
    if res is None:
        raise TraitError(f"evaluate: lm-eval returned no results for model {model_path}")
    out: dict[str, dict[str, Any]] = {}
    for name, info in tasks.tasks.items():
        samples = [_sample_row(name, s) for s in res["samples"].get(info.lmeval_name, [])]
        write_jsonl(Path(out_dir) / "samples" / f"{name}.jsonl", samples)
        agg = res["results"][info.lmeval_name]
        out[name] = {}
        for metric in info.metrics:
            k = sum(int(s[metric]) for s in samples)
            stderr = agg.get(f"{metric}_stderr,none")
            out[name][metric] = {"value": float(agg[f"{metric},none"]), "k": k, "n": len(samples),
                                 "stderr": float(stderr) if isinstance(stderr, (int, float))
                                 and not math.isnan(stderr) else None,
                                 "items": [[str(s["id"]), int(s[metric])] for s in samples]}
    return out
