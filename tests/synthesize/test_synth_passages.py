"""One passage's life: paragraph validation, regeneration with new seeds, drop counted by reason.

The LLM here is a deterministic in-test generator (answers computed from the gold hint in the
prompt, wrong on purpose for chosen problems): it tests the grouping/validation logic only; the
stage tests run real backends.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from trait.llm.base import ChatRequest, ChatResult, LLMFailure
from trait.records import Problem
from trait.synthesize.groups import Group
from trait.synthesize.passages import PassageJob, Settings, check_paragraph
from trait.synthesize.prompts import Prompts
from trait.synthesize.rounds import run_jobs
from trait.synthesize.stage import summarize
from trait.tasks import TaskSpec

GOLD = re.compile(r"The correct result is (\S+?)\.")
LESSON = ("Both problems turn a story into arithmetic on quantities; one adds parts while the other "
          "compares them, and the lesson is to name each quantity before computing.")


class ScriptedLLM:
    """Explains the hinted gold answer, except where ``wrong(problem_text, attempt)`` says to err."""

    name = "scripted"

    def __init__(self, wrong: Callable[[str, int], str | None]) -> None:
        self.wrong = wrong
        self.requests: list[ChatRequest] = []

    def generate(self, requests, on_result=None):
        out = []
        for r in requests:
            self.requests.append(r)
            user = r.messages[-1][1]
            if r.meta["kind"] == "enlightenment":
                res = ChatResult(LESSON, prompt_tokens=40, completion_tokens=30)
            else:
                problem = re.search(r"Problem: (.*)", user).group(1)
                verdict = self.wrong(problem, r.meta["attempt"])
                if verdict == "fail":
                    res = LLMFailure("http_500: server error", attempts=3)
                else:
                    answer = verdict or GOLD.search(user).group(1)
                    res = ChatResult(f"We combine the two amounts step by step using addition.\nAnswer: {answer}\n"
                                     "Extra chatter the checker must cut off.", prompt_tokens=50, completion_tokens=20)
            out.append(res)
            if on_result:
                on_result(res)
        return out

    def close(self) -> None:
        pass


def _settings(max_regenerations: int = 2) -> Settings:
    spec = TaskSpec(name="toy", description="Toy sums.", train="x.jsonl")
    return Settings(prompts=Prompts.from_overrides({}), tasks={"toy": spec}, model="m", backend="test",
                    temperature=0.7, top_p=0.95, max_tokens=64, seed=0, gold_hints="answer",
                    max_regenerations=max_regenerations, min_paragraph_words=4, min_enlightenment_words=10)


def _group(index: int, *names: str) -> Group:
    return Group(index, tuple(Problem(id=n, task="toy", input=f"{n}: what is 2 + 3?", answer="5") for n in names))


def _run(jobs, llm):
    done = []
    run_jobs(jobs, llm, on_finished=done.append)
    return done


def test_regeneration_fixes_a_wrong_answer_with_a_new_seed():
    llm = ScriptedLLM(lambda prob, attempt: "6" if prob.startswith("flaky") and attempt == 0 else None)
    job = PassageJob(_group(0, "flaky", "fine"), _settings())
    _run([job], llm)
    assert job.status == "accepted"
    flaky = [r for r in llm.requests if r.meta["kind"] == "paragraph" and "flaky" in r.messages[-1][1]]
    assert len(flaky) == 2 and flaky[0].seed != flaky[1].seed and flaky[0].key != flaky[1].key
    passage = job.passage()
    assert passage.provenance["attempts"] == {"paragraphs": [2, 1], "enlightenment": 1}
    assert "Extra chatter" not in passage.text and passage.text.count("Answer: 5") == 2
    assert passage.paragraphs[0].startswith("Problem 1 (toy): flaky") and passage.enlightenment.endswith(LESSON)
    assert passage.provenance["tokens"] == {"prompt": 3 * 50 + 40, "completion": 3 * 20 + 30}


def test_persistent_disagreement_drops_the_passage_and_is_counted():
    llm = ScriptedLLM(lambda prob, attempt: "7" if prob.startswith("bad") else "fail" if prob.startswith("down") else None)
    jobs = [PassageJob(_group(0, "bad", "ok1"), _settings(2)), PassageJob(_group(1, "ok2", "ok3"), _settings(2)),
            PassageJob(_group(2, "down", "ok4"), _settings(2))]
    done = _run(jobs, llm)
    assert [j.status for j in jobs] == ["rejected", "accepted", "rejected"]
    assert jobs[0].reason == "paragraph:disagrees" and jobs[2].reason == "paragraph:llm_failure"
    bad_calls = [r for r in llm.requests if "bad:" in r.messages[-1][1]]
    assert len(bad_calls) == 3  # first try + max_regenerations, then no more
    assert all(r.meta["kind"] == "paragraph" for r in llm.requests if "bad:" in r.messages[-1][1])
    summary = summarize(done, schedule_total=3, problems={"toy": []}, load_stats={}, llm_stats={},
                        prompts=_settings().prompts, wall_s=0.0)
    assert summary["passages"] == 1
    assert summary["rejected"] == {"paragraph:disagrees": 1, "paragraph:llm_failure": 1}
    assert abs(summary["rejection_rate"] - 2 / 3) < 1e-9
    # 6 paragraphs with gold: 4 right first time, 'bad' never, 'down' failed (not a text, still not agreeing).
    assert summary["agreement"] == {"paragraphs_with_gold": 6, "first_try": 4 / 6, "after_regeneration": 4 / 6}
    rej = jobs[0].rejection()
    assert rej["reason"] == "paragraph:disagrees" and sum(a["slot"] == 0 for a in rej["attempts"]) == 3


def test_no_regenerations_means_one_try():
    llm = ScriptedLLM(lambda prob, attempt: "9" if prob.startswith("bad") else None)
    job = PassageJob(_group(0, "bad"), _settings(0))
    _run([job], llm)
    assert job.status == "rejected" and len(llm.requests) == 1


def test_requests_are_a_pure_function_of_settings_passage_and_attempt():
    a = PassageJob(_group(0, "x", "y"), _settings()).pending()
    b = PassageJob(_group(0, "x", "y"), _settings()).pending()
    assert [r.key for _, r in a] == [r.key for _, r in b]
    other = PassageJob(_group(1, "x", "y"), _settings()).pending()  # same problem, another passage: new seed
    assert a[0][1].key != other[0][1].key


def test_check_paragraph_reasons():
    spec = TaskSpec(name="toy", train="x.jsonl")
    p = Problem(id="1", task="toy", input="2+3?", answer="5")
    assert check_paragraph("   ", p, spec, 3)[0] == "empty"
    assert check_paragraph("I do not know how to do this one", p, spec, 3)[0] == "no_answer"
    assert check_paragraph("Answer: 5", p, spec, 3)[0] == "too_short"
    assert check_paragraph("Two plus three makes five. Answer: 6", p, spec, 3)[:2] == ("disagrees", "6")
    loop = "Two plus three is five. " + "The final answer is based on the steps. " * 3 + "Answer: 5"
    assert check_paragraph(loop, p, spec, 3)[0] == "repetitive"
    reason, answer, kept = check_paragraph("Two plus three is 5 in total", p, spec, 3)
    assert (reason, answer) == ("ok", "5") and kept.endswith("\nAnswer: 5")  # implicit answer made explicit
    free = TaskSpec(name="free", train="x.jsonl", answer_field=None, checker="none")
    q = Problem(id="2", task="free", input="Why?")
    assert check_paragraph("Because the sky scatters blue light more", q, free, 3)[0] == "ok"
    assert check_paragraph("It is so. It is so. It is so. It is so.", q, free, 0)[0] == "ok"  # 3-word sentences
    assert check_paragraph("It is really so. " * 3, q, free, 0)[0] == "repetitive"
