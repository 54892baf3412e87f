"""Settings of the selection stage (classifier, scoring, quality, choosing, baselines)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from trait.schema import Section


class ClassifierConfig(Section):
    """fastText domain classifier: seed docs (positives) vs. an equal number of general docs."""

    dim: int = 64
    epoch: int = 10
    lr: float = 0.5
    word_ngrams: int = 2
    min_count: int = 2
    bucket: int = Field(200_000, ge=1000, description="Hash buckets for word n-grams (model size ~ bucket*dim*4 B).")
    heldout_fraction: float = Field(0.2, gt=0, lt=1)
    max_seed_docs: int | None = None
    max_chars: int = Field(20_000, description="Characters of a document the classifier sees.")


class QualityConfig(Section):
    """Educational-quality scoring applied after the domain score."""

    scorer: Literal["heuristic", "model", "none"] = "heuristic"
    min_score: float = 0.0


class ExecutorConfig(Section):
    """Where the scoring pipeline runs: datatrove's local, Slurm or Ray executor."""

    kind: Literal["local", "slurm", "ray"] = "local"
    tasks: int = 1
    workers: int = 1
    slurm_partition: str | None = None
    slurm_time: str = "04:00:00"
    slurm_cpus_per_task: int = 1
    slurm_mem_per_cpu_gb: float = 2.0


class DedupConfig(Section):
    """Exact (normalised-text hash) and MinHash near-duplicate removal over the chosen docs."""

    exact: bool = True
    minhash: bool = True
    minhash_threshold: float = Field(0.8, gt=0, le=1)
    num_perm: int = 128
    ngram: int = 5


class DecontaminationConfig(Section):
    """Drop chosen docs sharing a word n-gram with any task's test split (whole item if shorter)."""

    enabled: bool = True
    ngram: int = Field(13, ge=3)
    min_words: int = Field(8, ge=1, description="Test items shorter than this are too generic to match.")


class SelectConfig(Section):
    method: Literal["fasttext", "dsir", "random", "embedding"] = Field(
        "fasttext", description="Domain scorer: fasttext (TRAIT), dsir / random (baselines), embedding.")
    classifier: ClassifierConfig = Field(default_factory=ClassifierConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    threshold: float | None = Field(None, description="Keep docs with domain score >= threshold.")
    keep_fraction: float | None = Field(0.05, gt=0, le=1, description="Keep the top fraction (global quantile).")
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    decontaminate: DecontaminationConfig = Field(default_factory=DecontaminationConfig)

    @model_validator(mode="after")
    def _one_rule(self) -> "SelectConfig":
        if self.threshold is not None and self.keep_fraction is not None:
            raise ValueError("set either select.threshold or select.keep_fraction, not both")
        if self.threshold is None and self.keep_fraction is None:
            raise ValueError("set select.threshold or select.keep_fraction")
        return self
