"""The LLM every stage uses: a backend behind the result cache, with counters, cost and a live progress bar.

Why a wrapper: caching, failure records and accounting are the same for every backend, so they live
once here. Only requests whose key is not in the cache reach the backend, each distinct payload once;
each success is committed to the cache the moment it arrives and each failure appended to the
failures file (key, reason, attempts: never a credential), so a killed run resumes where it stopped.
Accounting covers every distinct completed call a step used, fresh or cached (the cache keeps each
call's token counts), so a resumed run reports what an uninterrupted one would; ``paid_now`` is the
part this process sent.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

from rich.errors import LiveError
from rich.progress import Progress, TextColumn

from trait import ui
from trait.io import dumps
from trait.llm.base import LLM, ChatRequest, ChatResult, LLMFailure, ProgressFn
from trait.llm.cache import ResultCache


class CachedLLM:
    """``generate`` answers from the cache first, then from the backend; ``stats`` sums every call."""

    def __init__(self, backend: LLM, cache: ResultCache, failures_path: str | Path, *,
                 model: str = "", prices_per_million: dict[str, float] | None = None) -> None:
        self.backend, self.cache, self.model = backend, cache, model
        self.name = f"cached-{backend.name}"
        self.failures_path = Path(failures_path)
        self.prices = dict(prices_per_million or {})
        self._lock = threading.Lock()
        self._counts: Counter = Counter()
        self._reasons: Counter = Counter()
        self._seen: set[str] = set()  # keys of completed calls already counted (each once)
        self._elapsed = 0.0

    # ---- generation --------------------------------------------------------------------------
    def generate(self, requests: Sequence[ChatRequest], on_result: ProgressFn | None = None, *,
                 show_progress: bool = True, description: str = "LLM") -> list[ChatResult | LLMFailure]:
        """One result or failure per request, in order; ``on_result`` also fires for cache hits."""
        t0 = time.perf_counter()
        keys = [r.key for r in requests]
        hits = self.cache.get_many(keys)
        done: dict[str, ChatResult | LLMFailure] = dict(hits)
        misses = list({r.key: r for r in requests if r.key not in done}.values())
        with self._lock:
            self._counts["requests"] += len(requests)
            for res in hits.values():
                self._book(res, "cache_hits")
        bar = self._start_bar(description, len(requests), len(requests) - len(misses)) if show_progress else None
        task = bar.task_ids[0] if bar is not None else None
        for key in keys:
            if key in done and on_result is not None:
                on_result(done[key])

        def arrived(res: ChatResult | LLMFailure) -> None:
            self._record(res)
            done[res.key] = res
            if bar is not None:
                bar.update(task, advance=1, line=self._line())
            if on_result is not None:
                on_result(res)

        try:
            if misses:
                out = self.backend.generate(misses, on_result=arrived)
                for req, res in zip(misses, out):  # a backend that skipped on_result still gets booked
                    if req.key not in done:
                        res.key = req.key
                        arrived(res)
        finally:
            self._elapsed += time.perf_counter() - t0
            if bar is not None:
                bar.update(task, line=self._line())
                bar.stop()
        return [done[k] for k in keys]

    def _start_bar(self, description: str, total: int, done: int) -> Progress | None:
        """A live bar, unless there is nothing to show or the caller already shows one (rich allows one)."""
        if not total:
            return None
        bar = ui.progress(TextColumn("{task.fields[line]}"))
        bar.add_task(description, total=total, completed=done, line=self._line())
        try:
            bar.start()
        except LiveError:
            return None
        return bar

    def _record(self, res: ChatResult | LLMFailure) -> None:
        """Book one fresh outcome: cache a success now, append a failure now (both survive a kill)."""
        with self._lock:
            if isinstance(res, ChatResult):
                self.cache.put(res.key, res, self.model)
                self._book(res, "fresh")
            else:
                self._counts["failed"] += 1
                self._reasons[res.kind] += 1
                _append_line(self.failures_path, {"key": res.key, "reason": res.reason,
                                                  "attempts": res.attempts, "model": self.model,
                                                  "time": round(time.time(), 3)})

    # ---- accounting --------------------------------------------------------------------------
    def _book(self, res: ChatResult, source: str) -> None:
        """Count a completed call once per object, whether this process paid for it or not (caller locks)."""
        if res.key in self._seen:
            return
        self._seen.add(res.key)
        c = self._counts
        for part in ("", f"{source}_"):
            c[f"{part}calls"] += 1
            c[f"{part}prompt_tokens"] += res.prompt_tokens
            c[f"{part}completion_tokens"] += res.completion_tokens
        c["truncated"] += res.finish_reason == "length"

    def cost(self, part: str = "", counts: Counter | None = None) -> float:
        """Estimated spend (prices per million tokens): every call used, or ``part="fresh_"`` (paid now).

        Computed from the token counts, not stored per call: prices are an estimate the user may
        correct, and one price list then applies to the whole step."""
        c = self._counts if counts is None else counts
        return (c[f"{part}prompt_tokens"] * self.prices.get("input", 0.0)
                + c[f"{part}completion_tokens"] * self.prices.get("output", 0.0)) / 1e6

    def stats(self) -> dict[str, Any]:
        """Counters for the run summary (cumulative over every ``generate`` call of this object).

        ``calls`` (= ``fresh`` + ``cache_hits``), tokens and ``cost_usd`` cover every distinct completed
        call used, including those an earlier (interrupted) process completed; ``paid_now`` only this
        process's fresh calls; ``sent``, ``failed``, ``attempts`` and ``retries`` are this process's too.
        """
        with self._lock:
            c = Counter(self._counts)
            reasons = dict(self._reasons)
        attempts = getattr(self.backend, "attempts", None)
        sent = c["fresh_calls"] + c["failed"]
        return {"backend": self.backend.name, "model": self.model, "requests": c["requests"],
                "calls": c["calls"], "fresh": c["fresh_calls"], "cache_hits": c["cache_hits_calls"],
                "sent": sent, "failed": c["failed"], "failure_reasons": reasons, "truncated": c["truncated"],
                "attempts": attempts, "retries": (attempts - sent) if attempts is not None else None,
                "prompt_tokens": c["prompt_tokens"], "completion_tokens": c["completion_tokens"],
                "cost_usd": round(self.cost("", c), 6),
                "paid_now": {"calls": c["fresh_calls"], "prompt_tokens": c["fresh_prompt_tokens"],
                             "completion_tokens": c["fresh_completion_tokens"],
                             "cost_usd": round(self.cost("fresh_", c), 6)},
                "elapsed_s": round(self._elapsed, 3), "failures_file": str(self.failures_path)}

    def _line(self) -> str:
        c = self._counts
        line = (f"hits {c['cache_hits_calls']} · new {c['fresh_calls']} · failed {c['failed']} · "
                f"tok {c['prompt_tokens']}+{c['completion_tokens']}")
        return line + (f" · ${self.cost():.4f}" if self.prices else "")

    def close(self) -> None:
        self.backend.close()
        self.cache.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _append_line(path: Path, obj: dict[str, Any]) -> None:
    """Append one jsonl line with a single write (O_APPEND): lines never interleave or half-appear."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, dumps(obj))
    finally:
        os.close(fd)
