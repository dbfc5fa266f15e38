"""A probe's run as one self-contained HTML page: share your own run the way the lab shows one.

``save_html(probe, "run.html")`` (or ``probe.save_html(...)``) writes the probe's records,
histograms and findings as JSON inside a single HTML file with a small script that draws them: a
timeline slider over the measured steps; at the chosen step, a per-layer table (activation mean
and std, dead and saturated fractions, gradient and weight norms, update ratio) and each layer's
activation histogram; a chart of any recorded quantity per layer over time with the chosen step
marked; and the findings up to that step. No network requests: it opens offline, in any browser,
and can be mailed or committed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from ..atomic import replacing
from ..errors import ConfigError
from ..i18n import _
from .records import Records

#: The per-layer table's columns: (quantity, heading, format: "pct" | "sci" | "num").
TABLE = (("act_mean", "mean", "num"), ("act_std", "std", "num"), ("dead", "dead", "pct"),
         ("saturated", "saturated", "pct"), ("output_grad_norm", "‖∂L/∂out‖", "sci"),
         ("weight_norm", "‖W‖", "num"), ("weight_grad_norm", "‖∂L/∂W‖", "sci"),
         ("update_ratio", "‖ΔW‖/‖W‖", "sci"))


def _finite(v: float):
    return v if math.isfinite(v) else None  # JSON has no NaN/inf; the page shows "–"


def replay_data(probe, title: str | None = None) -> dict:
    """What the page draws, as plain JSON-ready data: steps, per-quantity series per layer,
    activation histograms per layer and step, findings."""
    records = getattr(probe, "records", None)
    if not isinstance(records, Records):
        raise ConfigError(_("save_html: expected a probe with records, got {type}")
                            .format(type=type(probe).__name__))
    if len(records) == 0:
        raise ConfigError(_("save_html: the probe has no records yet; train with the probe as a "
                            "callback (or call probe.measure(step)) first"))
    series: dict[str, dict[str, list]] = {}
    for step, layer, quantity, value in records:
        series.setdefault(quantity, {}).setdefault(layer, []).append([int(step), _finite(value)])
    hist = getattr(probe, "histograms", None)
    histograms: dict[str, dict] = {}
    for e in (hist or []):
        if e.kind == "activation":
            layer = histograms.setdefault(e.layer, {"edges": e.edges.tolist(), "steps": {}})
            layer["steps"][str(e.step)] = e.counts.tolist()
    findings = [{"step": int(f.step), "layer": f.layer, "rule": f.rule, "message": f.message,
                 "question": f.question} for f in getattr(probe, "findings", [])]
    return {"title": title or "whynet probe replay", "steps": records.steps(),
            "layers": [la for la in records.layers() if la != "model"],
            "series": series, "histograms": histograms, "findings": findings,
            "table": [list(t) for t in TABLE]}


def save_html(probe, path, title: str | None = None) -> Path:
    """Write the replay page of ``probe`` to ``path`` (a new or replaced file); returns the path.

    The file is written whole to a temporary name and then renamed, so a failure leaves any
    earlier file at ``path`` untouched."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(_("save_html: {path} is a directory; give a file name such as run.html")
                            .format(path=path))
    if not path.parent.exists():
        raise ConfigError(_("save_html: the folder {parent} does not exist")
                            .format(parent=path.parent))
    data = replay_data(probe, title)
    env = Environment(loader=PackageLoader("whynet.probes", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    # "</" cannot close the script element early once written as "<\/".
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    html = env.get_template("replay.html.j2").render(title=data["title"], payload=payload)
    with replacing(path) as stream:
        stream.write(html)
    return path
