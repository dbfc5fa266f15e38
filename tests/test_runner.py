"""The runner: plans grids × seeds, skips stored pairs, survives failures, interrupts and kills."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from whynet.errors import ConfigError
from whynet.experiments.base import Experiment, RunResult, Verdict, decide
from whynet.runner import Task, choose_quick, collect, evaluate, plan, run_tasks
from whynet.store import Store


class Square(Experiment):
    """Squares x; counts its calls in this process; raises for x == 13 or when told to."""

    id = "zz_square"
    questions = ("T3",)
    title = "square"
    question = "Is x² ≥ 0?"
    what = "Squares numbers."
    seeds_quick = 2
    seeds_full = 3
    calls = 0
    interrupt_at = None  # raise KeyboardInterrupt at this call number

    def grid(self, quick):
        return [{"x": x} for x in ((1, 2, 3) if quick else (1, 2, 3, 4))]

    def run(self, spec, seed):
        type(self).calls += 1
        if type(self).calls == self.interrupt_at:
            raise KeyboardInterrupt
        if spec["x"] == 13:
            raise ValueError("thirteen is unlucky")
        import numpy as np
        from threadpoolctl import threadpool_info

        blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
        return {"y": np.float64(spec["x"] ** 2 + seed), "pid": os.getpid(), "blas": blas}

    def verdicts(self, results):
        return [Verdict("T3", decide(r.result["y"] >= 0 for r in results), "squares are ≥ 0")]


@pytest.fixture
def exp():
    Square.calls = 0
    Square.interrupt_at = None
    return Square()


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "runs.sqlite") as s:
        yield s


def test_plan_is_grid_times_seeds(exp):
    tasks = plan([exp], quick=True)
    assert [(t.spec["x"], t.seed) for t in tasks] == [(1, 0), (1, 1), (2, 0), (2, 1), (3, 0), (3, 1)]
    assert len(plan([exp], quick=False)) == 4 * 3
    assert len(plan([exp], quick=True, seeds=5)) == 3 * 5
    assert "zz_square [x=1] seed 0" == tasks[0].label()


def test_second_run_performs_no_training(exp, store):
    first = run_tasks(plan([exp], True), store, jobs=1, progress=False)
    assert (len(first.ran), len(first.cached), len(first.failed)) == (6, 0, 0)
    assert Square.calls == 6
    second = run_tasks(plan([exp], True), store, jobs=1, progress=False)
    assert (len(second.ran), len(second.cached)) == (0, 6)
    assert Square.calls == 6  # the store answered: run() was not called again
    # more seeds later: only the new seeds run
    third = run_tasks(plan([exp], True, seeds=3), store, jobs=1, progress=False)
    assert (len(third.ran), len(third.cached)) == (3, 6) and Square.calls == 9


def test_a_failing_run_is_recorded_and_the_others_kept(exp, store):
    tasks = [Task(exp, {"x": x}, 0) for x in (1, 13, 2)]
    s = run_tasks(tasks, store, jobs=1, progress=False)
    assert [o.task.spec["x"] for o in s.ran] == [1, 2]
    (failed,) = s.failed
    assert failed.task.spec == {"x": 13} and "ValueError: thirteen is unlucky" in failed.error
    assert "Traceback" in failed.error  # the whole traceback, to find the line
    assert [f["spec"] for f in store.failures(exp)] == [{"x": 13}]
    # a rerun retries only the failed pair
    again = run_tasks(tasks, store, jobs=1, progress=False)
    assert (len(again.cached), len(again.failed)) == (2, 1) and Square.calls == 4


def test_interrupted_run_resumes_with_the_rest_only(exp, store):
    Square.interrupt_at = 3
    with pytest.raises(KeyboardInterrupt):
        run_tasks(plan([exp], True), store, jobs=1, progress=False)
    assert store.count() == 2  # the two finished pairs were stored before the interrupt
    Square.calls, Square.interrupt_at = 0, None
    s = run_tasks(plan([exp], True), store, jobs=1, progress=False)
    assert (len(s.ran), len(s.cached), Square.calls) == (4, 2, 4)


def test_worker_processes_give_the_same_numbers_with_one_blas_thread(exp, store, tmp_path):
    s = run_tasks(plan([exp], True), store, jobs=2, progress=False)
    assert len(s.ran) == 6 and not s.failed
    rs = collect(exp, store, quick=True)
    assert [r.result["y"] for r in rs] == [1, 2, 4, 5, 9, 10]  # x² + seed, in grid order
    assert all(r.result["pid"] != os.getpid() for r in rs)  # really ran in workers
    assert all(b == [1] * len(b) for b in (r.result["blas"] for r in rs))
    assert Square.calls == 0  # counted in the workers, not here
    with Store(tmp_path / "inline.sqlite") as other:
        run_tasks(plan([exp], True), other, jobs=1, progress=False)
        assert [r.result["y"] for r in collect(exp, other, True)] == [1, 2, 4, 5, 9, 10]


class DiesInWorker(Square):
    id = "zz_dies"

    def run(self, spec, seed):
        if spec["x"] == 2:
            os._exit(3)  # a worker killed outright (OOM killer, segfault)
        return super().run(spec, seed)


def test_a_dead_worker_fails_its_tasks_without_losing_finished_ones(store):
    exp = DiesInWorker()
    tasks = [Task(exp, {"x": 1}, 0), Task(exp, {"x": 2}, 0)]
    s = run_tasks(tasks, store, jobs=2, progress=False)
    assert any("worker process died" in o.error for o in s.failed)
    assert {o.task.spec["x"] for o in s.failed} >= {2}
    assert len(s.ran) + len(s.failed) == 2
    assert store.count() == 2  # every task has a row: ok or failed


def test_sigkilled_run_resumes_with_the_rest_only(tmp_path, store):
    # A separate process runs 12 slow tasks into the store and is SIGKILLed when 4 are stored;
    # here the rerun finds those and runs only the others.
    (tmp_path / "slowexp.py").write_text(textwrap.dedent("""
        import time
        from whynet.experiments.base import Experiment

        class Slow(Experiment):
            id = "zz_slow"; questions = ("T3",); seeds_quick = 2; calls = 0
            def grid(self, quick):
                return [{"x": x} for x in range(6)]
            def run(self, spec, seed):
                type(self).calls += 1
                time.sleep(0.2)
                return {"y": spec["x"]}
    """))
    code = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(tmp_path)!r})
        from slowexp import Slow
        from whynet.runner import plan, run_tasks
        from whynet.store import Store
        run_tasks(plan([Slow()], True), Store({str(store.path)!r}), jobs=1, progress=False)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 60
        while store.count() < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -9
    stored = store.count()
    assert 4 <= stored < 12
    sys.path.insert(0, str(tmp_path))
    try:
        from slowexp import Slow
    finally:
        sys.path.remove(str(tmp_path))
    s = run_tasks(plan([Slow()], True), store, jobs=1, progress=False)
    assert (len(s.cached), len(s.ran), Slow.calls) == (stored, 12 - stored, 12 - stored)


def test_dask_backend_runs_the_same_function(exp, store):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=None) as cluster:
        s = run_tasks(plan([exp], True), store, scheduler=cluster.scheduler_address,
                      progress=False)
    assert len(s.ran) == 6 and not s.failed
    assert [r.result["y"] for r in collect(exp, store, quick=True)] == [1, 2, 4, 5, 9, 10]
    again = run_tasks(plan([exp], True), store, scheduler="tcp://127.0.0.1:1", progress=False)
    assert len(again.cached) == 6  # nothing to do: no connection is even tried


def test_bad_jobs_is_refused(exp, store):
    with pytest.raises(ConfigError, match="jobs must be an integer ≥ 1, got 0"):
        run_tasks(plan([exp], True), store, jobs=0)


def test_progress_bar_writes_to_stderr(exp, store, capsys):
    run_tasks(plan([exp], True), store, jobs=1, progress=True)
    err = capsys.readouterr().err
    assert "runs" in err and "6/6" in err


# -- from the store to verdicts --------------------------------------------------------------

def test_collect_prefers_the_full_grid_once_it_is_complete(exp, store):
    run_tasks(plan([exp], True), store, jobs=1, progress=False)
    assert choose_quick(exp, store) is True
    assert [r.spec["x"] for r in collect(exp, store)] == [1, 1, 2, 2, 3, 3]
    run_tasks(plan([exp], False), store, jobs=1, progress=False)
    assert choose_quick(exp, store) is False
    assert len(collect(exp, store)) == 4 * 3  # seeds 0–2 of 4 specs; quick's 0,1 are among them


def test_evaluate_reports_a_broken_verdict_instead_of_raising(exp):
    rs = [RunResult({"x": 1}, 0, {"y": 1})]
    ok = evaluate(exp, rs)
    assert ok.error is None and ok.verdict_for("T3").status == "holds"
    assert evaluate(exp, []).verdicts == []  # not run yet

    class Broken(Square):
        def verdicts(self, results):
            return [Verdict("A1", "holds", "wrong question")]

    bad = evaluate(Broken(), rs)
    assert bad.verdicts == [] and "verdict for question 'A1'" in bad.error

    class Raises(Square):
        def verdicts(self, results):
            raise KeyError("tanh")

    assert evaluate(Raises(), rs).error == "KeyError: 'tanh'"


class Counted(Experiment):
    """Appends one line per execution to a file, so re-executions on any worker are visible."""

    id = "zz_counted"
    questions = ("T3",)
    title = "counted"
    question = "Is x ≥ 0?"
    what = "Counts executions."
    seeds_quick = 1
    seeds_full = 1
    log = ""

    def grid(self, quick):
        return [{"x": x} for x in range(16)]

    def run(self, spec, seed):
        import time as _time

        with open(self.log, "a") as f:
            f.write(f"{spec['x']}\n")
        _time.sleep(0.4)
        from threadpoolctl import threadpool_info

        blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
        return {"y": spec["x"], "blas": blas}

    def verdicts(self, results):
        return [Verdict("T3", decide(r.result["y"] >= 0 for r in results), "x ≥ 0")]


@pytest.mark.slow
def test_dask_worker_killed_mid_run_recomputes_no_stored_task(store, tmp_path):
    distributed = pytest.importorskip("distributed")
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers can't import tests/
    exp = Counted()
    exp.log = str(tmp_path / "executions.log")
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None, worker_class=distributed.Nanny) as cluster:
        with distributed.Client(cluster) as client:
            tasks = plan([exp], True)
            stored_before_kill = []

            def kill_one_worker_after_some_results():
                with Store(store.path) as watcher:  # SQLite connections are per thread
                    while watcher.count() < 5:
                        time.sleep(0.05)
                    stored_before_kill.extend(watcher.done_keys(t.key for t in tasks))
                pid = next(iter(client.run(os.getpid).values()))
                os.kill(pid, signal.SIGKILL)

            import threading

            killer = threading.Thread(target=kill_one_worker_after_some_results, daemon=True)
            killer.start()
            s = run_tasks(tasks, store, scheduler=client, progress=False)
            killer.join(timeout=30)
    assert stored_before_kill, "the worker was never killed"
    lines = open(exp.log).read().split()
    done_x = {t.spec["x"] for t in tasks if t.key in set(stored_before_kill)}
    recomputed = [x for x in done_x if lines.count(str(x)) > 1]
    assert recomputed == [], f"stored tasks executed again after the kill: {recomputed}"
    assert len(s.ran) + len(s.failed) == 16 and sorted(set(lines)) == sorted(str(x) for x in range(16))
    assert all(n == 1 for r in collect(exp, store, quick=True) for n in r.result["blas"])


class SaysItsLanguage(Square):
    """Fails with a translated message, in the language its worker speaks."""

    id = "zz_language"

    def run(self, spec, seed):
        from whynet.i18n import _
        raise ConfigError(_("unknown language {lang!r}: choose one of {languages}")
                          .format(lang="xx", languages="en"))


@pytest.mark.parametrize("backend", ["in process", "worker processes", "dask"])
def test_workers_speak_the_language_of_the_run_not_of_the_environment(backend, store,
                                                                      monkeypatch):
    """A failed run's stored error is in the run's language (``--lang``), whichever backend
    ran it; Dask's worker threads once took theirs from the environment."""
    from whynet.i18n import use_language

    monkeypatch.setenv("WHYNET_LANG", "en")
    tasks = [Task(SaysItsLanguage(), {"x": 1}, 0)]
    with use_language("qps"):  # as `whynet run --lang …` sets it
        if backend == "dask":
            distributed = pytest.importorskip("distributed")
            with distributed.LocalCluster(processes=True, n_workers=1, threads_per_worker=1,
                                          dashboard_address=None) as cluster:
                s = run_tasks(tasks, store, scheduler=cluster.scheduler_address, progress=False)
        else:
            s = run_tasks(tasks, store, jobs=1 if backend == "in process" else 2,
                          progress=False)
    (failed,) = s.failed
    assert "⟦unknown language" in failed.error, failed.error
