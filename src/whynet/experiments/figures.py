"""Figures that several experiments share.

They draw stored results and change no number, so unlike :mod:`whynet.experiments.recipes` they
are not part of any run's key: editing one (a label, its translation) recomputes nothing.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..i18n import _
from .recipes import BINS


def histogram_figure(by: dict, title: str) -> Figure:
    """Rows: initialisations; columns: layers — the cs231n / Glorot & Bengio figure."""
    rows = list(by)
    depth = len(by[rows[0]][0].result["hist"])
    fig = Figure(figsize=(7.5, 1.25 * len(rows) + 0.6))
    axes = fig.subplots(len(rows), depth, sharex=True, squeeze=False)
    for i, key in enumerate(rows):
        r = by[key][0].result
        lo, hi = r["range"]
        edges = np.linspace(lo, hi, BINS + 1)
        for j in range(depth):
            ax = axes[i, j]
            counts = np.asarray(r["hist"][j], dtype=float)
            ax.bar(edges[:-1], counts / max(counts.sum(), 1), width=edges[1] - edges[0],
                   align="edge", color="tab:blue")
            ax.set_yticks([])
            ax.tick_params(labelsize=6)
            if i == 0:
                ax.set_title(_("layer {n}").format(n=j + 1), fontsize=7)
            if j == 0:
                ax.set_ylabel(key if isinstance(key, str) else key[-1], fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
