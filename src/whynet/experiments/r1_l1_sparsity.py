"""R1 — L1 makes W sparse and so "compresses" the model; L2 shrinks without zeros.

Note 000 (Q5/Q6) asks what "compressing the model with L1" means and why W becomes sparse, and
answers "it reduces the influence of unneeded features". We train one digits MLP under no
penalty, L2, L1 applied by its subgradient λ·sign(w), and L1 applied by its proximal step
(soft-thresholding), over a range of λ, and count the weights that are exactly zero and nearly
zero, how often they flip sign, which input pixels lose all their weights, and what pruning them
costs in accuracy.

Why the zeros come from the proximal step: |w| has a kink at 0, so near 0 the penalty pulls with
the same force λ whatever the size of w. The subgradient step w ← w − η(g + λ·sign w) jumps over 0
(a weight of 1e-5 moves by η·λ ≈ 1e-3) and lands on the other side: it rattles around 0 with an
amplitude of about η·λ and almost never lands on 0.0 exactly. The proximal step first takes the
loss step, then soft-thresholds, w ← sign(w)·max(|w| − η·λ, 0): every weight whose loss gradient is
too weak to carry it past η·λ is set to exactly 0 and stays there. L2's pull λ·w vanishes as
w → 0, so weights shrink geometrically and never reach 0.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from .. import datasets
from ..nn import mlp
from ..nn.layers import Dense
from ..nn.regularizers import L1, L2
from ..optim import SGD
from ..probes.stats import SPARSITY_EPS, weight_sparsity
from ..train import Callback, accuracy, fit
from .base import (Correction, Experiment, Row, Tally, Verdict, combine, group, mean_spread,
                   outcome, tally, values)

REGULARIZERS = {
    "none": lambda lam: None,
    "l2": lambda lam: L2(lam),
    "l1": lambda lam: L1(lam),
    "l1_prox": lambda lam: L1(lam, proximal=True),
}
LABELS = {"none": N_("no penalty"), "l2": "L2", "l1": N_("L1 (subgradient)"),
          "l1_prox": N_("L1 (proximal)")}  # English in the numbers' names, _(label) where shown
COLOURS = {"none": "tab:grey", "l2": "tab:blue", "l1": "tab:orange", "l1_prox": "tab:red"}
PRUNE_FRACTIONS = (0.5, 0.7, 0.8, 0.9, 0.95)
HIST_RANGE = (-8.0, 0.5)  # log10|w|; exact zeros are counted apart
HIST_BINS = 34
SHOWN_LAM = 1e-2  # the λ the sentence and figures show: strong, yet every method still learns
#: Matched strength. With momentum β = 0.9 the subgradient penalty λ·sign(w) enters the velocity
#: and is applied 1/(1 − β) = 10 times over, a pull of up to 10·lr·λ per step; the proximal
#: threshold lr·λ is applied once, outside the momentum. So subgradient L1 at λ is compared with
#: proximal L1 at 10·λ.
MOMENTUM = 0.9
MATCH = round(1 / (1 - MOMENTUM))
PRUNED = 0.9  # "compressible": accuracy after deleting the 90% smallest weights …
BETTER = 0.02  # … more than 2 points above the unpenalised net's after the same pruning


def shown_lam(lams) -> float:
    """``SHOWN_LAM`` if it was run, else the largest λ."""
    return SHOWN_LAM if SHOWN_LAM in lams else max(lams)


def weights(model) -> list:
    """The penalised weight Parameters (the W of every Dense layer; biases are not penalised)."""
    return [p for p in model.parameters() if p.regularize]


def flat_weights(model) -> np.ndarray:
    return np.concatenate([p.value.ravel() for p in weights(model)])


def pruned_accuracy(model, X, y, threshold: float) -> float:
    """Test accuracy with every penalised weight of |w| < threshold set to 0 (then restored)."""
    params = weights(model)
    saved = [p.value.copy() for p in params]
    for p in params:
        p.value[np.abs(p.value) < threshold] = 0
    try:
        return accuracy(model, X, y)
    finally:
        for p, v in zip(params, saved):
            p.value[...] = v


class SignFlips(Callback):
    """Which penalised weights change sign (strictly: + to − or − to +) during the last epoch."""

    def __init__(self, model, epochs: int):
        self.params, self.epochs = weights(model), epochs
        self.flipped: np.ndarray | None = None
        self._last: np.ndarray | None = None

    def on_step_end(self, step, loss, ctx):
        if ctx.epoch < self.epochs:
            return
        signs = np.sign(np.concatenate([p.value.ravel() for p in self.params]))
        if self._last is None:
            self.flipped = np.zeros(signs.shape, bool)
        else:
            self.flipped |= signs * self._last < 0
        self._last = signs


class L1Sparsity(Experiment):
    id = "r1"
    questions = ("R1",)
    title = N_("L1 sparsity: proximal vs subgradient vs L2")
    question = (N_("Does L1 make the weights sparse (exact zeros) and so compress the model, while "
                "L2 only shrinks them?"))
    what = (N_("A [64, 32, 10] ReLU MLP (He init) on scikit-learn's digits (pixels in [0, 1]; 1000 "
            "training and 797 test images, split by the seed), SGD with momentum 0.9, lr 0.1, "
            "batch 50, trained with no penalty, with L2 (λ/2)·Σw², with L1 λ·Σ|w| applied by its "
            "subgradient λ·sign(w), and with L1 applied by the proximal step (soft-thresholding "
            "w ← sign(w)·max(|w| − ηλ, 0) after each step), over the same λ values. We measure the "
            "fraction of weights that are exactly 0 and below 1e-3 in magnitude (the probes' "
            "weight_sparsity), the fraction that flip sign during the last epoch, the fraction "
            "of input pixels whose 32 outgoing weights are all exactly 0, and the test accuracy "
            "before pruning, after zeroing every |w| < 1e-3, and after magnitude pruning at "
            "50–95%. Proximal L1 gets its exact zeros from soft-thresholding: any weight "
            "whose loss gradient cannot carry it past ηλ is put at 0.0 and stays there. The "
            "subgradient step overshoots 0 by up to ηλ and rattles around it, so it leaves many "
            "tiny weights that flip sign but almost no exact zeros; L2's pull λw fades as "
            "w → 0, so its weights shrink but never reach 0."))
    seeds_quick = 3
    seeds_full = 10
    version = 1

    def grid(self, quick: bool) -> list[dict]:
        lams = [1e-3, 1e-2] if quick else [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]
        epochs = 20 if quick else 60
        specs = [{"regularizer": "none", "lam": 0.0, "epochs": epochs}]
        for lam in lams:
            specs += [{"regularizer": r, "lam": lam, "epochs": epochs}
                      for r in ("l2", "l1", "l1_prox")]
        return specs

    def run(self, spec: dict, seed: int) -> dict:
        train, _, test = datasets.split(datasets.digits(), val=0.0, test=797 / 1797, seed=seed)
        model = mlp([64, 32, 10], activation="relu", seed=seed)
        flips = SignFlips(model, spec["epochs"])
        lr = 0.1
        fit(model, train.X, train.y, loss="softmax_ce",
            optimizer=SGD(model.parameters(), lr=lr, momentum=MOMENTUM), epochs=spec["epochs"],
            batch_size=50, regularizer=REGULARIZERS[spec["regularizer"]](spec["lam"]), seed=seed,
            callbacks=[flips], progress=False)
        w = flat_weights(model)
        exact, near = weight_sparsity(w)
        tiny = (np.abs(w) < SPARSITY_EPS) & (w != 0)
        W1 = [m for m in model.layers if isinstance(m, Dense)][0].W.value  # (32, 64)
        dead_inputs = np.all(W1 == 0, axis=0)
        constant_pixels = train.X.std(axis=0) == 0
        order = np.sort(np.abs(w))
        magnitude = {}
        for f in PRUNE_FRACTIONS:
            # Threshold just above the f-quantile of |w|: pruning every |w| below it removes ≥ f.
            t = np.nextafter(order[int(f * len(order)) - 1], np.inf)
            magnitude[str(f)] = pruned_accuracy(model, test.X, test.y, float(t))
        logw = np.log10(np.abs(w[w != 0]).astype(np.float64))
        hist = np.histogram(np.clip(logw, *HIST_RANGE), bins=HIST_BINS, range=HIST_RANGE)[0]
        return {
            "exact_zero": float(exact), "near_zero": float(near),
            "tiny_nonzero": float(np.mean(tiny)),
            "flipped": float(np.mean(flips.flipped)),
            "flipped_among_tiny": float(np.mean(flips.flipped[tiny])) if tiny.any() else 0.0,
            "weight_norm": float(np.linalg.norm(w)),
            "threshold_step": lr * spec["lam"],
            "dead_inputs": float(np.mean(dead_inputs)),
            "dead_inputs_constant": int(np.sum(dead_inputs & constant_pixels)),
            "constant_pixels": int(np.sum(constant_pixels)),
            "n_weights": int(w.size),
            "test_acc": accuracy(model, test.X, test.y),
            "pruned_acc": pruned_accuracy(model, test.X, test.y, SPARSITY_EPS),
            "magnitude_pruned_acc": magnitude,
            "log_abs_hist": hist.tolist(),
        }

    # -- verdicts ---------------------------------------------------------------------------------
    def _by_lam(self, results):
        """{λ: {regulariser: [runs in seed order]}}, plus the unpenalised runs."""
        none = [r for r in results if r.spec["regularizer"] == "none"]
        lams = sorted({r.spec["lam"] for r in results if r.spec["regularizer"] != "none"})
        out = {lam: group([r for r in results if r.spec["lam"] == lam
                           and r.spec["regularizer"] != "none"], "regularizer") for lam in lams}
        return none, out

    def matched_pairs(self, by_lam) -> list[tuple[float, float]]:
        """(λ for subgradient L1, λ for proximal L1) pairs of matched strength in the grid."""
        lams = list(by_lam)
        return [(lam, lam * MATCH) for lam in lams
                if any(np.isclose(lam * MATCH, other) for other in lams)]

    def _at(self, by_lam, lam):
        return next(v for k, v in by_lam.items() if np.isclose(k, lam))

    def _compression(self, results):
        """Per L1 step, the per-seed flags "pruned to PRUNED, more accurate than the unpenalised
        net pruned the same way by > BETTER", over the matched pairs."""
        none, by_lam = self._by_lam(results)
        base = {r.seed: r.result["magnitude_pruned_acc"][str(PRUNED)] for r in none}
        pairs = self.matched_pairs(by_lam)
        flags = {"l1": [], "l1_prox": []}
        for lam_sub, lam_prox in pairs:
            for key, lam in (("l1", lam_sub), ("l1_prox", lam_prox)):
                for r in self._at(by_lam, lam)[key]:
                    if r.seed in base:
                        flags[key].append(r.result["magnitude_pruned_acc"][str(PRUNED)]
                                          > base[r.seed] + BETTER)
        return none, by_lam, pairs, {k: tally(v) for k, v in flags.items()}

    def verdicts(self, results):
        none, by_lam, pairs, tallies = self._compression(results)
        status = combine(t.status for t in tallies.values())
        agree = Tally(status, sum(t.agree for t in tallies.values()),
                      sum(t.n for t in tallies.values()))
        pct = f"{PRUNED:.0%}"

        def row(label, runs):
            return Row(label, {
                _("exactly 0"): mean_spread(values(runs, "exact_zero")),
                "|w| < 1e-3": mean_spread(values(runs, "near_zero")),
                _("test accuracy"): mean_spread(values(runs, "test_acc")),
                _("after pruning {pct}").format(pct=pct): mean_spread(
                    [r.result["magnitude_pruned_acc"][str(PRUNED)] for r in runs]),
                _("after pruning 95%"): mean_spread(
                    [r.result["magnitude_pruned_acc"]["0.95"] for r in runs])})

        rows = [row(_("no penalty"), none)]
        for lam_sub, lam_prox in pairs:
            rows.append(row(_("L1 subgradient, λ = {lam_sub:g}").format(lam_sub=lam_sub), self._at(by_lam, lam_sub)["l1"]))
            rows.append(row(_("L1 proximal, λ = {lam_prox:g} (matched)").format(lam_prox=lam_prox),
                            self._at(by_lam, lam_prox)["l1_prox"]))
            rows.append(row(f"L2, λ = {lam_sub:g}", self._at(by_lam, lam_sub)["l2"]))
        lam = shown_lam(by_lam)
        by = by_lam[lam]
        zeros = {k: mean_spread(values(by[k], "exact_zero")) for k in ("l2", "l1", "l1_prox")}
        flipped = mean_spread(values(by["l1"], "flipped_among_tiny"))
        pruned0 = mean_spread([r.result["magnitude_pruned_acc"][str(PRUNED)] for r in none])
        acc_none = mean_spread(values(none, "test_acc"))
        numbers = {f"exact zeros, {LABELS[k]} (λ={lam:g})": v for k, v in zeros.items()}
        numbers.update({
            f"sign flips among tiny weights, subgradient L1 (λ={lam:g})": flipped,
            "test accuracy, no penalty": acc_none,
            f"test accuracy after pruning {pct}, no penalty": pruned0,
            "compressible, subgradient L1": outcome(tallies['l1'].status, tallies['l1']),
            "compressible, proximal L1": outcome(tallies['l1_prox'].status, tallies['l1_prox'])})
        pruned = {}
        for lam_sub, lam_prox in pairs:
            for key, lam_k in (("l1", lam_sub), ("l1_prox", lam_prox)):
                s = mean_spread([r.result["magnitude_pruned_acc"][str(PRUNED)]
                                 for r in self._at(by_lam, lam_k)[key]])
                pruned[key, lam_k] = s
                numbers[f"test accuracy after pruning {pct}, {LABELS[key]} (λ={lam_k:g})"] = s
        verdict_of = {k: {"holds": _("does"), "fails": _("does not"),
                          "inconclusive": _("is unclear whether it does")}[t.status]
                      for k, t in tallies.items()}
        answer = self._answer_text(pairs, lam, pct, pruned0, zeros, pruned)
        rule = (_("Exact zeros are shown, not tested: a subgradient or L2 step lands on 0.0 "
                  "only by accident, soft-thresholding puts every |w| < lr·λ there. "
                  "Compression is tested at matched strength (subgradient λ vs proximal "
                  "{match}·λ, since momentum {momentum:g} applies the subgradient pull up to "
                  "{match}×): an L1 step compresses when, in every seed and pair, its net "
                  "pruned to {pct} (smallest |w| first) beats the unpenalised net pruned the "
                  "same way by more than {better_100:.0f} points. Mixed → depends on the L1 "
                  "step.").format(match=MATCH, momentum=MOMENTUM, pct=pct, better_100=BETTER * 100))
        sentence = self._sentence(rule, lam, pct, verdict_of, tallies, flipped, pruned0, zeros, pruned)
        return [Verdict("R1", status, sentence, numbers, answer=answer, evidence=rows, rule=rule,
                        depends_on=(_("L1 step (subgradient or proximal)"),)
                        if status == "depends" else (), agree=agree)]

    @staticmethod
    def _answer_text(pairs, lam, pct, pruned0, zeros, pruned):
        """The one-line answer from the pruning test."""
        if pairs:
            ls, lp = pairs[-1]
            answer = (_("Only the proximal step gives exact zeros ({zeros_l1_prox:.0%} at λ = "
                        "{lam:g}). Pruned to {pct}, subgradient L1 keeps {pruned_l1_ls:.0%}, "
                        "proximal {pruned_l1_prox_lp:.0%}, no penalty {pruned0:.0%}.").format(
                          zeros_l1_prox=zeros['l1_prox'].mean, lam=lam, pct=pct,
                          pruned_l1_ls=pruned['l1', ls].mean,
                          pruned_l1_prox_lp=pruned['l1_prox', lp].mean, pruned0=pruned0.mean))
        else:
            answer = _("No matched-strength pair in this grid; see the evidence.")
        return answer

    @staticmethod
    def _sentence(rule, lam, pct, verdict_of, tallies, flipped, pruned0, zeros, pruned):
        """The long form: exact zeros, the pruning test per λ pair, then the rule."""
        sentence = (
            _("Exact zeros at λ = {lam:g}: proximal L1 {zeros_l1_prox_1}, subgradient L1 "
              "{zeros_l1_2}, L2 {zeros_l2_2}: only soft-thresholding puts weights on 0.0; "
              "subgradient L1's tiny weights rattle round 0 ({flipped} of them flip sign in "
              "the last epoch). Whether that makes the model compressible is another question, "
              "which the pruning numbers answer: with {pct} of the weights deleted the "
              "unpenalised net keeps {pruned0_1} test accuracy; ").format(
                lam=lam, zeros_l1_prox_1=zeros['l1_prox'].fmt('.1%'),
                zeros_l1_2=zeros['l1'].fmt('.2%'), zeros_l2_2=zeros['l2'].fmt('.2%'),
                flipped=flipped.fmt('.0%'), pct=pct, pruned0_1=pruned0.fmt('.1%')) + "; ".join(
                _("{labels_k} at λ = {lam_k:g} keeps {v_1}").format(
                    labels_k=_(LABELS[k]), lam_k=lam_k, v_1=v.fmt('.1%')) for (k, lam_k), v in
                pruned.items()) + _(". Subgradient L1 {verdict_of_l1} make the model "
                                    "compressible ({tallies_l1}), proximal L1 "
                                    "{verdict_of_l1_prox} ({tallies_l1_prox}). {rule}").format(
                                      verdict_of_l1=verdict_of['l1'], tallies_l1=tallies['l1'],
                                      verdict_of_l1_prox=verdict_of['l1_prox'],
                                      tallies_l1_prox=tallies['l1_prox'], rule=rule))
        return sentence

    def corrections(self, results):
        none, by_lam = self._by_lam(results)
        lam = shown_lam(by_lam)
        by = by_lam[lam]
        zeros = mean_spread(values(by["l1_prox"], "exact_zero"))
        dead = mean_spread(values(by["l1_prox"], "dead_inputs"))
        const = mean_spread(values(by["l1_prox"], "constant_pixels"))
        norm_l2 = mean_spread(values(by["l2"], "weight_norm"))
        norm_none = mean_spread(values(none, "weight_norm"))
        l2_zero = mean_spread(values(by["l2"], "exact_zero"))
        acc = mean_spread(values(by["l1_prox"], "test_acc"))
        pruned = mean_spread(values(by["l1_prox"], "pruned_acc"))
        return [Correction(
            "R1", "000 Q5/Q6",
            _("L1 'compresses' the model by reducing the influence of unneeded features; W "
              "becomes sparse, and that is what reduces the features' influence."),
            _("Loose on both counts. Sparsity is about connections, not features: L1 zeroes "
              "single weights, and an input only drops out when every one of its outgoing "
              "weights is 0, which is rarer. Compressing means those zero weights can be "
              "deleted without changing the outputs. Reducing influence is not what makes the "
              "zeros either: L2 also shrinks every weight's influence and leaves no zeros. The "
              "zeros come from the kink of |w| at 0, applied by soft-thresholding."),
            _("proximal L1 (λ={lam:g}): {zeros_1} of weights exactly 0, but only {dead_1} of "
              "the 64 input pixels lose all their weights (the training set has {const:.1f} "
              "constant pixels); test accuracy {acc_1} before and {pruned_1} after deleting "
              "them. L2: ‖W‖ {norm_l2} vs {norm_none} without a penalty, exact zeros "
              "{l2_zero_1}.").format(
                lam=lam, zeros_1=zeros.fmt('.1%'), dead_1=dead.fmt('.1%'), const=const.mean,
                acc_1=acc.fmt('.1%'), pruned_1=pruned.fmt('.1%'), norm_l2=norm_l2,
                norm_none=norm_none, l2_zero_1=l2_zero.fmt('.1%')),
            so_what=_("Compression means deleting weights without losing accuracy, and it "
                      "needs small weights, not exact zeros: L1 by either step makes most "
                      "weights small enough to delete; the proximal step also sets them to "
                      "exactly 0, so the zeros are visible without a pruning pass."))]

    # -- figures ----------------------------------------------------------------------------------
    def figures(self, results):
        none, by_lam = self._by_lam(results)
        lam = shown_lam(by_lam)
        pairs = self.matched_pairs(by_lam)

        prune = Figure(figsize=(7.2, 3.8))
        ax = prune.subplots()
        xs = [0.0, *PRUNE_FRACTIONS]
        curves = [("none", none, _(LABELS["none"]))]
        if pairs:
            ls, lp = pairs[-1]
            curves += [("l1", self._at(by_lam, ls)["l1"], f"{_(LABELS['l1'])}, λ = {ls:g}"),
                       ("l1_prox", self._at(by_lam, lp)["l1_prox"],
                        _("{label}, λ = {lam:g} (matched)").format(label=_(LABELS['l1_prox']), lam=lp)),
                       ("l2", self._at(by_lam, ls)["l2"], f"L2, λ = {ls:g}")]
        for key, rs, label in curves:
            accs = np.array([[r.result["magnitude_pruned_acc"][str(f)] for f in PRUNE_FRACTIONS]
                             for r in rs])
            ys = np.column_stack([values(rs, "test_acc"), accs])
            ax.errorbar(xs, ys.mean(axis=0), yerr=ys.std(axis=0, ddof=1) if len(rs) > 1 else None,
                        marker="o", capsize=3, color=COLOURS[key], label=label)
        ax.axvline(PRUNED, color="k", ls=":", lw=1)
        ax.set(title=_("Test accuracy after magnitude pruning (mean ± std over seeds)"),
               xlabel=_("fraction of weights set to 0 (smallest |w| first)"), ylabel=_("test "
                                                                                    "accuracy"))
        ax.legend(fontsize=9, loc="lower left")
        prune.tight_layout()

        fig1 = self._weights_figure(none, by_lam, lam)
        return [
            (_("Pruning decides the compression half: deleting the smallest weights of the "
               "subgradient-L1 and (matched-strength) proximal-L1 nets costs far less accuracy "
               "than deleting those of the unpenalised or L2 nets. Dotted: the 90% the verdict "
               "tests."), prune),
            (_("Top: where the weights' magnitudes end up (seed 0); the bars at the far left "
               "are the fraction exactly 0. Only proximal L1 (red) puts a large share at 0.0; "
               "subgradient L1 (orange) piles weights up near 0 without reaching it; L2 (blue) "
               "shifts the whole distribution left. Bottom: the same against λ (the same λ is "
               "not the same strength: see the rule)."), fig1),
        ]

    @staticmethod
    def _weights_figure(none, by_lam, lam):
        """The |w| histogram at one λ, and exact zeros against λ."""
        fig1 = Figure(figsize=(7.2, 6.6))
        ax1, ax2 = fig1.subplots(2, 1)
        edges = np.linspace(*HIST_RANGE, HIST_BINS + 1)
        centres = (edges[:-1] + edges[1:]) / 2
        zero_at = HIST_RANGE[0] - 1.0  # where the "exactly 0" bar is drawn
        runs = {"none": none, **by_lam[lam]}
        for i, key in enumerate(("none", "l2", "l1", "l1_prox")):
            r = runs[key][0].result
            frac = np.array(r["log_abs_hist"]) / r["n_weights"]
            ax1.step(centres, frac, where="mid", color=COLOURS[key], label=_(LABELS[key]))
            if r["exact_zero"] > 0:
                ax1.bar(zero_at + (i - 1.5) * 0.25, r["exact_zero"], width=0.25,
                        color=COLOURS[key])
        ax1.axvline(np.log10(SPARSITY_EPS), color="k", ls=":", lw=1)
        ax1.set_xticks([zero_at, -6, -4, -2, 0], ["w=0", "-6", "-4", "-2", "0"])
        ax1.set(title=_("|w| after training, λ = {lam:g} (seed 0)").format(lam=lam), xlabel=_("log10 |w|"),
                ylabel=_("fraction of weights"), yscale="log", ylim=(3e-4, 1.5))
        ax1.legend(fontsize=9, loc="upper center", ncol=2)
        lams = list(by_lam)
        for key in ("l2", "l1", "l1_prox"):
            z = [mean_spread(values(by_lam[v][key], "exact_zero")) for v in lams]
            ax2.errorbar(lams, [s.mean for s in z], yerr=[s.std for s in z], marker="o",
                         color=COLOURS[key], label=_("{labels_key}: exactly 0").format(
                                                       labels_key=_(LABELS[key])))
            n = [mean_spread(values(by_lam[v][key], "near_zero")).mean for v in lams]
            ax2.plot(lams, n, ls="--", color=COLOURS[key], alpha=0.7)
        ax2.set(title=_("w = 0 (solid), |w| < 1e-3 (dashed)"), xlabel="λ", xscale="log",
                ylabel=_("fraction of weights"), ylim=(-0.02, 1.0))
        ax2.legend(fontsize=9)
        fig1.tight_layout()
        return fig1


EXPERIMENT = L1Sparsity()
