"""The user's domain: the one place its name and description live (prompts, judge, report read it)."""

from __future__ import annotations

from pydantic import Field

from trait.schema import Section


class DomainConfig(Section):
    name: str = Field("the target domain", description="The domain in a few words (e.g. mathematics, "
                      "clinical medicine, e-commerce search). Every prompt, the relevance judge and the report "
                      "use it; no domain word is hard-coded anywhere else.")
    description: str = Field("", description="One paragraph on the domain: what its documents and problems "
                             "are about. Shown to the generator and the judge.")
