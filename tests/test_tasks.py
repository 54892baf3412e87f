import pytest

from trait.config import load_config
from trait.errors import BadInputError
from trait.tasks import TaskSpec, load_problems


@pytest.fixture(scope="module")
def tasks(example_data):
    return {t.name: t for t in load_config(example_data.parent / "config.yaml").tasks}


def test_gsm8k_answers_and_solutions(tasks):
    probs = load_problems(tasks["gsm8k"], "test")
    assert len(probs) == 1319
    assert probs[0].id == "gsm8k-test-00000" and probs[0].answer == "18"
    assert "<<" not in probs[0].solution and "####" not in probs[0].solution


def test_svamp_hash_split_is_disjoint_and_stable(tasks):
    train, test = load_problems(tasks["svamp"], "train"), load_problems(tasks["svamp"], "test")
    assert len(train) + len(test) == 1000 and 200 < len(test) < 400
    assert not {p.id for p in train} & {p.id for p in test}
    assert test[0].answer.replace(".", "").isdigit()
    assert [p.id for p in load_problems(tasks["svamp"], "test")] == [p.id for p in test]


def test_mawps_split_field(tasks):
    assert len(load_problems(tasks["mawps"], "test")) == 238
    assert len(load_problems(tasks["mawps"], "train")) == 1898 + 237


def test_missing_answer_field_names_file_line(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_text('{"question": "1+1?", "answer": "2"}\n{"question": "2+2?"}\n')
    spec = TaskSpec(name="t", train=str(p))
    with pytest.raises(BadInputError, match=r"t\.jsonl:2: task t: missing answer field 'answer'"):
        load_problems(spec, "train")


def test_task_needs_a_file():
    with pytest.raises(ValueError):
        TaskSpec(name="x")


def test_split_file_is_where_each_split_is_read(tasks, tmp_path):
    gsm8k, svamp, mawps = tasks["gsm8k"], tasks["svamp"], tasks["mawps"]
    assert (gsm8k.split_file("train"), gsm8k.split_file("test")) == (gsm8k.train, gsm8k.test)
    assert gsm8k.files == [gsm8k.train, gsm8k.test]
    for one_file in (svamp, mawps):  # split by hash / by field: both splits read the one file
        assert one_file.split_file("train") == one_file.split_file("test") == one_file.train
        assert one_file.files == [one_file.train]
    p = tmp_path / "t.jsonl"
    p.write_text('{"question": "1+1?", "answer": "2"}\n')
    train_only = TaskSpec(name="t", train=str(p))
    assert train_only.split_file("test") is None and train_only.files == [str(p)]
    assert load_problems(train_only, "test") == []  # no test split: nothing, not an error about the train file
    test_only_one_file = TaskSpec(name="u", test=str(p), holdout_fraction=0.0)
    assert test_only_one_file.split_file("train") == str(p)
    assert [q.answer for q in load_problems(test_only_one_file, "train")] == ["2"]
