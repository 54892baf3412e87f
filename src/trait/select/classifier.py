"""TRAIT's domain classifier: fastText, seed docs (positives) vs. general docs (negatives).

The paper trains a fastText binary classifier to find in-domain text in a general corpus. Everything
needed to audit or reproduce it is saved beside the model: the exact training and held-out files
(as fastText read them), the hyper-parameters, and held-out precision/recall/F1/ROC-AUC.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from trait.errors import TraitError
from trait.io import atomic_open, read_json, write_json
from trait.select.scorer import binary_metrics, register, split_heldout
from trait.ui import info

POS, NEG = "__label__in", "__label__out"
_PUNCT = re.compile(r"([^\w\s])")


def normalize(text: str, max_chars: int) -> str:
    """fastText's expected input: lowercase, one line, punctuation split off words.

    Truncating first bounds the cost of very long documents. Runs of spaces/tabs are left as they
    are: fastText's tokenizer already reads any run of ASCII whitespace as one separator, so
    collapsing them would not change a single token the model sees and would cost ~40% of the time.
    """
    return " ".join(_PUNCT.split(text[:max_chars].replace("\n", " ").lower()))


# Run by a fresh interpreter (see FastTextScorer._train): argv = train file, params json, model path.
_TRAIN_CHILD = """
import json, sys
import fasttext
fasttext.train_supervised(input=sys.argv[1], verbose=0, **json.loads(sys.argv[2])).save_model(sys.argv[3])
"""


def _settings(settings: Any) -> Any:
    from trait.select.config import ClassifierConfig

    if settings is None:
        return ClassifierConfig()
    return getattr(settings, "classifier", settings)


@register("fasttext")
class FastTextScorer:
    """Score = the classifier's probability that a document is in-domain."""

    name = "fasttext"

    def __init__(self, settings: Any = None, model: Any = None) -> None:
        self.cfg = _settings(settings)
        self.model = model

    def hyperparameters(self, seed: int) -> dict[str, Any]:
        c = self.cfg
        # thread=1 + seed make training bit-for-bit repeatable (fastText's Hogwild! threads are not).
        return {"dim": c.dim, "epoch": c.epoch, "lr": c.lr, "wordNgrams": c.word_ngrams,
                "minCount": c.min_count, "bucket": c.bucket, "loss": "softmax", "thread": 1, "seed": seed}

    def fit(self, positives: Sequence[str], negatives: Sequence[str], out_dir: Path,
            seed: int) -> dict[str, Any]:
        if len(positives) < 2 or len(negatives) < 2:
            raise TraitError(f"classifier: need at least 2 seed and 2 general docs (got {len(positives)} "
                             f"and {len(negatives)})")
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        frac, max_chars = self.cfg.heldout_fraction, self.cfg.max_chars
        positives = [normalize(t, max_chars) for t in positives]  # once: written and predicted as is
        negatives = [normalize(t, max_chars) for t in negatives]
        pos_train, pos_held = split_heldout(list(positives), frac, seed)
        neg_train, neg_held = split_heldout(list(negatives), frac, seed + 1)
        train = [(POS, t) for t in pos_train] + [(NEG, t) for t in neg_train]
        random.Random(seed).shuffle(train)  # fastText reads in order: interleave the classes
        held = [(POS, t) for t in pos_held] + [(NEG, t) for t in neg_held]
        self._write_labelled(out_dir / "train.txt", train)
        self._write_labelled(out_dir / "heldout.txt", held)
        params = self.hyperparameters(seed)
        self.model, params = self._train(str(out_dir / "train.txt"), params, str(out_dir / "model.bin"))
        held_scores = self._predict_normalized([t for _, t in held])
        metrics = binary_metrics([1 if lab == POS else 0 for lab, _ in held], held_scores)
        metrics.update(n_train=len(train), n_train_pos=len(pos_train), n_train_neg=len(neg_train))
        write_json(out_dir / "params.json", {"max_chars": self.cfg.max_chars, "heldout_fraction": frac,
                                             "fasttext": params, "labels": [POS, NEG]})
        write_json(out_dir / "metrics.json", metrics)
        info(f"classifier: held-out ROC-AUC {metrics['roc_auc']:.4f}, precision {metrics['precision']:.3f}, "
             f"recall {metrics['recall']:.3f}, F1 {metrics['f1']:.3f} ({metrics['n_heldout']} held-out docs)")
        return metrics

    @staticmethod
    def _train(path: str, params: dict[str, Any], model_path: str,
               attempts: int = 4) -> tuple[Any, dict[str, Any]]:
        """Train in a fresh process; on "Encountered NaN" (training diverged, common on small corpora)
        retry with half the learning rate and the next seed. ``params.json`` records what worked.

        Why a fresh process: fastText (0.9.2 wheel) gives different models for identical inputs once
        a process has trained a few models before (heap state leaks into training); a new process
        trains bit-for-bit repeatably, which the run's reproducibility needs (~0.3 s per fit).
        """
        import fasttext

        for attempt in range(attempts):
            run = subprocess.run([sys.executable, "-c", _TRAIN_CHILD, path, json.dumps(params), model_path],
                                 check=False, capture_output=True, text=True)
            if run.returncode == 0:
                return fasttext.load_model(model_path), params
            error = (run.stderr.strip().splitlines() or ["no output"])[-1]
            if "NaN" not in error or attempt == attempts - 1:
                raise TraitError(f"classifier: fastText training failed ({error}); the seed or general "
                                 "documents are too few or too uniform")
            info(f"classifier: training diverged (lr={params['lr']}); retrying with lr={params['lr'] / 2}")
            params = {**params, "lr": params["lr"] / 2, "seed": params["seed"] + 1}
        raise AssertionError("unreachable")

    @staticmethod
    def _write_labelled(path: Path, rows: list[tuple[str, str]]) -> None:
        with atomic_open(path, "wb") as fh:
            for label, text in rows:
                fh.write(f"{label} {text}\n".encode())

    def score(self, texts: Sequence[str]) -> np.ndarray:
        if self.model is None:
            raise TraitError("fasttext scorer: not trained or loaded")
        max_chars = self.cfg.max_chars
        return self._predict_normalized([normalize(t, max_chars) for t in texts])

    def _predict_normalized(self, lines: list[str]) -> np.ndarray:
        if not lines:
            return np.zeros(0, dtype=np.float64)
        # k=1 is the cheapest call; with two softmax labels P(in) = 1 - P(out).
        labels, probs = self.model.predict(lines, k=1)
        out = np.fromiter((p[0] for p in probs), dtype=np.float64, count=len(lines))
        is_neg = np.fromiter((lab[0] == NEG for lab in labels), dtype=bool, count=len(lines))
        out[is_neg] = 1.0 - out[is_neg]
        return np.clip(out, 0.0, 1.0)

    @classmethod
    def load(cls, out_dir: Path) -> FastTextScorer:
        import fasttext

        out_dir = Path(out_dir)
        if not (out_dir / "model.bin").exists():
            raise TraitError(f"{out_dir}: no fastText model.bin (was the classify step completed?)")
        from trait.select.config import ClassifierConfig

        params = read_json(out_dir / "params.json")
        cfg = ClassifierConfig(max_chars=params["max_chars"])
        return cls(cfg, model=fasttext.load_model(str(out_dir / "model.bin")))
