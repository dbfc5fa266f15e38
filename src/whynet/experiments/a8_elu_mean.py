"""A8 — ELU's outputs are closer to zero mean than ReLU's, at the price of an exp.

Notes 002 and 004 (cs231n lecture 6, p31): ELU(z) = z for z > 0 and α(e^z − 1) otherwise keeps
ReLU's positive side but lets negative inputs give negative outputs, so the mean activation is
"closer to zero"; it costs an exponential. For z ~ N(0, 1): E[ReLU(z)] = 1/√(2π) ≈ 0.399 and
E[ELU(z)] = 1/√(2π) + e^{1/2}·Φ(−1) − 1/2 ≈ 0.160. We measure the mean activation of every layer
of a 5-hidden-layer net with ReLU, ELU or tanh, before and after training, and time each function.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from scipy.stats import norm as normal_dist

from ..i18n import N_, _
from ..nn import mlp
from ..optim import SGD
from ..probes import Probe
from ..train import fit
from .recipes import digits_split, elementwise_cost
from .base import Correction, Experiment, Row, Verdict, group, mean_spread, tally

ACTIVATIONS = ("relu", "elu", "tanh")
RELU_MEAN = 1 / math.sqrt(2 * math.pi)                                    # E[ReLU(z)], z ~ N(0, 1)
ELU_MEAN = RELU_MEAN + math.exp(0.5) * float(normal_dist.cdf(-1)) - 0.5   # E[ELU(z)], α = 1


def layer_means(probe: Probe, step: int) -> list[float]:
    """Mean output of every activation layer at ``step``: the probes' ``act_mean`` records (one
    probe pass on the probe batch, evaluation mode)."""
    probe.measure(step)
    return probe.records.where(step=step, quantity="act_mean").column("value").tolist()


class EluMean(Experiment):
    id = "a8"
    questions = ("A8",)
    title = N_("ELU: closer to zero mean, but an exp")
    question = N_("Are ELU's activations closer to zero mean than ReLU's, and what does its exp cost?")
    what = N_("A [64, 64×5, 10] net with ReLU, ELU (α = 1) or tanh hidden units, each at its "
               "suggested init (He with the activation's gain; Xavier with gain 5/3 for tanh), "
               "on 600 standardised digits: the mean activation of every hidden layer on 500 "
               "held-out digits at initialisation and after 5 epochs of SGD with momentum 0.9 "
               "(lr 0.03). Separately, the forward + backward time of each function per "
               "million float32 elements. Reference values for z ~ N(0, 1): E[ReLU] = "
               "{relu_mean:.3f}, E[ELU] = {elu_mean:.3f}, E[tanh] = 0.")
    what_values = {"relu_mean": RELU_MEAN, "elu_mean": ELU_MEAN}
    seeds_quick = 3
    seeds_full = 10  # 10 of 10 paired seeds: a sign-test p of 0.002

    def grid(self, quick: bool) -> list[dict]:
        specs = [{"part": "means", "activation": a, "epochs": 5, "lr": 0.03, "depth": 5,
                  "width": 64} for a in ACTIVATIONS]
        specs += [{"part": "cost", "activation": a, "elements": 2 ** 18 if quick else 2 ** 21,
                   "repeats": 5 if quick else 20} for a in ("relu", "leaky_relu", "elu", "tanh")]
        return specs

    def run(self, spec: dict, seed: int) -> dict:
        if spec["part"] == "cost":
            return elementwise_cost(spec["activation"], spec["elements"], spec["repeats"], seed)
        X, y, Xv, yv = digits_split(seed)
        model = mlp([X.shape[1]] + [spec["width"]] * spec["depth"] + [10],
                    activation=spec["activation"], seed=seed)
        probe = Probe(model, Xv, yv, "softmax_ce", every=[], histograms=False)
        before = layer_means(probe, 0)
        fit(model, X, y, loss="softmax_ce", epochs=spec["epochs"], batch_size=32, seed=seed,
            optimizer=SGD(model.parameters(), lr=spec["lr"], momentum=0.9), progress=False)
        after = layer_means(probe, 1)
        return {"mean_init": before, "mean_trained": after,
                "abs_mean_init": float(np.mean(np.abs(before))),
                "abs_mean_trained": float(np.mean(np.abs(after)))}

    def _means(self, results) -> dict:
        means = group([r for r in results if r.spec["part"] == "means"], "activation")
        return {(a, k): mean_spread([r.result[k] for r in means[a]])
                for a in ACTIVATIONS for k in ("abs_mean_init", "abs_mean_trained")}

    def verdicts(self, results):
        means = group([r for r in results if r.spec["part"] == "means"], "activation")
        cost = {a: mean_spread([r.result["us_per_M"] for r in runs]) for a, runs in
                group([r for r in results if r.spec["part"] == "cost"], "activation").items()}
        relu = {r.seed: r.result for r in means["relu"]}
        elu = {r.seed: r.result for r in means["elu"]}
        flags = [elu[i]["abs_mean_init"] < relu[i]["abs_mean_init"]
                 and elu[i]["abs_mean_trained"] < relu[i]["abs_mean_trained"]
                 for i in sorted(set(relu) & set(elu))]
        pricier = cost["elu"].mean > cost["relu"].mean
        agree = tally([f and pricier for f in flags])
        status = agree.status
        stat = self._means(results)
        ratio = stat[("elu", "abs_mean_trained")].mean / stat[("relu", "abs_mean_trained")].mean
        elu_vs_tanh = (stat[("elu", "abs_mean_trained")].mean
                       / max(stat[("tanh", "abs_mean_trained")].mean, 1e-12))
        cost_ratio = cost["elu"].mean / cost["relu"].mean
        rule = (_("Holds when, in every seed, ELU's mean |activation| (averaged over the "
                  "hidden layers) is below ReLU's both at initialisation and after training, "
                  "and ELU's forward + backward pass costs more per element than ReLU's (mean "
                  "over seeds)."))
        e_t = stat[("elu", "abs_mean_trained")].mean
        r_t = stat[("relu", "abs_mean_trained")].mean
        t_t = stat[("tanh", "abs_mean_trained")].mean
        if status == "holds":
            answer = (_("Closer to zero than ReLU, yet far from zero-centred: trained mean "
                        "activation ELU {e_t:.2f}, ReLU {r_t:.2f}, tanh {t_t:.3f}; ELU costs "
                        "{cost_ratio:.1f}× ReLU per element.").format(
                          e_t=e_t, r_t=r_t, t_t=t_t, cost_ratio=cost_ratio))
        elif status == "fails":
            answer = (_("No: ELU's mean activation was not below ReLU's ({e_t:.2f} vs "
                        "{r_t:.2f} after training), or its exp cost nothing extra "
                        "({cost_ratio:.1f}×).").format(e_t=e_t, r_t=r_t, cost_ratio=cost_ratio))
        else:
            answer = (_("Unclear: ELU's mean activation was below ReLU's in only {agree} "
                        "({e_t:.2f} vs {r_t:.2f} after training).").format(
                          agree=agree, e_t=e_t, r_t=r_t))
        evidence = [Row(a, {_("mean |activation| at init"): stat[(a, "abs_mean_init")],
                            _("after training"): stat[(a, "abs_mean_trained")],
                            _("µs per million elements"): cost[a]})
                    for a in ACTIVATIONS]
        evidence += [Row(a, {_("µs per million elements"): c}) for a, c in cost.items()
                     if a not in ACTIVATIONS]
        sentence = (
            _("Mean activation, averaged over the 5 hidden layers (|mean| per layer), at init "
              "→ after training: ") +
            ", ".join(f"{a} {stat[(a, 'abs_mean_init')].fmt('.3f')} → "
                      f"{stat[(a, 'abs_mean_trained')].fmt('.3f')}" for a in ACTIVATIONS) +
            _(" (for z ~ N(0, 1): ReLU {relu_mean:.3f}, ELU {elu_mean:.3f}). After training "
              "ELU's is {ratio:.0%} of ReLU's and {elu_vs_tanh:.0f}× tanh's").format(
                relu_mean=RELU_MEAN, elu_mean=ELU_MEAN, ratio=ratio, elu_vs_tanh=elu_vs_tanh)
            + (_(": closer to zero, not zero-centred") if ratio < 1 and elu_vs_tanh > 5 else "")
            + _(". Per million elements, forward + backward: ")
            + ", ".join(f"{a} {cost[a].mean:.0f} µs" for a in cost) +
            _(" (ELU/ReLU = {cost_ratio:.1f}×). ").format(cost_ratio=cost_ratio) + rule)
        numbers = {f"|mean activation| {k.split('_')[-1]}, {a}": stat[(a, k)]
                   for a in ACTIVATIONS for k in ("abs_mean_init", "abs_mean_trained")}
        numbers.update({f"µs per million elements, {a}": c for a, c in cost.items()})
        return [Verdict("A8", status, sentence, numbers, answer=answer, evidence=evidence,
                        rule=rule, agree=agree)]

    def corrections(self, results):
        stat = self._means(results)
        e, r, t = (stat[(a, "abs_mean_trained")] for a in ("elu", "relu", "tanh"))
        if e.mean < 5 * max(t.mean, 1e-12):
            return []  # ELU came near tanh's centring: the note's "solves" would stand
        return [Correction(
            "A8", "002",
            _("ELU was made to solve ReLU's non-zero-mean output, and it solves sigmoid's "
              "second problem (outputs not zero-centred)"),
            _("ELU's outputs are closer to zero mean than ReLU's, as 004 p31 says, but stay "
              "far from zero-centred: after training its mean activation is {e:.0%} of ReLU's "
              "and {e_max_t:.0f}× tanh's").format(
                e=e.mean / r.mean, e_max_t=e.mean / max(t.mean, 1e-12)),
            _("mean |activation| per hidden layer after training: ELU {e_3f}, ReLU {v3f}, tanh "
              "{t_3f}").format(e_3f=e.fmt('.3f'), v3f=r.fmt('.3f'), t_3f=t.fmt('.3f')),
            so_what=_("ELU's negative side only pulls the mean down a little (for N(0, 1) "
                      "inputs from {relu_mean:.2f} to {elu_mean:.2f}); it does not give tanh's "
                      "zero-centred outputs, and in a trained net the mean grows layer after "
                      "layer for ELU as for ReLU (see the figure)").format(
                        relu_mean=RELU_MEAN, elu_mean=ELU_MEAN))]

    def figures(self, results):
        means = group([r for r in results if r.spec["part"] == "means"], "activation")
        colours = {"relu": "tab:blue", "elu": "tab:red", "tanh": "tab:green"}
        fig = Figure(figsize=(7.5, 4.0))
        axes = fig.subplots(1, 2, sharey=True)
        for ax, key, title in zip(axes, ("mean_init", "mean_trained"),
                                  (_("at initialisation"), _("after 5 epochs"))):
            for a in ACTIVATIONS:
                m = np.array([r.result[key] for r in means[a]])
                layers = np.arange(1, m.shape[1] + 1)
                ax.errorbar(layers, m.mean(0), yerr=m.std(0), marker="o", ms=3, capsize=2,
                            color=colours[a], label=a)
            ax.axhline(0, color="grey", lw=0.8)
            ax.set(title=title.capitalize(), xlabel=_("hidden layer"))
        axes[0].axhline(RELU_MEAN, color="tab:blue", ls=":", lw=1)
        axes[0].axhline(ELU_MEAN, color="tab:red", ls=":", lw=1)
        axes[0].set_ylabel(_("mean activation"))
        axes[0].legend()
        fig.suptitle(_("Mean activation per hidden layer"))
        fig.tight_layout()
        return [(_("Mean output of each hidden layer (mean ± std over seeds). ELU sits between "
                   "ReLU and tanh; the dotted lines are the means for N(0, 1) inputs "
                   "({relu_mean:.3f} and {elu_mean:.3f}).").format(
                     relu_mean=RELU_MEAN, elu_mean=ELU_MEAN), fig)]


EXPERIMENT = EluMean()
