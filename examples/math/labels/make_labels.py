"""Write wiki_math_labels.jsonl: "is this Wikipedia article about mathematics?" for the whole sample.

The decisions below were made by hand (see README.md for the rule); this script only turns them
into the committed jsonl so the labels can be regenerated and reviewed as a diff.
Run: python examples/math/labels/make_labels.py
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
WIKI = HERE.parent / "data" / "wikipedia" / "wiki_sample.jsonl.gz"
HEURISTIC = Path("/work/shared/data/wikipedia_en_2015_sample/math_heuristic.tsv")

# label 1, clear cases under the rule
MATH = """
Antiderivative|Bayesian probability|Computable number|Convex set|Coprime integers|Constructible number|
David Hilbert|Diophantus|Ellipse|Fields Medal|Functor|Functional analysis|Gödel's completeness theorem|
George Pólya|Gaussian elimination|Kurt Gödel|Kolmogorov–Arnold–Moser theorem|Lebesgue measure|
Mersenne prime|Multivariate statistics|Non-standard analysis|Probability|Paul Cohen (mathematician)|
Principal ideal domain|Real analysis|Set theory|Statistical model|Statistical theory|Symplectic manifold|
Square root|Square-free integer|Topological space|Yoneda lemma|Collatz conjecture|Cauchy–Schwarz inequality|
Affine transformation|William Thurston|Congruence (geometry)|Haskell Curry|Likelihood function|
Natural transformation|Likelihood-ratio test|Inverse element|Subalgebra|Pascal's triangle|Integer sequence|
Singular function|Taylor's theorem|Mathematical optimization|Superellipse|Imaginary unit|
Axiom of extensionality|Axiom schema of replacement|Division (mathematics)|Kuratowski's theorem|
Atle Selberg|Unary numeral system|Soundness|Bijection|Commutator|Quotient group|Galois group|
Legendre symbol|Lodovico Ferrari|Product of group subsets|Perimeter|Tychonoff space|Benford's law|
Latin square|Complete lattice|Paracompact space|Octonion|Martin Dunwoody|Pigeonhole principle|
Ascending chain condition|Central tendency|Cluster sampling|Diameter|Elementary event|Linear model|
Prismatoid|Stratified sampling|Preadditive category
"""
# label 1, but the rule had to be applied to a mixed subject (kept apart so benchmarks can drop them)
MATH_BORDERLINE = """
Exponentiation by squaring|Fibonacci coding|Minimum spanning tree|Scientific notation|Conditional proof|
Conjunction introduction|Probability interpretations|François d'Aguilon|Gaspard-Gustave de Coriolis|Soliton
"""
# label 0, but close to the line
NOT_MATH_BORDERLINE = """
Eugene Wigner|Edward Witten|Shor's algorithm|Law of noncontradiction|Triangle wave|Length|BQP|
Sharp-P-complete|Chomsky normal form|Regular grammar|Vector quantization|Mersenne Twister|
Demographic statistics|Scale (ratio)
"""


def _titles(block: str) -> set[str]:
    return {t.strip() for t in block.replace("\n", "").split("|") if t.strip()}


def main() -> None:
    with gzip.open(WIKI, "rt", encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh]
    by_title = {d["title"]: d for d in docs}
    math, math_b, not_b = _titles(MATH), _titles(MATH_BORDERLINE), _titles(NOT_MATH_BORDERLINE)
    for t in math | math_b | not_b:
        assert t in by_title, f"title not in the sample: {t}"
    read_lead: set[str] = set()
    if not HEURISTIC.exists():  # needed to record which leads were read; never guess it
        raise SystemExit(f"{HEURISTIC}: not found (the shared data folder is needed to regenerate)")
    for r in csv.DictReader(HEURISTIC.open(encoding="utf-8"), delimiter="\t"):
        if r["title_keyword_match"] == "1" or float(r["text_math_score"]) >= 2:
            read_lead.add(r["id"])
    out = HERE / "wiki_math_labels.jsonl"
    with out.open("w", encoding="utf-8") as fh:
        for d in docs:
            t = d["title"]
            label = int(t in math or t in math_b)
            checked = "lead" if (d["id"] in read_lead or t in math | math_b | not_b) else "title"
            fh.write(json.dumps({"id": d["id"], "title": t, "label": label,
                                 "borderline": t in math_b or t in not_b, "checked": checked},
                                ensure_ascii=False) + "\n")
    n_pos = len(math) + len(math_b)
    print(f"{out}: {len(docs)} labels, {n_pos} positives ({len(math_b)} borderline), "
          f"{len(not_b)} borderline negatives")


if __name__ == "__main__":
    main()
