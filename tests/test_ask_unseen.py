"""Questions written by someone else, from docs/ask.md alone, answered with --quick.

``tests/data/questions/`` holds question files a study group would ask next, written without
reading the code: other data sets (spiral, circles, blobs, digits, mnist1d, moons), list-valued
``hidden`` dimensions, data settings as dimensions (``noise``, ``standardize``), probe quantities
(dead, saturated, grad_ratio, distinct_units, update_ratio, weight_small), "at each one's best
learning rate", epochs / steps / seconds to a target, a tie margin, a list of comparisons.

Each must run and give a verdict with evidence; the verdict is then derived again here, from the
stored per-seed numbers, by the rule as docs/ask.md states it (an implementation of its own, not
``decide_claim``), and must agree, as must the evidence's means. No status is written down here:
what the runs say decides it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from whynet.ask import QuestionExperiment, load_question
from whynet.ask.metrics import goal
from whynet.cli import main
from whynet.runner import collect
from whynet.store import Store

UNSEEN = sorted((Path(__file__).parent / "data" / "questions").glob("*.toml"))
STATUSES = ("holds", "fails", "depends", "inconclusive")
FIRST_WORDS = {"holds": "Yes", "fails": "No", "depends": "It depends", "inconclusive": "Inconclusive"}


@pytest.fixture(scope="module")
def answered(tmp_path_factory):
    """Every unseen question asked at once (``--quick``): the JSON and the store."""
    store = tmp_path_factory.mktemp("unseen") / "runs.sqlite"
    res = CliRunner().invoke(main, ["ask", *map(str, UNSEEN), "--quick", "--store", str(store),
                                    "--jobs", "1", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["runs"]["failed"] == 0 and out["runs"]["ran"] == out["runs"]["total"]
    return {Path(q["file"]).name: q for q in out["questions"]}, store


# -- the rule of docs/ask.md, written again --------------------------------------------------------

def _key(value) -> str:
    return json.dumps(value, sort_keys=True)


def _agrees(a: float, b: float, relation: str, margin: float) -> bool:
    """One seed: ``A < B − margin``, ``A > B + margin``, ``A ≤ B + margin``, ``A ≥ B − margin``,
    ``|A − B| ≤ margin``; NaN never agrees; two equal values (two never-reached infs) tie."""
    if math.isnan(a) or math.isnan(b):
        return False
    if a == b:
        return relation in ("<=", ">=", "==")
    return {"<": a < b - margin, ">": a > b + margin, "<=": a <= b + margin,
            ">=": a >= b - margin, "==": abs(a - b) <= margin}[relation]


def _at_best(runs, q):
    """The runs of one side at its best value of ``best_over`` by the mean of ``best_by`` over
    seeds; ties (and NaN means) to the value listed first."""
    claim = q.claim
    by = claim.best_by or (claim.metric if goal(claim.metric) else "best_val_acc")
    sign = 1.0 if goal(by) == "min" else -1.0
    best, best_score = None, math.inf
    for value in q.grid(True).dims[claim.best_over]:
        mine = [r for r in runs if _key(r.spec[claim.best_over]) == _key(value)]
        score = sign * float(np.mean([r.result[by] for r in mine]))
        if not math.isnan(score) and score < best_score:
            best, best_score = mine, score
    return best if best is not None else [r for r in runs if _key(r.spec[claim.best_over]) ==
                                          _key(q.grid(True).dims[claim.best_over][0])]


def rederive(q, results):
    """(status, the claim metric's per-seed values of every side in every condition)."""
    claim = q.claim
    others = [d for d in q.grid(True).dims if d not in (claim.compare, claim.best_over)]
    conditions: dict = {}
    for r in results:
        conditions.setdefault(tuple(_key(r.spec[d]) for d in others), []).append(r)
    statuses, sides = [], []
    for runs in conditions.values():
        side = {}
        for value in {_key(v) for a, _r, b in claim.pairs for v in (a, b)}:
            mine = [r for r in runs if _key(r.spec[claim.compare]) == value]
            side[value] = _at_best(mine, q) if claim.best_over else mine
            sides.append([float(r.result[claim.metric]) for r in side[value]])
        for a, relation, b in claim.pairs:
            va = {r.seed: float(r.result[claim.metric]) for r in side[_key(a)]}
            vb = {r.seed: float(r.result[claim.metric]) for r in side[_key(b)]}
            flags = [_agrees(va[s], vb[s], relation, claim.margin) for s in sorted(va.keys() & vb.keys())]
            statuses.append("holds" if flags and all(flags) else
                            "fails" if flags and not any(flags) else "inconclusive")
    if "inconclusive" in statuses:
        return "inconclusive", sides
    if set(statuses) == {"holds"}:
        return "holds", sides
    if set(statuses) == {"fails"}:
        return "fails", sides
    return "depends", sides


# -- the tests --------------------------------------------------------------------------------------

def test_there_are_unseen_questions_of_every_kind():
    qs = [load_question(f) for f in UNSEEN]
    assert len(qs) >= 6
    data = {q.full.base.get("data") for q in qs}
    assert {"spiral", "digits", "mnist1d", "circles", "moons"} <= data
    metrics = {m.split(".")[0] for q in qs for m in q.metrics}
    assert {"dead", "saturated", "grad_ratio", "distinct_units", "update_ratio",
            "weight_small", "epochs_to_target", "steps_to_target", "seconds_to_target"} <= metrics
    assert any("hidden" in q.full.dims for q in qs)                  # list-valued dimension
    assert any(q.claim.best_over for q in qs)                        # at each one's best lr
    assert any(q.claim.margin for q in qs)                           # a tie margin
    assert any(len(q.claim.pairs) > 1 for q in qs)                   # a list of comparisons
    assert any({"noise", "standardize"} & set(q.full.dims) for q in qs)  # a data setting


@pytest.mark.parametrize("path", UNSEEN, ids=lambda p: p.stem)
def test_an_unseen_question_gets_the_verdict_its_evidence_implies(answered, path):
    by_file, store_path = answered
    asked = by_file[path.name]
    assert asked["error"] is None and len(asked["verdicts"]) == 1
    v = asked["verdicts"][0]
    q = load_question(path)
    assert v["status"] in STATUSES
    assert v["answer"].startswith(FIRST_WORDS[v["status"]]), v["answer"]
    assert v["rule"] and v["evidence"]
    for row in v["evidence"]:
        assert q.claim.metric in row["measures"], row
        for name, text in row["measures"].items():  # saturation of ReLU: words, not nan
            assert not (name.startswith("saturated") and "nan" in text), row
    with Store(store_path, read_only=True) as store:
        results = collect(QuestionExperiment(q), store, quick=True)
    assert len(results) == q.quick.n_runs
    status, sides = rederive(q, results)
    assert v["status"] == status, (v["rule"], sides)
    # The evidence shows the means the rule compared: one row per side and condition (--json
    # writes NaN and inf, a side that never reached the target, as null).
    shown = [row["raw"][q.claim.metric]["mean"] for row in v["evidence"]]
    means = [float(np.mean(s)) for s in sides]
    finite = sorted(m for m in means if math.isfinite(m))
    assert sorted(m for m in shown if m is not None) == pytest.approx(finite)
    assert shown.count(None) == len(means) - len(finite)
    if status == "depends":
        assert v["depends_on"] and all(d in q.full.dims or q.claim.compare in d
                                       for d in v["depends_on"])
