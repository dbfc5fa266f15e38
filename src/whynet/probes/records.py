"""What a probe writes: a tidy table of ``(step, layer, quantity, value)`` rows and per-layer
histograms. Both are plain Python/NumPy; ``Records.to_pandas()`` converts when pandas exists.

Layer labels are ``"<position>:<kind>"``: ``"0:dense"``, ``"1:relu"`` for a whynet ``Sequential``
and for a ``torch.nn.Sequential`` alike (``"features.0:conv2d"`` for nested PyTorch modules);
quantities that describe the whole model use the layer ``"model"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np

from ..errors import ConfigError, ShapeError
from ..i18n import _
from ..notebook import html_table
from .stats import histogram, norm

COLUMNS = ("step", "layer", "quantity", "value")
MODEL = "model"


def _matcher(want) -> Callable[[object], bool]:
    if callable(want):
        return want
    if isinstance(want, (list, tuple, set, frozenset)):
        allowed = set(want)
        return lambda v: v in allowed
    return lambda v: v == want


class Records:
    """A tidy table: one row per ``(step, layer, quantity, value)``.

    Example::

        probe.records.where(quantity="dead", layer="1:relu").column("value")
        steps, values = probe.records.series("0:dense", "grad_W_norm")
        df = probe.records.to_pandas()          # needs pandas

    ``where`` takes, per column, a value, a collection of values, or a predicate.
    """

    def __init__(self, rows: Iterable[tuple[int, str, str, float]] = ()):
        self._step: list[int] = []
        self._layer: list[str] = []
        self._quantity: list[str] = []
        self._value: list[float] = []
        for row in rows:
            self.append(*row)

    def append(self, step: int, layer: str, quantity: str, value: float) -> None:
        self._step.append(int(step))
        self._layer.append(str(layer))
        self._quantity.append(str(quantity))
        self._value.append(float(value))

    def extend(self, other: "Records") -> None:
        self._step += other._step
        self._layer += other._layer
        self._quantity += other._quantity
        self._value += other._value

    def __len__(self) -> int:
        return len(self._step)

    def __iter__(self) -> Iterator[tuple[int, str, str, float]]:
        return zip(self._step, self._layer, self._quantity, self._value)

    def _repr_html_(self) -> str:
        return html_table(["step", "layer", "quantity", "value"], self, repr(self))

    def __repr__(self) -> str:
        return (f"Records({len(self)} rows, {len(self.steps())} steps, "
                f"{len(self.layers())} layers, {len(self.quantities())} quantities)")

    def column(self, name: str) -> np.ndarray:
        """One column as an array: int64 steps, float64 values, object (str) layers/quantities."""
        if name == "step":
            return np.array(self._step, dtype=np.int64)
        if name == "value":
            return np.array(self._value, dtype=np.float64)
        if name in ("layer", "quantity"):
            return np.array(getattr(self, "_" + name), dtype=object)
        raise ConfigError(_("Records.column: unknown column {name!r}; known: {columns}")
                            .format(name=name, columns=', '.join(COLUMNS)))

    def where(self, step=None, layer=None, quantity=None, value=None) -> "Records":
        """The rows matching every given filter (a value, a collection, or a predicate)."""
        tests = [(i, _matcher(w)) for i, w in enumerate((step, layer, quantity, value))
                 if w is not None]
        out = Records()
        for row in self:
            if all(test(row[i]) for i, test in tests):
                out.append(*row)
        return out

    def series(self, layer: str, quantity: str) -> tuple[np.ndarray, np.ndarray]:
        """``(steps, values)`` of one quantity of one layer, in recording order."""
        sub = self.where(layer=layer, quantity=quantity)
        return sub.column("step"), sub.column("value")

    def value(self, step: int, layer: str, quantity: str) -> float:
        """The single value at ``(step, layer, quantity)``; KeyError-like ConfigError if absent."""
        for s, la, q, v in self:
            if s == step and la == layer and q == quantity:
                return v
        raise ConfigError(_("Records.value: no row for step {step}, layer {layer!r}, quantity "
                            "{quantity!r}")
                            .format(step=step, layer=layer, quantity=quantity))

    def steps(self) -> list[int]:
        """Distinct steps, in order of first appearance."""
        return list(dict.fromkeys(self._step))

    def layers(self) -> list[str]:
        return list(dict.fromkeys(self._layer))

    def quantities(self) -> list[str]:
        return list(dict.fromkeys(self._quantity))

    def to_dict(self) -> dict[str, list]:
        """Columns as lists (JSON-serialisable): ``{"step": […], "layer": […], …}``."""
        return {"step": list(self._step), "layer": list(self._layer),
                "quantity": list(self._quantity), "value": list(self._value)}

    @classmethod
    def from_dict(cls, columns: dict) -> "Records":
        missing = [c for c in COLUMNS if c not in columns]
        if missing:
            raise ConfigError(_("Records.from_dict: missing column(s) {missing}; need {columns}")
                                .format(missing=missing, columns=list(COLUMNS)))
        lengths = {len(columns[c]) for c in COLUMNS}
        if len(lengths) != 1:
            raise ShapeError(_("Records.from_dict: columns have different lengths {lengths}")
                               .format(lengths=sorted(lengths)))
        return cls(zip(*(columns[c] for c in COLUMNS)))

    def to_pandas(self):
        """A ``pandas.DataFrame`` with columns step, layer, quantity, value."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ConfigError(_("Records.to_pandas needs pandas (pip install pandas); to_dict() "
                                "gives the same columns without it")) from e
        return pd.DataFrame(self.to_dict())


@dataclass(frozen=True)
class HistogramEntry:
    """One histogram: ``counts[i]`` values fell in ``[edges[i], edges[i+1])`` (values outside the
    edges are counted in the end bins). ``min``/``max``/``sum``/``sum_squares``/``num`` describe the
    raw values, as TensorBoard's histogram summary wants them."""

    step: int
    layer: str
    kind: str                 # "activation" or "gradient"
    edges: np.ndarray         # (bins + 1,)
    counts: np.ndarray        # (bins,) int64
    min: float
    max: float
    sum: float
    sum_squares: float
    num: int


class Histograms:
    """Per-layer histograms over time.

    Activation histograms of a layer share one set of edges across steps (fixed on its first
    measurement), so :meth:`series` stacks them into the "colourful dimension" image; gradient
    histograms use each step's own symmetric range, since gradients change by orders of magnitude.
    """

    def __init__(self):
        self._entries: list[HistogramEntry] = []

    def add(self, entry: HistogramEntry) -> None:
        self._entries.append(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[HistogramEntry]:
        return iter(self._entries)

    def __repr__(self) -> str:
        return f"Histograms({len(self)} histograms, layers {self.layers()})"

    def layers(self, kind: str = "activation") -> list[str]:
        return list(dict.fromkeys(e.layer for e in self._entries if e.kind == kind))

    def steps(self, kind: str = "activation") -> list[int]:
        return list(dict.fromkeys(e.step for e in self._entries if e.kind == kind))

    def at(self, step: int, layer: str, kind: str = "activation") -> HistogramEntry:
        for e in self._entries:
            if e.step == step and e.layer == layer and e.kind == kind:
                return e
        raise ConfigError(_("Histograms.at: no {kind} histogram of layer {layer!r} at step "
                            "{step}; layers: {layers}, steps: {steps}")
                            .format(kind=kind, layer=layer, step=step,
                                    layers=self.layers(kind), steps=self.steps(kind)))

    def latest(self, layer: str, kind: str = "activation") -> HistogramEntry:
        for e in reversed(self._entries):
            if e.layer == layer and e.kind == kind:
                return e
        raise ConfigError(_("Histograms.latest: no {kind} histogram of layer {layer!r}; layers: "
                            "{layers}")
                            .format(kind=kind, layer=layer, layers=self.layers(kind)))

    def series(self, layer: str, kind: str = "activation"
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(steps (n,), edges (n, bins+1), counts (n, bins))`` of one layer over time."""
        entries = [e for e in self._entries if e.layer == layer and e.kind == kind]
        if not entries:
            raise ConfigError(_("Histograms.series: no {kind} histograms of layer {layer!r}; "
                                "layers: {layers}")
                                .format(kind=kind, layer=layer, layers=self.layers(kind)))
        return (np.array([e.step for e in entries], dtype=np.int64),
                np.stack([e.edges for e in entries]), np.stack([e.counts for e in entries]))

    def to_dict(self) -> list[dict]:
        """Entries as JSON-serialisable dicts (arrays as lists)."""
        return [{"step": e.step, "layer": e.layer, "kind": e.kind, "edges": e.edges.tolist(),
                 "counts": e.counts.tolist(), "min": e.min, "max": e.max, "sum": e.sum,
                 "sum_squares": e.sum_squares, "num": e.num} for e in self._entries]


def make_entry(step: int, layer: str, kind: str, values: np.ndarray, bins: int,
               value_range: tuple[float, float]) -> HistogramEntry:
    """Histogram ``values`` into ``bins`` bins over ``value_range``, with the raw summary."""
    flat = np.asarray(values).ravel()
    counts = histogram(flat, bins, value_range)
    lo, hi = value_range
    return HistogramEntry(step=int(step), layer=layer, kind=kind,
                          edges=np.linspace(lo, hi, bins + 1), counts=counts.astype(np.int64),
                          min=float(flat.min()), max=float(flat.max()),
                          sum=float(flat.sum(dtype=np.float64)), sum_squares=norm(flat) ** 2,
                          num=int(flat.size))
