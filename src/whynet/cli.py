"""The ``whynet`` command: list, run and report experiments, print claims, train a model.

::

    whynet list                          # experiments, their question IDs, grid sizes, run time
    whynet run a4 i3 --quick --jobs 2    # run (or resume) experiments; verdicts at the end
    whynet run all --quick --json        # machine-readable
    whynet claims                        # every question ID with its current verdict
    whynet report -o report.html         # one self-contained HTML file
    whynet export runs --format csv -o runs.csv   # the stored runs (or verdicts) for pandas
    whynet report --lang ko -o report.ko.html   # in Korean (also claims, run; or WHYNET_LANG=ko)
    whynet train --data circles --hidden 16,16 --activation tanh --epochs 50
    whynet train --config run.toml       # the same options from a TOML file
    whynet ask examples/questions/*.toml --quick   # your own questions, answered the same way

Errors from whynet print as one red line (plain when NO_COLOR is set) and exit with status 2.
``--lang`` (on every command, or on the group: ``whynet --lang ko train …``) translates the verdict
tables, the report, the error messages, the help and click's own words (see
:mod:`whynet.cli_lang`).
"""

from __future__ import annotations

import _thread
import contextlib
import contextvars
import importlib.util
import json
import math
import os
import signal
import sys
import textwrap
import threading
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import __version__, export as exporting
from .atomic import replacing
from .cli_lang import Group, Option, lang_option, language_in, option
from .config import INIT_PRESETS, RunConfig, build, read_toml
from .datasets import DATASETS
from .datasets.noise import NOISE_HELP
from .errors import ConfigError, WhynetError, check_file_path
from .experiments import catalogue, registry
from .nn.activations import ACTIVATIONS
from .nn.init import INITIALIZERS
from .nn.losses import LOSSES
from .nn.regularizers import REGULARIZERS
from .optim import OPTIMIZERS
from .i18n import N_, _, for_click, set_language
from .probes import Probe
from .probes.tensorboard import export_tensorboard
from .report import write_report
from .report.status import label
from .runner import choose_quick, claims as claims_of, collect, evaluate, plan, run_tasks
from .search import search_command
from .store import Store, default_path, require_existing

# "shown" (a demonstration) gets a neutral style of its own: it must never look like a test.
STATUS_STYLE = {"holds": "green", "fails": "red", "depends": "yellow", "inconclusive": "magenta",
                "shown": "cyan", "not run": "dim", "not answered": "dim", "error": "red"}


def error_line(message: str) -> None:
    """``error: message`` on stderr, red unless $NO_COLOR is set (https://no-color.org: any
    non-empty value) or stderr is not a terminal."""
    click.secho(f"error: {message}", fg="red", err=True,
                color=False if os.environ.get("NO_COLOR") else None)


class _CtrlC:
    """The SIGINT handler while a command runs: Ctrl-C as a KeyboardInterrupt, as Python's own
    handler, except inside the import system, where a KeyboardInterrupt raised in one of its
    weakref callbacks is swallowed with an "Exception ignored … Traceback" on stderr and the
    command runs on. There it is delivered again 10 ms later, once the import step is over (or,
    if the command ends first, as it ends)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.deferred: threading.Timer | None = None

    def __call__(self, signum, frame) -> None:
        if frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
            with self.lock:
                if self.deferred is None:
                    self.deferred = threading.Timer(0.01, self.deliver, (signum,))
                    self.deferred.daemon = True
                    self.deferred.start()
            return
        raise KeyboardInterrupt

    def deliver(self, signum) -> None:
        with self.lock:
            self.deferred = None
        _thread.interrupt_main(signum)

    def still_pending(self) -> bool:
        """Cancel a deferred interrupt not yet delivered; whether there was one."""
        with self.lock:
            timer, self.deferred = self.deferred, None
        if timer is not None:
            timer.cancel()
        return timer is not None


@contextlib.contextmanager
def _clean_ctrl_c():
    """A :class:`_CtrlC` as the SIGINT handler while a command runs (in the main thread, where
    Python's default handler is installed: an ignored SIGINT stays ignored)."""
    main_thread = threading.current_thread() is threading.main_thread()
    handler = _CtrlC()
    swap = main_thread and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if swap:
        signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        if swap and signal.getsignal(signal.SIGINT) is handler:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        if handler.still_pending():  # Ctrl-C came during the command's last import
            raise KeyboardInterrupt


class _Group(Group):
    """A click group that turns whynet's errors into one red line and exit status 2, and runs
    each command in the language of its ``--lang`` (else ``WHYNET_LANG`` / the locale)."""

    def main(self, args=None, prog_name=None, **extra):
        args = list(sys.argv[1:] if args is None else args)
        # in a context of its own: --lang holds for this command only (also in-process)
        return contextvars.copy_context().run(self._main_in, args, prog_name, extra)

    def _main_in(self, args, prog_name, extra):
        """:meth:`main` with the language chosen before click parses anything (see
        :func:`~whynet.cli_lang.language_in`) and click's own strings in it."""
        try:
            lang = set_language(language_in(args))
        except WhynetError as e:  # --lang fr, WHYNET_LANG=xx
            error_line(str(e))
            sys.exit(2)
        with for_click(lang):
            return super().main(args, prog_name, **extra)

    def make_context(self, info_name, args, parent=None, **extra):
        """The group's own options parsed (``whynet --bogus``): a usage error is one line."""
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError:  # bare ``whynet``: click prints the help
            raise
        except click.UsageError as e:
            _usage_line(e)
            sys.exit(2)

    def invoke(self, ctx):
        try:
            with _clean_ctrl_c():
                return super().invoke(ctx)
        except WhynetError as e:
            error_line(str(e))
            ctx.exit(2)
        except click.UsageError as e:  # a subcommand's bad option or argument
            _usage_line(e)
            ctx.exit(2)
        except KeyboardInterrupt:  # Ctrl-C outside a run's own handling: one line, no traceback
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while exiting too
            click.secho(_("interrupted"), fg="yellow", err=True)
            ctx.exit(130)


def _usage_line(e: click.UsageError) -> None:
    """A bad option or argument as one ``error:`` line naming where to look, not click's
    three lines (usage, hint, error)."""
    where = e.ctx.command_path if e.ctx is not None else "whynet"
    error_line(_("{message} (see '{command} --help')").format(message=e.format_message(),
                                                               command=where))


def _exit_now(code: int) -> None:
    """Leave at once, skipping interpreter teardown: after an interrupted pool, the atexit hook
    of ``concurrent.futures`` may write to the pipe of a manager thread whose workers were just
    terminated and print a traceback ("Exception ignored in … threading"). Everything worth
    keeping is written; only the standard streams are flushed."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _console():
    return Console(highlight=False)


def _open_store(path, read_only: bool = False):
    return Store(path, read_only=read_only)


def _read_store(store_path) -> Store:
    """The store to read (claims, report, export); one that does not exist is an error naming
    it, never an empty store created on the way."""
    return Store(require_existing(Path(store_path) if store_path else default_path()),
                 read_only=True)


class LazyChoice(click.Choice):
    """A ``click.Choice`` whose choices are computed when first needed (checking a value,
    completing one, or ``--help`` of the command), not when the CLI is imported: the
    experiment ids need every experiment module imported."""

    def __init__(self, load, case_sensitive: bool = False):
        self._load = load
        self.case_sensitive = case_sensitive

    @property
    def choices(self) -> tuple:  # asked each time: plug-ins may register experiments later
        return tuple(self._load())


def _names(*tables) -> click.Choice:
    """Choice (case-insensitive, with shell completion) among the keys of ``tables``."""
    return click.Choice(list(dict.fromkeys(k for t in tables for k in t)), case_sensitive=False)


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
    return option("--quick/--full", "quick", default=None,
                  help=N_("Which grid's results to use (default: the full grid when the store "
                          "has all of it, else the quick one)."))(f)


store_option = option("--store", "store_path", type=click.Path(dir_okay=False),
                      default=None, help=N_("Results store (default $WHYNET_STORE, else "
                                            "runs.sqlite in the user cache folder: "
                                            "$XDG_CACHE_HOME/whynet or ~/.cache/whynet)."))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]},
             help=N_("whynet — a neural-network laboratory: experiments that answer *why*."))
@click.version_option(__version__, prog_name="whynet", cls=Option,
                      help=N_("Show the version and exit."))
@lang_option
def main():
    """The ``whynet`` command group (its help: ``help=`` above, translated when shown)."""


# -- list ----------------------------------------------------------------------------------------

LIST_COLUMNS = (N_("id"), N_("questions"), N_("title"), N_("quick runs"), N_("full runs"),
                N_("measured"))
GRIDS = (N_("quick"), N_("full"))

@main.command("list", help=N_("The experiments, the question IDs they answer, grid sizes and "
                               "measured run time."))
@option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
@lang_option
@store_option
def list_cmd(as_json, store_path):
    """``whynet list`` (its help: ``help=`` above, translated when shown)."""
    path = require_existing(Path(store_path)) if store_path else default_path()
    store = _open_store(path, read_only=True) if path.exists() else None  # none yet: no times
    rows = []
    try:
        for e in catalogue.summaries():  # no experiment imported when the cache is current
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
    t = Table(title=_("whynet experiments"), title_justify="left")
    for col in LIST_COLUMNS:
        t.add_column(_(col), justify="right" if "runs" in col or col == "measured" else "left")
    for r in rows:
        secs = [f"{_(k)} {_seconds(r[k + '_seconds'])}" for k in GRIDS if r[k + "_seconds"]]
        t.add_row(r["id"], " ".join(r["questions"]), r["title"], str(r["quick_runs"]),
                  str(r["full_runs"]), ", ".join(secs) or _("not run"))
    _console().print(t)


def _seconds(s: float | None) -> str:
    if not s:
        return "—"
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


# -- run -----------------------------------------------------------------------------------------

def _select(ids) -> list:
    if not ids:
        raise ConfigError(_("whynet run: name experiments (see `whynet list`) or 'all'"))
    if "all" in ids:
        return registry.all_experiments()
    return [registry.get(i.lower()) for i in dict.fromkeys(ids)]


@main.command(help=N_("Run experiments by id (or `all`); finished runs come from the store, never "
                      "recomputed."))
@click.argument("ids", nargs=-1, metavar="[ID]...",
                type=LazyChoice(lambda: ["all", *catalogue.ids()]))
@option("--quick/--full", default=False,
        help=N_("The quick grids (seconds) or the full ones (the default)."))
@option("--seeds", type=click.IntRange(min=1), default=None,
        help=N_("Seeds per spec (default: each experiment's own)."))
@option("--jobs", "-j", type=click.IntRange(min=1), default=None,
        help=N_("Worker processes (default: one per core)."))
@option("--scheduler", default=None, help=N_("Dask scheduler address, e.g. tcp://host:8786."))
@option("--json", "as_json", is_flag=True, help=N_("Print the results as JSON."))
@option("--progress/--no-progress", default=None, help=N_("Progress bar (default: on a tty)."))
@option("--verbose", "-v", is_flag=True,
        help=N_("Also print each verdict's evidence rows and the rule that decided it."))
@lang_option
@store_option
def run(ids, quick, seeds, jobs, scheduler, as_json, progress, verbose, store_path):
    """``whynet run`` (its help: ``help=`` above, translated when shown)."""
    experiments = _select(ids)
    tasks = plan(experiments, quick, seeds)
    with _open_store(store_path) as store:
        try:
            summary = run_tasks(tasks, store, jobs=jobs, scheduler=scheduler, progress=progress)
        except KeyboardInterrupt:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # stopping: a second Ctrl-C changes nothing
            done = len(store.done_keys(t.key for t in tasks))
            click.secho(_("interrupted: {done} of {total} runs are stored in {store}; run the "
                          "same command again to finish the rest").format(
                done=done, total=len(tasks), store=store.path), fg="yellow", err=True)
            store.close()  # every finished run is already committed, one transaction each
            _exit_now(130)
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
        con.print(_("{total} runs: {ran} ran, {cached} from the store, {failed} failed").format(
            total=len(tasks), ran=len(summary.ran), cached=len(summary.cached),
            failed=len(summary.failed)) + f"  [dim]({store.path})[/]")
        for f in failed:
            last = (f["error"] or "").strip().splitlines()[-1:] or ["?"]
            con.print("[red]" + _("failed") + f"[/] {f['experiment']} {json.dumps(f['spec'])} "
                      + _("seed {seed}").format(seed=f["seed"]) + f": {last[0]}", markup=True)
        _print_verdicts(con, evaluations, verbose)
    if summary.failed:
        sys.exit(1)


def _evaluation_json(ev) -> dict:
    return {"id": ev.experiment.id, "questions": list(ev.experiment.questions),
            "runs": len(ev.results), "error": ev.error,
            "verdicts": [v.as_dict() for v in ev.verdicts]}


def _status_cell(status: str) -> str:
    return f"[{STATUS_STYLE.get(status, '')}]{label(status)}[/]"


def _agree_text(agree) -> str:
    """``seeds_agree`` of a verdict dict (one tally, a list of them, or None) as text."""
    tallies = agree if isinstance(agree, list) else [agree] if agree else []
    return "; ".join(_("{k} of {n} seeds agree").format(k=t["agree"], n=t["n"]) for t in tallies)


def _answer_cell(d: dict, verbose: bool, fallback: str = "") -> str:
    """The one-line answer (or the sentence when there is none yet); with ``verbose`` also the
    evidence rows, the rule with its k-of-n and what a "depends" depends on, from the dict form
    of a verdict (``Verdict.as_dict()`` or a ``claims`` row)."""
    text = escape(d.get("answer") or d.get("sentence") or "") or fallback
    if not verbose:
        return text
    lines = [text]
    for row in d.get("evidence") or []:
        measures = ", ".join(f"{k} {v}" for k, v in row["measures"].items())
        lines.append(f"[dim]• {escape(row['condition'])}: {escape(measures)}[/]")
    agree = _agree_text(d.get("seeds_agree"))
    if d.get("rule") or agree:
        lines.append("[dim]" + _("rule") + f": {escape(d.get('rule') or '')}"
                     f"{' (' + agree + ')' if agree else ''}[/]")
    if d.get("depends_on"):
        lines.append("[dim]" + _("depends on") + f": {escape(', '.join(d['depends_on']))}[/]")
    return "\n".join(lines)


def _print_verdicts(con, evaluations, verbose: bool = False) -> None:
    t = Table(show_header=True, header_style="bold")
    t.add_column(_("question"))
    t.add_column(_("Verdict"))
    t.add_column(_("Answer"), overflow="fold")
    for ev in evaluations:
        if ev.error:
            t.add_row(" ".join(ev.experiment.questions), _status_cell("error"),
                      f"{ev.experiment.id}: {ev.error}")
        for v in ev.verdicts:
            t.add_row(v.question, _status_cell(v.status), _answer_cell(v.as_dict(), verbose))
    con.print(t)


# -- claims --------------------------------------------------------------------------------------

def claims_table(store, quick=None) -> list[dict]:
    """Every question ID with its current verdict, computed from the stored results."""
    return claims_of([evaluate(e, collect(e, store, quick)) for e in registry.all_experiments()])


@main.command(help=N_("Every question ID with its current verdict and one-line answer, from the "
                      "store."))
@option("--json", "as_json", is_flag=True, help=N_("Print JSON (every field of every ID)."))
@option("--verbose", "-v", is_flag=True,
        help=N_("Also print each verdict's evidence rows and the rule that decided it."))
@_grid_option
@lang_option
@store_option
def claims(as_json, verbose, quick, store_path):
    """``whynet claims`` (its help: ``help=`` above, translated when shown)."""
    with _read_store(store_path) as store:
        rows = claims_table(store, quick)
    if as_json:
        _echo_json(rows)
        return
    t = Table(show_header=True, header_style="bold")
    t.add_column(_("ID"))
    t.add_column(_("Verdict"))
    t.add_column(_("answer (or the notes' claim)"), overflow="fold")
    for r in rows:
        t.add_row(r["question"], _status_cell(r["status"]),
                  _answer_cell(r, verbose, fallback=f"[dim]{escape(r['claim'])}[/]"))
    _console().print(t)


# -- report --------------------------------------------------------------------------------------

@main.command(help=N_("Write the HTML report (one self-contained file) from the stored results; "
                      "question files given (answered with `whynet ask`) get a section \"Asked "
                      "questions\"."))
@click.argument("questions", nargs=-1, type=click.Path(dir_okay=False))
@option("-o", "--output", type=click.Path(dir_okay=False), default="report.html",
        show_default=True, help=N_("Where to write the HTML file."))
@_grid_option
@lang_option
@store_option
def report(questions, output, quick, store_path):
    """``whynet report`` (its help: ``help=`` above, translated when shown)."""
    asked = load_asked(questions)
    with _read_store(store_path) as store:
        try:
            path = write_report(output, store, quick=quick, asked=asked)
        except OSError as e:
            raise ConfigError(_("report: cannot write {output} ({reason})")
                                .format(output=output, reason=e.strerror or e)) from e
    click.echo(_("wrote {path}").format(path=path.resolve()))


# -- export --------------------------------------------------------------------------------------

@main.command("export", help=N_("Export the stored runs (one row per run) or the verdicts (one "
                                 "row per question ID) as CSV or JSON lines, for pandas or an "
                                 "experiment tracker."))
@click.argument("table", type=click.Choice(exporting.TABLES))
@option("--format", "fmt", type=click.Choice(exporting.FORMATS), default="csv",
        show_default=True, help=N_("CSV (spec.* and result.* columns) or JSON lines."))
@option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-",
        help=N_("File to write (default: standard output)."))
@_grid_option
@lang_option
@store_option
def export_cmd(table, fmt, output, quick, store_path):
    """``whynet export`` (its help: ``help=`` above, translated when shown)."""
    if output != "-":
        check_file_path("export", "the output", output)
    with _read_store(store_path) as store:
        rows = store.rows() if table == "runs" else claims_table(store, quick)
    try:
        with click.open_file("-", "w") if output == "-" else replacing(Path(output)) as stream:
            exporting.write(table, rows, fmt, stream)
    except BrokenPipeError:  # `whynet export runs | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error at exit
        sys.exit(1)
    except OSError as e:
        raise ConfigError(_("export: cannot write {output} ({reason})")
                            .format(output=output, reason=e.strerror or e)) from e
    if output != "-":
        click.echo(_("wrote {n} {table} to {path}").format(n=len(rows), table=table,
                                                             path=Path(output).resolve()),
                   err=True)


# -- train ---------------------------------------------------------------------------------------

def _parse_hidden(value) -> list[int]:
    """``--hidden 16,16`` as layer sizes (the command line's spelling of a list)."""
    try:
        return [int(v) for v in value.replace(" ", "").split(",") if v]
    except ValueError:
        raise ConfigError(_("train: hidden must be layer sizes like 16,16, got {value!r}")
                            .format(value=value)) from None


def train_config(config_path=None, options: dict | None = None) -> RunConfig:
    """The :class:`~whynet.config.RunConfig` of ``whynet train``: RunConfig's defaults, then the
    TOML file's keys (top level, or under a ``[train]`` table), then the command line's options.
    A bad key or value names the file and its line."""
    cfg = RunConfig()
    if config_path:
        what = _("train config")
        values, text = read_toml(config_path, what)
        if set(values) == {"train"} and isinstance(values["train"], dict):
            values = values["train"]
        cfg = RunConfig.from_dict(values, f"{what} {config_path}", text)
    given = {k: v for k, v in (options or {}).items() if v is not None}
    if isinstance(given.get("hidden"), str):
        given["hidden"] = _parse_hidden(given["hidden"])
    return RunConfig.from_dict(given, "train", base=cfg)


#: ``whynet train`` measures this many times over a run unless ``--probe-every`` says otherwise:
#: enough points for the findings' trends (is the loss still falling?), at ~2.5 training steps
#: of cost each.
PROBE_MEASUREMENTS = 20


def train_model(cfg: RunConfig, probe: bool = False, probe_every: int | None = None):
    """Build ``cfg`` and fit it: ``(history, run)``, plus the :class:`~whynet.probes.Probe` that
    watched it (on up to 256 training examples) when ``probe`` is true, every ``probe_every``
    steps (default: about :data:`PROBE_MEASUREMENTS` times over the run)."""
    run = build(cfg)
    train = run.data.train
    watcher = None
    if probe:
        if probe_every is None:
            steps = cfg.epochs * -(-len(train.X) // cfg.batch_size)
            probe_every = max(1, steps // PROBE_MEASUREMENTS)
        watcher = Probe(run.model, train.X[:256], train.y[:256], run.loss, every=probe_every)
    history = run.fit(callbacks=[watcher] if watcher else ())
    return (history, run, watcher) if probe else (history, run)


@main.command(help=N_("Fit an MLP on a named data set, print the history and what the probes "
                      "found."))
@option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
        help=N_("TOML file with these options (command-line options override it)."))
@option("--data", type=_names(DATASETS), help=N_("Data set.  [default: moons]"))
@option("--n", type=int, help=N_("Number of examples (toy sets)."))
@option("--noise", type=float, help=NOISE_HELP)
@option("--test", type=float, help=N_("Held-out fraction.  [default: 0.2]"))
@option("--hidden", help=N_("Hidden layer sizes, e.g. 16,16.  [default: 16,16]"))
@option("--activation", type=_names(ACTIVATIONS), help=N_("Hidden activation.  [default: relu]"))
@option("--init", type=_names(INITIALIZERS, INIT_PRESETS),
        help=N_("Weight initialiser (default: the activation's suggested one)."))
@option("--loss", type=_names(LOSSES), help=N_("Loss.  [default: mse for a regression set (plane, multigauss), else softmax_ce]"))
@option("--optimizer", type=_names(OPTIMIZERS), help=N_("Optimiser.  [default: adam]"))
@option("--lr", type=float, help=N_("Learning rate (default: the optimiser's)."))
@option("--epochs", type=int, help=N_("[default: 20]"))
@option("--batch-size", "batch_size", type=int, help=N_("[default: 32]"))
@option("--seed", type=int, help=N_("[default: 0]"))
@option("--dropout", type=float, help=N_("Drop probability after each hidden layer."))
@option("--batchnorm/--no-batchnorm", default=None, help=N_("BatchNorm before activations."))
@option("--regularizer", type=_names(REGULARIZERS), help=N_("Regulariser.  [default: none]"))
@option("--lam", type=float, help=N_("Regularisation strength λ."))
@option("--probe-every", "probe_every", type=click.IntRange(min=1),
        help=N_("Measure the probes every N steps (default: about 20 times over the run)."))
@option("--json", "as_json", is_flag=True, help=N_("Print the history as JSON."))
@option("--tensorboard", "tensorboard_dir", type=click.Path(file_okay=False),
        help=N_("Also write the probes' records as TensorBoard event files to this folder."))
@lang_option
def train(config_path, as_json, tensorboard_dir, probe_every, **cli_options):
    """``whynet train`` (its help: ``help=`` above, translated when shown)."""
    cfg = train_config(config_path, cli_options)
    if tensorboard_dir and importlib.util.find_spec("tensorboardX") is None:  # before training
        raise ConfigError(_("TensorBoard export needs tensorboardX: pip install "
                            "'whynet[tensorboard]'"))
    history, run, probe = train_model(cfg, probe=True, probe_every=probe_every)
    model = run.model
    if tensorboard_dir:
        try:
            export_tensorboard(probe, tensorboard_dir)
        except OSError as e:
            raise ConfigError(_("train: cannot write TensorBoard files to {tensorboard_dir} "
                                "({reason})")
                                .format(tensorboard_dir=tensorboard_dir,
                                        reason=e.strerror or e)) from e
    e = history.epochs
    ranked = probe.ranked()
    findings = [str(f) for f in ranked]
    if as_json:
        _echo_json({"options": cfg.to_dict(), "used": _used(run),
                    "parameters": model.num_parameters(),
                    "epochs": {k: list(v) for k, v in e.items()},
                    "diverged": history.diverged, "stopped": history.stopped,
                    "findings": findings,
                    "finding_rules": [{"rule": f.rule, "question": f.question, "step": f.step,
                                       "layer": f.layer} for f in ranked]})
        return
    used = _used(run)
    dense = [m for m in model.layers if hasattr(m, "n_in")]
    sizes = " → ".join(str(d) for d in [dense[0].n_in, *(d.n_out for d in dense)])
    acts = cfg.activation if isinstance(cfg.activation, str) else "/".join(cfg.activation)
    click.echo(_("{data}: MLP {sizes}, {activation}, {optimizer} lr={lr:g}, {parameters} "
                 "parameters, seed {seed}").format(
        data=cfg.data, sizes=sizes, activation=acts, optimizer=cfg.optimizer, lr=used["lr"],
        parameters=model.num_parameters(), seed=cfg.seed))
    click.echo(f"{'epoch':>5}  {'loss':>8}  {'acc':>6}  {'val_loss':>8}  {'val_acc':>7}")
    for i in range(len(history)):
        acc = e.get("acc", [None] * (i + 1))[i]
        vacc = e.get("val_acc", [None] * (i + 1))[i]
        click.echo(f"{i + 1:>5}  {e['loss'][i]:>8.4f}  {_pct(acc):>6}  "
                   f"{e['val_loss'][i]:>8.4f}  {_pct(vacc):>7}")
    measured = len(probe.records.steps())
    if not findings:
        click.echo(_("findings: none — the probes ({measured} measurements) saw nothing wrong")
                   .format(measured=measured))
    else:
        order = _(", most important first") if len(findings) > 1 else ""
        click.echo(_("findings: {n}{order} (from {measured} measurements)").format(
            n=len(findings), order=order, measured=measured))
    for f in ranked:
        tag = f" [{f.question}]" if f.question else ""
        click.echo(textwrap.fill(f"{f}{tag}", width=100, initial_indent="  • ",
                                 subsequent_indent="    "))
    if tensorboard_dir:
        click.echo(_("TensorBoard event files in {folder}").format(folder=tensorboard_dir))
    if history.diverged:
        click.secho(_("diverged: {reason}").format(reason=history.stopped), fg="red", err=True)
        sys.exit(1)


def _used(run) -> dict:
    """The values the run actually used where the configuration left a default."""
    inits = sorted({d.init_name for d in run.model.layers if getattr(d, "init_name", None)})
    return {"lr": float(run.optimizer.lr), "init": inits or None, "loss": run.loss.name}


def _pct(v) -> str:
    return "—" if v is None else f"{v:.1%}"


# -- ask -----------------------------------------------------------------------------------------

def load_asked(files) -> list:
    """The :class:`~whynet.ask.QuestionExperiment` of each question file, all validated first."""
    from .ask import QuestionExperiment, load_question

    experiments, seen = [], {}
    for f in files:
        e = QuestionExperiment(load_question(f))
        if e.q.id in seen:
            raise ConfigError(_("question {f}: id {id!r} is also the id of {seen}; give one of "
                                "them another id = \"…\"")
                                .format(f=f, id=e.q.id, seen=seen[e.q.id]))
        seen[e.q.id] = f
        experiments.append(e)
    return experiments


@main.command(help=N_("Answer question files (TOML, see docs/ask.md) with measured runs and a "
                      "verdict."))
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@option("--quick", is_flag=True, help=N_("Each question's [quick] grid (smaller, seconds)."))
@option("--jobs", "-j", type=click.IntRange(min=1), default=None,
        help=N_("Worker processes (default: one per core)."))
@option("--scheduler", default=None, help=N_("Dask scheduler address, e.g. tcp://host:8786."))
@option("--budget", type=click.FloatRange(min=0), default=None,
        help=N_("Most CPU seconds to spend without asking (default 600)."))
@option("--yes", "-y", is_flag=True, help=N_("Run even when the estimate is over the budget."))
@option("--json", "as_json", is_flag=True, help=N_("Print every field of every verdict."))
@option("--progress/--no-progress", default=None, help=N_("Progress bar (default: on a tty)."))
@option("--verbose", "-v", is_flag=True, help=N_("Also print the evidence and the rule."))
@lang_option
@store_option
def ask(files, quick, jobs, scheduler, budget, yes, as_json, progress, verbose, store_path):
    """``whynet ask`` (its help: ``help=`` above, translated when shown)."""
    from .ask.budget import DEFAULT_BUDGET, seconds_per_run

    experiments = load_asked(files)  # every file checked before the store is touched
    tasks = plan(experiments, quick)
    path = Path(store_path) if store_path else default_path()
    done = set()
    if path.exists():
        with _open_store(path) as store:
            done = store.done_keys(t.key for t in tasks)
    todo = {e.id: sum(1 for t in tasks if t.experiment is e and t.key not in done)
            for e in experiments}
    workers = 1 if scheduler else min(jobs or 1, max(1, sum(todo.values())))
    estimate = sum(seconds_per_run(e, quick) * todo[e.id] for e in experiments if todo[e.id])
    limit = DEFAULT_BUDGET if budget is None else budget
    if estimate / workers > limit and not yes:
        raise ConfigError(_("ask: about {estimate:.0f} CPU seconds for {runs} runs (≈ "
                            "{per_worker:.0f} s on {workers} worker(s)), over the budget of "
                            "{limit:.0f} s; pass --yes to run anyway, --quick for the smaller "
                            "grid, or --budget SECONDS")
                            .format(estimate=estimate, runs=sum(todo.values()),
                                    per_worker=estimate / workers, workers=workers,
                                    limit=limit))
    with _open_store(path) as store:
        try:
            summary = run_tasks(tasks, store, jobs=jobs, scheduler=scheduler, progress=progress)
        except KeyboardInterrupt:
            left = len(tasks) - len(store.done_keys(t.key for t in tasks))
            click.secho(_("interrupted: {left} of {total} runs left; ask again to finish them")
                        .format(left=left, total=len(tasks)), fg="yellow", err=True)
            sys.exit(130)
        evaluations = [evaluate(e, collect(e, store, quick)) for e in experiments]
    if as_json:
        _echo_json({
            "grid": "quick" if quick else "full", "store": str(path),
            "estimate_seconds": estimate,
            "runs": {"total": len(tasks), "ran": len(summary.ran),
                     "cached": len(summary.cached), "failed": len(summary.failed)},
            "questions": [{**_evaluation_json(ev), "file": ev.experiment.q.path,
                           "question": ev.experiment.q.question,
                           "source": ev.experiment.q.source,
                           "claim": ev.experiment.q.claim.text(),
                           "dimensions": ev.experiment.q.grid(quick).dims,
                           "seeds": ev.experiment.seeds(quick)} for ev in evaluations],
            "failed": [{"question": o.task.experiment.q.id, "spec": o.task.spec,
                        "seed": o.task.seed, "error": o.error} for o in summary.failed]})
    else:
        con = _console()
        con.print(_("{total} runs: {ran} ran, {cached} from the store, {failed} failed").format(
            total=len(tasks), ran=len(summary.ran), cached=len(summary.cached),
            failed=len(summary.failed)) + "  [dim](" + _("estimated {seconds} CPU s").format(
            seconds=f"{estimate:.0f}") + f"; {path})[/]")
        for o in summary.failed:
            last = (o.error or "").strip().splitlines()[-1:] or ["?"]
            con.print("[red]" + _("failed") + f"[/] {o.task.label()}: {escape(last[0])}")
        _print_verdicts(con, evaluations, verbose)
    if summary.failed:
        sys.exit(1)


# -- search and the lab -----------------------------------------------------------------------------------

main.add_command(search_command)


@main.command(help=N_("Serve the browser lab on localhost."))
@option("--host", default="127.0.0.1", show_default=True,
        help=N_("Address to listen on (127.0.0.1: this computer only)."))
@option("--port", default=8000, type=click.IntRange(0, 65535), show_default=True,
        help=N_("TCP port, 1–65535 (0: any free port)."))
@option("--open/--no-open", "open_browser", default=False, show_default=True,
        help=N_("Open the page in a browser."))
@option("--report", "report", default=None,
        type=click.Path(exists=True, dir_okay=False),
        help=N_("An HTML report (from `whynet report`) to serve at /report, where the lab's "
                "question and preset links point."))
@lang_option
def serve(host, port, open_browser, report):
    """``whynet serve`` (its help: ``help=`` above, translated when shown)."""
    try:  # FastAPI and uvicorn are an extra
        from .web.server import serve as serve_lab
    except ImportError as e:
        if getattr(e, "name", "") in ("fastapi", "uvicorn", "starlette", "pydantic"):
            raise ConfigError(_("whynet serve needs FastAPI and uvicorn: pip install "
                                "'whynet[web]' ({reason})").format(reason=e)) from e
        raise
    serve_lab(host, port, open_browser, report=report)
    # The server has stopped cleanly (sessions and streams ended, sockets closed) and nothing is
    # left to write: skip the interpreter's teardown of ~1,500 imported modules, which takes
    # seconds on a busy machine, so Ctrl+C ends the command at once.
    _exit_now(0)


if __name__ == "__main__":  # pragma: no cover
    main()
