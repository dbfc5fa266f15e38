"""The lab end to end in a real headless Chromium (Debian's, driven by Playwright): the page
trains on the spiral set, switches activation, loads a preset, rebuilds itself from its URL, and
two tabs train at once. Skipped when /usr/bin/chromium is missing."""

import os
import time
from urllib.parse import parse_qs, urlparse

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

from test_web_stream import running_server  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def lab():
    with running_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Tab:
    """A page of the lab, with the JavaScript errors it logs."""

    def __init__(self, browser, url):
        self.page = browser.new_page(viewport={"width": 1400, "height": 1400})
        self.errors = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.goto(url)
        self.ready()

    def ready(self):
        self.page.wait_for_selector("body[data-ready='1']", timeout=20_000)

    def js(self, expr):
        return self.page.evaluate(expr)

    @property
    def session(self) -> str:
        return self.js("document.body.dataset.session")

    @property
    def run(self) -> int:
        return int(self.js("document.body.dataset.run || 0"))

    def wait(self, condition: str, timeout=30.0):
        # Polled from here: the page's Content-Security-Policy forbids the eval that Playwright's
        # wait_for_function uses, and the test must see the page as users get it.
        end = time.monotonic() + timeout
        while not self.js(condition):
            assert time.monotonic() < end, f"timed out waiting for {condition}"
            self.page.wait_for_timeout(50)

    def wait_new_run(self, run: int):
        self.wait(f"Number(document.body.dataset.run) > {run}")

    def query(self) -> dict:
        return {k: v[0] for k, v in parse_qs(urlparse(self.page.url).query).items()}

    def number(self, selector) -> float:
        return float(self.page.text_content(selector))

    def boundary(self) -> str:
        return self.js("document.getElementById('boundary').toDataURL()")


def server_config(lab, sid) -> dict:
    r = httpx.get(f"{lab}/api/sessions/{sid}")
    assert r.status_code == 200, r.text
    return r.json()["config"]


def gone(lab, sid, timeout=5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if httpx.get(f"{lab}/api/sessions/{sid}").status_code == 404:
            return True
        time.sleep(0.1)
    return False


def test_train_on_spiral_switch_activation_load_a_preset_and_reload_from_the_url(lab, browser):
    tab = Tab(browser, f"{lab}/?layers=8:tanh,8:tanh&opt=adam&lr=0.01&speed=0")
    sid = tab.session
    run = tab.run

    # Pick the spiral set in the page: the server rebuilds the session.
    tab.page.select_option("#dataset", "spiral")
    tab.wait_new_run(run)
    assert server_config(lab, sid)["dataset"] == "spiral"
    assert tab.query()["dataset"] == "spiral"
    loss0, picture0 = tab.number("#test-loss"), tab.boundary()

    tab.page.click("#play")
    tab.wait("Number(document.body.dataset.step) > 3000")
    tab.page.click("#play")
    tab.wait("document.body.dataset.playing === '0'")
    loss1 = tab.number("#test-loss")
    # Adam on a 2×8 tanh net learns part of the spiral in 3,000 steps: the test loss falls by
    # more than a quarter (measured: 0.80 → about 0.4); the picture of the boundary changes.
    assert loss1 < 0.75 * loss0, (loss0, loss1)
    assert tab.boundary() != picture0
    assert tab.js("document.querySelectorAll('#layer-table tbody tr').length") == 3
    assert tab.js("document.querySelectorAll('#net canvas.hidden').length") == 16

    # Switch the first layer's activation.
    run = tab.run
    tab.page.select_option("#activation-0", "relu")
    tab.wait_new_run(run)
    assert tab.query()["layers"] == "8:relu,8:tanh"
    assert [layer["activation"] for layer in server_config(lab, sid)["layers"]] == ["relu", "tanh"]

    # Load a preset: its configuration, its explanation, its link.
    run = tab.run
    tab.page.select_option("#preset", "dead-relu")
    tab.wait_new_run(run)
    assert tab.page.is_visible("#preset-box")
    assert "ReLU unit" in tab.page.text_content("#preset-text")
    config = server_config(lab, sid)
    assert config["lr"] == 0.5 and config["dataset"] == "spiral"
    assert tab.query()["preset"] == "dead-relu" and tab.query()["lr"] == "0.5"

    # Reload from the URL: a new session with the same state; the old one ended with its stream.
    tab.page.reload()
    tab.ready()
    assert tab.session != sid
    assert server_config(lab, tab.session) == config
    assert tab.page.input_value("#activation-0") == "relu"
    assert tab.page.input_value("#lr") == "0.5"
    assert tab.page.is_visible("#preset-box")
    assert gone(lab, sid)
    assert tab.errors == []
    tab.page.close()


def test_two_tabs_train_different_networks_and_closing_one_ends_its_session(lab, browser):
    a = Tab(browser, f"{lab}/?dataset=xor&layers=5:tanh&speed=0")
    b = Tab(browser, f"{lab}/?dataset=spiral&layers=8:relu,8:relu&speed=0")
    assert a.session != b.session
    a.page.click("#play")
    b.page.click("#play")
    a.wait("Number(document.body.dataset.step) > 500")
    b.wait("Number(document.body.dataset.step) > 500")
    ca, cb = server_config(lab, a.session), server_config(lab, b.session)
    assert (ca["dataset"], len(ca["layers"])) == ("xor", 1)
    assert (cb["dataset"], len(cb["layers"])) == ("spiral", 2)
    assert a.js("document.querySelectorAll('#net canvas.hidden').length") == 5
    assert b.js("document.querySelectorAll('#net canvas.hidden').length") == 16

    sid_a = a.session
    a.page.close()
    assert gone(lab, sid_a)
    step = int(b.js("document.body.dataset.step"))
    b.wait(f"Number(document.body.dataset.step) > {step}")
    assert b.errors == [] and a.errors == []
    b.page.close()


def test_a_link_with_bad_settings_shows_why_and_falls_back_to_the_defaults(lab, browser):
    tab = Tab(browser, f"{lab}/?lr=-1&layers=1000:tanh")
    status = tab.page.text_content("#status")
    assert "refused" in status and "lr: Input should be greater than 0" in status
    assert server_config(lab, tab.session)["lr"] == 0.03
    assert tab.query()["lr"] == "0.03"  # the URL now holds what is really running
    # The browser logs the refused request itself; nothing else went wrong.
    assert [e for e in tab.errors if "status of 422" not in e] == []
    tab.page.close()
