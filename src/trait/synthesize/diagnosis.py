"""What synthesis's checks found, and why a run that kept too little stops right after synthesis.

Each check gets its own pass rate over the attempts it applied to (not only the first failing reason),
and the checks a gold hint makes trivially true are named: with ``gold_hints: answer|solution`` the
prompt dictates the answer line, so its agreement with gold says little. A run keeping fewer than
``synthesize.min_kept_fraction`` of its planned passages stops with one line saying why (the top
rejection reasons with an example each, the truncation rate) and which setting to change, instead of
failing later in build with "N tokens do not fill one block".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trait.synthesize.passages import Attempt, PassageJob

CHECKS = ("answer_line", "reasoning_agrees", "calculator", "final_value", "verifier", "enlightenment_degeneracy",
          "passage_split")
# With a hint the prompt dictates the answer line, of every task type. What it cannot dictate is
# checked apart: the arithmetic (calculator, final_value) and, for multiple-choice and classification
# paragraphs, whether the reasoning argues for the gold choice or label (reasoning_agrees).
TRIVIALLY_TRUE = {"none": [], "answer": ["answer_line"], "solution": ["answer_line"]}


def _generated(jobs: Sequence[PassageJob], completions_only: bool = False) -> list[Attempt]:
    """Every judged piece (LLM failures are not completions); ``completions_only``: what the generator
    returned as such (in passage mode the whole passages, not the sections cut out of them)."""
    return [a for j in jobs for piece in (*j.paragraphs, j.enlightenment, j.whole) for a in piece.attempts
            if a.reason != "llm_failure" and (a.completion or not completions_only)]


def check_rates(jobs: Sequence[PassageJob]) -> dict[str, dict[str, Any]]:
    """Per check: attempts it applied to, how many passed, the rate (None where it never applied)."""
    counts = {name: Counter() for name in CHECKS}
    for a in _generated(jobs):
        for name, passed in a.checks.items():
            counts[name].update(checked=1, passed=int(passed))
        counts["calculator"].update(statements_read=a.statements[0], statements_wrong=a.statements[1])
        counts["verifier"].update(unanswered=int(a.verdict in ("unclear", "failed")))
    return {name: {"checked": c["checked"], "passed": c["passed"],
                   "rate": c["passed"] / c["checked"] if c["checked"] else None,
                   **{k: c[k] for k in c if k not in ("checked", "passed")}}
            for name, c in counts.items()}


def truncation(jobs: Sequence[PassageJob]) -> dict[str, Any]:
    done = _generated(jobs, completions_only=True)
    cut = sum(a.truncated for a in done)
    return {"completions": len(done), "truncated": cut, "rate": cut / len(done) if done else 0.0}


def _advice(reason: str, gold_hints: str, out: Path) -> str:
    slot, _, why = reason.partition(":")
    stronger = "a stronger llm.model"
    return {
        "disagrees": "synthesize.gold_hints=solution" if gold_hints != "solution" else stronger,
        "wrong_arithmetic": stronger, "final_value": stronger, "no_answer": stronger, "empty": stronger,
        "verifier_no": f"synthesize.verifier.model or {stronger}",
        "too_short": f"synthesize.min_{slot}_words",
        "repetitive": "llm.temperature",
        "repeated_trigrams": "synthesize.max_repeated_trigram_share",
        "names_no_problem": "synthesize.min_problems_mentioned",
        "split_failed": f"synthesize.mode=per_problem or {stronger}",
        "unknown_choice": stronger, "argues_other": stronger, "gold_not_discussed": stronger,
        "input_not_discussed": stronger, "copies_input": stronger,
        "llm_failure": f"the llm section (failures in {out / 'llm_failures.jsonl'})",
    }.get(why, stronger)


def _example(job: PassageJob) -> str:
    """The refused attempt that sank the passage: what failed, and how it ended."""
    slot, _, why = job.reason.partition(":")
    if slot in ("enlightenment", "passage"):
        where, piece = slot, job.enlightenment if slot == "enlightenment" else job.whole
    else:
        i = next(i for i, p in enumerate(job.paragraphs) if p.attempts and p.attempts[-1].reason == why)
        problem = job.group.problems[i]
        where, piece = f"{problem.task}/{problem.id}", job.paragraphs[i]
    last = piece.attempts[-1]
    end = job.whole.attempts[-1] if job.whole.attempts else last  # passage mode: how the completion ended
    cut = ", cut at llm.max_tokens" if end.truncated else ""
    return f"{where}: {last.detail + '; ' if last.detail else ''}ends \"…{end.tail}\"{cut}"


def kept_too_little(jobs: Sequence[PassageJob], summary: dict[str, Any], *, min_kept_fraction: float,
                    max_tokens: int, gold_hints: str, out: Path) -> str | None:
    """The diagnosis of a run that kept less than ``min_kept_fraction`` of its planned passages, else None."""
    planned, kept = summary["planned"], summary["passages"]
    if not planned or kept >= min_kept_fraction * planned:
        return None
    top = Counter(summary["rejected"]).most_common(3)
    reasons = "; ".join(f"{reason} x{n} (e.g. {_example(next(j for j in jobs if j.reason == reason))})"
                        for reason, n in top)
    t = summary["truncation"]
    cut = f"{t['truncated']}/{t['completions']} completions hit llm.max_tokens={max_tokens}"
    change = ("raise llm.max_tokens" if t["rate"] >= 0.5
              else _advice(top[0][0], gold_hints, out) if top else "llm.model")
    return (f"synthesize kept {kept} of {planned} passages ({kept / planned:.0%}, below "
            f"synthesize.min_kept_fraction={min_kept_fraction:g}). Top rejection reasons: {reasons}. "
            f"Truncation: {cut}. Change: {change}. Rejected passages: {out / 'rejected.jsonl'}; "
            f"synthesize.min_kept_fraction=0 goes on anyway.")
