"""whynet list without importing the experiments: the cached catalogue gives the same listing as
the experiments themselves, and a changed code base is never listed from a stale cache."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from whynet.experiments import catalogue, registry

SRC = str(Path(__file__).resolve().parent.parent / "src")


#: Runs the CLI, then prints (on stderr) the experiment modules the process imported.
PROGRAM = ("import json, sys\nfrom whynet.cli import main\n"
           "main(sys.argv[1:], prog_name='whynet', standalone_mode=False)\n"
           "print(json.dumps(sorted(m for m in sys.modules if m.startswith('whynet.experiments.'))),"
           " file=sys.stderr)")
MACHINERY = {"base", "recipes", "questions", "registry", "catalogue"}


def _whynet(store, *args):
    env = {**os.environ, "WHYNET_STORE": str(store), "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1",
           "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-c", PROGRAM, *args], env=env, capture_output=True,
                          text=True, timeout=300, check=True)


def _experiment_modules(result) -> set[str]:
    imported = json.loads(result.stderr.strip().splitlines()[-1])
    return {m for m in imported if m.split(".")[2] not in MACHINERY}


@pytest.mark.slow
def test_second_listing_reads_the_cache_and_imports_no_experiment(tmp_path):
    """With a store holding a10's quick runs (so 'measured' is not empty): the first `whynet list
    --json` imports the experiment modules and writes experiments-<hash>.json beside the store;
    the second imports none of them and prints exactly the same rows."""
    store = tmp_path / "runs.sqlite"
    _whynet(store, "run", "a10", "--quick", "--jobs", "1", "--no-progress")
    for made in tmp_path.glob("experiments-*.json"):  # run's id check built it already
        made.unlink()
    first = _whynet(store, "list", "--json")
    assert len(_experiment_modules(first)) >= 30  # computed from the experiments
    assert [p.name for p in tmp_path.glob("experiments-*.json")] == \
        [f"experiments-{catalogue.source_hash()}.json"]
    second = _whynet(store, "list", "--json")
    assert _experiment_modules(second) == set()
    assert json.loads(second.stdout) == json.loads(first.stdout)
    a10 = next(r for r in json.loads(second.stdout) if r["id"] == "a10")
    assert a10["quick_seconds"] > 0  # the store's times, matched through the cached grids


def test_summaries_match_the_experiments(tmp_path, monkeypatch):
    """The cache holds, for every experiment, what the experiment itself says: questions, title,
    seeds, code version and both grids (in JSON form)."""
    monkeypatch.setenv("WHYNET_STORE", str(tmp_path / "runs.sqlite"))
    live = {e.id: e for e in registry.all_experiments()}
    path = catalogue.cache_file("test")
    catalogue._write(path, [catalogue.Summary.of(e) for e in live.values()])
    cached = catalogue._read(path)
    assert [s.id for s in cached] == list(live)
    for s in cached:
        e = live[s.id]
        assert (s.questions, s.title, s.question, s.seeds_quick, s.seeds_full, s.code_version) \
            == (tuple(e.questions), e.title, e.question, e.seeds_quick, e.seeds_full,
                e.code_version)
        for quick in (True, False):
            assert s.grid(quick) == json.loads(json.dumps(e.grid(quick)))


def test_a_stale_or_damaged_cache_is_not_used(tmp_path, monkeypatch):
    """The cache file is named by the hash of the sources: another hash is another file; a
    damaged file reads as no cache."""
    monkeypatch.setenv("WHYNET_STORE", str(tmp_path / "runs.sqlite"))
    assert catalogue.cache_file(catalogue.source_hash()).name.startswith("experiments-")
    assert catalogue.cache_file("aaaa") != catalogue.cache_file(catalogue.source_hash())
    bad = catalogue.cache_file("bad")
    bad.write_text("{not json")
    assert catalogue._read(bad) is None
    bad.write_text(json.dumps([{"id": "x"}]))  # an older layout
    assert catalogue._read(bad) is None
