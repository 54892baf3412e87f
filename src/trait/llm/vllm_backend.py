"""vLLM offline generation (``LLM.chat``): the fast path on a CUDA GPU. Optional: ``pip install 'trait[vllm]'``.

vLLM is imported only here and only when this backend is chosen, so CPU installs never need it.
Requests go in chunks so results reach the cache as they finish: a killed run loses one chunk at most.
Per-request ``seed`` in ``SamplingParams`` keeps an output independent of its batch, as elsewhere.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

from trait.errors import TraitError
from trait.llm.base import ChatRequest, ChatResult, LLMFailure, ProgressFn
from trait.llm.config import LLMConfig
from trait.llm.transformers_backend import request_seed
from trait.models import resolve_model

CHUNK = 512  # requests per ``chat`` call: big enough to keep the GPU full, small enough to checkpoint often


class VLLMBackend:
    name = "vllm"

    def __init__(self, cfg: LLMConfig) -> None:
        if importlib.util.find_spec("vllm") is None:
            raise TraitError("llm.backend: 'vllm' is not installed (pip install 'trait[vllm]'; needs a CUDA GPU), "
                             "or use backend 'transformers' or 'openai'")
        self.cfg = cfg
        self.attempts = 0
        self._llm: Any = None

    def _load(self) -> None:
        from vllm import LLM

        self._llm = LLM(model=str(resolve_model(self.cfg.model)), seed=0, dtype=self.cfg.dtype)

    def generate(self, requests: Sequence[ChatRequest], on_result: ProgressFn | None = None
                 ) -> list[ChatResult | LLMFailure]:
        if not requests:
            return []
        if self._llm is None:
            self._load()
        from vllm import SamplingParams

        results: list[ChatResult | LLMFailure] = []
        for start in range(0, len(requests), CHUNK):
            chunk = requests[start:start + CHUNK]
            convs = [[{"role": r, "content": c} for r, c in req.messages] for req in chunk]
            params = [SamplingParams(temperature=req.temperature, top_p=req.top_p, max_tokens=req.max_tokens,
                                     seed=request_seed(req)) for req in chunk]
            self.attempts += len(chunk)
            for req, out in zip(chunk, self._llm.chat(convs, sampling_params=params, use_tqdm=False)):
                res = _to_result(req, out)
                results.append(res)
                if on_result is not None:
                    on_result(res)
        return results

    def close(self) -> None:
        self._llm = None


def _to_result(req: ChatRequest, out: Any) -> ChatResult | LLMFailure:
    if not out.outputs:
        return LLMFailure("malformed response: vLLM returned no output", key=req.key)
    c = out.outputs[0]
    return ChatResult(text=c.text, key=req.key, prompt_tokens=len(out.prompt_token_ids or []),
                      completion_tokens=len(c.token_ids), finish_reason=c.finish_reason or "stop")
