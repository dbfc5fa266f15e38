"""The `whynet` command, end to end through click's CliRunner, on fake experiments."""

import json
import signal
import sys
import types

import pytest
from click.testing import CliRunner

from whynet.cli import main
from whynet.experiments import registry
from whynet.experiments.base import (Experiment, Row, Verdict, decide, mean_spread, tally,
                                     values)
from whynet.experiments.questions import QUESTIONS


class Sign(Experiment):
    id = "zz_sign"
    questions = ("A1",)
    title = "Sign"
    question = "Is x² positive?"
    what = "Squares."
    seeds_quick = 2
    calls = 0

    def grid(self, quick):
        return [{"x": x} for x in ((1, -2) if quick else (1, -2, 3))]

    def run(self, spec, seed):
        type(self).calls += 1
        return {"y": spec["x"] ** 2 + seed, "nan": float("nan")}

    def verdicts(self, results):
        y = values(results, "y")
        return [Verdict("A1", decide(v > 0 for v in y), "every square is positive",
                        {"y": mean_spread(y)})]


class Boom(Experiment):
    id = "zz_boom"
    questions = ("T2",)
    title = "Boom"
    question = "?"
    what = "One spec raises; with interrupt=True the second call is a Ctrl-C."
    interrupt = False
    calls = 0

    def grid(self, quick):
        return [{"x": 1}, {"x": 2}]

    def run(self, spec, seed):
        type(self).calls += 1
        if self.interrupt and type(self).calls == 2:
            raise KeyboardInterrupt
        if spec["x"] == 2:
            raise ZeroDivisionError("division by zero in spec 2")
        return {"y": 1}

    def verdicts(self, results):
        return [Verdict("T2", "holds", "x=1 ran", {})]


@pytest.fixture
def cli(monkeypatch, tmp_path):
    # In-process, the command's fast exit (os._exit, skipping teardown) must not end pytest.
    monkeypatch.setattr("whynet.cli._exit_now", sys.exit)
    monkeypatch.setattr(registry, "_discovered", {})
    monkeypatch.setenv("WHYNET_STORE", str(tmp_path / "runs.sqlite"))
    Sign.calls = Boom.calls = 0
    Boom.interrupt = False
    handles = [registry.register(Sign()), registry.register(Boom())]
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    sigint = signal.getsignal(signal.SIGINT)
    yield invoke
    signal.signal(signal.SIGINT, sigint)  # an interrupted command ignores Ctrl-C from then on
    for h in handles:
        h.remove()


def test_list_json(cli):
    r = cli("list", "--json")
    assert r.exit_code == 0
    rows = json.loads(r.stdout)
    assert [(x["id"], x["questions"], x["quick_runs"], x["full_runs"]) for x in rows] == [
        ("zz_boom", ["T2"], 6, 10), ("zz_sign", ["A1"], 4, 15)]
    assert rows[1]["quick_seconds"] is None  # no store yet: nothing measured


def test_list_table_names_experiments(cli):
    r = cli("list")
    assert r.exit_code == 0 and "zz_sign" in r.stdout and "not run" in r.stdout


def test_run_json_then_rerun_performs_no_training(cli):
    r = cli("run", "zz_sign", "--quick", "--json", "--jobs", "1")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["runs"] == {"total": 4, "ran": 4, "cached": 0, "failed": 0}
    (exp,) = out["experiments"]
    assert exp["id"] == "zz_sign" and exp["runs"] == 4 and exp["error"] is None
    # y = x² + seed over x = 1, −2 and seeds 0, 1 → 1, 2, 4, 5
    (v,) = exp["verdicts"]
    assert (v["question"], v["status"], v["kind"]) == ("A1", "holds", "test")
    assert v["sentence"] == "every square is positive"
    assert v["numbers"] == {"y": "3.0 ± 1.8 (n=4)"}  # sample std of 1, 2, 4, 5
    assert Sign.calls == 4
    again = json.loads(cli("run", "zz_sign", "--quick", "--json", "--jobs", "1").stdout)
    assert again["runs"] == {"total": 4, "ran": 0, "cached": 4, "failed": 0}
    assert Sign.calls == 4  # the store answered
    more = json.loads(cli("run", "ZZ_SIGN", "--quick", "--json", "--seeds", "3",
                          "--jobs", "1").stdout)
    assert more["runs"]["ran"] == 2 and Sign.calls == 6  # only the new seed


def test_run_with_worker_processes_and_text_output(cli):
    r = cli("run", "zz_sign", "--quick", "--jobs", "2")
    assert r.exit_code == 0, r.output
    assert "4 runs: 4 ran, 0 from the store, 0 failed" in r.stdout
    assert "holds" in r.stdout and "every square is positive" in r.stdout


def test_run_all_reports_failures_keeps_the_rest_and_exits_1(cli):
    r = cli("run", "all", "--quick", "--json", "--jobs", "1")
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert out["runs"] == {"total": 10, "ran": 7, "cached": 0, "failed": 3}
    assert {f["experiment"] for f in out["failed"]} == {"zz_boom"}
    assert all("ZeroDivisionError: division by zero in spec 2" in f["error"]
               for f in out["failed"])
    boom = next(e for e in out["experiments"] if e["id"] == "zz_boom")
    assert boom["runs"] == 3 and boom["verdicts"][0]["status"] == "holds"


def test_interrupted_run_says_how_to_resume(cli):
    Boom.interrupt = True
    r = cli("run", "zz_boom", "--quick", "--jobs", "1")
    assert r.exit_code == 130
    assert "interrupted: 1 of 6 runs are stored" in r.stderr
    assert "run the same command again" in r.stderr


def test_whynet_errors_are_one_red_line_and_exit_2(cli, tmp_path):
    r = cli("run", "nope", "--quick")
    assert r.exit_code == 2
    assert r.stderr == ("error: Invalid value for '[ID]...': 'nope' is not one of 'all', "
                        "'zz_boom', 'zz_sign'. (see 'main run --help')\n")
    assert "Traceback" not in r.output
    r = cli("run")
    assert r.exit_code == 2 and "name experiments" in r.stderr
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"garbage" * 100)
    r = cli("claims", "--store", str(bad))
    assert r.exit_code == 2 and "bad.sqlite is not a valid SQLite database" in r.stderr
    assert bad.read_bytes() == b"garbage" * 100


def test_claims_json_lists_every_question(cli):
    cli("run", "zz_sign", "--quick", "--jobs", "1")
    r = cli("claims", "--json")
    assert r.exit_code == 0
    rows = json.loads(r.stdout)
    assert [x["question"] for x in rows] == list(QUESTIONS)
    by = {x["question"]: x for x in rows}
    assert by["A1"]["status"] == "holds" and by["A1"]["experiments"] == ["zz_sign"]
    assert by["T2"]["status"] == "not run"       # experiment exists, nothing stored
    assert by["R1"]["status"] == "not answered"  # no experiment
    assert by["A1"]["numbers"] == {"y": "3.0 ± 1.8 (n=4)"}


def test_claims_table(cli):
    cli("run", "zz_boom", "--quick", "--jobs", "1")
    r = cli("claims")
    assert r.exit_code == 0 and "A10" in r.stdout and "not answered" in r.stdout


@pytest.mark.parametrize("command", [["claims"], ["report", "-o", "r.html"], ["export", "runs"],
                                     ["list", "--store", "STORE"]])
def test_read_only_commands_refuse_a_missing_store(cli, tmp_path, command):
    """claims, report, export (and list given --store) never create an empty store: one error
    line names the missing file and how to create one; nothing is created."""
    missing = tmp_path / "runs.sqlite"  # $WHYNET_STORE of the fixture, never run
    r = cli(*[str(missing) if a == "STORE" else a for a in command])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == (f"error: results store {missing} does not exist; create it by running "
                        f"experiments (`whynet run a1 --quick`, or `whynet run all --quick`), "
                        f"or point --store or $WHYNET_STORE at an existing store\n")
    assert not missing.exists() and not (tmp_path / "r.html").exists()


def test_list_without_a_store_is_the_catalogue(cli, tmp_path):
    r = cli("list")
    assert r.exit_code == 0 and "zz_sign" in r.stdout
    assert not (tmp_path / "runs.sqlite").exists()


def test_default_store_follows_xdg_cache_home(monkeypatch, tmp_path):
    """Without $WHYNET_STORE the store is runs.sqlite in $XDG_CACHE_HOME/whynet (platformdirs);
    $WHYNET_STORE overrides it."""
    from whynet.store import default_path

    monkeypatch.delenv("WHYNET_STORE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert default_path() == tmp_path / "xdg" / "whynet" / "runs.sqlite"
    monkeypatch.setenv("WHYNET_STORE", str(tmp_path / "mine.sqlite"))
    assert default_path() == tmp_path / "mine.sqlite"


# -- export ------------------------------------------------------------------------------------

def test_export_runs_csv_and_jsonl(cli, tmp_path):
    """export runs: one row per stored run with spec.* and result.* columns (CSV) or nested
    objects (JSON lines, NaN → null); -o writes a file, without -o stdout."""
    import csv
    import io

    cli("run", "zz_sign", "--quick", "--jobs", "1")  # 2 specs × 2 seeds; y = x² + seed
    r = cli("export", "runs", "--format", "csv")
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 4 and {row["experiment"] for row in rows} == {"zz_sign"}
    assert sorted((int(row["spec.x"]), int(row["seed"]), int(row["result.y"])) for row in rows) \
        == [(-2, 0, 4), (-2, 1, 5), (1, 0, 1), (1, 1, 2)]
    assert all(row["status"] == "ok" and row["result.nan"] == "nan" for row in rows)
    out = tmp_path / "runs.jsonl"
    r = cli("export", "runs", "--format", "jsonl", "-o", str(out))
    assert r.exit_code == 0 and r.stdout == "" and f"wrote 4 runs to {out}" in r.stderr
    lines = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert len(lines) == 4 and all(ln["result"]["nan"] is None for ln in lines)
    assert {(ln["spec"]["x"], ln["seed"]) for ln in lines} == {(1, 0), (1, 1), (-2, 0), (-2, 1)}


def test_export_verdicts(cli, tmp_path):
    """export verdicts: one row per question ID, the fields of `claims --json`."""
    import csv
    import io

    cli("run", "zz_sign", "--quick", "--jobs", "1")
    rows = list(csv.DictReader(io.StringIO(cli("export", "verdicts").stdout)))
    assert [row["question"] for row in rows] == list(QUESTIONS)
    by = {row["question"]: row for row in rows}
    assert by["A1"]["status"] == "holds" and json.loads(by["A1"]["experiments"]) == ["zz_sign"]
    lines = cli("export", "verdicts", "--format", "jsonl").stdout.splitlines()
    assert json.loads(lines[0]) == json.loads(cli("claims", "--json").stdout)[0]
    r = cli("export", "verdicts", "-o", str(tmp_path / "no" / "such" / "dir" / "v.csv"))
    assert r.exit_code == 2 and r.stderr.startswith("error: export: cannot write")


# -- CLI edges ---------------------------------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    (["train", "--data", "moonz"], ["'--data'", "'moonz' is not one of", "'moons'"]),
    (["train", "--activation", "rleu"], ["'--activation'", "'relu'"]),
    (["train", "--optimizer", "adma"], ["'--optimizer'", "'adam'"]),
    (["train", "--loss", "xent"], ["'--loss'", "'softmax_ce'"]),
    (["run", "zz_nope"], ["'zz_nope' is not one of", "'all'", "'zz_sign'"]),
    (["serve", "--port", "99999"], ["'--port'", "99999 is not in the range 0<=x<=65535"]),
])
def test_choices_are_checked_before_anything_runs(cli, args, words):
    r = cli(*args)
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and r.stderr.startswith("error: ")
    assert all(w in r.stderr for w in words), r.stderr


def test_choices_complete_in_the_shell(cli):
    """click's completion offers the data sets, the activations and the experiment ids."""
    from click.shell_completion import ShellComplete

    def complete(args, incomplete):
        return [c.value for c in ShellComplete(main, {}, "whynet", "_WHYNET_COMPLETE")
                .get_completions(args, incomplete)]

    assert "moons" in complete(["train", "--data"], "mo")
    assert complete(["train", "--activation"], "le") == ["leaky_relu", "leakyrelu"]
    assert complete(["run"], "zz_") == ["zz_boom", "zz_sign"]


def test_run_full_is_the_default_grid(cli):
    full = json.loads(cli("run", "zz_sign", "--full", "--json", "--jobs", "1").stdout)
    assert full["grid"] == "full" and full["runs"]["total"] == 15  # 3 specs × 5 seeds
    default = json.loads(cli("run", "zz_sign", "--json", "--jobs", "1").stdout)
    assert default["grid"] == "full" and default["runs"]["cached"] == 15


@pytest.mark.parametrize("no_color", [None, "1"])
def test_error_line_honours_no_color(monkeypatch, tmp_path, no_color):
    """With a colour-capable stream the error line is red, unless NO_COLOR is set."""
    monkeypatch.setenv("WHYNET_STORE", str(tmp_path / "none.sqlite"))
    if no_color:
        monkeypatch.setenv("NO_COLOR", no_color)
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    r = CliRunner().invoke(main, ["claims"], color=True)
    assert r.exit_code == 2 and "error: results store" in r.stderr
    assert ("\x1b[" in r.stderr) is (no_color is None)


def test_report_writes_the_file(cli, tmp_path):
    cli("run", "zz_sign", "--quick", "--jobs", "1")
    out = tmp_path / "r" / "report.html"
    r = cli("report", "-o", str(out))
    assert r.exit_code == 0 and r.stdout.strip() == f"wrote {out.resolve()}"
    html = out.read_text(encoding="utf-8")
    assert all(f'id="q-{q}"' in html for q in QUESTIONS)
    assert "every square is positive" in html


# -- train -----------------------------------------------------------------------------------

def test_train_prints_the_history(cli):
    r = cli("train", "--data", "moons", "--n", "200", "--hidden", "8", "--epochs", "3",
            "--lr", "0.05", "--seed", "1")
    assert r.exit_code == 0, r.output
    lines = r.stdout.strip().splitlines()
    assert lines[0] == "moons: MLP 2 → 8 → 2, relu, adam lr=0.05, 42 parameters, seed 1"
    assert lines[1].split() == ["epoch", "loss", "acc", "val_loss", "val_acc"]
    assert [ln.split()[0] for ln in lines[2:5]] == ["1", "2", "3"]
    assert lines[5].startswith("findings:")  # then the probes' findings, one per line


def test_train_json_is_deterministic_and_learns(cli):
    args = ("train", "--data", "moons", "--n", "300", "--hidden", "16,16", "--epochs", "15",
            "--lr", "0.02", "--json")
    a, b = json.loads(cli(*args).stdout), json.loads(cli(*args).stdout)
    assert a == b  # same seed, same numbers
    assert len(a["epochs"]["loss"]) == 15
    # moons (noise 0.2) is learnable: a [2, 16, 16, 2] ReLU net gets well past chance
    assert a["epochs"]["loss"][-1] < a["epochs"]["loss"][0]
    assert a["epochs"]["val_acc"][-1] > 0.8
    assert a["parameters"] == (2 * 16 + 16) + (16 * 16 + 16) + (16 * 2 + 2)


def test_train_from_toml_with_cli_override(cli, tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text('[train]\ndata = "circles"\nn = 200\nhidden = [4]\nepochs = 5\n'
                   'activation = "tanh"\n')
    out = json.loads(cli("train", "--config", str(cfg), "--epochs", "2", "--json").stdout)
    assert out["options"]["data"] == "circles" and out["options"]["hidden"] == [4]
    assert out["options"]["activation"] == "tanh"
    assert len(out["epochs"]["loss"]) == 2  # the command line wins over the file


def test_train_unknown_toml_key_names_it_and_the_allowed_ones(cli, tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('data = "moons"\nlearning_rate = 0.1\n')
    r = cli("train", "--config", str(cfg))
    assert r.exit_code == 2
    assert "unknown key(s) learning_rate; allowed: data, n, noise" in r.stderr


def test_train_bad_options_are_whynet_errors(cli, tmp_path):
    r = cli("train", "--data", "mnist2d")
    assert r.exit_code == 2 and "'mnist2d' is not one of 'moons'," in r.stderr
    r = cli("train", "--data", "digits", "--noise", "0.1")
    assert r.exit_code == 2 and "data set 'digits' takes no noise" in r.stderr
    r = cli("train", "--hidden", "8,x")
    assert r.exit_code == 2 and "hidden must be layer sizes" in r.stderr
    cfg = tmp_path / "broken.toml"
    cfg.write_text("data = \n")
    r = cli("train", "--config", str(cfg))
    assert r.exit_code == 2 and "not valid TOML" in r.stderr


# -- delegates -------------------------------------------------------------------------------

def test_search_is_a_subcommand_of_the_group():
    """Registered with add_command: its options are the group's (help, completion, errors)."""
    assert main.get_command(None, "search").name == "search"
    r = CliRunner().invoke(main, ["search", "--help"])
    assert r.exit_code == 0 and "--n-trials" in r.stdout and "-p, --param" in r.stdout


def test_serve_delegates_to_the_web_server(cli, monkeypatch):
    seen = []
    fake = types.ModuleType("whynet.web.server")
    fake.serve = lambda host, port, open_browser, report=None: seen.append(
        (host, port, open_browser, report))
    monkeypatch.setitem(sys.modules, "whynet.web.server", fake)
    r = cli("serve", "--port", "8123")
    assert r.exit_code == 0 and seen == [("127.0.0.1", 8123, False, None)]  # no browser by default
    r = cli("serve", "--open")
    assert r.exit_code == 0 and seen[-1] == ("127.0.0.1", 8000, True, None)


def test_version(cli):
    import whynet

    r = cli("--version")
    assert r.exit_code == 0 and whynet.__version__ in r.stdout


def test_list_shows_measured_time_of_complete_grids_only(cli):
    cli("run", "zz_sign", "--quick", "--jobs", "1")
    rows = {x["id"]: x for x in json.loads(cli("list", "--json").stdout)}
    assert rows["zz_sign"]["quick_seconds"] > 0
    # the full grid shares specs 1 and −2 with the quick one but is not complete: no full time
    assert rows["zz_sign"]["full_seconds"] is None
    cli("run", "zz_sign", "--jobs", "1")
    rows = {x["id"]: x for x in json.loads(cli("list", "--json").stdout)}
    assert rows["zz_sign"]["full_seconds"] >= rows["zz_sign"]["quick_seconds"]


def test_train_reports_probe_findings_and_exports_tensorboard(cli, tmp_path):
    """A learning rate far too large: the probes name the update ratio; the event files load."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logdir = tmp_path / "tb"
    r = cli("train", "--data", "moons", "--epochs", "2", "--optimizer", "sgd", "--lr", "3",
            "--json", "--tensorboard", str(logdir))
    out = json.loads(r.stdout)
    assert any("learning rate is too high" in f for f in out["findings"]), out["findings"]
    acc = EventAccumulator(str(logdir))
    acc.Reload()
    assert any(tag.startswith("update_ratio/") for tag in acc.Tags()["scalars"])

    # Adam at its default lr, stopped after 2 epochs at ~60% while its loss still falls: the run
    # is too short (issue 17: this said "nothing wrong")
    r = cli("train", "--data", "moons", "--epochs", "2", "--json")
    assert [f["rule"] for f in json.loads(r.stdout)["finding_rules"]] == ["train_longer"]
    r = cli("train", "--data", "moons", "--epochs", "15", "--lr", "0.02", "--activation", "tanh",
            "--json")
    assert json.loads(r.stdout)["findings"] == []  # 95% of its training data: healthy


def test_train_probe_every_sets_the_number_of_measurements(cli):
    args = ("train", "--data", "moons", "--n", "200", "--epochs", "10")
    # 160 training examples in batches of 32: 5 steps an epoch, 50 steps; by default about 20
    # measurements: every 50 // 20 = 2 steps, and step 1
    default = cli(*args)
    assert "26 measurements)" in default.stdout, default.stdout
    every = cli(*args, "--probe-every", "25")        # steps 1, 25, 50
    assert "3 measurements)" in every.stdout, every.stdout
    bad = cli(*args, "--probe-every", "0")
    assert bad.exit_code != 0 and "--probe-every" in bad.output


# -- one-line answers, evidence and rule ----------------------------------------------------

class Forms(Experiment):
    """Every form a verdict takes: a test with full evidence, a demonstration, a "depends"."""

    id = "zz_forms"
    questions = ("A4", "A10", "R2")
    title = "Forms"
    question = "?"
    what = "x = seed."
    seeds_quick = 3

    def grid(self, quick):
        return [{"x": 1}]

    def run(self, spec, seed):
        return {"y": seed + 1.0}

    def verdicts(self, results):
        y = values(results, "y")
        t = tally(v > 0 for v in y)
        rows = (Row("sgd", {"y": mean_spread(y)}), Row("adam", {"y": 0.5}))
        return [Verdict("A4", t.status, "y was 2.0 ± 1.0 and positive in every seed",
                        {"y": mean_spread(y)}, answer="Yes: y was positive in every seed.",
                        evidence=rows, rule="Holds if y > 0 in every seed.", agree=t),
                Verdict("A10", "shown", "an identity", answer="One map, up to round-off.",
                        evidence=[Row("float64", {"max diff": 1e-16})],
                        rule="An identity: shown, not tested."),
                Verdict("R2", "depends", "with SGD only", answer="Only with SGD.",
                        evidence=rows, rule="Per optimiser.", depends_on=("optimizer",))]


@pytest.fixture
def forms(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # rich wraps table cells to the terminal's width
    handle = registry.register(Forms())
    yield cli
    handle.remove()


def test_claims_prints_one_line_answers_and_labels_demonstrations(forms):
    forms("run", "zz_forms", "--quick", "--jobs", "1")
    out = forms("claims").stdout
    assert "Yes: y was positive in every seed." in out
    assert "y was 2.0 ± 1.0" not in out  # the long sentence only where there is no answer
    a10 = next(line for line in out.splitlines() if "A10" in line)
    assert "shown (demonstration)" in a10 and "holds" not in a10
    assert "Holds if y > 0" not in out  # the rule only with -v


def test_claims_verbose_adds_evidence_rows_rule_agreement_and_depends_on(forms):
    forms("run", "zz_forms", "--quick", "--jobs", "1")
    out = " ".join(forms("claims", "-v").stdout.split())  # undo the table's line wrapping
    assert "• sgd: y 2.0 ± 1.0 (n=3)" in out and "• adam: y 0.5" in out
    assert "rule: Holds if y > 0 in every seed. (3 of 3 seeds agree)" in out
    assert "depends on: optimizer" in out


def test_run_prints_answers_and_verbose_evidence(forms):
    out = forms("run", "zz_forms", "--quick", "--jobs", "1").stdout
    assert "Only with SGD." in out and "depends on" not in out
    out = " ".join(forms("run", "zz_forms", "--quick", "--jobs", "1", "--verbose").stdout.split())
    assert "depends on: optimizer" in out and "rule: Per optimiser." in out


def test_claims_json_has_every_field_for_every_question(forms):
    forms("run", "zz_forms", "--quick", "--jobs", "1")
    rows = json.loads(forms("claims", "--json").stdout)
    fields = {"question", "group", "claim", "source", "why", "experiments", "status", "kind",
              "answer", "sentence", "evidence", "rule", "depends_on", "seeds_agree", "numbers"}
    assert [r["question"] for r in rows] == list(QUESTIONS)
    assert all(set(r) == fields for r in rows)
    assert all(r["claim"] and r["source"] and r["why"] for r in rows)
    by = {r["question"]: r for r in rows}
    a4 = by["A4"]
    assert (a4["status"], a4["kind"]) == ("holds", "test")
    assert a4["answer"] == "Yes: y was positive in every seed."
    assert a4["evidence"][0]["condition"] == "sgd"
    assert a4["evidence"][0]["measures"] == {"y": "2.0 ± 1.0 (n=3)"}
    assert a4["evidence"][0]["raw"]["y"]["n"] == 3
    assert a4["seeds_agree"] == {"agree": 3, "n": 3, "sign_p": 0.25}
    assert (by["A10"]["status"], by["A10"]["kind"]) == ("shown", "demonstration")
    assert by["R2"]["depends_on"] == ["optimizer"] and by["R2"]["status"] == "depends"
    assert by["R1"]["status"] == "not answered" and by["R1"]["kind"] is None


# -- bad input through a real process: one error line, exit status 2, files untouched ----------

def _whynet(*args, cwd):
    import os
    import subprocess

    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "WHYNET_STORE": str(cwd / "runs.sqlite")}
    return subprocess.run([sys.executable, "-m", "whynet.cli", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)


@pytest.mark.parametrize("content, message", [
    (b'batchnorm = "no"\n', "train config {path}, line 1: batchnorm must be true or false, got "
                            "'no'"),
    (b'hidden = [16, "x"]\n', "train config {path}, line 1: hidden[1] must be an integer ≥ 1, "
                              "got 'x'"),
    (b'[train]\nlr = 1e-3\nlearning_rate = 0.1\n', "train config {path}: unknown key(s) "
                                                    "learning_rate; allowed: data, n, noise"),
    (b'data = "caf\xe9"\n', "train config {path}: not UTF-8 text (byte 0xe9 on line 1)"),
])
def test_train_config_errors_in_a_real_process(tmp_path, content, message):
    path = tmp_path / "run.toml"
    path.write_bytes(content)
    r = _whynet("train", "--config", str(path), cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: " + message.format(path=path))
    assert path.read_bytes() == content


def test_search_range_error_in_a_real_process(tmp_path):
    r = _whynet("search", "-p", "width=0:4", "--data-arg", "n=200", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.splitlines() == ["error: search: -p width=0:4: width must be an integer ≥ 1, "
                                     "got 0"]
    assert list(tmp_path.iterdir()) == []  # no study file, no plot
