"""The heuristic quality rules: our fast repetition measures equal datatrove's on real and adversarial text."""

from __future__ import annotations

import random

import pytest
from datatrove.pipeline.filters.gopher_repetition_filter import (
    find_all_duplicate,
    find_top_duplicate,
    get_n_grams,
)

from trait.select.quality import _WORD, duplicate_ngram_chars, quality_features, top_ngram_chars


def test_repetition_measures_equal_datatrove_on_adversarial_word_lists():
    rng = random.Random(0)
    for _ in range(2000):  # few short words: many repeats, jumps, and 'ab c' / 'a bc' collisions
        vocab = [rng.choice(["a", "b", "ab", "c", "bc", "d"]) for _ in range(rng.randint(1, 6))]
        words = [rng.choice(vocab) for _ in range(rng.randint(0, 60))]
        for n in (2, 3, 5):
            if len(words) >= n:
                assert duplicate_ngram_chars(words, n) == find_all_duplicate(words, n), (words, n)
                assert top_ngram_chars(words, n) == find_top_duplicate(get_n_grams(words, n)), (words, n)


def test_repetition_measures_equal_datatrove_on_real_pages(general_texts):
    for text in general_texts[:200]:
        words = [w.lower() for w in _WORD.findall(text)]
        assert duplicate_ngram_chars(words, 5) == find_all_duplicate(words, 5)
        assert top_ngram_chars(words, 2) == find_top_duplicate(get_n_grams(words, 2))


def test_words_and_alphabetic_share():
    assert _WORD.findall("don't x_1 3.5 — ¿qué?") == ["don't", "x_1", "3", "5", "qué"]  # punctuation is no word
    feats = quality_features("In 1969, 42 of the 100 delegates — don't ask — voted; x_1 = 3.5 ¿qué? " * 20)
    # 14 words a repeat, 5 without a letter (1969 42 100 3 5): 9/14 alphabetic, on the 0.5..0.8 ramp
    assert feats["alpha_words"] == pytest.approx((9 / 14 - 0.5) / 0.3)
