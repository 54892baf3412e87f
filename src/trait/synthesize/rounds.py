"""Driving many passage jobs through an LLM in rounds.

Each round gathers every request the unfinished jobs still need (first paragraphs, regenerations,
enlightenments) into one ``generate`` call, so local backends fill their batches and HTTP backends
their concurrency slots; a job whose paragraphs passed in round r asks for its enlightenment in
round r+1 while its neighbours regenerate. At most ``2 * (1 + max_regenerations)`` rounds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from trait.errors import TraitError
from trait.llm.base import LLM, ProgressFn
from trait.synthesize.passages import PassageJob


def run_jobs(jobs: Sequence[PassageJob], llm: LLM, *, on_result: ProgressFn | None = None,
             on_finished: Callable[[PassageJob], None] | None = None, **generate_kw: Any) -> None:
    """Run jobs until each is accepted or rejected; ``on_finished`` fires once per job as it ends.

    ``generate_kw`` goes to ``llm.generate`` (e.g. ``show_progress=False`` when the caller shows its own bar).
    """
    active = list(jobs)
    while active:
        batch = [(job, slot, req) for job in active for slot, req in job.pending()]
        if batch:
            results = llm.generate([req for _, _, req in batch], on_result=on_result, **generate_kw)
            if len(results) != len(batch):
                raise TraitError(f"LLM backend {getattr(llm, 'name', llm)!r} returned {len(results)} results "
                                 f"for {len(batch)} requests")
            for (job, slot, req), res in zip(batch, results):
                job.take(slot, req, res)
        still = []
        for job in active:
            if job.status == "pending" and batch:
                still.append(job)
            elif on_finished is not None:
                on_finished(job)
        active = still
