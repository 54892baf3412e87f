"""Write wiki_medical_labels.jsonl: "is this Wikipedia article about medicine?" for the whole sample.

The decisions below were made by hand (see README.md for the rule); this script only turns them
into the committed jsonl so the labels can be regenerated and reviewed as a diff.
Run: python examples/medical/labels/make_labels.py
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
WIKI = HERE.parents[1] / "math" / "data" / "wikipedia" / "wiki_sample.jsonl.gz"

# label 1, clear cases under the rule
MEDICAL = """
Arthritis|Anatomical Therapeutic Chemical Classification System|Anxiolytic|Body mass index|
Cerebral arteriovenous malformation|Essential tremor|Fugue state|Kwashiorkor|Mood stabilizer|Nanomedicine|
Paraphilia|Pandemic|Human pathogen|Proton-pump inhibitor|Idiopathic intracranial hypertension|Uterus|
Sildenafil|Varicose veins|Zoonosis|Grey matter|Striatum|Mastectomy|Gender identity disorder|Antipyretic|
Psychosurgery|Epidemic typhus|Occupational therapist|Graves' disease|Camillo Golgi|Communication disorder|
Achondroplasia|Dermatitis|Corticosteroid|Thomas Szasz|Hypothalamus
"""
# label 1, but the rule had to be applied to a mixed subject (kept apart so benchmarks can drop them)
MEDICAL_BORDERLINE = """
Dehydroepiandrosterone|F wave|John Sealy Hospital|Language center|Twelve-step program|Thebaine|
University of California, San Francisco|Nicotine|Johann Friedrich Struensee|Biocompatible material|
Pantothenic acid|Rational Recovery|United States Department of Health and Human Services|Voice analysis
"""
# label 0, but close to the line
NOT_MEDICAL_BORDERLINE = """
Alexander technique|Biological warfare|Gram-positive bacteria|Human cloning|Collective trauma|Dendrite|
Lactose|Mutagen|M'Naghten rules|Retrovirus|Chemical synapse|Streptococcus|Alfred Kinsey|Integrase|
Chinese food therapy|Biosecurity|Biodefense|Methylchloroisothiazolinone|Electrolyte|Alice Miller (psychologist)
"""
# the cross-check: every article whose lead (first 600 characters) has one of these words was read
LEAD_WORDS = re.compile(
    r"\b(physician|medic\w*|disease|disorder|patient|symptom\w*|treatment|clinical|surgery|surgeon|diagnos\w*|"
    r"therap\w*|drug|hospital|infection|syndrome|psychiatr\w*|nurs\w+|pharmac\w*|anatom\w*|health)\b",
    re.IGNORECASE)


def _titles(block: str) -> set[str]:
    return {t.strip() for t in block.replace("\n", "").split("|") if t.strip()}


def main() -> None:
    with gzip.open(WIKI, "rt", encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh]
    by_title = {d["title"]: d for d in docs}
    med, med_b, not_b = _titles(MEDICAL), _titles(MEDICAL_BORDERLINE), _titles(NOT_MEDICAL_BORDERLINE)
    for t in med | med_b | not_b:
        assert t in by_title, f"title not in the sample: {t}"
    assert not (med & med_b or med & not_b or med_b & not_b), "a title is in two lists"
    out = HERE / "wiki_medical_labels.jsonl"
    with out.open("w", encoding="utf-8") as fh:
        for d in docs:
            t = d["title"]
            read = t in med | med_b | not_b or LEAD_WORDS.search(" ".join(d["text"].split())[:600])
            fh.write(json.dumps({"id": d["id"], "title": t, "label": int(t in med or t in med_b),
                                 "borderline": t in med_b or t in not_b, "checked": "lead" if read else "title"},
                                ensure_ascii=False) + "\n")
    n_pos = len(med) + len(med_b)
    print(f"{out}: {len(docs)} labels, {n_pos} positives ({len(med_b)} borderline), "
          f"{len(not_b)} borderline negatives")


if __name__ == "__main__":
    main()
