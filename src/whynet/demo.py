"""A one-minute demo: train a small network on a 2-D toy set and print its history.

    python -m whynet.demo                      # moons, [2, 16, 16, 2] tanh network, Adam
    python -m whynet.demo --dataset spiral --epochs 200 --activation relu

Everything is seeded: the same command prints the same numbers.
"""

from __future__ import annotations

import argparse
import sys
import time

from .datasets import TOY_2D, get_dataset, split
from .nn import mlp
from .train import fit


def run(dataset: str = "moons", n: int = 500, noise: float | None = None, hidden=(16, 16),
        activation: str = "tanh", epochs: int = 30, lr: float = 0.01, seed: int = 0):
    """Train and return ``(history, model, seconds)``; 20% of the points are held out.

    The network is ``[2, *hidden, n_classes]`` with softmax cross-entropy, trained by Adam.
    """
    kwargs = {"n": n, "seed": seed} if noise is None else {"n": n, "seed": seed, "noise": noise}
    data = get_dataset(dataset, **kwargs)
    train, _, test = split(data, val=0.0, test=0.2, seed=seed)
    model = mlp([2, *hidden, data.n_classes], activation=activation, seed=seed)
    start = time.perf_counter()
    history = fit(model, *train, loss="softmax_ce", optimizer="adam", lr=lr, epochs=epochs,
                  batch_size=32, seed=seed, validation_data=tuple(test), progress=False)
    return history, model, time.perf_counter() - start


def _table(history, every: int) -> list[str]:
    e = history.epochs
    lines = [f"{'epoch':>5}  {'loss':>8}  {'acc':>6}  {'val_loss':>8}  {'val_acc':>7}"]
    n = len(history)
    for i in range(n):
        if (i + 1) % every and i not in (0, n - 1):
            continue
        lines.append(f"{i + 1:>5}  {e['loss'][i]:>8.4f}  {e['acc'][i]:>6.1%}  "
                     f"{e['val_loss'][i]:>8.4f}  {e['val_acc'][i]:>7.1%}")
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m whynet.demo", description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="moons", choices=TOY_2D)
    p.add_argument("--n", type=int, default=500, help="number of points (default 500)")
    p.add_argument("--noise", type=float, default=None, help="the data set's noise (its default)")
    p.add_argument("--hidden", type=int, nargs="+", default=[16, 16], help="hidden layer sizes")
    p.add_argument("--activation", default="tanh")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    history, model, seconds = run(a.dataset, a.n, a.noise, tuple(a.hidden), a.activation,
                                  a.epochs, a.lr, a.seed)
    sizes = " → ".join(str(d.n_in) for d in model.layers if hasattr(d, "n_in"))
    sizes += f" → {model.layers[-1].n_out}"
    print(f"whynet demo: {a.dataset} (n={a.n}, 80/20 split, seed {a.seed}); "
          f"MLP {sizes}, {a.activation}, Adam lr={a.lr}, "
          f"{model.num_parameters()} parameters")
    print("\n".join(_table(history, every=max(1, len(history) // 10))))
    if history.diverged:
        print(f"stopped: {history.stopped}")
        return 1
    print(f"trained {len(history)} epochs in {seconds:.1f} s; "
          f"held-out accuracy {history.epochs['val_acc'][-1]:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
