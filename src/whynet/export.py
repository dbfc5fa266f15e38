"""``whynet export``: the stored runs and the verdicts as CSV or JSON lines, for pandas or a tracker.

Two tables:

* **runs**, one row per stored run (every experiment, version and status): ``key``,
  ``experiment``, ``experiment_version``, ``seed``, ``status``, ``seconds``, ``started``,
  ``finished``, ``host``, ``whynet_version``, ``error``, and the run's ``spec`` and ``result``;
* **verdicts**, one row per question ID of the catalogue, as ``whynet claims --json`` gives it.

JSON lines keep the nesting (``spec`` and ``result`` are objects; NaN and ±inf become null).
CSV flattens one level: ``spec.<name>`` and ``result.<name>`` columns, in first-seen order; a
value that is itself a list or a table is written as JSON text in its cell
(``pandas.read_csv(...)["result.curve"].map(json.loads)`` reads it back).
"""

from __future__ import annotations

import csv
import json
import math
from typing import Iterable, TextIO

#: The formats ``whynet export --format`` writes.
FORMATS = ("csv", "jsonl")
#: What it exports.
TABLES = ("runs", "verdicts")


def _finite(value):
    """JSON-safe: NaN and ±inf → None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _cell(value):
    """A CSV cell: scalars as they are (None → empty), lists and tables as JSON text."""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(_finite(value), separators=(",", ":"))
    return "" if value is None else value


def flatten(row: dict, nested: Iterable[str] = ("spec", "result")) -> dict:
    """``row`` with each ``nested`` table spread into ``name.key`` entries (one level)."""
    out = {}
    for key, value in row.items():
        if key in nested and isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        elif key not in nested or value is not None:
            out[key] = value
    return out


def write_csv(rows: list[dict], stream: TextIO) -> None:
    """Rows as CSV: the union of their columns in first-seen order; a missing value is empty."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    writer = csv.DictWriter(stream, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})


def write_jsonl(rows: list[dict], stream: TextIO) -> None:
    """One JSON object per line (strict JSON: no NaN)."""
    for row in rows:
        stream.write(json.dumps(_finite(row), allow_nan=False) + "\n")


def write(table: str, rows: list[dict], fmt: str, stream: TextIO) -> None:
    """``rows`` of ``table`` ("runs" or "verdicts") to ``stream`` in ``fmt`` ("csv", "jsonl")."""
    if fmt == "jsonl":
        write_jsonl(rows, stream)
    else:
        write_csv([flatten(r) for r in rows] if table == "runs" else rows, stream)
