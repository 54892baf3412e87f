"""Downstream task specs and their problems (shared by synthesis, decontamination and evaluation).

A task is a jsonl file (or a train and a test file) of items with an input (one field, or several
through ``input_template``) and, optionally, a gold answer. GSM8K's ``#### `` answers, SVAMP and
MAWPS load out of the box. Three types: ``generate`` (a free answer, checked by ``checker``),
``multiple_choice`` (choices from a list field or several fields; gold as a letter, an index or the
choice text) and ``classification`` (a label set, each label with an optional verbalizer).
"""

from __future__ import annotations

import hashlib
import os
import string
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from trait.answers import split_gsm8k
from trait.errors import BadInputError, ConfigError
from trait.io import OnError, ReadStats, iter_rows_of
from trait.records import Problem
from trait.schema import DataPath, Section

Split = Literal["train", "test"]
TaskType = Literal["generate", "multiple_choice", "classification"]
GROUP_NGRAM = 13  # group_field: the decontamination default, so a group split leaves nothing to drop
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class TaskSpec(Section):
    name: str
    description: str = Field("", description="One or two sentences the generator and the report show.")
    train: DataPath | None = Field(None, description="Train file (problems for synthesis).")
    test: DataPath | None = Field(None, description="Test file (held out: evaluation + decontamination).")
    split_field: str | None = Field(None, description="When train and test are one file: field naming the split.")
    train_values: list[str] = Field(default_factory=lambda: ["train"], description="split_field values of the train split.")
    test_values: list[str] = Field(default_factory=lambda: ["test"], description="split_field values of the test split.")
    holdout_fraction: float | None = Field(
        None, ge=0.0, lt=1.0,
        description="One file, no split field: this fraction (by a hash of the id) is the test split.")
    group_field: str | None = Field(
        None, description="With holdout_fraction: items whose values of this field share a word 13-gram (the "
        "whole value if shorter) are one group, and a group lands whole in one split, by a hash of its first "
        "item's value. Variants of one story (SVAMP) then never straddle train and test.")
    id_field: str | None = None
    type: TaskType = Field(
        "generate", description="generate: a free answer, judged by `checker`; multiple_choice: the model's "
        "log-likelihood of each choice text (lm-eval acc, acc_norm); classification: of each label's verbalizer "
        "(accuracy, macro-F1).")
    input_field: str = Field("question", description="The input field (when input_template is unset).")
    input_template: str | None = Field(
        None, description="The input from several fields, e.g. \"Query: {query}\\nProduct: {product_title}\" "
        "(None = {input_field}). A null field renders empty, a list as its items joined by ', '; a record "
        "without a named field is a file:line error; a field that no record has is a config error. The "
        "rendered text is what synthesis prompts, evaluation prompts and decontamination see.")
    answer_field: str | None = Field(
        "answer", description="The gold answer. multiple_choice: a letter (A, B, ...), a 0-based index (a JSON "
        "integer) or the choice text; classification: a label name (or its verbalizer).")
    answer_format: Literal["plain", "gsm8k"] = Field(
        "plain", description="gsm8k: the answer field holds a worked solution ending in '#### <answer>'.")
    solution_field: str | None = Field(None, description="Field with a worked solution, if separate.")
    choices_field: str | None = Field(
        None, description="multiple_choice: a list field holding the choice texts, in order (default: "
        "'choices' when choice_fields is unset).")
    choice_fields: list[str] | None = Field(
        None, description="multiple_choice: one field per choice, in order, e.g. [opa, opb, opc, opd].")
    labels: dict[str, str] | None = Field(
        None, description="classification: the label names (a list), or a mapping name -> verbalizer (the text "
        "the model is scored on, e.g. Exact: \"exact match\"; a listed name is its own verbalizer). None = the "
        "answer values of the train split, sorted (stated in the log).")
    checker: Literal["math", "exact", "f1", "none"] = Field(
        "math", description="generate: math (exact, symbolic or numeric equality), exact, f1 (SQuAD token-overlap "
        "F1: lm-eval reports exact_match and f1; synthesis accepts F1 >= 0.5) or none (anything is accepted).")
    eval_only: bool = Field(False, description="Never used for synthesis (e.g. a non-commercial licence).")

    @field_validator("labels", mode="before")
    @classmethod
    def _listed_labels(cls, value: Any) -> Any:
        """A list of names: each its own verbalizer (a mapping keeps one type for the config reference)."""
        items = value if isinstance(value, list) else [*value, *value.values()] if isinstance(value, dict) else []
        if any(isinstance(v, bool) for v in items):  # YAML reads a bare yes/no/on/off as true/false
            raise ValueError("labels: a bare yes/no (or true/false, on/off) is read by YAML as a boolean; "
                             "quote it, e.g. labels: [\"yes\", \"no\", \"maybe\"]")
        if isinstance(value, list):
            names = [_format_number(v) for v in value]
            if len(set(names)) < len(names):
                raise ValueError("labels needs distinct names")
            return {n: n for n in names}
        return value

    @model_validator(mode="after")
    def _needs_a_file(self) -> TaskSpec:
        if not self.train and not self.test:
            raise ValueError(f"task {self.name!r}: give a train or a test file")
        if self.group_field and self.holdout_fraction is None:
            raise ValueError(f"task {self.name!r}: group_field splits by holdout_fraction; set it too")
        return self

    @model_validator(mode="after")
    def _type_keys(self) -> TaskSpec:
        task = f"task {self.name!r}"
        if self.input_template is not None:
            template_fields(self.input_template, task)
        if self.type != "multiple_choice" and (self.choices_field or self.choice_fields):
            raise ValueError(f"{task}: choices_field / choice_fields are for type multiple_choice, not {self.type}")
        if self.type != "classification" and self.labels is not None:
            raise ValueError(f"{task}: labels are for type classification, not {self.type}")
        if self.type == "generate":
            return self
        if self.answer_field is None:
            raise ValueError(f"{task}: a {self.type} task needs answer_field (its gold)")
        if self.answer_format != "plain":
            raise ValueError(f"{task}: answer_format {self.answer_format} is for generate tasks")
        if self.choices_field and self.choice_fields:
            raise ValueError(f"{task}: give choices_field or choice_fields, not both")
        if self.choice_fields is not None and not 2 <= len(self.choice_fields) <= len(LETTERS):
            raise ValueError(f"{task}: choice_fields needs 2 to {len(LETTERS)} fields")
        if self.labels is not None:
            verbal = [v.strip().casefold() for v in self.labels.values()]
            if len(self.labels) < 2:
                raise ValueError(f"{task}: labels needs at least two distinct names")
            if not all(verbal) or len(set(verbal)) < len(verbal):
                raise ValueError(f"{task}: every label needs a distinct, non-empty verbalizer")
        return self

    @property
    def has_answers(self) -> bool:
        return self.answer_field is not None

    @property
    def template(self) -> str:
        """The input template: ``input_template``, or the input field alone."""
        return self.input_template if self.input_template is not None else "{" + self.input_field + "}"

    @property
    def one_file(self) -> bool:
        """Train and test share one file, told apart by ``split_field`` or a hash of the id."""
        return self.split_field is not None or self.holdout_fraction is not None

    def split_file(self, split: Split) -> str | None:
        """The file ``split`` is read from, None when the task has no such split: the one place that decides."""
        if self.one_file:
            return self.train or self.test
        return self.train if split == "train" else self.test

    @property
    def files(self) -> list[str]:
        """Every file the task's splits are read from (what a fingerprint of its data covers)."""
        return list(dict.fromkeys(f for f in (self.split_file("train"), self.split_file("test")) if f))


def _format_number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _split_of(spec: TaskSpec, obj: dict, key: str) -> Split | None:
    """The split of one item of a one-file task; ``key`` (its id, or its group) is what the hash reads."""
    if spec.split_field:
        v = str(obj.get(spec.split_field))
        return "train" if v in spec.train_values else "test" if v in spec.test_values else None
    if spec.holdout_fraction is not None:
        h = int(hashlib.sha256(f"{spec.name}:{key}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        return "test" if h < spec.holdout_fraction else "train"
    return None


def _groups(spec: TaskSpec, path: str) -> dict[int, str]:
    """Row number -> its group's key (the value of the group's first row): rows whose ``group_field``
    values share a word ``GROUP_NGRAM``-gram are joined (union-find), so a test item shares none with
    train. Bad rows are left to the main pass, which counts or raises on them."""
    from trait.contamination import words

    parent: dict[int, int] = {}
    values: dict[int, str] = {}
    owner: dict[str, int] = {}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for _, _, n, obj in iter_rows_of(path, on_error="skip"):
        value = str(obj.get(spec.group_field or "") or "")
        toks = words(value)
        if not toks:
            continue  # no group: the item is split by its id
        parent[n], values[n] = n, value
        k = min(GROUP_NGRAM, len(toks))
        for gram in {" ".join(toks[i:i + k]) for i in range(len(toks) - k + 1)}:
            a, b = root(owner.setdefault(gram, n)), root(n)
            parent[max(a, b)] = min(a, b)  # the root is the group's first row
    return {n: values[root(n)] for n in parent}


def template_fields(template: str, task: str = "task") -> list[str]:
    """The field names of an input template; a malformed one is an error naming ``task``."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as e:
        raise ValueError(f"{task}: input_template {template!r}: {e} (write a literal brace as {{{{ or }}}})") from e
    names = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if not name or name.isdigit() or any(c in name for c in ".[]") or spec or conversion:
            raise ValueError(f"{task}: input_template {template!r}: '{{{name}}}' is not a plain field name "
                             "(no positions, attributes, indices or formats)")
        names.append(name)
    if not names:
        raise ValueError(f"{task}: input_template {template!r} names no field")
    return list(dict.fromkeys(names))


def _text(value: Any) -> str:
    """A field value as prompt text: null is empty, a list its items joined by ', '."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value if v is not None)
    return _format_number(value)


def render(spec: TaskSpec, obj: dict) -> str | None:
    """The task's input text of one record; None when the record lacks a template field."""
    out = []
    for literal, name, _, _ in string.Formatter().parse(spec.template):
        out.append(literal)
        if name is not None:
            if name not in obj:
                return None
            out.append(_text(obj[name]))
    return "".join(out).strip()


def _input(spec: TaskSpec, obj: dict, split: Split, file: str, checked: set[str]) -> str | tuple[str]:
    """The input text of one record, or (why not,). ``checked``: template fields known to exist."""
    if spec.input_template is None:  # one field: it must hold text
        text = obj.get(spec.input_field)
        if not isinstance(text, str) or not text.strip():
            return (f"missing or empty input field '{spec.input_field}'",)
        return text.strip()
    text = render(spec, obj)
    if text is None:
        missing = next(f for f in template_fields(spec.template) if f not in obj)
        if missing not in checked:  # a field that no record has is a typo in the config, not a bad record
            path = spec.split_file(split) or file
            if not any(missing in o for _, _, _, o in iter_rows_of(path, on_error="skip")):
                raise ConfigError(f"task {spec.name}: input_template names field '{missing}', which no record "
                                  f"of {path} has (a record has: {', '.join(obj)})")
            checked.add(missing)
        return (f"record has no field '{missing}' (input_template)",)
    return text or ("empty input (input_template)",)


def _choices(spec: TaskSpec, obj: dict) -> list[str] | str:
    """The choice texts of one multiple-choice record, or why there are none."""
    if spec.choice_fields:
        missing = [f for f in spec.choice_fields if obj.get(f) in (None, "")]
        if missing:
            return f"missing choice field '{missing[0]}'"
        raw = [obj[f] for f in spec.choice_fields]
    else:
        field = spec.choices_field or "choices"
        raw = obj.get(field)
        if not isinstance(raw, list) or not 2 <= len(raw) <= len(LETTERS):
            return f"choices field '{field}' is not a list of 2 to {len(LETTERS)} choices"
    texts = [_text(c).strip() for c in raw]
    if not all(texts):
        return f"choice {LETTERS[texts.index('')]} is empty"
    return texts


def _gold_choice(raw: Any, choices: list[str]) -> int | None:
    """The gold index: a JSON integer is an index; a string is the choice text, else a letter, else a
    digit index (text first: numeric choices such as "2" mean themselves)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw if 0 <= raw < len(choices) else None
    if not isinstance(raw, str):
        return None
    value = raw.strip()
    if value in choices:
        return choices.index(value)
    folded = [c.casefold() for c in choices]
    if value.casefold() in folded:
        return folded.index(value.casefold())
    letter = value.rstrip(".)").upper()
    if len(letter) == 1 and letter in LETTERS[: len(choices)]:
        return LETTERS.index(letter)
    if value.isdigit() and int(value) < len(choices):
        return int(value)
    return None


_LABELS: dict[tuple, dict[str, str]] = {}


def label_verbalizers(spec: TaskSpec) -> dict[str, str]:
    """Label name -> verbalizer of a classification task: the config's labels, or the answer values of
    the train split (the test split when there is none), sorted, stated in the log once."""
    if spec.labels is not None:
        return {k: v.strip() for k, v in spec.labels.items()}
    split: Split = "train" if spec.split_file("train") else "test"
    path = spec.split_file(split) or ""
    key = (spec.model_dump_json(), *((os.path.getmtime(f), os.path.getsize(f)) for f in spec.files
                                     if os.path.isfile(f)))
    if key not in _LABELS:
        from trait.ui import info

        values: dict[str, str] = {}  # casefolded -> the first spelling in sorted order (gold matches either)
        for v in sorted(_format_number(obj[spec.answer_field]) for _, _, _, obj in
                        _split_rows(spec, split, "skip", ReadStats()) if obj.get(spec.answer_field or "") not in (None, "")):
            values.setdefault(v.casefold(), v)
        if len(values) < 2:
            raise BadInputError(f"task {spec.name}: the {split} split ({path}) has {len(values)} distinct value(s) "
                                f"of '{spec.answer_field}': give the label set as tasks.labels")
        _LABELS[key] = {v: v for v in sorted(values.values())}
        info(f"task {spec.name}: labels read from the {split} split (sorted): {', '.join(_LABELS[key])}")
    return dict(_LABELS[key])


def _gold_label(raw: Any, labels: dict[str, str]) -> str | None:
    """The gold label name: the name itself, else case-insensitively the name or its verbalizer."""
    value = _format_number(raw)
    if value in labels:
        return value
    folded = value.casefold()
    return next((n for n, v in labels.items() if folded in (n.casefold(), v.casefold())), None)


def _split_rows(spec: TaskSpec, split: Split, on_error: OnError,
                stats: ReadStats) -> Iterator[tuple[str, int, str, dict]]:
    """(file, line, id, record) of each row of one split."""
    path, single_file = spec.split_file(split), spec.one_file
    if path is None:
        return
    groups = _groups(spec, path) if single_file and spec.group_field else {}
    # A glob or folder of task files reads as one file; ``n`` numbers its lines across them.
    for file, lineno, n, obj in iter_rows_of(path, on_error=on_error, stats=stats):
        raw_id = obj.get(spec.id_field) if spec.id_field else None
        pid = str(raw_id) if raw_id is not None else f"{spec.name}-{split if not single_file else 'all'}-{n - 1:05d}"
        if single_file and _split_of(spec, obj, groups.get(n, pid)) != split:
            continue
        yield file, lineno, pid, obj


def iter_problems(spec: TaskSpec, split: Split, *, on_error: OnError = "fail",
                  stats: ReadStats | None = None) -> Iterator[Problem]:
    """Problems of one split; a record without its input, choices or gold is a file:line error (or
    counted skip); a template field that no record has is a config error."""
    stats = stats if stats is not None else ReadStats()
    labels = label_verbalizers(spec) if spec.type == "classification" else None
    checked: set[str] = set()  # template fields known to exist in the file
    for file, lineno, pid, obj in _split_rows(spec, split, on_error, stats):
        where = f"{file}:{lineno}"
        text = _input(spec, obj, split, file, checked)
        if not isinstance(text, str):
            stats.skip(f"task {spec.name}: {text[0]}", where, on_error)
            continue
        choices: list[str] | None = None
        if spec.type == "multiple_choice":
            found = _choices(spec, obj)
            if isinstance(found, str):
                stats.skip(f"task {spec.name}: {found}", where, on_error)
                continue
            choices = found
        elif labels is not None:
            choices = list(labels)
        answer = solution = None
        if spec.answer_field:
            if spec.answer_field not in obj or obj[spec.answer_field] in (None, ""):
                stats.skip(f"task {spec.name}: missing answer field '{spec.answer_field}'", where, on_error)
                continue
            raw = obj[spec.answer_field]
            if spec.answer_format == "gsm8k":
                parsed = split_gsm8k(str(raw))
                if parsed is None:
                    stats.skip(f"task {spec.name}: answer has no '#### <final>' line", where, on_error)
                    continue
                solution, answer = parsed
            elif spec.type == "multiple_choice":
                gold = _gold_choice(raw, choices)
                if gold is None:
                    stats.skip(f"task {spec.name}: gold {raw!r} is no letter (A-{LETTERS[len(choices) - 1]}), "
                               f"0-based index or text of its {len(choices)} choices", where, on_error)
                    continue
                answer = LETTERS[gold]
            elif labels is not None:
                answer = _gold_label(raw, labels)
                if answer is None:
                    stats.skip(f"task {spec.name}: label {raw!r} is not one of: {', '.join(labels)}", where, on_error)
                    continue
            else:
                answer = _format_number(raw)
        if spec.solution_field and obj.get(spec.solution_field):
            solution = str(obj[spec.solution_field])
        yield Problem(id=pid, task=spec.name, input=text, answer=answer, solution=solution,
                      source=file, line=lineno, kind=spec.type, choices=choices)


def load_problems(spec: TaskSpec, split: Split, **kw) -> list[Problem]:
    problems = list(iter_problems(spec, split, **kw))
    if not problems and spec.split_file(split):
        raise BadInputError(f"task {spec.name}: no usable {split} problems in {spec.split_file(split)}")
    return problems
