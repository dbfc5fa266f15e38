"""The page and its files: ``/`` (the lab, in the request's language), ``/static/…`` (a table
read once at start-up, so no path from a client is ever opened), ``/report`` (the operator's
report, or a page saying how to make one), and the script's catalogue, ``/api/messages``.

``static/index.html`` is a Jinja2 template: every text is ``{{ _("…") }}`` (extracted into the
"lab" catalogue), rendered once per language. Each element whose text or tooltip is translated
carries ``data-i18n``, so the script can switch language in place (it takes the same elements
from the page rendered in the other language) without reloading and ending the session.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from importlib import resources

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from jinja2 import Environment, select_autoescape

from ..i18n import (LANGUAGE_NAMES, LANGUAGES, _, current_language, install_jinja,
                    use_language)
from .messages import catalogue

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'none'")
PAGE_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}
MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
               ".css": "text/css; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml",
               ".md": "text/plain; charset=utf-8", ".LICENSE": "text/plain; charset=utf-8"}
TEMPLATES = frozenset({"index.html"})  # rendered, never served as they are

# A lab query string as the page writes it (URL-encoded keys and values); anything else is dropped.
BACK_QUERY = re.compile(r"[A-Za-z0-9_.,:=&%+-]{1,2000}")

router = APIRouter()


def static_table() -> dict[str, tuple[bytes, str]]:
    """Every file of ``static/`` read once at start-up: URL path → (bytes, media type)."""
    table = {}

    def walk(node, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.is_file():
                suffix = "." + child.name.rsplit(".", 1)[-1] if "." in child.name else ""
                table[prefix + child.name] = (child.read_bytes(),
                                              MEDIA_TYPES.get(suffix, "application/octet-stream"))

    walk(resources.files("whynet.web") / "static", "")
    return table


@lru_cache(maxsize=None)
def _template():
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    install_jinja(env)
    source = (resources.files("whynet.web") / "static" / "index.html").read_text("utf-8")
    return env.from_string(source)


@lru_cache(maxsize=None)
def render_index(lang: str) -> bytes:
    """The lab's page in ``lang`` (cached per language); the switch lists Korean first."""
    with use_language(lang):
        return _template().render(lang=lang, languages=[(code, LANGUAGE_NAMES[code])
                                                        for code in reversed(LANGUAGES)]
                                  ).encode("utf-8")


@router.get("/", include_in_schema=False)
async def index():
    return Response(render_index(current_language()), media_type=MEDIA_TYPES[".html"],
                    headers={**PAGE_HEADERS, "Content-Language": current_language()})


@router.get("/static/{name:path}", include_in_schema=False)
async def static_file(request: Request, name: str):
    static = request.app.state.static
    if name not in static or name in TEMPLATES:
        raise HTTPException(404, _("no static file {name!r}").format(name=name))
    body, media = static[name]
    return Response(body, media_type=media, headers={"X-Content-Type-Options": "nosniff",
                                                     "Cache-Control": "no-cache"})


@router.get("/report", include_in_schema=False)
async def report_page(request: Request, back: str = ""):
    report_html = request.app.state.report_html
    if report_html is not None:
        return Response(report_html, media_type=MEDIA_TYPES[".html"])
    # "Back to the lab" returns to the lab's state: the page passes its query string.
    query = "?" + back.lstrip("?") if BACK_QUERY.fullmatch(back.lstrip("?")) else ""
    return Response(no_report_page(query), status_code=404, media_type=MEDIA_TYPES[".html"],
                    headers={"Content-Security-Policy": CSP})


def no_report_page(query: str) -> bytes:
    """The page ``/report`` shows when no report is served: how to make one, and the way back."""
    e = html.escape
    title, head = e(_("whynet lab: no report")), e(_("No report is served"))
    how = e(_("The lab links each question and preset to its experiment in whynet's HTML report. "
              "Write the report and start the lab with it:"))
    default = e(_("(whynet serve serves report.html of the directory it starts in without being "
                  "told.)"))
    back = e(_("Back to the lab"))
    commands = "whynet run all --quick\nwhynet report -o report.html\nwhynet serve --report report.html"
    return (f'<!doctype html><html lang="{current_language()}"><meta charset="utf-8">'
            f"<title>{title}</title><body style=\"font-family:system-ui,sans-serif;"
            f'max-width:640px;margin:40px auto;line-height:1.5"><h1>{head}</h1><p>{how}</p>'
            f"<pre>{commands}</pre><p>{default}</p>"
            f'<p><a href="/{e(query)}">{back}</a></p></body></html>').encode("utf-8")


@router.get("/api/messages")
async def messages() -> dict:
    """The page's catalogue in the request's language (``?lang=`` or Accept-Language):
    ``{"lang": …, "messages": {msgid: translation}}``; English sends no messages."""
    lang = current_language()
    return {"lang": lang, "messages": catalogue(lang)}
