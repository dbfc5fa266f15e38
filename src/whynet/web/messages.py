"""What the lab says, in the language of the request: the page's message catalogue as JSON, and
refused requests in plain words.

The language of an HTTP request or WebSocket is its ``lang`` query parameter when it names a
language whynet has (:data:`whynet.i18n.LANGUAGES`, or the pseudo-locale), else the best match of
its ``Accept-Language`` header (:func:`whynet.i18n.negotiate`); :class:`LanguageMiddleware` puts it
in force for the whole request, so every ``_()`` on the way (the validators of
:mod:`whynet.web.schema`, the session's errors, the presets) speaks it.

The page's script gets the "lab" catalogue (``locale/<lang>/LC_MESSAGES/lab.mo``) as one JSON
object, ``msgid → translation``, from ``GET /api/messages``: one catalogue for the server's
sentences and the page's, no second dictionary in JavaScript.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache
from urllib.parse import parse_qs

from babel.support import Translations

from ..i18n import LANGUAGES, LOCALE_DIR, PSEUDO, N_, _, current_language, negotiate, use_language
from .schema import LabConfig

#: pydantic's error types → the same sentence, marked for translation (its placeholders are the
#: error's ``ctx``). English keeps pydantic's own wording; a type not listed here stays English.
PYDANTIC_MESSAGES = {
    "greater_than": N_("Input should be greater than {gt}"),
    "greater_than_equal": N_("Input should be greater than or equal to {ge}"),
    "less_than": N_("Input should be less than {lt}"),
    "less_than_equal": N_("Input should be less than or equal to {le}"),
    "too_long": N_("List should have at most {max_length} items"),
    "too_short": N_("List should have at least {min_length} item(s)"),
    "string_too_long": N_("String should have at most {max_length} characters"),
    "literal_error": N_("Input should be {expected}"),
    "enum": N_("Input should be {expected}"),
    "int_parsing": N_("Input should be a valid integer"),
    "int_type": N_("Input should be a valid integer"),
    "int_from_float": N_("Input should be a whole number"),
    "float_parsing": N_("Input should be a valid number"),
    "float_type": N_("Input should be a valid number"),
    "finite_number": N_("Input should be a finite number"),
    "bool_parsing": N_("Input should be a valid boolean (true or false)"),
    "bool_type": N_("Input should be a valid boolean (true or false)"),
    "string_type": N_("Input should be a valid string"),
    "list_type": N_("Input should be a valid list"),
    "model_attributes_type": N_("Input should be an object"),
    "dict_type": N_("Input should be an object"),
    "model_type": N_("Input should be an object"),
    "missing": N_("Field required"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "string_pattern_mismatch": N_("String should match pattern '{pattern}'"),
}


def _query_language(raw: bytes) -> str | None:
    lang = parse_qs(raw.decode("latin-1")).get("lang", [""])[0].lower()
    return lang if lang in LANGUAGES or lang == PSEUDO else None


def scope_language(scope) -> str:
    """The language of an ASGI request: ``?lang=``, else its Accept-Language, else English.

    An Accept-Language of exactly the pseudo-locale's code counts too: the page's own requests
    send its language there, and a session created in English would stream English findings
    until the page's next request switched it."""
    chosen = _query_language(scope.get("query_string", b""))
    if chosen:
        return chosen
    headers = dict(scope.get("headers") or ())
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    return PSEUDO if accept.strip().lower() == PSEUDO else negotiate(accept)


class LanguageMiddleware:
    """Puts the request's language (:func:`scope_language`) in force while it is served."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        with use_language(scope_language(scope)):
            return await self.app(scope, receive, send)


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """The "lab" catalogue of ``lang`` as ``msgid → translation`` (English: empty, the script
    shows its msgids; the pseudo-locale: every msgid of the Korean catalogue wrapped in ⟦…⟧)."""
    if lang == LANGUAGES[0]:
        return {}
    source = Translations.load(str(LOCALE_DIR), [LANGUAGES[1] if lang == PSEUDO else lang],
                               "lab")
    entries = {k: v for k, v in getattr(source, "_catalog", {}).items()
               if isinstance(k, str) and k}
    if lang == PSEUDO:
        return {k: f"⟦{k}⟧" for k in entries}
    return entries


def error_line(errors) -> str:
    """One readable line from pydantic's errors: where, what is allowed, what was given."""
    parts = []
    for e in errors:
        if e.get("type") == "json_invalid":
            parts.append(_("malformed JSON at character {at} ({error})").format(
                at=e.get("loc", ("body", "?"))[-1],
                error=e.get("ctx", {}).get("error", "cannot parse")))
            continue
        msg = _error_message(e)
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
        given = e.get("input")
        if isinstance(given, (int, float, str, bool)) and len(repr(given)) <= 40 \
                and e.get("type") != "missing":
            msg += _(", got {value}").format(value=repr(given))
        # A rule over several fields (the model validator) already names them in its message.
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts) or _("invalid request")


def _error_message(e: dict) -> str:
    """pydantic's message of one error, in the language in force (its own rules' messages are
    translated where they are raised: the "Value error, " prefix is dropped)."""
    msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
    template = PYDANTIC_MESSAGES.get(e.get("type", ""))
    if current_language() == LANGUAGES[0] or template is None:
        return msg
    ctx = defaultdict(str, {k: _ctx_value(v) for k, v in (e.get("ctx") or {}).items()})
    if "expected" in ctx:  # pydantic joins the choices with an English "or"
        ctx["expected"] = _choices(ctx["expected"])
    return _(template).format_map(ctx)


def _choices(expected: str) -> str:
    """pydantic's list of allowed values (``'a', 'b' or 'c'``) without its English "or":
    ``'a', 'b', 'c'``, for the translated sentence to say "one of" in its own words."""
    quoted = re.findall(r"'[^']*'", expected)
    items = quoted or [p for p in re.split(r",\s*|\s+or\s+", expected) if p]
    return ", ".join(items)


def _ctx_value(v) -> str:
    """A bound as pydantic writes it: ``0.0`` → ``0``, ``0.5`` → ``0.5``."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def error_fields(errors) -> list[str]:
    """The top-level request fields an error is about (for the page to mark its controls); a
    rule over several fields names them in its message, so they are looked for there."""
    names = []
    for e in errors:
        loc = [p for p in e.get("loc", ()) if p != "body"]
        if loc:
            names.append(str(loc[0]))
        else:
            msg = str(e.get("msg", ""))
            # Not \b: in Korean a particle follows the name directly ("batch_size는").
            found = {m.start(): f for f in LabConfig.model_fields
                     if (m := re.search(rf"(?<![A-Za-z0-9_]){f}(?![A-Za-z0-9_])", msg))}
            names += [found[min(found)]] if found else []  # the field the rule is about
    return list(dict.fromkeys(names))
