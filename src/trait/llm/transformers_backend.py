"""Local batched generation with ``transformers`` (CPU or GPU), offline, from a folder or a known alias.

Why a row sampler: ``generate(do_sample=True)`` draws every row from one global RNG, so a request's
output would depend on which requests share its batch, and a resumed run (which sends only the
missing requests) would not reproduce the first. Here each row samples with its own generator seeded
from the request (its ``seed``, else its key), and ``generate`` runs greedy over the sampled token:
a request's text depends on the request alone (up to float noise from padding).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trait.errors import TraitError
from trait.llm.base import ChatRequest, ChatResult, LLMFailure, ProgressFn
from trait.llm.config import LLMConfig
from trait.models import resolve_model

STOP_TOKENS = ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>")  # chat-turn ends of common templates


def request_seed(req: ChatRequest) -> int:
    """The request's own seed, else one derived from its key: deterministic either way."""
    return req.seed if req.seed is not None else int(req.key[:15], 16)


class RowSampler:
    """A logits processor that samples each row with its own generator (temperature, top-p per row).

    Batched tensor work (one sort, two cumsums per step) and one uniform draw per row: rows never
    share randomness, so a row's tokens depend on its own logits and seed only.
    """

    def __init__(self, requests: Sequence[ChatRequest]) -> None:
        import torch

        self.temps = torch.tensor([r.temperature for r in requests], dtype=torch.float32)
        self.top_ps = torch.tensor([r.top_p for r in requests], dtype=torch.float32)
        self.gens = [torch.Generator().manual_seed(request_seed(r)) for r in requests]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        logits = scores.float()
        temps, top_ps = self.temps.to(logits.device), self.top_ps.to(logits.device)
        greedy = temps <= 0
        probs = torch.softmax(logits / torch.where(greedy, 1.0, temps)[:, None], dim=-1)
        sorted_p, order = torch.sort(probs, dim=-1, descending=True)
        drop = torch.cumsum(sorted_p, -1) - sorted_p >= top_ps[:, None]  # keep the smallest prefix reaching p
        cdf = torch.cumsum(sorted_p.masked_fill(drop, 0.0), -1)
        u = torch.stack([torch.rand((), generator=g) for g in self.gens]).to(logits.device) * cdf[:, -1]
        idx = torch.searchsorted(cdf, u[:, None], right=True).clamp_(max=cdf.shape[-1] - 1)
        chosen = torch.where(greedy, logits.argmax(-1), order.gather(-1, idx).squeeze(-1))
        return torch.full_like(scores, float("-inf")).scatter_(-1, chosen[:, None], 0.0)


class TransformersBackend:
    """Loads the model on first use (a fully cached rerun never loads it)."""

    name = "transformers"

    def __init__(self, cfg: LLMConfig) -> None:
        self.cfg = cfg
        self.attempts = 0
        self._model: Any = None
        self._tok: Any = None
        self._stop: list[int] = []
        self.path: Path | None = None

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.path = resolve_model(self.cfg.model)
        tok = AutoTokenizer.from_pretrained(self.path)
        if not getattr(tok, "chat_template", None):
            raise TraitError(f"llm.model: {self.path} has no chat template (use an instruct/chat model)")
        tok.padding_side = "left"
        if tok.pad_token_id is None:
            tok.pad_token = tok.eos_token
        device = self.cfg.device if self.cfg.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = getattr(torch, self.cfg.dtype) if self.cfg.dtype != "auto" else (
            torch.bfloat16 if device.startswith("cuda") else torch.float32)
        model = AutoModelForCausalLM.from_pretrained(self.path, dtype=dtype).to(device).eval()
        eos = model.generation_config.eos_token_id
        stop = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        stop |= {tok.eos_token_id} if tok.eos_token_id is not None else set()
        vocab = tok.get_vocab()
        stop |= {vocab[t] for t in STOP_TOKENS if t in vocab}
        self._model, self._tok, self._stop, self._device = model, tok, sorted(stop), device
        self._context = getattr(model.config, "max_position_embeddings", None)

    def generate(self, requests: Sequence[ChatRequest], on_result: ProgressFn | None = None
                 ) -> list[ChatResult | LLMFailure]:
        if not requests:
            return []
        if self._model is None:
            self._load()
        ids = [self._encode(r) for r in requests]
        results: list[ChatResult | LLMFailure | None] = [None] * len(requests)

        def emit(i: int, res: ChatResult | LLMFailure) -> None:
            results[i] = res
            if on_result is not None:
                on_result(res)

        todo = []
        for i, r in enumerate(requests):
            if self._context and len(ids[i]) + r.max_tokens > self._context:
                self.attempts += 1
                emit(i, LLMFailure(f"prompt too long: {len(ids[i])} prompt tokens + max_tokens {r.max_tokens} "
                                   f"> context {self._context}", key=r.key))
            else:
                todo.append(i)
        # Similar lengths together (less padding); one max_tokens per batch.
        todo.sort(key=lambda i: (requests[i].max_tokens, len(ids[i])))
        batch: list[int] = []
        for i in todo + [-1]:
            if batch and (i < 0 or len(batch) >= self.cfg.batch_size
                          or requests[i].max_tokens != requests[batch[0]].max_tokens):
                for j, res in zip(batch, self._run_batch([requests[j] for j in batch], [ids[j] for j in batch])):
                    emit(j, res)
                batch = []
            if i >= 0:
                batch.append(i)
        return results  # type: ignore[return-value]

    def _encode(self, req: ChatRequest) -> list[int]:
        text = self._tok.apply_chat_template([{"role": r, "content": c} for r, c in req.messages],
                                             tokenize=False, add_generation_prompt=True)
        return self._tok(text, add_special_tokens=False)["input_ids"]

    def _run_batch(self, reqs: list[ChatRequest], ids: list[list[int]]) -> list[ChatResult | LLMFailure]:
        import torch
        from transformers import GenerationConfig, LogitsProcessorList

        self.attempts += len(reqs)
        width = max(map(len, ids))
        pad = self._tok.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in ids], device=self._device)
        mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids], device=self._device)
        gen = GenerationConfig(max_new_tokens=reqs[0].max_tokens, do_sample=False, eos_token_id=self._stop,
                               pad_token_id=pad)
        try:
            with torch.inference_mode():
                out = self._model.generate(input_ids=input_ids, attention_mask=mask, generation_config=gen,
                                           logits_processor=LogitsProcessorList([RowSampler(reqs)]))
        except torch.OutOfMemoryError:
            if len(reqs) == 1:
                return [LLMFailure("out of memory: one request does not fit", key=reqs[0].key)]
            torch.cuda.empty_cache()
            half = len(reqs) // 2  # retry in halves: the batch, not the requests, was too big
            return self._run_batch(reqs[:half], ids[:half]) + self._run_batch(reqs[half:], ids[half:])
        return [self._decode(r, len(x), row) for r, x, row in zip(reqs, ids, out[:, width:].tolist())]

    def _decode(self, req: ChatRequest, prompt_len: int, new: list[int]) -> ChatResult:
        stops = set(self._stop)
        cut = next((k for k, t in enumerate(new) if t in stops), None)
        tokens = new if cut is None else new[:cut]
        return ChatResult(text=self._tok.decode(tokens, skip_special_tokens=True), key=req.key,
                          prompt_tokens=prompt_len, completion_tokens=len(tokens) + (cut is not None),
                          finish_reason="length" if cut is None else "stop")

    def close(self) -> None:
        self._model = self._tok = None
