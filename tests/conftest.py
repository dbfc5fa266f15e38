"""Shared test settings: strict numerics, and small helpers used across test files."""

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _strict_numpy():
    """Overflow, invalid operations and division by zero raise instead of warning."""
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        yield


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """One BLAS thread per test process: with two pytest workers on two cores, threaded BLAS
    oversubscribes the CPU and small matrix products run tens of times slower."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(autouse=True)
def _restore_sigint():
    """A command interrupted in-process ignores Ctrl-C from then on (so a second one changes
    nothing); put the handler back so later tests, and the processes they start, get Ctrl-C."""
    import signal

    handler = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, handler)


@pytest.fixture(autouse=True, scope="session")
def _english_by_default():
    """Tests read English output unless they choose a language: a developer's LANG=ko_KR (or
    WHYNET_LANG) must not turn the CLI's and the report's words into Korean under them. Session
    scope, so that module-scoped fixtures (a report built once per file) see it too."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WHYNET_LANG", "en")
        yield
