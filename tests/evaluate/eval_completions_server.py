"""A real OpenAI-compatible /v1/completions server over a local transformers model (greedy decoding).

Why: the ``local-completions`` backend must be tested over real HTTP against a real model, offline.
It serves the subset of the API lm-eval's generate_until uses: text prompts (one or a list),
``max_tokens``, ``stop``; every request is recorded for assertions.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path
from typing import Any

from aiohttp import web


class CompletionsServer:
    def __init__(self, model_path: Path) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tok = AutoTokenizer.from_pretrained(model_path)
        self.model = AutoModelForCausalLM.from_pretrained(model_path).eval()
        self.requests: list[dict[str, Any]] = []
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/v1/completions"
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None

    def _complete(self, prompt: str, max_tokens: int, stop: list[str]) -> str:
        import torch

        ids = torch.tensor([self.tok(prompt)["input_ids"]])
        with torch.inference_mode():
            out = self.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_tokens,
                                      do_sample=False, pad_token_id=self.tok.pad_token_id)
        text = self.tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
        cut = min([text.find(s) for s in stop if s and s in text] or [len(text)])
        return text[:cut]

    async def _handle(self, request: web.Request) -> web.Response:
        payload = await request.json()
        self.requests.append(payload)
        prompts = payload["prompt"] if isinstance(payload["prompt"], list) else [payload["prompt"]]
        if not all(isinstance(p, str) for p in prompts):
            return web.json_response({"error": {"message": "this server takes text prompts"}}, status=400)
        choices = [{"index": i, "text": self._complete(p, int(payload.get("max_tokens", 16)),
                                                         list(payload.get("stop") or [])),
                    "finish_reason": "stop"} for i, p in enumerate(prompts)]
        return web.json_response({"id": "cmpl-test", "object": "text_completion", "model": payload.get("model"),
                                  "choices": choices})

    def start(self) -> CompletionsServer:
        app = web.Application()
        app.router.add_post("/v1/completions", self._handle)
        self._runner = web.AppRunner(app)
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._runner.setup())
            self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
            ready.set()
            self._loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
