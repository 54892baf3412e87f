"""Draw the e-commerce example's ESCI subsets and build its seed corpus (seeded, re-runnable).

    python examples/ecommerce/make_data.py [SHARED_DATA]     # default: <repo>/../shared/data

From the shared ``ecommerce/esci_us_150q`` split (by query: 105 train queries, 45 test queries):
- test: TEST_PAIRS pairs drawn from the test split;
- train: TRAIN_PAIRS pairs drawn from the train pairs that are clean against the *whole* test split:
  their product is no test pair's product, and their rendered input (the config's input_template)
  shares no word 13-gram with a test input (trait's own decontamination index);
- seed (``esci_products/train_products.jsonl.gz``): one document per distinct product of the train
  split, under the same two rules, never a test pair's product.
Bullet points are cut to BULLET_CHARS at a word boundary in the task copies (prompts stay ~120
tokens); the seed keeps the shared copy's 400 characters. Draws are ``random.Random(SEED).sample``,
written in file order.
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

import yaml

from trait.contamination import ContaminationIndex, DecontaminationConfig
from trait.io import read_jsonl, write_jsonl
from trait.tasks import TaskSpec, render

SEED = 20261202
TRAIN_PAIRS, TEST_PAIRS = 400, 300
BULLET_CHARS = 240
HERE = Path(__file__).resolve().parent
KEEP = ["id", "split", "query", "product_id", "product_title", "product_brand", "product_color",
        "product_category", "product_bullet_points", "label", "esci_label", "choices", "answer", "answer_index"]


def cut(text: str | None, limit: int = BULLET_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, marked with ' …'."""
    text = (text or "").removesuffix(" …").strip()
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(None, 1)[0] + " …"


def task_row(r: dict) -> dict:
    return {k: r[k] for k in KEEP} | {"product_bullet_points": cut(r["product_bullet_points"])}


def product_doc(r: dict) -> dict:
    """A product listing as a seed document: title, brand, category path, bullet points."""
    lines = [r["product_title"], f"Brand: {r['product_brand'] or ''}".strip(),
             " > ".join(r["product_category"] or []), r["product_bullet_points"] or ""]
    return {"id": f"esci-product-{r['product_id']}", "product_id": r["product_id"],
            "text": "\n".join(line for line in lines if line and line != "Brand:")}


def draw(rows: list[dict], n: int) -> list[dict]:
    keep = set(random.Random(SEED).sample(range(len(rows)), min(n, len(rows))))
    return [r for i, r in enumerate(rows) if i in keep]


def main(shared: Path) -> None:
    src = shared / "ecommerce" / "esci_us_150q"
    train, test = read_jsonl(src / "train.jsonl"), read_jsonl(src / "test.jsonl")
    template = yaml.safe_load((HERE / "config.yaml").read_text())["tasks"][0]["input_template"]
    spec = TaskSpec(name="esci", test="test.jsonl", type="classification", input_template=template)
    d = DecontaminationConfig()  # the pipeline's rule, as the config leaves it at its defaults
    index = ContaminationIndex(n=d.ngram, min_words=d.min_words, exact_short=d.exact_short)
    for r in test:
        index.add(r["id"], render(spec, task_row(r)))
    test_products = {r["product_id"] for r in test}

    def clean(r: dict) -> bool:
        return r["product_id"] not in test_products and index.find(render(spec, task_row(r))) is None

    clean_train = [r for r in train if clean(r)]
    products = {r["product_id"]: product_doc(r) for r in clean_train}
    seed_docs = [d for d in products.values() if index.find(d["text"]) is None]
    print(f"train pairs clean against the test split: {len(clean_train)} of {len(train)}; "
          f"seed products: {len(seed_docs)}")

    out = HERE / "data"
    for split, rows in (("train", draw(clean_train, TRAIN_PAIRS)), ("test", draw(test, TEST_PAIRS))):
        n = write_jsonl(out / "esci_us" / f"{split}.jsonl", [task_row(r) for r in rows])
        print(f"{out / 'esci_us' / f'{split}.jsonl'}: {n} pairs")
    n = write_jsonl(out / "esci_products" / "train_products.jsonl.gz", seed_docs)
    print(f"{out / 'esci_products' / 'train_products.jsonl.gz'}: {n} products")
    for folder in ("esci_us", "esci_products"):
        for lic in ("LICENSE.txt", "LICENSE_opensearch-search-relevance.txt"):
            shutil.copyfile(src / lic, out / folder / lic)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared" / "data")
