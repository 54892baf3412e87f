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


def test_no_template_names_a_domain_of_its_own():
    """With domain: law, no prompt the generator or the verifier sees says 'math' (nor does any default)."""
    import string

    from trait.domain import DomainConfig
    from trait.synthesize.prompts import PLACEHOLDERS

    assert not [name for name, text in DEFAULT_TEMPLATES.items() if "math" in text.lower()]
    law = Prompts.from_overrides({}, DomainConfig(name="contract law", description="Leases and sales of goods."))
    for name in DEFAULT_TEMPLATES:
        values = {k: f"<{k}>" for k in PLACEHOLDERS[name]}
        text = law.render(name, **values)
        assert "math" not in text.lower() and "$" not in text, name
        used = {m[1] or m[2] for m in string.Template.pattern.findall(DEFAULT_TEMPLATES[name]) if m[1] or m[2]}
        if "domain" in used:
            assert "contract law" in text, name
    assert law.render("system").startswith("You are a patient teacher of contract law")
    assert "Leases and sales of goods." in law.render("system")


def test_the_domain_is_part_of_every_hash():
    from trait.domain import DomainConfig
    from trait.synthesize.prompts import REQUEST_TEMPLATES

    math = Prompts.from_overrides({}, DomainConfig(name="mathematics"))
    law = Prompts.from_overrides({}, DomainConfig(name="contract law"))
    described = Prompts.from_overrides({}, DomainConfig(name="contract law", description="Leases."))
    assert len({math.hash, law.hash, described.hash}) == 3
    for kind in REQUEST_TEMPLATES:
        assert len({math.request_hash(kind), law.request_hash(kind), described.request_hash(kind)}) == 3
    assert math.hash == Prompts.from_overrides({}, DomainConfig(name="mathematics")).hash


def test_an_override_of_one_task_type_keeps_the_others_cached():
    base = Prompts.from_overrides({})
    over = Prompts.from_overrides({"hint_answer_label": "Label: $answer. End with \"Answer: $answer\"."})
    assert over.request_hash("paragraph:classification") != base.request_hash("paragraph:classification")
    assert over.request_hash("paragraph") == base.request_hash("paragraph")
    assert over.request_hash("paragraph:multiple_choice") == base.request_hash("paragraph:multiple_choice")
    assert over.request_hash("passage") != base.request_hash("passage")  # a passage holds every type
