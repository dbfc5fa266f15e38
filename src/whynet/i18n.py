"""Translations: English is the source language, Korean (``ko``) the first translation.

Code marks a user-visible message with ``_("…")`` (translated when called) or, in a module-level
table that is built before any language is chosen, with ``N_("…")`` (marked for extraction only)
and translates it where it is shown, ``_(TABLE[key])``. Placeholders are named and filled after
translation, so a translator can move them: ``_("{k} of {n} seeds agree").format(k=k, n=n)``.
Plural forms: ``ngettext("{n} run", "{n} runs", n).format(n=n)``.

Catalogues (gettext ``.po``, compiled to ``.mo`` by ``make i18n``; both ship in the wheel) live in
``whynet/locale/<lang>/LC_MESSAGES/<domain>.po``, one domain per area, each with its own
extraction map ``whynet/locale/<domain>.cfg``:

========== ====================================================================================
whynet     the CLI, the report's templates, training and the other library messages (errors too)
experiments the answers, rules, evidence labels, "why" paragraphs and figures of the experiments
lab        the web lab (its page and script) and the probes' finding sentences
click      click's own strings that whynet's commands show ("Usage:", "No such option …"): a
           hand-kept catalogue, read by the standard library's gettext (:func:`for_click`)
========== ====================================================================================

The language in force is a context variable (so each web request can have its own):
:func:`use_language` sets it for a block; without one it is :func:`default_language`, from
``WHYNET_LANG``, then the standard ``LC_ALL`` / ``LC_MESSAGES`` / ``LANG`` (``ko_KR.UTF-8`` →
``ko``); anything else is English. ``qps`` is a pseudo-locale that wraps every message in
``⟦…⟧``: rendering with it shows any user-visible string that bypasses the catalogue.

Adding a language ``xx``: ``make i18n-init LANG_NEW=xx``, translate the three ``.po`` files (and
copy ``ko/LC_MESSAGES/click.po`` to translate click's strings), ``make i18n``, and add ``"xx"`` to
:data:`LANGUAGES`.
"""

from __future__ import annotations

import contextvars
import gettext as _gettext
import os
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from babel.messages import Catalog, mofile, pofile
from babel.support import Translations

from . import errors  # errors imports this module too: only its module object here

LANGUAGES = ("en", "ko")
"""Languages a user can choose; the first is the source language."""
LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}
PSEUDO = "qps"
"""The pseudo-locale: every message wrapped in ⟦…⟧ (for tests)."""
DOMAINS = ("whynet", "experiments", "lab")
CLICK_DOMAIN = "click"
"""The catalogue of click's own strings that whynet's commands show (see :func:`for_click`)."""
LOCALE_DIR = Path(__file__).with_name("locale")

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("whynet_language",
                                                                     default=None)


class PseudoTranslations(_gettext.NullTranslations):
    """Every message comes back as ``⟦message⟧`` (placeholders untouched)."""

    def gettext(self, message: str) -> str:
        return f"⟦{message}⟧"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return f"⟦{singular if n == 1 else plural}⟧"

    def pgettext(self, context: str, message: str) -> str:
        return f"⟦{message}⟧"


def resolve(lang: str | None) -> str:
    """The language code for ``lang`` (``"ko"``, ``"ko_KR.UTF-8"``, ``"ko-KR"`` → ``"ko"``);
    ``None`` or ``""`` → :func:`default_language`. An unknown language is an error."""
    if not lang:
        return default_language()
    code = _base(lang)
    if code in LANGUAGES or code == PSEUDO:
        return code
    raise errors.ConfigError(_("unknown language {lang!r}: choose one of {languages}").format(
        lang=lang, languages=", ".join(LANGUAGES)))


def _base(lang: str) -> str:
    """``"ko_KR.UTF-8"`` → ``"ko"``; ``"C"`` / ``"POSIX"`` → ``"c"``."""
    return lang.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()


def default_language() -> str:
    """``WHYNET_LANG`` if set (it must name a known language), else the first of ``LC_ALL``,
    ``LC_MESSAGES``, ``LANG`` that is set, if it is a known language; else English."""
    chosen = os.environ.get("WHYNET_LANG")
    if chosen:
        code = _base(chosen)
        if code not in LANGUAGES and code != PSEUDO:
            raise errors.ConfigError(f"WHYNET_LANG={chosen!r} is not a known language: "
                                     f"choose one of {', '.join(LANGUAGES)}")
        return code
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            code = _base(value)
            return code if code in LANGUAGES else LANGUAGES[0]
    return LANGUAGES[0]


def current_language() -> str:
    """The language in force here: the innermost :func:`use_language`, else the default."""
    return _current.get() or default_language()


@contextmanager
def use_language(lang: str | None):
    """Translate into ``lang`` inside the block (``None``: the default language)."""
    token = _current.set(resolve(lang))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def set_language(lang: str | None) -> str:
    """Set the language for the rest of this context (the CLI calls this once); returns it."""
    code = resolve(lang)
    _current.set(code)
    return code


@contextmanager
def for_click(lang: str):
    """click's own strings ("Usage:", "No such option: …") in ``lang`` inside the block.

    click translates them with the standard library's ``gettext.gettext``: the global domain,
    in the language of ``$LANGUAGE``. For the block, the global domain is whynet's
    :data:`CLICK_DOMAIN` catalogue and ``$LANGUAGE`` is ``lang``; both are put back after.
    """
    saved = os.environ.get("LANGUAGE"), _gettext.textdomain()
    _gettext.bindtextdomain(CLICK_DOMAIN, str(LOCALE_DIR))
    _gettext.textdomain(CLICK_DOMAIN)
    os.environ["LANGUAGE"] = lang
    try:
        yield
    finally:
        if saved[0] is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = saved[0]
        _gettext.textdomain(saved[1])


def write_pseudo_catalogue(domain: str = CLICK_DOMAIN, source: str = "ko") -> Path:
    """Compile the pseudo-locale's ``domain`` catalogue (``make i18n``): every message of
    ``source``'s catalogue as ``⟦message⟧``. Only a catalogue read by gettext itself (click's)
    needs one: whynet's own domains use :class:`PseudoTranslations`."""
    with open(LOCALE_DIR / source / "LC_MESSAGES" / f"{domain}.po", "rb") as f:
        source_catalog = pofile.read_po(f, locale=source)
    # English plural rule (n != 1); the source's date, so that a rerun writes the same bytes
    catalog = Catalog(locale=LANGUAGES[0], domain=domain,
                      creation_date=source_catalog.creation_date)
    for message in source_catalog:
        if message.id:
            wrapped = tuple(f"⟦{i}⟧" for i in message.id) if message.pluralizable \
                else f"⟦{message.id}⟧"
            catalog.add(message.id, wrapped, flags=message.flags)
    out = LOCALE_DIR / PSEUDO / "LC_MESSAGES" / f"{domain}.mo"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as f:
        mofile.write_mo(f, catalog)
    return out


@lru_cache(maxsize=None)
def translations(lang: str) -> _gettext.NullTranslations:
    """The merged catalogues of every domain for ``lang`` (English: the identity)."""
    if lang == PSEUDO:
        return PseudoTranslations()
    if lang == LANGUAGES[0]:
        return _gettext.NullTranslations()
    merged = Translations()
    for domain in DOMAINS:
        loaded = Translations.load(str(LOCALE_DIR), [lang], domain)
        if isinstance(loaded, Translations):  # a missing catalogue loads as NullTranslations
            merged.merge(loaded)
            merged.plural = loaded.plural  # the language's rule (merge keeps English's n != 1)
    return merged


def _(message: str) -> str:
    """``message`` in the language in force."""
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the language in force."""
    return translations(current_language()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` in the language in force, disambiguated by ``context`` (the same English word
    with two meanings: ``pgettext("regularisation", "normalise")``)."""
    return translations(current_language()).pgettext(context, message)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now (module-level tables)."""
    return message


def install_jinja(env) -> None:
    """Give a Jinja2 environment ``{% trans %}`` and ``_()``, translated at render time."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext=_, ngettext=ngettext, pgettext=pgettext, newstyle=True)


def negotiate(accept_language: str | None) -> str:
    """The best of :data:`LANGUAGES` for an HTTP ``Accept-Language`` header
    (``"ko-KR,ko;q=0.9,en;q=0.8"`` → ``"ko"``); English when none matches."""
    ranked = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, _base(tag)))
    for _q, _p, code in sorted(ranked):
        if code in LANGUAGES:
            return code
    return LANGUAGES[0]
