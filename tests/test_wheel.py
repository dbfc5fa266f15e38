"""whynet as a user gets it: the wheel, installed without extras in a fresh virtual environment.

Builds the wheel from this checkout, installs it (dependencies from the package index or pip's
cache) into a new venv with no extras, and runs the commands a new user would. Each command that
needs an extra must say which one to install.
"""

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bare_env(tmp_path_factory):
    """A fresh venv with only the wheel installed; returns (bin folder, environment)."""
    tmp = tmp_path_factory.mktemp("wheel")
    # Without PYTHONPATH: pointed at a checkout's src/ (whose whynet.egg-info the wheel build
    # writes), pip would take whynet as installed already and skip it.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # Built from a copy: with pytest-xdist each worker runs this fixture, and two setuptools
    # builds in one source tree (its build/ and egg-info folders) break each other.
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "src"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(ROOT / name, source / name, **({"ignore": shutil.ignore_patterns(
            "__pycache__", "*.egg-info")} if copy is shutil.copytree else {}))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"),
                    str(source)], check=True, capture_output=True, text=True, env=env)
    (wheel,) = (tmp / "dist").glob("whynet-*.whl")
    venv.create(tmp / "venv", with_pip=True)
    bin_dir = tmp / "venv" / "bin"
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], check=True,
                   capture_output=True, text=True, env=env)
    env.update(WHYNET_STORE=str(tmp / "runs.sqlite"), NO_COLOR="1", COLUMNS="120")
    return bin_dir, env, tmp


def _run(bare_env, *args, ok=True):
    bin_dir, env, tmp = bare_env
    r = subprocess.run([str(bin_dir / args[0]), *args[1:]], env=env, cwd=tmp, text=True,
                       capture_output=True, timeout=600)
    assert (r.returncode == 0) == ok, r.stdout + r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    return r


def test_the_bare_wheel_has_no_extras(bare_env):
    r = _run(bare_env, "python", "-c",
             "import importlib.util as u; print([m for m in ('torch', 'optuna', 'fastapi', "
             "'tensorboardX', 'distributed') if u.find_spec(m)])")
    assert r.stdout.strip() == "[]"


def test_help_version_list_and_a_quick_experiment_work_without_extras(bare_env):
    assert "Usage: whynet" in _run(bare_env, "whynet", "--help").stdout
    assert "0.1.0" in _run(bare_env, "python", "-m", "whynet", "--version").stdout
    listing = _run(bare_env, "whynet", "list").stdout
    assert "a10" in listing and "A10" in listing
    run = _run(bare_env, "whynet", "run", "a10", "--quick", "--jobs", "1", "--json")
    assert '"failed": 0' in run.stdout
    import whynet  # the installed package data (templates, static files) shipped too
    del whynet
    bin_dir, env, tmp = bare_env
    out = tmp / "r.html"
    _run(bare_env, "whynet", "report", "--quick", "-o", str(out))
    assert out.stat().st_size > 10_000


@pytest.mark.parametrize("command, extra", [
    (["search", "-p", "lr=1e-3:1", "--n-trials", "1"], "whynet[search]"),
    (["serve"], "whynet[web]"),
    # the full grid: the quick one is in the store already (the test above ran it), and runs
    # found in the store need no scheduler
    (["run", "a10", "--full", "--scheduler", "tcp://127.0.0.1:1"], "whynet[dask]"),
    (["train", "--epochs", "1", "--tensorboard", "tb"], "whynet[tensorboard]"),
])
def test_each_missing_extra_is_named(bare_env, command, extra):
    r = _run(bare_env, "whynet", *command, ok=False)
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and extra in errors[0], r.stderr
