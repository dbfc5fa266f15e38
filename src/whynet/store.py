"""The results store: one SQLite file, one row per finished ``(experiment, spec, seed)`` run.

A row is keyed by :func:`run_key`, the sha256 of the canonical JSON of the experiment id, its
code version (``version`` plus the fingerprint of the shared recipes it uses), the spec, the seed and whynet's version, so a finished pair is found again by any later
``whynet run`` and never recomputed, and a new whynet or experiment version computes afresh.

Each finished run is written in its own transaction, in WAL mode: a process killed mid-run leaves
every earlier row intact and no half-written one. A file that is not a whynet store raises
:class:`StoreError` rather than being replaced: it may be someone's data.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import socket
import sqlite3
from pathlib import Path

import numpy as np
import platformdirs

from . import __version__
from .errors import ModelFileError
from .experiments.base import RunResult
from .i18n import _

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS whynet_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,
    experiment TEXT NOT NULL,
    experiment_version INTEGER NOT NULL,
    spec TEXT NOT NULL,
    seed INTEGER NOT NULL,
    whynet_version TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    result TEXT,
    error TEXT,
    seconds REAL,
    started TEXT,
    finished TEXT NOT NULL,
    host TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_experiment ON runs (experiment, experiment_version, status);
"""

_COLUMNS = {"key", "experiment", "experiment_version", "spec", "seed", "whynet_version", "status",
            "result", "error", "seconds", "started", "finished", "host"}


class StoreError(ModelFileError):
    """The results store file is unreadable, corrupt, or not a whynet store."""


#: The store's file name in the user's cache folder.
STORE_NAME = "runs.sqlite"


#: The first 16 bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"


def default_path() -> Path:
    """``$WHYNET_STORE`` if set, else ``runs.sqlite`` in the user's cache folder for whynet
    (platformdirs: ``$XDG_CACHE_HOME/whynet``, by default ``~/.cache/whynet``, on Linux;
    ``~/Library/Caches/whynet`` on macOS; ``%LOCALAPPDATA%\\whynet\\Cache`` on Windows). The
    runs are a cache in that sense: every one of them can be recomputed."""
    env = os.environ.get("WHYNET_STORE")
    if env:
        return Path(env).expanduser()
    return platformdirs.user_cache_path("whynet", appauthor=False) / STORE_NAME


def require_existing(path: Path) -> Path:
    """``path`` if a store file is there, else a :class:`StoreError` that names it and says how
    to create one (for the commands that only read: they never create an empty store)."""
    if not path.exists():
        raise StoreError(_("results store {path} does not exist; create it by running "
                           "experiments (`whynet run a1 --quick`, or `whynet run all --quick`), "
                           "or point --store or $WHYNET_STORE at an existing store")
                           .format(path=path))
    return path


def to_jsonable(value):
    """Plain JSON types from numpy arrays/scalars, tuples and nested containers."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in a run result: "
                    f"expected numbers, strings, lists, dicts or numpy arrays")


def canonical_json(value) -> str:
    """Stable JSON: sorted keys, no spaces, numpy converted. Equal specs give equal text."""
    return json.dumps(to_jsonable(value), sort_keys=True, separators=(",", ":"))


def run_key(experiment_id: str, spec: dict, seed: int, experiment_version: int | str = 1,
            whynet_version: str = __version__) -> str:
    """sha256 of the canonical JSON of (experiment id, its code version, spec, seed, whynet
    version). The code version is the experiment's ``version``, with the fingerprint of the
    shared recipes it uses appended (``Experiment.code_version``)."""
    payload = canonical_json({"experiment": experiment_id, "experiment_version": experiment_version,
                              "spec": spec, "seed": int(seed), "whynet": whynet_version})
    return hashlib.sha256(payload.encode()).hexdigest()


def _row_dict(names: list[str], row) -> dict:
    out = dict(zip(names, row))
    out["spec"] = json.loads(out["spec"])
    out["result"] = None if out["result"] is None else json.loads(out["result"])
    return out


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class Store:
    """An open results store. Use as a context manager or call :meth:`close`.

    Args:
        path: the SQLite file; created (with its folder) if missing. Default :func:`default_path`.
        read_only: open for reading only (``claims``, ``report``, ``list``): nothing is written,
            so a store on read-only media or in a read-only folder can be read; a missing file
            reads as an empty store (and is not created).
    """

    def __init__(self, path: str | os.PathLike | None = None, read_only: bool = False):
        self.path = Path(path).expanduser() if path is not None else default_path()
        self.read_only = bool(read_only)
        if self.path.is_dir():
            raise StoreError(_("results store {path}: expected a file, got a directory")
                               .format(path=self.path))
        self._check_header()
        self._conn = self._connect()
        try:
            self._open()
        except sqlite3.OperationalError as e:  # locked, read-only, unopenable: not corruption
            self._conn.close()
            message = (_("results store {path}: cannot read it ({reason}); check its "
                         "permissions and its folder's, or pass another file with --store")
                       if self.read_only else
                       _("results store {path}: cannot write it ({reason}); check its "
                         "permissions and its folder's, or pass another file with --store"))
            raise StoreError(message.format(path=self.path, reason=e)) from e
        except sqlite3.DatabaseError as e:
            self._conn.close()
            raise self._not_a_database(e) from e
        except StoreError:
            self._conn.close()
            raise

    def _check_header(self) -> None:
        """A file that is not empty must start with SQLite's header: SQLite itself takes a file
        of a few bytes for an empty database, and would overwrite it when writing."""
        try:
            with open(self.path, "rb") as f:
                head = f.read(len(SQLITE_HEADER))
        except OSError:  # missing, or unreadable: _connect says which
            return
        if head and head != SQLITE_HEADER:
            raise self._not_a_database(_("it does not start with SQLite's header"))

    def _connect(self) -> sqlite3.Connection:
        try:
            if self.read_only:
                if not self.path.exists():  # nothing stored yet: an empty store, nothing created
                    return sqlite3.connect(":memory:")
                return self._connect_read_only()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return sqlite3.connect(self.path, timeout=30.0)
        except OSError as e:
            raise StoreError(_("results store {path}: cannot create its folder {parent} "
                               "({reason}); pass another file with --store")
                               .format(path=self.path, parent=self.path.parent,
                                       reason=e.strerror)) from e
        except sqlite3.Error as e:
            raise StoreError(_("results store {path}: cannot open it ({reason})")
                               .format(path=self.path, reason=e)) from e

    def _connect_read_only(self) -> sqlite3.Connection:
        """``mode=ro``; when even that fails (a WAL store in a folder where SQLite cannot create
        its ``-shm`` file), ``immutable=1``: read as is, since nobody can write there either."""
        uri = self.path.resolve().as_uri()
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30.0)
        try:
            conn.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
            return conn
        except sqlite3.OperationalError:
            conn.close()
        except sqlite3.DatabaseError as e:
            conn.close()
            raise self._not_a_database(e) from e
        return sqlite3.connect(f"{uri}?immutable=1", uri=True)

    def _not_a_database(self, e: Exception) -> StoreError:
        return StoreError(_("results store {path} is not a valid SQLite database ({reason}); "
                            "move it away or pass another file with --store")
                            .format(path=self.path, reason=e))

    def _open(self) -> None:
        c = self._conn
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "whynet_meta" not in tables:
            raise StoreError(_("results store {path} is an SQLite file but not a whynet store "
                               "(tables: {tables}); refusing to change it")
                               .format(path=self.path, tables=', '.join(sorted(tables))))
        if not self.read_only:
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=NORMAL")
        if not tables:
            if self.read_only:  # an empty file read-only: an empty store, in memory
                c.close()
                self._conn = c = sqlite3.connect(":memory:")
            with c:
                c.executescript(_SCHEMA)
                c.execute("INSERT INTO whynet_meta VALUES ('schema_version', ?)",
                          (str(SCHEMA_VERSION),))
            return
        row = c.execute("SELECT value FROM whynet_meta WHERE key='schema_version'").fetchone()
        found = row[0] if row else None
        if found != str(SCHEMA_VERSION):
            raise StoreError(_("results store {path}: expected schema version {schema_version}, "
                               "got {found}; use another --store file")
                               .format(path=self.path, schema_version=SCHEMA_VERSION,
                                       found=found))
        columns = {r[1] for r in c.execute("PRAGMA table_info(runs)")}
        if columns != _COLUMNS:
            raise StoreError(_("results store {path}: table 'runs' has columns {columns}, "
                               "expected {columns2}")
                               .format(path=self.path, columns=sorted(columns),
                                       columns2=sorted(_COLUMNS)))

    def _execute(self, sql: str, params=()):
        try:
            return self._conn.execute(sql, params)
        except sqlite3.OperationalError as e:
            raise StoreError(_("results store {path}: {reason} (check the file's permissions and "
                               "its folder's, or pass another file with --store)")
                               .format(path=self.path, reason=e)) from e
        except sqlite3.DatabaseError as e:
            raise StoreError(_("results store {path}: {reason} (the file may be damaged; move it "
                               "away or pass another file with --store)")
                               .format(path=self.path, reason=e)) from e

    # -- writing ---------------------------------------------------------------------------------

    def put(self, experiment, spec: dict, seed: int, *, status: str, result=None, error=None,
            seconds: float | None = None, started: str | None = None) -> str:
        """Record one finished run (ok or failed) in its own transaction; returns its key.

        ``experiment`` is an Experiment (its id and version are used). A new ok row replaces an
        earlier failed one for the same key.
        """
        if self.read_only:
            raise StoreError(_("results store {path} was opened read-only")
                               .format(path=self.path))
        key = run_key(experiment.id, spec, seed, experiment.code_version)
        result_text = None if result is None else json.dumps(to_jsonable(result))
        with self._conn:
            self._execute(
                "INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (key, experiment.id, experiment.code_version, canonical_json(spec), int(seed),
                 __version__, status, result_text, error, seconds, started, _now(),
                 socket.gethostname()))
        return key

    # -- reading ---------------------------------------------------------------------------------

    def done_keys(self, keys) -> set[str]:
        """The keys among ``keys`` that have a successful row (these are never run again)."""
        keys = list(keys)
        done: set[str] = set()
        for i in range(0, len(keys), 500):  # SQLite limits the number of bound parameters
            chunk = keys[i:i + 500]
            marks = ",".join("?" * len(chunk))
            done.update(r[0] for r in self._execute(
                f"SELECT key FROM runs WHERE status='ok' AND key IN ({marks})", chunk))
        return done

    def get(self, key: str) -> dict | None:
        """One row as a dict (spec and result parsed), or None."""
        cur = self._execute("SELECT * FROM runs WHERE key=?", (key,))
        row = cur.fetchone()
        return None if row is None else _row_dict([d[0] for d in cur.description], row)

    def rows(self) -> list[dict]:
        """Every stored row (ok and failed, every version) as a dict with spec and result
        parsed, in the order they finished (``whynet export runs``)."""
        cur = self._execute("SELECT * FROM runs ORDER BY finished, rowid")
        names = [d[0] for d in cur.description]
        return [_row_dict(names, row) for row in cur.fetchall()]

    def results(self, experiment, specs=None, seeds=None) -> list:
        """Successful runs of this experiment (and version) as ``RunResult``s.

        With ``specs``, only those specs, in that order (then by seed); with ``seeds``, only those
        seeds. Without, every stored run in the order they finished.
        """
        rows = self._execute(
            "SELECT spec, seed, result, seconds FROM runs WHERE experiment=? AND "
            "experiment_version=? AND whynet_version=? AND status='ok' ORDER BY finished, rowid",
            (experiment.id, experiment.code_version, __version__)).fetchall()
        by_spec: dict[str, list] = {}
        for spec_text, seed, result_text, seconds in rows:
            if seeds is not None and seed not in seeds:
                continue
            by_spec.setdefault(spec_text, []).append(
                RunResult(json.loads(spec_text), seed, json.loads(result_text), seconds or 0.0))
        if specs is None:
            return [r for runs in by_spec.values() for r in runs]
        out = []
        for spec in specs:
            out.extend(sorted(by_spec.get(canonical_json(spec), []), key=lambda r: r.seed))
        return out

    def failures(self, experiment) -> list[dict]:
        """Failed runs of this experiment (spec, seed, error), most recent first."""
        rows = self._execute(
            "SELECT spec, seed, error, finished FROM runs WHERE experiment=? AND "
            "experiment_version=? AND whynet_version=? AND status='failed' ORDER BY finished DESC",
            (experiment.id, experiment.code_version, __version__)).fetchall()
        return [{"spec": json.loads(s), "seed": seed, "error": err, "finished": fin}
                for s, seed, err, fin in rows]

    def seconds(self, experiment, specs=None) -> float:
        """Total run time of the stored successful runs (of ``specs``, if given)."""
        return float(sum(r.seconds for r in self.results(experiment, specs)))

    def count(self) -> int:
        return int(self._execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    # -- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

