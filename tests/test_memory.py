"""Importing whynet.nn makes glibc keep freed arrays for reuse (whynet.nn._memory): a layer
output over 128 KiB then costs no page faults when its memory is allocated again."""

import subprocess
import sys

import pytest

SCRIPT = r"""
import resource, sys
import numpy as np

def faults_per_step():
    # Three layers' outputs of 256 KiB (100×16×40 float32), written, then freed together: the
    # free space at the top of the heap then exceeds glibc's trim threshold (2 × the mmap
    # threshold, which the first free raised to 256 KiB only), and is given back.
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(50):
        outs = [np.empty(2**16, np.float32) for _ in range(3)]
        for a in outs:
            a.fill(1.0)
        del outs, a
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 50

faults_per_step()  # a first round grows the heap: not counted
plain = faults_per_step()
import whynet.nn  # noqa: E402
faults_per_step()
print(plain, faults_per_step())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc (Linux)")
def test_importing_the_engine_stops_page_faults_on_reused_memory():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=True).stdout.split()
    plain, after = float(out[0]), float(out[1])
    if plain < 32:  # not glibc's default (musl, a tuned MALLOC_TRIM_THRESHOLD_): nothing to show
        pytest.skip(f"this malloc keeps freed 256 KiB blocks already ({plain} faults a step)")
    assert after < 1, (plain, after)  # up to 3 × 64 pages a step before; reused after
