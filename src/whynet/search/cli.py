"""``whynet search``: the command line and the TOML file of a search.

::

    whynet search -p lr=1e-4:1:log -p width=8,16,32 -p epochs=20 --data moons
    whynet search -c search.toml            # [search], [data] and [space] tables
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Mapping

import click
from rich.console import Console

from ..cli_lang import Command, lang_option, language_in, option
from ..config import read_toml
from ..errors import ConfigError, WhynetError, check_file_path, check_int
from ..i18n import N_, _, for_click, use_language
from .objective import load_data
from .results import _fmt, test_score
from .samplers import SAMPLERS
from .space import HYPERPARAMETERS, parse_option, parse_space, scalar
from .study import DEFAULT_STORAGE, GRACE_PERIOD, PRUNERS, SEARCH_DB, SearchResult, search

#: Optuna's trial states as the summary line names them (translated when shown).
TRIAL_STATES = (N_("complete"), N_("pruned"), N_("fail"), N_("running"), N_("waiting"))

SEARCH_SETTINGS = ("sampler", "seed", "n_trials", "timeout", "storage", "study_name", "pruner",
                   "grid_points", "plot", "top")
CONFIG_SECTIONS = ("search", "data", "space")
INTERRUPTED = N_("interrupted: finished trials are in the storage; run the same command again "
                 "to resume")


def load_config(path) -> dict:
    """A TOML search file: ``[search]`` (sampler, seed, n_trials, …), ``[data]`` (name, examples,
    val, test, standardize and the data set's own arguments) and ``[space]``. Unknown sections or
    ``[search]`` keys raise naming them and the allowed ones; ``[space]`` names are checked by
    :func:`~whynet.search.space.parse_space`, ``[data]`` arguments by the data set."""
    what = _("search config")
    cfg, _text = read_toml(path, what)
    where = f"{what} {str(path)!r}"
    unknown = sorted(set(cfg) - set(CONFIG_SECTIONS))
    if unknown:
        raise ConfigError(_("{where}: unknown key(s) {unknown}; allowed: {config_sections} (as "
                            "[tables])")
                            .format(where=where, unknown=', '.join(unknown),
                                    config_sections=', '.join(CONFIG_SECTIONS)))
    for section in CONFIG_SECTIONS:
        if section in cfg and not isinstance(cfg[section], dict):
            raise ConfigError(_("{where}: {section} must be a [table]")
                                .format(where=where, section=section))
    unknown = sorted(set(cfg.get("search", {})) - set(SEARCH_SETTINGS))
    if unknown:
        raise ConfigError(_("{where}: unknown [search] key(s) {unknown}; allowed: "
                            "{search_settings}")
                            .format(where=where, unknown=', '.join(unknown),
                                    search_settings=', '.join(SEARCH_SETTINGS)))
    return cfg


def _data_option(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(_("search: a --data-arg option must look like KEY=VALUE, got {text!r}")
                            .format(text=text))
    return key.strip(), scalar(value)


def _once(option: str, parsed: list) -> dict:
    """``{name: value}`` of repeated ``option`` s, parsed as ``((name, value), text)``; a name
    given twice is an error (the later would silently win)."""
    seen: dict = {}
    for (name, _value), text in parsed:
        if name in seen:
            raise ConfigError(_("search: {option} {name} is given twice ({option} {first} and "
                                "{option} {text}); give it once")
                              .format(option=option, name=name, first=seen[name], text=text))
        seen[name] = text
    return {name: value for (name, value), _text in parsed}


def _check_outputs(settings: Mapping) -> None:
    """The settings used only after the search (the table's rows, the plot's file), checked
    before it: a search of many minutes must not end in an error that loses its plot."""
    if "top" in settings:
        check_int("search", "top", settings["top"], low=1)
    if "study_name" in settings and not str(settings["study_name"]).strip():
        raise ConfigError(_("search: study_name must not be empty (leave it out for the "
                            "default name)"))
    plot = settings.get("plot")
    if plot not in (None, "", "none"):
        path = check_file_path("search", "plot", plot)
        if not path.parent.is_dir():
            raise ConfigError(_("search: cannot write the plot {plot} (the folder {folder} does "
                                "not exist)").format(plot=plot, folder=path.parent))


@click.command("search", cls=Command, context_settings={"help_option_names": ["-h", "--help"]},
               help=N_("Search hyperparameters of an MLP on a data set with Optuna (grid, random, "
                       "TPE).\n\nEvery -p range is checked against the setting's valid values "
                       "before the first trial."))
@option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
        help=N_("TOML file with [search], [data] and [space] tables."))
@option("-p", "--param", "params", multiple=True, metavar="NAME=SPEC",
        help=N_("A hyperparameter: lr=1e-4:1:log (range), width=8,16,32 (choices), "
                "epochs=20 (fixed). Repeatable; overrides the file. Names: {names}."),
        help_args={"names": ", ".join(HYPERPARAMETERS)})
@option("--data", "data_name", help=N_("Data set name (default moons)."))
@option("--data-arg", "data_args", multiple=True, metavar="KEY=VALUE",
        help=N_("A data setting (examples, val, test, standardize) or an argument of "
                "the data set (n=500, noise=0.3). Repeatable."))
@option("--sampler", type=click.Choice(SAMPLERS), help=N_("Sampler (default tpe)."))
@option("--seed", type=int, help=N_("Seed of the sampler, the split and the weights."))
@option("--n-trials", type=int, help=N_("Finished trials the study should have "
                                        "(default 20); a resumed study runs the rest."))
@option("--timeout", type=float, help=N_("Stop starting trials after this many seconds."))
@option("--storage", help=N_("Optuna storage URL or SQLite file (default {file} beside the "
                             "results store, see 'whynet list --help'); 'memory' keeps nothing."),
        help_args={"file": SEARCH_DB})
@option("--study-name", help=N_("Study to create or resume."))
@option("--pruner", type=click.Choice(PRUNERS), help=N_("Pruner (default median)."))
@option("--grid-points", type=int, help=N_("Values per range for the grid (default 3)."))
@option("--plot", "plot_path", help=N_("Also write a PNG of every trial per "
                                       "hyperparameter to this file (none by default)."))
@option("--top", type=int, help=N_("Rows in the table of best trials (default 5)."))
@option("--json", "as_json", is_flag=True, help=N_("Print the results as JSON only."))
@lang_option
def search_command(config_path, params, data_name, data_args, sampler, seed, n_trials, timeout,
                   storage, study_name, pruner, grid_points, plot_path, top, as_json):
    """``whynet search`` (what it does for the user: the ``help`` above, translated when shown)."""
    cfg = load_config(config_path) if config_path else {}
    settings = dict(cfg.get("search", {}))
    for key, value in (("sampler", sampler), ("seed", seed), ("n_trials", n_trials),
                       ("timeout", timeout), ("storage", storage),
                       ("study_name", study_name), ("pruner", pruner),
                       ("grid_points", grid_points), ("plot", plot_path), ("top", top)):
        if value is not None:
            settings[key] = value
    data = dict(cfg.get("data", {}))
    if data_name:
        data["name"] = data_name
    data.update(_once("--data-arg", [(_data_option(a), a) for a in data_args]))
    entries = dict(cfg.get("space", {}))
    sources = {name: f"search config {config_path!r}, [space] {name}" for name in entries}
    given = _once("-p", [(parse_option(text), text) for text in params])
    entries.update(given)
    sources.update({name: f"search: -p {text}" for name, text in zip(given, params)})
    try:
        run_search(entries, data, settings, as_json, sources=sources)
    except KeyboardInterrupt:
        click.echo(_(INTERRUPTED), err=True)
        sys.exit(130)


def run_search(entries: Mapping, data: Mapping, settings: Mapping, as_json: bool = False,
               out=None, sources: Mapping | None = None) -> SearchResult:
    """What ``whynet search`` does once its options are merged: search, print, plot.
    ``sources`` names where each space entry was written (for errors)."""
    out = out or sys.stdout
    console = Console(file=out, highlight=False, soft_wrap=True)
    seed = settings.get("seed", 0)
    storage = settings.get("storage", DEFAULT_STORAGE)
    storage = None if storage == "memory" else storage
    space = parse_space(entries, HYPERPARAMETERS, sources)
    _check_outputs(settings)
    data = load_data(**{"seed": seed, **data})
    show = _trial_printer(console, quiet=as_json)
    result = search(space, data=data, sampler=settings.get("sampler", "tpe"), seed=seed,
                    n_trials=settings.get("n_trials", 20), timeout=settings.get("timeout"),
                    storage=storage, study_name=settings.get("study_name"),
                    pruner=settings.get("pruner", "median"),
                    grid_points=settings.get("grid_points", 3), callbacks=[show])
    study = result.study
    plot = settings.get("plot")
    plot = None if plot in (None, "", "none") else plot  # "none": what earlier versions took
    if plot:
        fig = result.figure(_("{name}: every trial projected on each hyperparameter")
                            .format(name=study.study_name))
        try:
            fig.savefig(plot, dpi=110)
        except OSError as e:
            raise ConfigError(_("search: cannot write the plot {plot} ({reason})")
                                .format(plot=plot, reason=e.strerror or e)) from e
    if as_json:
        out.write(json.dumps({**result.to_dict(), "plot": plot}) + "\n")
        return result
    _print_summary(console, result, settings.get("top", 5), plot)
    return result


def _trial_printer(console, quiet: bool):
    """The Optuna callback that prints one line per finished trial (nothing when ``quiet``)."""
    def show(study, t):
        if quiet or t.state.name not in ("COMPLETE", "PRUNED", "FAIL"):
            return
        shown = "  ".join(f"{k}={_fmt(v)}" for k, v in t.params.items())
        if t.state.name == "COMPLETE":
            test = test_score(t.user_attrs)
            what = (_("val {value:.4f}").format(value=t.value)
                    + ("" if test is None else _("  test {test:.4f}").format(test=test))
                    + (_("  diverged") if t.user_attrs.get("diverged") else ""))
        elif t.state.name == "PRUNED":
            what = _("pruned at epoch {epoch}").format(epoch=max(t.intermediate_values))
        else:
            what = _("failed")
        console.print(_("trial {number:>3}  {what}  {shown}").format(number=t.number, what=what,
                                                                     shown=shown))
    return show


def _print_summary(console, result: SearchResult, top: int, plot) -> None:
    """The study's trial counts, the best-trials table and where the plot went."""
    counts = result.counts()
    console.print(_("study {name!r} in {storage}: {counts}; this run finished {ran}").format(
        name=result.study.study_name, storage=result.storage, ran=len(result.ran),
        counts=", ".join(f"{n} {_(state)}" for state, n in counts.items())))
    if counts.get("running"):
        console.print(_("({running} running: another process, or one that was killed — it is "
                        "marked failed {grace} s after its last heartbeat)")
                      .format(running=counts["running"], grace=GRACE_PERIOD))
    console.print(result.table(top))
    if plot:
        console.print(_("plot: {plot}").format(plot=plot))


def main(argv=None) -> int:
    """``whynet search`` as a function (and ``python -m whynet.search``): parse ``argv`` (default
    ``sys.argv[1:]``), run, and return the exit code; a whynet error is one red line and exit
    code 2, as under ``whynet``, in the language of ``--lang`` (else the environment's)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        with use_language(language_in(args)) as lang, for_click(lang):
            return _main(args)
    except WhynetError as e:  # --lang fr, or WHYNET_LANG=xx
        return _error(e)


def _main(args: list) -> int:
    """:func:`main` in the language chosen."""
    try:
        search_command.main(args=args, prog_name="whynet search", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except click.Abort:
        click.echo(_(INTERRUPTED), err=True)
        return 130
    except SystemExit as e:
        return e.code
    except WhynetError as e:
        return _error(e)
    return 0


def _error(e: WhynetError) -> int:
    click.secho(f"error: {e}", fg="red", err=True,
                color=False if os.environ.get("NO_COLOR") else None)
    return 2
