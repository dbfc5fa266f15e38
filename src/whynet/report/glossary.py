"""The report's glossary: terms read from ``glossary.toml`` and linked from their first use.

``glossary.toml`` holds one table per term, keyed by a stable id (the anchor is ``g-<key>``),
with a sub-table per translation; it is the one home of whynet's terminology::

    [ece]
    term = "expected calibration error (ECE)"
    aliases = ["ECE", "expected calibration error"]
    definition = "…"

    [ece.ko]
    term = "기대 보정 오차 (ECE)"
    aliases = ["기대 보정 오차"]
    definition = "…"
    terminology = {"calibration error" = "보정 오차"}

``terminology`` maps an English form to the form every translation of a message containing it
must use (tests/test_glossary.py checks the catalogues against it).

:class:`Linker` escapes a text for HTML and turns the first use of each term (any alias, as a
whole word) into a link to its glossary entry. One linker per report section, so that a reader
who jumps to a section still finds its terms linked.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from markupsafe import Markup, escape

from ..errors import ConfigError
from ..i18n import PSEUDO, _

FIELDS = ("term", "aliases", "definition")
TRANSLATED_FIELDS = (*FIELDS, "terminology")
LANGUAGE_KEY = re.compile(r"[a-z]{2,3}")


@dataclass(frozen=True)
class Term:
    """One glossary entry in one language; ``original`` is the English term when this is a
    translation whose term does not already show it (shown next to it, so a learner meets both
    words), else ``""``."""

    key: str
    term: str
    aliases: tuple[str, ...]
    definition: str
    original: str = ""
    translations: tuple = ()  # ((lang, {field: value}), …) as read from the file

    @property
    def anchor(self) -> str:
        return f"g-{self.key}"

    def translation(self, lang: str) -> dict:
        """The ``[key.<lang>]`` table (empty when the file has none)."""
        return dict(self.translations).get(lang, {})

    def localised(self, lang: str) -> "Term":
        """This term in ``lang``: its ``[key.<lang>]`` table with the English aliases kept (a
        Korean text still writes ReLU or Adam); English where the file has no translation; the
        pseudo-locale wraps the English in ⟦…⟧."""
        if lang == PSEUDO:
            return Term(self.key, f"⟦{self.term}⟧", self.aliases, f"⟦{self.definition}⟧",
                        self.term)
        table = self.translation(lang)
        if not table:
            return self
        shown = self.term.lower() in table["term"].lower()  # "ReLU", "0 중심 (zero-centred)"
        return Term(self.key, table["term"], (*table["aliases"], *self.aliases),
                    table["definition"], "" if shown else self.term)


def parse_glossary(text: str, name: str = "glossary.toml") -> dict[str, Term]:
    """Terms from TOML text, checked: every field present and no unknown ones, keys of lower-case
    letters, digits and ``_``, translations as ``[key.<lang>]`` tables with the same fields (and
    an optional ``terminology``), and no alias claimed by two terms in one language (it could
    link to only one)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(_("{name}: not valid TOML ({reason})")
                            .format(name=name, reason=e)) from e
    terms, owners = {}, {}
    for key, entry in data.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key) or not isinstance(entry, dict):
            raise ConfigError(_("{name}: [{key}] must be a table with a lower-case key")
                                .format(name=name, key=key))
        langs = {k: v for k, v in entry.items()
                 if isinstance(v, dict) and LANGUAGE_KEY.fullmatch(k)}
        english = {k: v for k, v in entry.items() if k not in langs}
        _check_fields(english, FIELDS, FIELDS, f"{name}: [{key}]")
        _claim_aliases(english["aliases"], key, owners.setdefault("en", {}), name)
        for lang, table in langs.items():
            _check_fields(table, TRANSLATED_FIELDS, FIELDS, f"{name}: [{key}.{lang}]")
            _claim_aliases(table["aliases"], key, owners.setdefault(lang, {}), name)
        terms[key] = Term(key, english["term"], tuple(english["aliases"]), english["definition"],
                          translations=tuple(sorted(langs.items())))
    return terms


def _check_fields(entry: dict, allowed, required, where: str) -> None:
    unknown, missing = set(entry) - set(allowed), set(required) - set(entry)
    if unknown or missing:
        raise ConfigError(_("{where} has unknown {unknown} / missing {missing} fields; allowed: "
                            "{allowed}")
                            .format(where=where, unknown=sorted(unknown),
                                    missing=sorted(missing), allowed=', '.join(allowed)))


def _claim_aliases(aliases, key: str, owner: dict, name: str) -> None:
    for alias in aliases:
        if alias.lower() in owner:
            raise ConfigError(_("{name}: alias {alias!r} of [{key}] is also an alias of [{owner}]")
                                .format(name=name, alias=alias, key=key,
                                        owner=owner[alias.lower()]))
        owner[alias.lower()] = key


@lru_cache(maxsize=1)
def read_glossary() -> dict[str, Term]:
    """The glossary shipped with whynet (``whynet/report/glossary.toml``), every language."""
    text = resources.files("whynet.report").joinpath("glossary.toml").read_text("utf-8")
    return parse_glossary(text)


def load_glossary(lang: str = "en") -> dict[str, Term]:
    """The glossary in ``lang`` (see :meth:`Term.localised`)."""
    return {k: t.localised(lang) for k, t in read_glossary().items()}


def terminology(lang: str) -> dict[str, str | list[str]]:
    """English form → the form a ``lang`` translation must use (or the forms it must all
    contain, in any order), from every term's table."""
    return {en: form for t in read_glossary().values()
            for en, form in t.translation(lang).get("terminology", {}).items()}


def _is_acronym(alias: str) -> bool:
    return not any(c.islower() for c in alias) and not _HANGUL.search(alias)


_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _alias_pattern(alias: str) -> str:
    """An alias as a whole word; a Korean one may be followed by a particle (기울기가, 층을)."""
    text = re.escape(str(escape(alias)))
    body = text if _is_acronym(alias) else f"(?i:{text})"
    return rf"(?<![\w-]){body}" + ("" if _HANGUL.search(alias) else r"(?![\w-])")


class Linker:
    """Escape text and link each glossary term's first use (per linker) to its entry.

    ``Linker(terms)("Adam at lr 0.01")`` → ``Markup('<a class="term" href="#g-adam" …>Adam</a>
    at lr 0.01')``. Aliases match as whole words (not inside a longer word or a hyphenated one),
    the longest first, case-insensitively unless the alias has no lower-case letter ("ECE").
    """

    def __init__(self, terms: dict[str, Term]):
        self.terms = terms
        self.used: list[str] = []  # keys linked so far, in order
        aliases = sorted(((a, t.key) for t in terms.values() for a in t.aliases),
                         key=lambda x: -len(x[0]))
        self._exact = {a: k for a, k in aliases}
        self._lower = {a.lower(): k for a, k in aliases if not _is_acronym(a)}
        parts = [_alias_pattern(a) for a, _k in aliases]
        self._pattern = re.compile("|".join(parts)) if parts else None

    def _key(self, found: str) -> str | None:
        return self._exact.get(found) or self._lower.get(found.lower())

    def __call__(self, text) -> Markup:
        html = str(escape(text or ""))
        if self._pattern is None:
            return Markup(html)

        def link(m):
            key = self._key(str(Markup(m.group(0)).unescape()))
            if key is None or key in self.used:
                return m.group(0)
            self.used.append(key)
            t = self.terms[key]
            return (f'<a class="term" href="#{t.anchor}" title="{escape(t.definition)}">'
                    f"{m.group(0)}</a>")

        return Markup(self._pattern.sub(link, html))
