"""The glossary is whynet's one list of terms: every entry is translated, and every translated
message of every catalogue uses the glossary's Korean form of each term its English contains."""

from __future__ import annotations

import re

import pytest
from babel.messages import pofile

from whynet import i18n
from whynet.errors import ConfigError
from whynet.report.glossary import Linker, load_glossary, parse_glossary, read_glossary, terminology

EXCEPTIONS: dict[tuple[str, str, str], str] = {
    ("experiments", " hidden layers.", "hidden layers"):
        "the end of a sentence cut in three messages (a2_relu_speed.py): 은닉층 is in the "
        "message before it, this one says only the counter 개",
    ("experiments", "The L1 penalty λ·Σ|w| pulls every weight towards zero", "loss"):
        "'little loss of accuracy' is the everyday word: 정확도를 거의 잃지 않고",
}
"""(domain, the msgid's beginning, English form) → why that translation may say that form
another way than the glossary's. Keep it short: each entry is a place where the terminology does
not fit, with the reason."""


def _excepted(domain: str, msgid: str, english: str) -> bool:
    return any(d == domain and msgid.startswith(start) and en == english
               for d, start, en in EXCEPTIONS)


def _form_pattern(forms) -> re.Pattern:
    """The English forms as whole words (not inside a longer or hyphenated word), longest first,
    so that "gradient descent" is one term and not "gradient" plus a word."""
    ordered = sorted(forms, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, ordered)) + r")(?![\w-])",
                      re.IGNORECASE)


def _uses(translation: str, english: str, forms) -> bool:
    """Whether ``translation`` says ``english`` the glossary's way: every one of its ``forms``
    (a string or a list) is in it, or it keeps the English word as it is (a name, a quoted
    title, a field name: "“Random initialization” 절", "layer는 0부터…")."""
    forms = [forms] if isinstance(forms, str) else forms
    kept = re.search(rf"(?<![\w-]){re.escape(english)}(?![\w-])", translation, re.IGNORECASE)
    return bool(kept) or all(f in translation for f in forms)


def terminology_violations(lang: str, catalogues) -> list[tuple[str, str, str, str]]:
    """``(domain, msgid, English form, expected form)`` for every translated message whose
    English contains a glossary form and whose translation does not use it (:func:`_uses`).
    ``catalogues``: ``{domain: babel Catalog}``."""
    forms = terminology(lang)
    lower = {en.lower(): target for en, target in forms.items()}
    pattern = _form_pattern(forms)
    out = []
    for domain, catalog in catalogues.items():
        for m in catalog:
            if not m.id:
                continue
            ids = m.id if isinstance(m.id, tuple) else (m.id,)
            strings = [s for s in (m.string if isinstance(m.string, tuple) else (m.string,)) if s]
            used = {hit.group(0).lower() for text in ids
                    for hit in pattern.finditer(CODE_AND_PLACEHOLDERS.sub(" ", text))}
            out += [(domain, _key(m), en, lower[en]) for en in sorted(used)
                    if not all(_uses(s, en, lower[en]) for s in strings)
                    and not _excepted(domain, _key(m), en)]
    return out


CODE_AND_PLACEHOLDERS = re.compile(r"<code>.*?</code>|<[^>]+>|%\(\w+\)[sd]|\{\w*\}")
"""Not words of the message: code, markup, and placeholders named after a term ({seeds})."""


def _key(m) -> str:
    return m.id if isinstance(m.id, str) else m.id[0]


def _catalogues(lang: str) -> dict:
    out = {}
    for domain in i18n.DOMAINS:
        with open(i18n.LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po", "rb") as f:
            out[domain] = pofile.read_po(f)
    return out


@pytest.mark.parametrize("lang", i18n.LANGUAGES[1:])
def test_every_translation_uses_the_glossary_terms(lang):
    wrong = terminology_violations(lang, _catalogues(lang))
    assert not wrong, f"{len(wrong)} {lang} translations do not use the glossary's term " \
        "(report/glossary.toml, terminology): " + "; ".join(
            f"{d}: {msgid[:60]!r} has {en!r}, so wants {want!r}"
            for d, msgid, en, want in wrong[:12])


def test_every_exception_names_a_message_that_exists():
    catalogues = _catalogues(i18n.LANGUAGES[1])
    for domain, start, english in EXCEPTIONS:
        assert any(_key(m).startswith(start) and english in _key(m).lower()
                   for m in catalogues[domain] if m.id), (domain, start)


def test_the_terminology_check_finds_a_wrong_term_and_prefers_the_longest_form():
    from babel.messages.catalog import Catalog

    cat = Catalog(locale="ko")
    cat.add("The vanishing gradient problem", "기울기 소실 문제")
    cat.add("Plain gradient descent", "보통의 경사 하강법")        # not "gradient": a term of its own
    cat.add("The learning rate is too high", "러닝 레이트가 너무 큽니다")  # wrong: 학습률
    cat.add("{n} epochs", "{n} 에포크")                             # wrong: 에폭
    cat.add("Switch to He initialisation", "초기화를 He로 바꾸세요")   # both forms, any order
    cat.add("section “Random initialization”", "“Random initialization” 절")  # a title kept
    cat.add("Exploding gradients", "기울기 폭발")                    # wrong: 폭주
    wrong = terminology_violations("ko", {"whynet": cat})
    assert [(m, en) for _d, m, en, _w in wrong] == [
        ("The learning rate is too high", "learning rate"), ("{n} epochs", "epochs"),
        ("Exploding gradients", "exploding gradients")]


@pytest.mark.parametrize("lang", i18n.LANGUAGES[1:])
def test_every_glossary_entry_is_translated(lang):
    for key, term in read_glossary().items():
        table = term.translation(lang)
        assert table and table["term"].strip() and table["definition"].strip(), \
            f"glossary.toml: [{key}] has no [{key}.{lang}] table"
        for en, forms in table.get("terminology", {}).items():
            forms = [forms] if isinstance(forms, str) else forms
            assert en.strip() and forms and all(f.strip() for f in forms), (key, en)


def test_the_korean_glossary_links_korean_words_with_their_particles():
    terms = load_glossary("ko")
    html = str(Linker(terms)("은닉층에서 기울기 소실이 일어나고, 배치 정규화가 그것을 막습니다"))
    assert 'href="#g-vanishing_gradient"' in html and 'href="#g-batch_norm"' in html
    assert '<a class="term" href="#g-normalisation"' not in html  # 배치 정규화 is one term
    assert terms["batch_norm"].original == "batch normalisation (BN)"


def test_pseudo_glossary_is_wrapped_and_unknown_languages_keep_english():
    pseudo = load_glossary(i18n.PSEUDO)["relu"]
    assert pseudo.term == "⟦ReLU⟧" and pseudo.definition.startswith("⟦")
    assert load_glossary("xx")["relu"].term == "ReLU"


def test_a_translation_table_is_checked_like_an_entry():
    base = '[a]\nterm="a"\naliases=["x"]\ndefinition="d"\n'
    with pytest.raises(ConfigError, match=r"\[a.ko\] has unknown \['meaning'\]"):
        parse_glossary(base + '[a.ko]\nterm="가"\naliases=[]\ndefinition="뜻"\nmeaning="?"\n')
    with pytest.raises(ConfigError, match=r"\[a.ko\] .*missing \['definition'\]"):
        parse_glossary(base + '[a.ko]\nterm="가"\naliases=[]\n')
    with pytest.raises(ConfigError, match="alias '가' of \\[b\\] is also an alias of \\[a\\]"):
        parse_glossary(base + '[a.ko]\nterm="가"\naliases=["가"]\ndefinition="뜻"\n'
                       '[b]\nterm="b"\naliases=[]\ndefinition="d"\n'
                       '[b.ko]\nterm="나"\naliases=["가"]\ndefinition="뜻"\n')
