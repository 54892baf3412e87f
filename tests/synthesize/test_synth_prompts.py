"""Prompt templates: versioned by hash, overridable, validated with the offending key."""

from __future__ import annotations

import pytest

from trait.errors import ConfigError
from trait.synthesize.prompts import DEFAULT_TEMPLATES, Prompts


def test_hash_changes_when_a_template_is_overridden_and_only_for_the_kinds_using_it():
    base = Prompts.from_overrides({})
    assert base.hash == Prompts.from_overrides({}).hash
    over = Prompts.from_overrides({"enlightenment": "Lesson from $n problems:\n$problems"})
    assert over.hash != base.hash
    assert over.request_hash("enlightenment") != base.request_hash("enlightenment")
    assert over.request_hash("paragraph") == base.request_hash("paragraph")  # paragraph calls stay cached
    same = Prompts.from_overrides({"system": DEFAULT_TEMPLATES["system"]})
    assert same.hash == base.hash


def test_render_keeps_latex_braces_and_dollar_signs_in_values():
    p = Prompts.from_overrides({"hint_answer": "Gold: $answer costs $$5\n"})
    assert p.render("hint_answer", answer="\\boxed{3/4}") == "Gold: \\boxed{3/4} costs $5\n"


@pytest.mark.parametrize("name,text,match", [
    ("paragrahp", "x", "synthesize.prompts.paragrahp: unknown template"),
    ("paragraph", "Solve $problem for $whom", r"synthesize.prompts.paragraph: unknown placeholder\(s\) \$whom"),
    ("hint_answer", "costs $ 5", "stray"),
])
def test_bad_overrides_name_the_key(name, text, match):
    with pytest.raises(ConfigError, match=match):
        Prompts.from_overrides({name: text})


def test_default_templates_use_only_their_own_placeholders():
    from trait.synthesize.prompts import _check_placeholders

    for name, text in DEFAULT_TEMPLATES.items():
        _check_placeholders(name, text)
