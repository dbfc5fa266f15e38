"""Fonts for figures in a language whose letters matplotlib's default font lacks (Korean).

Matplotlib's DejaVu Sans has no Hangul: a Korean label would come out as empty boxes, with a
"Glyph … missing from font" warning. NanumGothic ships in the wheel of the ``koreanize-matplotlib``
package (a dependency of whynet); we register its files with matplotlib's font manager *without*
importing ``koreanize_matplotlib``, whose import changes the global rcParams of every figure.

:func:`figure_fonts` is the one place that chooses the font family of a figure for a language;
the report renders every figure inside it. The family is a list: DejaVu Sans first, so Latin
letters, digits and symbols look as in the English figures, and NanumGothic behind it for the
Hangul, matplotlib falling back glyph by glyph. Not the other way round: mathtext (the
``$10^{-2}$`` tick labels of a log axis) takes only the first family and does not fall back, and
NanumGothic lacks the minus sign U+2212.
"""

from __future__ import annotations

import importlib.util
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from ..errors import ConfigError
from ..i18n import _

FONT_PACKAGE = "koreanize-matplotlib"
"""The PyPI package whose wheel ships the Hangul font."""
HANGUL_FAMILY = "NanumGothic"
FIRST_FAMILY = "DejaVu Sans"  # matplotlib's own font: Latin, digits, minus sign, ±, Greek
FONT_FILES = ("NanumGothic.ttf", "NanumGothicBold.ttf")
NEEDS_HANGUL = ("ko",)
"""Languages whose figures need a Hangul font."""


def _font_dir() -> Path | None:
    """The ``fonts`` folder of the installed koreanize_matplotlib, found without importing it."""
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "fonts"


@lru_cache(maxsize=1)
def register_hangul_font() -> str:
    """Add NanumGothic (regular and bold) to matplotlib's font manager, once; its family name.

    Raises :class:`~whynet.errors.ConfigError` naming the package when the font is not there.
    """
    from matplotlib import font_manager

    folder = _font_dir()
    files = [folder / name for name in FONT_FILES] if folder else []
    if not files or not files[0].is_file():
        raise ConfigError(_("figures in Korean need the {hangul_family} font from the "
                            "{font_package} package, which is not installed: pip install "
                            "{font_package}")
                            .format(hangul_family=HANGUL_FAMILY, font_package=FONT_PACKAGE))
    for f in files:
        if f.is_file():
            font_manager.fontManager.addfont(str(f))
    return font_manager.FontProperties(fname=str(files[0])).get_name()


def font_rc(lang: str) -> dict:
    """The rcParams that make figure text in ``lang`` render: ``{}`` when matplotlib's default
    font has the letters, else DejaVu Sans with the Hangul font behind it."""
    if lang not in NEEDS_HANGUL:
        return {}
    family = register_hangul_font()
    return {"font.family": [FIRST_FAMILY, family], "font.sans-serif": [FIRST_FAMILY, family]}


@contextmanager
def figure_fonts(lang: str):
    """Draw figures for ``lang`` inside this block (figures made *and* saved in it)."""
    import matplotlib

    with matplotlib.rc_context(font_rc(lang)):
        yield
