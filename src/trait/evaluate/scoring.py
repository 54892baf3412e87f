"""lm-eval glue: the prompt and target format, stop sequences, and the per-sample metrics hook.

Whether an answer is right is decided by ``trait.answers``. The generated task folder holds a copy
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


def score(generation: str, gold: str, checker: str = "math") -> dict[str, int]:
    """Per-sample metrics; math tasks also get ``math_verify`` (exact, symbolic or numeric equality)."""
    pred = answers.final_answer(generation)
    out = {"exact_match": int(answers.exact_match(pred, gold))}
    if checker == "math":
        out["math_verify"] = int(answers.math_equal(pred, gold))
    return out


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, int]:
    """lm-eval hook: ``results[0]`` is the generation for ``doc``."""
    return score(results[0], str(doc["answer"]), doc.get("checker", "math"))
