"""The translation machinery (whynet.i18n) and the state of the catalogues.

The catalogue checks fail when code gains a message that `make i18n` has not extracted, when a
Korean entry is empty or fuzzy, or when a committed .mo lags behind its .po.
"""

from __future__ import annotations

import pytest
from babel.messages import extract, frontend, mofile, pofile

from whynet import i18n
from whynet.errors import ConfigError
from whynet.i18n import _, ngettext, use_language

LOCALE = i18n.LOCALE_DIR
KEYWORDS = {**extract.DEFAULT_KEYWORDS, "N_": None}


def _extracted(domain: str) -> set[str]:
    with open(LOCALE / f"{domain}.cfg") as f:
        method_map, options_map = frontend.parse_mapping_cfg(f)
    found = set()
    for _file, _line, message, _comments, context in extract.extract_from_dir(
            str(LOCALE.parent), method_map, options_map, keywords=KEYWORDS):
        key = message if isinstance(message, str) else message[0]
        found.add((context, key))
    return found


def _catalog(lang: str, domain: str):
    with open(LOCALE / lang / "LC_MESSAGES" / f"{domain}.po", "rb") as f:
        return pofile.read_po(f)


def _entries(catalog) -> dict:
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]): m
            for m in catalog if m.id}


@pytest.mark.parametrize("domain", i18n.DOMAINS)
def test_every_marked_message_is_in_the_catalogue(domain):
    in_code = _extracted(domain)
    for lang in i18n.LANGUAGES[1:]:
        in_po = set(_entries(_catalog(lang, domain)))
        missing = sorted(in_code - in_po, key=str)
        stale = sorted(in_po - in_code, key=str)
        assert not missing, f"{lang}/{domain}.po lacks (run `make i18n`): {missing[:5]}"
        assert not stale, f"{lang}/{domain}.po has messages no code uses: {stale[:5]}"


@pytest.mark.parametrize("domain", i18n.DOMAINS)
def test_every_entry_has_a_translation_that_is_not_fuzzy(domain):
    for lang in i18n.LANGUAGES[1:]:
        for key, m in _entries(_catalog(lang, domain)).items():
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            assert all(s.strip() for s in strings), f"{lang}/{domain}: untranslated {key}"
            assert not m.fuzzy, f"{lang}/{domain}: fuzzy {key}"


@pytest.mark.parametrize("domain", i18n.DOMAINS)
def test_the_compiled_catalogue_matches_its_source(domain):
    for lang in i18n.LANGUAGES[1:]:
        po = _catalog(lang, domain)
        with open(LOCALE / lang / "LC_MESSAGES" / f"{domain}.mo", "rb") as f:
            mo = mofile.read_mo(f)
        # a plural entry's forms: a tuple when read from a .po, a list from a .mo
        want = {k: tuple(m.string) if m.pluralizable else m.string
                for k, m in _entries(po).items()}
        have = {k: tuple(m.string) if m.pluralizable else m.string
                for k, m in _entries(mo).items()}
        assert have == want, f"{lang}/{domain}.mo is older than its .po: run `make i18n`"


def test_placeholders_survive_translation():
    """A translation keeps every {name} of its message (else .format() would fail or lie)."""
    import string

    def names(s):
        return {f for _t, f, _s, _c in string.Formatter().parse(s) if f}

    for domain in i18n.DOMAINS:
        for lang in i18n.LANGUAGES[1:]:
            for key, m in _entries(_catalog(lang, domain)).items():
                ids = m.id if isinstance(m.id, tuple) else (m.id,)
                strings = m.string if isinstance(m.string, tuple) else (m.string,)
                if "python-brace-format" not in m.flags and "{" not in ids[0]:
                    continue
                for s in strings:
                    try:
                        assert names(s) <= names(ids[-1]) | names(ids[0]), (lang, key, s)
                    except ValueError:  # braces that are not placeholders (e.g. JS code)
                        pass


def test_resolve_accepts_locale_spellings_and_refuses_unknown_languages():
    assert i18n.resolve("ko") == "ko"
    assert i18n.resolve("ko_KR.UTF-8") == "ko"
    assert i18n.resolve("ko-KR") == "ko"
    assert i18n.resolve("EN") == "en"
    with pytest.raises(ConfigError, match="unknown language 'fr'.*en, ko"):
        i18n.resolve("fr")


def test_default_language_reads_whynet_lang_then_the_locale(monkeypatch):
    for var in ("WHYNET_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    assert i18n.default_language() == "en"
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    assert i18n.default_language() == "ko"
    monkeypatch.setenv("LC_ALL", "C.UTF-8")  # LC_ALL wins, and C means the source language
    assert i18n.default_language() == "en"
    monkeypatch.setenv("WHYNET_LANG", "ko")
    assert i18n.default_language() == "ko"
    monkeypatch.setenv("WHYNET_LANG", "klingon")
    with pytest.raises(ConfigError, match="WHYNET_LANG='klingon'"):
        i18n.default_language()


def test_use_language_nests_and_restores():
    with use_language("en"):
        with use_language(i18n.PSEUDO):
            assert _("hello") == "⟦hello⟧"
            assert ngettext("{n} run", "{n} runs", 2).format(n=2) == "⟦2 runs⟧"
        assert _("hello") == "hello"
        assert ngettext("{n} run", "{n} runs", 1).format(n=1) == "1 run"


def test_negotiate_follows_the_quality_values():
    assert i18n.negotiate("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7") == "ko"
    assert i18n.negotiate("en-US,en;q=0.9,ko;q=0.8") == "en"
    assert i18n.negotiate("fr;q=1.0, ko;q=0.5") == "ko"
    assert i18n.negotiate("fr, de") == "en"
    assert i18n.negotiate("") == "en"
    assert i18n.negotiate(None) == "en"
    assert i18n.negotiate("ko;q=oops, en;q=0.1") == "en"


def test_jinja_templates_translate_at_render_time():
    from jinja2 import Environment

    env = Environment(autoescape=True)
    i18n.install_jinja(env)
    template = env.from_string("{% trans n=3 %}{{ n }} seeds{% endtrans %} · {{ _('Answer') }}")
    with use_language(i18n.PSEUDO):
        assert template.render() == "⟦3 seeds⟧ · ⟦Answer⟧"
    with use_language("en"):
        assert template.render() == "3 seeds · Answer"

