"""Driving many passage jobs through an LLM in rounds.

Each round gathers every request the unfinished jobs still need (first paragraphs, regenerations,
verifications, enlightenments) into one ``generate`` call, so local backends fill their batches and
HTTP backends their concurrency slots; a job whose paragraphs passed in round r asks for its
enlightenment in round r+1 while its neighbours regenerate. A verifier on another model gets its own
call per round. At most ``(2 or 3) * (1 + max_regenerations)`` rounds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from trait.errors import TraitError
from trait.llm.base import LLM, ChatRequest, ChatResult, LLMFailure, ProgressFn
from trait.synthesize.passages import PassageJob


def run_jobs(jobs: Sequence[PassageJob], llm: LLM, *, verifier: LLM | None = None,
             on_result: ProgressFn | None = None, on_finished: Callable[[PassageJob], None] | None = None,
             **generate_kw: Any) -> None:
    """Run jobs until each is accepted or rejected; ``on_finished`` fires once per job as it ends.

    ``verifier`` answers the verification requests when it is another model (default: ``llm``);
    ``generate_kw`` goes to ``generate`` (e.g. ``show_progress=False`` when the caller shows its own bar).
    """
    active = list(jobs)
    while active:
        batch = [(job, slot, req) for job in active for slot, req in job.pending()]
        if batch:
            results: list[ChatResult | LLMFailure | None] = [None] * len(batch)
            for target, idx in _routes([req for _, _, req in batch], llm, verifier):
                for i, res in zip(idx, _generate(target, [batch[i][2] for i in idx], on_result, generate_kw)):
                    results[i] = res
            for (job, slot, req), res in zip(batch, results):
                job.take(slot, req, res)
        still = []
        for job in active:
            if job.status == "pending" and batch:
                still.append(job)
            elif on_finished is not None:
                on_finished(job)
        active = still


def _routes(requests: list[ChatRequest], llm: LLM, verifier: LLM | None) -> list[tuple[LLM, list[int]]]:
    """Which LLM answers which requests: verifications go to the verifier when it is another model."""
    if verifier is None:
        return [(llm, list(range(len(requests))))]
    verify = [r.meta.get("kind") == "verify" for r in requests]
    return [(llm, [i for i, v in enumerate(verify) if not v]), (verifier, [i for i, v in enumerate(verify) if v])]


def _generate(llm: LLM, requests: list[ChatRequest], on_result: ProgressFn | None,
              generate_kw: dict[str, Any]) -> list[ChatResult | LLMFailure]:
    if not requests:
        return []
    results = llm.generate(requests, on_result=on_result, **generate_kw)
    if len(results) != len(requests):
        raise TraitError(f"LLM backend {getattr(llm, 'name', llm)!r} returned {len(results)} results "
                         f"for {len(requests)} requests")
    return results
