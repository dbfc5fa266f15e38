"""Gather verdicts, numbers and figures from the store and render them with a Jinja2 template."""

from __future__ import annotations

import base64
import datetime as _dt
import io
import os
import platform
import sys
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from .. import __version__

FIGURE_DPI = 110


def figure_to_data_uri(fig) -> str:
    """A matplotlib Figure as a ``data:image/png;base64,…`` URI (and the figure is released)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=FIGURE_DPI, bbox_inches="tight", facecolor="white")
    if "matplotlib.pyplot" in sys.modules:  # a figure made with pyplot stays alive otherwise
        import matplotlib.pyplot as plt

        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figures(experiment, results) -> tuple[list[dict], str | None]:
    try:
        figs = list(experiment.figures(results))
        out = []
        for i, item in enumerate(figs, 1):
            caption, fig = item if isinstance(item, tuple) else (f"Figure {i}", item)
            width, height = fig.get_size_inches()
            # multi-panel figures would be unreadable at half the page width
            wide = bool(width >= 7.5 or width / height > 2.2)
            out.append({"caption": caption, "src": figure_to_data_uri(fig), "wide": wide})
        return out, None
    except Exception as e:  # noqa: BLE001 — a broken figure must not lose the report
        return [], f"{type(e).__name__}: {e}"


def _optional(method, results) -> tuple[list, str | None]:
    try:
        return list(method(results)), None
    except Exception as e:  # noqa: BLE001
        return [], f"{type(e).__name__}: {e}"


def _experiment_section(ev, store, quick) -> dict:
    from ..runner import choose_quick

    e, results = ev.experiment, ev.results
    q = choose_quick(e, store) if quick is None else quick
    specs = e.grid(q)
    seeds = sorted({r.seed for r in results})
    figures, fig_error = _figures(e, results) if results else ([], None)
    corrections, corr_error = _optional(e.corrections, results) if results else ([], None)
    published, pub_error = _optional(e.published, results) if results else ([], None)
    failures = store.failures(e)
    return {
        "id": e.id, "title": e.title, "question": e.question, "what": e.what,
        "questions": list(e.questions), "grid": "quick" if q else "full",
        "n_specs": len(specs), "seeds": seeds, "n_runs": len(results),
        "planned": len(specs) * (e.seeds_quick if q else e.seeds_full),
        "seconds": sum(r.seconds for r in results),
        "verdicts": [{"question": v.question, "status": v.status, "sentence": v.sentence,
                      "numbers": list(v.as_dict()["numbers"].items())} for v in ev.verdicts],
        "error": ev.error, "figures": figures,
        "problems": [p for p in (fig_error and f"figures: {fig_error}",
                                 corr_error and f"corrections: {corr_error}",
                                 pub_error and f"published: {pub_error}") if p],
        "corrections": corrections, "published": published,
        "failures": [{"spec": f["spec"], "seed": f["seed"],
                      "last": (f["error"] or "").strip().splitlines()[-1:] or [""]}
                     for f in failures],
    }


def _environment(sections) -> list[tuple[str, str]]:
    import matplotlib
    import numpy

    grids = sorted({s["grid"] for s in sections if s["n_runs"]}) or ["—"]
    seeds = sorted({x for s in sections for x in s["seeds"]})
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover — not on Linux
        cores = os.cpu_count()
    return [
        ("whynet", __version__), ("numpy", numpy.__version__),
        ("matplotlib", matplotlib.__version__),
        ("python", platform.python_version()),
        ("machine", f"{platform.system()} {platform.machine()}, {cores} cores"
                    + (f", {platform.processor()}" if platform.processor() else "")),
        ("grid", ", ".join(grids)),
        ("seeds", ", ".join(map(str, seeds)) if seeds else "—"),
        ("run time (sum over runs)", f"{sum(s['seconds'] for s in sections):.1f} s"),
        ("date", _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")),
    ]


def build_report(store, quick: bool | None = None, experiments=None) -> str:
    """The report as an HTML string.

    Args:
        store: an open :class:`~whynet.store.Store`.
        quick: report the quick (True) or full (False) grids; None picks per experiment the full
            grid when it is complete in the store, else the quick one.
        experiments: which experiments (default: every registered one).
    """
    from ..experiments import registry
    from ..experiments.questions import GROUPS, KNOWN_CORRECTIONS, QUESTIONS
    from ..runner import claims, collect, evaluate

    experiments = registry.all_experiments() if experiments is None else list(experiments)
    evaluations = [evaluate(e, collect(e, store, quick)) for e in experiments]
    sections = [_experiment_section(ev, store, quick) for ev in evaluations]
    rows = claims(evaluations)
    counts = {s: sum(r["status"] == s for r in rows)
              for s in ("holds", "fails", "depends", "inconclusive", "not run", "not answered",
                        "error")}
    measured = [c for s in sections for c in s["corrections"]]
    measured_notes = {c.note for c in measured}
    pending = [{"question": q, "note": n, "says": says}
               for q, n, says, _ in KNOWN_CORRECTIONS if n not in measured_notes]
    env = Environment(loader=PackageLoader("whynet.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    template = env.get_template("report.html.j2")
    environment = _environment(sections)
    facts = dict(environment)
    env_line = (f"{facts['grid'].capitalize()} grid{'s' if ',' in facts['grid'] else ''} · "
                f"whynet {__version__} · {facts['date']}")
    return template.render(
        env_line=env_line,
        rows=rows, groups=GROUPS, counts=counts, sections=sections, corrections=measured,
        pending=pending, environment=environment,
        n_questions=len(QUESTIONS), answered=sum(r["status"] not in ("not run", "not answered",
                                                                        "error") for r in rows),
        n_runs=sum(s["n_runs"] for s in sections))


def write_report(path, store, quick: bool | None = None, experiments=None) -> Path:
    """Write :func:`build_report` to ``path`` (folders created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    html = build_report(store, quick, experiments)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)  # never leave a half-written report behind
    return path


__all__ = ["build_report", "write_report", "figure_to_data_uri"]
