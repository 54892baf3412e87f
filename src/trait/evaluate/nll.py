"""Summed negative log-likelihood of chosen tokens, batched without gradients.

Shared by the task loss (tokens of the gold solution) and perplexity (tokens of general text):
each sequence comes with labels, -100 where a token is context only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

IGNORE = -100


@dataclass
class Scored:
    nll: float  # sum over scored tokens, natural log
    tokens: int


def load(model_path: Path, device: str = "cpu", dtype: str = "float32"):
    """Model (eval mode) and tokenizer of a local folder; nothing is fetched from a hub."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_path)
    torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch_dtype).to(device)
    model.eval()
    return model, tok


def score_sequences(model, seqs: list[tuple[list[int], list[int]]], *, batch_size: int = 4,
                    pad_id: int = 0) -> list[Scored]:
    """``seqs`` = (input_ids, labels) pairs of equal length; returns per-sequence NLL sums, in order.

    Sequences are sorted by length so a batch pads little; padding is right-sided and masked.
    """
    import torch

    order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i][0]))
    out: list[Scored | None] = [None] * len(seqs)
    device = next(model.parameters()).device
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            width = max(len(seqs[i][0]) for i in idx)
            ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
            labels = torch.full((len(idx), width), IGNORE, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for row, i in enumerate(idx):
                x, y = seqs[i]
                ids[row, :len(x)] = torch.tensor(x)
                labels[row, :len(y)] = torch.tensor(y)
                mask[row, :len(x)] = 1
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
            shift_logits, shift_labels = logits[:, :-1], labels[:, 1:].to(device)
            nll = torch.nn.functional.cross_entropy(shift_logits.transpose(1, 2), shift_labels,
                                                    ignore_index=IGNORE, reduction="none")
            counts = (shift_labels != IGNORE).sum(dim=1)
            for row, i in enumerate(idx):
                out[i] = Scored(nll=float(nll[row].sum()), tokens=int(counts[row]))
    return [s for s in out if s is not None]
