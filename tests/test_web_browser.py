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
        # The controls are built before the stream's first state arrives: wait for it, so that
        # `run` and `step` read now are the session's (not the empty page's 0).
        self.wait("Boolean(document.body.dataset.run)", timeout=20.0)

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
    # Noise 0: the clean spiral (the default 0.1 moves its points by 0.1 × radius 5 = 0.5, a third
    # of the gap between its arms, more than a 2×8 net separates in 3,000 steps).
    tab = Tab(browser, f"{lab}/?layers=8:tanh,8:tanh&opt=adam&lr=0.03&speed=0&noise=0&seed=2")
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
    # more than a quarter (measured: 0.68 → about 0.43); the picture of the boundary changes.
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


def test_the_network_is_drawn_with_one_line_per_weight_whose_width_follows_it(lab, browser):
    tab = Tab(browser, f"{lab}/?layers=4:tanh,2:tanh&features=x1,x2,x1sq")
    tab.wait("document.querySelectorAll('#net-lines path.weight[data-w]').length === 22")
    # 3 inputs → 4 → 2 → 1: 12 + 8 + 2 lines, one bias square per unit (4 + 2 + 1).
    assert tab.js("document.querySelectorAll('#net .bias').length") == 7
    assert tab.js("document.querySelectorAll('#net canvas.input').length") == 3
    lines = tab.js("[...document.querySelectorAll('#net-lines path.weight')].map(p => "
                   "[Number(p.dataset.layer), Number(p.dataset.unit), Number(p.dataset.source), "
                   "Number(p.dataset.w), Number(p.getAttribute('stroke-width'))])")
    net = httpx.get(f"{lab}/api/sessions/{tab.session}").json()["network"]
    for layer, unit, source, w, width in lines:
        assert w == net[layer]["W"][unit][source]  # each line is the weight it says it is
    # Width increases with |w|: sorted by |w|, the widths are sorted too, and not all equal.
    by_w = sorted(lines, key=lambda r: abs(r[3]))
    widths = [r[4] for r in by_w]
    assert widths == sorted(widths) and widths[-1] > widths[0]
    # Hovering a hidden unit shows its map, large, in the output panel; leaving restores it.
    boundary = tab.boundary()
    tab.page.hover("#unit-0-1")
    tab.wait("document.getElementById('boundary-caption').textContent.startsWith('hidden 1, unit 2')")
    assert tab.boundary() != boundary
    tab.page.hover("#dataset")
    tab.wait("document.getElementById('boundary-caption').textContent.startsWith('output')")
    # Hovering a line names its weight.
    tab.page.locator("#net-lines path.hit").first.dispatch_event("mouseenter")
    assert "weight x₁ → hidden 1:1 = " in tab.page.text_content("#net-info")
    assert tab.errors == []
    tab.page.close()


def test_editing_a_weight_by_hand_changes_the_boundary(lab, browser):
    tab = Tab(browser, f"{lab}/?layers=2:tanh")
    tab.wait("document.querySelectorAll('#net-lines path.weight[data-w]').length === 6")
    before = tab.boundary()
    # The last line: hidden unit 2 → output.
    tab.page.locator("#net-lines path.hit").last.dispatch_event("click")
    assert tab.page.is_visible("#param-form")
    assert "hidden 1:2 → output" in tab.page.text_content("#param-name")
    tab.page.fill("#param-value", "-4")
    tab.page.press("#param-value", "Enter")
    tab.wait("[...document.querySelectorAll('#net-lines path.weight')].pop().dataset.w === '-4'")
    assert httpx.get(f"{lab}/api/sessions/{tab.session}").json()["network"][1]["W"][0][1] == -4
    assert tab.boundary() != before and tab.page.is_hidden("#param-form")
    # A bias, the same way.
    tab.page.locator("#net .bias").first.click()
    tab.page.fill("#param-value", "2.5")
    tab.page.press("#param-value", "Enter")
    tab.wait("document.querySelector('#net .bias').dataset.w === '2.5'")
    assert tab.errors == []
    tab.page.close()


def test_a_refused_change_puts_the_controls_and_the_url_back(lab, browser):
    tab = Tab(browser, f"{lab}/?points=40&batch=10")
    run, url = tab.run, tab.page.url
    assert tab.query()["ratio"] == "0.5"
    # 40 points at a training share of 0.1 leave 4 training points: a batch of 10 is refused.
    tab.page.eval_on_selector("#train_ratio", "el => { el.value = '0.1'; "
                              "el.dispatchEvent(new Event('change')); }")
    tab.wait("!document.getElementById('status').hidden")
    status = tab.page.text_content("#status")
    assert status.startswith("Not changed: batch_size must be ≤ the number of training points")
    assert "body" not in status
    tab.wait("document.getElementById('train_ratio').value === '0.5'")
    assert tab.page.url == url and tab.query()["ratio"] == "0.5"
    assert tab.page.text_content("#train_ratio-out") == "0.5"
    assert tab.js("document.getElementById('batch_size').classList.contains('refused')")
    assert server_config(lab, tab.session)["train_ratio"] == 0.5 and tab.run == run
    # The next accepted change clears the mark.
    tab.page.select_option("#dataset", "xor")
    tab.wait_new_run(run)
    assert not tab.js("document.querySelector('.refused')")
    assert [e for e in tab.errors if "status of 422" not in e] == []
    tab.page.close()


def test_eight_tabs_in_one_browser_all_load_and_train(browser):
    # One browser context shares one connection pool (6 HTTP connections per host), as the
    # tabs of one browser window do; the server's own limit is 8 sessions.
    with running_server() as url:
        context = browser.new_context(viewport={"width": 900, "height": 700})
        pages = []
        try:
            for k in range(8):
                page = context.new_page()
                page.goto(f"{url}/?dataset=xor&layers=3:tanh&speed=0&seed={k}")
                pages.append(page)
            for page in pages:
                page.wait_for_selector("body[data-ready='1']", timeout=30_000)
                page.click("#play")
            sessions = set()
            for page in pages:
                end = time.monotonic() + 60
                while page.evaluate("Number(document.body.dataset.step)") <= 20:
                    assert time.monotonic() < end, "a tab did not train"
                    page.wait_for_timeout(100)
                sessions.add(page.evaluate("document.body.dataset.session"))
            assert len(sessions) == 8
            assert httpx.get(f"{url}/api/health").json()["sessions"] == 8
        finally:
            context.close()


def test_the_server_going_away_shows_retrying_and_resets_play(browser):
    with running_server() as url:
        tab = Tab(browser, f"{url}/?speed=0")
        tab.page.click("#play")
        tab.wait("document.body.dataset.playing === '1'")
        manager_url = url
    # The server is gone (the with-block stopped it).
    tab.wait("document.body.dataset.connected === '0'", timeout=15)
    assert tab.page.text_content("#status") == "Server unreachable, retrying…"
    assert tab.js("document.body.dataset.playing") == "0"
    assert tab.page.text_content("#play") == "▶ Play"
    assert manager_url
    tab.page.close()


def test_on_a_phone_the_page_is_no_wider_than_the_screen(lab, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                            has_touch=True)
    page.goto(f"{lab}/?layers=8:relu,8:relu,8:relu,8:relu")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The output picture comes right after the transport bar.
    top = page.evaluate("document.querySelector('.transport').getBoundingClientRect().bottom")
    pic = page.evaluate("document.getElementById('boundary').getBoundingClientRect().top")
    assert pic - top < 200, (top, pic)
    # Touch targets: every visible button and select is at least 40 px high.
    small = page.evaluate("[...document.querySelectorAll('button, select')].filter(e => "
                          "e.offsetParent && !e.closest('#net') && "
                          "e.getBoundingClientRect().height < 40).map(e => e.id || e.textContent)")
    assert small == []
    page.close()


def test_the_unit_buttons_are_touch_targets_on_the_desktop_too(lab, browser):
    tab = Tab(browser, f"{lab}/?layers=4:tanh,2:tanh")
    sizes = tab.js("[...document.querySelectorAll('.unit-buttons button')].map(b => "
                   "[b.getBoundingClientRect().width, b.getBoundingClientRect().height])")
    assert len(sizes) == 4 and all(w >= 40 and h >= 40 for w, h in sizes), sizes
    tab.page.close()


def test_regression_on_the_plane_brings_the_test_loss_down(lab, browser):
    tab = Tab(browser, f"{lab}/?dataset=plane&opt=adam&lr=0.01&speed=0")
    assert tab.js("document.body.dataset.problem") == "regression"
    assert "predicted value" in tab.page.text_content("#boundary-caption")
    loss0 = tab.number("#test-loss")
    tab.page.click("#play")
    tab.wait("Number(document.body.dataset.step) > 600")
    tab.page.click("#play")
    tab.wait("document.body.dataset.playing === '0'")
    loss1 = tab.number("#test-loss")
    assert loss1 < 0.2 * loss0, (loss0, loss1)
    assert tab.page.text_content("#test-acc") == "–"
    assert tab.errors == []
    tab.page.close()


def test_ask_as_a_question_turns_the_running_settings_into_a_question_file(lab, browser, tmp_path):
    from whynet.ask.question import loads_question

    tab = Tab(browser, lab)
    tab.page.click("#ask-box summary")
    tab.page.select_option("#ask-dimension", "activation")
    assert tab.page.input_value("#ask-values") == "relu, tanh"
    tab.page.click("#ask-make")
    tab.wait("!document.getElementById('ask-toml').hidden")
    text = tab.page.input_value("#ask-toml")
    assert 'activation = ["relu", "tanh"]' in text and 'compare = "activation"' in text
    loads_question(text, "from-the-lab.toml")  # it runs with `whynet ask` as it is
    href = tab.page.get_attribute("#ask-download", "href")
    assert href.startswith("data:application/toml") and "compare" in href
    tab.page.fill("#ask-values", "relu")  # one value is not a comparison: said, nothing shown
    tab.page.click("#ask-make")
    tab.wait("!document.getElementById('ask-error').hidden")
    assert tab.page.text_content("#ask-error").startswith("Not a question yet: ")
    assert [e for e in tab.errors if "status of 422" not in e] == []  # the browser logs the 422
    tab.page.close()
