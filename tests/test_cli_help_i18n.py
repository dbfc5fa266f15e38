"""`--lang` on every command, help texts and click's own strings in the language in force
(issue 15).

Option and command help is marked where it is declared and translated when shown
(whynet.cli_lang); click's own strings ("Usage:", "Options", "Show this message and exit.",
"No such option …") come from the hand-kept catalogue locale/<lang>/LC_MESSAGES/click.po, checked
here against the installed click.
"""

from __future__ import annotations

import os
import string

import click
import pytest
from babel.messages import extract, mofile, pofile
from click.testing import CliRunner

from whynet import cli_lang, i18n
from whynet.cli import main
from whynet.i18n import use_language

COMMANDS = sorted(main.commands)
CLICK_PO = i18n.LOCALE_DIR / "ko" / "LC_MESSAGES" / f"{i18n.CLICK_DOMAIN}.po"


@pytest.fixture(autouse=True)
def _no_language_from_the_environment(monkeypatch):
    for var in ("WHYNET_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)


def invoke(*args):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_every_command_is_covered():
    assert {"ask", "claims", "export", "list", "report", "run", "search", "serve",
            "train"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_the_one_lang_option(command):
    """Each subcommand has --lang, the one definition of cli_lang (its callback), and its help
    comes out in Korean with --lang given after --help (read before click parses)."""
    params = {p.name: p for p in main.commands[command].params}
    assert "lang" in params and params["lang"].callback is cli_lang._set_language
    out = invoke(command, "--help", "--lang", "ko")
    assert "사용법:" in out and "옵션:" in out and "이 도움말을 보여 주고 끝냅니다." in out
    assert "--lang LANG" in out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_text_goes_through_the_catalogue(command):
    """Under the pseudo-locale every option's help and the command's help come back wrapped:
    none was declared without the translating classes."""
    cmd = main.commands[command]
    with use_language("qps"):
        assert cmd.help.startswith("⟦"), cmd.help
        for param in cmd.params:
            if isinstance(param, click.Option) and param.help:
                assert isinstance(param, cli_lang.Option), param.name
                assert param.help.startswith("⟦"), (param.name, param.help)


def test_group_help_in_korean_at_the_group_and_from_the_environment(monkeypatch):
    out = invoke("--lang", "ko", "--help")
    assert "사용법: " in out and "명령:" in out and "버전을 보여 주고 끝냅니다." in out
    assert "신경망 실험실" in out and "이름으로 고른 데이터셋에 MLP를 훈련하고" in out
    monkeypatch.setenv("WHYNET_LANG", "ko")
    assert "결과를 JSON으로 출력합니다." in invoke("run", "--help")


def test_help_stays_english_without_a_language():
    out = invoke("train", "--help")
    assert "Usage:" in out and "Show this message and exit." in out
    assert "Fit an MLP on a named data set" in out and "사용법" not in out


def test_lang_at_the_group_reaches_the_command_output(tmp_path):
    """`whynet --lang ko <cmd>`: the group's --lang holds for the command (its own absent)."""
    store = tmp_path / "runs.sqlite"
    r = CliRunner().invoke(main, ["--lang", "ko", "claims", "--store", str(store)])
    assert r.exit_code == 2 and "결과 저장소" in r.stderr


def _click_messages() -> dict:
    """click's translatable strings, extracted from the installed click."""
    found = {}
    for _file, _line, message, _comments, _context in extract.extract_from_dir(
            os.path.dirname(click.__file__)):
        key = message if isinstance(message, str) else message[0]
        found[key] = message
    return found


def _placeholders(text: str) -> set:
    return {f for _t, f, _s, _c in string.Formatter().parse(text) if f}


def test_the_click_catalogue_holds_clicks_own_strings_all_translated():
    with open(CLICK_PO, "rb") as f:
        catalog = pofile.read_po(f)
    ours = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    theirs = _click_messages()
    gone = sorted(set(ours) - set(theirs))
    assert not gone, f"click no longer has {gone}: update {CLICK_PO.name}"
    for key, m in ours.items():
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        assert all(s.strip() for s in strings) and not m.fuzzy, key
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        allowed = set().union(*(_placeholders(i) for i in ids))
        assert all(_placeholders(s) <= allowed for s in strings), key
    for needed in ("Usage:", "Options", "Commands", "Show this message and exit.",
                   "No such option {name!r}.", "Invalid value for {param_hint}: {message}"):
        assert needed in ours, needed


@pytest.mark.parametrize("lang", ["ko", i18n.PSEUDO])
def test_the_compiled_click_catalogues_are_current(lang):
    """ko/click.mo is compiled from ko/click.po, and qps/click.mo wraps the same messages
    (`make i18n` writes both)."""
    def read(path, reader):
        with open(path, "rb") as f:
            return {_forms(m.id): _forms(m.string) for m in reader(f) if m.id}

    po = read(CLICK_PO, pofile.read_po)
    mo = read(i18n.LOCALE_DIR / lang / "LC_MESSAGES" / f"{i18n.CLICK_DOMAIN}.mo", mofile.read_mo)
    assert set(mo) == set(po)
    want = po if lang == "ko" else {ids: tuple(f"⟦{i}⟧" for i in ids) for ids in po}
    assert mo == want


def _forms(text) -> tuple:
    """A message's id or string as a tuple of its forms (one, or the plural forms)."""
    return tuple(text) if isinstance(text, (list, tuple)) else (text,)
