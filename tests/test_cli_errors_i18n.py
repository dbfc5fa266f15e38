"""The CLI's error messages in the language in force (issue 15).

The bad-input battery of test_bad_inputs.py runs again here, every case of it that goes through
the command line (each test that calls its ``cli_error``), with ``--lang qps`` given to the
group: the pseudo-locale wraps every translated message in ⟦…⟧, so a word of an ``error:`` line
outside the brackets is a message that bypassed the catalogue — a raise site (or a click string)
not marked. Values, paths and names the user gave stay as they are: with the brackets removed
the line is the English one, and the battery's own checks (``match=``) hold on it.
A handful of cases run under ``--lang ko``: Hangul, and still the bad input named.
"""

from __future__ import annotations

import ast
import gettext
import inspect
import os
import re
import string
from pathlib import Path

import pytest
from click.testing import CliRunner

import test_bad_inputs as battery
from whynet import cli
from whynet.errors import ConfigError, check_int
from whynet.i18n import current_language, use_language

SRC = Path(__file__).resolve().parents[1] / "src" / "whynet"
OPEN, CLOSE = "⟦", "⟧"
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def outside(text: str) -> str:
    """The characters of ``text`` outside every ⟦…⟧ (nested brackets count once)."""
    depth, kept = 0, []
    for ch in text:
        if ch == OPEN:
            depth += 1
        elif ch == CLOSE:
            depth = max(depth - 1, 0)
        elif depth == 0:
            kept.append(ch)
    return "".join(kept)


def untranslated_words(line: str, args) -> list[str]:
    """English words of an ``error:`` line outside the pseudo-locale's brackets, leaving out
    the arguments the user gave, quoted names and values, paths, option names and a question
    file's ``[table] key``."""
    text = outside(line.removeprefix("error: "))
    for arg in sorted(map(str, args), key=len, reverse=True):
        text = text.replace(arg, " ")
    text = re.sub(r"'[^']*'|\"[^\"]*\"", " ", text)
    text = re.sub(r"\[\w+\] [\w.]+", " ", text)  # a question file's "[table] key": identifiers
    text = re.sub(r"\S*[/\\]\S*|--?[\w-]+", " ", text)
    return ENGLISH_WORD.findall(text)


ORIGINAL_CLI_ERROR = battery.cli_error
SEEN: list[str] = []


def pseudo_cli_error(args, files=(), status=2, match=None) -> str:
    """The battery's ``cli_error`` under ``whynet --lang qps``: one ``error:`` line whose words
    are all inside ⟦…⟧; returns it without the brackets (the English line) for the battery's
    own checks."""
    args = [str(a) for a in args]
    line = ORIGINAL_CLI_ERROR(["--lang", "qps", *args], files, status)
    words = untranslated_words(line, args)
    assert not words, f"untranslated {words} in {line!r}"
    assert OPEN in line, f"no translated message in {line!r}"
    english = line.replace(OPEN, "").replace(CLOSE, "")
    if match is not None:
        assert match in english, english
    SEEN.append(line)
    return english


CLI_CASES = {name: test for name, test in vars(battery).items()
             if name.startswith("test_") and callable(test)
             and "cli_error(" in inspect.getsource(test)}
# Collected again here, under the pseudo-locale (their parameters and fixtures as they are).
globals().update({f"{name}__pseudo_locale": test for name, test in CLI_CASES.items()})


@pytest.fixture(autouse=True)
def _pseudo_locale(request, monkeypatch):
    if request.node.originalname.endswith("__pseudo_locale"):
        monkeypatch.setattr(battery, "cli_error", pseudo_cli_error)


def test_the_battery_is_found():
    # Guards the reuse: a renamed helper would leave nothing to run under the pseudo-locale.
    assert len(CLI_CASES) >= 8 and "test_usage_and_option_errors_are_one_line" in CLI_CASES


def test_the_check_catches_an_unmarked_message(monkeypatch):
    """A raise site that is not marked fails the check: here one raised from train_config."""
    def unmarked(*args, **kwargs):
        raise ConfigError("train: hidden must be layer sizes like 16,16, got 'x'")

    monkeypatch.setattr(cli, "train_config", unmarked)
    with pytest.raises(AssertionError, match=r"untranslated \['hidden', 'must', 'be'"):
        pseudo_cli_error(["train"])


def test_the_check_sees_a_bare_value_as_no_word():
    assert untranslated_words("error: ⟦{x} is bad⟧ (see 'whynet --help') /tmp/a.toml", []) \
        == ["see"]
    assert untranslated_words("error: ⟦⟦a⟧ b⟧ c", ["c"]) == []


KOREAN_CASES = [
    (["train", "--epochs", "0"], ["epochs", "0"]),
    (["train", "--hidden", "0"], ["hidden[0]", "0"]),
    (["train", "--activation", "nope"], ["--activation", "'nope'"]),
    (["train", "--bogus"], ["'--bogus'"]),
    (["nosuchcommand"], ["'nosuchcommand'"]),
    (["run", "zz_nope", "--quick"], ["zz_nope"]),
    (["train", "--config", "/nonexistent/run.toml"], ["/nonexistent/run.toml"]),
]


@pytest.mark.parametrize("args, named", KOREAN_CASES)
@pytest.mark.parametrize("where", ["command", "group"])
def test_korean_error_lines_name_the_bad_input(args, named, where):
    """``--lang ko`` after the command's own arguments (read before click parses them) or at the
    group: the one error line is in Korean and still names what was wrong."""
    full = [*args, "--lang", "ko"] if where == "command" else ["--lang", "ko", *args]
    line = ORIGINAL_CLI_ERROR(full)
    assert HANGUL.search(line), line
    for value in named:
        assert value in line, (value, line)


def test_whynet_lang_env_gives_korean_errors(monkeypatch):
    monkeypatch.setenv("WHYNET_LANG", "ko")
    line = ORIGINAL_CLI_ERROR(["train", "--epochs", "0"])
    assert HANGUL.search(line) and "epochs" in line


def test_english_is_unchanged_without_a_language(monkeypatch):
    for var in ("WHYNET_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    line = ORIGINAL_CLI_ERROR(["train", "--epochs", "0"])
    assert line == "error: train: epochs must be an integer ≥ 1, got 0"


def test_api_errors_follow_the_language_in_force():
    """Python-API users get the language in force too (use_language / WHYNET_LANG)."""
    with use_language("ko"), pytest.raises(ConfigError) as info:
        check_int("Dense", "n_in", 0)
    assert HANGUL.search(str(info.value)) and "Dense" in str(info.value)
    with pytest.raises(ConfigError, match=r"Dense: n_in must be an integer ≥ 1, got 0"):
        check_int("Dense", "n_in", 0)


def test_a_command_leaves_no_language_behind(monkeypatch):
    """Neither whynet's language nor click's ($LANGUAGE, the global gettext domain) outlives an
    in-process command."""
    for var in ("WHYNET_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    domain = gettext.textdomain()
    CliRunner().invoke(cli.main, ["--lang", "ko", "train", "--epochs", "0"])
    assert current_language() == "en" and "LANGUAGE" not in os.environ
    assert gettext.textdomain() == domain


def _formatted_messages():
    """``(file, line, placeholders, keywords)`` of every ``_("…").format(…)`` in whynet."""
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "format" and isinstance(node.func.value, ast.Call)
                    and getattr(node.func.value.func, "id", None) == "_"
                    and node.func.value.args
                    and isinstance(node.func.value.args[0], ast.Constant)):
                continue
            if any(k.arg is None for k in node.keywords):  # **kwargs: not checkable here
                continue
            names = {f.split(".")[0].split("[")[0] for _t, f, _s, _c
                     in string.Formatter().parse(node.func.value.args[0].value) if f}
            yield path.relative_to(SRC), node.lineno, names, {k.arg for k in node.keywords}


def test_every_marked_message_gets_exactly_its_placeholders():
    """A marked message is filled after translation: its .format() must give every named
    placeholder (else a KeyError in some language) and nothing else (a renamed one)."""
    found = list(_formatted_messages())
    assert len(found) > 300  # the raise sites across the library
    wrong = [(str(f), line, sorted(names ^ given)) for f, line, names, given in found
             if names != given]
    assert not wrong, wrong
