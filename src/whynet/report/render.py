"""Gather verdicts, numbers and figures from the store and render them with a Jinja2 template.

The report has one section per question, in the catalogue's order: the note's claim with its file
and page, the one-line answer, the key figure (an experiment's first), the evidence table, the rule
that decided it, what it depends on, the published baseline, the "why" paragraph, the other
figures and the long sentence. Verdicts are data (:class:`~whynet.experiments.base.Verdict`);
this module only renders them.

Figures are drawn under :data:`REPORT_RC` and embedded at their natural size (one figure inch is
one inch of the page, :data:`CSS_PX_PER_INCH`), so a 9 pt label reads as 9 pt; text an experiment
set smaller than :data:`MIN_PT` (as it appears in the page) is raised to it.
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import os
import platform
import re
import struct
import sys
from pathlib import Path

from babel.numbers import format_decimal
from jinja2 import Environment, PackageLoader, select_autoescape

from .. import __version__
from ..atomic import replacing
from ..errors import check_file_path
from ..experiments import registry
from ..experiments.base import Stat, format_number
from ..experiments.questions import (NOTES, translated_groups, translated_known_corrections,
                                     translated_notes, translated_questions)
from ..i18n import LANGUAGES, N_, _, current_language, install_jinja, ngettext, use_language
from ..runner import choose_quick, claims, collect, evaluate
from . import status as _status
from .fonts import figure_fonts
from .glossary import Linker, load_glossary

FIGURE_DPI = 144          # 1.5 image pixels per CSS pixel: sharp on high-density screens
CSS_PX_PER_INCH = 96      # CSS's inch: an image this many CSS px per figure inch is at 1:1
CONTENT_PX = 950          # the widest a figure is shown (the page's column, inside the frame)
MIN_PT = 9.0              # no text smaller than this, as it appears in the page
REPORT_RC = {"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10,
             "xtick.labelsize": 9, "ytick.labelsize": 9, "legend.fontsize": 9,
             "figure.titlesize": 11, "legend.title_fontsize": 9}


# -- figures ---------------------------------------------------------------------------------

def _shown_scale(width_in: float) -> float:
    """CSS px on the page per CSS px of the figure's natural size (1 unless it is too wide)."""
    return min(1.0, CONTENT_PX / (width_in * CSS_PX_PER_INCH))


def _texts(fig):
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def enforce_min_font(fig, min_pt: float = MIN_PT) -> float:
    """Raise every text of ``fig`` that would appear below ``min_pt`` on the page to it.

    A figure wider than the page's column is shown shrunk, so its floor is ``min_pt / scale``.
    Tick labels are set through ``tick_params`` too, so that ticks made at draw time follow.
    Returns the floor used, in figure points.
    """
    floor = min_pt / _shown_scale(fig.get_size_inches()[0])
    fig.draw_without_rendering()  # creates the tick labels, legends' texts, …
    raised = False
    for ax in fig.axes:
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            for which, ticks in (("major", axis.get_major_ticks()),
                                 ("minor", axis.get_minor_ticks())):
                if ticks and ticks[0].label1.get_fontsize() < floor:
                    ax.tick_params(axis=name, which=which, labelsize=floor)
                    raised = True
    for t in _texts(fig):
        if t.get_fontsize() < floor:
            t.set_fontsize(floor)
            raised = True
    if raised:
        _unclash_xticklabels(fig)
    return floor


def _unclash_xticklabels(fig) -> None:
    """Tilt an axis' x tick labels by 30° where raising them made neighbours overlap."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw_without_rendering()
    for ax in fig.axes:
        labels = [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text().strip()]
        boxes = sorted((t.get_window_extent(renderer) for t in labels), key=lambda b: b.x0)
        if any(a.x1 > b.x0 for a, b in zip(boxes, boxes[1:])):
            for t in labels:
                t.set_rotation(30)
                t.set_horizontalalignment("right")
                t.set_rotation_mode("anchor")


def _png_width(png: bytes) -> int:
    return struct.unpack(">I", png[16:20])[0]  # IHDR: width, then height, big-endian


def render_figure(fig) -> dict:
    """A matplotlib Figure as ``{"src": data URI, "width": CSS px, "min_pt": pt}``, released.

    ``width`` shows the figure at 1:1 (capped at :data:`CONTENT_PX`); ``min_pt`` is its smallest
    text as it appears in the page at that width.
    """
    import matplotlib

    with matplotlib.rc_context(REPORT_RC):
        enforce_min_font(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=FIGURE_DPI, bbox_inches="tight", facecolor="white")
    sizes = [t.get_fontsize() for t in _texts(fig)]
    if "matplotlib.pyplot" in sys.modules:  # a figure made with pyplot stays alive otherwise
        import matplotlib.pyplot as plt

        plt.close(fig)
    png = buf.getvalue()
    natural = _png_width(png) / FIGURE_DPI * CSS_PX_PER_INCH
    width = min(natural, CONTENT_PX)
    return {"src": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
            "width": round(width), "min_pt": min(sizes) * width / natural if sizes else None}


def figure_to_data_uri(fig) -> str:
    """A matplotlib Figure as a ``data:image/png;base64,…`` URI (and the figure is released)."""
    return render_figure(fig)["src"]


def _figures(experiment, results) -> tuple[list[dict], str | None]:
    """The experiment's figures drawn in the language in force (its font, its labels)."""
    import matplotlib

    try:
        with figure_fonts(current_language()):
            with matplotlib.rc_context(REPORT_RC):  # figures pick up the report's font sizes
                figs = list(experiment.figures(results))
            out = []
            for i, item in enumerate(figs, 1):
                caption, fig = (item if isinstance(item, tuple)
                                else (_("Figure {i}").format(i=i), item))
                out.append({"caption": caption, **render_figure(fig)})
        return out, None
    except Exception as e:  # noqa: BLE001 — a broken figure must not lose the report
        return [], f"{type(e).__name__}: {e}"


def _optional(method, results) -> tuple[list, str | None]:
    try:
        return list(method(results)), None
    except Exception as e:  # noqa: BLE001
        return [], f"{type(e).__name__}: {e}"


# -- verdicts as tables ----------------------------------------------------------------------

_N_SUFFIX = re.compile(r" \(n=(\d+)\)$")
WIDE_TABLE = 5  # more measures than this: one "name: value" list per row instead of columns


def evidence_table(rows) -> dict | None:
    """A verdict's evidence rows as a table: the measure names as columns (first-seen order), a
    cell per condition and measure; when every Stat has the same n, the n moves to the caption.
    ``rows`` are :class:`~whynet.experiments.base.Row` s. None when there are none."""
    rows = list(rows)
    if not rows:
        return None
    columns = list(dict.fromkeys(k for r in rows for k in r.measures))
    ns = {v.n for r in rows for v in r.measures.values() if isinstance(v, Stat)}
    common_n = ns.pop() if len(ns) == 1 else None

    def cell(v):
        if v is None:
            return {"text": "", "title": ""}
        if isinstance(v, bool):
            return {"text": _("yes") if v else _("no"), "title": ""}
        text = format_number(v)
        if isinstance(v, Stat):
            if common_n is not None:
                text = _N_SUFFIX.sub("", text)
            return {"text": text, "title": ngettext(
                "min {min}, max {max} over {n} seed", "min {min}, max {max} over {n} seeds",
                v.n).format(min=f"{v.min:.4g}", max=f"{v.max:.4g}", n=v.n)}
        return {"text": text, "title": ""}

    has_stat = any(isinstance(v, Stat) for r in rows for v in r.measures.values())
    return {"columns": columns, "wide": len(columns) > WIDE_TABLE, "n": common_n,
            "has_stat": has_stat,
            "rows": [{"condition": r.condition,
                      "cells": [cell(r.measures.get(c)) for c in columns]} for r in rows]}


def agreement(tally) -> str:
    """``"5 of 5 seeds agree (sign-test p = 0.06)"``; p only for a unanimous tally."""
    if tally is None:
        return ""
    if tally.agree == tally.n and tally.n:
        return _("{k} of {n} seeds agree (sign-test p = {p})").format(
            k=tally.agree, n=tally.n, p=f"{tally.sign_p:.2g}")
    return _("{k} of {n} seeds agree").format(k=tally.agree, n=tally.n)


# -- sections --------------------------------------------------------------------------------

GRIDS = {"quick": N_("quick"), "full": N_("full")}
"""A grid's name (the key stays English data) → its label, translated where shown."""


def count(n: int) -> str:
    """An integer as the language writes it (grouping: ``2,153``), through Babel."""
    lang = current_language()
    return format_decimal(n, locale=lang if lang in LANGUAGES else LANGUAGES[0])


def _experiment(ev, store, quick, texts_marked: bool = True) -> dict:
    """An experiment's view. ``texts_marked``: its title, question and description are marked
    messages (a built-in experiment) to translate, not a question file's own words."""
    e, results = ev.experiment, ev.results
    q = choose_quick(e, store) if quick is None else quick
    specs = e.grid(q)
    figures, fig_error = _figures(e, results) if results else ([], None)
    corrections, corr_error = _optional(e.corrections, results) if results else ([], None)
    published, pub_error = _optional(e.published, results) if results else ([], None)
    texts = e.texts() if texts_marked else {"title": e.title, "question": e.question,
                                             "what": e.what}
    return {
        "id": e.id, **texts,
        "questions": list(e.questions), "grid": "quick" if q else "full",
        "grid_label": _(GRIDS["quick" if q else "full"]),
        "n_specs": len(specs), "seeds": sorted({r.seed for r in results}),
        "n_runs": len(results), "planned": len(specs) * (e.seeds_quick if q else e.seeds_full),
        "seconds": sum(r.seconds for r in results), "error": ev.error,
        "verdicts": list(ev.verdicts), "figures": figures,
        "problems": [p for p in (fig_error and _("figures: {error}").format(error=fig_error),
                                 corr_error and _("corrections: {error}").format(
                                     error=corr_error),
                                 pub_error and _("published baselines: {error}").format(
                                     error=pub_error)) if p],
        "corrections": corrections, "published": published,
        "failures": [{"spec": f["spec"], "seed": f["seed"],
                      "last": (f["error"] or "").strip().splitlines()[-1:] or [""]}
                     for f in store.failures(e)],
    }


def _verdict_view(v, link) -> dict:
    return {"question": v.question, "status": v.status, "label": _status.label(v.status),
            "answer": link(v.answer), "has_answer": bool(v.answer),
            "evidence": evidence_table(v.evidence), "rule": link(v.rule),
            "agree": agreement(v.agree), "depends_on": list(v.depends_on),
            "sentence": link(v.sentence), "numbers": list(v.as_dict()["numbers"].items())}


def _question_section(q, row, experiments, placed, terms, notes) -> dict:
    """One question's section (``q`` and ``notes`` translated). ``placed`` maps an experiment id
    to the question whose section already shows its figures (an experiment answering several
    questions shows them once)."""
    link = Linker(terms)  # each section links its own first uses
    mine = [x for x in experiments if q.id in x["questions"]]
    key_figures, other_figures, shown_in, anchors = [], [], [], []
    for x in mine:
        if x["id"] in placed:
            shown_in.append((x["id"], placed[x["id"]]))
            continue
        placed[x["id"]] = q.id
        anchors.append(x["id"])
        key_figures += x["figures"][:1]
        other_figures += x["figures"][1:]
    view = {
        "id": q.id, "claim": link(q.claim), "status": row["status"],
        "label": _status.label(row["status"]),
        "sources": [{"note": s.note, "where": s.where,
                     "file": notes[s.note].file if s.note in notes else "",
                     "title": notes[s.note].title if s.note in notes else ""}
                    for s in q.sources],
        "verdicts": [_verdict_view(v, link) for x in mine for v in x["verdicts"]
                     if v.question == q.id],
        "published": [p for x in mine for p in x["published"] if p.question == q.id],
        "key_figures": key_figures, "other_figures": other_figures, "shown_in": shown_in,
        "anchors": anchors, "experiments": mine,
        "errors": [f"{x['id']}: {x['error']}" for x in mine if x["error"]],
    }
    view["why"] = link(q.why)
    return view


def _overview_rows(rows, terms) -> list[dict]:
    """The overview table's rows (``rows`` from :func:`whynet.runner.claims`, whose claim and
    source are already in the language in force)."""
    link = Linker(terms)
    out = []
    for r in rows:
        out.append({**r, "label": _status.label(r["status"]), "claim_html": link(r["claim"]),
                    "answer_html": link(r["answer"] or r["sentence"]),
                    "has_answer": bool(r["answer"])})
    return out


def _corrections(experiments, terms) -> list[dict]:
    out = []
    for x in experiments:
        for c in x["corrections"]:
            link = Linker(terms)
            note = c.note.split()[0] if c.note else ""
            out.append({"question": c.question, "note": c.note,
                        "file": NOTES[note].file if note in NOTES else "",
                        "says": link(c.says), "measured": link(c.measured),
                        "number": c.number, "so_what": link(c.so_what)})
    return out


def _environment(experiments) -> list[tuple[str, str]]:
    import matplotlib
    import numpy

    grids = [_(GRIDS[g]) for g in sorted({x["grid"] for x in experiments if x["n_runs"]})]
    seeds = sorted({s for x in experiments for s in x["seeds"]})
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover — not on Linux
        cores = os.cpu_count()
    machine = (f"{platform.system()} {platform.machine()}, "
               + ngettext("{n} core", "{n} cores", cores).format(n=cores)
               + (f", {platform.processor()}" if platform.processor() else ""))
    return [
        ("whynet", __version__), ("numpy", numpy.__version__),
        ("matplotlib", matplotlib.__version__),
        ("python", platform.python_version()),
        (_("machine"), machine),
        (_("grid"), ", ".join(grids) or "—"),
        (_("seeds"), ", ".join(map(str, seeds)) if seeds else "—"),
        (_("run time (sum over runs)"), f"{sum(x['seconds'] for x in experiments):.1f} s"),
        (_("date"), _now()),
    ]


def _asked_sections(asked, store, quick) -> list[dict]:
    """Sections for asked questions (:class:`whynet.ask.QuestionExperiment` s): the same
    experiment view and verdict view as a built-in question's."""
    out = []
    for e in asked:
        x = _experiment(evaluate(e, collect(e, store, quick)), store, quick, texts_marked=False)
        link = Linker(load_glossary(current_language()))
        out.append({"q": e.q, "x": x, "claim": e.q.claim.text(),
                    "verdicts": [_verdict_view(v, link) for v in x["verdicts"]]})
    return out


def build_report(store, quick: bool | None = None, experiments=None, asked=(),
                 lang: str | None = None) -> str:
    """The report as an HTML string, in ``lang`` (default: the language in force).

    Args:
        store: an open :class:`~whynet.store.Store`.
        quick: report the quick (True) or full (False) grids; None picks per experiment the full
            grid when it is complete in the store, else the quick one.
        experiments: which experiments (default: every registered one).
        asked: :class:`whynet.ask.QuestionExperiment` s, shown in their own section.
        lang: ``"en"``, ``"ko"`` (or the pseudo-locale ``"qps"``); verdicts, figures and every
            label are made in it, so the figures are rendered once per language.
    """
    with use_language(lang or current_language()):
        return _build(store, quick, experiments, asked)


def _build(store, quick, experiments, asked) -> str:
    experiments = registry.all_experiments() if experiments is None else list(experiments)
    evaluations = [evaluate(e, collect(e, store, quick)) for e in experiments]
    exps = [_experiment(ev, store, quick) for ev in evaluations]
    rows = claims(evaluations)
    terms = load_glossary(current_language())
    placed: dict = {}
    by_id = {r["question"]: r for r in rows}
    questions, notes = translated_questions(), translated_notes()
    sections = [_question_section(q, by_id[q.id], exps, placed, terms, notes)
                for q in questions.values()]
    corrections = _corrections(exps, terms)
    measured_notes = {c["note"] for c in corrections}
    pending = [{"question": q, "note": n, "says": says}
               for q, n, says, _fix in translated_known_corrections() if n not in measured_notes]
    overview = _overview_rows(rows, terms)
    environment = _environment(exps)
    return _template().render(
        lang=current_language(), env_line=_env_line(exps),
        groups=translated_groups(), notes=list(notes.values()),
        rows=overview, counts=_status.counts(r["status"] for r in rows),
        labels={s: _status.label(s) for s in _status.LABELS},
        sections=sections, corrections=corrections, pending=pending,
        glossary=sorted(terms.values(), key=lambda t: t.term.lower()),
        environment=environment, n_questions=len(questions),
        answered=sum(r["status"] not in _status.OPEN for r in rows),
        n_runs=count(sum(x["n_runs"] for x in exps)),
        scaling=next((r for r in overview if r["question"] == SCALING_QUESTION), None),
        asked=_asked_sections(asked, store, quick))


SCALING_QUESTION = "R4"
"""The question whose measurement the "정규화 or 규제" section cites (input scaling)."""


def _template():
    env = Environment(loader=PackageLoader("whynet.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    install_jinja(env)
    return env.get_template("report.html.j2")


def _now() -> str:
    return _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


def _env_line(exps) -> str:
    """``"Quick grid · whynet 0.4 · 2026-05-01 12:00 UTC"`` (the grids actually reported)."""
    grids = sorted({x["grid"] for x in exps if x["n_runs"]})
    if len(grids) == 1:
        grid = _("Quick grid") if grids[0] == "quick" else _("Full grid")
    else:
        grid = _("Quick and full grids") if grids else _("No runs yet")
    return f"{grid} · whynet {__version__} · {_now()}"


def write_report(path, store, quick: bool | None = None, experiments=None, asked=(),
                 lang: str | None = None) -> Path:
    """Write :func:`build_report` to ``path`` (folders created); returns the path. A path that
    names no file (``""``, a directory) is a :class:`~whynet.errors.ConfigError`."""
    path = check_file_path("report", "the output", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    html = build_report(store, quick, experiments, asked, lang)
    with replacing(path) as stream:  # never a half-written report (nor a .tmp) left behind
        stream.write(html)
    return path


__all__ = ["build_report", "write_report", "figure_to_data_uri", "render_figure",
           "enforce_min_font", "evidence_table", "agreement"]
