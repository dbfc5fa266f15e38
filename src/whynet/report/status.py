"""How a status is named when shown to a reader: one home for the report, the CLI and the lab.

A test (holds / fails / depends / inconclusive) could have gone either way; ``shown`` is a
demonstration that holds by construction, so it is labelled as such and never looks like a test.
"""

from __future__ import annotations

from ..experiments.base import TESTS

LABELS = {"shown": "shown (demonstration)", "not run": "not run", "not answered": "not answered",
          "error": "error", **{s: s for s in TESTS}}

#: Statuses that are not an answer yet.
OPEN = ("not run", "not answered", "error")


def label(status: str) -> str:
    """``"shown"`` → ``"shown (demonstration)"``; every other status is its own label."""
    return LABELS.get(status, status)


def counts(statuses) -> dict:
    """Counts of tests per status, demonstrations and open questions, kept apart::

        {"tests": {"holds": 3, "fails": 1, "depends": 2, "inconclusive": 0}, "n_tests": 6,
         "shown": 2, "open": 1}
    """
    statuses = list(statuses)
    tests = {s: statuses.count(s) for s in TESTS}
    return {"tests": tests, "n_tests": sum(tests.values()), "shown": statuses.count("shown"),
            "open": sum(statuses.count(s) for s in OPEN)}
