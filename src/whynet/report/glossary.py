"""The report's glossary: terms read from ``glossary.toml`` and linked from their first use.

``glossary.toml`` holds one table per term, keyed by a stable id (the anchor is ``g-<key>``)::

    [ece]
    term = "expected calibration error (ECE)"
    aliases = ["ECE", "expected calibration error"]
    definition = "…"

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

FIELDS = ("term", "aliases", "definition")


@dataclass(frozen=True)
class Term:
    key: str
    term: str
    aliases: tuple[str, ...]
    definition: str

    @property
    def anchor(self) -> str:
        return f"g-{self.key}"


def parse_glossary(text: str, name: str = "glossary.toml") -> dict[str, Term]:
    """Terms from TOML text, checked: every field present and no unknown ones, keys of lower-case
    letters, digits and ``_``, and no alias claimed by two terms (it could link to only one)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{name}: not valid TOML ({e})") from e
    terms, owner = {}, {}
    for key, entry in data.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key) or not isinstance(entry, dict):
            raise ConfigError(f"{name}: [{key}] must be a table with a lower-case key")
        unknown, missing = set(entry) - set(FIELDS), set(FIELDS) - set(entry)
        if unknown or missing:
            raise ConfigError(f"{name}: [{key}] has unknown {sorted(unknown)} / missing "
                              f"{sorted(missing)} fields; allowed: {', '.join(FIELDS)}")
        for alias in entry["aliases"]:
            if alias.lower() in owner:
                raise ConfigError(f"{name}: alias {alias!r} of [{key}] is also an alias of "
                                  f"[{owner[alias.lower()]}]")
            owner[alias.lower()] = key
        terms[key] = Term(key, entry["term"], tuple(entry["aliases"]), entry["definition"])
    return terms


@lru_cache(maxsize=1)
def load_glossary() -> dict[str, Term]:
    """The glossary shipped with whynet (``whynet/report/glossary.toml``)."""
    text = resources.files("whynet.report").joinpath("glossary.toml").read_text("utf-8")
    return parse_glossary(text)


def _is_acronym(alias: str) -> bool:
    return not any(c.islower() for c in alias)


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
        parts = [re.escape(str(escape(a))) if _is_acronym(a) else
                 f"(?i:{re.escape(str(escape(a)))})" for a, _ in aliases]
        self._pattern = (re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w-])")
                         if parts else None)

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
