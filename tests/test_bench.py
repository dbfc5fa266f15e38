"""bench/run.py's cases run and print valid JSON lines (a smoke run: one round of two calls;
timings are never asserted — benchmarks are not tests)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parent.parent / "bench" / "run.py"
CASES = ["mlp_step", "conv2d_fwd_bwd", "small_cnn_step", "rnn_step"]


def _run(*args: str) -> list[dict]:
    proc = subprocess.run([sys.executable, str(RUN), "--quick", "--no-extras", *args],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def test_every_case_runs_and_prints_its_ratios():
    rows = _run("--no-memory", "--threads", "1")
    assert [(r["case"], r["threads"]) for r in rows] == [(c, 1) for c in CASES]
    for r in rows:
        assert min(r["whynet_ms"], r["torch_ms"], r["gemm_ms"]) > 0
        assert abs(r["ratio_torch"] - r["whynet_ms"] / r["torch_ms"]) < 0.01
        assert abs(r["ratio_gemm"] - r["whynet_ms"] / r["gemm_ms"]) < 0.01
        assert r["ratio_torch_best"] == r["ratio_torch"]  # one thread count: its own best


def test_cpu_clock_is_refused_with_more_than_one_thread():
    """A process's CPU time adds all its threads': at 2 threads it would read double."""
    proc = subprocess.run([sys.executable, str(RUN), "--quick", "--no-extras", "--clock", "cpu",
                           "--threads", "1", "2"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--clock cpu" in proc.stderr and "--threads 1 2" in proc.stderr
    rows = _run("--no-memory", "--clock", "cpu", "--threads", "1", "--case", "rnn_step")
    assert [(r["case"], r["threads"]) for r in rows] == [("rnn_step", 1)]


def test_memory_line_measures_both_libraries_in_fresh_processes():
    (row,) = _run("--case", "rnn_step", "--threads")
    assert row["case"] == "rnn_step"
    assert row["whynet_peak_mb"] >= 0 and row["torch_peak_mb"] > 0



def test_layers_prints_each_layers_forward_and_backward():
    """Conv-BN-ReLU-Pool twice, Flatten, Dense: ten lines; conv2d_fwd_bwd has no model."""
    rows = _run("--layers", "--case", "small_cnn_step", "conv2d_fwd_bwd", "--threads", "1")
    assert [(r["case"], r["threads"], r["layer"]) for r in rows] == \
        [("small_cnn_step", 1, i) for i in range(10)]
    assert rows[0]["module"].startswith("Conv2d(1") and rows[-1]["module"].startswith("Dense")
    assert all(r["forward_ms"] > 0 and r["backward_ms"] > 0 for r in rows)


def test_quiet_retimes_blocks_and_counts_those_never_quiet():
    (row,) = _run("--no-memory", "--case", "rnn_step", "--threads", "1", "--quiet", "2")
    assert isinstance(row["noisy_blocks"], int) and 0 <= row["noisy_blocks"] <= 3  # 1 round × 3
    assert min(row["whynet_ms"], row["torch_ms"], row["gemm_ms"]) > 0


def test_suite_bench_counts_the_runs_of_a_fresh_store():
    """bench_suite.py times a grid into a fresh temporary store: every run of the grid ran
    (none read back), and the figures are consistent. T2's quick grid keeps it short."""
    script = RUN.parent / "bench_suite.py"
    out = []
    for _ in range(2):  # the second must not find the first's runs
        proc = subprocess.run([sys.executable, str(script), "--grids", "quick",
                               "--experiments", "t2"], capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0, proc.stderr
        out.append(json.loads(proc.stdout))
    for row in out:
        assert row["name"] == "suite_quick" and row["failed"] == 0
        assert row["runs"] == out[0]["runs"] > 0
        assert row["wall_s"] > 0 and row["cpu_s"] > 0
        # cpu_s is rounded to 0.1 s, cpu_per_run_ms to 0.1 ms
        assert abs(row["cpu_per_run_ms"] - 1e3 * row["cpu_s"] / row["runs"]) <= (
            50 / row["runs"] + 0.05)


def _store(path, rows):
    """A minimal results store: the runs columns compare_stores.py reads."""
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("CREATE TABLE runs (experiment TEXT, spec TEXT, seed INTEGER, status TEXT, "
                "result TEXT, seconds REAL)")
    con.executemany("INSERT INTO runs VALUES (?,?,?,?,?,?)",
                    [(e, spec, seed, "ok", json.dumps(res), sec)
                     for e, spec, seed, res, sec in rows])
    con.commit()
    con.close()
    return str(path)


def test_compare_stores_sums_the_fastest_seconds_of_jobs_with_the_same_results(tmp_path):
    script = RUN.parent / "compare_stores.py"
    same = {"acc": 0.9, "ms_per_step": 1.0}
    old = [_store(tmp_path / "o1.sqlite", [("a1", "{}", 0, same, 4.0), ("a1", "{}", 1, same, 2.0),
                                           ("a2", "{}", 0, {"acc": 0.5}, 9.0),
                                           ("a3", "{}", 0, same, 7.0)]),
           _store(tmp_path / "o2.sqlite", [("a1", "{}", 0, same, 3.0), ("a1", "{}", 1, same, 5.0),
                                           ("a2", "{}", 0, {"acc": 0.5}, 9.0),
                                           ("a3", "{}", 0, same, 7.0)])]
    faster = {"acc": 0.9, "ms_per_step": 0.5}  # a timing field differs: still the same work
    new = [_store(tmp_path / "n1.sqlite", [("a1", "{}", 0, faster, 1.5),
                                           ("a1", "{}", 1, faster, 1.0),
                                           ("a2", "{}", 0, {"acc": 0.6}, 1.0)])]
    proc = subprocess.run([sys.executable, str(script), ",".join(old), new[0]],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    # a2 gives another result (other work), a3 is not in the new store: neither counts.
    assert lines[0] == {"name": "same_work", "jobs_in_both": 3, "same_results": 2,
                        "old_s": 5.0, "new_s": 2.5, "ratio": 0.5}  # min(4, 3) + min(2, 5)
    assert lines[1:] == [{"experiment": "a1", "jobs": 2, "old_s": 5.0, "new_s": 2.5,
                          "ratio": 0.5}]


def test_tiny_bench_prints_every_case():
    proc = subprocess.run([sys.executable, str(RUN.parent / "bench_tiny.py"), "--repeat", "2",
                           "--rounds", "1"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(r["case"], r["optimiser"]) for r in rows] == [
        (c, o) for c in ("moons", "digits", "mnist1d") for o in ("sgd_momentum", "adam")
    ] + [("c1_cnn", "adam")]
    assert all(r["name"] == "tiny_step" and r["us_per_step"] > 0 for r in rows)


def test_conv_bench_times_every_path_and_chunk_size():
    script = str(RUN.parent / "bench_conv.py")
    common = ["--threads", "1", "--repeat", "1", "--rounds", "1"]
    proc = subprocess.run([sys.executable, script, "--shape", "2,16,6,6:4", "3,2,5,5:3",
                           *common], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(r["shape"], r["out_channels"]) for r in rows] == [([2, 16, 6, 6], 4),
                                                                ([3, 2, 5, 5], 3)]
    for r in rows:
        assert set(r["ms"]) == {"im2col", "winograd", "torch"} and min(r["ms"].values()) > 0
        assert r["winograd_vs_im2col"] == round(r["ms"]["winograd"] / r["ms"]["im2col"], 3)
    proc = subprocess.run([sys.executable, script, "--shape", "2,16,6,6:4", "--chunk-bytes",
                           "0.01", "1", *common], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (row,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert set(row["ms"]) == {"im2col", "winograd_0.01MB", "winograd_1MB", "torch"}
    bad = subprocess.run([sys.executable, script, "--shape", "2,16,6"], capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and "expected M,C,H,W:C_OUT, got '2,16,6'" in bad.stderr


def _conv_bench_line(*args: str) -> dict:
    """The one JSON line of ``bench_conv.py`` on a tiny layer with ``args``."""
    proc = subprocess.run([sys.executable, str(RUN.parent / "bench_conv.py"), *args,
                           "--shape", "4,8,6,6:4"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (row,) = [json.loads(line) for line in proc.stdout.splitlines()]
    return row


def test_conv_bench_contention_times_half_batches_alone_in_threads_and_in_processes():
    row = _conv_bench_line("--contention", "--repeat", "1")
    assert row["name"] == "conv_contention" and row["shape"] == [4, 8, 6, 6]
    assert row["alone_ms"] > 0 and len(row["threads_ms"]) == len(row["processes_ms"]) == 2
    assert min(row["threads_ms"] + row["processes_ms"]) > 0


def test_conv_bench_parts_names_every_piece_of_winograds_step():
    row = _conv_bench_line("--parts", "--repeat", "2")
    assert set(row["parts_ms"]) == {"kernel transforms", "images to tiles", "input transform",
                                    "products (GEMM)", "output transform", "dY to tiles",
                                    "output transform adjoint", "input transform adjoint",
                                    "tiles to dx"}
    assert 0 < sum(row["parts_ms"].values()) <= row["total_ms"]


def test_conv_bench_sharing_times_each_algorithm_shared_and_on_the_calling_thread():
    row = _conv_bench_line("--sharing", "--threads", "2", "--repeat", "1", "--rounds", "1")
    assert row["name"] == "conv_sharing" and row["threads"] == 2
    assert row["macs"] == {"im2col": 4 * 4 * 8 * 9 * 6 * 6, "winograd": 4 * 4 * 8 * 16 * 3 * 3}
    assert set(row["ms"]) == {"im2col_shared", "im2col_calling", "winograd_shared",
                              "winograd_calling"} and min(row["ms"].values()) > 0
    for name, ratio in row["shared_vs_calling"].items():
        assert ratio == pytest.approx(row["ms"][f"{name}_shared"] / row["ms"][f"{name}_calling"],
                                      abs=1e-3)
