"""probe.save_html: a self-contained replay of the user's own run, opened in a real Chromium."""

import json
import os
import re

import numpy as np
import pytest

from whynet.errors import ConfigError
from whynet.nn import mlp
from whynet.probes import Probe
from whynet.probes.replay import replay_data
from whynet.train import fit

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def probe():
    X = np.random.default_rng(0).standard_normal((300, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    model = mlp([2, 16, 16, 2], activation="relu", seed=0)
    p = Probe(model, X[:128], y[:128], "softmax_ce", every=10)
    fit(model, X, y, loss="softmax_ce", lr=0.5, epochs=10, batch_size=30, callbacks=[p],
        progress=False)
    return p


def test_the_page_carries_every_record_and_no_outside_request(probe, tmp_path):
    path = probe.save_html(tmp_path / "run.html", title="ReLU on XOR </script>")
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched
    payload = html.split('<script id="data" type="application/json">')[1].split("</script>")[0]
    data = json.loads(payload.replace("<\\/", "</"))
    assert data["title"] == "ReLU on XOR </script>" and "&lt;/script&gt;" in html
    assert data["steps"] == probe.records.steps()
    n = sum(len(points) for layers in data["series"].values() for points in layers.values())
    assert n == len(probe.records)
    assert set(data["histograms"]) == set(probe.histograms.layers())


def _saturated_probe():
    """A probe whose findings include tanh saturation (question R4): inputs on a ±15 scale."""
    X = np.random.default_rng(0).standard_normal((300, 2)).astype(np.float32) * 5
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    model = mlp([2, 16, 16, 2], activation="tanh", seed=0)
    p = Probe(model, X[:128], y[:128], "softmax_ce", every=10)
    fit(model, X, y, loss="softmax_ce", lr=0.5, epochs=3, batch_size=30, callbacks=[p],
        progress=False)
    return p


def test_each_finding_carries_its_question():
    """Inputs on a ±15 scale saturate tanh from the start: the finding names question R4."""
    p = _saturated_probe()
    found = replay_data(p)["findings"]
    assert found and [(f["rule"], f["question"]) for f in found] \
        == [(f.rule, f.question) for f in p.findings]
    assert ("saturation", "R4") in [(f["rule"], f["question"]) for f in found]


def test_the_page_shows_each_findings_question(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    p = _saturated_probe()
    path = p.save_html(tmp_path / "run.html")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.goto(path.as_uri())
        shown = page.locator("#findings li").all_text_contents()
        browser.close()
    assert len(shown) == len(p.findings)
    for text, f in zip(shown, p.findings):
        assert text.endswith(f"question {f.question}") if f.question else "question" not in text
    assert any(t.endswith("question R4") for t in shown)


def test_bad_targets_and_empty_probes_are_refused(probe, tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        probe.save_html(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        probe.save_html(tmp_path / "missing" / "run.html")
    empty = Probe(mlp([2, 4, 2], seed=0), np.zeros((4, 2), np.float32), np.zeros(4, np.int64),
                  "softmax_ce")
    with pytest.raises(ConfigError, match="no records yet"):
        replay_data(empty)
    keep = tmp_path / "keep.html"
    keep.write_text("earlier")
    with pytest.raises(ConfigError):
        empty.save_html(keep)
    assert keep.read_text() == "earlier"  # nothing lost on failure


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium")
def test_the_slider_moves_the_table_histograms_and_findings(probe, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    path = probe.save_html(tmp_path / "run.html", title="ReLU net on XOR, lr 0.5")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors, requests = [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        last = page.text_content("#step-label")
        assert last == str(probe.records.steps()[-1])
        std_last = page.text_content("#layers tr:nth-child(3) td:nth-child(3)")
        page.fill("#step", "0")
        page.dispatch_event("#step", "input")
        assert page.text_content("#step-label") == str(probe.records.steps()[0])
        std_first = page.text_content("#layers tr:nth-child(3) td:nth-child(3)")
        expected = probe.records.where(quantity="act_std", layer="1:relu").to_dict()["value"]
        assert (float(std_first), float(std_last)) == pytest.approx((expected[0], expected[-1]),
                                                                     abs=6e-4)
        assert page.locator("#chart polyline").count() >= 2
        assert page.locator("#hists figure").count() == len(probe.histograms.layers())
        if probe.findings:  # findings after the chosen step are greyed out, not hidden
            assert page.locator("#findings li").count() == len(probe.findings)
        if os.environ.get("WHYNET_SCREENSHOTS"):
            page.fill("#step", str(len(probe.records.steps()) - 1))
            page.dispatch_event("#step", "input")
            page.screenshot(path=os.environ["WHYNET_SCREENSHOTS"] + "/replay.png", full_page=True)
        browser.close()
    assert errors == [] and all(u.startswith("file://") for u in requests)
