"""Presenting a study: the table of best trials, Bergstra & Bengio's projection plot, and the
expected best of k random trials."""

from __future__ import annotations

import math

import numpy as np

from ..errors import check_int
from ..i18n import _
from .space import Choice, Range, Space


def expected_best(scores, k: int) -> float:
    """The expected best of ``k`` trials drawn at random (without replacement) from ``scores``.

    Bergstra & Bengio's (2012) random-experiment efficiency curve at budget ``k``, computed
    exactly from the order statistics of a pool of N i.i.d. random-search trials: with the
    scores sorted ascending, ``E[max] = Σᵢ v₍ᵢ₎ · C(i−1, k−1) / C(N, k)``. Far less noisy than
    running one search of ``k`` trials, and free once the pool is trained.
    """
    v = np.sort(np.asarray(scores, dtype=np.float64))
    n = len(v)
    k = check_int("expected_best", "k", k, low=1, high=n)  # n: the pool size
    weights = np.array([math.comb(i - 1, k - 1) for i in range(1, n + 1)], dtype=np.float64)
    return float(v @ weights / math.comb(n, k))


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def regression(trials: list[dict]) -> bool:
    """Whether the trials scored a regression set (their value is R², not an accuracy); trials
    without attributes (H2's own, on a synthetic objective) are not."""
    return any("test_r2" in t.get("attrs", {}) for t in trials)


def test_score(attrs: dict):
    """A trial's test score (accuracy, or R² for a regression set), None when diverged."""
    return attrs.get("test_acc", attrs.get("test_r2"))


def best_table(trials: list[dict], space: Space, top: int = 5):
    """A rich Table: the ``top`` complete trials by validation score, with the test score
    (accuracy, or R² for a regression set)."""
    from rich.table import Table

    done = sorted((t for t in trials if t["state"] == "complete"),
                  key=lambda t: (-t["value"], t["number"]))
    n_pruned = sum(t["state"] == "pruned" for t in trials)
    title = _("Best {shown} of {done} complete trials").format(shown=min(top, len(done)),
                                                                done=len(done))
    if n_pruned:
        title += _(" ({n} pruned)").format(n=n_pruned)
    table = Table(title=title)
    table.add_column(_("rank"), justify="right")
    table.add_column(_("trial"), justify="right")
    what = "R²" if regression(trials) else _("acc")
    table.add_column(_("val {what}").format(what=what), justify="right")
    table.add_column(_("test {what}").format(what=what), justify="right")
    for name in space.dims:
        table.add_column(name, justify="right")
    for rank, t in enumerate(done[:top], 1):
        test = test_score(t["attrs"])
        note = _(" (diverged)") if t["attrs"].get("diverged") else ""
        table.add_row(str(rank), str(t["number"]), f"{t['value']:.4f}{note}",
                      "—" if test is None else f"{test:.4f}",
                      *(_fmt(t["params"].get(name)) for name in space.dims))
    return table


def plot_trials(trials: list[dict], space: Space, title: str | None = None):
    """Bergstra & Bengio's projection: one panel per hyperparameter, each trial's validation
    score (accuracy, or R²) against its value (log axis for a log range), coloured by trial number; pruned
    trials as grey crosses at their last reported accuracy; the best trial as a red star."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    names = list(space.dims)
    fig = Figure(figsize=(max(3.2 * len(names), 4.5), 3.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(names), sharey=True, squeeze=False)[0])
    done = [t for t in trials if t["state"] == "complete"]
    pruned = [t for t in trials if t["state"] == "pruned" and t["intermediate"]]
    best = max(done, key=lambda t: t["value"]) if done else None
    n_max = max((t["number"] for t in trials), default=0)
    for ax, name in zip(axes, names):
        dim = space.dims[name]
        positions = ({c: i for i, c in enumerate(dim.choices)} if isinstance(dim, Choice)
                     else None)

        def x_of(t):
            v = t["params"][name]
            return positions[v] if positions is not None else v

        if pruned:
            ax.scatter([x_of(t) for t in pruned],
                       [list(t["intermediate"].values())[-1] for t in pruned],
                       marker="x", color="0.6", s=18, label=_("pruned (last report)"))
        if done:
            sc = ax.scatter([x_of(t) for t in done], [t["value"] for t in done],
                            c=[t["number"] for t in done], cmap="viridis", vmin=0,
                            vmax=max(n_max, 1), s=22, edgecolors="none", label=_("complete"))
        if best is not None:
            ax.scatter([x_of(best)], [best["value"]], marker="*", s=140, color="tab:red",
                       zorder=3, label=_("best"))
        if positions is not None:
            ax.set_xticks(range(len(dim.choices)), [str(c) for c in dim.choices])
            ax.set_xlim(-0.5, len(dim.choices) - 0.5)
        elif dim.log:
            ax.set_xscale("log")
        elif dim.integer:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(xlabel=name + (" (log scale)" if isinstance(dim, Range) and dim.log else ""))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(_("validation R²") if regression(trials) else _("validation accuracy"))
    axes[0].legend(fontsize=7, loc="lower left")
    if done:
        fig.colorbar(sc, ax=list(axes), label=_("trial number"), pad=0.01)
    fig.suptitle(title or _("Every trial projected on each hyperparameter"), fontsize=10)
    return fig
