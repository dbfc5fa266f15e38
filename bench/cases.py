"""The benchmark cases: each builds a whynet step, the same step in PyTorch, and the bare NumPy
matrix products the step must do (its ceiling).

A case is a function ``build() -> Case``. The three callables do the same work on the same data
and weights (float32), so their times compare directly:

* ``whynet``: the public API as a user calls it (``Trainer.train_step`` for a training step,
  ``forward`` + ``backward`` for a layer);
* ``torch``: the PyTorch equivalent (``zero_grad``, forward, ``backward``, ``opt.step()``);
* ``gemm``: only the matrix products of the whynet step, ``np.matmul`` into preallocated
  outputs of exactly those shapes: no element-wise work, no copies. A NumPy engine cannot be
  faster than this (the im2col copies of a convolution are not counted: they are data movement
  the GEMM formulation adds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from whynet.nn import (RNN, BatchNorm2d, Conv2d, Dense, Flatten, LastStep, MaxPool2d, ReLU,
                       Sequential, SoftmaxCrossEntropy, mlp)
from whynet.nn import winograd
from whynet.optim import SGD
from whynet.train import Trainer

F32 = np.float32


@dataclass
class Case:
    name: str
    description: str
    whynet: Callable[[], object]
    torch: Callable[[], object]
    gemm: Callable[[], object]
    #: The whynet model and a batch for it, for ``run.py --layers`` (None: not a model).
    model: object = None
    x: object = None


def _mm(shapes: list[tuple[tuple[int, int], tuple[int, int]]]) -> Callable[[], None]:
    """The products ``A @ B`` for each pair of shapes, with C-contiguous operands and outputs."""
    rng = np.random.default_rng(0)
    ops = [(rng.standard_normal(a, F32), rng.standard_normal(b, F32),
            np.empty((a[0], b[1]), F32)) for a, b in shapes]

    def run():
        for a, b, out in ops:
            np.matmul(a, b, out=out)
    return run


def _dense_gemms(sizes, m: int, first_dx: bool = False) -> list:
    """Forward Z = X Wᵀ, dW = dZᵀ X, dX = dZ W (not for the first layer unless ``first_dx``)."""
    shapes = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        shapes += [((m, a), (a, b)), ((b, m), (m, a))]
        if i > 0 or first_dx:
            shapes.append(((m, b), (b, a)))
    return shapes


def _conv_gemms(c_in, c_out, k, m, hw_out, dx: bool = True) -> list:
    """Forward W₂·cols, dW = dZ·colsᵀ, dcols = W₂ᵀ·dZ for a convolution over m images."""
    rows, cols = c_in * k * k, m * hw_out
    shapes = [((c_out, rows), (rows, cols)), ((c_out, cols), (cols, rows))]
    if dx:
        shapes.append(((rows, c_out), (c_out, cols)))
    return shapes


def mlp_step() -> Case:
    sizes, batch = (784, 1024, 1024, 10), 256
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, sizes[0])).astype(F32)
    y = rng.integers(0, sizes[-1], size=batch)
    model = mlp(list(sizes), activation="relu", seed=0)
    trainer = Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.01, momentum=0.9))
    nn = torch.nn
    lin = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    tmodel = nn.Sequential(lin[0], nn.ReLU(), lin[1], nn.ReLU(), lin[2])
    with torch.no_grad():
        for t, d in zip(lin, [m for m in model.layers if hasattr(m, "W")]):
            t.weight.copy_(torch.from_numpy(d.W.value))
            t.bias.copy_(torch.from_numpy(d.b.value))
    opt = torch.optim.SGD(tmodel.parameters(), lr=0.01, momentum=0.9)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def torch_step():
        opt.zero_grad()
        nn.functional.cross_entropy(tmodel(tx), ty).backward()
        opt.step()

    return Case("mlp_step", "784-1024-1024-10 ReLU, batch 256, SGD momentum 0.9, float32",
                lambda: trainer.train_step(x, y), torch_step, _mm(_dense_gemms(sizes, batch)),
                model, x)


def _winograd_gemms(c_in, c_out, m, tiles, dx: bool = True) -> list:
    """Winograd F(2×2, 3×3)'s 16 products of each pass over m images of ``tiles`` 2×2 tiles:
    forward M[ξ] = V[ξ]·U[ξ]ᵀ, dU[ξ] = V[ξ]ᵀ·dM[ξ], dV[ξ] = dM[ξ]·U[ξ]."""
    rows = m * tiles
    shapes = [((rows, c_in), (c_in, c_out)), ((c_in, rows), (rows, c_out))]
    if dx:
        shapes.append(((rows, c_out), (c_out, c_in)))
    return 16 * shapes


def _layer_gemms(conv: Conv2d, m: int, hw: tuple[int, int], dx: bool = True) -> list:
    """The products the layer's engine does for a batch of m images of ``hw``."""
    x = np.empty((m, conv.in_channels) + hw, F32)
    out = [n + 2 * p - k + 1 for n, p, k in zip(hw, conv.padding, conv.kernel_size)]
    if conv.engine.use_winograd(conv, x):
        return _winograd_gemms(conv.in_channels, conv.out_channels, m,
                               winograd.tiles(out[0]) * winograd.tiles(out[1]), dx)
    return _conv_gemms(conv.in_channels, conv.out_channels, conv.kernel_size[0], m,
                       out[0] * out[1], dx)


def conv2d_fwd_bwd() -> Case:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 16, 28, 28)).astype(F32)
    g = rng.normal(size=(64, 32, 28, 28)).astype(F32)
    conv = Conv2d(16, 32, 3, padding=1, rng=0)

    def run_whynet():
        conv.forward(x)
        conv.backward(g)

    tconv = torch.nn.Conv2d(16, 32, 3, padding=1)
    tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(g)

    def run_torch():
        tconv.zero_grad()
        tx.grad = None
        tconv(tx).backward(tg)

    # 16 input channels: the engine runs Winograd's F(2×2, 3×3); its products are the ceiling
    return Case("conv2d_fwd_bwd", "Conv2d(16→32, 3×3, padding 1) forward+backward on "
                "(64, 16, 28, 28), input gradient included", run_whynet, run_torch,
                _mm(_layer_gemms(conv, 64, (28, 28))))


def small_cnn_step() -> Case:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 1, 28, 28)).astype(F32)
    y = rng.integers(0, 10, size=64)
    model = Sequential(Conv2d(1, 8, 3, padding=1, rng=1), BatchNorm2d(8), ReLU(), MaxPool2d(2),
                       Conv2d(8, 16, 3, padding=1, rng=2), BatchNorm2d(16), ReLU(), MaxPool2d(2),
                       Flatten(), Dense(16 * 7 * 7, 10, rng=3))
    trainer = Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.01))
    nn = torch.nn
    tmodel = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                           nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16),
                           nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 7 * 7, 10))
    opt = torch.optim.SGD(tmodel.parameters(), lr=0.01)
    tx, ty = torch.tensor(x), torch.tensor(y)

    def torch_step():
        opt.zero_grad()
        nn.functional.cross_entropy(tmodel(tx), ty).backward()
        opt.step()

    first, second = model[0], model[4]
    gemms = (_layer_gemms(first, 64, (28, 28), dx=False) + _layer_gemms(second, 64, (14, 14))
             + _dense_gemms((784, 10), 64, first_dx=True))
    return Case("small_cnn_step", "Conv(1→8)-BN-ReLU-MaxPool-Conv(8→16)-BN-ReLU-MaxPool-Dense"
                "(784→10), batch 64 of 28×28, SGD", lambda: trainer.train_step(x, y),
                torch_step, _mm(gemms), model, x)


def rnn_step() -> Case:
    m, steps, n_in, hidden, classes = 128, 40, 1, 64, 10
    rng = np.random.default_rng(0)
    x = rng.normal(size=(m, steps, n_in)).astype(F32)
    y = rng.integers(0, classes, size=m)
    rnn = RNN(n_in, hidden, rng=1)
    model = Sequential(rnn, LastStep(), Dense(hidden, classes, rng=2))
    trainer = Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.01))
    trnn = torch.nn.RNN(n_in, hidden, batch_first=True)
    tdense = torch.nn.Linear(hidden, classes)
    opt = torch.optim.SGD([*trnn.parameters(), *tdense.parameters()], lr=0.01)
    tx, ty = torch.tensor(x), torch.tensor(y)

    def torch_step():
        opt.zero_grad()
        out, _ = trnn(tx)
        torch.nn.functional.cross_entropy(tdense(out[:, -1]), ty).backward()
        opt.step()

    # Per step: h_{t−1} W_hhᵀ forward, δz_t W_hh backward; once: the input projection, its dW,
    # dW_hh over all steps, the dense layer.
    gemms = ([((m, hidden), (hidden, hidden))] * (2 * steps)
             + [((m * steps, n_in), (n_in, hidden)), ((hidden, m * steps), (m * steps, n_in)),
                ((hidden, m * steps), (m * steps, hidden))]
             + _dense_gemms((hidden, classes), m, first_dx=True))
    return Case("rnn_step", "RNN(1→64, tanh) over 40 steps, batch 128, last step → Dense(64→10), "
                "SGD, vs torch.nn.RNN", lambda: trainer.train_step(x, y), torch_step, _mm(gemms),
                model, x)


CASES: dict[str, Callable[[], Case]] = {
    "mlp_step": mlp_step, "conv2d_fwd_bwd": conv2d_fwd_bwd, "small_cnn_step": small_cnn_step,
    "rnn_step": rnn_step,
}
