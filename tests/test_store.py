"""The SQLite results store: keys, round trips, crash consistency, refusing foreign files."""

import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import whynet
from whynet.errors import ModelFileError, WhynetError
from whynet.experiments.base import Experiment
from whynet.store import SCHEMA_VERSION, Store, StoreError, canonical_json, run_key, to_jsonable


class Exp(Experiment):
    id = "zz_store"
    questions = ("T3",)
    version = 1


def test_run_key_is_stable_and_sensitive_to_every_part():
    k = run_key("a1", {"b": 2, "a": 1}, 0)
    # key order in the spec does not matter; canonical JSON sorts it
    assert k == run_key("a1", {"a": 1, "b": 2}, 0)
    assert len(k) == 64 and int(k, 16) >= 0  # a sha256 hex digest
    others = {run_key("a2", {"a": 1, "b": 2}, 0), run_key("a1", {"a": 1, "b": 3}, 0),
              run_key("a1", {"a": 1, "b": 2}, 1), run_key("a1", {"a": 1, "b": 2}, 0, 2),
              run_key("a1", {"a": 1, "b": 2}, 0, whynet_version="9.9")}
    assert k not in others and len(others) == 5


def test_to_jsonable_converts_numpy_and_rejects_objects():
    out = to_jsonable({"a": np.arange(3, dtype=np.float32), "b": np.float64(0.5), "c": np.int64(2),
                       "d": (np.bool_(True), None), "e": {1: [np.zeros((2, 1))]}})
    assert out == {"a": [0.0, 1.0, 2.0], "b": 0.5, "c": 2, "d": [True, None],
                   "e": {"1": [[[0.0], [0.0]]]}}
    assert type(out["a"][0]) is float and type(out["c"]) is int
    assert canonical_json({"x": np.float32(1.5), "a": 1}) == '{"a":1,"x":1.5}'
    with pytest.raises(TypeError, match="cannot store a object"):
        to_jsonable({"bad": object()})


def test_put_get_results_round_trip(tmp_path):
    e = Exp()
    with Store(tmp_path / "runs.sqlite") as s:
        k0 = s.put(e, {"n": 2}, 0, status="ok", result={"y": [1.0, float("nan")]}, seconds=0.5)
        s.put(e, {"n": 1}, 1, status="ok", result={"y": [3.0]}, seconds=0.25)
        s.put(e, {"n": 1}, 0, status="ok", result={"y": [2.0]}, seconds=0.25)
        s.put(e, {"n": 3}, 0, status="failed", error="Traceback…\nValueError: boom")
        row = s.get(k0)
        assert row["spec"] == {"n": 2} and row["seed"] == 0 and row["status"] == "ok"
        assert row["whynet_version"] == whynet.__version__ and row["finished"]
        assert np.isnan(row["result"]["y"][1])  # NaN survives storage
        # ordered as the grid asks, then by seed; failed runs are not results
        rs = s.results(e, [{"n": 1}, {"n": 2}, {"n": 3}])
        assert [(r.spec["n"], r.seed) for r in rs] == [(1, 0), (1, 1), (2, 0)]
        assert rs[0].result == {"y": [2.0]} and rs[0].seconds == 0.25
        assert [r.seed for r in s.results(e, [{"n": 1}], seeds={1})] == [1]
        assert s.seconds(e) == pytest.approx(1.0)
        assert [f["error"].splitlines()[-1] for f in s.failures(e)] == ["ValueError: boom"]
        keys = [run_key(e.id, {"n": n}, 0) for n in (1, 2, 3)]
        assert s.done_keys(keys) == set(keys[:2])  # only successful runs count as done
        assert s.count() == 4


def test_a_success_replaces_an_earlier_failure(tmp_path):
    e = Exp()
    with Store(tmp_path / "s.sqlite") as s:
        s.put(e, {"n": 1}, 0, status="failed", error="x")
        s.put(e, {"n": 1}, 0, status="ok", result={"y": 1})
        assert s.count() == 1 and s.failures(e) == []


def test_results_of_another_experiment_version_are_not_returned(tmp_path):
    e1, e2 = Exp(), Exp()
    e2.version = 2
    with Store(tmp_path / "s.sqlite") as s:
        s.put(e1, {"n": 1}, 0, status="ok", result={"y": 1})
        assert len(s.results(e1)) == 1 and s.results(e2) == []


def test_store_persists_across_reopen_and_is_in_wal_mode(tmp_path):
    p = tmp_path / "deep" / "er" / "s.sqlite"  # folders are created
    with Store(p) as s:
        s.put(Exp(), {"n": 1}, 0, status="ok", result={"y": 1})
    with Store(p) as s:
        assert s.count() == 1
    con = sqlite3.connect(p)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_default_path_honours_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("WHYNET_STORE", str(tmp_path / "env.sqlite"))
    with Store() as s:
        assert s.path == tmp_path / "env.sqlite"
    monkeypatch.delenv("WHYNET_STORE")
    monkeypatch.setenv("HOME", str(tmp_path))
    from whynet.store import default_path

    assert default_path() == tmp_path / ".cache" / "whynet" / "runs.sqlite"


# -- files that are not ours -----------------------------------------------------------------

def test_corrupt_file_gives_a_clear_error_and_is_left_alone(tmp_path):
    p = tmp_path / "runs.sqlite"
    junk = b"this is not a database at all\n" * 200
    p.write_bytes(junk)
    with pytest.raises(StoreError, match=r"runs.sqlite is not a valid SQLite database") as info:
        Store(p)
    assert isinstance(info.value, ModelFileError) and isinstance(info.value, WhynetError)
    assert p.read_bytes() == junk  # never silently replaced


def test_truncated_store_gives_a_clear_error(tmp_path):
    p = tmp_path / "runs.sqlite"
    with Store(p) as s:
        for i in range(200):
            s.put(Exp(), {"n": i, "pad": "x" * 200}, 0, status="ok", result={"y": i})
    con = sqlite3.connect(p)  # fold the WAL into the main file, then cut it in half
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = p.read_bytes()
    p.write_bytes(data[:len(data) // 2])
    with pytest.raises(StoreError, match="not a valid SQLite database|malformed|runs.sqlite"):
        with Store(p) as s:
            s.results(Exp())
            s.count()


def test_foreign_sqlite_file_is_refused(tmp_path):
    p = tmp_path / "other.sqlite"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE customers (id INTEGER)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match=r"not a whynet store \(tables: customers\)"):
        Store(p)


def test_newer_schema_is_refused(tmp_path):
    p = tmp_path / "s.sqlite"
    Store(p).close()
    con = sqlite3.connect(p)
    con.execute("UPDATE whynet_meta SET value='99' WHERE key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match=f"expected schema version {SCHEMA_VERSION}, got 99"):
        Store(p)


def test_directory_is_refused(tmp_path):
    with pytest.raises(StoreError, match="expected a file, got a directory"):
        Store(tmp_path)


# -- a killed writer -------------------------------------------------------------------------

def test_sigkilled_writer_leaves_every_committed_row(tmp_path):
    # A child process writes rows one transaction each and is SIGKILLed mid-stream (it kills
    # itself after row 30, in the middle of preparing row 31): the store opens cleanly and holds
    # exactly the 30 committed rows.
    p = tmp_path / "s.sqlite"
    code = textwrap.dedent(f"""
        import os, signal
        from whynet.experiments.base import Experiment
        from whynet.store import Store
        class E(Experiment):
            id = "zz_store"; questions = ("T3",)
        s = Store({str(p)!r})
        for i in range(100):
            if i == 30:
                os.kill(os.getpid(), signal.SIGKILL)
            s.put(E(), {{"n": i}}, 0, status="ok", result={{"y": list(range(50))}})
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert proc.returncode == -9, proc.stderr.decode()
    with Store(p) as s:
        rs = s.results(Exp())
        assert len(rs) == 30 and sorted(r.spec["n"] for r in rs) == list(range(30))
        assert all(r.result["y"] == list(range(50)) for r in rs)
    con = sqlite3.connect(p)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
