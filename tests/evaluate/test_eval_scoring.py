"""The lm-eval hook: per-sample metrics from a generation (the answer rules are tested in test_answers.py)."""

from __future__ import annotations

import pytest

from trait.answers import final_answer
from trait.evaluate import scoring


def test_hashes_72_matches_gold_72_0_with_both_metrics():
    assert scoring.score("Janet has 72 apples.\n#### 72", "72.0") == {"exact_match": 1, "math_verify": 1}


@pytest.mark.parametrize("generation", ["#### 73", "The answer is 7.2.", "no answer", "#### 720", ""])
def test_wrong_answers_are_rejected(generation):
    assert scoring.score(generation, "72") == {"exact_match": 0, "math_verify": 0}


def test_math_verify_accepts_equivalent_forms_exact_match_does_not():
    assert scoring.score("The answer is 1/2.", "0.5") == {"exact_match": 0, "math_verify": 1}


def test_exact_checker_has_no_math_verify_metric():
    assert scoring.score("#### 5", "5", checker="exact") == {"exact_match": 1}


def test_process_results_reads_the_doc_gold_and_checker():
    doc = {"answer": "18", "checker": "math"}
    assert scoring.process_results(doc, ["9 * 2 = 18\nThe answer is 18."]) == {"exact_match": 1, "math_verify": 1}


def test_target_format_is_extractable():
    target = scoring.format_target("18", "9 * 2 = 18")
    assert target == "9 * 2 = 18\nThe answer is 18."
    assert final_answer(target) == "18"
    assert scoring.format_target("5") == "The answer is 5."


def test_f1_checker_scores_free_text_by_squad_token_overlap():
    from trait.answers import answers_match, token_f1

    gold = "the left ventricle"
    assert scoring.score("The answer is Left ventricle.", gold, checker="f1") == {"exact_match": 1, "f1": 1.0}
    got = scoring.score("It is the right ventricle of the heart", gold, checker="f1")  # no marker: first line
    assert got["exact_match"] == 0 and got["f1"] == pytest.approx(2 * (1 / 6) * (1 / 2) / (1 / 6 + 1 / 2))  # 6 words, no articles
    assert scoring.process_results({"answer": gold, "checker": "f1"}, ["Answer: ventricle"])["f1"] == \
        pytest.approx(2 / 3)
    assert token_f1("", gold) == 0.0 and token_f1(None, gold) == 0.0
    assert answers_match("left atrium", gold, "f1") and not answers_match("atrium", gold, "f1")  # F1 >= 0.5


def test_macro_f1_aggregation_equals_sklearn_and_its_bootstrap_brackets_it():
    import numpy as np
    from sklearn.metrics import f1_score

    from trait.evaluate.stats import bootstrap_macro_f1

    rng = np.random.default_rng(0)
    for _ in range(50):
        n, k = int(rng.integers(1, 30)), int(rng.integers(2, 5))
        g, p = rng.integers(0, k, n), rng.integers(0, k, n)
        want = f1_score(g, p, average="macro", zero_division=0)
        assert scoring.macro_f1(list(zip(g, p))) == pytest.approx(want, abs=1e-12)
    low, high = bootstrap_macro_f1(g, p, iters=500, seed=1)
    assert low <= scoring.macro_f1(list(zip(g, p))) <= high
    assert bootstrap_macro_f1([0, 1, 2], [0, 1, 2], iters=200) == (1.0, 1.0)
