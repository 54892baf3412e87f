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
from trait.synthesize.checks import check_enlightenment
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
    """Explains the hinted gold answer, except where ``wrong(problem_text, attempt)`` says to err (a wrong
    answer, "fail", or a whole paragraph); a verifier that says no to paragraphs containing "BAD"."""

    name = "scripted"

    def __init__(self, wrong: Callable[[str, int], str | None], lesson: str = LESSON) -> None:
        self.wrong, self.lesson = wrong, lesson
        self.requests: list[ChatRequest] = []

    def generate(self, requests, on_result=None):
        out = []
        for r in requests:
            self.requests.append(r)
            user = r.messages[-1][1]
            if r.meta["kind"] == "enlightenment":
                res = ChatResult(self.lesson, prompt_tokens=40, completion_tokens=30)
            elif r.meta["kind"] == "verify":
                res = ChatResult("No, a step is wrong." if "BAD" in user else "Yes.", prompt_tokens=60,
                                 completion_tokens=3)
            else:
                verdict = self.wrong(re.search(r"Problem: (.*)", user).group(1), r.meta["attempt"])
                if verdict == "fail":
                    res = LLMFailure("http_500: server error", attempts=3)
                elif verdict and " " in verdict:  # a whole paragraph
                    res = ChatResult(verdict, prompt_tokens=50, completion_tokens=40)
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


def _settings(max_regenerations: int = 2, **checks) -> Settings:
    spec = TaskSpec(name="toy", description="Toy sums.", train="x.jsonl")
    return Settings(prompts=Prompts.from_overrides({}), tasks={"toy": spec}, model="m", backend="test",
                    temperature=0.7, top_p=0.95, max_tokens=64, seed=0, gold_hints="answer",
                    max_regenerations=max_regenerations, min_paragraph_words=4, min_enlightenment_words=10,
                    **checks)


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
    reason, answer, kept = check_paragraph("Two plus three is 5 in total", p, spec, 3)[:3]
    assert (reason, answer) == ("ok", "5") and kept.endswith("\nAnswer: 5")  # implicit answer made explicit
    free = TaskSpec(name="free", train="x.jsonl", answer_field=None, checker="none")
    q = Problem(id="2", task="free", input="Why?")
    assert check_paragraph("Because the sky scatters blue light more", q, free, 3)[0] == "ok"
    assert check_paragraph("It is so. It is so. It is so. It is so.", q, free, 0)[0] == "ok"  # 3-word sentences
    assert check_paragraph("It is really so. " * 3, q, free, 0)[0] == "repetitive"


STICKERS = Problem(id="st", task="toy", input="Mia has 154 stickers and gives away 78. How many are left?", answer="76")
RIGHT = "Giving away means taking away, so we subtract: 154 - 78 = 76 stickers are left.\nAnswer: 76"
WRONG = "Giving away means taking away, so we subtract: 154 - 78 = 114 stickers are left.\nAnswer: 76"


def test_right_answer_line_with_wrong_arithmetic_is_rejected_and_regenerated():
    llm = ScriptedLLM(lambda prob, attempt: WRONG if attempt == 0 else RIGHT)
    job = PassageJob(Group(0, (STICKERS,)), _settings())
    _run([job], llm)
    assert job.status == "accepted"
    first, second = job.paragraphs[0].attempts
    assert (first.reason, first.detail) == ("wrong_arithmetic", "154 - 78 = 114 (is 76)")
    assert first.checks == {"answer_line": True, "calculator": False, "final_value": False}
    assert second.ok and second.checks == {"answer_line": True, "calculator": True, "final_value": True}
    assert "154 - 78 = 76" in job.passage().text and "114" not in job.passage().text

    stuck = PassageJob(Group(1, (STICKERS,)), _settings(2))
    done = _run([stuck], ScriptedLLM(lambda prob, attempt: WRONG))
    assert stuck.status == "rejected" and stuck.reason == "paragraph:wrong_arithmetic"
    assert len(stuck.paragraphs[0].attempts) == 3
    summary = summarize(done, schedule_total=1, problems={"toy": [STICKERS]}, load_stats={}, llm_stats={},
                        prompts=_settings().prompts, wall_s=0.0)
    # The gold hint dictates the answer line: it always agrees, and the summary says it means little.
    assert summary["checks"]["answer_line"] == {"checked": 3, "passed": 3, "rate": 1.0}
    assert summary["checks"]["calculator"] == {"checked": 3, "passed": 0, "rate": 0.0,
                                               "statements_read": 3, "statements_wrong": 3}
    assert summary["trivially_true"] == ["answer_line"] and summary["checks"]["verifier"]["rate"] is None
    assert stuck.rejection()["attempts"][0]["detail"] == "154 - 78 = 114 (is 76)"


def test_check_paragraph_runs_the_calculator_on_math_tasks_only():
    spec = TaskSpec(name="toy", train="x.jsonl")
    recycled = Problem(id="r", task="toy", input="How many points?", answer="9")
    text = "She recycled 52 / 2 = 26 pounds of paper, so she recycled 26 points.\nAnswer: 9"
    judged = check_paragraph(text, recycled, spec, 3)
    assert judged.reason == "final_value" and judged.detail == "last derived value 26, answer '9'"
    assert judged.checks == {"answer_line": True, "calculator": True, "final_value": False}
    exact = TaskSpec(name="toy", train="x.jsonl", checker="exact")
    assert check_paragraph(WRONG, STICKERS, exact, 3).checks == {"answer_line": True}
    free = TaskSpec(name="toy", train="x.jsonl", answer_field=None)  # no gold: the calculator still applies
    assert check_paragraph(WRONG, Problem(id="f", task="toy", input="?"), free, 3).reason == "wrong_arithmetic"


def test_verifier_refusal_is_regenerated_and_its_calls_are_greedy_on_its_model():
    bad = RIGHT.replace("so we subtract", "BAD so we subtract")
    llm = ScriptedLLM(lambda prob, attempt: bad if attempt == 0 else RIGHT)
    job = PassageJob(Group(0, (STICKERS,)), _settings(verifier=("judge-model", 8)))
    done = _run([job], llm)
    assert job.status == "accepted" and [a.verdict for a in job.paragraphs[0].attempts] == ["no", "yes"]
    assert job.paragraphs[0].attempts[0].reason == "verifier_no"
    checks = [r for r in llm.requests if r.meta["kind"] == "verify"]
    assert len(checks) == 2 and all(r.model == "judge-model" and r.temperature == 0 and r.seed is None
                                    and r.max_tokens == 8 for r in checks)
    assert [r.meta["kind"] for r in llm.requests] == ["paragraph", "verify", "paragraph", "verify", "enlightenment"]
    summary = summarize(done, schedule_total=1, problems={"toy": [STICKERS]}, load_stats={}, llm_stats={},
                        prompts=_settings().prompts, wall_s=0.0)
    assert summary["checks"]["verifier"] == {"checked": 2, "passed": 1, "rate": 0.5, "unanswered": 0}


LOOP = ("The number of items cleaned is the same across all three problems, and the number of items cleaned "
        "is the same across all three problems, so the number of items cleaned is the same across all three.")


def test_enlightenment_that_loops_or_names_no_problem_is_refused():
    problems = (STICKERS, Problem(id="c", task="toy", input="Natalia sold 48 clips in April and half in May."))
    kw = {"min_words": 10, "max_repeated": 0.3, "min_named": 2}
    assert check_enlightenment(LOOP, problems, **kw).reason == "repeated_trigrams"
    generic = "These problems are about arithmetic; the lesson is to read carefully and to compute step by step."
    judged = check_enlightenment(generic, problems, **kw)
    assert (judged.reason, judged.detail) == ("names_no_problem", "names 0 of its 2 problems")
    good = ("Mia's stickers and Natalia's clips both ask for a count: one takes a part away, the other adds "
            "half again, so write the operation each story describes before computing.")
    assert check_enlightenment(good, problems, **kw)[:4] == ("ok", None, good, {"enlightenment_degeneracy": True})
    job = PassageJob(Group(0, (STICKERS,)), _settings(0, max_repeated_trigram_share=0.3))
    _run([job], ScriptedLLM(lambda prob, attempt: RIGHT, lesson=LOOP))
    assert job.status == "rejected" and job.reason == "enlightenment:repeated_trigrams"
