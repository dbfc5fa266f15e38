"""Your own data: arrays in memory (:func:`load_arrays`) and CSV files (:func:`load_csv`).

Both check what they are given and say exactly what is wrong and where: a ragged row, a cell
that is not a number, a missing value, NaN or infinity. Nothing is ever unpickled.

Targets become class indices 0…k−1 when they look like labels (integers, booleans or strings) and
stay float32 values (a regression set, ``n_classes = 0``) when they are non-integral numbers;
``task=`` overrides the guess. Non-negative integer labels are kept as they are (label 3 stays 3,
so a train file and a test file agree even when one lacks a class); other labels (strings,
negative numbers such as Playground's ±1) are numbered in sorted order and their original values
kept in ``Dataset.class_names``.
"""

from __future__ import annotations

import csv
import math
import os

import numpy as np

from ..errors import ConfigError, NonFiniteError, ShapeError, check_finite, unknown_name
from ..i18n import _
from .base import Dataset

TASKS = ("classification", "regression")

#: Integer labels below this are class indices (class k is output k, as in PyTorch); larger ones
#: (a code such as 99999999999999999999 would not even fit int64) are class names, numbered in
#: sorted order.
MAX_LABEL = 2**31

#: The largest float32: a feature beyond it would become ±inf when the data is cast.
F32_MAX = float(np.finfo(np.float32).max)


def _encode_targets(owner: str, y: np.ndarray, task: str | None):
    """(targets, n_classes, class_names) from raw targets of shape (m,)."""
    if task is not None and task not in TASKS:
        raise unknown_name(_("task"), task, TASKS)
    numeric = y.dtype.kind in "biuf"
    if numeric and y.dtype.kind == "f":
        check_finite(owner, "y", y)
    integral = numeric and (y.dtype.kind in "biu" or bool(np.all(y == np.round(y))))
    if task is None:
        task = "classification" if (integral or not numeric) else "regression"
    if task == "regression":
        if not numeric:
            raise ConfigError(_("{owner}: regression targets must be numbers, got {dtype} values "
                                "such as {y!r}").format(owner=owner, dtype=y.dtype, y=y[0]))
        with np.errstate(over="ignore"):  # checked just below, without a RuntimeWarning
            targets = y.astype(np.float32)
        check_finite(owner, "y (as float32)", targets)
        return targets, 0, ()
    if integral and (len(y) == 0 or 0 <= y.min() <= y.max() < MAX_LABEL):
        labels = y.astype(np.int64)
        return labels, int(labels.max()) + 1 if len(labels) else 0, ()
    classes, labels = np.unique(y, return_inverse=True)
    names = tuple(_label_str(c) for c in classes)
    return labels.astype(np.int64).ravel(), len(classes), names


def _label_str(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def load_arrays(X, y, *, name: str = "arrays", feature_names=None,
                task: str | None = None) -> Dataset:
    """A :class:`Dataset` from arrays, after checking them.

    Args:
        X: inputs, array-like of numbers, shape (m, n_features) or (m, C, H, W); cast to float32.
        y: targets, shape (m,) or (m, 1): labels (ints, bools, strings) or real values.
        name: the data set's name in messages and reports.
        feature_names: one per column of a 2-D X (default ``"x1"``, ``"x2"``, …).
        task: ``"classification"``, ``"regression"`` or None (guess from y, see the module doc).

    Raises:
        ShapeError: X is not at least 2-D, or y's length differs from X's.
        ConfigError: X holds something that is not a number.
        NonFiniteError: X or y holds NaN or ±inf (the message gives the first index).
    """
    owner = f"load_arrays({name!r})"
    raw = np.asarray(X)
    if raw.dtype.kind not in "biuf":
        first = (_(" (first element {first!r})").format(first=raw.flat[0]) if raw.size else "")
        raise ConfigError(_("{owner}: X must hold numbers, got dtype {dtype}{first}").format(
            owner=owner, dtype=raw.dtype, first=first))
    if raw.ndim < 2:
        raise ShapeError(_("{owner}: X must have shape (m, n_features), got {shape}; use "
                           "X.reshape(-1, 1) for a single feature")
                           .format(owner=owner, shape=raw.shape))
    check_finite(owner, "X", raw)
    with np.errstate(over="ignore"):  # checked just below, without a RuntimeWarning
        Xf = np.ascontiguousarray(raw, dtype=np.float32)
    # float64 values beyond float32's range (~3.4e38) become inf in the cast.
    check_finite(owner, "X (as float32)", Xf)
    yr = np.asarray(y)
    if yr.ndim == 2 and yr.shape[1] == 1:
        yr = yr[:, 0]
    if yr.ndim != 1 or len(yr) != len(Xf):
        raise ShapeError(_("{owner}: y must have shape ({n_xf},) to match X of shape {shape}, "
                           "got {shape2}")
                           .format(owner=owner, n_xf=len(Xf), shape=Xf.shape,
                                   shape2=yr.shape))
    if len(Xf) == 0:
        raise ShapeError(_("{owner}: X has no rows").format(owner=owner))
    targets, n_classes, class_names = _encode_targets(owner, yr, task)
    if feature_names is None:
        feature_names = tuple(f"x{i + 1}" for i in range(Xf.shape[1])) if Xf.ndim == 2 else ()
    elif Xf.ndim != 2 or len(feature_names) != Xf.shape[1]:
        raise ShapeError(_("{owner}: {n_feature_names} feature names for X of shape {shape}")
                           .format(owner=owner, n_feature_names=len(feature_names),
                                   shape=Xf.shape))
    return Dataset(Xf, targets, name, n_classes, tuple(str(f) for f in feature_names), class_names)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def load_csv(path, target=-1, *, delimiter: str = ",", header="auto", task: str | None = None,
             name: str | None = None) -> Dataset:
    """A :class:`Dataset` from a CSV file: one example per row, one column is the target.

    Args:
        path: the file (UTF-8; a byte-order mark is ignored). Blank lines are skipped; quoted
            cells are handled by Python's ``csv`` module.
        target: the target column, an index (negative counts from the end; default the last) or
            a column name from the header.
        delimiter: the cell separator.
        header: True (the first row names the columns), False, or ``"auto"``: the first row is a
            header if any of its feature cells is not a number (feature cells of data rows must
            be numbers, so such a row cannot be data).
        task: as in :func:`load_arrays`.
        name: the data set's name (default: the file name).

    Every feature cell must be a finite number within float32's range; the target may be
    numbers or class names.

    Raises (each message names the file, the row as a line number in the file, and the column):
        ConfigError: missing, unreadable or empty file (or a directory), unknown target column,
            a cell that is not a number.
        ShapeError: a row with a different number of cells than the first.
        NonFiniteError: a missing (empty) cell, NaN or ±inf.
    """
    path = os.fspath(path)
    where = f"load_csv({path!r})"
    if header not in (True, False, "auto"):
        raise ConfigError(_("{where}: header must be True, False or 'auto', got {header!r}")
                            .format(where=where, header=header))
    rows = _read_rows(path, where, delimiter)
    first = rows[0][1]
    t, has_header = _target_column(where, path, target, header, first)
    columns = first if has_header else [f"column {i + 1}" for i in range(len(first))]
    data = rows[1:] if has_header else rows
    if not data:
        raise ConfigError(_("{where}: the file has a header but no data rows")
                            .format(where=where))
    feature_cols = [i for i in range(len(first)) if i != t]
    X, y = _csv_arrays(data, feature_cols, t, _cell_error(where, columns, has_header))
    if has_header:
        names = [columns[i] for i in feature_cols]
    else:
        names = [f"x{j + 1}" for j in range(len(feature_cols))]
    return load_arrays(X, y, name=name or os.path.basename(path), feature_names=names, task=task)


def _read_rows(path: str, where: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """The non-blank rows of a CSV file as ``(line number, stripped cells)``, all as wide as the
    first and at least two cells wide; a ConfigError or ShapeError naming the file otherwise."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=delimiter, skipinitialspace=True)
            rows = []
            for row in reader:
                if row and any(c.strip() for c in row):
                    rows.append((reader.line_num, [c.strip() for c in row]))
    except FileNotFoundError:
        raise ConfigError(_("{where}: no such file").format(where=where)) from None
    except IsADirectoryError:
        raise ConfigError(_("{where}: is a directory, not a CSV file").format(
            where=where)) from None
    except OSError as e:  # unreadable (permissions), a device, a broken mount…
        raise ConfigError(_("{where}: cannot read it ({reason})")
                            .format(where=where, reason=e.strerror or e)) from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise ConfigError(_("{where}: cannot be read as CSV text: {reason}")
                            .format(where=where, reason=e)) from None
    if not rows:
        raise ConfigError(_("{where}: the file is empty").format(where=where))
    first_line, first = rows[0]
    width = len(first)
    if width < 2:
        raise ShapeError(_("{where}: row {first_line} has {width} column; need at least one "
                           "feature and the target (is the delimiter {delimiter!r} right?)")
                           .format(where=where, first_line=first_line, width=width,
                                   delimiter=delimiter))
    for line, row in rows:
        if len(row) != width:
            raise ShapeError(_("{where}: row {line} has {n_row} cells, expected {width} (as in "
                               "row {first_line})")
                               .format(where=where, line=line, n_row=len(row),
                                       width=width, first_line=first_line))
    return rows


def _target_column(where: str, path: str, target, header, first: list[str]) -> tuple[int, bool]:
    """``(index of the target column, whether the first row is a header)``."""
    width = len(first)
    if isinstance(target, str):
        if header is False:
            raise ConfigError(_("{where}: target {target!r} is a column name but header=False")
                                .format(where=where, target=target))
        if target not in first:
            raise unknown_name(_("target column in {path!r}").format(path=path), target, first)
        return first.index(target), True
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not -width <= target < width:
            raise ConfigError(_("{where}: target column index must be in [{value}, {width}] for "
                                "{width2} columns, got {target}")
                                .format(where=where, value=-width, width=width - 1,
                                        width2=width, target=target))
        t = int(target) % width
        if header == "auto":
            return t, any(not _is_number(c) for i, c in enumerate(first) if i != t)
        return t, bool(header)
    raise ConfigError(_("{where}: target must be a column index or name, got {target!r}")
                        .format(where=where, target=target))


def _cell_error(where: str, columns: list[str], has_header: bool):
    """``bad_cell(kind, line, column, cell)`` → the error naming the file, row and column:
    kind ``"number"`` (not a number: ConfigError), ``"missing"``, ``"finite"`` or
    ``"float32"`` (beyond float32's range; NonFiniteError)."""
    def bad_cell(kind, line, i, cell):
        err = NonFiniteError if kind != "number" else ConfigError
        what = {"number": _("{cell!r} is not a number"),
                "missing": _("the cell is empty (a missing value)"),
                "finite": _("{cell!r} is not finite (NaN or infinity)"),
                "float32": _("{cell!r} is beyond float32's range (±{most:.3g}), in which whynet "
                             "computes")}[kind].format(cell=cell, most=F32_MAX)
        column = repr(columns[i]) if has_header else str(i + 1)
        return err(_("{where}: row {line}, column {column}: {what}")
                   .format(where=where, line=line, column=column, what=what))

    return bad_cell


def _csv_arrays(data, feature_cols: list[int], t: int, bad_cell) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` from the data rows: X float64 (rows, features); y numbers when every target
    cell is one, else the class names as strings."""
    lines = [line for line, _ in data]
    cells = [row for _, row in data]
    X = _parse_numbers(cells, feature_cols, lines, bad_cell)
    t_cells = [row[t] for row in cells]
    for line, cell in zip(lines, t_cells):
        if cell == "":
            raise bad_cell("missing", line, t, cell)
    if all(_is_number(c) for c in t_cells):
        return X, _parse_numbers(cells, [t], lines, bad_cell)[:, 0]
    return X, np.asarray(t_cells)


def _parse_numbers(cells, cols, lines, bad_cell) -> np.ndarray:
    """float64 array (rows, len(cols)); on a bad cell, the error for the first one in file order."""
    block = [[row[i] for i in cols] for row in cells]
    try:
        values = np.array(block, dtype=np.float64)
    except ValueError:
        values = None
    if values is not None and np.isfinite(values).all() and (abs(values) <= F32_MAX).all():
        return values
    out = np.empty((len(block), len(cols)))
    for r, (line, row) in enumerate(zip(lines, block)):  # slow path: name the first bad cell
        for j, (i, cell) in enumerate(zip(cols, row)):
            if cell == "":
                raise bad_cell("missing", line, i, cell)
            try:
                v = float(cell)
            except ValueError:
                raise bad_cell("number", line, i, cell) from None
            if not math.isfinite(v):
                raise bad_cell("finite", line, i, cell)
            if abs(v) > F32_MAX:
                raise bad_cell("float32", line, i, cell)
            out[r, j] = v
    return out
