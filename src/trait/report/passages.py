"""A few synthetic passages as a reviewer reads them: each paragraph beside every check's verdict.

Kept passages carry their final checks (``provenance.checks``), a rejected passage's record each
attempt's (``attempts[].checks``); records written before attempts carried them show the refusing check
failed and the others "not recorded". Checks that never applied in the run (a verifier
that is off) are left out; one that applied elsewhere but not to this paragraph reads "not applied". The
sample is deterministic: the first kept passages of the schedule, the first rejected one of each reason.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from trait.io import iter_rows
from trait.report.fmt import num, pct

# Each check (names as synthesize/checks.py writes them): what passing means, what failing means.
CHECKS = {"answer_line": ("answer line agrees with gold", "answer line disagrees with gold"),
          "reasoning_agrees": ("reasoning argues for the gold answer", "reasoning argues for another answer"),
          "calculator": ("every arithmetic statement is right", "wrong arithmetic"),
          "final_value": ("last derived value is the answer", "last derived value is not the answer"),
          "verifier": ("LLM verifier: the reasoning supports it", "the LLM verifier said no"),
          "enlightenment_degeneracy": ("no loop, names its problems", "degenerate (a loop, or names no problem)"),
          "passage_split": ("split into its paragraphs", "could not be split into its paragraphs")}
SLOT_CHECKS = {"paragraph": ("answer_line", "reasoning_agrees", "calculator", "final_value", "verifier"),
               "enlightenment": ("enlightenment_degeneracy",), "passage": ("passage_split",)}
NOT_APPLIED = {"answer_line": "no gold answer", "calculator": "no arithmetic statement read",
               "final_value": "nothing to compare", "verifier": "no verdict"}
# A refusal reason -> the check that refused (the rest are rules: too short, no answer line, a loop).
REASON_CHECK = {"disagrees": "answer_line", "argues_other": "reasoning_agrees", "gold_not_discussed": "reasoning_agrees",
                "input_not_discussed": "reasoning_agrees",
                "wrong_arithmetic": "calculator", "final_value": "final_value", "verifier_no": "verifier",
                "repeated_trigrams": "enlightenment_degeneracy", "names_no_problem": "enlightenment_degeneracy",
                "split_failed": "passage_split"}
REASON_WORDS = {"too_short": "too short", "no_answer": "no answer line", "empty": "empty",
                "repetitive": "repeats a sentence", "llm_failure": "the LLM call failed",
                "unknown_choice": "answers none of the choices",
                "copies_input": "pastes its problem back instead of reasoning"}
TEXT = 1200  # characters of a paragraph shown


def _line(name: str, mark: str, note: str = "") -> dict[str, str]:
    words = CHECKS.get(name, (name.replace("_", " "),) * 2)
    return {"check": words[0], "mark": mark, "symbol": {"pass": "✓", "fail": "✗", "na": "–", "unknown": "?"}[mark],
            "note": note}


def verdicts(checks: dict[str, bool], slot: str, applied: set[str], hinted: list[str]) -> list[dict[str, str]]:
    """One line per check of the slot that applied anywhere in the run: passed, failed, or not applied here."""
    names = [n for n in SLOT_CHECKS[slot] if n in applied or n in checks]
    names += [n for n in checks if n not in names]  # a check this report does not know yet
    return [_line(n, "pass" if checks[n] else "fail", "dictated by the gold hint" if n in hinted else "")
            if n in checks else _line(n, "na", NOT_APPLIED.get(n, "not applied")) for n in names]


def kept(path: Path, n: int, applied: set[str], hinted: list[str]) -> list[dict[str, Any]]:
    out = []
    for _, p in itertools.islice(iter_rows(path), n):
        prov = p.get("provenance", {})
        checks, answers, tries = prov.get("checks", {}), prov.get("answers", []), prov.get("attempts", {})
        pieces = []
        for i, text in enumerate(p.get("paragraphs", [])):
            a = _at(answers, i, {})
            pieces.append({"text": text[:TEXT], "answer": _answer(a.get("gold"), a.get("generated")) if a else "",
                           "checks": verdicts(_at(checks.get("paragraphs", []), i, {}), "paragraph", applied, hinted),
                           "attempts": _at(tries.get("paragraphs", []), i, 1)})
        pieces.append({"text": p.get("enlightenment", "")[:TEXT], "answer": "",
                       "checks": verdicts(checks.get("enlightenment", {}), "enlightenment", applied, hinted),
                       "attempts": tries.get("enlightenment", 1)})
        out.append({"id": p.get("id"), "tasks": ", ".join(dict.fromkeys(p.get("tasks", []))),
                    "problems": ", ".join(p.get("problem_ids", [])), "pieces": pieces})
    return out


def rejected(path: Path, n: int, applied: set[str], hinted: list[str]) -> list[dict[str, Any]]:
    """The first rejected passage of each reason, up to ``n``: each slot's last attempt and its verdicts,
    with the refusals of the attempts before it."""
    out, reasons = [], set()
    for _, r in iter_rows(path):
        if len(out) == n:
            break
        if r.get("reason") in reasons:
            continue
        reasons.add(r.get("reason"))
        slots: dict[Any, list[dict[str, Any]]] = {}
        for a in r.get("attempts", []):
            slots.setdefault(a.get("slot"), []).append(a)
        gold, ids = r.get("gold", []), r.get("problem_ids", [])
        pieces = []
        for slot, tries in slots.items():
            kind = "paragraph" if isinstance(slot, int) else "enlightenment" if slot == "enlightenment" else "passage"
            last = tries[-1]
            label = (f"Problem {slot + 1}" + (f" ({ids[slot]})" if slot < len(ids) else "") if kind == "paragraph"
                     else "What these problems teach" if kind == "enlightenment" else "The whole passage")
            pieces.append({"label": label, "text": str(last.get("text", ""))[:TEXT],
                           "answer": _answer(_at(gold, slot, None), last.get("answer")) if kind == "paragraph" else "",
                           "checks": _recorded(last, kind, applied, hinted), "refused": _refusal(last),
                           "attempts": len(tries),
                           "history": [f"attempt {k + 1}: {_refusal(t) or 'passed'}" for k, t in enumerate(tries[:-1])]})
        out.append({"id": r.get("id"), "reason": r.get("reason", ""),
                    "tasks": ", ".join(dict.fromkeys(r.get("tasks", []))), "problems": ", ".join(ids),
                    "pieces": pieces})
    return out


def check_rates(summary: dict[str, Any]) -> list[dict[str, str]]:
    """Each check's own pass rate over the attempts it applied to (from the step summary)."""
    hinted = summary.get("trivially_true", [])
    rows = []
    for name, c in summary.get("checks", {}).items():
        notes = []
        if name in hinted:
            notes.append("trivially true: the gold hint dictates the answer line")
        if c.get("statements_read"):
            notes.append(f"{num(c['statements_wrong'])} of {num(c['statements_read'])} statements wrong")
        if c.get("unanswered"):
            notes.append(f"{num(c['unanswered'])} unanswered")
        rows.append({"check": CHECKS.get(name, (name,))[0], "checked": num(c.get("checked", 0)),
                     "passed": num(c.get("passed", 0)),
                     "rate": pct(c["rate"]) if c.get("rate") is not None else "never applied",
                     "note": "; ".join(notes)})
    return rows


def applied(summary: dict[str, Any]) -> set[str]:
    """The checks that applied to at least one attempt of the run."""
    return {name for name, c in summary.get("checks", {}).items() if c.get("checked")}


def _at(seq: list[Any], i: Any, default: Any) -> Any:
    return seq[i] if isinstance(i, int) and 0 <= i < len(seq) else default


def _answer(gold: Any, generated: Any) -> str:
    return f"gold {num(gold)} · generated {num(generated)}"


def _recorded(attempt: dict[str, Any], kind: str, applied: set[str], hinted: list[str]) -> list[dict[str, str]]:
    if "checks" in attempt:  # the record carries every check's verdict
        return verdicts(attempt["checks"], kind, applied, hinted)
    if attempt.get("reason") == "ok":
        return [_line("every check that applied", "pass", "not recorded one by one")]
    failed = REASON_CHECK.get(attempt.get("reason", ""))
    lines = [verdicts({failed: False}, kind, {failed}, hinted)[0]] if failed else []
    others = [n for n in SLOT_CHECKS[kind] if n in applied and n != failed]
    return lines + ([_line("the other checks", "unknown", "not recorded")] if others else [])


def _refusal(attempt: dict[str, Any]) -> str:
    reason = attempt.get("reason", "")
    if reason in ("", "ok"):
        return ""
    check = REASON_CHECK.get(reason)
    what = CHECKS[check][1] if check else REASON_WORDS.get(reason, reason.replace("_", " "))
    cut = " (cut at llm.max_tokens)" if attempt.get("truncated") else ""
    return f"refused: {what}{' — ' + attempt['detail'] if attempt.get('detail') else ''}{cut}"
