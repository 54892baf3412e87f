"""``synthesize.mode: passage``: one call writes the whole passage; it is split at its headers, each piece
checked as in per-problem mode, and a passage that does not split or fails a check is asked again whole.

Everything runs through the real cached LLM layer against a local OpenAI-compatible server whose
replies are scripted from the prompt (the gold answers it was given) and from how often that passage
was asked before.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from synth_kit import run_over_http

from trait.config import config_from_dict
from trait.records import Problem
from trait.synthesize.groups import Group
from trait.synthesize.passages import Settings
from trait.synthesize.prompts import Prompts
from trait.synthesize.whole import WholePassageJob, make_job, split_passage
from trait.tasks import TaskSpec
from trait.testing.openai_server import Behaviour, OpenAIServer

DRUG = Problem(id="q1", task="pharm", input="Which drug irreversibly inhibits platelet cyclooxygenase?",
               answer="B", kind="multiple_choice", choices=["Heparin", "Aspirin", "Warfarin", "Clopidogrel"])
SUM = Problem(id="s1", task="sums", input="Tom has 154 stickers and gives away 78. How many are left?", answer="76")
LESSON = ("### Lesson\nThe stickers problem and the platelet drug question both ask for one result: name what "
          "each quantity or option means before computing or choosing, and check the result against the story.")
GOOD_SUM = "### Problem 1\nGiving away means taking away, so we subtract: 154 - 78 = 76 stickers are left.\nAnswer: 76"
GOOD_DRUG = ("### Problem 2\nHeparin and warfarin act on clotting factors and clopidogrel on the ADP receptor; "
             "aspirin acetylates platelet cyclooxygenase for good, so choice B.\nAnswer: B")
ARGUED = ("### Problem 2\nAspirin is often named, but heparin binds the enzyme for good, so option A fits best."
          "\nAnswer: B")
TRIES = [
    "Here is the passage. Tom subtracts 78 from 154 and gets 76; aspirin acetylates the enzyme. Answer: B",
    f"{GOOD_SUM}\n\n{ARGUED}\n\n{LESSON}",
    f"Sure!\n\n{GOOD_SUM.replace('### Problem 1', '**Problem 1:**')}\n\n{GOOD_DRUG}\n\n{LESSON}",
]


def _settings(max_regenerations: int = 2, verifier: tuple[str, int] | None = None) -> Settings:
    tasks = {"pharm": TaskSpec(name="pharm", train="x.jsonl", checker="exact"), "sums": TaskSpec(name="sums", train="x.jsonl")}
    return Settings(prompts=Prompts.from_overrides({}), tasks=tasks, model="fake", backend="openai", temperature=0.7,
                    top_p=0.95, max_tokens=512, seed=0, gold_hints="answer", max_regenerations=max_regenerations,
                    min_paragraph_words=5, min_enlightenment_words=10, min_problems_mentioned=2, verifier=verifier,
                    mode="passage")




@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")


def test_split_takes_the_headers_asked_for_in_order():
    text = ("Intro line.\n### Problem 1: apples\nFirst body.\nProblem 1 (sums): a copied problem line\n"
            "**Problem 2**\nSecond body. Problem 3 is not a header.\n## Lesson\nThe lesson.")
    sections, lesson = split_passage(text, 2)
    assert sections == ["First body.\nProblem 1 (sums): a copied problem line", "Second body. Problem 3 is not a header."]
    assert lesson == "The lesson."
    assert split_passage("### Problem 1\nA\n### Problem 2\nB", 2) == "no 'Lesson' header after Problem 1, Problem 2"
    assert split_passage("### Problem 2\nB\n### Lesson\nL", 2) == "no 'Problem 1' header after the start"
    assert split_passage("### Problem 1\nProblem 2 asks us to weigh the four choices given, one by one.\n"
                         "### Lesson\nL", 2) == "no 'Problem 2' header after Problem 1"  # a sentence, not a header
    assert split_passage("**Problem 1:** We add.\nProblem 2 (sums): We subtract.\n**Lesson:** Name things.", 2) == (
        ["We add.", "We subtract."], "Name things.")


def test_a_passage_that_does_not_split_or_argues_for_another_choice_is_asked_again_whole(tmp_path):
    prompts: list[str] = []

    def reply(body: dict) -> str:  # the n-th call gets the n-th try (the prompt is the same each time)
        prompts.append(body["messages"][-1]["content"])
        return TRIES[min(len(prompts) - 1, len(TRIES) - 1)]

    with OpenAIServer(Behaviour(reply_fn=reply)) as srv:
        job = make_job(Group(0, (SUM, DRUG)), _settings(2))
        assert isinstance(job, WholePassageJob)
        stats = run_over_http(tmp_path, srv.url, [job])
        assert job.status == "accepted"
        assert [a.reason for a in job.whole.attempts] == ["split_failed", "paragraph:argues_other", "ok"]
        assert job.whole.attempts[0].detail == "no 'Problem 1' header after the start"
        assert job.whole.attempts[1].detail == "problem 2: the last choice it argues for is A, gold B"
        assert [[a.reason for a in p.attempts] for p in job.paragraphs] == [["ok", "ok"], ["argues_other", "ok"]]
        assert stats["sent"] == 3 and len(set(prompts)) == 1  # one call per try, nothing per problem
        keys = [a.key for a in job.whole.attempts]
        assert len(set(keys)) == 3  # each try a new seed, hence a new payload
        passage = job.passage()
        assert passage.paragraphs[0].startswith("Problem 1 (sums): Tom has 154 stickers")
        assert passage.paragraphs[1].endswith("so choice B.\nAnswer: B")
        assert "Choices:\nA. Heparin" in passage.paragraphs[1] and passage.enlightenment.startswith(
            "What these problems teach: The stickers problem")
        prov = passage.provenance
        assert prov["mode"] == "passage" and prov["attempts"]["passages"] == 3 and prov["request_keys"] == [keys[-1]]
        # the prompt: both problems with their hints and the headers to use
        assert "### Problem <number>" in prompts[0] and "### Lesson" in prompts[0]
        assert "Problem 2 (pharm, multiple choice):" in prompts[0] and "The correct choice is B: Aspirin." in prompts[0]
        assert "different task types (open answer, multiple choice)" in prompts[0]

        again = make_job(Group(0, (SUM, DRUG)), _settings(2))  # a rerun: the cache answers every try
        stats = run_over_http(tmp_path, srv.url, [again])
        assert stats["sent"] == 0 and stats["cache_hits"] == 3 and again.passage().text == passage.text

        short = make_job(Group(0, (SUM, DRUG)), _settings(1))  # one regeneration only: the same two tries
        run_over_http(tmp_path, srv.url, [short])
        assert short.status == "rejected" and short.reason == "paragraph:argues_other"
        none = make_job(Group(0, (SUM, DRUG)), _settings(0))
        run_over_http(tmp_path, srv.url, [none])
        assert none.status == "rejected" and none.reason == "passage:split_failed"
        assert none.rejection()["attempts"][-1]["slot"] == "passage"


def test_the_verifier_checks_each_piece_and_a_no_regenerates_the_passage(tmp_path):
    passages: list[str] = []

    def reply(body: dict) -> str:  # verdicts are greedy and seedless: the same text gets the same one
        user = body["messages"][-1]["content"]
        if "Proposed solution:" in user:
            return "No." if "stickers are left" in user else "Yes."
        passages.append(user)
        return TRIES[2] if len(passages) == 1 else TRIES[2].replace("stickers are left", "stickers remain")

    with OpenAIServer(Behaviour(reply_fn=reply)) as srv:
        job = make_job(Group(0, (SUM, DRUG)), _settings(2, verifier=("fake", 4)))
        stats = run_over_http(tmp_path, srv.url, [job])
    assert job.status == "accepted" and [a.reason for a in job.whole.attempts] == ["paragraph:verifier_no", "ok"]
    assert [a.verdict for a in job.paragraphs[0].attempts] == ["no", "yes"]
    # two passages, each piece verified each time; the drug's unchanged piece is one payload, sent once
    assert stats["requests"] == 2 + 4 and stats["sent"] == 5


# ---- the stage, on the tasks of the per-problem stage tests -------------------------------------

def _write_tasks(root: Path, example_data: Path) -> None:
    lines = (example_data / "gsm8k" / "train.jsonl").read_text().splitlines()[:6]
    (root / "gsm.jsonl").write_text("\n".join(lines) + "\n")
    with open(root / "sums.jsonl", "w") as fh:
        fh.writelines(json.dumps({"id": f"s{i}", "question": f"Tom has {i + 2} apples and buys {i} more. "
                                 "How many apples does he have?", "answer": float(2 * i + 2)}) + "\n" for i in range(4))


def _writer(fail_first_of: str | None):
    """A generator that writes the passage it is asked for: a section per problem ending in the hinted
    answer, and a lesson naming each problem by one of its words. Without headers the first time a
    passage holds ``fail_first_of``."""
    failed: set[str] = set()

    def reply(body: dict) -> str:
        user = body["messages"][-1]["content"]
        problems = re.findall(r"Problem \d+ \([^)]*\):\n([^\n]*)", user)
        answers = re.findall(r'End your paragraph with the line "Answer: (.*?)"', user)
        words = [max(re.findall(r"[A-Za-z]{5,}", p), key=len) for p in problems]
        sections = [f"### Problem {i}\nWe read the story about {w.lower()} and work it out step by step.\n"
                    f"Answer: {a}" for i, (w, a) in enumerate(zip(words, answers), 1)]
        lesson = (f"### Lesson\nThe problems about {', '.join(w.lower() for w in words)} all turn a short story "
                  "into one operation; name each quantity first and the operation follows.")
        if fail_first_of and fail_first_of in user and user not in failed:
            failed.add(user)
            return " ".join(sections).replace("### ", "")  # one line: no header at a line start
        return "\n\n".join([*sections, lesson])
    return reply


def _config(url: str, **synth) -> dict:
    return {"run": "t", "runs_dir": "runs", "seed": 3, "domain": {"name": "arithmetic word problems"},
            "data": {"seed_corpus": ["none.jsonl"], "general_corpus": ["none.jsonl"]},
            "tasks": [{"name": "gsm8k", "train": "gsm.jsonl", "answer_format": "gsm8k"},
                      {"name": "sums", "train": "sums.jsonl", "id_field": "id"}],
            "llm": {"backend": "openai", "base_url": url, "model": "fake", "max_retries": 0, "max_tokens": 400},
            "synthesize": {"mode": "passage", "problems_per_passage": 2, "max_passages": 4, "gold_hints": "answer",
                           "min_paragraph_words": 3, **synth}}


def test_the_stage_in_passage_mode_counts_passages_as_completions_and_reruns_for_free(tmp_path, example_data):
    from trait.pipeline import synthesis_settings
    from trait.synthesize.stage import run_synthesize

    _write_tasks(tmp_path, example_data)
    with OpenAIServer(Behaviour(reply_fn=_writer("has 3 apples"))) as srv:
        settings = synthesis_settings(config_from_dict(_config(srv.url), base_dir=tmp_path))
        step = run_synthesize(settings)
        s = step.summary()
        assert s["passages"] == s["planned"] == 4
        assert s["attempts"]["passage:split_failed"] == 1 and s["attempts"]["passage:ok"] == 4
        assert s["llm"]["calls"] == 5  # one per passage, and the one that did not split again
        assert s["truncation"]["completions"] == 5  # whole passages, not the sections cut from them
        assert s["checks"]["passage_split"] == {"checked": 5, "passed": 4, "rate": 0.8}
        assert s["checks"]["enlightenment_degeneracy"]["checked"] == 4 and s["checks"]["answer_line"]["rate"] == 1.0
        sent = sum(srv.stats.requests.values())
        shutil.rmtree(step.path)
        redo = run_synthesize(settings)
        assert redo.summary()["llm"]["sent"] == 0 and sum(srv.stats.requests.values()) == sent

        # per_problem is another step; its calls are other requests
        other = synthesis_settings(config_from_dict(_config(srv.url, mode="per_problem"), base_dir=tmp_path))
        from trait.synthesize.stage import synthesize_step
        assert synthesize_step(other).path != step.path


def test_a_passage_mode_run_that_never_splits_says_so_and_what_to_change(tmp_path, example_data):
    from trait.errors import TraitError
    from trait.pipeline import synthesis_settings
    from trait.synthesize.stage import run_synthesize

    _write_tasks(tmp_path, example_data)
    with OpenAIServer(Behaviour(reply_fn=lambda body: "A passage with no headers at all, and no answers.")) as srv:
        settings = synthesis_settings(config_from_dict(_config(srv.url, max_regenerations=0), base_dir=tmp_path))
        with pytest.raises(TraitError) as err:
            run_synthesize(settings)
    message = str(err.value)
    assert "Top rejection reasons: passage:split_failed x4 (e.g. passage: no 'Problem 1' header after the start;" in message
    assert "Change: synthesize.mode=per_problem or a stronger llm.model." in message
