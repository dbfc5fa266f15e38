"""The HTML report: one self-contained file with every question's verdict, the numbers and figures.

::

    from whynet.report import write_report
    with Store() as store:
        write_report("report.html", store)

Figures are embedded as base64 PNG and the CSS is inline, so the file opens anywhere, offline.
"""

from .render import build_report, write_report  # noqa: F401
