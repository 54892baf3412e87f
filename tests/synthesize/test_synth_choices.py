"""Multiple-choice and classification paragraphs: answer lines read as letters or labels, reasoning that
argues for another choice refused, through the real cached LLM layer and a local OpenAI-compatible server.

The scripted server answers each paragraph request by how often that problem was asked before: first a
wrong choice, then the dictated (right) answer line after reasoning for another choice, then one that
never discusses the gold choice, and only then a right paragraph. Each wrong one must be refused and
regenerated with a new seed, the right one kept; a rerun is answered by the cache alone.
"""

from __future__ import annotations

from collections import Counter

import pytest
from synth_kit import run_over_http

from trait.domain import DomainConfig
from trait.records import Problem
from trait.synthesize.checks import check_paragraph
from trait.synthesize.choices import answer_line, pick_choice, pick_label
from trait.synthesize.groups import Group
from trait.synthesize.passages import PassageJob, Settings
from trait.synthesize.prompts import Prompts
from trait.synthesize.stage import summarize
from trait.tasks import TaskSpec
from trait.testing.openai_server import Behaviour, OpenAIServer

DRUG = Problem(id="q1", task="pharm", input="Which drug irreversibly inhibits platelet cyclooxygenase?",
               answer="B", kind="multiple_choice", choices=["Heparin", "Aspirin", "Warfarin", "Clopidogrel"])
SHOES = Problem(id="e1", task="esci", input="Query: running shoes for men\nProduct: Pegasus men's road running shoe",
                answer="Exact", kind="classification", choices=["Exact", "Substitute", "Complement", "Irrelevant"])

DRUG_TRIES = [
    "Heparin activates antithrombin and so stops clotting at once.\nAnswer: A",  # wrong choice
    ("Aspirin is often named here, but heparin is what binds the enzyme for good, so option A fits best."
     "\nAnswer: B"),  # the dictated answer line after reasoning for A
    "The drug acetylates a serine of the enzyme, an effect that lasts for the platelet's whole life.\nAnswer: B",
    ("Heparin and warfarin act on clotting factors, and clopidogrel blocks the ADP receptor. Aspirin acetylates "
     "platelet cyclooxygenase for good, so choice B is right.\nAnswer: B\nMore chatter."),
]
SHOES_TRIES = [
    "The product is a running shoe for men, a close alternative at most.\nAnswer: Substitute",
    "The product is a men's running shoe, but as it is one brand among many the label is Substitute.\nAnswer: Exact",
    "The product matches every word of the query and the query's intent.\nAnswer: Perfect match",
    "The query asks for men's running shoes and the product is one, so the label is Exact.\nAnswer: Exact",
]
LESSON = ("The platelet question and the running shoes query both ask to pick one option from a fixed list: "
          "name what each option means before choosing, then check the input against it.")


def _reply(asked: Counter, prompts: list[str]):
    def reply(body: dict) -> str:
        user = body["messages"][-1]["content"]
        prompts.append(user)
        if "general lesson" in user:
            return LESSON
        which = "drug" if DRUG.input in user else "shoes"
        n = asked[which]
        asked[which] += 1
        tries = DRUG_TRIES if which == "drug" else SHOES_TRIES
        return tries[min(n, len(tries) - 1)]
    return reply


def _settings(prompts: Prompts, max_regenerations: int, gold_hints: str = "answer") -> Settings:
    tasks = {"pharm": TaskSpec(name="pharm", description="Pharmacology questions.", train="x.jsonl"),
             "esci": TaskSpec(name="esci", description="Query-product relevance.", train="x.jsonl")}
    return Settings(prompts=prompts, tasks=tasks, model="fake", backend="openai", temperature=0.7, top_p=0.95,
                    max_tokens=128, seed=0, gold_hints=gold_hints, max_regenerations=max_regenerations,
                    min_paragraph_words=5, min_enlightenment_words=10, min_problems_mentioned=2)




@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")


def test_wrong_choices_and_labels_are_refused_and_the_right_ones_kept(tmp_path):
    asked, prompts = Counter(), []
    prompts_ = Prompts.from_overrides({}, DomainConfig(name="clinical medicine and e-commerce search"))
    with OpenAIServer(Behaviour(reply_fn=_reply(asked, prompts))) as srv:
        job = PassageJob(Group(0, (DRUG, SHOES)), _settings(prompts_, 3))
        stats = run_over_http(tmp_path, srv.url, [job])
        assert job.status == "accepted"
        reasons = [[a.reason for a in piece.attempts] for piece in job.paragraphs]
        assert reasons == [["disagrees", "argues_other", "gold_not_discussed", "ok"],
                           ["disagrees", "argues_other", "unknown_choice", "ok"]]
        drug = job.paragraphs[0].attempts
        assert drug[1].detail == "the last choice it argues for is A, gold B"
        assert drug[1].checks == {"answer_line": True, "reasoning_agrees": False}  # the hint made the line right
        assert job.paragraphs[1].attempts[1].detail == "its last verdict is 'Substitute', gold 'Exact'"
        passage = job.passage()
        assert "Choices:\nA. Heparin\nB. Aspirin" in passage.text and "Possible labels: Exact, Substitute" in passage.text
        assert "so choice B is right.\nAnswer: B" in passage.text and "More chatter" not in passage.text
        assert passage.provenance["answers"][1] == {"problem_id": "e1", "gold": "Exact", "generated": "Exact"}
        assert stats["sent"] == 4 + 4 + 1

        # What the generator was shown: the choices, the hint naming the gold choice, the domain; the
        # enlightenment compares the two task types.
        drug_prompt = next(p for p in prompts if DRUG.input in p and "general lesson" not in p)
        assert "The correct choice is B: Aspirin." in drug_prompt and "idea of clinical medicine" in drug_prompt
        lesson_prompt = next(p for p in prompts if "general lesson" in p)
        assert "different task types (multiple choice, classification)" in lesson_prompt
        assert "[pharm, multiple choice]" in lesson_prompt and "(answer: B. Aspirin)" in lesson_prompt

        summary = summarize([job], schedule_total=1, problems={}, load_stats={}, llm_stats={}, prompts=prompts_,
                            wall_s=0.0)
        assert summary["trivially_true"] == ["answer_line"]
        # "matches every word of the query" names nothing of the shoes input: refused as well as unknown
        assert summary["checks"]["reasoning_agrees"] == {"checked": 8, "passed": 3, "rate": 0.375}
        assert summary["checks"]["calculator"]["checked"] == 0
        assert summary["agreement"]["first_try"] == 0.0 and summary["agreement"]["after_regeneration"] == 1.0

        # Rerun: the same requests, every one answered by the cache.
        again = PassageJob(Group(0, (DRUG, SHOES)), _settings(prompts_, 3))
        stats = run_over_http(tmp_path, srv.url, [again])
        assert stats["sent"] == 0 and stats["cache_hits"] == 9 and again.passage().text == passage.text


def test_reasoning_for_another_choice_sinks_the_passage_when_tries_run_out(tmp_path):
    asked, prompts = Counter({"drug": 1, "shoes": 1}), []  # start at the second, dictated-but-argued try
    with OpenAIServer(Behaviour(reply_fn=_reply(asked, prompts))) as srv:
        job = PassageJob(Group(0, (DRUG,)), _settings(Prompts.from_overrides({}), 1))
        run_over_http(tmp_path, srv.url, [job])
    assert job.status == "rejected" and job.reason == "paragraph:gold_not_discussed"
    assert [a.reason for a in job.paragraphs[0].attempts] == ["argues_other", "gold_not_discussed"]


def test_without_a_hint_the_answer_line_is_what_is_checked(tmp_path):
    asked, prompts = Counter(), []
    with OpenAIServer(Behaviour(reply_fn=_reply(asked, prompts))) as srv:
        job = PassageJob(Group(0, (SHOES,)), _settings(Prompts.from_overrides({}), 3, gold_hints="none"))
        run_over_http(tmp_path, srv.url, [job])
    assert job.status == "accepted"
    shown = next(p for p in prompts if SHOES.input in p)
    assert "Exact" in shown and "correct label" not in shown  # the labels are listed, the gold is not given
    assert 'a line of the form "Answer: <label>"' in shown


@pytest.mark.parametrize("raw, letter", [("B", "B"), ("(B)", "B"), ("**B**", "B"), ("b", "B"),
                                         ("B. Aspirin", "B"), ("Aspirin", "B"), ("aspirin.", "B"),
                                         ("Aspirin, because it acetylates", "B"), ("E", None), ("a drug", None),
                                         ("Heparin or aspirin", None)])
def test_choice_letters_are_read_from_letters_or_choice_texts(raw, letter):
    assert pick_choice(raw, DRUG.choices) == letter


@pytest.mark.parametrize("raw, label", [("Exact", "Exact"), ("exact.", "Exact"), ("**Irrelevant**", "Irrelevant"),
                                        ("Substitute, since it is another brand", "Substitute"),
                                        ("Exactly", None), ("maybe", None)])
def test_labels_are_read_exactly(raw, label):
    assert pick_label(raw, SHOES.choices) == label


def test_the_answer_line_is_the_last_marker_and_a_label_may_be_long():
    text = "Answer: A was my first thought.\nOn reflection the answer is C.\nThen more."
    line = answer_line(text)
    assert line.value == "C." and text[line.start: line.end] == "On reflection the answer is C."
    assert answer_line("Final Answer: not relevant to the query").value == "not relevant to the query"
    assert answer_line("No marker here") is None


def test_choice_checks_name_what_failed():
    spec = TaskSpec(name="pharm", train="x.jsonl")
    assert check_paragraph("Aspirin acetylates the enzyme for good.", DRUG, spec, 3).reason == "no_answer"
    judged = check_paragraph("Aspirin acetylates the enzyme.\nAnswer: E", DRUG, spec, 3)
    assert (judged.reason, judged.detail) == ("unknown_choice", "answer 'E' is none of A, B, C, D")
    assert check_paragraph("Aspirin it is.\nAnswer: B", DRUG, spec, 5).reason == "too_short"
    # "B is correct, not C": the last sentence names the gold among others, which is fine
    ok = check_paragraph("Aspirin acetylates the enzyme; B is correct, not C (warfarin).\nAnswer: B", DRUG, spec, 3)
    assert ok.reason == "ok" and ok.checks == {"answer_line": True, "reasoning_agrees": True}
    # a choice like "All of the above" has no word of its own: only the last-choice rule holds it
    allq = Problem(id="q2", task="pharm", input="Which are anticoagulants?", answer="D", kind="multiple_choice",
                   choices=["Heparin", "Warfarin", "Dabigatran", "All of the above"])
    assert check_paragraph("Heparin, warfarin and dabigatran all prevent clotting, so option D.\nAnswer: D",
                           allq, spec, 3).reason == "ok"
    # ordinary words that are also labels are not verdicts
    yes = Problem(id="p1", task="pubmed", input="Does aspirin help? A trial without controls.", answer="yes", kind="classification",
                  choices=["yes", "no", "maybe"])
    assert check_paragraph("There is no control group, yet the trial shows a clear benefit of aspirin.\nAnswer: yes",
                           yes, spec, 3).reason == "ok"
    assert check_paragraph("The benefit is small and unsure, so the answer is maybe. Still, yes.\nAnswer: yes",
                           yes, spec, 3).reason == "argues_other"


def test_a_lesson_naming_only_field_names_names_no_problem():
    from trait.synthesize.checks import check_enlightenment

    other = Problem(id="e2", task="esci", input="Query: garden hose\nProduct: Steel watering can", answer="Substitute",
                    kind="classification", choices=SHOES.choices)
    kw = {"min_words": 5, "max_repeated": 0.3, "min_named": 2}
    generic = "Each query and product pair asks which label fits; read the query first, then the product, then choose."
    assert check_enlightenment(generic, (SHOES, other), **kw).reason == "names_no_problem"
    named = "A running shoe query and a garden hose query: one product is the very thing asked for, one only a stand-in."
    assert check_enlightenment(named, (SHOES, other), **kw).reason == "ok"
    # the problems pasted back name them, but say nothing of them
    pasted = f"Again:\n{SHOES.input}\n{other.input}\nThey differ."
    assert check_enlightenment(pasted, (SHOES, other), **kw).reason == "copies_input"
    assert check_enlightenment(pasted + " " + named, (SHOES, other), **kw).reason == "ok"
