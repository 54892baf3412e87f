import pytest

from trait.config import load_config
from trait.errors import ConfigError

MINIMAL = """
run: t
data:
  seed_corpus: [seed.jsonl]
  general_corpus: [general.jsonl]
"""


def write(tmp_path, text):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return p


def test_paths_resolve_against_config_folder(tmp_path):
    cfg = load_config(write(tmp_path, MINIMAL))
    assert cfg.data.seed_corpus == [str((tmp_path / "seed.jsonl").resolve())]
    assert cfg.run_dir == (tmp_path / "runs" / "t").resolve()


def test_overrides_are_parsed_as_yaml(tmp_path):
    cfg = load_config(write(tmp_path, MINIMAL), ["select.keep_fraction=0.25", "run=other", "seed=7"])
    assert cfg.select.keep_fraction == 0.25 and cfg.run == "other" and cfg.seed == 7


def test_unknown_key_is_one_line_error(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, MINIMAL + "selekt: {}\n"))
    msg = str(e.value)
    assert "selekt: unknown key" in msg and "\n" not in msg and str(tmp_path / "c.yaml") in msg


def test_wrong_type_names_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"select\.keep_fraction"):
        load_config(write(tmp_path, MINIMAL), ["select.keep_fraction=lots"])


def test_bad_yaml_names_the_line(tmp_path):
    with pytest.raises(ConfigError, match=r"c\.yaml:3: not valid YAML"):
        load_config(write(tmp_path, "run: t\ndata:\n  a: b: c\n"))


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_example_config_validates(example_data):
    cfg = load_config(example_data.parent / "config.yaml")
    assert [t.name for t in cfg.tasks] == ["gsm8k", "svamp", "mawps", "arith"]
