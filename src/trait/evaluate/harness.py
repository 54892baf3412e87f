"""Few-shot downstream evaluation through lm-evaluation-harness (``simple_evaluate``).

Backends: ``hf`` loads the model in-process (CPU or GPU); ``local-completions`` sends the same
prompts to any OpenAI-compatible completions server (vLLM, SGLang, llama.cpp, ...). Every sample
(prompt, generation and extracted answer, or each choice's log-likelihood and the pick; per-sample
scores) is saved as jsonl so a reader can check what the numbers are made of.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from trait.answers import final_answer, free_answer
from trait.errors import TraitError
from trait.evaluate.config import EvaluateConfig
from trait.evaluate.lmeval_tasks import GeneratedTasks, TaskInfo, lmeval_key, task_manager
from trait.io import write_jsonl


def model_args(ev: EvaluateConfig, model_path: Path) -> tuple[str, dict[str, Any]]:
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


def _sample_row(info: TaskInfo, s: dict[str, Any]) -> dict[str, Any]:
    doc = s["doc"]
    row = {"task": info.task, "id": doc.get("id"), "question": doc.get("question"), "gold": doc.get("answer"),
           "prompt": s["arguments"][0][0] if s.get("arguments") else None}
    if info.type == "generate":
        generation = s["resps"][0][0] if s.get("resps") and s["resps"][0] else ""
        extract = free_answer if info.checker == "f1" else final_answer
        row |= {"generation": generation, "extracted": extract(generation)}
    else:  # one (log-likelihood, is-greedy) per choice
        lls = [float(r[0]) for r in s.get("filtered_resps", [])]
        choices = doc.get("choices") or []
        row |= {"choices": choices, "loglikelihoods": lls,
                "predicted": choices[max(range(len(lls)), key=lls.__getitem__)] if lls else None}
    for metric in info.metrics:
        value = s.get(lmeval_key(metric))
        # macro-F1 gets (gold, predicted) indices per item; the others a per-item score
        row[metric] = [int(v) for v in value] if isinstance(value, (tuple, list)) else float(value)
    return row


def _metric(metric: str, samples: list[dict[str, Any]], agg: dict[str, Any]) -> dict[str, Any]:
    """One metric of one task: its value and lm-eval stderr, with the per-item values behind it: ``items``
    ([id, score]) for a mean over items (``k``: how many are right, for a 0/1 score), ``pairs`` ([id, gold,
    predicted]) for macro-F1."""
    stderr = agg.get(f"{lmeval_key(metric)}_stderr,none")
    out = {"value": float(agg[f"{lmeval_key(metric)},none"]), "n": len(samples),
           "stderr": float(stderr) if isinstance(stderr, (int, float)) and not math.isnan(stderr) else None}
    if metric == "macro_f1":
        return out | {"pairs": [[str(s["id"]), *s[metric]] for s in samples]}
    if metric == "f1":  # a mean of token F1s in [0, 1]
        return out | {"items": [[str(s["id"]), s[metric]] for s in samples]}
    items = [[str(s["id"]), int(s[metric])] for s in samples]
    return out | {"items": items, "k": sum(v for _, v in items)}  # a proportion: its CI is Wilson's


def evaluate_tasks(ev: EvaluateConfig, model_path: Path, names: list[str], folder: Path, seed: int,
                   gen_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    """lm-eval's ``simple_evaluate`` of the tasks ``names`` found in ``folder``, samples logged; every
    failure is one ``TraitError`` line naming the model."""
    import lm_eval

    logging.getLogger("lm_eval").setLevel(logging.WARNING)
    model, args = model_args(ev, Path(model_path))
    args = {k: v for k, v in args.items() if v is not None}
    try:
        res = lm_eval.simple_evaluate(
            model=model, model_args=args, tasks=names, task_manager=task_manager(folder),
            batch_size=ev.batch_size, device=ev.device if ev.backend == "hf" else None, log_samples=True,
            gen_kwargs=gen_kwargs, random_seed=seed, numpy_random_seed=seed, torch_random_seed=seed,
            fewshot_random_seed=seed,
            bootstrap_iters=100)  # mean metrics get their closed-form stderr; nothing is resampled
    except (OSError, ValueError) as e:  # unreadable model folder, bad server URL...
        raise TraitError(f"evaluate: lm-eval failed for model {model_path}: {e}") from e
    if res is None:
        raise TraitError(f"evaluate: lm-eval returned no results for model {model_path}")
    return res


def run_lmeval(ev: EvaluateConfig, model_path: Path, tasks: GeneratedTasks, out_dir: Path,
               seed: int = 0) -> dict[str, dict[str, Any]]:
    """Run every generated task; returns ``{task: {metric: {value, stderr, n, items | pairs, k}}}`` (items:
    [id, score] per sample; k: the number right, for 0/1 scores) and writes the samples."""
    if not tasks.tasks:
        return {}
    res = evaluate_tasks(ev, model_path, tasks.lmeval_names, tasks.folder, seed)
    out: dict[str, dict[str, Any]] = {}
    for name, info in tasks.tasks.items():
        samples = [_sample_row(info, s) for s in res["samples"].get(info.lmeval_name, [])]
        write_jsonl(Path(out_dir) / "samples" / f"{name}.jsonl", samples)
        agg = res["results"][info.lmeval_name]
        out[name] = {metric: _metric(metric, samples, agg) for metric in info.metrics}
    return out
