"""The report in another language: every visible string goes through the catalogue (a pseudo-locale
proves it), the Korean report has no English sentence left, and its figures have Hangul glyphs.

The two whole-report checks build one small store (experiments a10 and i1, quick grids, a few
seconds) and render it in the pseudo-locale ``qps`` (every message wrapped in ⟦…⟧) and in Korean.
"""

from __future__ import annotations

import logging
import re
import warnings
from html.parser import HTMLParser

import matplotlib
import pytest
from matplotlib.figure import Figure

from whynet.datasets import DATASETS
from whynet.errors import ConfigError
from whynet.experiments import registry
from whynet.experiments.base import Experiment
from whynet.i18n import PSEUDO, ngettext, use_language
from whynet.nn.activations import ACTIVATIONS
from whynet.report import build_report, fonts
from whynet.report.render import _figures, render_figure
from whynet.runner import plan, run_tasks
from whynet.store import Store

SMALL = ("a10", "i1")
"""Two quick experiments (a demonstration and a test) behind the whole-report checks."""

SKIPPED_TAGS = {"script", "style", "code", "pre"}
"""Code and machinery: their text is not prose to translate."""

NAMES = {
    "whynet": "the program's name",
    "numpy": "a library's name (environment table)",
    "matplotlib": "a library's name (environment table)",
    "python": "a language's name (environment table)",
    "linux": "an operating system's name (environment table)",
    "darwin": "an operating system's name (environment table)",
    "windows": "an operating system's name (environment table)",
    "utc": "a time zone (the date stamp)",
    "nan": "a number: not a number",
    "inf": "a number: infinity",
}
"""Proper names and number words a translation keeps, each with why it is not translated."""

IDENTIFIERS = {name.lower() for name in (*ACTIVATIONS, *DATASETS)}
"""Names a user types (``--activation tanh``, ``--data circles``): code, not words to translate;
evidence rows name their conditions with them."""

UNITS = {"s", "ms", "µs", "px", "pt", "kb", "mb", "gb"}
MATH = re.compile(r"[∂‖∑∏√∇ⁱ⁻¹²³ᵀ₀-₉]|^[α-ωΑ-Ω]$")
"""A formula's piece (‖∂L/∂h_1‖) or a Greek letter (λ, κ): notation, not words."""
ID_OR_NUMBER = re.compile(
    r"[+−-]?(?:\d[\d.,]*(?:e[+−-]?\d+)?%?|[A-Za-z]{0,8}\d[\w.:-]*|[a-z]+_[\w]+|ask:\S+)",
    re.IGNORECASE)
"""A number (2,153 · 0.5 · 1e-3 · 12%), an ID or a name with a digit (A10, i1, float64, p37,
x86_64, 000_b82c….txt), a code identifier with an underscore, or an asked question's id."""


def _is_neutral(token: str) -> bool:
    """A token a translation leaves as it is: a number, an ID, a unit or a listed name."""
    return (not any(c.isalpha() for c in token) or bool(ID_OR_NUMBER.fullmatch(token))
            or (len(token) == 1 and token.isascii())  # a variable: n, k, x, W
            or bool(MATH.search(token))
            or token.lower() in UNITS or token.lower() in NAMES or token.lower() in IDENTIFIERS)


class _Texts(HTMLParser):
    """The visible text of each block element (inline children joined in, so a message with a
    link inside it stays one text), and every title/alt attribute; text in :data:`SKIPPED_TAGS`
    becomes a ⌘ placeholder, text in ``class="original"`` (the English original next to a
    translated glossary term) is left out."""

    VOID = {"img", "br", "meta", "link", "input", "hr", "source", "col", "wbr"}
    INLINE = {"a", "span", "em", "i", "b", "strong", "sub", "sup", "abbr", "small", "br", "img",
              "code"}

    def __init__(self):
        super().__init__()
        self.stack, self.texts, self.block = [], [], []

    def _flush(self):
        text = " ".join(self.block).strip()
        if text.strip("⌘ "):
            self.texts.append((self.stack[-1][0] if self.stack else "", text))
        self.block = []

    def _skipped(self) -> bool:
        return any(tag in SKIPPED_TAGS for tag, _o in self.stack)

    def _original(self) -> bool:
        return any(original for _t, original in self.stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in self.INLINE:
            self._flush()
        if not self._skipped() and not self._original():
            self.texts += [(f"{tag}@{k}", a[k]) for k in ("title", "alt") if a.get(k)]
        if tag in SKIPPED_TAGS and not self._skipped():
            self.block.append("⌘")
        if tag not in self.VOID:
            self.stack.append((tag, "original" in (a.get("class") or "").split()))

    def handle_endtag(self, tag):
        if tag not in self.INLINE:
            self._flush()
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if data.strip() and not self._skipped() and not self._original():
            self.block.append(data.strip())

    def close(self):
        super().close()
        self._flush()


def visible_texts(html: str) -> list[tuple[str, str]]:
    """``(tag, text)`` of every block of visible text and every title/alt attribute."""
    parser = _Texts()
    parser.feed(html)
    parser.close()
    return parser.texts


def unwrapped(text: str) -> list[str]:
    """The words of ``text`` outside every ⟦…⟧ (nested ones too) that are not neutral."""
    previous = None
    while previous != text:
        previous, text = text, re.sub(r"⟦[^⟦⟧]*⟧", " ", text)
    return [t for t in re.split(r"[\s,;:()\[\]{}·—–=×/<>|!?\"“”'’…+⌘]+", text)
            if t.strip(".") and not _is_neutral(t.strip("."))]


ENGLISH_RUN = re.compile(r"(?<![\w-])[A-Za-z][a-z'’-]+(?:[ ,]+[A-Za-z][a-z'’-]+){2,}(?![\w-])")
"""Three or more ASCII words of two letters or more in a row (a formula's single-letter
variables, "y ln p", break a run)."""
CITATION = re.compile(r"\b[A-Z][a-z]+ et al\.")
QUOTATION = re.compile(r"“[^”]*”")
"""A quotation keeps its source's words: the notes' own section titles (“Random
initialization” 절)."""


def english_runs(text: str) -> list[str]:
    """Runs of three or more ASCII words in a row (an untranslated English phrase), leaving out
    citations ("He et al."), quotations, names and identifiers ("vs tanh vs" is one word), and
    runs mostly in capitals: authors and titles ("Soudry, Hoffer, Nacson", "Random Search for")."""
    text = QUOTATION.sub(" ", CITATION.sub(" ", text))
    out = []
    for run in (m.group(0) for m in ENGLISH_RUN.finditer(text)):
        words = [w for w in re.split(r"[ ,]+", run) if w]
        plain = [w for w in words if w.lower() not in NAMES and w.lower() not in IDENTIFIERS]
        if len(plain) >= 3 and 3 * sum(w[0].isupper() for w in words) < 2 * len(words):
            out.append(run)
    return out


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    experiments = [registry.get(i) for i in SMALL]
    with Store(tmp_path_factory.mktemp("i18n") / "runs.sqlite") as store:
        run_tasks(plan(experiments, quick=True), store, jobs=1, progress=False)
        yield store, experiments


@pytest.fixture(scope="module")
def reports(small_store):
    store, experiments = small_store
    return {lang: build_report(store, quick=True, experiments=experiments, lang=lang)
            for lang in (PSEUDO, "ko", "en")}


# -- the checkers themselves ------------------------------------------------------------------

def test_the_checkers_find_what_bypasses_the_catalogue():
    html = ("<p>⟦Answer⟧ A10 0.93 ± 0.02 (n=3) 12 s</p><p>⟦a ⟦nested⟧ <a href='#'>link</a>⟧ "
            "Hello world</p><p><code>whynet run all</code><span title='tip text'>x</span></p>"
            "<p>⟦Generated by <code>whynet report</code>, kept⟧</p>")
    texts = visible_texts(html)
    assert [w for _t, text in texts for w in unwrapped(text)] == ["Hello", "world", "tip", "text"]
    assert unwrapped("L2, λ = 0.01; ‖∂L/∂h_1‖ in 12 µs, and then") == ["in", "and", "then"]
    assert english_runs("⌘ the <b>same</b> ⌘ run") == []
    assert english_runs("기울기가 소실됩니다 (He et al. 2015), Leaky ReLU 사용") == []
    assert english_runs("기울기 — the gradient vanishes here") == ["the gradient vanishes here"]
    assert english_runs("“Random weight initialization” 절, 깊은 선형 vs tanh vs relu") == []
    assert english_runs("Soudry, Hoffer, Nacson (2018), Random Search for 탐색") == []
    assert english_runs("Then Adam Vanishes quietly here") == ["Then Adam Vanishes quietly here"]


# -- whole reports ------------------------------------------------------------------------------

def test_pseudo_locale_report_has_every_visible_string_from_the_catalogue(reports):
    """Rendering in ``qps`` wraps each message in ⟦…⟧: a word outside any ⟦…⟧ that is not a
    number, an ID, a unit or a listed name bypassed the catalogue (or the glossary's tables)."""
    html = reports[PSEUDO]
    assert '<html lang="en">' in html  # the pseudo-locale is not a language a browser knows
    bypassed = [(tag, text) for tag, text in visible_texts(html) if unwrapped(text)]
    assert not bypassed, f"{len(bypassed)} visible strings bypass the catalogue, e.g. " + \
        "; ".join(f"<{t}> {x!r}" for t, x in bypassed[:15])


def test_korean_report_has_no_untranslated_english_sentence(reports):
    html = reports["ko"]
    assert '<html lang="ko">' in html
    left = [(tag, run) for tag, text in visible_texts(html) for run in english_runs(text)]
    assert not left, f"{len(left)} English phrases in the Korean report, e.g. " + \
        "; ".join(f"<{t}> {x!r}" for t, x in left[:15])


def test_korean_report_speaks_korean_and_keeps_ids_and_numbers(reports):
    ko, en = reports["ko"], reports["en"]
    for word in ("개요", "판정", "용어집", "정규화", "규제"):
        assert word in ko
    assert "Overview" in en and "개요" not in en
    for qid in ("A10", "I1", "R4"):
        assert f'id="question-{qid}"' in ko and f'id="question-{qid}"' in en


# -- figures ----------------------------------------------------------------------------------

def _korean_figure() -> Figure:
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.semilogy([-2, 0, 2], [1e-3, 1e-2, 1e-1], label="기울기 소실")  # log ticks: mathtext
    ax.set(title="에폭별 손실 −1.5 ± σ", xlabel="에폭", ylabel="기울기의 크기")
    ax.legend()
    return fig


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _glyph_warnings(draw) -> list[str]:
    """matplotlib's complaints about missing glyphs while ``draw`` runs: the text renderer warns
    ("Glyph … missing from font(s)"), mathtext logs ("Font … does not have a glyph for …")."""
    log = logging.getLogger("matplotlib")
    records = _Records()
    log.addHandler(records)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            draw()
    finally:
        log.removeHandler(records)
    return [m for m in [str(w.message) for w in caught] + records.messages
            if "missing from font" in m or "does not have a glyph" in m]


def test_korean_figure_renders_every_glyph():
    """The check can fail: without the Hangul font matplotlib warns of missing glyphs."""
    assert _glyph_warnings(lambda: render_figure(_korean_figure()))  # the default font: tofu
    with fonts.figure_fonts("ko"):
        assert _glyph_warnings(lambda: render_figure(_korean_figure())) == []
    hangul_first = {"font.family": [fonts.register_hangul_font(), fonts.FIRST_FAMILY]}
    with matplotlib.rc_context(hangul_first):  # mathtext's log ticks would lose their minus
        assert _glyph_warnings(lambda: render_figure(_korean_figure()))


class _Hangul(Experiment):
    id = "zz_hangul"
    questions = ("A1",)
    title = "Hangul"

    def figures(self, results):
        return [("그림", _korean_figure())]


def test_report_figures_are_drawn_with_the_language_font():
    with use_language("ko"):
        missing = _glyph_warnings(lambda: _figures(_Hangul(), [object()]))
    assert missing == []


def test_a_missing_hangul_font_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setattr(fonts, "_font_dir", lambda: tmp_path)
    fonts.register_hangul_font.cache_clear()
    try:
        with pytest.raises(ConfigError, match="koreanize-matplotlib"):
            fonts.font_rc("ko")
    finally:
        fonts.register_hangul_font.cache_clear()
    assert fonts.font_rc("en") == {}


def test_korean_plurals_follow_the_korean_rule():
    """Korean has one form: the merged catalogues must keep its rule, not English's n != 1."""
    with use_language("ko"):
        assert ngettext("{n} seed", "{n} seeds", 5).format(n=5) == "시드 5개"
        assert ngettext("{n} seed", "{n} seeds", 1).format(n=1) == "시드 1개"
