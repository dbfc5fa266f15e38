"""The experiment contract: verdict helpers, the question catalogue and the registry."""

import math
import re
from pathlib import Path

import pytest

from whynet.errors import ConfigError, UnknownNameError
from whynet.experiments import registry
from whynet.experiments.base import (Experiment, Row, RunResult, Stat, Verdict, combine, decide,
                                     format_number, group, mean_spread, tally, values)
from whynet.experiments.questions import GROUPS, NOTES, QUESTIONS


class Tiny(Experiment):
    id = "zz_tiny"
    questions = ("A4",)
    title = "tiny"
    question = "Is x positive?"
    what = "Nothing."

    def grid(self, quick):
        return [{"x": 1}, {"x": -1}]

    def run(self, spec, seed):
        return {"y": spec["x"] * (seed + 1)}

    def verdicts(self, results):
        return [Verdict("A4", decide(r.result["y"] > 0 for r in results), "sign of y")]


# -- Stat and mean_spread --------------------------------------------------------------------

def test_mean_spread_numbers():
    s = mean_spread([0.9, 0.96, 0.93])
    assert s.n == 3 and s.min == 0.9 and s.max == 0.96
    assert s.mean == pytest.approx(0.93)
    assert s.std == pytest.approx(math.sqrt(((0.03) ** 2 * 2) / 2))  # sample std, ddof=1
    assert mean_spread([0.5]).std == 0.0


def test_stat_prints_spread_to_one_significant_digit_and_mean_to_match():
    assert str(Stat(0.9312, 0.0213, 3, 0.9, 0.95)) == "0.93 ± 0.02 (n=3)"
    # a spread starting with 1 keeps two digits (0.016, not 0.02: that would be 25% off)
    assert str(Stat(0.93, 0.0163, 3, 0.9, 0.95)) == "0.930 ± 0.016 (n=3)"
    assert str(Stat(0.5, 0.0, 2, 0.5, 0.5)) == "0.5 ± 0 (n=2)"
    assert str(Stat(1.2e-5, 3e-6, 3, 0, 1)) == "1.20e-05 ± 3.0e-06 (n=3)"
    assert Stat(0.925, 0.01, 3, 0, 1).fmt(".1%") == "92.5% ± 1.0% (n=3)"


def test_mean_spread_keeps_a_diverged_seed_visible():
    s = mean_spread([1.0, float("nan"), 2.0])
    assert s.n == 3 and math.isnan(s.mean)
    assert str(s).startswith("nan")


def test_mean_spread_of_nothing_raises():
    with pytest.raises(ConfigError, match="at least one value"):
        mean_spread([])


# -- decide / combine ------------------------------------------------------------------------

@pytest.mark.parametrize("flags, expected", [
    ([True, True, True], "holds"),
    ([False, False], "fails"),
    ([True, False, True], "inconclusive"),  # seeds disagree
    ([], "inconclusive"),                   # no evidence is no verdict
])
def test_decide(flags, expected):
    assert decide(flags) == expected


def test_decide_accepts_numpy_bools_and_generators():
    import numpy as np

    assert decide(np.array([1.0, 2.0]) > 0) == "holds"
    assert decide(x > 5 for x in [1, 2]) == "fails"


@pytest.mark.parametrize("statuses, expected", [
    (["holds", "holds"], "holds"),
    (["fails", "fails"], "fails"),
    (["holds", "fails"], "depends"),
    (["holds", "inconclusive", "fails"], "inconclusive"),
    ([], "inconclusive"),
    (["shown", "shown"], "shown"),
    (["shown", "holds"], "holds"),
    (["shown", "fails", "holds"], "depends"),
])
def test_combine(statuses, expected):
    assert combine(statuses) == expected


def test_status_is_checked():
    with pytest.raises(ConfigError, match="'maybe'"):
        Verdict("A1", "maybe", "…")
    with pytest.raises(ConfigError, match="'true'"):
        combine(["holds", "true"])


def test_verdict_as_dict_formats_numbers():
    v = Verdict("A4", "holds", "s", {"ratio": mean_spread([1e-4, 3e-4]), "bound": 0.25 ** 10,
                                      "layers": 10, "note": "x"})
    d = v.as_dict()
    assert d["numbers"] == {"ratio": "2.00e-04 ± 1.4e-04 (n=2)", "bound": "9.54e-07",
                            "layers": "10", "note": "x"}
    assert format_number(float("nan")) == "nan"


# -- group / values --------------------------------------------------------------------------

def _rr(act, depth, seed, y):
    return RunResult({"act": act, "depth": depth}, seed, {"y": y})


def test_group_by_key_tuple_and_function_keeps_grid_order():
    rs = [_rr("tanh", 2, 0, 1), _rr("relu", 2, 0, 2), _rr("tanh", 4, 1, 3)]
    assert list(group(rs, "act")) == ["tanh", "relu"]
    assert [len(v) for v in group(rs, "act").values()] == [2, 1]
    assert list(group(rs, ("act", "depth"))) == [("tanh", 2), ("relu", 2), ("tanh", 4)]
    assert list(group(rs, lambda r: r.seed)) == [0, 1]
    assert values(group(rs, "act")["tanh"], "y") == [1, 3]


# -- Experiment defaults ---------------------------------------------------------------------

def test_seeds_default_and_override():
    e = Tiny()
    assert e.seeds(True) == [0, 1, 2] and e.seeds(False) == [0, 1, 2, 3, 4]
    assert e.seeds(True, 2) == [0, 1]
    with pytest.raises(ConfigError, match="got 0"):
        e.seeds(True, 0)
    assert e.figures([]) == [] and e.corrections([]) == [] and e.published([]) == []


# -- questions -------------------------------------------------------------------------------

def test_catalogue_has_every_question_of_questions_md():
    # The 30 IDs of ../shared/QUESTIONS.md, in its order.
    expected = ([f"A{i}" for i in range(1, 11)] + [f"I{i}" for i in range(1, 5)]
                + [f"R{i}" for i in range(1, 7)] + ["B1", "B2", "T1", "T2", "T3", "H1", "H2",
                                                    "C1", "C2", "N1"])
    assert list(QUESTIONS) == expected
    assert all(q.group in GROUPS and q.claim for q in QUESTIONS.values())


def test_every_question_has_its_note_and_place_and_a_why_paragraph():
    for q in QUESTIONS.values():
        assert q.id[0] == q.group or (q.id == "N1" and q.group == "C"), q.id
        assert q.sources, f"{q.id}: no source"
        for src in q.sources:
            assert src.note in NOTES and src.where, f"{q.id}: {src}"
            if src.note == "004":  # lectures 5 and 6 both have a p31 and a p37: name the lecture
                assert re.match(r"lecture [56], p\d", src.where), f"{q.id}: {src}"
        assert str(q.sources[0]) in q.source
        assert "(0" not in q.claim  # the note reference lives in sources, not in the claim
        assert 250 <= len(q.why) <= 1000 and q.why.endswith("."), f"{q.id}: why paragraph"
    assert len({q.why for q in QUESTIONS.values()}) == len(QUESTIONS)  # none copied
    # the mechanism with its formula, e.g. A4's chain of σ′ ≤ 1/4
    assert "σ′(z) = σ(z)(1 − σ(z)) ≤ 1/4" in QUESTIONS["A4"].why
    assert [(s.note, s.where) for s in QUESTIONS["B1"].sources] == [("004", "lecture 6, p59")]


def test_the_notes_named_are_the_files_in_shared_seeds():
    root = Path(__file__).resolve().parents[1]  # ../shared/seeds from the main checkout
    seeds = next((d for d in (root.parent / "shared" / "seeds",
                              root.parent.parent / "shared" / "seeds") if d.is_dir()), root)
    names = {n.file for n in NOTES.values()}
    assert sorted(NOTES) == ["000", "001", "002", "003", "004"]
    assert all(f.startswith(i + "_") and f.endswith(".txt") for i, f in
               ((n.id, n.file) for n in NOTES.values()))
    if seeds != root:  # in the project's workspace; not shipped with the package
        assert names <= {p.name for p in seeds.iterdir()}


# -- registry --------------------------------------------------------------------------------

def test_register_get_by_question_and_remove():
    handle = registry.register(Tiny())
    try:
        assert registry.get("zz_tiny").question == "Is x positive?"
        assert "zz_tiny" in [e.id for e in registry.by_question("A4")]
        assert "zz_tiny" in registry.ids()
    finally:
        handle.remove()
    with pytest.raises(UnknownNameError, match="unknown experiment 'zz_tiny'; known:"):
        registry.get("zz_tiny")


def test_register_rejects_bad_experiments():
    class NoQuestion(Tiny):
        questions = ()

    class WrongQuestion(Tiny):
        questions = ("Z9",)

    class OneSeed(Tiny):
        seeds_quick = 1

    with pytest.raises(ConfigError, match="answers no question"):
        registry.register(NoQuestion())
    with pytest.raises(ConfigError, match="'Z9'"):
        registry.register(WrongQuestion())
    with pytest.raises(ConfigError, match="seeds_quick must be ≥ 2"):
        registry.register(OneSeed())


def test_discovered_experiments_follow_the_contract():
    # Every module shipped in whynet/experiments passes the registry's checks (it raises
    # otherwise) and its quick grid is a non-empty list of JSON-able dicts.
    from whynet.store import canonical_json

    for e in registry.all_experiments():
        grid = e.grid(True)
        assert grid and all(isinstance(s, dict) for s in grid), e.id
        assert len({canonical_json(s) for s in grid}) == len(grid), f"{e.id}: duplicate specs"
        assert e.title and e.question and e.what, e.id


def test_identical_seeds_up_to_round_off_print_no_spread():
    """Three accuracies of 0.1 that differ only in the last bit must not print 18 decimals."""
    from whynet.experiments.base import mean_spread

    stat = mean_spread([0.1, 0.1 + 1e-17, 0.30000000000000004 - 0.2])
    assert str(stat) == "0.1 ± 0 (n=3)"


def test_tally_counts_agreeing_seeds_and_sign_test():
    t = tally([True, True, False])
    assert (t.status, t.agree, t.n, str(t)) == ("inconclusive", 2, 3, "2 of 3 seeds")
    assert tally([True] * 3).sign_p == pytest.approx(0.25)
    assert tally([False] * 10).status == "fails" and tally([False] * 10).sign_p < 0.002
    assert tally([]).status == "inconclusive"


def test_verdict_problems_name_what_is_missing():
    bare = Verdict("A2", "depends", "s")
    assert any("depends_on" in p for p in bare.problems())
    assert any("one-line answer" in p for p in bare.problems())
    full = Verdict("A2", "depends", "s", answer="Faster than sigmoid, not than tanh.",
                   evidence=[Row("tanh", {"epochs": mean_spread([3, 4])})], rule="paired",
                   depends_on=["activation"], agree=tally([True, True]))
    assert full.problems() == []
    d = full.as_dict()
    assert d["depends_on"] == ["activation"] and d["seeds_agree"]["n"] == 2
    assert d["evidence"][0]["measures"]["epochs"].startswith("3.5")
    assert d["kind"] == "test" and Verdict("R5", "shown", "s").as_dict()["kind"] == "demonstration"
    long = Verdict("A2", "holds", answer=" ".join(["word"] * 31), evidence=[Row("x")], rule="r")
    assert any("31 words" in p for p in long.problems())
