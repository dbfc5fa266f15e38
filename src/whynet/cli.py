"""The ``whynet`` command: list, run and report experiments, print claims, train a model.

::

    whynet list                          # experiments, their question IDs, grid sizes, run time
    whynet run a4 i3 --quick --jobs 2    # run (or resume) experiments; verdicts at the end
    whynet run all --quick --json        # machine-readable
    whynet claims                        # every question ID with its current verdict
    whynet report -o report.html         # one self-contained HTML file
    whynet train --data circles --hidden 16,16 --activation tanh --epochs 50
    whynet train --config run.toml       # the same options from a TOML file

Errors from whynet print as one red line and exit with status 2.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import sys
import tomllib
from pathlib import Path

import click

from . import __version__
from .errors import ConfigError, WhynetError, unknown_name

STATUS_STYLE = {"holds": "green", "fails": "red", "depends": "yellow", "inconclusive": "magenta",
                "not run": "dim", "not answered": "dim", "error": "red"}


class _Group(click.Group):
    """A click group that turns whynet's errors into one red line and exit status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except WhynetError as e:
            click.secho(f"error: {e}", fg="red", err=True)
            ctx.exit(2)


def _console():
    from rich.console import Console

    return Console(highlight=False)


def _open_store(path):
    from .store import Store

    return Store(path)


def _strict_json(value):
    """JSON for ``--json``: NaN and ±inf become null (they are not JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict_json(v) for v in value]
    return value


def _echo_json(value) -> None:
    click.echo(json.dumps(_strict_json(value), indent=2, allow_nan=False))


def _grid_option(f):
    return click.option("--quick/--full", "quick", default=None,
                        help="Which grid's results to use (default: the full grid when the store "
                             "has all of it, else the quick one).")(f)


store_option = click.option("--store", "store_path", type=click.Path(dir_okay=False),
                            default=None, help="Results store (default $WHYNET_STORE or "
                                               "~/.cache/whynet/runs.sqlite).")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="whynet")
def main():
    """whynet — a neural-network laboratory: experiments that answer *why*."""


# -- list ----------------------------------------------------------------------------------------

@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@store_option
def list_cmd(as_json, store_path):
    """The experiments, the question IDs they answer, grid sizes and measured run time."""
    from .experiments import registry
    from .runner import choose_quick
    from .store import default_path

    path = Path(store_path) if store_path else default_path()
    store = _open_store(path) if path.exists() else None
    rows = []
    try:
        for e in registry.all_experiments():
            quick, full = e.grid(True), e.grid(False)
            row = {"id": e.id, "questions": list(e.questions), "title": e.title,
                   "question": e.question, "quick_runs": len(quick) * e.seeds_quick,
                   "full_runs": len(full) * e.seeds_full,
                   "quick_seconds": store.seconds(e, quick) if store else None,
                   # the full grid's time only once all of it is stored (grids can overlap)
                   "full_seconds": (store.seconds(e, full)
                                    if store and not choose_quick(e, store) else None)}
            rows.append(row)
    finally:
        if store:
            store.close()
    if as_json:
        _echo_json(rows)
        return
    from rich.table import Table

    t = Table(title="whynet experiments", title_justify="left")
    for col in ("id", "questions", "title", "quick runs", "full runs", "measured"):
        t.add_column(col, justify="right" if "runs" in col or col == "measured" else "left")
    for r in rows:
        secs = [f"{k} {_seconds(r[k + '_seconds'])}" for k in ("quick", "full")
                if r[k + "_seconds"]]
        t.add_row(r["id"], " ".join(r["questions"]), r["title"], str(r["quick_runs"]),
                  str(r["full_runs"]), ", ".join(secs) or "not run")
    _console().print(t)


def _seconds(s: float | None) -> str:
    if not s:
        return "—"
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


# -- run -----------------------------------------------------------------------------------------

def _select(ids) -> list:
    from .experiments import registry

    if not ids:
        raise ConfigError("whynet run: name experiments (see `whynet list`) or 'all'")
    if "all" in ids:
        return registry.all_experiments()
    return [registry.get(i.lower()) for i in dict.fromkeys(ids)]


@main.command()
@click.argument("ids", nargs=-1)
@click.option("--quick", is_flag=True, help="The quick grids (seconds) instead of the full ones.")
@click.option("--seeds", type=click.IntRange(min=1), default=None,
              help="Seeds per spec (default: each experiment's own).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: one per core).")
@click.option("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a tty).")
@store_option
def run(ids, quick, seeds, jobs, scheduler, as_json, progress, store_path):
    """Run experiments by id (or `all`); finished runs come from the store, never recomputed."""
    from .runner import collect, evaluate, plan, run_tasks

    experiments = _select(ids)
    tasks = plan(experiments, quick, seeds)
    with _open_store(store_path) as store:
        try:
            summary = run_tasks(tasks, store, jobs=jobs, scheduler=scheduler, progress=progress)
        except KeyboardInterrupt:
            done = len(store.done_keys(t.key for t in tasks))
            click.secho(f"interrupted: {done} of {len(tasks)} runs are stored in {store.path}; "
                        f"run the same command again to finish the rest", fg="yellow", err=True)
            sys.exit(130)
        evaluations = [evaluate(e, collect(e, store, quick)) for e in experiments]
    failed = [{"experiment": o.task.experiment.id, "spec": o.task.spec, "seed": o.task.seed,
               "error": o.error} for o in summary.failed]
    if as_json:
        _echo_json({
            "grid": "quick" if quick else "full", "store": str(store.path),
            "runs": {"total": len(tasks), "ran": len(summary.ran), "cached": len(summary.cached),
                     "failed": len(summary.failed)},
            "experiments": [_evaluation_json(ev) for ev in evaluations],
            "failed": failed})
    else:
        con = _console()
        con.print(f"{len(tasks)} runs: {len(summary.ran)} ran, {len(summary.cached)} from the "
                  f"store, {len(summary.failed)} failed  [dim]({store.path})[/]")
        for f in failed:
            last = (f["error"] or "").strip().splitlines()[-1:] or ["?"]
            con.print(f"[red]failed[/] {f['experiment']} {json.dumps(f['spec'])} seed "
                      f"{f['seed']}: {last[0]}", markup=True)
        _print_verdicts(con, evaluations)
    if summary.failed:
        sys.exit(1)


def _evaluation_json(ev) -> dict:
    return {"id": ev.experiment.id, "questions": list(ev.experiment.questions),
            "runs": len(ev.results), "error": ev.error,
            "verdicts": [v.as_dict() for v in ev.verdicts]}


def _print_verdicts(con, evaluations) -> None:
    from rich.table import Table

    t = Table(show_header=True, header_style="bold")
    t.add_column("question")
    t.add_column("verdict")
    t.add_column("because", overflow="fold")
    for ev in evaluations:
        if ev.error:
            t.add_row(" ".join(ev.experiment.questions), "[red]error[/]",
                      f"{ev.experiment.id}: {ev.error}")
        for v in ev.verdicts:
            t.add_row(v.question, f"[{STATUS_STYLE[v.status]}]{v.status}[/]", v.sentence)
    con.print(t)


# -- claims --------------------------------------------------------------------------------------

def claims_table(store, quick=None) -> list[dict]:
    """Every question ID with its current verdict, computed from the stored results."""
    from .experiments import registry
    from .runner import claims as claims_of, collect, evaluate

    return claims_of([evaluate(e, collect(e, store, quick)) for e in registry.all_experiments()])


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_grid_option
@store_option
def claims(as_json, quick, store_path):
    """Every question ID with its current verdict, from the store."""
    with _open_store(store_path) as store:
        rows = claims_table(store, quick)
    if as_json:
        _echo_json(rows)
        return
    from rich.table import Table

    t = Table(show_header=True, header_style="bold")
    t.add_column("id")
    t.add_column("verdict")
    t.add_column("claim / measured", overflow="fold")
    for r in rows:
        style = STATUS_STYLE.get(r["status"], "")
        t.add_row(r["question"], f"[{style}]{r['status']}[/]",
                  r["sentence"] or f"[dim]{r['claim']}[/]")
    _console().print(t)


# -- report --------------------------------------------------------------------------------------

@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="report.html",
              show_default=True, help="Where to write the HTML file.")
@_grid_option
@store_option
def report(output, quick, store_path):
    """Write the HTML report (one self-contained file) from the stored results."""
    from .report import write_report

    with _open_store(store_path) as store:
        path = write_report(output, store, quick=quick)
    click.echo(f"wrote {path.resolve()}")


# -- train ---------------------------------------------------------------------------------------

TRAIN_DEFAULTS = {
    "data": "moons", "n": None, "noise": None, "test": 0.2, "hidden": [16, 16],
    "activation": "relu", "init": None, "loss": "softmax_ce", "optimizer": "adam", "lr": None,
    "epochs": 20, "batch_size": 32, "seed": 0, "dropout": 0.0, "batchnorm": False,
    "regularizer": "none", "lam": 0.0,
}


def _parse_hidden(value) -> list[int]:
    if isinstance(value, str):
        value = [v for v in value.replace(" ", "").split(",") if v]
    try:
        sizes = [int(v) for v in value]
    except (TypeError, ValueError):
        raise ConfigError(f"train: hidden must be layer sizes like 16,16, got {value!r}") from None
    if any(s < 1 for s in sizes):
        raise ConfigError(f"train: hidden sizes must be ≥ 1, got {sizes}")
    return sizes


def load_train_config(path) -> dict:
    """Read a TOML file of train options (top level, or under a [train] table)."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"train config {path}: not valid TOML ({e})") from e
    except OSError as e:
        raise ConfigError(f"train config {path}: cannot read it ({e.strerror})") from e
    if set(data) == {"train"} and isinstance(data["train"], dict):
        data = data["train"]
    unknown = sorted(set(data) - set(TRAIN_DEFAULTS))
    if unknown:
        raise ConfigError(f"train config {path}: unknown key(s) {', '.join(unknown)}; "
                          f"allowed: {', '.join(TRAIN_DEFAULTS)}")
    return data


def train_model(options: dict, probe: bool = False):
    """Build the data set and the MLP from ``options`` and fit it: ``(history, model, options)``,
    plus the :class:`~whynet.probes.Probe` that watched it (on up to 256 training examples)
    when ``probe`` is true."""
    from .datasets import DATASETS, Splits, get_dataset, split
    from .nn import mlp
    from .nn.regularizers import get_regularizer
    from .train import fit

    o = {**TRAIN_DEFAULTS, **options}
    if o["data"] not in DATASETS:
        raise unknown_name("data set", o["data"], DATASETS)
    accepted = inspect.signature(DATASETS[o["data"]]).parameters
    kwargs = {k: o[k] for k in ("n", "noise", "seed") if k in accepted and o[k] is not None}
    given = [k for k in ("n", "noise") if o[k] is not None and k not in accepted]
    if given:
        raise ConfigError(f"train: data set {o['data']!r} takes no {', '.join(given)}; "
                          f"it takes: {', '.join(accepted) or 'nothing'}")
    data = get_dataset(o["data"], **kwargs)
    if isinstance(data, Splits):
        train, test = data.train, data.test
    else:
        train, _, test = split(data, val=0.0, test=o["test"], seed=o["seed"])
    n_out = train.n_classes if o["loss"] in ("softmax_ce", "cross_entropy", "hinge") else 1
    if n_out == 0:
        raise ConfigError(f"train: loss {o['loss']!r} needs classes, data set {o['data']!r} "
                          f"has none")
    X = train.X.reshape(len(train.X), -1)
    Xt = test.X.reshape(len(test.X), -1)
    o["hidden"] = _parse_hidden(o["hidden"])
    model = mlp([X.shape[1], *o["hidden"], n_out], activation=o["activation"],
                init=o["init"], dropout=o["dropout"], batchnorm=o["batchnorm"], seed=o["seed"])
    reg = None if o["regularizer"] in (None, "none") else get_regularizer(o["regularizer"],
                                                                          o["lam"])
    watcher = None
    if probe:
        from .probes import Probe
        watcher = Probe(model, X[:256], train.y[:256], o["loss"])
    history = fit(model, X, train.y, loss=o["loss"], optimizer=o["optimizer"], lr=o["lr"],
                  epochs=o["epochs"], batch_size=o["batch_size"], seed=o["seed"],
                  validation_data=(Xt, test.y), regularizer=reg, progress=False,
                  callbacks=[watcher] if watcher else ())
    if probe:
        return history, model, o, watcher
    return history, model, o


@main.command()
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
              help="TOML file with these options (command-line options override it).")
@click.option("--data", help="Data set: moons, circles, blobs, xor, gaussian, spiral, flower, "
                             "digits, mnist1d.  [default: moons]")
@click.option("--n", type=int, help="Number of examples (toy sets).")
@click.option("--noise", type=float, help="Noise of a toy set (its default if not given).")
@click.option("--test", type=float, help="Held-out fraction.  [default: 0.2]")
@click.option("--hidden", help="Hidden layer sizes, e.g. 16,16.  [default: 16,16]")
@click.option("--activation", help="Hidden activation.  [default: relu]")
@click.option("--init", help="Weight initialiser (default: the activation's suggested one).")
@click.option("--loss", help="softmax_ce, hinge, bce or mse.  [default: softmax_ce]")
@click.option("--optimizer", help="sgd, adagrad, rmsprop, adam, adamw.  [default: adam]")
@click.option("--lr", type=float, help="Learning rate (default: the optimiser's).")
@click.option("--epochs", type=int, help="[default: 20]")
@click.option("--batch-size", "batch_size", type=int, help="[default: 32]")
@click.option("--seed", type=int, help="[default: 0]")
@click.option("--dropout", type=float, help="Drop probability after each hidden layer.")
@click.option("--batchnorm/--no-batchnorm", default=None, help="BatchNorm before activations.")
@click.option("--regularizer", help="none, l1, l2 or elastic.")
@click.option("--lam", type=float, help="Regularisation strength λ.")
@click.option("--json", "as_json", is_flag=True, help="Print the history as JSON.")
@click.option("--tensorboard", "tensorboard_dir", type=click.Path(file_okay=False),
              help="Also write the probes' records as TensorBoard event files to this folder.")
def train(config_path, as_json, tensorboard_dir, **cli_options):
    """Fit an MLP on a named data set, print the history and what the probes found."""
    options = load_train_config(config_path) if config_path else {}
    options.update({k: v for k, v in cli_options.items() if v is not None})
    history, model, o, probe = train_model(options, probe=True)
    if tensorboard_dir:
        from .probes.tensorboard import export_tensorboard
        export_tensorboard(probe, tensorboard_dir)
    e = history.epochs
    findings = [str(f) for f in probe.findings]
    if as_json:
        _echo_json({"options": o, "parameters": model.num_parameters(),
                    "epochs": {k: list(v) for k, v in e.items()},
                    "diverged": history.diverged, "stopped": history.stopped,
                    "findings": findings})
        return
    dense = [m for m in model.layers if hasattr(m, "n_in")]
    sizes = " → ".join(str(d) for d in [dense[0].n_in, *(d.n_out for d in dense)])
    click.echo(f"{o['data']}: MLP {sizes}, {o['activation']}, {o['optimizer']} "
               f"lr={o['lr'] or 'default'}, {model.num_parameters()} parameters, seed {o['seed']}")
    click.echo(f"{'epoch':>5}  {'loss':>8}  {'acc':>6}  {'val_loss':>8}  {'val_acc':>7}")
    for i in range(len(history)):
        acc = e.get("acc", [None] * (i + 1))[i]
        vacc = e.get("val_acc", [None] * (i + 1))[i]
        click.echo(f"{i + 1:>5}  {e['loss'][i]:>8.4f}  {_pct(acc):>6}  "
                   f"{e['val_loss'][i]:>8.4f}  {_pct(vacc):>7}")
    click.echo("findings: " + ("none — the probes saw nothing wrong" if not findings else ""))
    for line in findings:
        click.echo(f"  • {line}")
    if tensorboard_dir:
        click.echo(f"TensorBoard event files in {tensorboard_dir}")
    if history.diverged:
        click.secho(f"diverged: {history.stopped}", fg="red", err=True)
        sys.exit(1)


def _pct(v) -> str:
    return "—" if v is None else f"{v:.1%}"


# -- delegates -----------------------------------------------------------------------------------

@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def search(args):
    """Hyperparameter search (Optuna); `whynet search --help` for its options."""
    try:
        from .search import main as search_main
    except ImportError as e:
        if getattr(e, "name", "") in ("whynet.search", "optuna"):
            raise ConfigError(f"whynet search is not available yet ({e})") from e
        raise
    code = search_main(list(args))
    sys.exit(code or 0)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option("--open/--no-open", "open_browser", default=False, show_default=True,
              help="Open the page in a browser.")
@click.option("--report", "report", default=None,
              type=click.Path(exists=True, dir_okay=False),
              help="An HTML report (from `whynet report`) to serve at /report, where the lab's "
                   "question and preset links point.")
def serve(host, port, open_browser, report):
    """Serve the browser lab on localhost."""
    try:
        from .web.server import serve as serve_lab
    except ImportError as e:
        if getattr(e, "name", "") in ("whynet.web.server", "whynet.web", "fastapi", "uvicorn"):
            raise ConfigError(f"whynet serve is not available yet ({e})") from e
        raise
    serve_lab(host, port, open_browser, report=report)
    # The server has stopped cleanly (sessions and streams ended, sockets closed) and nothing is
    # left to write: skip the interpreter's teardown of ~1,500 imported modules, which takes
    # seconds on a busy machine, so Ctrl+C ends the command at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
