"""Figures people recognise, from a probe's records and histograms.

* :func:`activation_histograms` — per-layer activation histograms side by side at one step
  (cs231n lecture 6; Glorot & Bengio 2010, fig. 6);
* :func:`histogram_over_time` — each layer's activation histogram as a column per measurement, the
  "colourful dimension" image (log counts, brighter = more values);
* :func:`gradient_norms` — gradient norm by layer on a log scale, one line per chosen step;
* :func:`update_ratios` — ‖ΔW‖/‖W‖ over time per layer, with the 1e-3 line;
* :func:`dead_saturated` — dead and saturated fractions over time per layer.

Each takes a probe (anything with ``records``/``histograms``) or the Records/Histograms
themselves and returns a ``matplotlib.figure.Figure`` (no pyplot: no global state, no GUI).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..errors import ConfigError
from ..i18n import _
from .records import MODEL, Histograms, Records

HEALTHY_UPDATE_RATIO = 1e-3


def _records(source) -> Records:
    records = getattr(source, "records", source)
    if not isinstance(records, Records):
        raise ConfigError(_("expected a probe or Records, got {type}")
                            .format(type=type(source).__name__))
    return records


def _histograms(source) -> Histograms:
    hist = getattr(source, "histograms", source)
    if not isinstance(hist, Histograms):
        raise ConfigError(_("expected a probe or Histograms, got {type}")
                            .format(type=type(source).__name__))
    if not len(hist):
        raise ConfigError(_("no histograms recorded (was the probe built with histograms=False, "
                            "or has it not measured yet?)"))
    return hist


def _positive(values: np.ndarray) -> np.ndarray:
    """Values for a log axis: non-positive ones become NaN (a gap) instead of a warning."""
    values = np.asarray(values, dtype=np.float64).copy()
    values[~(values > 0)] = np.nan
    return values


def _layers_with(records: Records, quantity: str) -> list[str]:
    return [la for la in records.where(quantity=quantity).layers() if la != MODEL]


def _line_axes():
    """``(figure, axes)``: the one-panel 6 × 3.5 in figure of the line plots."""
    fig = Figure(figsize=(6, 3.5), layout="constrained")
    return fig, fig.subplots()


def _finish(fig: Figure, ax, title: str, ylabel: str, *, xlabel: str | None = "step",
            log: bool = False) -> Figure:
    """Label a line plot (log y axis when ``log``), add its legend and return the figure."""
    if log:
        ax.set_yscale("log")
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return fig


def activation_histograms(source, step: int | None = None, layers=None) -> Figure:
    """One panel per activation layer: the histogram of its outputs at ``step`` (default: the
    last measured), titled with the layer, mean and standard deviation."""
    hist = _histograms(source)
    layers = list(layers) if layers is not None else hist.layers("activation")
    if not layers:
        raise ConfigError(_("activation_histograms: no activation layers were recorded"))
    fig = Figure(figsize=(2.2 * len(layers) + 0.6, 2.6), layout="constrained")
    axes = fig.subplots(1, len(layers), squeeze=False)[0]
    for ax, layer in zip(axes, layers):
        e = hist.latest(layer) if step is None else hist.at(step, layer)
        mean = e.sum / e.num
        std = float(np.sqrt(max(e.sum_squares / e.num - mean * mean, 0.0)))
        ax.stairs(e.counts, e.edges, fill=True)
        ax.set_title(f"{layer}\nmean {mean:.2g}, std {std:.2g}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    fig.suptitle(f"activations at step {e.step}", fontsize=9)
    return fig


def histogram_over_time(source, layers=None) -> Figure:
    """One panel per activation layer: x = measurement (labelled by step), y = activation value,
    colour = log(1 + count). Healthy layers show a steady band; collapse to 0, pile-ups at the
    bounds (saturation) or drift are visible at a glance."""
    hist = _histograms(source)
    layers = list(layers) if layers is not None else hist.layers("activation")
    if not layers:
        raise ConfigError(_("histogram_over_time: no activation layers were recorded"))
    fig = Figure(figsize=(6, 1.6 * len(layers) + 0.6), layout="constrained")
    axes = fig.subplots(len(layers), 1, squeeze=False)[:, 0]
    for ax, layer in zip(axes, layers):
        steps, edges, counts = hist.series(layer)
        n = len(steps)
        ax.imshow(np.log1p(counts.T), origin="lower", aspect="auto", cmap="viridis",
                  extent=(-0.5, n - 0.5, edges[0, 0], edges[0, -1]), interpolation="nearest")
        ticks = np.unique(np.linspace(0, n - 1, min(n, 6)).round().astype(int))
        ax.set_xticks(ticks, [str(steps[i]) for i in ticks])
        ax.set_ylabel(layer, fontsize=8)
        ax.tick_params(labelsize=7)
    axes[-1].set_xlabel("step")
    fig.suptitle("activation histograms over time (log counts)", fontsize=9)
    return fig


def gradient_norms(source, quantity: str = "output_grad_norm", steps=None) -> Figure:
    """Gradient norm by layer (log scale), one line per step (default: first, middle, last).

    ``quantity``: ``"output_grad_norm"`` (‖∂L/∂z‖, default), ``"weight_grad_norm"`` or
    ``"input_grad_norm"``. A falling line from right to left is vanishing gradients (A4).
    """
    records = _records(source)
    layers = _layers_with(records, quantity)
    if not layers:
        raise ConfigError(_("gradient_norms: no {quantity!r} records")
                            .format(quantity=quantity))
    sub = records.where(quantity=quantity)
    all_steps = sub.steps()
    if steps is None:
        steps = sorted({all_steps[0], all_steps[len(all_steps) // 2], all_steps[-1]})
    fig, ax = _line_axes()
    x = np.arange(len(layers))
    for s in steps:
        at = sub.where(step=s)
        values = [at.where(layer=la).column("value") for la in layers]
        y = np.array([v[0] if v.size else np.nan for v in values])
        ax.plot(x, _positive(y), marker="o", label=f"step {s}")
    ax.set_xticks(x, layers, rotation=30, fontsize=7)
    return _finish(fig, ax, "gradient norm by layer", quantity, xlabel=None, log=True)


def update_ratios(source) -> Figure:
    """‖ΔW‖/‖W‖ per layer over time (log scale) with the healthy 1e-3 line (cs231n lecture 6)."""
    records = _records(source)
    layers = _layers_with(records, "update_ratio")
    if not layers:
        raise ConfigError(_("update_ratios: no update_ratio records (measure inside fit, or call "
                            "on_before_update/on_step_end around your update)"))
    fig, ax = _line_axes()
    for layer in layers:
        s, v = records.series(layer, "update_ratio")
        ax.plot(s, _positive(v), label=layer)
    ax.axhline(HEALTHY_UPDATE_RATIO, color="k", linestyle="--", linewidth=1, label="1e-3")
    return _finish(fig, ax, "update-to-weight ratio", "‖ΔW‖ / ‖W‖", log=True)


def dead_saturated(source) -> Figure:
    """Fraction of dead units (solid) and of saturated outputs (dashed) per layer over time."""
    records = _records(source)
    dead = _layers_with(records, "dead")
    saturated = _layers_with(records, "saturated")
    if not dead and not saturated:
        raise ConfigError(_("dead_saturated: no 'dead' or 'saturated' records"))
    fig, ax = _line_axes()
    for layer in dead:
        s, v = records.series(layer, "dead")
        ax.plot(s, v, label=f"{layer} dead")
    for layer in saturated:
        s, v = records.series(layer, "saturated")
        ax.plot(s, v, linestyle="--", label=f"{layer} saturated")
    ax.set_ylim(-0.02, 1.02)
    return _finish(fig, ax, "dead units and saturated outputs", "fraction")
