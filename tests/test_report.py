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
from whynet.report.glossary import ConfigError, Linker, load_glossary, parse_glossary
from whynet.report.render import CONTENT_PX, MIN_PT, evidence_table, render_figure
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


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    """One report of the fakes for the whole module (drawing figures takes seconds)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(registry, "_discovered", {})
        handles = [registry.register(e) for e in (Depth(), Flaky(), NeverRun())]
        try:
            with Store(tmp_path_factory.mktemp("report") / "runs.sqlite") as store:
                run_tasks(plan([Depth(), Flaky()], quick=True), store, jobs=1, progress=False)
                return build_report(store)
        finally:
            for h in handles:
                h.remove()


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
    # shown at 1:1 (96 CSS px per figure inch; the tight crop changes the 5-inch figure a
    # little), the 14-inch figure capped at the page's column
    widths = [int(img["width"]) for img in p.imgs]
    assert 400 < widths[0] < 560 and widths[1] == CONTENT_PX


def _row(html, qid):
    m = re.search(rf'<tr id="q-{qid}">(.*?)</tr>', html, re.S)
    assert m, qid
    return m.group(1)


def test_overview_badges_follow_the_verdicts(html):
    assert 'class="badge holds">holds<' in _row(html, "A4")
    assert 'class="badge depends">depends<' in _row(html, "R2")
    assert 'class="badge inconclusive">inconclusive<' in _row(html, "T1")  # seeds disagree
    assert "not run" in _row(html, "I1") and "whynet run zz_never" in _row(html, "I1")
    assert "not answered" in _row(html, "R1") and "no experiment yet" in _row(html, "R1")


def _section(html, qid):
    start = html.index(f'<section class="qsec" id="question-{qid}">')
    return html[start:html.index("</section>", start)]


def test_sections_show_question_grid_numbers_and_baselines(html):
    sec = _section(html, "A4")
    assert 'id="exp-zz_depth"' in sec  # the lab's links to an experiment land here
    assert "Does the gradient shrink by ≤ 0.25 per sigmoid layer?" in sec
    assert "quick grid: 2 specs × seeds 0, 1 = 4 runs" in sec
    assert "Glorot &amp; Bengio 2010" in sec and "top layer saturates" in sec
    # text from experiments is escaped, never injected as markup
    assert "Gradients &lt;shrink&gt; with depth" in sec and "&lt;b&gt;bold?&lt;/b&gt;" in sec


def test_a_question_section_reads_claim_answer_figure_evidence_rule_why_in_order(html):
    sec = _section(html, "A4")
    text = re.sub(r"<[^>]+>", "", sec)  # term links split words with tags
    order = ["The notes say", "at most 1/4", "note 001", "Derivatives of activation functions",
             "Answer", "Yes: each sigmoid layer shrank the gradient at least fourfold.",
             "ratio vs depth", "Evidence", "Decided by", "Holds if every seed",
             "Published baselines", "Why", "By the chain rule", "Figure 2", "In full",
             "every ratio is below", "How it was measured"]
    at = [text.index(t) for t in order]
    assert at == sorted(at), [t for t, a, b in zip(order, at, at[1:]) if a > b]
    # the note's file is one click away: the source links to the notes table with the file name
    assert 'href="#note-001"' in sec and 'id="note-001"' in html
    assert "001_66ee465d1f500ac0.txt" in html[html.index('id="note-001"'):]


def test_evidence_rows_spread_and_seed_agreement(html):
    sec = _section(html, "A4")
    # 0.2^d·(1 + 0.01·seed), seeds 0, 1: depth 2 → 0.0402 ± 0.0003 (sample std, ddof = 1)
    assert re.search(r'<td class="cond">depth 2</td><td class="v" title="min 0.04, max 0.0404 '
                     r'over 2 seeds">0.0402 ± 0.0003</td>', sec)
    assert '<td class="cond">depth 4</td>' in sec and "<th>bound</th>" in sec
    assert "Over 2 seeds each" in sec  # n moved to the caption: every Stat has n = 2
    assert "4 of 4 seeds agree (sign-test p = 0.12)" in sec


def test_depends_names_its_variables_and_shown_is_never_a_test_badge(html):
    sec = _section(html, "R2")
    assert "Depends on" in sec and "<span>optimizer</span>" in sec
    a10 = _section(html, "A10")
    assert 'class="badge shown">shown (demonstration)<' in a10
    assert 'class="badge shown">shown (demonstration)<' in _row(html, "A10")
    for part in (a10, _row(html, "A10")):
        assert not re.search(r'class="badge (holds|fails|depends|inconclusive)"', part)
    # the figures of an experiment answering several questions are shown once
    assert "The figures of experiment <code>zz_depth</code> are in the" in a10
    assert "<img" not in a10 and 'id="exp-zz_depth"' not in a10


def test_overview_counts_tests_and_demonstrations_apart(html):
    tally = html[html.index('class="tally"'):html.index('id="overview"')]
    # A4 holds, R2 depends, T1 inconclusive are tests; A10 is a demonstration
    assert re.search(r"<i>3 tests</i>\s*<div class=\"holds\"><b>1</b><span>hold</span>", tally)
    assert '<div class="depends"><b>1</b>' in tally and '<div class="fails"><b>0</b>' in tally
    assert '<div class="inconclusive"><b>1</b>' in tally
    assert '<div class="shown"><b>1</b><span>demonstrations (shown)</span>' in tally
    assert "<b>4/30</b>" in tally


def test_a_verdict_without_answer_or_evidence_falls_back_to_its_sentence(html):
    sec = _section(html, "T1")  # Flaky's verdict has a sentence only
    assert '<p class="fallback">' in sec and "disagree" in sec and "Evidence" not in sec
    assert "disagree" in _row(html, "T1")
    assert "No experiment answers this question yet." in _section(html, "R1")


def test_every_link_in_the_page_resolves_and_terms_link_to_the_glossary(html):
    p = _parse(html)
    hrefs = re.findall(r'href="#([^"]+)"', html)
    assert hrefs and not [h for h in hrefs if h not in p.ids]
    terms = set(re.findall(r'class="term" href="#(g-[a-z0-9_]+)"', html))
    assert {"g-sigmoid", "g-chain_rule" if False else "g-backpropagation"} <= terms
    assert {f"g-{k}" for k in load_glossary()} <= p.ids  # every entry has its anchor


def test_a_term_is_linked_at_its_first_use_in_each_section_only(html):
    why = _section(html, "A4")
    links = re.findall(r'<a class="term" href="#g-sigmoid"', why)
    assert len(links) == 1  # the claim uses "sigmoid" first; later uses are plain text
    first = why.index('href="#g-sigmoid"')
    assert first < why.index("The notes say") + 400  # … and the link sits in the claim
    assert len(re.findall(r'href="#g-sigmoid"', _section(html, "A2"))) == 1  # again per section


def test_a_broken_figure_and_a_failed_run_are_reported_not_fatal(html):
    sec = _section(html, "T1")
    assert "figures: ValueError: no such axis" in sec
    assert "5 runs (of 6 planned)" in sec  # 2 specs × 3 seeds, one run raised
    assert "1 failed run" in sec and "RuntimeError: boom in run" in sec


def test_corrections_are_collected_with_their_number(html):
    sec = html[html.index('id="corrections"'):html.index('id="glossary"')]
    text = re.sub(r'<a class="term"[^>]*>|</a>', "", sec)  # terms are linked in the text
    assert 'href="#g-relu"' in sec and "ReLU switches off small features" in text
    assert "depth does not shrink an active ReLU path" in text  # so what
    assert "ratio 1.00 ± 0.00 (n=2)" in sec
    assert 'href="#note-000" title="000_b82c469d1e6eb1b9.txt">000 Q2<' in sec
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


# -- figures, evidence tables and the glossary, without a store -------------------------------

def test_render_figure_raises_text_below_nine_points_as_it_appears_in_the_page():
    fig = Figure(figsize=(6, 3.5))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], label="a line")
    ax.legend(fontsize=5)
    ax.set_title("tiny title", fontsize=6)
    ax.set_xticks([0, 0.5, 1], ["a", "b", "c"], fontsize=6)
    out = render_figure(fig)
    assert out["min_pt"] >= MIN_PT - 1e-9
    assert 440 < out["width"] < 600  # 6 in at 96 CSS px per inch, cropped by bbox_inches="tight"
    wide = Figure(figsize=(20, 3))  # shown at CONTENT_PX, so its text must be larger in the figure
    wide.add_subplot().set_title("wide", fontsize=9)
    out = render_figure(wide)
    assert out["width"] == CONTENT_PX and out["min_pt"] >= MIN_PT - 1e-9
    assert wide.axes[0].title.get_fontsize() > 9 * 1.8  # 20 in × 96 px is 2 × 950 px


def test_evidence_table_keeps_columns_in_first_seen_order_and_blanks_missing_cells():
    rows = [Row("sgd", {"test acc": mean_spread([0.9, 0.8]), "epochs": 12}),
            Row("adam", {"gap": 0.1, "test acc": mean_spread([0.7, 0.75, 0.8])})]
    t = evidence_table(rows)
    assert t["columns"] == ["test acc", "epochs", "gap"] and not t["wide"]
    assert t["n"] is None  # n differs (2 vs 3): each cell keeps its (n=…)
    assert [c["text"] for c in t["rows"][0]["cells"]] == ["0.85 ± 0.07 (n=2)", "12", ""]
    assert [c["text"] for c in t["rows"][1]["cells"]] == ["0.75 ± 0.05 (n=3)", "", "0.1"]
    assert evidence_table([]) is None
    many = evidence_table([Row("x", {f"m{i}": i for i in range(7)})])
    assert many["wide"] and not many["has_stat"]


def test_glossary_file_is_valid_and_its_errors_name_the_entry():
    terms = load_glossary()
    for key in ("ece", "proper_scoring_rule", "spectral_radius", "proximal_step", "subgradient",
                "main_effect", "sign_test", "sample_spread", "saturation", "dead_unit",
                "update_ratio", "demonstration"):
        assert terms[key].definition and terms[key].term
    with pytest.raises(ConfigError, match=r"alias 'ECE' of \[b\] is also an alias of \[a\]"):
        parse_glossary('[a]\nterm="a"\naliases=["ece"]\ndefinition="x"\n'
                       '[b]\nterm="b"\naliases=["ECE"]\ndefinition="y"\n')
    with pytest.raises(ConfigError, match=r"\[a\] has unknown \['meaning'\]"):
        parse_glossary('[a]\nterm="a"\naliases=[]\ndefinition="x"\nmeaning="y"\n')


def test_linker_matches_whole_words_acronyms_by_case_and_escapes():
    terms = parse_glossary('[ece]\nterm="ECE"\naliases=["ECE"]\ndefinition="calibration"\n'
                           '[relu]\nterm="ReLU"\naliases=["ReLU"]\ndefinition="max"\n'
                           '[leaky]\nterm="Leaky"\naliases=["Leaky ReLU"]\ndefinition="d"\n')
    link = Linker(terms)
    out = str(link("ece <b> PReLU Leaky ReLU beats ReLU; ECE and ECE"))
    assert out.startswith("ece &lt;b&gt; PReLU ")  # lower-case "ece" is no acronym; no "PReLU"
    assert '<a class="term" href="#g-leaky" title="d">Leaky ReLU</a> beats ' in out
    assert 'href="#g-relu" title="max">ReLU</a>; ' in out
    assert out.count('href="#g-ece"') == 1 and link.used == ["leaky", "relu", "ece"]


def test_labels_that_clash_once_raised_are_tilted_and_others_left_alone():
    crowded = Figure(figsize=(3, 2.5))
    ax = crowded.add_subplot()
    names = ["sigmoid", "sigmoid − ½", "tanh", "tanh + 1"]
    ax.bar(range(4), [1, 2, 3, 4])
    ax.set_xticks(range(4), names, fontsize=6)  # side by side at 6 pt, overlapping at 9 pt
    render_figure(crowded)
    assert {t.get_rotation() for t in ax.get_xticklabels()} == {30.0}
    roomy = Figure(figsize=(6, 2.5))
    ax = roomy.add_subplot()
    ax.set_xticks(range(4), names, fontsize=6)
    render_figure(roomy)
    assert {t.get_rotation() for t in ax.get_xticklabels()} == {0.0}
