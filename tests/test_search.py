"""whynet search: the space, the samplers, pruning, storage (resume, two processes), the CLI."""

import itertools
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")

from whynet.errors import ConfigError, UnknownNameError  # noqa: E402
from whynet.search import (Choice, MLPObjective, Range, expected_best, load_config,  # noqa: E402
                           load_data, main, parse_option, parse_space, search)

TINY = {"name": "moons", "n": 200}  # 120 train / 40 val / 40 test: a trial takes milliseconds


# -- the space ------------------------------------------------------------------------------------

def test_space_from_toml_tables_ranges_choices_and_fixed_values():
    space = parse_space({"lr": {"low": 1e-4, "high": 1, "log": True},
                         "width": {"choices": [8, 16, 32]},
                         "depth": {"low": 1, "high": 3},
                         "epochs": 20})
    assert space.dims["lr"] == Range(1e-4, 1, log=True) and not space.dims["lr"].integer
    assert space.dims["width"] == Choice((8, 16, 32))
    assert space.dims["depth"].integer  # both bounds are ints → suggest_int
    assert space.fixed == {"epochs": 20}


def test_unknown_hyperparameter_names_the_key_and_the_allowed_ones():
    with pytest.raises(ConfigError) as e:
        parse_space({"learning_rate": {"low": 1e-4, "high": 1}})
    msg = str(e.value)
    assert "'learning_rate'" in msg and "lr" in msg and "width" in msg and "batch_size" in msg


def test_unknown_range_field_names_the_field_and_the_allowed_ones():
    with pytest.raises(ConfigError, match=r"'lr': unknown field\(s\) lo; allowed: low, high, log"):
        parse_space({"lr": {"lo": 1e-4, "high": 1}})


@pytest.mark.parametrize("entry, match", [
    ({"lr": {"low": 1.0, "high": 0.1}}, "low < high"),
    ({"lr": {"low": 0.0, "high": 1.0, "log": True}}, "log range needs low > 0"),
    ({"width": {"low": 8.0, "high": 64}}, "integer bounds"),
    ({"activation": {"low": 1, "high": 2}}, "give choices"),
    ({"width": {"choices": [8, "wide"]}}, "takes a int"),
    ({"lr": {"low": 1e-4, "high": 1, "log": True, "step": 0.1}}, "step"),
    ({"epochs": "many"}, "takes a int"),
])
def test_invalid_ranges_and_values_raise_naming_the_hyperparameter(entry, match):
    with pytest.raises(ConfigError, match=match):
        parse_space(entry)


def test_command_line_options():
    assert parse_option("lr=1e-4:1:log") == ("lr", {"low": 1e-4, "high": 1, "log": True})
    assert parse_option("depth=1:3") == ("depth", {"low": 1, "high": 3, "log": False})
    assert parse_option("width=8,16,32") == ("width", {"choices": [8, 16, 32]})
    assert parse_option("activation=relu,tanh") == ("activation", {"choices": ["relu", "tanh"]})
    assert parse_option("epochs=20") == ("epochs", 20)
    assert parse_option("batchnorm=true") == ("batchnorm", True)
    for bad in ("lr", "lr=", "lr=1:2:linear", "=3"):
        with pytest.raises(ConfigError, match="NAME="):
            parse_option(bad)


def test_grid_values_of_a_range_are_log_spaced_for_a_log_range_and_deduplicated_for_ints():
    assert Range(1e-4, 1.0, log=True).grid(3) == pytest.approx([1e-4, 1e-2, 1.0])
    assert Range(0.0, 1.0).grid(3) == [0.0, 0.5, 1.0]
    assert Range(1, 3).grid(5) == [1, 2, 3]  # 1, 1.5, 2, 2.5, 3 rounded: 3 distinct ints
    assert Range(0.0, 1.0, points=5).grid(3) == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_config_file_sections_and_unknown_keys(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('[search]\nsampler = "grid"\nn_trials = 4\n[data]\nname = "moons"\nn = 200\n'
                    '[space]\nlr = {low = 1e-3, high = 1, log = true}\nepochs = 2\n')
    cfg = load_config(good)
    assert cfg["search"] == {"sampler": "grid", "n_trials": 4}
    assert cfg["space"]["lr"] == {"low": 1e-3, "high": 1, "log": True}
    bad = tmp_path / "bad.toml"
    bad.write_text('[search]\nsampler = "tpe"\ntrials = 4\n')
    with pytest.raises(ConfigError, match=r"unknown \[search\] key\(s\) trials; allowed: sampler"):
        load_config(bad)
    bad.write_text('[serach]\nsampler = "tpe"\n')
    with pytest.raises(ConfigError, match="unknown key.*serach.*allowed: search, data, space"):
        load_config(bad)


def test_unknown_data_setting_lists_ours_and_the_data_sets_arguments():
    with pytest.raises(ConfigError, match=r"noize.*allowed: name, examples.*n, noise"):
        load_data("moons", noize=0.3)
    with pytest.raises(UnknownNameError, match="known:.*digits"):
        load_data("mnist")


# -- expected best of k (Bergstra & Bengio's efficiency curve) ------------------------------------

def test_expected_best_equals_the_mean_max_over_every_subset():
    scores = np.random.default_rng(0).uniform(size=8)
    for k in range(1, 9):
        brute = np.mean([max(c) for c in itertools.combinations(scores, k)])
        assert expected_best(scores, k) == pytest.approx(brute, rel=1e-12)
    assert expected_best([1, 2, 3, 4], 2) == pytest.approx(20 / 6)  # pairs' maxima sum to 20
    with pytest.raises(ConfigError, match=r"k must be an integer in \[1, 4\]"):
        expected_best([1, 2, 3, 4], 5)


# -- samplers -------------------------------------------------------------------------------------

def _lr_only(params, trial):
    return -abs(np.log10(params["lr"]) + 2)  # best at lr = 1e-2


def test_grid_tries_every_combination_once_and_stops_when_exhausted():
    r = search({"x": {"low": 0.0, "high": 1.0}, "y": {"choices": ["a", "b"]}},
               objective=lambda p, t: p["x"], sampler="grid", grid_points=3, n_trials=20,
               storage=None, pruner="none")
    combos = [(t["params"]["x"], t["params"]["y"]) for t in r.trials()]
    assert sorted(combos) == sorted(itertools.product([0.0, 0.5, 1.0], ["a", "b"]))
    assert r.best["value"] == 1.0


def test_random_search_draws_depend_only_on_the_seed_and_the_trial_number(tmp_path):
    space = {"lr": {"low": 1e-4, "high": 1.0, "log": True}}
    fresh = search(space, objective=_lr_only, sampler="random", seed=3, n_trials=6,
                   storage=None).trials()
    again = search(space, objective=_lr_only, sampler="random", seed=3, n_trials=6,
                   storage=None).trials()
    assert [t["params"] for t in fresh] == [t["params"] for t in again]
    url = f"sqlite:///{tmp_path / 's.db'}"
    search(space, objective=_lr_only, sampler="random", seed=3, n_trials=2, storage=url,
           study_name="s")
    resumed = search(space, objective=_lr_only, sampler="random", seed=3, n_trials=6,
                     storage=url, study_name="s")
    # Optuna's RandomSampler(seed) would restart its stream and repeat trials 0 and 1 here.
    assert [t["params"] for t in resumed.trials()] == [t["params"] for t in fresh]
    other = search(space, objective=_lr_only, sampler="random", seed=4, n_trials=6,
                   storage=None).trials()
    assert [t["params"] for t in other] != [t["params"] for t in fresh]


def test_tpe_resumed_does_not_repeat_its_start_up_trials(tmp_path):
    space = {"lr": {"low": 1e-4, "high": 1.0, "log": True}}
    url = f"sqlite:///{tmp_path / 't.db'}"
    search(space, objective=_lr_only, sampler="tpe", seed=0, n_trials=3, storage=url,
           study_name="t")
    r = search(space, objective=_lr_only, sampler="tpe", seed=0, n_trials=16, storage=url,
               study_name="t")
    lrs = [t["params"]["lr"] for t in r.trials()]
    assert len(set(lrs)) == 16
    # After the 10 random start-up trials TPE concentrates near the optimum 1e-2.
    late = np.abs(np.log10(lrs[10:]) + 2)
    assert np.median(late) < np.median(np.abs(np.log10(lrs[:10]) + 2))


def test_n_trials_counts_finished_trials_so_a_finished_study_trains_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    space = {"lr": {"low": 1e-3, "high": 1.0, "log": True}, "epochs": 2}
    first = search(space, data=TINY, sampler="random", n_trials=3, storage=url, study_name="r")
    assert first.ran == [0, 1, 2]
    second = search(space, data=TINY, sampler="random", n_trials=5, storage=url, study_name="r")
    assert second.ran == [3, 4] and second.counts() == {"complete": 5}
    third = search(space, data=TINY, sampler="random", n_trials=5, storage=url, study_name="r")
    assert third.ran == []
    assert [t["params"] for t in third.trials()] == [t["params"] for t in second.trials()]


def test_timeout_stops_starting_trials_and_a_bare_path_is_a_sqlite_file(tmp_path):
    def slow(params, trial):
        time.sleep(0.1)
        return params["x"]

    r = search({"x": {"low": 0.0, "high": 1.0}}, objective=slow, sampler="random",
               n_trials=100, timeout=0.35, storage=str(tmp_path / "plain.db"), study_name="t")
    assert 1 <= len(r.ran) <= 6  # ~4 trials of 0.1 s fit in 0.35 s; 100 were asked for
    assert r.storage == f"sqlite:///{tmp_path / 'plain.db'}" and (tmp_path / "plain.db").exists()


# -- the MLP objective ----------------------------------------------------------------------------

def test_mlp_trials_record_validation_and_test_accuracy_separately():
    r = search({"lr": {"low": 0.05, "high": 1.0, "log": True}, "width": {"choices": [4, 16]},
                "epochs": 5}, data=TINY, sampler="tpe", seed=0, n_trials=4, storage=None,
               pruner="none")
    for t in r.trials():
        assert 0.0 <= t["value"] <= 1.0 and 0.0 <= t["attrs"]["test_acc"] <= 1.0
        assert t["attrs"]["epochs"] == 5 and not t["attrs"]["diverged"]
        assert list(t["intermediate"]) == [1, 2, 3, 4, 5]  # one report per epoch
        assert t["intermediate"][5] == t["value"]  # the value is the last epoch's val acc
    assert r.best["value"] > 0.75  # moons: a 16-unit ReLU net at lr ≥ 0.05 beats chance well


def test_median_pruner_stops_slow_trials_early():
    r = search({"lr": {"low": 1e-5, "high": 1.0, "log": True}, "epochs": 6}, data=TINY,
               sampler="random", seed=0, n_trials=14, storage=None, pruner="median")
    pruned = r.trials(("pruned",))
    assert pruned, "tiny learning rates lag the median from the first epoch"
    for t in pruned:
        assert len(t["intermediate"]) < 6 and "test_acc" not in t["attrs"]
        assert t["params"]["lr"] < 0.05
    assert all(len(t["intermediate"]) == 6 for t in r.trials(("complete",)))
    nothing = search({"lr": {"low": 1e-5, "high": 1.0, "log": True}, "epochs": 6}, data=TINY,
                     sampler="random", seed=0, n_trials=14, storage=None, pruner="none")
    assert nothing.counts() == {"complete": 14}


def test_a_diverging_trial_is_scored_not_raised():
    data = load_data(**TINY)
    seen = {}

    class Trial:
        def report(self, value, step):
            pass

        def should_prune(self):
            return False

        def set_user_attr(self, key, value):
            seen[key] = value

    value = MLPObjective(data)({"lr": 1e6, "epochs": 3}, Trial())
    assert seen["diverged"] is True and seen["test_acc"] is None
    assert value == pytest.approx(np.bincount(data.val.y).max() / len(data.val.y))


def test_names_are_checked_before_any_trial_runs():
    with pytest.raises(UnknownNameError, match="unknown activation 'relux'"):
        search({"activation": {"choices": ["relu", "relux"]}}, data=TINY, storage=None)
    with pytest.raises(ConfigError, match="nothing to search"):
        search({"epochs": 3}, data=TINY, storage=None)


def test_missing_optuna_is_a_clear_error(monkeypatch):
    from whynet.search.samplers import optuna_module

    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ConfigError, match=r"pip install 'whynet\[search\]'"):
        optuna_module()


# -- presenting -----------------------------------------------------------------------------------

def test_plot_has_one_panel_per_hyperparameter_with_log_axes_for_log_ranges():
    r = search({"lr": {"low": 1e-3, "high": 1.0, "log": True}, "width": {"choices": [4, 8]},
                "epochs": 2}, data=TINY, sampler="random", n_trials=4, storage=None)
    fig = r.figure()
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 2
    assert panels[0].get_xscale() == "log" and panels[1].get_xscale() == "linear"
    assert [t.get_text() for t in panels[1].get_xticklabels()] == ["4", "8"]
    assert r.table(top=3).row_count == 3


# -- the command line: resume, two processes ------------------------------------------------------

def _cli(*args):
    """``python -m whynet.search ARGS`` as a subprocess, one BLAS thread."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "whynet.search", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


SLOW = ["-p", "lr=1e-3:1:log", "-p", "epochs=30", "--data", "moons", "--data-arg", "n=300",
        "--sampler", "random", "--pruner", "none", "--plot", "none", "--json"]


def _finished(url, name):
    try:
        study = optuna.load_study(study_name=name, storage=url)
    except KeyError:  # not created yet
        return []
    return [t for t in study.get_trials(deepcopy=False)
            if t.state == optuna.trial.TrialState.COMPLETE]


@pytest.mark.slow
def test_cli_resumes_a_killed_study_from_its_storage(tmp_path):
    url = f"sqlite:///{tmp_path / 'k.db'}"
    args = [*SLOW, "--storage", url, "--study-name", "k", "--n-trials", "10"]
    proc = _cli(*args)
    deadline = time.time() + 60
    while len(_finished(url, "k")) < 3 and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {t.number: t.params for t in _finished(url, "k")}
    assert 3 <= len(before) < 10, "killed mid-way"
    rerun = _cli(*args)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    result = json.loads(out)
    after = {t["number"]: t["params"] for t in result["trials"]}
    assert len(after) == 10 and len(result["ran"]) == 10 - len(before)
    assert all(after[n] == p for n, p in before.items())  # finished trials kept as they were
    assert not set(result["ran"]) & set(before)


@pytest.mark.slow
def test_two_processes_share_one_sqlite_study_without_losing_trials(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    args = [*SLOW, "--storage", url, "--study-name", "shared", "--n-trials", "12"]
    # Same seed in both: the data split and the weights must match; the draws differ anyway,
    # because random draws are seeded per trial number.
    procs = [_cli(*args) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err
    ran = [set(json.loads(out)["ran"]) for out, _ in outs]
    study = optuna.load_study(study_name="shared", storage=url)
    states = [t.state for t in study.get_trials(deepcopy=False)]
    complete = {t.number for t in study.get_trials(deepcopy=False)
                if t.state == optuna.trial.TrialState.COMPLETE}
    assert ran[0] and ran[1], "both processes contributed"
    assert not ran[0] & ran[1]  # no trial counted twice
    assert ran[0] | ran[1] == complete  # every trial either process finished is in the study
    assert len(complete) >= 12 and len(states) == len(complete)  # none failed, none lost
    assert sorted(t.number for t in study.get_trials(deepcopy=False)) == list(range(len(states)))


def test_main_prints_table_writes_plot_and_errors_are_one_red_line(tmp_path, capsys,
                                                                   monkeypatch):
    """The study goes to search.db beside the results store ($WHYNET_STORE's folder, created),
    not into the working folder; a PNG is written only when --plot names one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WHYNET_STORE", str(tmp_path / "cache" / "runs.sqlite"))
    cfg = tmp_path / "s.toml"
    cfg.write_text('[search]\nsampler = "grid"\nn_trials = 10\n[data]\nname = "moons"\nn = 200\n'
                   '[space]\nlr = {low = 0.01, high = 1, log = true}\nepochs = 3\n')
    assert main(["-c", str(cfg), "-p", "width=4,8", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "6 complete" in out and "Best 3 of 6 complete trials" in out  # 3 lrs × 2 widths
    assert (tmp_path / "cache" / "search.db").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "s.toml"]  # no PNG, no .db
    assert main(["-c", str(cfg), "-p", "width=4,8", "--plot", "trials.png"]) == 0
    assert "plot: trials.png" in capsys.readouterr().out
    png = tmp_path / "trials.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["-c", str(cfg), "-p", "depth=1.5:3"]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "'depth' is an integer" in err and "Traceback" not in err


def test_whynet_cli_delegates_to_search():
    from click.testing import CliRunner

    from whynet.cli import main as cli_main

    result = CliRunner().invoke(cli_main, ["search", "--help"])
    assert result.exit_code == 0 and "--n-trials" in result.output and "--storage" in result.output


# -- bad input: every -p range checked before the first trial (issue 12) ------------------------

@pytest.mark.parametrize("option, message", [
    ("width=0:4", "search: -p width=0:4: width must be an integer ≥ 1, got 0"),
    ("batch_size=0:4", "search: -p batch_size=0:4: batch_size must be an integer ≥ 1, got 0"),
    ("lr=-1:1", "search: -p lr=-1:1: lr must be a finite number > 0, got -1"),
    ("dropout=0:1.5", "search: -p dropout=0:1.5: dropout must be a finite number in [0, 1), "
                      "got 1.5"),
    ("depth=-1:2", "search: -p depth=-1:2: depth must be an integer ≥ 0, got -1"),
    ("optimizer=sgd,adan", "search: -p optimizer=sgd,adan: unknown optimizer 'adan'; known: "),
])
def test_a_bad_range_is_one_error_naming_the_option_and_no_trial_runs(tmp_path, option, message):
    from click.testing import CliRunner

    from whynet.cli import main as cli_main

    db = tmp_path / "s.db"
    r = CliRunner().invoke(cli_main, ["search", "-p", option, "--data", "moons", "--data-arg",
                                      "n=200", "--storage", f"sqlite:///{db}", "--plot", "none"])
    assert r.exit_code == 2 and r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: " + message)
    assert not db.exists()  # nothing was stored: no study, no trial


def test_a_clash_between_settings_is_found_before_the_first_trial():
    ran = []
    with pytest.raises(ConfigError, match="momentum is a setting of sgd and rmsprop"):
        search({"momentum": {"low": 0.0, "high": 0.9}, "optimizer": "adam"}, data=TINY,
               storage=None, callbacks=[lambda study, t: ran.append(t)])
    assert ran == []


def test_a_valid_range_still_runs(tmp_path):
    r = search({"width": {"low": 1, "high": 4}, "epochs": 1}, data=TINY, sampler="grid",
               n_trials=2, storage=None)
    assert len(r.ran) == 2


@pytest.mark.parametrize("url", ["bogus://x", "sqlite:////no/such/folder/s.db",
                                 "postgresql://nobody@localhost:1/none"])
def test_a_bad_storage_url_is_one_clean_line(url):
    from click.testing import CliRunner

    from whynet.cli import main as cli_main

    r = CliRunner().invoke(cli_main, ["search", "-p", "lr=0.01:1", "--data-arg", "n=200",
                                      "--storage", url, "--plot", "none"])
    assert r.exit_code == 2
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: search: cannot open storage {url!r}: ")
    assert "Background on this error" not in r.stderr and "sqlalche.me" not in r.stderr


def test_a_search_on_a_regression_set_maximises_the_validation_r2():
    """plane is a regression set: the trials train with squared error and are scored by
    R² = 1 − SSE/SST on the validation set (1 is perfect, 0 the mean), which a working search
    drives well above 0; the test R² is recorded, the table and plot say R²."""
    from whynet.search.objective import r2_score
    from whynet.search.results import best_table, plot_trials

    data = load_data("plane", n=300, seed=0)
    assert data.n_classes == 0 and data.score_name == "R²"
    result = search({"lr": {"choices": [0.001, 0.01]}, "epochs": 15, "width": 8, "depth": 1,
                     "optimizer": "adam"}, data=data, seed=0, n_trials=2, storage=None,
                    pruner="none", sampler="grid")
    trials = result.study.trials
    assert len(trials) == 2 and all("test_r2" in t.user_attrs for t in trials)
    best = result.study.best_trial
    assert best.params["lr"] == 0.01 and 0.8 < best.value <= 1.0
    assert best.user_attrs["test_r2"] > 0.8
    rows = [{"state": "complete", "value": t.value, "number": t.number, "params": t.params,
             "attrs": t.user_attrs, "intermediate": t.intermediate_values} for t in trials]
    assert [c.header for c in best_table(rows, result.space).columns][2:4] == ["val R²",
                                                                              "test R²"]
    assert plot_trials(rows, result.space).axes[0].get_ylabel() == "validation R²"
    y = np.array([1.0, 2.0, 3.0])
    assert r2_score(y, y) == 1.0 and r2_score(np.full(3, 2.0), y) == 0.0
