"""General-ability check: perplexity on held-out general text (e.g. WikiText-2 test articles).

CPT on math text should not wreck general language modelling; this is the number that shows it.
Documents are cut into windows of ``perplexity_context`` tokens (a ``perplexity_stride`` well below
the context gives every scored token more left context, at more compute). A bootstrap over documents
gives the CI, since tokens of one document are not independent.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from trait.corpus import describe
from trait.errors import TraitError
from trait.evaluate.nll import IGNORE, score_sequences
from trait.evaluate.settings import EvalSettings
from trait.evaluate.stats import bootstrap_ratio
from trait.io import ReadStats, iter_docs, write_jsonl


def windows(ids: list[int], context: int, stride: int) -> list[tuple[list[int], list[int]]]:
    """(input_ids, labels) windows of at most ``context`` tokens; every token but the first is scored once.

    Each window scores at most ``stride`` new tokens (and at most context - 1, so the first new token
    has a token of left context inside the window), with as much earlier text as fits as context.
    """
    step = max(1, min(stride, context - 1))
    out, prev_end = [], 1  # token 0 (BOS) is context only
    while prev_end < len(ids):
        end = min(prev_end + step, len(ids))
        begin = max(0, end - context)
        out.append((ids[begin:end], [ids[a] if a >= prev_end else IGNORE for a in range(begin, end)]))
        prev_end = end
    return out


def perplexity(s: EvalSettings, model, tok, out_dir: Path) -> dict[str, Any] | None:
    """Perplexity over ``data.heldout_general`` with a CI and ``items``: [id, nll, tokens] per document;
    None when no held-out text is configured."""
    ev = s.evaluate
    if not s.heldout:
        return None
    stats = ReadStats()
    docs = []
    for doc in iter_docs(s.heldout, text_key=s.text_key, id_key=s.id_key,
                         on_error=s.on_bad_record, stats=stats):
        docs.append(doc)
        if ev.perplexity_max_docs is not None and len(docs) >= ev.perplexity_max_docs:
            break
    if not docs:
        raise TraitError(f"data.heldout_general: no usable documents in {describe(s.heldout)}; "
                         + stats.why_unusable("data.heldout_general"))
    start = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
    seqs, owner = [], []
    for d_i, doc in enumerate(docs):
        ids = tok(doc.text, add_special_tokens=False)["input_ids"]
        if ev.perplexity_max_tokens_per_doc:
            ids = ids[: ev.perplexity_max_tokens_per_doc]
        ids = ([start] if start is not None else []) + ids
        for w in windows(ids, ev.perplexity_context, ev.perplexity_stride or ev.perplexity_context):
            seqs.append(w)
            owner.append(d_i)
    pad = tok.pad_token_id if tok.pad_token_id is not None else (start or 0)
    scored = score_sequences(model, seqs, batch_size=ev.batch_size, pad_id=pad)
    nll, toks = [0.0] * len(docs), [0] * len(docs)
    for d_i, seq in zip(owner, scored):
        nll[d_i] += seq.nll
        toks[d_i] += seq.tokens
    write_jsonl(Path(out_dir) / "perplexity_docs.jsonl",
                [{"id": d.id, "nll": n, "tokens": t} for d, n, t in zip(docs, nll, toks)])
    low, high = bootstrap_ratio(nll, toks, iters=ev.bootstrap_iters, confidence=ev.confidence, seed=s.seed)
    value = sum(nll) / max(sum(toks), 1)
    if not math.isfinite(value):
        raise TraitError(f"perplexity is not finite (nll/token {value}): model weights are broken")
    return {"value": math.exp(value), "ci_low": math.exp(low), "ci_high": math.exp(high), "n": len(docs),
            "tokens": sum(toks), "nll_per_token": value, "read": stats.to_dict(),
            "items": [[d.id, n, t] for d, n, t in zip(docs, nll, toks)]}
