"""What ``whynet list`` (and the completion of experiment ids) needs, without importing the
experiments.

Importing the 30 experiment modules pulls in SciPy's statistics, Matplotlib and each module's
own code: about a second before ``whynet list`` can print a table of ids, titles and grid sizes.
Those facts change only when whynet's code changes, so the first listing computes them from the
experiments and caches them in ``experiments-<hash>.json`` beside the results store
(:func:`whynet.store.default_path`'s folder), where ``<hash>`` is the sha256 of every ``.py``
file of the installed package and its version (~10 ms to compute). A later listing with the
same code reads that file instead of importing anything; any edit, upgrade or checkout gives
another hash and the facts are computed afresh. The experiments already in memory (imported,
registered by a test or a plug-in) are always used as they are.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import __version__
from ..store import default_path
from . import registry

PACKAGE = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Summary:
    """An experiment as a listing sees it: what :func:`whynet.runner.choose_quick` and
    :meth:`whynet.store.Store.seconds` read of an Experiment (id, code version, grids, seeds),
    plus its questions, title and one-line question."""

    id: str
    questions: tuple[str, ...]
    title: str
    question: str
    seeds_quick: int
    seeds_full: int
    code_version: int | str
    grids: dict

    def grid(self, quick: bool) -> list[dict]:
        return [dict(spec) for spec in self.grids["quick" if quick else "full"]]

    @classmethod
    def of(cls, e) -> Summary:
        """The summary of an :class:`~whynet.experiments.base.Experiment` (its grids in JSON
        form: tuples become lists, as the store's canonical JSON writes them anyway)."""
        grids = json.loads(json.dumps({"quick": e.grid(True), "full": e.grid(False)}))
        return cls(e.id, tuple(e.questions), e.title, e.question, e.seeds_quick, e.seeds_full,
                   e.code_version, grids)


def source_hash() -> str:
    """sha256 of whynet's version and every ``.py`` file of the package (path and bytes)."""
    h = hashlib.sha256(__version__.encode())
    for path in sorted(PACKAGE.rglob("*.py")):
        h.update(str(path.relative_to(PACKAGE)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def cache_file(digest: str) -> Path:
    return default_path().parent / f"experiments-{digest}.json"


def _read(path: Path) -> list[Summary] | None:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        return [Summary(**{**r, "questions": tuple(r["questions"])}) for r in rows]
    except (OSError, ValueError, TypeError, KeyError):  # missing, damaged, an older layout
        return None


def _write(path: Path, summaries: list[Summary]) -> None:
    """Write the cache atomically and remove the caches of other code versions; a folder that
    cannot be written only means the next listing imports again."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps([asdict(s) for s in summaries]), encoding="utf-8")
        os.replace(tmp, path)
        for old in path.parent.glob("experiments-*.json"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass


def summaries() -> list[Summary]:
    """Every known experiment's :class:`Summary`, in the registry's order (a2 before a10):
    from the cache when the experiments are not imported yet and the code is unchanged."""
    if registry._discovered is not None:  # imported already (or set by a test): use them
        return [Summary.of(e) for e in registry.all_experiments()]
    path = cache_file(source_hash())
    builtin = _read(path)
    if builtin is None:
        builtin = [Summary.of(e) for e in registry._discover().values()]
        _write(path, builtin)
    table = {s.id: s for s in builtin}
    table.update({e.id: Summary.of(e) for e in registry._registered.values()})
    return sorted(table.values(), key=lambda s: registry._natural(s.id))


def ids() -> list[str]:
    """Every experiment id (for ``whynet run``'s choices and their shell completion)."""
    return [s.id for s in summaries()]
