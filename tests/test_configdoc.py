from pathlib import Path

from trait.configdoc import reference

DOC = Path(__file__).resolve().parents[1] / "docs" / "config.md"


def test_config_reference_is_in_sync_with_the_code():
    assert DOC.read_text() == reference() + "\n", "docs/config.md is stale: run `trait config-reference > docs/config.md`"


def test_reference_lists_every_section_and_nested_keys():
    text = reference()
    for key in ("`data.seed_corpus`", "`select.keep_fraction`", "`llm.api_key_env`", "`build.stage1_tokens`",
                "`train.stage2.learning_rate`", "`evaluate.num_fewshot`", "`ablate.arms`", "`tasks[].answer_format`"):
        assert key in text
