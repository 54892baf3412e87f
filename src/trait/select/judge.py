"""An LLM judges random kept and dropped documents: precision and recall of the selection without labels.

Why: the classifier's held-out numbers are measured on seed-vs-general text and can look perfect while
the general corpus's own in-domain pages are missed (issue 7). Hand labels (``select.labels``) are the
best check; where there are none, the ``llm`` section's model answers "Is this document mainly about
<domain>?" (the ``domain`` section's name and description; ``select.judge.domain`` overrides the name) for ``select.judge.sample`` kept and as many dropped docs (FineWeb-Edu style). Its own step,
after choose: the question, the model and the sample are its settings, every call goes through the
run's LLM cache (a rerun pays nothing), and every verdict is saved with the doc it judged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from trait.domain import DomainConfig
from trait.io import iter_docs, write_jsonl
from trait.llm import CachedLLM, ChatResult, chat_request, make_llm, parse_verdict
from trait.llm.config import LLMConfig
from trait.records import Doc
from trait.select.bootstrap import reservoir_sample
from trait.select.choose import joined_docs, score_shards
from trait.select.config import JudgeConfig
from trait.select.precision import judged_precision, load_labels
from trait.select.settings import SelectSettings
from trait.steps import Step, fingerprint
from trait.ui import info

PROMPT = ("Here is the beginning of a document.\n\n<document>\n{text}\n</document>\n\n{about}"
          "Is this document mainly about {domain}? Answer with one word: yes or no.")
ABOUT = "The domain, {domain}: {description}\n\n"  # only when domain.description is given
PROMPT_HASH = hashlib.sha256((PROMPT + ABOUT).encode()).hexdigest()[:12]


class LLMJudge:
    """A ``RelevanceJudge`` over the cached LLM: greedy, a few tokens, one request per document."""

    def __init__(self, llm: CachedLLM, settings: JudgeConfig, model: LLMConfig, domain: DomainConfig) -> None:
        self.llm, self.settings = llm, settings
        self.domain = settings.domain or domain.name
        self.about = ABOUT.format(domain=self.domain, description=domain.description) if domain.description else ""
        self.greedy = model.model_copy(update={"temperature": 0.0, "top_p": 1.0, "max_tokens": 8})
        self.seen: dict[str, tuple[str | None, int | None]] = {}  # text -> (reply or None if failed, verdict)

    def judge(self, texts: Sequence[str]) -> list[int | None]:
        j = self.settings
        reqs = [chat_request(self.greedy, [("user", PROMPT.format(text=t[:j.max_chars], about=self.about,
                                                                  domain=self.domain))]) for t in texts]
        out = self.llm.generate(reqs, description="judge")
        for text, res in zip(texts, out):
            reply = res.text if isinstance(res, ChatResult) else None
            self.seen[text] = (reply, parse_verdict(reply) if reply is not None else None)
        return [self.seen[t][1] for t in texts]


def agreement(judge: LLMJudge, docs: Sequence[Doc], labels: dict[str, int]) -> dict[str, Any]:
    """The judge's verdicts against the user's hand labels, on the judged docs that have one."""
    pairs = [(judge.seen[d.text][1], labels[d.id]) for d in docs if d.id in labels and d.text in judge.seen]
    answered = [(v, y) for v, y in pairs if v is not None]
    n = len(answered)
    return {"labelled": len(pairs), "answered": n,
            "accuracy": sum(v == y for v, y in answered) / n if n else float("nan"),
            "judge_yes_rate": sum(v for v, _ in answered) / n if n else float("nan"),
            "label_yes_rate": sum(y for _, y in answered) / n if n else float("nan")}


def judge_settings(s: SelectSettings) -> dict[str, Any]:
    llm = s.llm
    labels = s.select.labels
    return {"judge": s.select.judge.model_dump(mode="json"), "prompt": PROMPT_HASH, "seed": s.seed,
            "domain": s.domain.model_dump(mode="json"),
            "llm": {"backend": llm.backend, "model": llm.model, "base_url": llm.base_url},
            "labels": fingerprint([labels])[0] if labels else None}


def run_judge(s: SelectSettings, score_step: Step, choose_step: Step) -> Step | None:
    """The judge step (None when ``select.judge.enabled`` is off); skipped when done with these settings."""
    if not s.select.judge.enabled:
        return None
    return judge_step(s, score_step, choose_step).run(lambda out: _judge(s, score_step, choose_step, out))


def judge_step(s: SelectSettings, score_step: Step, choose_step: Step) -> Step:
    return Step(s.run_dir, "judge", judge_settings(s), deps=(score_step, choose_step),
                outputs={"judgements": "judgements.jsonl"})


def _judge(s: SelectSettings, score_step: Step, choose_step: Step, out: Path) -> dict[str, Any]:
    kept_path = str(choose_step.file("selected"))
    kept_ids = {d.id for d in iter_docs([kept_path], on_error="fail")}
    counts = {"kept": len(kept_ids), "dropped": 0}

    def dropped() -> Iterator[Doc]:
        for doc in joined_docs(s, score_shards(score_step)):  # score rows hold no text
            if doc.id not in kept_ids:
                counts["dropped"] += 1
                yield doc

    n, seed = s.select.judge.sample, s.seed
    kept = reservoir_sample(iter_docs([kept_path], on_error="fail"), n, seed)
    drop = reservoir_sample(dropped(), n, seed + 1)
    llm = make_llm(s.llm, cache_path=s.run_dir / "llm_cache.sqlite", failures_path=out / "llm_failures.jsonl")
    try:
        judge = LLMJudge(llm, s.select.judge, s.llm, s.domain)
        report = judged_precision([d.text for d in kept], [d.text for d in drop], judge, n, seed,
                                  n_kept_total=counts["kept"], n_dropped_total=counts["dropped"])
        stats = llm.stats()
    finally:
        llm.close()
    write_jsonl(out / "judgements.jsonl", [
        {"side": side, "id": d.id, "verdict": judge.seen[d.text][1], "reply": judge.seen[d.text][0],
         "scores": d.scores, "text": d.text[:300]}
        for side, docs in (("kept", kept), ("dropped", drop)) for d in docs if d.text in judge.seen])
    summary = {**report, "domain": judge.domain, "totals": counts, "llm": stats}
    if s.select.labels:  # hand labels too: say how far the judge can be trusted
        summary["agreement_with_labels"] = agreement(judge, kept + drop, load_labels(s.select.labels))
    agree = summary.get("agreement_with_labels")
    if agree and agree["answered"]:
        info(f"judge vs. hand labels: {agree['accuracy']:.0%} agreement on {agree['answered']} docs "
             f"(judge says yes to {agree['judge_yes_rate']:.0%}, labels to {agree['label_yes_rate']:.0%})")
    info(f"judge ({s.llm.model}): precision {report['precision']:.2f} "
         f"[{report['kept']['ci95'][0]:.2f}, {report['kept']['ci95'][1]:.2f}] on {report['kept']['judged']} kept docs; "
         f"in-domain among dropped {report['dropped']['in_domain_rate']:.3f}; "
         f"recall estimate {report['recall_estimate']:.2f}")
    return summary
