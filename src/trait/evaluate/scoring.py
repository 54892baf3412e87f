"""Answer extraction and scoring for generated solutions (exact match + math-verify equivalence).

This module is also copied verbatim beside the generated lm-eval task YAMLs as ``utils.py`` (the
YAMLs reference it with ``!function utils.process_results``), so it must import nothing from
``trait``: the generated folder then runs with plain ``lm_eval --include_path`` too.
"""

from __future__ import annotations

import re
from typing import Any

PROMPT_TEMPLATE = "Question: {question}\nAnswer:"
STOP_SEQUENCES = ["Question:", "\n\n", "<|im_end|>", "<|endoftext|>", "</s>"]

_NUMBER = r"-?\$?\s?\d[\d,]*(?:\.\d+)?(?:/\d+)?"
_HASHES = re.compile(r"####\s*(" + _NUMBER + r"|\S+)")
_ANSWER_IS = re.compile(r"[Tt]he (?:final )?answer is[:\s]*\$?\\?(?:boxed\{)?\s*(" + _NUMBER + r")")
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
_ANY_NUMBER = re.compile(_NUMBER)


def format_target(answer: str, solution: str | None = None) -> str:
    """The worked answer a model is shown (few-shot) and scored on (task loss): one format everywhere."""
    final = f"The answer is {answer}."
    return f"{solution.strip()}\n{final}" if solution and solution.strip() else final


def extract_answer(text: str) -> str | None:
    """The model's final answer: '#### x', then 'The answer is x', then \\boxed{x}, then the last number."""
    for pattern in (_HASHES, _ANSWER_IS, _BOXED):
        m = pattern.search(text)
        if m:
            return m.group(1).strip()
    numbers = _ANY_NUMBER.findall(text)
    return numbers[-1].strip() if numbers else None


def normalize_answer(ans: str) -> str:
    """Canonical string of an answer: no $, commas, spaces or trailing period; '72.0' -> '72'."""
    s = ans.strip().replace(",", "").replace("$", "").replace(" ", "").rstrip(".")
    try:
        value = float(s)
    except ValueError:
        return s.lower()
    if value.is_integer():
        return str(int(value))
    return repr(value)


def exact_match(pred: str | None, gold: str) -> bool:
    return pred is not None and normalize_answer(pred) == normalize_answer(gold)


def math_equivalent(pred: str | None, gold: str) -> bool:
    """Symbolic / numeric equivalence by math-verify (1/2 == 0.5); False when either side does not parse."""
    if pred is None:
        return False
    from math_verify import parse, verify

    try:
        g, p = parse(gold), parse(pred)
        return bool(g) and bool(p) and bool(verify(g, p))
    except Exception:  # noqa: BLE001 - math-verify raises on unparsable input: that is simply "wrong"
        return False


def score(generation: str, gold: str, checker: str = "math") -> dict[str, int]:
    """Per-sample metrics; math tasks also get ``math_verify``."""
    pred = extract_answer(generation)
    out = {"exact_match": int(exact_match(pred, gold))}
    if checker == "math":
        out["math_verify"] = int(exact_match(pred, gold) or math_equivalent(pred, gold))
    return out


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, int]:
    """lm-eval hook: ``results[0]`` is the generation for ``doc``."""
    return score(results[0], str(doc["answer"]), doc.get("checker", "math"))
