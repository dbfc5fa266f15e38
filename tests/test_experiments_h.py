"""The hyperparameter-search experiments (H1, H2): each quick grid runs through whynet.search and
the robust effects point the way the arithmetic and Bergstra & Bengio (2012) say."""

import numpy as np
import pytest

pytest.importorskip("optuna")

from whynet.experiments.base import STATUSES, RunResult  # noqa: E402
from whynet.experiments.registry import get  # noqa: E402

_cache: dict = {}


def quick_results(exp_id: str) -> tuple:
    if exp_id not in _cache:
        exp = get(exp_id)
        _cache[exp_id] = exp, [RunResult(spec, seed, exp.run(spec, seed))
                               for spec in exp.grid(quick=True)
                               for seed in exp.seeds(quick=True)]
    return _cache[exp_id]


def part(results, name, **match):
    return [r for r in results if r.spec["part"] == name
            and all(r.spec.get(k) == v for k, v in match.items())]


@pytest.mark.parametrize("exp_id", ["h1", "h2"])
def test_verdicts_answer_their_questions_with_computed_statuses(exp_id):
    exp, results = quick_results(exp_id)
    verdicts = exp.verdicts(results)
    assert [v.question for v in verdicts] == list(exp.questions)
    for v in verdicts:
        assert v.status in STATUSES and v.numbers
    assert exp.figures(results), f"{exp_id} draws at least one figure"


def test_h1_uniform_sampling_puts_90_percent_in_the_top_decade_log_a_quarter_in_each():
    exp, results = quick_results("h1")
    for r in part(results, "decades"):
        assert abs(r.result["linear"][-1] - 0.9) < 0.06  # (1 − 0.1) / (1 − 1e-4)
        assert r.result["linear"][0] < 0.01  # [1e-4, 1e-3) is 0.09% of the linear range
        assert all(abs(s - 0.25) < 0.09 for s in r.result["log"])
        assert sum(r.result["log"]) == pytest.approx(1.0)


def test_h1_log_sampling_wins_where_good_learning_rates_are_small_not_where_they_are_large():
    exp, results = quick_results("h1")
    adam, sgd = part(results, "budget", optimizer="adam"), part(results, "budget",
                                                                optimizer="sgd")
    adam_gain = np.mean([r.result["best_log"] - r.result["best_linear"] for r in adam])
    sgd_gain = np.mean([r.result["best_log"] - r.result["best_linear"] for r in sgd])
    assert adam_gain > 0.05  # Adam's good rates are ~1e-2; linear draws land above 0.1
    assert sgd_gain < 0.02  # plain SGD's best rates are in [0.1, 1]: log gains nothing there
    assert np.median([r.result["best_lr"] for r in adam]) < 0.1
    assert np.median([r.result["best_lr"] for r in sgd]) > 0.1
    for r in adam + sgd:  # an efficiency curve never decreases with the budget
        assert np.all(np.diff(r.result["curve_log"]) >= -1e-12)
    v = exp.verdicts(results)[0]
    assert v.status in ("depends", "inconclusive")  # never "holds" everywhere: SGD is the exception
    assert any(c.note == "004 p77" for c in exp.corrections(results))


def test_h2_random_tries_more_distinct_values_of_the_important_parameter_than_grid():
    exp, results = quick_results("h2")
    for r in results:
        budgets = r.result["budgets"]
        assert r.result["grid_distinct"] == [int(round(np.sqrt(b))) for b in budgets]
        assert r.result["random_distinct"] == budgets  # continuous draws never repeat
        for g, rd in zip(r.result["grid_distinct"], r.result["random_distinct"]):
            assert rd > g


def test_h2_random_search_finds_a_better_bump_and_no_worse_learning_rate():
    exp, results = quick_results("h2")
    for r in part(results, "analytic"):
        j9 = r.result["budgets"].index(9)
        assert r.result["random_best"][j9] > r.result["grid_best"][j9] + 0.2
    for r in part(results, "training"):
        assert r.result["effects"]["lr"] > 0.9 > 0.1 > r.result["effects"]["l2"]
        assert np.mean(np.subtract(r.result["random_best"], r.result["grid_best"])) > 0
        j4 = r.result["budgets"].index(4)
        assert r.result["grid_best"][j4] < 0.5 < r.result["random_best"][j4]  # {1e-4, 1} miss
    pub = exp.published(results)
    assert pub and "Bergstra" in pub[0].source and "grid 3, random 9" in pub[0].ours
