"""R5 — dW has the same shape as W.

Note 000 (appendix) asks why dW and W have the same dimensions and answers "a matrix keeps its
dimensions when you differentiate it". The shape comes from the loss, not from the matrix: L is
one number, so ∂L/∂W holds one number per entry of W — in the course's notation
dW[l] = (1/m)·dZ[l]·A[l−1]ᵀ is (n[l], m)·(m, n[l−1]) = (n[l], n[l−1]). The derivative of a
*matrix* output with respect to W (a Jacobian) is much bigger. We check every parameter of every
layer type in the engine after a backward pass: the shape and dtype of its grad, and that grad
entry (i, j) is ∂L/∂W(i, j) (finite differences), and we show how the engine keeps it that way.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from ..gradcheck import check_module, rel_error
from ..nn.activations import PReLU
from ..nn.conv import Conv1d, Conv2d
from ..nn.layers import Dense, Maxout
from ..nn.norm import BatchNorm1d, BatchNorm2d, LayerNorm
from ..nn.recurrent import RNN
from ..random import make_rng
from .base import Correction, Experiment, Row, Verdict, mean_spread, tally, values

TOLERANCE = 1e-6  # finite-difference relative error of a correct float64 backward pass

# name → (builder(rng), input shape). Small sizes: finite differences perturb every entry.
LAYERS = {
    "Dense": (lambda rng: Dense(5, 3, rng=rng, dtype=np.float64), (4, 5)),
    "Maxout": (lambda rng: Maxout(5, 3, k=3, rng=rng, dtype=np.float64), (4, 5)),
    "PReLU": (lambda rng: PReLU(4, dtype=np.float64), (6, 4)),
    "BatchNorm1d": (lambda rng: BatchNorm1d(4, dtype=np.float64), (6, 4)),
    "BatchNorm2d": (lambda rng: BatchNorm2d(3, dtype=np.float64), (4, 3, 3, 3)),
    "LayerNorm": (lambda rng: LayerNorm(4, dtype=np.float64), (5, 4)),
    "Conv1d": (lambda rng: Conv1d(2, 3, 3, padding=1, rng=rng, dtype=np.float64), (2, 2, 6)),
    "Conv2d": (lambda rng: Conv2d(2, 3, 3, stride=2, padding=1, rng=rng, dtype=np.float64),
               (2, 2, 5, 5)),
    "RNN": (lambda rng: RNN(3, 4, rng=rng, dtype=np.float64), (2, 5, 3)),
}


def jacobian_demo(rng: np.random.Generator, m: int = 4, n_in: int = 3, n_out: int = 2) -> dict:
    """∂Z/∂W of a Dense layer (a Jacobian, shape (m, n_out, n_out, n_in)) next to ∂L/∂W.

    Each slice J[i, k] = ∂Z[i, k]/∂W is one backward pass with a one-hot dout. The chain rule
    contracts J with the scalar loss's ∂L/∂Z, and only then does W's shape come back.
    """
    layer = Dense(n_in, n_out, rng=rng, dtype=np.float64)
    x = rng.standard_normal((m, n_in))
    z = layer.forward(x)
    J = np.zeros(z.shape + layer.W.shape)
    for idx in np.ndindex(*z.shape):
        onehot = np.zeros_like(z)
        onehot[idx] = 1
        layer.zero_grad()
        layer.backward(onehot)
        J[idx] = layer.W.grad
    G = rng.standard_normal(z.shape)  # ∂L/∂Z for L = Σ G ⊙ Z
    layer.zero_grad()
    layer.backward(G)
    contracted = np.tensordot(G, J, axes=([0, 1], [0, 1]))
    return {"jacobian_shape": list(J.shape), "jacobian_size": int(J.size),
            "W_shape": list(layer.W.shape), "grad_shape": list(layer.W.grad.shape),
            "chain_rule_error": rel_error(contracted, layer.W.grad)}


def accumulation_guard(rng: np.random.Generator) -> dict:
    """What happens when a backward pass gets dW's shape wrong. Parameter.grad is allocated once
    with W's shape and only ever updated in place (``grad += …``), so NumPy refuses a product
    that cannot be written into it — but a smaller array that *broadcasts* slips through."""
    layer = Dense(5, 3, rng=rng, dtype=np.float64)
    x = rng.standard_normal((4, 5))
    dz = rng.standard_normal((4, 3))
    out = {}
    try:
        layer.W.grad += x.T @ dz  # the transposed product: (5, 3) instead of (3, 5)
        out["transposed_raises"] = False
    except ValueError as e:
        out["transposed_raises"] = True
        out["transposed_message"] = str(e)
    layer.zero_grad()
    layer.W.grad += dz.sum(axis=0)[:, None]  # (3, 1): broadcasts along the columns, no error
    out["broadcast_slips_through"] = bool(layer.W.grad.shape == layer.W.shape)
    return out


class GradShape(Experiment):
    id = "r5"
    questions = ("R5",)
    title = N_("dW has the shape of W")
    question = (N_("Does every parameter's gradient have exactly its parameter's shape, and why?"))
    what = (N_("One of each layer type with parameters (Dense, Maxout, PReLU, BatchNorm1d, "
            "BatchNorm2d, LayerNorm, Conv1d, Conv2d, RNN), in float64, on a small random input; "
            "forward, then backward of L = Σ G ⊙ out for a random G. For every parameter we "
            "compare grad.shape and grad.dtype with the value's, and check entry by entry that "
            "grad[i, j] = ∂L/∂W[i, j] by centred finite differences (whynet.gradcheck). We also "
            "build the Jacobian ∂Z/∂W of a Dense layer (one backward pass per output entry) to "
            "show that it is not W-shaped, and try accumulating a wrongly shaped gradient into "
            "Parameter.grad."))
    seeds_quick = 2
    seeds_full = 5
    version = 1

    def grid(self, quick: bool) -> list[dict]:
        return [{"layers": list(LAYERS)}]

    def run(self, spec: dict, seed: int) -> dict:
        rng = make_rng(seed)
        params = []
        for name in spec["layers"]:
            build, shape = LAYERS[name]
            layer = build(rng)
            x = rng.standard_normal(shape)
            errors = check_module(layer, x, rng=rng)  # leaves the grads of L = Σ G ⊙ out
            for pname, p in layer.named_parameters():
                params.append({"layer": name, "param": pname, "value_shape": list(p.value.shape),
                               "grad_shape": list(p.grad.shape), "value_dtype": str(p.value.dtype),
                               "grad_dtype": str(p.grad.dtype), "error": errors[pname]})
        return {"params": params,
                "all_shapes_match": all(p["value_shape"] == p["grad_shape"] for p in params),
                "all_dtypes_match": all(p["value_dtype"] == p["grad_dtype"] for p in params),
                "max_error": max(p["error"] for p in params),
                "n_params": len(params), "jacobian": jacobian_demo(rng),
                "guard": accumulation_guard(rng)}

    def verdicts(self, results):
        # Parameter.grad is allocated with the value's shape and only added into in place: the
        # shapes match by construction ("shown"); a miss would be an engine bug (fails).
        t = tally(r.result["all_shapes_match"] and r.result["all_dtypes_match"]
                  and r.result["max_error"] < TOLERANCE
                  and r.result["guard"]["transposed_raises"] for r in results)
        status = "shown" if t.status == "holds" else "fails"
        r0 = results[0].result
        err = mean_spread(values(results, "max_error"))
        listing = "; ".join(f"{p['layer']}.{p['param']} {tuple(p['value_shape'])}"
                            for p in r0["params"])
        sentence = (
            _("All {r0_n_params} parameters of {len_results_spec} layer types have a grad of "
              "exactly their own shape and dtype ({listing}), and every entry is the "
              "derivative of the loss by that weight (largest finite-difference relative error "
              "{err_1e}). The engine keeps it so by construction: Parameter.grad is allocated "
              "with the value's shape and backward only adds into it in place, so a transposed "
              "dW raises an error — though an array that broadcasts would not. ").format(
                r0_n_params=r0['n_params'], len_results_spec=len(results[0].spec['layers']),
                listing=listing, err_1e=err.fmt('.1e')))
        rule = (_("A demonstration: shown when, in every seed, all shapes and dtypes match, "
                  "every finite-difference relative error is below {tolerance:g}, and a "
                  "transposed update raises; a miss would be an engine bug (status fails).").format(
                    tolerance=TOLERANCE))
        sentence += rule
        by_layer: dict = {}
        for p in r0["params"]:
            by_layer.setdefault(p["layer"], []).append(p)
        rows = [Row(layer, {_("parameters"): ", ".join(f"{p['param']} {tuple(p['value_shape'])}"
                                                    for p in ps),
                            _("grad shape = value shape"): all(p["value_shape"] == p["grad_shape"]
                                                            for p in ps),
                            _("largest relative error"): max(p["error"] for p in ps)})
                for layer, ps in by_layer.items()]
        answer = (_("Yes, because the loss is one number: there is one ∂L/∂w per weight. The "
                    "Jacobian of Z by W has four indices; the chain rule contracts it."))
        return [Verdict("R5", status, sentence, answer=answer, evidence=rows, rule=rule, agree=t,
                        numbers={
            "parameters checked": r0["n_params"],
            "layer types": len(results[0].spec["layers"]),
            "largest finite-difference relative error": err,
            "transposed dW rejected": str(r0["guard"]["transposed_raises"]),
            "broadcastable wrong-shape update rejected": str(
                not r0["guard"]["broadcast_slips_through"])})]

    def corrections(self, results):
        j = results[0].result["jacobian"]
        return [Correction(
            "R5", "000 appendix",
            _("dW has W's dimensions because a matrix keeps its dimensions when differentiated."),
            _("A matrix does not keep its dimensions under differentiation: the derivative of "
              "the matrix Z = XWᵀ + b with respect to W is a 4-index Jacobian. dW has W's "
              "shape because the loss is a single number, so there is one ∂L/∂W(i, j) per "
              "weight; the chain rule contracts the Jacobian with ∂L/∂Z down to that shape."),
            _("Dense layer, W {tuple_j_w_shape}, 4 examples: ∂Z/∂W has shape "
              "{tuple_j_jacobian_shape} ({j_jacobian_size} numbers); contracted with ∂L/∂Z it "
              "gives dW {tuple_j_grad_shape}, equal to backward's to a relative error of "
              "{j_chain_rule_error:.1e}.").format(
                tuple_j_w_shape=tuple(j['W_shape']),
                tuple_j_jacobian_shape=tuple(j['jacobian_shape']),
                j_jacobian_size=j['jacobian_size'], tuple_j_grad_shape=tuple(j['grad_shape']),
                j_chain_rule_error=j['chain_rule_error']),
            so_what=_("Read dW's shape from the loss being a scalar, not from the matrix: the "
                      "same reasoning gives db, dγ and every other parameter gradient its "
                      "parameter's shape, and it is the check to run when a hand-written "
                      "backward disagrees."))]

    def figures(self, results):
        params = results[0].result["params"]
        fig = Figure(figsize=(6.4, 4.2))
        ax = fig.subplots()
        labels = [f"{p['layer']}.{p['param']}  {tuple(p['value_shape'])}" for p in params]
        errs = np.maximum([p["error"] for p in params], 1e-16)
        y = np.arange(len(params))
        colours = ["tab:green" if p["value_shape"] == p["grad_shape"] else "tab:red"
                   for p in params]
        ax.barh(y, errs, color=colours)
        ax.axvline(TOLERANCE, color="k", ls=":", lw=1)
        ax.set_yticks(y, labels, fontsize=9)
        ax.invert_yaxis()
        ax.set(xscale="log", xlabel=_("relative error of grad vs finite differences"),
               title=_("Every parameter: grad shape = value shape (green)"))
        fig.tight_layout()
        return [(_("One bar per parameter of every layer type, labelled with its shape: green "
                   "means grad.shape == value.shape; the bar is the finite-difference relative "
                   "error of the grad (dotted line: 1e-6), so each entry of dW is ∂L/∂W for "
                   "that very entry."),
                 fig)]


EXPERIMENT = GradShape()
