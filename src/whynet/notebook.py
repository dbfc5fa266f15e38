"""How whynet objects show themselves in Jupyter: small HTML tables (``_repr_html_``).

One helper, :func:`html_table`, used by ``History``, ``Records``, ``Verdict`` and the probes, so
every object renders with the same look and the same escaping.
"""

from __future__ import annotations

from html import escape

_STYLE = ("border-collapse:collapse;font-size:13px;margin:4px 0",
          "padding:2px 8px;border-bottom:1px solid #ddd;text-align:left")


def html_table(headers, rows, caption: str | None = None, max_rows: int = 30) -> str:
    """An HTML table of ``rows`` (iterables of cells, shown with ``str``), at most ``max_rows``
    of them (a last row says how many were left out), with an optional caption."""
    rows = list(rows)
    shown = rows if len(rows) <= max_rows else rows[:max_rows]
    cell = f'style="{_STYLE[1]}"'
    out = [f'<table style="{_STYLE[0]}">']
    if caption:
        out.append(f'<caption style="text-align:left;font-weight:600">{escape(caption)}</caption>')
    out.append("<tr>" + "".join(f"<th {cell}>{escape(str(h))}</th>" for h in headers) + "</tr>")
    for r in shown:
        out.append("<tr>" + "".join(f"<td {cell}>{escape(_fmt(c))}</td>" for c in r) + "</tr>")
    if len(rows) > len(shown):
        out.append(f'<tr><td {cell} colspan="{len(headers)}">… {len(rows) - len(shown)} more '
                   f"rows</td></tr>")
    return "".join(out) + "</table>"


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "–" if value is None else str(value)
