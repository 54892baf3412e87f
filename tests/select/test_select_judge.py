"""The LLM relevance judge: verdicts parsed, precision and recall estimated, every call cached."""

from __future__ import annotations

import pytest

from trait.errors import ConfigError
from trait.io import read_json, read_jsonl
from trait.pipeline import select as run_select
from trait.select.judge import ABOUT, PROMPT, parse_verdict
from trait.steps import latest
from trait.testing.openai_server import Behaviour, OpenAIServer

MATH_WORDS = ("equation", "theorem", "algebra", "mathemat", "fraction", "integer")


def _is_math(text: str) -> bool:
    return any(w in text.lower() for w in MATH_WORDS)


def _undecided(doc: str) -> bool:  # about one doc in four, fixed by its text
    return sum(map(ord, doc[:50])) % 4 == 0


def _judge_reply(body: dict) -> str:
    """A fake judge that answers like a chat model, and sometimes not at all."""
    prompt = body["messages"][-1]["content"]
    doc = prompt.split("<document>\n", 1)[1].split("\n</document>", 1)[0]
    if _undecided(doc):
        return "I cannot tell."
    return "**Yes.** It is about maths." if _is_math(doc) else "No, it is not."


@pytest.mark.parametrize("reply, verdict", [("Yes", 1), ("yes.", 1), ("**No**, it is about cooking", 0),
                                            ("Answer: YES", 1), ("Maybe", None), ("", None),
                                            ("nobody knows; yes", 1)])
def test_parse_verdict(reply, verdict):
    assert parse_verdict(reply) == verdict


def test_judge_estimates_precision_and_recall_and_is_cached(select_cfg, general_texts):
    with OpenAIServer(Behaviour(reply_fn=_judge_reply)) as srv:
        llm = {"backend": "openai", "base_url": srv.url, "model": "judge-model", "concurrency": 4}
        cfg = select_cfg(llm=llm, judge={"enabled": True, "domain": "mathematics", "sample": 10},
                         method="fasttext")  # the paper's classifier: its selection fixes the judged counts
        run_select(cfg)
        step = latest(cfg.run_dir, "judge")
        summary = read_json(step / "summary.json")
        sent = sum(srv.stats.requests.values())
        run_select(cfg)  # unchanged: the judge step is skipped, nothing is sent
        assert sum(srv.stats.requests.values()) == sent == 20

    rows = read_jsonl(step / "judgements.jsonl")
    by_id = {f"wiki-{i}": t for i, t in enumerate(general_texts)}
    assert [r["side"] for r in rows].count("kept") == summary["kept"]["judged"] == 10
    assert [r["side"] for r in rows].count("dropped") == summary["dropped"]["judged"] == 10
    for r in rows:  # every verdict is what the judge said about that very document
        doc = by_id[r["id"]][:2000]
        expected = None if _undecided(doc) else int(_is_math(doc))
        assert r["verdict"] == expected, r["id"]
    kept = [r for r in rows if r["side"] == "kept" and r["verdict"] is not None]
    assert summary["precision"] == pytest.approx(sum(r["verdict"] for r in kept) / len(kept))
    assert summary["totals"] == {"kept": 12, "dropped": 108}
    unanswered = sum(r["verdict"] is None for r in rows)
    assert unanswered > 0 and summary["kept"]["unanswered"] + summary["dropped"]["unanswered"] == unanswered
    assert 0.0 <= summary["recall_estimate"] <= 1.0
    assert summary["llm"]["sent"] == 20 and summary["domain"] == "mathematics"

    from trait.report import write_report

    html = write_report(cfg.run_dir).read_text()  # the report shows the judge's estimate
    assert "LLM judge on random kept and dropped docs" in html and "judge-model" in html


def test_judge_needs_a_domain_and_takes_it_from_the_domain_section(select_cfg, tmp_path):
    from trait.domain import DomainConfig
    from trait.pipeline import select_settings
    from trait.select.judge import judge_settings

    cfg = select_cfg(judge={"enabled": True})
    with pytest.raises(ConfigError, match=r"select.judge.enabled: .*name it in domain.name"):
        run_select(cfg)  # before any work: no step was started
    assert [p.name for p in cfg.run_dir.iterdir()] == [".lock"]
    law = cfg.model_copy(update={"domain": DomainConfig(name="contract law")})
    tax = cfg.model_copy(update={"domain": DomainConfig(name="tax law")})
    override = law.model_copy(update={"select": law.select.model_copy(update={
        "judge": law.select.judge.model_copy(update={"domain": "tax law"})})})
    # a new domain is a new question: the judge step's settings (its hash) change
    settings = {name: judge_settings(select_settings(c)) for name, c in (("law", law), ("tax", tax),
                                                                           ("override", override))}
    assert settings["law"] != settings["tax"] and settings["override"] != settings["law"]


def test_judge_question_names_the_configured_domain_and_no_other(tmp_path):
    from trait.domain import DomainConfig
    from trait.llm import make_llm
    from trait.llm.config import LLMConfig
    from trait.select.config import JudgeConfig
    from trait.select.judge import LLMJudge

    asked: list[str] = []

    def reply(body: dict) -> str:
        asked.append(body["messages"][-1]["content"])
        return "yes" if "tenant" in asked[-1] else "no"

    domain = DomainConfig(name="contract law", description="Leases, sales and employment contracts.")
    with OpenAIServer(Behaviour(reply_fn=reply)) as srv:
        model = LLMConfig(backend="openai", base_url=srv.url, model="judge-model")
        llm = make_llm(model, cache_path=tmp_path / "cache.sqlite", failures_path=tmp_path / "failures.jsonl")
        try:
            judge = LLMJudge(llm, JudgeConfig(enabled=True), model, domain)
            assert judge.judge(["A tenant may end the lease.", "Bake for ten minutes."]) == [1, 0]
        finally:
            llm.close()
    question = asked[0].split("</document>", 1)[1]
    assert "Is this document mainly about contract law?" in question and "Leases, sales" in question
    assert "math" not in PROMPT.lower() + ABOUT.lower() and "math" not in question.lower()


def test_judge_agreement_with_hand_labels(select_cfg, general_texts, tmp_path):
    from trait.io import write_jsonl

    # hand labels that follow the judge's rule on odd ids and contradict it on even ones
    labels = [{"id": f"wiki-{i}", "label": int(_is_math(t[:2000])) ^ (i % 2 == 0)} for i, t in enumerate(general_texts)]
    write_jsonl(tmp_path / "labels.jsonl", labels)
    with OpenAIServer(Behaviour(reply_fn=_judge_reply)) as srv:
        llm = {"backend": "openai", "base_url": srv.url, "model": "judge-model"}
        cfg = select_cfg(llm=llm, labels=str(tmp_path / "labels.jsonl"),
                         judge={"enabled": True, "domain": "mathematics", "sample": 10})
        run_select(cfg)
    step = latest(cfg.run_dir, "judge")
    agree = read_json(step / "summary.json")["agreement_with_labels"]
    answered = [r for r in read_jsonl(step / "judgements.jsonl") if r["verdict"] is not None]
    odd = sum(int(r["id"].split("-")[1]) % 2 == 1 for r in answered)
    assert agree["labelled"] == 20 and agree["answered"] == len(answered)
    assert agree["accuracy"] == pytest.approx(odd / len(answered))
