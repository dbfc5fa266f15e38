"""The HTML report: every question ID, embedded PNG figures, sections, no external requests."""

import base64
import re
import shutil
from html.parser import HTMLParser

import pytest
from matplotlib.figure import Figure

from whynet.experiments import registry
from whynet.experiments.base import (Correction, Experiment, Published, Row, Verdict, decide,
                                     group, mean_spread, tally, values)
from whynet.experiments.questions import QUESTIONS
from whynet.report import build_report, write_report
from whynet.runner import plan, run_tasks
from whynet.store import Store

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Depth(Experiment):
    id = "zz_depth"
    questions = ("A4", "A10", "R2")
    title = "Gradients <shrink> with depth"
    question = "Does the gradient shrink by ≤ 0.25 per sigmoid layer?"
    what = "A chain of sigmoids; we measure the gradient ratio."
    seeds_quick = 2

    def grid(self, quick):
        return [{"depth": d} for d in (2, 4)]

    def run(self, spec, seed):
        return {"ratio": 0.2 ** spec["depth"] * (1 + 0.01 * seed)}

    def verdicts(self, results):
        r = values(results, "ratio")
        by = group(results, "depth")
        t = tally(x <= 0.25 ** 2 for x in r)
        rows = [Row(f"depth {d}", {"ratio": mean_spread(values(rs, "ratio")), "bound": 0.25 ** d})
                for d, rs in by.items()]
        return [Verdict("A4", t.status, "every ratio is below 0.25^depth <b>bold?</b>",
                        {"ratio": mean_spread(r), "bound": 0.0625},
                        answer="Yes: each sigmoid layer shrank the gradient at least fourfold.",
                        evidence=rows, rule="Holds if every seed's ratio is at most 0.25².",
                        agree=t),
                Verdict("A10", "shown", "the product of the layer maps is the net's map",
                        answer="A stack of linear layers is one linear map, up to round-off.",
                        evidence=[Row("float64", {"largest difference": 1e-16})],
                        rule="An identity: shown, not tested."),
                Verdict("R2", "depends", "it helps with SGD and not with Adam",
                        answer="Only with SGD.", evidence=rows[:1],
                        rule="Holds per optimiser if the gap shrinks.",
                        depends_on=("optimizer",))]

    def figures(self, results):
        fig = Figure(figsize=(5, 3))
        ax = fig.add_subplot()
        ax.semilogy([r.spec["depth"] for r in results], values(results, "ratio"), "o",
                    label="ratio")
        ax.legend(fontsize=5)  # too small: the report raises it to 9 pt
        wide = Figure(figsize=(14, 3))
        wide.add_subplot().plot([0, 1], [1, 0])
        return [("ratio vs depth", fig), wide]

    def corrections(self, results):
        return [Correction("A2", "000 Q2", "ReLU switches off small features",
                           "the gradient is 1 where active", "ratio 1.00 ± 0.00 (n=2)",
                           so_what="depth does not shrink an active ReLU path")]

    def published(self, results):
        return [Published("A4", "Glorot & Bengio 2010", "top layer saturates", "0.04 ± 0.00")]


class Flaky(Experiment):
    id = "zz_flaky"
    questions = ("T1",)
    title = "Flaky figures"
    question = "Does a broken figure lose the report?"
    what = "One run fails, the figure code raises."

    def grid(self, quick):
        return [{"x": 1}, {"x": 2}]

    def run(self, spec, seed):
        if spec["x"] == 2 and seed == 1:
            raise RuntimeError("boom in run")
        return {"y": seed}

    def verdicts(self, results):
        return [Verdict("T1", decide([r.result["y"] == 0 for r in results]), "seeds disagree")]

    def figures(self, results):
        raise ValueError("no such axis")


class NeverRun(Experiment):
    id = "zz_never"
    questions = ("I1",)
    title = "Never run"
    question = "?"
    what = "Nothing stored."

    def grid(self, quick):
        return [{}]


@pytest.fixture
def fakes(monkeypatch):
    monkeypatch.setattr(registry, "_discovered", {})  # only the fakes below
    handles = [registry.register(e) for e in (Depth(), Flaky(), NeverRun())]
    yield
    for h in handles:
        h.remove()


@pytest.fixture
def html(fakes, tmp_path):
    with Store(tmp_path / "runs.sqlite") as store:
        run_tasks(plan([Depth(), Flaky()], quick=True), store, jobs=1, progress=False)
        return build_report(store)


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.ids, self.external, self.scripts = [], set(), [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "img":
            self.imgs.append(a)
        if tag == "script":
            self.scripts += 1
        for k in ("src", "href"):
            if a.get(k) and not (a[k].startswith("#") or a[k].startswith("data:")):
                self.external.append(a[k])


def _parse(html):
    p = _Collect()
    p.feed(html)
    return p


def test_overview_has_every_question_id(html):
    p = _parse(html)
    assert {f"q-{q}" for q in QUESTIONS} <= p.ids
    assert len(re.findall(r'<tr id="q-', html)) == len(QUESTIONS) == 30


def test_every_image_is_an_embedded_png_and_nothing_is_fetched(html):
    p = _parse(html)
    assert len(p.imgs) == 2  # Depth's two figures; Flaky's figure code raised
    for img in p.imgs:
        prefix = "data:image/png;base64,"
        assert img["src"].startswith(prefix)
        data = base64.b64decode(img["src"][len(prefix):], validate=True)
        assert data[:8] == PNG_MAGIC and len(data) > 2000
        assert img["alt"]
    assert p.external == [] and p.scripts == 0  # self-contained: no requests, no scripts
    assert "ratio vs depth" in html and "Figure 2" in html  # caption given / default
    assert html.count('class="wide"') == 1  # the 10-inch figure spans the page


def _row(html, qid):
    m = re.search(rf'<tr id="q-{qid}">(.*?)</tr>', html, re.S)
    assert m, qid
    return m.group(1)


def test_overview_badges_follow_the_verdicts(html):
    assert 'class="badge holds">holds<' in _row(html, "A4")
    assert 'class="badge fails">fails<' in _row(html, "A10")
    assert 'class="badge inconclusive">inconclusive<' in _row(html, "T1")  # seeds disagree
    assert "not run" in _row(html, "I1") and "whynet run zz_never" in _row(html, "I1")
    assert "not answered" in _row(html, "R1") and "no experiment yet" in _row(html, "R1")


def test_sections_show_question_grid_numbers_and_baselines(html):
    sec = html[html.index('id="exp-zz_depth"'):html.index('id="exp-zz_flaky"')]
    assert "Does the gradient shrink by ≤ 0.25 per sigmoid layer?" in sec
    assert "quick grid: 2 specs × seeds 0, 1 = 4 runs" in sec
    # 0.2^d·(1 + 0.01·seed) for d = 2, 4 and seeds 0, 1: mean 0.0209, sample std 0.0223
    assert "ratio</td><td class=\"v\">0.02 ± 0.02 (n=4)" in sec
    assert "Glorot &amp; Bengio 2010" in sec and "top layer saturates" in sec
    # text from experiments is escaped, never injected as markup
    assert "Gradients &lt;shrink&gt; with depth" in sec and "&lt;b&gt;bold?&lt;/b&gt;" in sec


def test_a_broken_figure_and_a_failed_run_are_reported_not_fatal(html):
    sec = html[html.index('id="exp-zz_flaky"'):html.index('id="exp-zz_never"')]
    assert "figures: ValueError: no such axis" in sec
    assert "5 runs (of 6 planned)" in sec  # 2 specs × 3 seeds, one run raised
    assert "1 failed run" in sec and "RuntimeError: boom in run" in sec


def test_corrections_are_collected_with_their_number(html):
    sec = html[html.index('id="corrections"'):html.index('id="environment"')]
    assert "ReLU switches off small features" in sec and "ratio 1.00 ± 0.00 (n=2)" in sec
    pending = sec[sec.index("awaiting a measurement"):]
    assert "000 Q2" not in pending and "004 p37" in pending  # measured notes leave the list


def test_environment_lists_versions_seeds_and_date(html):
    import numpy

    env = html[html.index('id="environment"'):]
    assert f"<dd>{numpy.__version__}</dd>" in env
    assert "<dt>seeds</dt><dd>0, 1, 2</dd>" in env  # the union: zz_depth 0–1, zz_flaky 0–2
    assert re.search(r"<dt>date</dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d", env)


def test_write_report_writes_one_file(fakes, tmp_path):
    with Store(tmp_path / "runs.sqlite") as store:
        out = write_report(tmp_path / "out" / "report.html", store, quick=True)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]  # no temp file left


@pytest.mark.browser
@pytest.mark.slow
def test_report_opens_in_chromium_without_errors_or_broken_images(html, tmp_path):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    errors, requests = [], []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        broken = page.evaluate("[...document.images].filter(i => !i.complete || "
                               "i.naturalWidth === 0).length")
        n_images = page.evaluate("document.images.length")
        ids = page.evaluate("[...document.querySelectorAll('tr[id^=q-]')].map(r => r.id)")
        browser.close()
    assert errors == []
    assert (n_images, broken) == (2, 0)
    assert ids == [f"q-{q}" for q in QUESTIONS]
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
