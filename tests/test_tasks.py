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
