"""Question files: validation (line and key named, nothing stored), the verdict rule both ways,
the budget check, resuming through the store, the report section."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from whynet.ask import QuestionExperiment, decide_claim, load_question
from whynet.ask.question import MAX_RUNS
from whynet.cli import main
from whynet.errors import ConfigError, UnknownNameError
from whynet.experiments.base import RunResult

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "questions"

TINY = """\
question = "Does tanh beat sigmoid on tiny moons?"
seeds = 2

[run]
data = "moons"
n = 60
hidden = [4]
activation = ["tanh", "sigmoid"]
epochs = 2

[measure]
metrics = ["final_val_acc", "dead"]

[claim]
compare = "activation"
expect = "tanh > sigmoid"
metric = "final_val_acc"
"""


def write(tmp_path, text, name="q.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# -- validation ------------------------------------------------------------------------------------

BAD = [
    # (what to change, the line's number in the result, the key and words the error must name)
    (("epochs = 2", "epochs = 2\nlearning_rate = 0.1"), 10, "[run] learning_rate", "unknown key"),
    (('activation = ["tanh", "sigmoid"]', 'activation = ["tanh", "sigmod"]'), 8,
     "[run] activation", "unknown activation 'sigmod'; known:"),
    (('metric = "final_val_acc"', 'metric = "best_val_loss"'), 17, "[claim] metric",
     "is not measured"),
    (('activation = ["tanh", "sigmoid"]', 'activation = ["tanh", "sigmoid"]\nlr = [0.1]'), 9,
     "[run] lr", "at least two values"),
    (("hidden = [4]", "hidden = [4]\nlr = [" + ", ".join(str(0.001 * (i + 1))
                                                        for i in range(MAX_RUNS)) + "]"),
     8, "[run] lr", "too large"),
    (('metrics = ["final_val_acc", "dead"]', 'metrics = ["final_val_acc", "deadness"]'), 12,
     "[measure] metrics", "unknown metric 'deadness'; did you mean 'dead'? known:"),
    (('compare = "activation"', 'compare = "lr"'), 15, "[claim] compare",
     "not a dimension"),
    (('expect = "tanh > sigmoid"', 'expect = "tanh > relu"'), 16, "[claim] expect",
     "not a value of activation"),
    (("epochs = 2", 'epochs = 2\nseed = 3'), 10, "[run] seed", "seeds = N"),
    # written by someone who had only docs/ask.md:
    (("epochs = 2", "epochs = 2\nbatchsize = 8"), 10, "[run] batchsize",
     "did you mean 'batch_size'?"),
    (("epochs = 2", 'epochs = "two"'), 9, "[run] epochs", "must be an integer"),
    (("seeds = 2", 'seeds = "2"'), 2, "seeds", "must be an integer from 1 to"),
    (("hidden = [4]", "hidden = 4"), 7, "[run] hidden", "list of layer sizes"),
    (("n = 60", "n = 60,"), 6, "not valid TOML", "column 7"),
    (("epochs = 2", "epochs = 2\nepochs = 3"), 10, "not valid TOML", "overwrite"),
    (("epochs = 2", 'epochs = 2\noptimizer = "adam"\nmomentum = 0.9'), 11, "[run] momentum",
     "not a valid run with momentum = 0.9: momentum is a setting of sgd"),
    (("epochs = 2", 'epochs = 2\nlam = 0.01'), 10, "[run] lam", "not a valid run"),
    (('n = 60', 'n = [60, 60]'), 6, "[run] n", "must not repeat a value"),
    (('expect = "tanh > sigmoid"', 'expect = "tanh == sigmoid"'), 16, "[claim] expect",
     "'==' needs margin"),
    (('metric = "final_val_acc"', 'metric = "final_val_acc"\nbest_over = "lr"'), 18,
     "[claim] best_over", "'lr' is not a dimension of [run]"),
    (('metrics = ["final_val_acc", "dead"]', 'metrics = ["epochs_to_target"]'), 12,
     "[measure] metrics", "need target"),
    (('metric = "final_val_acc"', 'metric = "val_acc"'), 17, "[claim] metric",
     "did you mean 'final_val_acc' or 'best_val_acc'?"),
    (("n = 60", "data_args = [{ factor = 0.5 }, { factor = 0.8 }]"), 6, "[run] data_args",
     "cannot be a dimension"),
    (('metric = "final_val_acc"', 'metric = "final_val_acc"\n[extras]\nx = 1'), 18, "extras",
     "unknown key; allowed: id, question"),
    # never reaching the target counts epochs + 1: across values of epochs, a shorter run would
    # look faster
    ((("epochs = 2", "epochs = [2, 4]"),
      ('activation = ["tanh", "sigmoid"]', 'activation = "tanh"'),
      ('metrics = ["final_val_acc", "dead"]',
       'metrics = ["epochs_to_target"]\ntarget = 0.8'),
      ('compare = "activation"', 'compare = "epochs"'),
      ('expect = "tanh > sigmoid"', 'expect = "4 < 2"'),
      ('metric = "final_val_acc"', 'metric = "epochs_to_target"')), 18, "[claim] metric",
     "use steps_to_target"),
    # saturation is undefined for ReLU: refused for a claim on it, and when no run has it
    ((('activation = ["tanh", "sigmoid"]', 'activation = ["tanh", "relu"]'),
      ('metrics = ["final_val_acc", "dead"]', 'metrics = ["saturated"]'),
      ('expect = "tanh > sigmoid"', 'expect = "tanh > relu"'),
      ('metric = "final_val_acc"', 'metric = "saturated"')), 17, "[claim] metric",
     "'saturated' is not defined for activation relu"),
    ((('activation = ["tanh", "sigmoid"]', 'activation = ["relu", "elu"]'),
      ('metrics = ["final_val_acc", "dead"]', 'metrics = ["final_val_acc", "saturated.mean"]'),
      ('expect = "tanh > sigmoid"', 'expect = "relu > elu"')), 12, "[measure] metrics",
     "'saturated.mean' is not defined for activation relu"),
]


@pytest.mark.parametrize("change, line, key, words", BAD)
def test_a_bad_question_names_line_and_key_and_stores_nothing(tmp_path, change, line, key, words):
    text = TINY
    for old, new in (change if isinstance(change[0], tuple) else [change]):
        assert old in text
        text = text.replace(old, new)
    path = write(tmp_path, text)
    store = tmp_path / "runs.sqlite"
    res = CliRunner().invoke(main, ["ask", str(path), "--store", str(store)])
    assert res.exit_code == 2, res.output
    err = res.output.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: question ")
    assert f"line {line}: {key}" in err[0] and words in err[0], err[0]
    assert not store.exists()  # checked before the store is opened: nothing written


def test_a_missing_measure_table_is_named(tmp_path):
    text = TINY.replace('[measure]\nmetrics = ["final_val_acc", "dead"]\n', "")
    with pytest.raises(ConfigError, match=r"q.toml: measure: missing; a question needs a \[measure\]"):
        load_question(write(tmp_path, text))


def test_expect_takes_values_as_written_by_hand(tmp_path):
    # ≥ for >=, a number by its value, a list without spaces
    text = (TINY.replace("hidden = [4]", "hidden = [[4], [4, 4]]\nlr = [0.01, 2.0]")
            .replace('activation = ["tanh", "sigmoid"]', 'activation = "tanh"'))
    q = load_question(write(tmp_path, text.replace('compare = "activation"', 'compare = "lr"')
                            .replace('"tanh > sigmoid"', '"2 ≥ 0.01"')))
    assert q.claim.pairs == ((2.0, ">=", 0.01),)
    q = load_question(write(tmp_path, text.replace('compare = "activation"', 'compare = "hidden"')
                            .replace('"tanh > sigmoid"', '"[4,4] > [4]"')))
    assert q.claim.pairs == (([4, 4], ">", [4]),)


def test_unknown_names_list_the_known_ones(tmp_path):
    with pytest.raises(UnknownNameError, match="known: .*relu.*swish"):
        load_question(write(tmp_path, TINY.replace('"sigmoid"]', '"sigmod"]')))
    with pytest.raises(UnknownNameError, match="known: .*adam.*sgd"):
        load_question(write(tmp_path, TINY.replace("epochs = 2", 'epochs = 2\noptimizer = "lbfgs"')))


def test_no_code_in_a_question_file(tmp_path):
    # Only names from the registries: a dotted Python path is an unknown name, never imported.
    with pytest.raises(UnknownNameError, match="unknown activation 'os.system'"):
        load_question(write(tmp_path, TINY.replace('"sigmoid"]', '"os.system"]')))


def test_quick_may_shrink_but_not_add_a_dimension(tmp_path):
    q = load_question(write(tmp_path, TINY + "\n[quick]\nepochs = 1\nseeds = 1\n"))
    assert q.quick.base["epochs"] == 1 and q.quick.seeds == 1 and q.full.seeds == 2
    with pytest.raises(ConfigError, match=r"line 21: \[quick\] lr: is not a dimension"):
        load_question(write(tmp_path, TINY + "\n[quick]\nepochs = 1\nlr = [0.1, 0.2]\n"))


def test_the_examples_are_valid_and_small():
    files = sorted(EXAMPLES.glob("*.toml"))
    assert len(files) >= 8
    for f in files:
        q = load_question(f)
        assert q.quick.n_runs <= 60, f


# -- the rule, both ways ---------------------------------------------------------------------------

def results(values: dict) -> list[RunResult]:
    """RunResults of ``{(activation, lr, data): [metric per seed]}``."""
    out = []
    for (act, lr, data), per_seed in values.items():
        for seed, v in enumerate(per_seed):
            out.append(RunResult({"activation": act, "lr": lr, "data": data}, seed,
                                 {"epochs_to_target": v, "best_val_acc": 1 - v / 100}))
    return out


def claim_of(tmp_path, expect="relu < sigmoid", best_over=None):
    text = f"""\
question = "q"
[run]
activation = ["relu", "sigmoid"]
lr = [0.1, 0.3]
data = ["moons", "circles"]
[measure]
metrics = ["epochs_to_target", "best_val_acc"]
target = 0.9
[claim]
compare = "activation"
expect = "{expect}"
metric = "epochs_to_target"
""" + (f'best_over = "{best_over}"\n' if best_over else "")
    return load_question(write(tmp_path, text)).claim


def decide(tmp_path, values, **kw):
    claim = claim_of(tmp_path, **kw)
    dims = ["activation", "lr", "data"]
    return decide_claim("t", claim, results(values), dims)


def grid(relu, sigmoid, relu_c=None, sigmoid_c=None):
    """Same numbers at both learning rates; circles default to moons' numbers."""
    v = {}
    for lr in (0.1, 0.3):
        v[("relu", lr, "moons")] = relu
        v[("sigmoid", lr, "moons")] = sigmoid
        v[("relu", lr, "circles")] = relu_c or relu
        v[("sigmoid", lr, "circles")] = sigmoid_c or sigmoid
    return v


def test_rule_holds_when_every_seed_agrees(tmp_path):
    v = decide(tmp_path, grid([3, 4, 5], [8, 9, 9]))
    assert v.status == "holds" and not v.problems()


def test_rule_fails_when_no_seed_agrees(tmp_path):
    v = decide(tmp_path, grid([9, 9, 9], [3, 4, 5]))
    assert v.status == "fails" and v.answer.startswith("No")


def test_rule_inconclusive_when_seeds_split(tmp_path):
    assert decide(tmp_path, grid([3, 9, 5], [8, 4, 9])).status == "inconclusive"


def test_rule_depends_names_the_dimension(tmp_path):
    v = decide(tmp_path, grid([3, 4, 5], [8, 9, 9], relu_c=[9, 9, 9], sigmoid_c=[3, 4, 5]))
    assert v.status == "depends"
    assert "data" in v.depends_on and "lr" in v.depends_on  # lr is a condition here too
    assert not v.problems()


def test_rule_the_other_direction_reverses_the_verdict(tmp_path):
    v = grid([3, 4, 5], [8, 9, 9])
    assert decide(tmp_path, v, expect="relu < sigmoid").status == "holds"
    assert decide(tmp_path, v, expect="relu > sigmoid").status == "fails"


def test_best_over_takes_each_side_at_its_best_value(tmp_path):
    # sigmoid is slow at lr 0.1 but fast at 0.3: at its best rate it beats relu in every seed.
    v = {("relu", 0.1, d): [5, 5, 5] for d in ("moons", "circles")}
    v |= {("relu", 0.3, d): [6, 6, 6] for d in ("moons", "circles")}
    v |= {("sigmoid", 0.1, d): [20, 20, 20] for d in ("moons", "circles")}
    v |= {("sigmoid", 0.3, d): [2, 3, 2] for d in ("moons", "circles")}
    with_best = decide(tmp_path, v, best_over="lr")
    assert with_best.status == "fails"
    assert any("best lr 0.3" in r.condition for r in with_best.evidence)
    # without best_over, lr is a condition: relu wins at 0.1, loses at 0.3
    assert decide(tmp_path, v).status == "depends"


def test_a_diverged_seed_never_agrees(tmp_path):
    assert decide(tmp_path, grid([3, float("nan"), 5], [8, 9, 9])).status == "inconclusive"


# -- running -----------------------------------------------------------------------------------------

def test_ask_runs_resumes_and_prints_json(tmp_path):
    path = write(tmp_path, TINY)
    store = str(tmp_path / "runs.sqlite")
    args = ["ask", str(path), "--store", store, "--jobs", "1", "--json"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    out = json.loads(first.output)
    assert out["runs"] == {"total": 4, "ran": 4, "cached": 0, "failed": 0}
    q = out["questions"][0]
    v = q["verdicts"][0]
    assert v["status"] in ("holds", "fails", "inconclusive")
    assert v["answer"] and v["rule"] and v["evidence"] and v["seeds_agree"]["n"] == 2
    assert {"final_val_acc", "dead"} <= set(v["evidence"][0]["measures"])
    assert q["claim"] == "tanh > sigmoid on final_val_acc" and q["file"] == str(path)
    assert q["dimensions"] == {"activation": ["tanh", "sigmoid"]} and q["seeds"] == [0, 1]
    again = json.loads(CliRunner().invoke(main, args).output)
    assert again["runs"]["cached"] == 4 and again["runs"]["ran"] == 0
    assert again["questions"][0]["verdicts"][0] == v  # same numbers from the store


def test_budget_stops_before_running_unless_yes(tmp_path):
    path = write(tmp_path, TINY)
    store = tmp_path / "runs.sqlite"
    res = CliRunner().invoke(main, ["ask", str(path), "--store", str(store), "--budget", "0"])
    assert res.exit_code == 2 and "over the budget" in res.output and "--yes" in res.output
    assert not store.exists()
    res = CliRunner().invoke(main, ["ask", str(path), "--store", str(store), "--budget", "0",
                                    "--yes", "--jobs", "1"])
    assert res.exit_code == 0, res.output


def test_report_has_a_section_for_asked_questions(tmp_path):
    path = write(tmp_path, TINY)
    store = str(tmp_path / "runs.sqlite")
    assert CliRunner().invoke(main, ["ask", str(path), "--store", store, "-j", "1"]).exit_code == 0
    out = tmp_path / "r.html"
    res = CliRunner().invoke(main, ["report", str(path), "-o", str(out), "--store", store])
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert 'id="asked"' in html and 'id="asked-q"' in html
    assert "Does tanh beat sigmoid on tiny moons?" in html and "data:image/png;base64" in html


def test_the_experiment_is_keyed_by_question_and_spec(tmp_path):
    e = QuestionExperiment(load_question(write(tmp_path, TINY)))
    specs = e.grid(False)
    assert e.id == "ask:q" and len(specs) == 2 and e.seeds(False) == [0, 1]
    assert specs[0]["run"]["activation"] == "tanh" and specs[0]["activation"] == "tanh"


def test_ask_on_a_dask_scheduler(tmp_path):
    distributed = pytest.importorskip("distributed")
    path = write(tmp_path, TINY)
    store = str(tmp_path / "runs.sqlite")
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=None) as cluster:
        res = CliRunner().invoke(main, ["ask", str(path), "--store", store, "--json",
                                        "--scheduler", cluster.scheduler_address])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["runs"]["ran"] == 4 and out["questions"][0]["verdicts"][0]["status"] in \
        ("holds", "fails", "inconclusive")


@pytest.mark.slow
def test_the_zero_init_restatement_agrees_with_experiment_i1(tmp_path):
    from whynet.experiments import registry
    from whynet.runner import collect, evaluate, plan, run_tasks
    from whynet.store import Store

    asked = QuestionExperiment(load_question(EXAMPLES / "i1_zero_init.toml"))
    builtin = registry.get("i1")
    with Store(tmp_path / "runs.sqlite") as store:
        run_tasks(plan([asked, builtin], quick=True), store, jobs=1, progress=False)
        mine = evaluate(asked, collect(asked, store, quick=True)).verdicts[0]
        theirs = evaluate(builtin, collect(builtin, store, quick=True)).verdict_for("I1")
    assert mine.status == theirs.status == "holds"


# -- from the lab ------------------------------------------------------------------------------------

def test_a_lab_config_becomes_a_question_that_runs(tmp_path):
    from whynet.ask.export import question_from_config
    from whynet.web.schema import LabConfig

    text = question_from_config(LabConfig().to_run_config(), "lr", [0.03, 0.3])
    q = load_question(write(tmp_path, text))
    assert q.full.dims == {"lr": [0.03, 0.3]} and q.claim.pairs == ((0.03, ">", 0.3),)
    assert q.full.base["data"] == "circles" and "seed" not in q.full.base
    with pytest.raises(UnknownNameError, match="unknown activation 'swoosh'"):
        question_from_config(LabConfig().to_run_config(), "activation", ["relu", "swoosh"])


def test_the_lab_endpoint_hands_out_a_checked_question():
    pytest.importorskip("fastapi")
    import warnings

    with warnings.catch_warnings():  # Starlette suggests httpx2 for its TestClient; httpx works
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from whynet.web.server import create_app

    with TestClient(create_app(allowed_hosts=["testserver"])) as api:
        sid = api.post("/api/sessions", json={}).json()["id"]
        r = api.post(f"/api/sessions/{sid}/question",
                     json={"dimension": "activation", "values": ["relu", "tanh"]})
        assert r.status_code == 200, r.text
        assert r.json()["filename"] == "lab_activation.toml"
        assert 'activation = ["relu", "tanh"]' in r.json()["toml"]
        bad = api.post(f"/api/sessions/{sid}/question",
                       json={"dimension": "learning_rate", "values": [0.1, 0.3]})
        assert bad.status_code == 422 and "learning_rate" in bad.json()["message"]


# -- metrics -----------------------------------------------------------------------------------------

def test_training_metrics_count_epochs_to_target_and_mark_divergence():
    import math

    from whynet.ask.metrics import training_metrics

    epochs = {"loss": [1.0, 0.5, 0.4], "acc": [0.5, 0.8, 0.9], "val_loss": [1.1, 0.6, 0.7],
              "val_acc": [0.5, 0.92, 0.95]}
    m = training_metrics(epochs, False, [0.1, 0.2, 0.3], 0.9, 3, steps_per_epoch=5)
    assert (m["epochs_to_target"], m["steps_to_target"], m["seconds_to_target"]) == (2, 10, 0.2)
    assert m["reached_target"] == 1.0
    assert (m["best_val_acc"], m["final_val_loss"], m["best_val_loss"]) == (0.95, 0.7, 0.6)
    # Never reached: epochs + 1, but inf steps and seconds, so that a shorter run that stopped
    # short (batch 128 never there in 0.04 s) does not beat a longer one that got there.
    never = training_metrics(epochs, False, [0.1, 0.2, 0.3], 0.99, 3, steps_per_epoch=5)
    assert never["epochs_to_target"] == 4 and never["reached_target"] == 0.0
    assert math.isinf(never["steps_to_target"]) and math.isinf(never["seconds_to_target"])
    gone = training_metrics(epochs, True, [0.1, 0.2, 0.3], 0.9, 3)
    assert math.isnan(gone["final_val_acc"]) and gone["diverged"] == 1.0
    assert "epochs_to_target" not in training_metrics(epochs, False, [0.1], None, 3)


def test_probe_metrics_average_layers_and_time():
    from whynet.ask.metrics import probe_metrics
    from whynet.probes import Records

    rec = Records([(1, "1:relu", "dead", 0.0), (1, "3:relu", "dead", 0.2),
                   (9, "1:relu", "dead", 0.4), (9, "3:relu", "dead", 0.6),
                   (1, "0:dense", "distinct_units", 4.0), (1, "4:dense", "distinct_units", 1.0),
                   (9, "0:dense", "distinct_units", 8.0), (9, "4:dense", "distinct_units", 2.0)])
    m = probe_metrics(rec, {"0:dense": 8, "4:dense": 2}, "4:dense")
    assert m["dead.start"] == pytest.approx(0.1) and m["dead"] == pytest.approx(0.5)
    assert m["dead.mean"] == pytest.approx(0.3)
    # the output layer is left out: 4 of 8 hidden units distinct at the start, 8 of 8 at the end
    assert (m["distinct_units.start"], m["distinct_units"]) == (0.5, 1.0)


@pytest.mark.parametrize("dataset", ["plane", "disc", "multigauss"])
def test_the_lab_asks_questions_about_playground_sets(dataset, tmp_path):
    """TensorFlow Playground's own sets are data sets of the front door, so "Ask as a question"
    hands out a question that loads (a regression set's claim is on the validation loss), and
    it runs: every run measures a finite loss."""
    pytest.importorskip("fastapi")
    import math
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from whynet.runner import collect, plan, run_tasks
    from whynet.store import Store
    from whynet.web.server import create_app

    with TestClient(create_app(allowed_hosts=["testserver"])) as api:
        sid = api.post("/api/sessions", json={"dataset": dataset, "n_points": 80}).json()["id"]
        r = api.post(f"/api/sessions/{sid}/question",
                     json={"dimension": "lr", "values": [0.03, 0.3]})
    assert r.status_code == 200, r.text
    q = load_question(write(tmp_path, r.json()["toml"] + "[quick]\nseeds = 1\nepochs = 2\n"))
    assert q.full.base["data"] == dataset
    regression = dataset != "disc"
    assert q.claim.metric == ("best_val_loss" if regression else "best_val_acc")
    assert ("best_val_acc" in q.metrics) is not regression
    asked = QuestionExperiment(q)
    with Store(tmp_path / "runs.sqlite") as store:
        run_tasks(plan([asked], quick=True), store, jobs=1, progress=False)
        runs = collect(asked, store, quick=True)
    assert len(runs) == 2
    assert all(math.isfinite(r.result["final_loss"]) for r in runs)


def test_saturation_of_an_unbounded_activation_shows_as_undefined_not_nan(tmp_path):
    text = (TINY.replace('["tanh", "sigmoid"]', '["tanh", "relu"]')
            .replace('"final_val_acc", "dead"', '"final_val_acc", "saturated"')
            .replace("tanh > sigmoid", "tanh > relu"))
    q = load_question(write(tmp_path, text))
    results = [RunResult({"activation": a, "run": {"activation": a}}, seed,
                         {"final_val_acc": acc, "saturated": sat})
               for a, acc, sat in (("tanh", 0.9, 0.2), ("relu", 0.8, float("nan")))
               for seed in (0, 1)]
    v = decide_claim("t", q.claim, results, ["activation"], shown=q.metrics)
    rows = {r.condition: r.as_dict()["measures"] for r in v.evidence}
    assert rows["activation tanh"]["saturated"] == "0.2 ± 0 (n=2)"
    assert rows["activation relu"]["saturated"].startswith("undefined (relu is unbounded")


def test_a_side_that_never_reaches_the_target_is_never_faster(tmp_path):
    # batch 128 stops short (inf seconds) after less CPU time than batch 8 needs to get there.
    text = """\
question = "q"
[run]
batch_size = [8, 128]
[measure]
metrics = ["seconds_to_target", "steps_to_target"]
target = 0.9
[claim]
compare = "batch_size"
expect = "{}"
metric = "{}"
"""
    inf = float("inf")
    results = [RunResult({"batch_size": b}, seed, {"seconds_to_target": s, "steps_to_target": s})
               for b, s in ((8, 0.2), (128, inf)) for seed in (0, 1, 2)]
    for metric in ("seconds_to_target", "steps_to_target"):
        def status(expect):
            q = load_question(write(tmp_path, text.format(expect, metric)))
            return decide_claim("t", q.claim, results, ["batch_size"]).status
        assert status("128 < 8") == "fails" and status("8 < 128") == "holds"
    both_never = [RunResult(r.spec, r.seed, {"seconds_to_target": inf, "steps_to_target": inf})
                  for r in results]
    q = load_question(write(tmp_path, text.format("128 <= 8", "seconds_to_target")))
    assert decide_claim("t", q.claim, both_never, ["batch_size"]).status == "holds"
    q = load_question(write(tmp_path, text.format("128 < 8", "seconds_to_target")))
    assert decide_claim("t", q.claim, both_never, ["batch_size"]).status == "fails"
