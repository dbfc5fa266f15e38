"""B1 — batch normalisation normalises, then γ and β can undo it.

Note 004 (cs231n lecture 6, p59) asks what "identity mapping" means there: BatchNorm computes
``x̂ = (x − μ_B)/√(σ²_B + ε)`` and returns ``y = γ x̂ + β``, and with ``γ = √(σ²_B + ε)``,
``β = μ_B`` the output is the input again (Ioffe & Szegedy 2015, §3). So normalising takes nothing
away that the network cannot learn back: the identity is one point of the (γ, β) space, and
training decides where to go. We check it on real activations — the pre-activations of a dense
and of a convolutional layer of small nets on digits, untrained and trained — in float32 and
float64, in training mode (batch statistics) and in evaluation mode (running statistics). Then we
ask whether training goes there: in a net trained *with* BatchNorm, how close is each unit's
learned (γ, β) to the identity values (√(σ² + ε), μ)?
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from ..nn import BatchNorm1d, BatchNorm2d, mlp
from ..train import fit
from .base import Correction, Experiment, Published, Row, Verdict, group, mean_spread, tally
from .recipes import digits_sets, small_cnn

#: A restored output may differ from its input by a few roundings of the largest |value|: one
#: subtraction, two multiplications and an addition, each off by ≤ ½ ulp. These bounds are
#: ~80 and ~4500 ulps (float32 ulp 1.2e-7, float64 2.2e-16): generous, and still far below any
#: difference a network could notice.
TOLERANCE = {"float32": 1e-5, "float64": 1e-12}
PROBE = 256  # examples in the batch whose statistics BatchNorm uses
NEAR = 0.1   # a unit is "at the identity" when γ and β are within 10% of σ of the identity values


def preactivations(layer: str, trained: bool, epochs: int, seed: int) -> np.ndarray:
    """The pre-activations (before ReLU) of a hidden layer on ``PROBE`` test examples.

    ``"dense"``: the second hidden Dense layer of a [64, 64, 64, 10] ReLU MLP, shape (m, 64).
    ``"conv"``: the first convolution of :func:`small_cnn` with 8 channels, shape (m, 8, 8, 8).
    """
    images = layer == "conv"
    Xtr, ytr, Xte, _unused = digits_sets(seed, images)
    if images:
        model, cut = small_cnn(8, seed), 1
    else:
        model, cut = mlp([64, 64, 64, 10], activation="relu", seed=seed), 3
    if trained:
        fit(model, Xtr, ytr, loss="softmax_ce", optimizer="adam", lr=1e-2, epochs=epochs,
            batch_size=32, seed=seed, progress=False)
    model.eval()
    z = Xte[:PROBE]
    for module in model.layers[:cut]:
        z = module.forward(z)
    return np.asarray(z, dtype=np.float64)


def undo_batchnorm(z: np.ndarray, dtype) -> dict:
    """Normalise ``z`` with a fresh BatchNorm (γ = 1, β = 0), then set γ = √(σ²_B + ε), β = μ_B
    and normalise again; the same with the running statistics in evaluation mode."""
    x = z.astype(dtype)
    bn = (BatchNorm1d if x.ndim == 2 else BatchNorm2d)(x.shape[1], dtype=dtype)
    axes = (0,) + tuple(range(2, x.ndim))
    normalised = bn.forward(x)
    mean_out, std_out = normalised.mean(axis=axes), normalised.std(axis=axes)
    mu, var = x.mean(axis=axes), x.var(axis=axes)  # biased: what training-mode BN divides by
    bn.gamma.value[...] = np.sqrt(var + dtype.type(bn.eps))
    bn.beta.value[...] = mu
    restored = bn.forward(x)
    bn.eval()
    bn.gamma.value[...] = np.sqrt(bn.running_var + dtype.type(bn.eps))
    bn.beta.value[...] = bn.running_mean
    restored_eval = bn.forward(x)
    return {"out_dtype": str(restored.dtype),
            "max_abs_mean": float(np.abs(mean_out).max()),
            "max_std_error": float(np.abs(std_out - 1).max()),
            "diff": float(np.abs(restored - x).max()),
            "diff_eval": float(np.abs(restored_eval - x).max()),
            "normalised": normalised, "restored": restored}


def learned_vs_identity(epochs: int, seed: int) -> dict:
    """Train a [64, 64, 64, 10] ReLU MLP with BatchNorm (Dense → BN → ReLU) on digits; per BN unit,
    the learned γ against the identity value s = √(running_var + ε), and (β − running_mean)/s."""
    Xtr, ytr, Xte, yte = digits_sets(seed, images=False)
    model = mlp([64, 64, 64, 10], activation="relu", batchnorm=True, seed=seed)
    fit(model, Xtr, ytr, loss="softmax_ce", optimizer="adam", lr=1e-2, epochs=epochs,
        batch_size=32, seed=seed, progress=False)
    bns = [m for m in model.layers if isinstance(m, BatchNorm1d)]
    s = np.concatenate([np.sqrt(m.running_var.astype(np.float64) + m.eps) for m in bns])
    gamma = np.concatenate([m.gamma.value for m in bns]).astype(np.float64)
    offset = np.concatenate([m.beta.value - m.running_mean for m in bns]) / s
    near = (np.abs(gamma / s - 1) < NEAR) & (np.abs(offset) < NEAR)
    return {"gamma": gamma.tolist(), "identity_gamma": s.tolist(),
            "gamma_median": float(np.median(gamma)), "identity_gamma_median": float(np.median(s)),
            "ratio_median": float(np.median(gamma / s)), "near_identity": float(near.mean()),
            "test_acc": float(np.mean(model.predict(Xte).argmax(axis=1) == yte))}


class BatchNormIdentity(Experiment):
    id = "b1"
    questions = ("B1",)
    title = N_("BatchNorm can undo itself")
    question = (N_("Does BatchNorm with γ = √(σ² + ε) and β = μ give back exactly its input, so "
                "normalising costs the network nothing it cannot undo?"))
    what = N_("Real activations: the pre-activations of the second hidden layer of a [64, 64, "
               "64, 10] ReLU MLP and of the first 3×3 convolution (8 channels) of a small CNN, "
               "on {probe} standardised test digits, before and after a few epochs of Adam. "
               "Each goes through a fresh BatchNorm1d / BatchNorm2d (γ = 1, β = 0: per channel "
               "mean 0 and std 1 expected), then again with γ = √(σ²_B + ε) and β = μ_B (the "
               "batch's own biased variance and mean), and in evaluation mode with γ = "
               "√(running_var + ε), β = running_mean. We report the largest |output − input| "
               "in float32 and float64. Then the same MLP is trained with a BatchNorm1d before "
               "each ReLU, and each unit's learned γ and β are compared with the identity "
               "values √(running_var + ε) and running_mean.")
    what_values = {"probe": PROBE}
    seeds_quick = 3
    seeds_full = 5

    def grid(self, quick: bool) -> list[dict]:
        epochs = 3 if quick else 10
        undo = [{"layer": layer, "trained": trained, "epochs": epochs if trained else 0}
                for layer in ("dense", "conv") for trained in (False, True)]
        return undo + [{"layer": "bn_net", "trained": True, "epochs": epochs}]

    def run(self, spec: dict, seed: int) -> dict:
        if spec["layer"] == "bn_net":
            return learned_vs_identity(spec["epochs"], seed)
        z = preactivations(spec["layer"], spec["trained"], spec["epochs"], seed)
        out: dict = {"shape": list(z.shape), "scale": float(np.abs(z).max())}
        for name in ("float32", "float64"):
            r = undo_batchnorm(z, np.dtype(name))
            for key in ("out_dtype", "max_abs_mean", "max_std_error", "diff", "diff_eval"):
                out[f"{key}_{name}"] = r[key]
            if name == "float32":
                # One unit's values for the figure (a conv unit: channel 0 at the centre).
                channel = (slice(None), 0) + tuple(n // 2 for n in z.shape[2:])
                out["channel_input"] = z[channel].astype(np.float32).tolist()
                out["channel_normalised"] = r["normalised"][channel].tolist()
                out["channel_restored"] = r["restored"][channel].tolist()
        return out

    @staticmethod
    def _split(results):
        """(runs that undo BatchNorm on given activations, runs of a net trained with BN)."""
        return ([r for r in results if r.spec["layer"] != "bn_net"],
                [r for r in results if r.spec["layer"] == "bn_net"])

    @staticmethod
    def _within(r: dict) -> bool:
        """Normalised (mean 0, std 1 per channel) and restored to tolerance, in both dtypes."""
        ok = True
        for name, tol in TOLERANCE.items():
            bound = tol * max(1.0, r["scale"])
            ok &= r[f"diff_{name}"] <= bound and r[f"diff_eval_{name}"] <= bound
            ok &= r[f"max_abs_mean_{name}"] <= 1e-4 and r[f"max_std_error_{name}"] <= 1e-2
        return bool(ok)

    @staticmethod
    def _learned_numbers(learned) -> dict:
        return {"trained BN net: median learned γ": mean_spread(
                    [r.result["gamma_median"] for r in learned]),
                "trained BN net: median identity γ = √(σ² + ε)": mean_spread(
                    [r.result["identity_gamma_median"] for r in learned]),
                "trained BN net: units within 10% of the identity": mean_spread(
                    [r.result["near_identity"] for r in learned])}

    def verdicts(self, results):
        results, learned = self._split(results)
        by_seed = group(results, lambda r: r.seed)
        # An identity: γ = √(σ² + ε), β = μ undoes the normalisation by construction. It is
        # "shown" when every run restores the input to round-off; a miss is an engine bug.
        t = tally(all(self._within(r.result) for r in runs) for runs in by_seed.values())
        status = "shown" if t.status == "holds" else "fails"
        numbers = {f"max |restored − input|, {name}": mean_spread(
            [max(r.result[f"diff_{name}"], r.result[f"diff_eval_{name}"]) for r in results])
            for name in TOLERANCE}
        numbers["largest |input|"] = mean_spread([r.result["scale"] for r in results])
        numbers["max |channel mean| after BN (float32)"] = mean_spread(
            [r.result["max_abs_mean_float32"] for r in results])
        numbers["max |channel std − 1| after BN (float32)"] = mean_spread(
            [r.result["max_std_error_float32"] for r in results])
        d32 = numbers["max |restored − input|, float32"]
        d64 = numbers["max |restored − input|, float64"]
        rows = []
        for (layer, trained), runs in group(results, ("layer", "trained")).items():
            rows.append(Row((_("{layer} pre-activations, trained") if trained else
                             _("{layer} pre-activations, untrained")).format(layer=layer), {
                _("max |channel mean| after BN"): mean_spread(
                    [r.result["max_abs_mean_float32"] for r in runs]),
                _("max |restored − input|, float32"): mean_spread(
                    [max(r.result["diff_float32"], r.result["diff_eval_float32"]) for r in runs]),
                _("max |restored − input|, float64"): mean_spread(
                    [max(r.result["diff_float64"], r.result["diff_eval_float64"]) for r in runs])}))
        answer, rule, sentence = self._texts(d32, d64, numbers)
        if learned:
            more = self._learned_numbers(learned)
            numbers.update(more)
            rows.append(Row(_("net trained with BatchNorm"), {
                _("median learned γ"): more["trained BN net: median learned γ"],
                _("median identity γ"): more["trained BN net: median identity γ = √(σ² + ε)"],
                _("units near the identity (within 10%)"):
                    more["trained BN net: units within 10% of the identity"]}))
            sentence += (_(" Training does not choose it, though: in a net trained with "
                           "BatchNorm the median learned γ is "
                           "{more_trained_bn_net_median_learned} where the identity would need "
                           "{more_trained_bn_net_median_identity}, and "
                           "{more_trained_bn_net_units_within_10_of_the_identity} of the units "
                           "are near the identity (within 10%).").format(
                             more_trained_bn_net_median_learned=more['trained BN net: median learned γ'],
                             more_trained_bn_net_median_identity=more['trained BN net: median identity γ = √(σ² + ε)'],
                             more_trained_bn_net_units_within_10_of_the_identity=more['trained BN net: units within 10% of the identity'].fmt('.0%')))
        else:
            answer = (_("Yes: with γ = √(σ² + ε) and β = μ, BatchNorm returns its input to "
                        "{d32_max:.0e} in float32.").format(d32_max=d32.max))
        return [Verdict("B1", status, sentence, numbers, answer=answer, evidence=rows, rule=rule,
                        agree=t)]

    @staticmethod
    def _texts(d32, d64, numbers):
        """The rule, the long form and the one-line answer."""
        rule = (_("A demonstration: shown when, in every run, the largest |restored − input| "
                  "is below {tolerance_float32:g} (float32) and {tolerance_float64:g} "
                  "(float64) times max(1, |x|max), and the normalised channels have |mean| ≤ "
                  "1e-4 and |std − 1| ≤ 0.01; a miss would be an engine bug (status fails).").format(
                    tolerance_float32=TOLERANCE['float32'],
                    tolerance_float64=TOLERANCE['float64']))
        sentence = (_("On real pre-activations (dense and convolutional, untrained and "
                      "trained, |x| up to {numbers_largest_input_max:.3g}), BatchNorm with γ = "
                      "1, β = 0 gives every channel mean 0 (|mean| ≤ "
                      "{numbers_max_max_channel_mean_after_bn_float32:.1e}) and std 1 (|std − "
                      "1| ≤ {numbers_max_max_channel_std_1_after_bn_float32:.1e}, from ε); "
                      "with γ = √(σ² + ε), β = μ the output equals the input to {d32_max:.1e} "
                      "in float32 and {d64_max:.1e} in float64 (batch and running statistics "
                      "alike). {rule}").format(
                        numbers_largest_input_max=numbers['largest |input|'].max,
                        numbers_max_max_channel_mean_after_bn_float32=numbers['max |channel mean| after BN (float32)'].max,
                        numbers_max_max_channel_std_1_after_bn_float32=numbers['max |channel std − 1| after BN (float32)'].max,
                        d32_max=d32.max, d64_max=d64.max, rule=rule))
        answer = (_("Yes: with γ = √(σ² + ε) and β = μ, BatchNorm returns its input to "
                    "{d32_max:.0e} in float32. Training does not pick that setting, though.").format(
                      d32_max=d32.max))
        return answer, rule, sentence

    def corrections(self, results):
        _unused, learned = self._split(results)
        if not learned:
            return []
        more = self._learned_numbers(learned)
        return [Correction(
            "B1", "004 p59",
            _("asks whether BatchNorm, which normalises and then rescales by γ and shifts by "
              "β, ends up passing its input through unchanged: an identity mapping"),
            _("It can: γ = √(σ² + ε), β = μ restores the input to round-off. But training does "
              "not go there: the median learned γ is {more_trained_bn_net_median_learned:.2f} "
              "where the identity needs {more_trained_bn_net_median_identity:.2f}, so trained "
              "BatchNorm layers keep normalising").format(
                more_trained_bn_net_median_learned=more['trained BN net: median learned γ'].mean,
                more_trained_bn_net_median_identity=more['trained BN net: median identity γ = √(σ² + ε)'].mean),
            _("median γ {more_trained_bn_net_median_learned} vs identity "
              "{more_trained_bn_net_median_identity}; units near the identity (within 10%) "
              "{more_trained_bn_net_units_within_10_of_the_identity}").format(
                more_trained_bn_net_median_learned=more['trained BN net: median learned γ'],
                more_trained_bn_net_median_identity=more['trained BN net: median identity γ = √(σ² + ε)'],
                more_trained_bn_net_units_within_10_of_the_identity=more['trained BN net: units within 10% of the identity'].fmt('.0%')),
            so_what=_("γ and β keep the identity available, so normalising never costs the "
                      "layer anything it needs; the net then chooses a scale of its own, and "
                      "it is not the one that undoes the normalisation."))]

    def published(self, results):
        results, _unused = self._split(results)
        d32 = max(max(r.result["diff_float32"], r.result["diff_eval_float32"]) for r in results)
        d64 = max(max(r.result["diff_float64"], r.result["diff_eval_float64"]) for r in results)
        return [Published(
            "B1", _("Ioffe & Szegedy 2015, §3"),
            _("“by setting γ(k) = √Var[x(k)] and β(k) = E[x(k)], we could recover the original "
              "activations, if that were the optimal thing to do” (stated, not measured)"),
            _("largest |restored − input| over all runs: {d32:.1e} (float32), {d64:.1e} "
              "(float64)").format(d32=d32, d64=d64),
            _("They add ε inside the square root of the normaliser; the exact inverse is γ = "
              "√(Var[x] + ε), which is what we set."))]

    def figures(self, results):
        results, learned = self._split(results)
        by = group(results, ("layer", "trained"))
        first = {key: runs[0].result for key, runs in by.items()}
        r = first.get(("dense", True)) or next(iter(first.values()))
        fig = Figure(figsize=(7.2, 6.4))
        ax1, ax2 = fig.subplots(2, 1)
        x = np.asarray(r["channel_input"])
        bins = np.linspace(min(x.min(), -3), max(x.max(), 3), 40)
        ax1.hist(x, bins=bins, color="0.7", label=_("input x (one unit)"))
        ax1.hist(r["channel_normalised"], bins=bins, histtype="step", color="tab:blue", lw=1.5,
                 label=_("BN, γ=1, β=0"))
        ax1.hist(r["channel_restored"], bins=bins, histtype="step", color="tab:orange", lw=1.5,
                 ls="--", label=_("BN, γ=√(σ²+ε), β=μ"))
        ax1.set(title=_("One unit's pre-activations"), xlabel=_("value"), ylabel=_("examples"))
        ax1.legend(fontsize=9)

        labels = [(_("{layer}\ntrained") if trained else _("{layer}\ninit")).format(layer=layer)
                  for layer, trained in first]
        pos = np.arange(len(labels))
        for k, (name, colour) in enumerate((("float32", "tab:blue"), ("float64", "tab:green"))):
            rel = [max(max(q.result[f"diff_{name}"], q.result[f"diff_eval_{name}"])
                       / max(1.0, q.result["scale"]) for q in runs) for runs in by.values()]
            ax2.bar(pos + (k - 0.5) * 0.38, np.maximum(rel, 1e-18), width=0.38, color=colour,
                    label=name)
            ax2.axhline(TOLERANCE[name], color=colour, ls=":", lw=1)
        ax2.set(yscale="log", title=_("Largest |restored − input| / |x|max"),
                ylabel=_("relative difference (all seeds)"), xticks=pos)
        ax2.set_xticklabels(labels, fontsize=9)
        ax2.legend(fontsize=9, loc="center right")
        fig.tight_layout()
        out = [(_("Top: batch normalisation with γ = 1, β = 0 centres and rescales a unit "
                  "(blue); with γ = √(σ² + ε), β = μ its output (orange, dashed) lies exactly "
                  "on the input (grey). Bottom: the largest difference between input and "
                  "restored output is round-off: below 1e-7 of the largest value in float32 "
                  "and 1e-15 in float64 (dotted: the tolerances of the verdict)."), fig)]
        if learned:
            fig2 = Figure(figsize=(3.8, 3.4))
            ax = fig2.subplots()
            for i, q in enumerate(learned):
                ax.scatter(q.result["identity_gamma"], q.result["gamma"], s=5, alpha=0.5,
                           color="tab:purple", label=_("BN units (all seeds)") if i == 0 else None)
            top = max(max(q.result["identity_gamma"] + q.result["gamma"]) for q in learned)
            ax.plot([0, top], [0, top], color="grey", ls=":", label=_("identity: γ = √(σ²+ε)"))
            ax.set(title=_("Learned γ vs the identity value"), xlabel=_("√(running_var + ε)"),
                   ylabel=_("learned γ"), xlim=(0, top * 1.05), ylim=(0, top * 1.05))
            ax.legend(fontsize=9)
            fig2.tight_layout()
            out.append((_("Each point is one BatchNorm unit of an MLP trained with BatchNorm: "
                          "the identity would put it on the dotted line; the learned γ stay "
                          "near 1 whatever the unit's spread, so the layer keeps normalising."),
                        fig2))
        return out


EXPERIMENT = BatchNormIdentity()
