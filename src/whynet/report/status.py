"""How a status is named when shown to a reader: one home for the report, the CLI and the lab.

A test (holds / fails / depends / inconclusive) could have gone either way; ``shown`` is a
demonstration that holds by construction, so it is labelled as such and never looks like a test.
The statuses stay English data (JSON, the store, CSS classes); only their labels are translated.
"""

from __future__ import annotations

from ..experiments.base import TESTS
from ..i18n import N_, _

LABELS = {"holds": N_("holds"), "fails": N_("fails"), "depends": N_("depends"),
          "inconclusive": N_("inconclusive"), "shown": N_("shown (demonstration)"),
          "not run": N_("not run"), "not answered": N_("not answered"), "error": N_("error")}
"""Status → its label, marked for translation (translated by :func:`label`)."""

#: Statuses that are not an answer yet.
OPEN = ("not run", "not answered", "error")


def label(status: str) -> str:
    """``"shown"`` → ``"shown (demonstration)"`` (in the language in force); every status has
    its label, an unknown one is shown as it is."""
    return _(LABELS[status]) if status in LABELS else status


def counts(statuses) -> dict:
    """Counts of tests per status, demonstrations and open questions, kept apart::

        {"tests": {"holds": 3, "fails": 1, "depends": 2, "inconclusive": 0}, "n_tests": 6,
         "shown": 2, "open": 1}
    """
    statuses = list(statuses)
    tests = {s: statuses.count(s) for s in TESTS}
    return {"tests": tests, "n_tests": sum(tests.values()), "shown": statuses.count("shown"),
            "open": sum(statuses.count(s) for s in OPEN)}
