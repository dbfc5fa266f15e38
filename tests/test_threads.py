"""Element-wise work shared among threads (whynet.nn._threads) gives bitwise the results of one
thread, keeps the caller's floating-point error state, and copies as fresh threads.

The threaded paths run only when NumPy's BLAS may use several threads and a job is large; here
the size threshold is lowered to 0 and BLAS is allowed 2 threads, so small inputs take them."""

import copy
import gc
import pickle
import threading
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from whynet.nn import BatchNorm1d, BatchNorm2d, Dense, MaxPool2d, ReLU, Sequential
from whynet.nn import _threads
from whynet.nn.losses import SoftmaxCrossEntropy
from whynet.optim import SGD
from whynet.train import Trainer


@pytest.fixture
def threaded(monkeypatch):
    monkeypatch.setattr(_threads, "MIN_PARALLEL_SIZE", 0)


def _run(make, x, g, threads):
    layer = make()
    with threadpool_limits(limits=threads, user_api="blas"):
        out = layer.forward(x)
        dx = layer.backward(g)
    return [out, dx] + [p.grad.copy() for p in layer.parameters()]


@pytest.mark.parametrize("make,shape", [
    (ReLU, (7, 5, 3)),
    (lambda: MaxPool2d(2), (5, 3, 6, 8)),
    (lambda: MaxPool2d(3, stride=2, padding=1), (5, 3, 7, 9)),  # overlapping windows, padding
    (lambda: BatchNorm2d(3), (6, 3, 4, 5)),
    (lambda: BatchNorm1d(4), (9, 4)),
])
def test_two_threads_give_bitwise_the_one_thread_results(make, shape, threaded, rng):
    x = rng.normal(size=shape).astype(np.float32)
    out = make().forward(x)
    g = rng.normal(size=out.shape).astype(np.float32)
    one, two = _run(make, x, g, 1), _run(make, x, g, 2)
    assert len(one) == len(two)
    for a, b in zip(one, two):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_a_training_step_on_two_threads_equals_one_thread(threaded, rng):
    """Dense-ReLU-BatchNorm-Dense with SGD momentum: the parameters after three steps."""
    x = rng.normal(size=(16, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=16)
    finals = []
    for threads in (1, 2):
        model = Sequential(Dense(6, 8, rng=1), BatchNorm1d(8), ReLU(), Dense(8, 3, rng=2))
        opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
        opt.PARALLEL_MIN_SIZE = 0
        trainer = Trainer(model, SoftmaxCrossEntropy(), opt)
        with threadpool_limits(limits=threads, user_api="blas"):
            for _ in range(3):
                trainer.train_step(x, y)
        finals.append([p.value.copy() for p in model.parameters()])
    for a, b in zip(*finals):
        assert np.array_equal(a, b)


def test_threads_keep_the_callers_floating_point_error_state(threaded):
    """The trainer catches overflow with np.errstate, which NumPy keeps per thread: a job on a
    worker thread must raise as the calling thread would."""
    workers = _threads.Workers()
    big = np.full(8, 3e38, dtype=np.float32)
    with threadpool_limits(limits=2, user_api="blas"):
        with np.errstate(over="raise"):
            with pytest.raises(FloatingPointError):
                workers.rows(lambda r: big[r] * np.float32(10), len(big), big.size)
        with np.errstate(over="ignore"):
            workers.rows(lambda r: big[r] * np.float32(10), len(big), big.size)


def test_rows_cover_the_batch_once_in_contiguous_slices(threaded):
    seen = []
    with threadpool_limits(limits=2, user_api="blas"):
        _threads.Workers().rows(seen.append, 7, 7)
    assert len(seen) == min(2, _threads.CPUS)
    assert sorted(i for r in seen for i in range(7)[r]) == list(range(7))


def test_copies_and_pickles_get_fresh_threads(threaded):
    layer = ReLU()
    with threadpool_limits(limits=2, user_api="blas"):
        layer.forward(np.ones((4, 3), np.float32))
    for clone in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert clone.workers is not layer.workers
        assert clone.workers._pool is None
        np.testing.assert_array_equal(clone.forward(-np.ones((4, 3), np.float32)), 0)


def test_single_threaded_blas_is_restored_after_the_block():
    workers = _threads.Workers()
    with threadpool_limits(limits=2, user_api="blas"):
        before = workers.threads()
        with workers.single_threaded_blas():
            assert workers.threads() == 1
        assert workers.threads() == before == min(2, _threads.CPUS)


def test_helper_threads_end_with_their_workers(threaded):
    """A discarded layer's threads end (a process that builds many models keeps no idle ones)."""
    def helpers():
        return [t for t in threading.enumerate() if t.name.startswith("whynet-test-")]
    workers = _threads.Workers("whynet-test")
    with threadpool_limits(limits=2, user_api="blas"):
        workers.rows(lambda r: None, 4, 4)
    assert len(helpers()) == min(2, _threads.CPUS) - 1
    del workers
    gc.collect()
    deadline = time.monotonic() + 5
    while helpers() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert helpers() == []


def test_split_passes_small_arrays_whole_and_large_ones_by_rows(monkeypatch):
    """Below MIN_PARALLEL_SIZE the job gets the arrays themselves (no views, no threads);
    from it, row slices of every array, the same rows of each, covering them once."""
    calls = []

    def job(a, b):
        calls.append((a, b))
        np.multiply(a, 2, out=b)
    a, b = np.arange(12.0).reshape(6, 2), np.zeros((6, 2))
    workers = _threads.Workers()
    with threadpool_limits(limits=2, user_api="blas"):
        workers.split(job, a, b)
        assert len(calls) == 1 and calls[0][0] is a and calls[0][1] is b
        assert workers._pool is None  # no thread was started
        monkeypatch.setattr(_threads, "MIN_PARALLEL_SIZE", 0)
        calls.clear()
        b[...] = 0
        workers.split(job, a, b)
    assert len(calls) == min(2, _threads.CPUS)
    rows = sorted(int(x[0, 0]) // 2 for x, _ in calls)
    assert rows[0] == 0 and all(np.shares_memory(x, a) and np.shares_memory(y, b)
                                for x, y in calls)
    np.testing.assert_array_equal(b, 2 * a)


@pytest.mark.parametrize("size", ["small", "large"])
def test_relu_takes_the_same_formula_on_either_path(size, monkeypatch, rng):
    """ReLU's one-call path (small batches) and its sliced path give the same bits."""
    if size == "large":
        monkeypatch.setattr(_threads, "MIN_PARALLEL_SIZE", 0)
    x = rng.normal(size=(9, 5)).astype(np.float32)
    x[0, 0] = 0.0  # ReLU′(0) = 0
    g = rng.normal(size=x.shape).astype(np.float32)
    layer = ReLU()
    with threadpool_limits(limits=2, user_api="blas"):
        out, dx = layer.forward(x), layer.backward(g)
    assert (layer.workers._pool is None) == (size == "small" or _threads.CPUS < 2)
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    np.testing.assert_array_equal(dx, np.where(x > 0, g, 0))
    assert out.dtype == dx.dtype == np.float32
