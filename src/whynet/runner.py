"""Runs experiments: independent ``(experiment, spec, seed)`` tasks, in parallel, into the store.

::

    tasks = plan([registry.get("a4")], quick=True)          # grid × seeds
    summary = run_tasks(tasks, Store(), jobs=2)             # skips what the store already has
    results = collect(experiment, store, quick=True)       # RunResults for verdicts and figures

Tasks run on local worker processes (one per core by default, BLAS limited to one thread each so
workers do not fight over cores), in this process when ``jobs=1``, or on a Dask cluster when given
a scheduler address. All three call the same :func:`execute`. Each finished task is written to the
store at once, so an interrupted run loses at most the tasks in flight, and a rerun does only the
rest. A task that raises is stored as failed with its traceback; the others go on.
"""

from __future__ import annotations

import ctypes
import datetime as _dt
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from threadpoolctl import threadpool_limits

from . import __version__
from .errors import ConfigError, check_int
from .experiments.base import Experiment, RunResult, Verdict, combine
from .experiments.questions import translated_questions
from .i18n import _, current_language, set_language, use_language
from .store import Store, canonical_json, run_key, to_jsonable


@dataclass(frozen=True)
class Task:
    """One run: an experiment, one spec of its grid, one seed."""

    experiment: Experiment
    spec: dict
    seed: int

    @property
    def key(self) -> str:
        return run_key(self.experiment.id, self.spec, self.seed, self.experiment.code_version)

    def label(self) -> str:
        spec = ", ".join(f"{k}={v}" for k, v in self.spec.items())
        return f"{self.experiment.id} [{spec}] seed {self.seed}"


@dataclass
class Outcome:
    """What :func:`execute` returns: status ``"ok"`` with a result, or ``"failed"`` with an error."""

    task: Task
    status: str
    result: dict | None = None
    error: str | None = None
    seconds: float = 0.0
    started: str | None = None


@dataclass
class Summary:
    """What a call to :func:`run_tasks` did."""

    ran: list[Outcome] = field(default_factory=list)
    cached: list[Task] = field(default_factory=list)
    failed: list[Outcome] = field(default_factory=list)
    interrupted: bool = False

    @property
    def total(self) -> int:
        return len(self.ran) + len(self.cached) + len(self.failed)


def plan(experiments, quick: bool, seeds: int | None = None) -> list[Task]:
    """Every (spec, seed) task of these experiments' quick or full grid.

    ``seeds`` overrides the experiments' own seed counts (``--seeds N``).
    """
    tasks = []
    for e in experiments:
        specs = e.grid(quick)
        if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
            raise ConfigError(_("experiment {id}: grid({quick}) must return a list of dicts, got "
                                "{type}")
                                .format(id=e.id, quick=quick, type=type(specs).__name__))
        tasks.extend(Task(e, spec, seed) for spec in specs for seed in e.seeds(quick, seeds))
    return tasks


def execute(experiment: Experiment, spec: dict, seed: int) -> dict:
    """Run one task and never raise (except on interrupt): the worker function of every backend.

    Returns ``{"status", "result", "error", "seconds", "started"}``. The result is converted to
    plain JSON types here, so a result that cannot be stored fails this task, not the store.
    """
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    try:
        result = experiment.run(dict(spec), seed)
        if not isinstance(result, dict):
            raise TypeError(f"experiment {experiment.id}: run() must return a dict, "
                            f"got {type(result).__name__}")
        result = to_jsonable(result)
    except Exception:  # noqa: BLE001 — any failure of one run is recorded, the others go on
        return {"status": "failed", "result": None, "error": traceback.format_exc(),
                "seconds": time.perf_counter() - t0, "started": started}
    return {"status": "ok", "result": result, "error": None,
            "seconds": time.perf_counter() - t0, "started": started}


_limits = None  # keeps the worker's threadpool limit alive

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
PARENT_CHECK_SECONDS = 1.0


def _die_with_parent(parent_pid: int) -> None:
    """Make this worker exit when its parent dies, even by SIGKILL (which runs no cleanup in the
    parent): otherwise it runs on, holding the parent's stdout/stderr open, and a caller waiting
    for EOF hangs. Linux: the kernel sends SIGKILL on the parent's death (``prctl``). Everywhere:
    a daemon thread exits the process once the parent pid is gone (re-parented workers see
    another ``getppid()``)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no usable libc: the thread below still watches
            pass

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
    threading.Thread(target=watch, name="whynet-parent-watch", daemon=True).start()


def _init_worker(parent_pid: int | None = None, lang: str | None = None) -> None:
    global _limits
    # The parent's language (`--lang`): a spawned worker would otherwise take the environment's.
    if lang is not None:
        set_language(lang)
    # Ctrl-C in a terminal reaches the whole process group: only the parent acts on it (it
    # shuts the pool down and prints one line); a worker's KeyboardInterrupt would print a
    # traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent_pid is not None:
        _die_with_parent(parent_pid)
    # One BLAS thread per worker: with one worker per core, more threads only contend.
    _limits = threadpool_limits(limits=1)


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


def run_tasks(tasks, store: Store, jobs: int | None = None, scheduler=None,
              progress: bool | None = None) -> Summary:
    """Run the tasks the store does not have yet; write each one to the store as it finishes.

    Args:
        tasks: from :func:`plan`.
        store: an open :class:`~whynet.store.Store`.
        jobs: local worker processes (default: one per core; 1 = in this process).
        scheduler: a Dask scheduler address (``"tcp://host:8786"``) or a ``distributed.Client``;
            when given, ``jobs`` is ignored.
        progress: show a progress bar (default: only when stderr is a terminal).

    On KeyboardInterrupt the finished tasks are already stored; the pool is shut down and the
    interrupt re-raised.
    """
    tasks = list(tasks)
    if jobs is not None:
        check_int("run_tasks", "jobs", jobs)
    summary = Summary()
    done = store.done_keys(t.key for t in tasks)
    todo, seen = [], set()
    for t in tasks:
        if t.key in done:
            summary.cached.append(t)
        elif t.key not in seen:  # the same pair twice in one plan runs once
            seen.add(t.key)
            todo.append(t)
    if not todo:
        return summary

    def record(task: Task, out: dict) -> None:
        outcome = Outcome(task, out["status"], out["result"], out["error"], out["seconds"],
                          out["started"])
        store.put(task.experiment, task.spec, task.seed, status=outcome.status,
                  result=outcome.result, error=outcome.error, seconds=outcome.seconds,
                  started=outcome.started)
        (summary.ran if outcome.status == "ok" else summary.failed).append(outcome)

    show = sys.stderr.isatty() if progress is None else progress
    jobs = min(jobs or default_jobs(), len(todo))
    # The backend starts its workers now, before the progress bar's thread exists: forking a
    # process that runs threads can deadlock the child.
    if scheduler is not None:
        backend = _Dask(todo, scheduler)
    elif jobs == 1:
        backend = _Inline(todo)
    else:
        backend = _Pool(todo, jobs)
    try:
        with _Progress(len(todo), len(summary.cached), show) as bar:
            for task, out in backend:
                record(task, out)
                bar.advance(task, out["status"] == "ok")
    except BaseException as e:
        summary.interrupted = isinstance(e, KeyboardInterrupt)
        backend.abort()
        raise
    backend.close()
    return summary


class _Inline:
    """Runs the tasks one after the other in this process."""

    def __init__(self, todo):
        self.todo = todo

    def __iter__(self):
        for t in self.todo:
            yield t, execute(t.experiment, t.spec, t.seed)

    def abort(self):
        pass

    def close(self):
        pass


class _Pool:
    """Local worker processes; results in the order they finish."""

    def __init__(self, todo, jobs):
        # fork is cheap and, with fork, every worker starts at the first submit (here);
        # elsewhere the platform's default method is used.
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
        self.pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx,
                                        initializer=_init_worker,
                                        initargs=(os.getpid(), current_language()))
        # Workers forked while SIGINT is ignored start ignoring it: no window before their
        # initializer in which a Ctrl-C would give them a KeyboardInterrupt.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) \
            if threading.current_thread() is threading.main_thread() else None
        try:
            self.pending = {self.pool.submit(execute, t.experiment, t.spec, t.seed): t
                            for t in todo}
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    def __iter__(self):
        while self.pending:
            finished, _ = wait(self.pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                task = self.pending.pop(fut)
                try:
                    out = fut.result()
                except BrokenProcessPool as e:
                    # A worker died (killed, out of memory, segfault): this task and the ones
                    # still queued fail without a traceback of their own; a rerun retries them.
                    out = {"status": "failed", "result": None, "seconds": 0.0, "started": None,
                           "error": f"worker process died before finishing: {e}"}
                yield task, out

    def abort(self):
        # Workers first, then the pool: shutdown() forgets its processes, and a worker still
        # reading the call queue when the parent closes it prints an EOFError traceback.
        workers = list((self.pool._processes or {}).values())
        for p in workers:  # no busy workers left behind
            if p.is_alive():
                p.terminate()
        self.pool.shutdown(wait=False, cancel_futures=True)
        for p in workers:
            p.join(timeout=5)

    def close(self):
        self.pool.shutdown(wait=True)


def execute_one_thread(experiment: Experiment, spec: dict, seed: int, lang: str | None = None
                       ) -> dict:
    """:func:`execute` with BLAS limited to one thread for the task (a Dask worker runs several
    tasks at once, one per thread, and threaded BLAS under each would oversubscribe its cores),
    in the language ``lang`` (the client's: a worker's environment may say another)."""
    with threadpool_limits(limits=1), use_language(lang):
        return execute(experiment, spec, seed)


def _whynet_version() -> str:
    return __version__


class _Dask:
    """The same :func:`execute` on a Dask cluster.

    Before submitting, the workers' package versions (Dask's own check) and whynet versions must
    match the client's. Each future is released as soon as its result is handed over (and then
    stored): a held future whose worker dies is recomputed by the scheduler, a released one is not.
    """

    def __init__(self, todo, scheduler):
        try:
            from distributed import Client
        except ImportError as e:  # pragma: no cover — depends on the installation
            raise ConfigError(_("a Dask scheduler was given but the 'distributed' package is not "
                                "installed (pip install 'whynet[dask]')")) from e
        self.own = not isinstance(scheduler, Client)
        try:
            self.client = Client(scheduler, timeout=10) if self.own else scheduler
        except (OSError, TimeoutError) as e:
            raise ConfigError(_("cannot reach the Dask scheduler at {scheduler!r} ({reason})")
                                .format(scheduler=scheduler, reason=e)) from e
        except ValueError as e:  # not an address at all: "host", "tcp://host" (no port)
            raise ConfigError(_("--scheduler {scheduler!r} is not a Dask scheduler address such "
                                "as tcp://host:8786 ({reason})").format(scheduler=scheduler,
                                                                      reason=e)) from e
        try:
            self._check_versions()
        except BaseException:
            self.close()
            raise
        lang = current_language()
        self.futures = {self.client.submit(execute_one_thread, t.experiment, t.spec, t.seed,
                                           lang, pure=False): t for t in todo}

    def _check_versions(self) -> None:
        try:
            self.client.get_versions(check=True)
        except ValueError as e:  # distributed reports mismatched packages this way
            raise ConfigError(_("Dask workers and this client disagree on package versions: "
                                "{reason}").format(reason=e)) \
                from e
        wrong = {w: v for w, v in self.client.run(_whynet_version).items() if v != __version__}
        if wrong:
            listed = ", ".join(f"{w} has {v}" for w, v in sorted(wrong.items()))
            raise ConfigError(_("Dask workers run another whynet than this client ({version}): "
                                "{listed}; install the same whynet[dask] on every worker")
                                .format(version=__version__, listed=listed))

    def __iter__(self):
        from distributed import as_completed

        for fut in as_completed(list(self.futures)):
            out = fut.result()
            task = self.futures.pop(fut)
            fut.release()
            yield task, out

    def abort(self):
        self.client.cancel(list(self.futures))
        self.close()

    def close(self):
        if self.own:
            self.client.close()


class _Progress:
    """A rich progress bar over the tasks, or nothing when it is not wanted."""

    def __init__(self, total: int, cached: int, show: bool):
        self.show, self.total, self.cached = show, total, cached
        self.failed = 0

    def __enter__(self):
        if self.show:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)

            self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                                 TextColumn("{task.fields[note]}"),
                                 console=Console(stderr=True), transient=False)
            self._bar.__enter__()
            note = f"({self.cached} already stored)" if self.cached else ""
            self._id = self._bar.add_task("runs", total=self.total, note=note)
        return self

    def advance(self, task: Task, ok: bool) -> None:
        if not ok:
            self.failed += 1
        if self.show:
            note = f"last: {task.label()}" + (f"  [red]{self.failed} failed" if self.failed else "")
            self._bar.update(self._id, advance=1, note=note[:90])

    def __exit__(self, *exc):
        if self.show:
            self._bar.__exit__(*exc)


# -- from the store back to answers --------------------------------------------------------------

def choose_quick(experiment: Experiment, store: Store) -> bool:
    """Report the full grid when the store has all of it (every spec with at least
    ``seeds_full`` seeds), else the quick grid."""
    full = experiment.grid(False)
    seeds: dict[str, int] = {}
    for r in store.results(experiment, full):
        key = canonical_json(r.spec)
        seeds[key] = seeds.get(key, 0) + 1
    return not all(seeds.get(canonical_json(s), 0) >= experiment.seeds_full for s in full)


def collect(experiment: Experiment, store: Store, quick: bool | None = None) -> list[RunResult]:
    """The stored successful runs of the experiment's quick or full grid (None: see
    :func:`choose_quick`), in grid order, every seed that is stored."""
    if quick is None:
        quick = choose_quick(experiment, store)
    return store.results(experiment, experiment.grid(quick))


@dataclass
class Evaluation:
    """Verdicts of one experiment, or the error that prevented them."""

    experiment: Experiment
    results: list[RunResult]
    verdicts: list[Verdict]
    error: str | None = None

    def verdict_for(self, qid: str) -> Verdict | None:
        return next((v for v in self.verdicts if v.question == qid), None)


def evaluate(experiment: Experiment, results: list[RunResult]) -> Evaluation:
    """Call the experiment's ``verdicts`` on its results; never raise for a broken experiment.

    No results → no verdicts (not run yet). A verdict for a question the experiment does not
    declare, or a non-Verdict, is an error of the experiment and is reported as such.
    """
    if not results:
        return Evaluation(experiment, results, [])
    try:
        verdicts = list(experiment.verdicts(results))
        for v in verdicts:
            if not isinstance(v, Verdict):
                raise TypeError(f"verdicts() must return Verdict objects, got {type(v).__name__}")
            if v.question not in experiment.questions:
                raise ConfigError(_("verdict for question {question!r}, but the experiment "
                                    "declares {questions}")
                                    .format(question=v.question,
                                            questions=experiment.questions))
    except Exception as e:  # noqa: BLE001 — one broken experiment must not hide the others
        return Evaluation(experiment, results, [], error=f"{type(e).__name__}: {e}")
    return Evaluation(experiment, results, verdicts)


def claims(evaluations) -> list[dict]:
    """Every question ID of the catalogue with its current verdict.

    ``evaluations`` are :class:`Evaluation` objects (one per experiment). A question answered by
    several experiments gets :func:`~whynet.experiments.base.combine` of their statuses. Status
    is a verdict status, ``"not run"`` (an experiment exists, the store has no results),
    ``"not answered"`` (no experiment yet) or ``"error"`` (the experiment's verdicts raised).
    """
    rows = []
    for qid, q in translated_questions().items():  # claim, source and why as shown
        evs = [ev for ev in evaluations if qid in ev.experiment.questions]
        row = {"question": qid, "group": q.group, "claim": q.claim, "source": q.source,
               "why": q.why, "experiments": [ev.experiment.id for ev in evs],
               "status": "not answered",
               "kind": None, "answer": "", "sentence": "", "evidence": [], "rule": "",
               "depends_on": [], "seeds_agree": None, "numbers": {}}
        verdicts = [v for ev in evs for v in ev.verdicts if v.question == qid]
        errors = [f"{ev.experiment.id}: {ev.error}" for ev in evs if ev.error]
        if verdicts:
            row["status"] = combine(v.status for v in verdicts)
            row["kind"] = "demonstration" if row["status"] == "shown" else "test"
            parts = [v.as_dict() for v in verdicts]
            for key in ("answer", "sentence", "rule"):
                row[key] = " ".join(p[key] for p in parts if p[key])
            row["evidence"] = [e for p in parts for e in p["evidence"]]
            row["depends_on"] = sorted({d for p in parts for d in p["depends_on"]})
            agreeing = [p["seeds_agree"] for p in parts if p["seeds_agree"]]
            row["seeds_agree"] = agreeing[0] if len(agreeing) == 1 else (agreeing or None)
            for p in parts:
                row["numbers"].update(p["numbers"])
        elif errors:
            row["status"], row["sentence"] = "error", "; ".join(errors)
        elif evs:
            row["status"] = "not run"
        rows.append(row)
    return rows
