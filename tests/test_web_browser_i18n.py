"""The lab in Korean, in a real headless Chromium (Debian's, driven by Playwright): a browser
whose language is Korean gets Korean controls, presets and findings; the 한국어 / English switch
changes all of it in place, keeps the running session (the same session goes on counting steps)
and is kept in the URL; and with the pseudo-locale every visible text is wrapped in ⟦…⟧, so no
text of the page bypasses the catalogue. Skipped when /usr/bin/chromium is missing."""

import os
import re

import pytest

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser, pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason="needs Debian's chromium at /usr/bin/chromium "
                              "(apt-get install chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api")
httpx = pytest.importorskip("httpx")

from test_web_browser import Tab, browser, lab  # noqa: E402,F401  (the same module fixtures)

from whynet.i18n import use_language  # noqa: E402
from whynet.web import schema  # noqa: E402
from whynet.web.presets import PRESETS  # noqa: E402

HANGUL = re.compile(r"[\uac00-\ud7a3]")
P = {p.id: p for p in PRESETS}


class KoreanTab(Tab):
    """A tab of a browser whose language is Korean (Accept-Language: ko-KR)."""

    def __init__(self, browser, url, locale="ko-KR"):
        self.context = browser.new_context(locale=locale, viewport={"width": 1440, "height": 900})
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.goto(url)
        self.ready()

    def text(self, selector) -> str:
        return self.page.text_content(selector).strip()

    def findings(self) -> list[str]:
        return self.js("[...document.querySelectorAll('#findings li')].map(li => li.textContent)")

    def step(self) -> int:
        return int(self.js("document.body.dataset.step"))

    def close(self):
        self.context.close()


def test_a_korean_browser_gets_korean_controls_presets_and_findings(lab, browser):
    # Zero initialisation: the symmetry finding is there from step 0.
    tab = KoreanTab(browser, f"{lab}/?preset=zero-init")
    assert tab.js("document.documentElement.lang") == "ko"
    assert tab.text("#play") == "▶ 재생" and tab.text("#reset") == "⟲ 초기화"
    assert tab.text(".panel.data h3") == "데이터"
    with use_language("ko"):
        preset = P["zero-init"].to_dict()
    assert tab.text("#preset-title") == preset["title"] == "0으로 초기화: 대칭"
    assert tab.text("#preset-text") == preset["explanation"]
    tab.wait("document.querySelectorAll('#findings li .where').length > 0")
    found = tab.findings()
    assert any("대칭" in f for f in found), found
    assert all(HANGUL.search(f) and "units compute" not in f for f in found), found
    # The preset's lesson (symmetry) is ranked first.
    assert "대칭" in found[0]
    # The menus, the tooltips and the layer table speak Korean too; names of code stay.
    assert tab.js("document.querySelector('#init option[value=default]').textContent") == "기본값"
    assert tab.js("document.getElementById('reset').title") == "시드로 가중치를 새로 만듭니다(데이터는 그대로)"
    assert tab.js("document.querySelector('#layer-table tbody td').textContent").strip() \
        .startswith("은닉층 1")
    assert tab.js("document.querySelector('#activation-0').value") == "sigmoid"
    # A refused change is explained in Korean (the server answers in the page's language).
    r = httpx.put(f"{lab}/api/sessions/{tab.session}/config", json={"lr": -1},
                  headers={"Accept-Language": "ko"})
    assert r.status_code == 422 and r.json()["message"] == "lr: 0보다 커야 합니다, 받은 값: -1"
    assert tab.errors == []
    tab.close()


def test_switching_language_keeps_the_running_session_and_the_url_keeps_it(lab, browser):
    tab = KoreanTab(browser, f"{lab}/?preset=zero-init")
    sid, run = tab.session, tab.run
    tab.page.select_option("#speed", "50")
    tab.page.click("#play")
    tab.wait("Number(document.body.dataset.step) > 20")

    tab.page.click(".lang-switch a[data-lang=en]")
    tab.wait("document.documentElement.lang === 'en'")
    tab.wait("document.getElementById('play').textContent.includes('Pause')")
    assert tab.query()["lang"] == "en"
    assert tab.text("#preset-title") == "Zero initialisation: symmetry"
    assert tab.text(".panel.data h3") == "Data"
    # The server speaks English to this session from its next update on.
    tab.wait("[...document.querySelectorAll('#findings li')].some("
             "li => li.textContent.includes('symmetry'))")
    assert not any(HANGUL.search(f) for f in tab.findings())
    step_en = tab.step()

    tab.page.click(".lang-switch a[data-lang=ko]")
    tab.wait("document.documentElement.lang === 'ko'")
    tab.wait(f"Number(document.body.dataset.step) > {step_en + 20}")
    # The same session, never reset, still training: its steps went on counting.
    assert tab.session == sid and tab.run == run
    assert tab.query()["lang"] == "ko"
    assert tab.text("#play") == "❚❚ 일시정지"
    tab.wait("[...document.querySelectorAll('#findings li')].some("
             "li => li.textContent.includes('대칭'))")
    state = httpx.get(f"{lab}/api/sessions/{sid}").json()
    assert state["run"] == run and state["step"] > step_en and state["lang"] == "ko"
    # Reloading the URL keeps the language the user chose, whatever the browser prefers.
    tab.page.click("#play")
    url = tab.page.url
    english = KoreanTab(browser, url, locale="en-US")
    assert english.js("document.documentElement.lang") == "ko"
    assert english.text("#play") == "▶ 재생"
    english.close()
    assert tab.errors == []
    tab.close()


# Visible texts that are not messages: numbers and symbols, names of code (data sets,
# activations, optimisers, features, layer tags), question IDs, the language names and whynet.
CODE = set(schema.DATASETS) | set(schema.ACTIVATIONS) | set(schema.FEATURE_LABELS.values()) \
    | {"SGD", "Adam", "RMSProp", "AdaGrad", "L1", "L2", "whynet", "English", "한국어", "x", "y"}
NOT_WORDS = re.compile(r"^[\d\s.,:;%/()+\-−–·×→±=≈|⟲▶❚e]*$")


def _bare(text: str) -> bool:
    """A visible text that is neither wrapped in ⟦…⟧ nor a number, symbol or name of code."""
    outside, before = text, None
    while outside != before:  # messages nest (a finding holds a layer's name): innermost first
        before, outside = outside, re.sub(r"⟦[^⟦⟧]*⟧", " ", outside)
    words = [w for w in re.split(r"[\s,()·:/]+", outside) if w]
    return bool(words) and not all(NOT_WORDS.match(w) or w in CODE or re.fullmatch(
        r"[A-Z]\d{1,2}|L\d|hidden|output|input|\d+:\w+|x[₁₂]²?|sin", w) for w in words)


def test_with_the_pseudo_locale_every_visible_text_comes_from_the_catalogue(lab, browser):
    tab = KoreanTab(browser, f"{lab}/?lang=qps&preset=zero-init")
    tab.wait("document.querySelectorAll('#findings li .where').length > 0")
    texts = tab.js("""(() => {
      const out = [];
      const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        const el = n.parentElement;
        if (!n.textContent.trim() || !el || !el.checkVisibility()) continue;
        if (el.closest('script, style, .u-axis, option:not(:checked)')) continue;
        // A message with markup inside (<code>) is one text: its element's.
        const host = el.closest('[data-i18n]:not([data-i18n=attrs])');
        out.push((host || n).textContent.trim());
      }
      for (const el of document.querySelectorAll('[title]')) {
        if (el.checkVisibility() && el.title) out.push(el.title);
      }
      return out;
    })()""")
    assert len(texts) > 50
    bare = [t for t in texts if _bare(t)]
    assert bare == [], bare[:10]
    assert tab.text("#play") == "⟦▶ Play⟧"
    tab.close()
