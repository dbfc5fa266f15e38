"""A10 — without a non-linearity, stacked layers collapse into one linear map.

Notes 001 and 003: with a linear activation, W₃(W₂(W₁x + b₁) + b₂) + b₃ is again Wx + b with
W = W₃W₂W₁, so depth adds nothing: "φ(z) = 10z applied three times is φ(z) = 1000z", and the
network can only draw a straight boundary. We check the algebra numerically (the deep linear net
against its collapsed matrix, in float32 and float64, and the note's 10·10·10 example), then
train deep linear, tanh and ReLU nets on circles and XOR, which no straight line separates.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from .. import datasets
from ..nn import Dense, Sequential, mlp
from ..nn.activations import Identity
from ..optim import SGD
from ..random import make_rng
from ..train import accuracy, fit
from .base import Experiment, Row, Verdict, demonstration, group, mean_spread

ACTIVATIONS = ("identity", "tanh", "relu")
DATASETS = ("circles", "xor")
GRID = 60  # decision-boundary grid per axis, for the figure
LINEAR_MAX = 0.7      # a straight boundary on circles or XOR: near chance, at most this
NONLINEAR_MIN = 0.9   # the better non-linear net must reach this (the task is learnable)


def collapse(model: Sequential) -> tuple[np.ndarray, np.ndarray]:
    """(W, b) of the single affine map equal to a stack of Dense and Identity layers."""
    dense = [m for m in model.layers if isinstance(m, Dense)]
    W = dense[0].W.value.astype(np.float64)
    b = dense[0].b.value.astype(np.float64)
    for d in dense[1:]:
        W = d.W.value.astype(np.float64) @ W
        b = d.W.value.astype(np.float64) @ b + d.b.value
    return W, b


def collapse_errors(seed: int, depth: int = 6, width: int = 32) -> dict:
    """Largest |deep linear net(x) − (W x + b)| for the collapsed (W, b), float32 and float64,
    on 256 random inputs of a random-weights, random-bias deep linear net."""
    rng = make_rng(seed)
    x = rng.standard_normal((256, 8))
    model = mlp([8] + [width] * depth + [3], activation="identity", seed=seed)
    for d in (m for m in model.layers if isinstance(m, Dense)):
        d.b.value[:] = rng.normal(0, 0.1, size=d.b.value.shape)
    W, b = collapse(model)
    exact = x @ W.T + b
    out32 = model.forward(x.astype(np.float32)).astype(np.float64)
    out64 = model.astype(np.float64).forward(x)
    scale = float(np.max(np.abs(exact)))
    return {"float32": float(np.max(np.abs(out32 - exact))),
            "float64": float(np.max(np.abs(out64 - exact))), "scale": scale}


def ten_times_three() -> dict:
    """The note's example: three layers z ↦ 10z, as Dense(1, 1) layers with weight 10, bias 0."""
    layers = []
    for _rep in range(3):
        d = Dense(1, 1, dtype=np.float64)
        d.W.value[:] = 10.0
        d.b.value[:] = 0.0
        layers += [d, Identity()]
    model = Sequential(*layers)
    z = np.linspace(-2, 2, 9).reshape(-1, 1)
    W, b = collapse(model)
    return {"collapsed_weight": float(W[0, 0]), "collapsed_bias": float(b[0]),
            "max_error_vs_1000z": float(np.max(np.abs(model.forward(z) - 1000 * z)))}


def load(name: str, seed: int):
    if name == "circles":
        data = datasets.circles(n=600, noise=0.1, factor=0.5, seed=seed)
    else:
        data = datasets.xor(n=600, noise=0.0, seed=seed)
    Xtr, Xte, _unused = datasets.standardize(data.X[:300], data.X[300:])
    return Xtr, data.y[:300], Xte, data.y[300:]


class LinearCollapse(Experiment):
    id = "a10"
    questions = ("A10",)
    title = N_("Linear activations collapse depth")
    question = (N_("Does a deep net without a non-linearity collapse into one linear map that "
                "cannot learn circles or XOR?"))
    what = (N_("(1) A [8, 32×6, 3] net with identity activations and random weights and biases: its "
            "output against the single collapsed map W = W₇⋯W₁, b (largest difference, float32 "
            "and float64), and the note's three layers of z ↦ 10z. (2) [2, 16, 16, 16, 16, 1] nets "
            "with identity, tanh or ReLU hidden units trained on circles (noise 0.1) and XOR "
            "(300 training, 300 test points), SGD with momentum 0.9 (lr 0.05, batch 32; 50 "
            "epochs in the quick grid, 200 in the full), binary cross-entropy: test accuracy."))
    seeds_quick = 3
    seeds_full = 10

    def grid(self, quick: bool) -> list[dict]:
        specs = [{"part": "collapse"}]
        specs += [{"part": "train", "dataset": d, "activation": a, "epochs": 50 if quick else 200,
                   "lr": 0.05} for d in DATASETS for a in ACTIVATIONS]
        return specs

    def run(self, spec: dict, seed: int) -> dict:
        if spec["part"] == "collapse":
            return {**collapse_errors(seed), **ten_times_three()}
        X, y, Xt, yt = load(spec["dataset"], seed)
        model = mlp([2, 16, 16, 16, 16, 1], activation=spec["activation"], seed=seed)
        h = fit(model, X, y, loss="bce", epochs=spec["epochs"], batch_size=32, seed=seed,
                optimizer=SGD(model.parameters(), lr=spec["lr"], momentum=0.9), progress=False)
        g = np.linspace(-2.5, 2.5, GRID, dtype=np.float32)
        grid = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
        boundary = (model.predict(grid).ravel() > 0).reshape(GRID, GRID).astype(int)
        return {"train_acc": accuracy(model, X, y, "bce"),
                "test_acc": accuracy(model, Xt, yt, "bce"),
                "final_loss": h.epochs["loss"][-1], "boundary": boundary.tolist()}

    def verdicts(self, results):
        col = [r for r in results if r.spec["part"] == "collapse"]
        train = group([r for r in results if r.spec["part"] == "train"], ("dataset", "activation"))
        acc_of = {k: {r.seed: r.result["test_acc"] for r in runs} for k, runs in train.items()}
        flags = self._seed_flags(col, acc_of)
        # a demonstration: the collapse is algebra, and a linear map cannot separate circles or
        # XOR; only an engine bug (or data with a linear signal) could make it come out otherwise
        shown = demonstration(flags)
        acc = {k: mean_spread([r.result["test_acc"] for r in runs]) for k, runs in train.items()}
        e32 = max(c.result["float32"] for c in col)
        e64 = max(c.result["float64"] for c in col)
        ten = col[0].result
        rule = (_("A demonstration (shown), since the collapse is algebra: in every seed the "
                  "deep linear net equals its collapsed map to 1e-10 (float64) and 1e-4 "
                  "(float32) relative to the output size, 10z three times is exactly 1000z, "
                  "the deep linear net stays at or below {linear_max:.0%} test accuracy on "
                  "circles and XOR and the better non-linear net reaches {nonlinear_min:.0%}. "
                  "Any seed where it does not → fails.").format(
                    linear_max=LINEAR_MAX, nonlinear_min=NONLINEAR_MIN))
        if shown.status == "shown":
            answer = (_("Yes: the deep linear net equals one matrix to round-off and stays "
                        "near chance on circles and XOR ({acc_circles_identity:.0%}, "
                        "{acc_xor_identity:.0%}); tanh and ReLU nets reach {min_a_acc:.0%}+.").format(
                          acc_circles_identity=acc['circles', 'identity'].mean,
                          acc_xor_identity=acc['xor', 'identity'].mean,
                          min_a_acc=min((acc[d, a].mean for d in DATASETS for a in ('tanh', 'relu')))))
        else:
            answer = (_("Not in every seed ({shown} off): the collapse or the accuracies did "
                        "not come out as the algebra says; see the evidence.").format(shown=shown))
        evidence = [Row(f"{d}, {a}", {_("test accuracy"): acc[(d, a)]})
                    for d in DATASETS for a in ACTIVATIONS]
        evidence.append(Row(_("collapse, largest |net − (W x + b)|"), {
            "float32": e32, "float64": e64, _("output size"): col[0].result["scale"],
            _("10z three times: weight"): ten["collapsed_weight"]}))
        sentence = (
            _("A 7-matrix identity-activation net equals its collapsed map W x + b to "
              "{e32:.1e} in float32 and {e64:.1e} in float64 (outputs of size "
              "~{col_scale:.0f}); three layers of z ↦ 10z collapse to weight "
              "{ten_collapsed_weight:g}, bias {ten_collapsed_bias:g}, and equal 1000z exactly. "
              "Test accuracy, deep linear vs tanh vs ReLU: ").format(
                e32=e32, e64=e64, col_scale=col[0].result['scale'],
                ten_collapsed_weight=ten['collapsed_weight'],
                ten_collapsed_bias=ten['collapsed_bias']) +
            "; ".join(_("{d} {acc_d_identity} vs {acc_d_tanh} vs {acc_d_relu}").format(
                          d=d, acc_d_identity=acc[d, 'identity'].fmt('.0%'),
                          acc_d_tanh=acc[d, 'tanh'].fmt('.0%'),
                          acc_d_relu=acc[d, 'relu'].fmt('.0%')) for d in DATASETS) + ". " + rule)
        numbers = {f"test accuracy, {d}, {a}": acc[(d, a)] for d in DATASETS for a in ACTIVATIONS}
        numbers.update({"collapse error float32": e32, "collapse error float64": e64,
                        "10z three times: collapsed weight": ten["collapsed_weight"]})
        return [Verdict("A10", shown.status, sentence, numbers, answer=answer, evidence=evidence,
                        rule=rule, agree=shown)]

    @staticmethod
    def _seed_flags(col, acc_of):
        """Per seed: the collapse holds to round-off and the accuracies are as the algebra says."""
        flags = []
        for c in col:
            i = c.seed
            if not all(i in v for v in acc_of.values()):
                continue  # a training run of this seed failed: nothing to pair with
            ok = c.result["float64"] <= 1e-10 * c.result["scale"] \
                and c.result["float32"] <= 1e-4 * c.result["scale"] \
                and c.result["max_error_vs_1000z"] == 0.0
            for d in DATASETS:
                best = max(acc_of[(d, a)][i] for a in ("tanh", "relu"))
                ok = ok and acc_of[(d, "identity")][i] <= LINEAR_MAX and best >= NONLINEAR_MIN
            flags.append(ok)
        return flags

    def figures(self, results):
        train = group([r for r in results if r.spec["part"] == "train"], ("dataset", "activation"))
        fig = Figure(figsize=(7.5, 5.6))
        axes = fig.subplots(len(DATASETS), len(ACTIVATIONS), squeeze=False)
        for i, d in enumerate(DATASETS):
            X, y, Xt, yt = load(d, train[(d, ACTIVATIONS[0])][0].seed)
            for j, a in enumerate(ACTIVATIONS):
                r = train[(d, a)][0]
                ax = axes[i, j]
                ax.imshow(np.array(r.result["boundary"]), origin="lower", cmap="coolwarm",
                          alpha=0.35, extent=(-2.5, 2.5, -2.5, 2.5), vmin=0, vmax=1)
                ax.scatter(Xt[:, 0], Xt[:, 1], c=yt, cmap="coolwarm", s=4, vmin=0, vmax=1)
                ax.set(xlim=(-2.5, 2.5), ylim=(-2.5, 2.5), xticks=[], yticks=[])
                ax.set_title(f"{d}, {a}: {r.result['test_acc']:.0%}")
        fig.suptitle(_("Decision regions of 4-hidden-layer nets (seed 0, test points)"))
        fig.tight_layout()
        return [(_("With identity activations the four hidden layers collapse into one linear "
                   "map: a single straight boundary, whatever the depth. tanh and ReLU bend it "
                   "round the circle and the XOR quadrants."), fig)]


EXPERIMENT = LinearCollapse()
