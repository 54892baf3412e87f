"""The report's evidence on synthesis and selection: a few passages with every check's verdict beside each
paragraph, each check's pass rate, the quality filter's histogram and drops, the domain, formatted numbers."""

from __future__ import annotations

import json
import re

from report_kit import DOMAIN, LOW_QUALITY

from trait.io import read_jsonl
from trait.report import write_report
from trait.steps import latest


def _pieces(html: str, section: str) -> list[str]:
    """The paragraph blocks (text + checks) of one passages section of the page."""
    start = html.index(section)
    end = html.index("<h3>", start + len(section)) if section.startswith("<h3>Kept") else html.index("<h2>", start)
    return html[start:end].split('<div class="piece">')[1:]


def test_kept_passages_show_every_check_beside_every_paragraph(report_run, report_data, report_html):
    data = report_data["synthesis"]
    written = read_jsonl(latest(report_run, "synthesize") / "passages.jsonl")
    assert [p["id"] for p in data["kept"]] == [p["id"] for p in written[:3]]  # the first three, in schedule order
    for shown, p in zip(data["kept"], written):
        checks = p["provenance"]["checks"]
        assert len(shown["pieces"]) == len(p["paragraphs"]) + 1  # + the enlightenment
        for piece, recorded in zip(shown["pieces"], checks["paragraphs"] + [checks["enlightenment"]]):
            marks = {c["check"]: c["mark"] for c in piece["checks"]}
            assert len(marks) >= len(recorded)  # every recorded check has its line
            assert sorted(m for m in marks.values() if m != "na") == sorted(
                "pass" if ok else "fail" for ok in recorded.values())
    # cans (second passage, first paragraph) took two attempts: 52 / 2 = 25 was refused, then fixed
    cans = data["kept"][1]["pieces"][0]
    assert cans["attempts"] == 2 and "52 / 2 = 26" in cans["text"]
    assert {c["check"]: c["mark"] for c in cans["checks"]} == {
        "answer line agrees with gold": "pass", "every arithmetic statement is right": "pass",
        "last derived value is the answer": "pass"}  # the verifier never ran: no line for it
    assert cans["checks"][0]["note"] == "dictated by the gold hint"

    pieces = _pieces(report_html, "<h3>Kept passages")
    assert len(pieces) == 3 * 3  # three passages of two paragraphs and a lesson
    for piece in pieces:  # the text, then beside it one list item per check, each with its verdict
        assert '<div class="doc">' in piece and '<ul class="checks">' in piece
        assert re.search(r'<li class="pass"><span class="mark">✓</span>', piece)
    assert pieces[0].count('<li class="pass">') == 3 and "3 + 4 = 7" in pieces[0]


def test_rejected_passages_show_the_refusing_check_and_its_detail(report_data, report_html):
    data = report_data["synthesis"]
    # three were rejected, two for wrong arithmetic: the sample shows the first of each reason
    assert [p["reason"] for p in data["rejected"]] == ["paragraph:wrong_arithmetic", "paragraph:disagrees"]
    stickers = data["rejected"][0]["pieces"][0]
    assert stickers["label"] == "Problem 1 (stickers)" and stickers["attempts"] == 2
    assert stickers["refused"] == "refused: wrong arithmetic — 154 - 78 = 114 (is 76)"
    # the record carries every check's verdict on the attempt: the refusing one failed, the others passed
    assert {"check": "every arithmetic statement is right", "mark": "fail", "symbol": "✗",
            "note": ""} in stickers["checks"]
    assert {c["check"]: c["mark"] for c in stickers["checks"]}["answer line agrees with gold"] == "pass"
    assert stickers["history"] == ["attempt 1: refused: wrong arithmetic — 154 - 78 = 114 (is 76)"]
    marbles = data["rejected"][1]["pieces"][0]
    assert marbles["answer"] == "gold 15 · generated 14"
    assert {c["check"]: c["mark"] for c in marbles["checks"]}["answer line agrees with gold"] == "fail"
    assert {c["mark"] for c in data["rejected"][0]["pieces"][1]["checks"]} == {"pass"}  # its other paragraph passed

    pieces = _pieces(report_html, "<h3>Rejected passages")
    assert len(pieces) == 4
    assert '<li class="fail"><span class="mark">✗</span>every arithmetic statement is right' in pieces[0]
    assert "154 - 78 = 114 (is 76)" in pieces[0] and "answer &#39;14&#39;, gold &#39;15&#39;" in pieces[2]


def test_each_check_has_its_pass_rate_and_the_hinted_one_is_named(report_run, report_data):
    summary = json.loads((latest(report_run, "synthesize") / "summary.json").read_text())
    rows = {r["check"]: r for r in report_data["synthesis"]["checks"]}
    calc = summary["checks"]["calculator"]
    assert rows["every arithmetic statement is right"]["rate"] == f"{100 * calc['rate']:.3g}%"
    assert "trivially true" in rows["answer line agrees with gold"]["note"]
    assert rows["LLM verifier: the reasoning supports it"]["rate"] == "never applied"


def test_the_domain_names_the_report(report_run, report_html, tmp_path):
    assert f"<title>TRAIT report — {DOMAIN} — demo</title>" in report_html  # from the synthesize step's config
    assert f"Continual pre-training for <b>{DOMAIN}</b>" in report_html
    html = write_report(report_run, tmp_path / "r.html", domain="the target domain").read_text()
    assert f"<h1>TRAIT report — {DOMAIN} — demo</h1>" in html  # the placeholder of an unnamed domain: ignored
    html = write_report(report_run, tmp_path / "r.html", domain="clinical medicine").read_text()
    assert "<h1>TRAIT report — clinical medicine — demo</h1>" in html


def test_quality_filter_histogram_and_drops(report_data):
    selection = report_data["selection"]
    assert len(selection["plots"]) == 2  # domain and quality score histograms
    assert selection["quality"] == ("The quality filter (heuristic scorer) drops documents scoring below 0.5: it "
                                    "dropped 31 of 400 documents (7.75%), shown below with their scores.")
    [low] = [d for d in selection["dropped_examples"] if d["reason"] == "low_quality"]
    assert low["title"] == LOW_QUALITY[0]["id"] and low["scores"] == "domain 0.61, quality 0.2135"


def test_numbers_on_the_page_are_formatted(report_html):
    text = re.sub(r'src="data:image/png;base64,[^"]*"', "", report_html)
    numbers = re.findall(r"\d[\d,]*\.\d+", text)  # every decimal, the summary dumps included
    assert numbers and [n for n in numbers if len(n.replace(",", "").replace(".", "").lstrip("0")) > 4] == []
    assert "Exact match is 0 for every arm on toy (30 items each)" in report_html  # a sentence, no plot of zeros
