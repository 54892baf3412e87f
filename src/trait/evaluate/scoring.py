"""lm-eval glue: the prompt and target format, stop sequences, the per-sample metrics hook of
generate tasks and the macro-F1 aggregation of classification tasks.

Whether an answer is right is decided by ``trait.answers``; which choice a model picks, by lm-eval's
own multiple_choice scoring. The generated task folder holds a copy
of this file as ``utils.py`` (the YAMLs name ``!function utils.process_results``) and of
``answers.py`` beside it, so the folder also runs with a plain ``lm_eval --include_path``.
"""

from __future__ import annotations

from typing import Any


def _beside(name: str):
    """The module ``<name>.py`` next to this file, loaded by path (lm-eval loads utils.py that way too)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(f"trait_lmeval_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __package__:  # imported as trait.evaluate.scoring
    from trait import answers
else:  # the utils.py copy: its own answers.py, so the folder needs no trait install
    answers = _beside("answers")

PROMPT_TEMPLATE = "Question: {question}\nAnswer:"
STOP_SEQUENCES = ["Question:", "\n\n", "<|im_end|>", "<|endoftext|>", "</s>"]


def format_target(answer: str, solution: str | None = None) -> str:
    """The worked answer a model is shown (few-shot) and scored on (task loss): one format everywhere."""
    final = f"The answer is {answer}."
    return f"{solution.strip()}\n{final}" if solution and solution.strip() else final


def score(generation: str, gold: str, checker: str = "math") -> dict[str, float]:
    """Per-sample metrics; math tasks also get ``math_verify`` (exact, symbolic or numeric equality), f1
    tasks SQuAD's exact match and token F1 of the free-text answer."""
    if checker == "f1":
        pred = answers.free_answer(generation)
        return {"exact_match": int(answers.squad_exact(pred, gold)), "f1": answers.token_f1(pred, gold)}
    pred = answers.final_answer(generation)
    out = {"exact_match": int(answers.exact_match(pred, gold))}
    if checker == "math":
        out["math_verify"] = int(answers.math_equal(pred, gold))
    return out


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """lm-eval hook: ``results[0]`` is the generation for ``doc``."""
    return score(results[0], str(doc["answer"]), doc.get("checker", "math"))


def macro_f1_rows(golds, preds):
    """Macro-F1 of each row of two (rows, items) arrays of gold and predicted label indices: per label
    F1 = 2 TP / (gold count + predicted count), averaged over the labels that occur as gold or prediction
    in that row (sklearn's ``average="macro"``, whose input checks cost ~20 ms a call: too slow for a
    bootstrap)."""
    import numpy as np

    g, p = np.atleast_2d(np.asarray(golds, dtype=int)), np.atleast_2d(np.asarray(preds, dtype=int))
    k = int(max(g.max(), p.max())) + 1
    rows = np.arange(g.shape[0])[:, None]

    def count(labels):  # (rows, k + 1): label k collects what is not counted
        out = np.zeros((g.shape[0], k + 1))
        np.add.at(out, (rows, labels), 1)
        return out[:, :k]

    both = count(g) + count(p)
    f1 = np.divide(2 * count(np.where(g == p, g, k)), both, out=np.zeros_like(both), where=both > 0)
    return f1.sum(axis=1) / (both > 0).sum(axis=1)


def macro_f1(items: list[tuple[int, int]]) -> float:
    """lm-eval aggregation of the multiple_choice ``f1`` metric ((gold, predicted) index per item):
    macro-F1 (lm-eval's own ``f1`` aggregation is binary)."""
    golds, preds = zip(*items)
    return float(macro_f1_rows([golds], [preds])[0])
