"""The command line in the language in force: one ``--lang`` option for every command, option and
command help translated when it is shown, and click's own words ("Usage:", "No such option",
"Invalid value for …") from whynet's catalogue.

* Help texts are marked ``N_("…")`` where they are declared (at import, before any language is
  chosen) and translated each time click reads them: :class:`Option`, :class:`Command` and
  :class:`Group` read their ``help`` through :func:`whynet.i18n._`.
* click translates its own strings with the standard library's ``gettext.gettext`` (the global
  domain, chosen by ``$LANGUAGE``). whynet ships those it can show in a catalogue of their own,
  ``locale/<lang>/LC_MESSAGES/click.po``, and points the global domain at it while a command runs
  (:func:`whynet.i18n.for_click`); nothing of click is patched.
* click parses a command line before any option's callback runs, so its parse errors and a
  ``--help`` given before ``--lang`` would come out in the default language: :func:`language_in`
  reads ``--lang`` from the arguments first (the option and its callback still check it).
"""

from __future__ import annotations

import click

from .i18n import LANGUAGES, N_, _, set_language


class _TranslatedHelp:
    """``help`` (and ``short_help``) stored as marked and read back in the language in force,
    with ``help_args`` filled in after translation."""

    help_args: dict = {}

    @property
    def help(self):
        return _(self._help).format(**self.help_args) if self._help else self._help

    @help.setter
    def help(self, value):
        self._help = value

    @property
    def short_help(self):
        return _(self._short_help) if self._short_help else self._short_help

    @short_help.setter
    def short_help(self, value):
        self._short_help = value

    def get_help_option(self, ctx):
        """click's ``--help``, its help in the language in force (click keeps the option it
        made first, with the help text of that moment's language)."""
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = _("Show this message and exit.")
        return option


class Option(_TranslatedHelp, click.Option):
    """A click option whose help (marked ``N_``) is shown in the language in force;
    ``help_args`` fill its named placeholders."""

    def __init__(self, *args, help_args: dict | None = None, **kwargs):
        self.help_args = help_args or {}
        super().__init__(*args, **kwargs)


class Command(_TranslatedHelp, click.Command):
    """A click command whose help (``help=N_("…")``) is shown in the language in force."""


class Group(_TranslatedHelp, click.Group):
    """A click group whose help and whose commands' help are shown in the language in force."""

    command_class = Command


def option(*names, **attrs):
    """``click.option`` with translated help (:class:`Option`)."""
    return click.option(*names, cls=Option, **attrs)


def language_in(args) -> str | None:
    """The value of the last ``--lang X`` or ``--lang=X`` in the command line ``args`` (up to a
    ``--``), None when there is none."""
    found = None
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(args):
            found = args[i + 1]
        elif arg.startswith("--lang="):
            found = arg.partition("=")[2]
    return found


def _set_language(ctx, param, value):
    """``--lang`` for everything the command prints (no ``--lang``: keep the language the group
    or the environment chose)."""
    if value is not None:
        set_language(value)


lang_option = option("--lang", default=None, callback=_set_language, expose_value=False,
                     is_eager=True, metavar="LANG",
                     help=N_("Language of the output, the help and the error messages: "
                             "{languages} (default $WHYNET_LANG, then the locale, else en)."),
                     help_args={"languages": ", ".join(LANGUAGES)})
