"""Task loss: mean NLL per token of the gold answer text given the problem, on held-out items: the
worked answer (generate), the gold choice's text (multiple_choice) or the gold label's verbalizer
(classification).

Why: a 135M model scores ~0 exact match on GSM8K, so on a CPU budget exact match cannot show
whether CPT helped; the likelihood of the gold solution moves with a few thousand training tokens.
The prompt and target are the zero-shot form of what lm-eval shows (``scoring.PROMPT_TEMPLATE`` +
``items.target_text``), so both metrics measure the same task format.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from trait.errors import TraitError
from trait.evaluate import scoring
from trait.evaluate.items import eval_items, target_text
from trait.evaluate.nll import IGNORE, score_sequences
from trait.evaluate.settings import EvalSettings
from trait.evaluate.stats import bootstrap_ratio
from trait.io import write_jsonl
from trait.records import Problem


def encode(tok, p: Problem, max_length: int, target_text: str | None = None) -> tuple[list[int], list[int]]:
    """(input_ids, labels): the prompt is context only; an over-long prompt loses its start, not the target
    (``target_text``: what follows the prompt; default, the worked answer of a generate task)."""
    prompt = tok(scoring.PROMPT_TEMPLATE.format(question=p.input))["input_ids"]
    if target_text is None:
        target_text = scoring.format_target(p.answer or "", p.solution)
    target = tok(" " + target_text, add_special_tokens=False)["input_ids"]
    target = target[: max_length - 1]
    prompt = prompt[-(max_length - len(target)):]
    return prompt + target, [IGNORE] * len(prompt) + target


def task_loss(s: EvalSettings, model, tok, out_dir: Path) -> dict[str, dict[str, Any]]:
    """Per task: NLL/token with a bootstrap CI over items, and ``items``: [id, nll, tokens] per item (also
    written to ``task_loss/<task>.jsonl``)."""
    ev = s.evaluate
    out: dict[str, dict[str, Any]] = {}
    pad = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)
    for spec in s.tasks:
        if not spec.has_answers or spec.split_file("test") is None:
            continue
        items = eval_items(spec, "test", ev.task_loss_limit, s.seed)
        if not items:
            continue
        scored = score_sequences(model, [encode(tok, p, ev.max_length, target_text(spec, p)) for p in items],
                                 batch_size=ev.batch_size, pad_id=pad)
        write_jsonl(Path(out_dir) / "task_loss" / f"{spec.name}.jsonl",
                    [{"id": p.id, "nll": s.nll, "tokens": s.tokens, "loss": s.nll / max(s.tokens, 1)}
                     for p, s in zip(items, scored)])
        nll, toks = [s.nll for s in scored], [s.tokens for s in scored]
        low, high = bootstrap_ratio(nll, toks, iters=ev.bootstrap_iters, confidence=ev.confidence, seed=s.seed)
        value = sum(nll) / sum(toks)
        if not math.isfinite(value):
            raise TraitError(f"task loss of {spec.name} is not finite ({value}): model weights are broken")
        out[spec.name] = {"value": value, "ci_low": low, "ci_high": high, "n": len(items), "tokens": sum(toks),
                          "items": [[p.id, s.nll, s.tokens] for p, s in zip(items, scored)]}
    return out
