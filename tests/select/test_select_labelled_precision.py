"""The choose step measures precision on the general corpus itself when the user gives labels."""

import json

import numpy as np
from test_select_choose import make_cfg, make_score_step

from trait.records import Doc
from trait.select.choose import run_choose


def test_labelled_precision_in_choose_summary(tmp_path, example_data, general_texts):
    texts = general_texts[:40]
    # Labelled in-domain docs get the top domain scores except one, which is ranked last.
    docs = [Doc(id=f"w{i}", text=t, source="wiki.jsonl", line=i + 1,
                scores={"domain": float(1 - i / 40), "quality": 1.0}) for i, t in enumerate(texts)]
    labels = {f"w{i}": int(i < 4 or i == 39) for i in range(40)}
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps({"id": k, "label": v}) + "\n" for k, v in labels.items()))
    cfg = make_cfg(tmp_path, example_data, keep_fraction=0.2, labels=str(path),
                   quality={"scorer": "none"}, dedup={"exact": False, "minhash": False})
    p = run_choose(cfg, make_score_step(cfg, docs), None).summary()["general_precision"]
    assert p["n_labelled_in_corpus"] == 40 and p["kept_labelled"] == 8
    assert p["kept_precision"] == 4 / 8 and p["kept_recall"] == 4 / 5
    assert 0.5 < p["ranking"]["roc_auc"] < 1.0 and not np.isnan(p["ranking"]["roc_auc"])
