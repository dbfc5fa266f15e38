"""N1 — back-propagation through time makes an RNN's gradients vanish (or explode) over time steps.

Note 003 names two causes of vanishing and exploding gradients: the activation function of a deep
net, and "a different kind of back-propagation, BPTT" in recurrent nets. In a vanilla RNN,
``h_t = tanh(x_t W_xhᵀ + h_{t−1} W_hhᵀ + b)``, the gradient that reaches h_t from a loss at the
last step T is

    ∂L/∂h_t = ∂L/∂h_T · ∏_{s = T, T−1, …, t+1} diag(tanh′(z_s)) W_hh    (row vectors),

one factor per step back. Where the units are not saturated (tanh′ ≈ 1) the product grows or
shrinks like ρᵀ⁻ᵗ, with ρ the spectral radius of W_hh (Bengio, Simard & Frasconi 1994; Pascanu,
Mikolov & Bengio 2013): it vanishes geometrically when ρ < 1 and can explode when ρ > 1. We
measure ‖∂L/∂h_t‖ for every t (``RNN.grad_h``) for a tanh RNN reading MNIST-1D one point per step
and classifying the signal from h_T, at PyTorch's initialisation and with W_hh rescaled to chosen
spectral radii, and after a short training.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from ..datasets import mnist1d
from ..nn import RNN, Dense, LastStep, Sequential
from ..nn.losses import SoftmaxCrossEntropy
from ..random import make_rng, spawn
from ..train import fit
from .base import (Experiment, Published, Row, Tally, Verdict, combine, group, mean_spread,
                   outcome, tally)

VANISHED = 1e-2   # ‖∂L/∂h_1‖ below 1/100 of ‖∂L/∂h_T‖
EXPLODED = 1e2    # ‖∂L/∂h_1‖ above 100× ‖∂L/∂h_T‖
STANDARD = "standard"  # PyTorch's U(±1/√H) for W_hh, not rescaled


@lru_cache(maxsize=2)
def _sequences():
    """MNIST-1D (data seed 0) as sequences of 40 one-dimensional steps: (m, 40, 1)."""
    sp = mnist1d(seed=0)
    return sp.train.X[:, :, None], sp.train.y


def spectral_radius(W: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(W, dtype=np.float64)))))


def build(hidden: int, radius, seed: int) -> tuple[Sequential, RNN]:
    """``RNN(1 → H, tanh) → LastStep → Dense(H → 10)`` in float64; W_hh scaled to spectral radius
    ``radius`` unless it is ``"standard"``."""
    r1, r2 = spawn(make_rng(seed), 2)
    rnn = RNN(1, hidden, rng=r1, dtype=np.float64)
    if radius != STANDARD:
        rnn.W_hh.value *= radius / spectral_radius(rnn.W_hh.value)
    return Sequential(rnn, LastStep(), Dense(hidden, 10, rng=r2, dtype=np.float64)), rnn


def gradient_profile(model: Sequential, rnn: RNN, X, y) -> dict:
    """One forward and backward pass; ``g[t]`` = mean over examples of ‖∂L/∂h_t‖ (t = 1…T)."""
    loss_fn = SoftmaxCrossEntropy()
    model.zero_grad()
    loss_fn.forward(model.forward(X), y)
    model.backward(loss_fn.backward())
    g = np.linalg.norm(rnn.grad_h, axis=2).mean(axis=0)
    h = rnn.forward(X)  # the states again, for the saturation and tanh′ statistics
    model.zero_grad()
    steps = len(g)
    ratio = float(g[0] / g[-1])
    return {"g": (g / g[-1]).tolist(), "ratio": ratio,
            # geometric mean of g_t / g_{t+1}: the factor applied per step back
            "per_step": float(ratio ** (1 / (steps - 1))),
            "radius": spectral_radius(rnn.W_hh.value),
            "mean_fprime": float(np.mean(1 - h * h)),
            "saturated": float(np.mean(np.abs(h) > 0.97))}


class BackpropThroughTime(Experiment):
    id = "n1"
    questions = ("N1",)
    title = N_("Gradients through time in an RNN")
    question = (N_("Does back-propagation through time make the gradient reaching early time steps "
                "of a tanh RNN vanish — and how does that depend on the recurrent weights?"))
    what = (N_("A tanh RNN with 32 hidden units reads MNIST-1D signals one point per step (T = 40) "
            "and a Dense layer classifies them from the last state h_T (softmax cross-entropy), "
            "in float64. On a batch of 256 training signals we back-propagate once and record "
            "‖∂L/∂h_t‖ for every t (mean over examples), at PyTorch's initialisation "
            "U(±1/√32) (spectral radius ρ ≈ 0.6) and with W_hh rescaled to spectral radii ρ "
            "from 0.5 to 3 (the full grid: 0.5 to 5); then once more after training the "
            "standard-init net by Adam (lr 1e-2, gradients clipped to norm 1). Vanished: "
            "‖∂L/∂h_1‖ < 1/100 of ‖∂L/∂h_T‖; exploded: > 100×."))
    seeds_quick = 3
    seeds_full = 10

    def grid(self, quick: bool) -> list[dict]:
        radii = [STANDARD, 0.5, 1.0, 1.5, 3.0] if quick else [STANDARD, 0.5, 0.9, 1.0, 1.2,
                                                              1.5, 2.0, 3.0, 5.0]
        init = [{"part": "init", "radius": r, "hidden": 32, "batch": 256} for r in radii]
        n, epochs = (1000, 5) if quick else (4000, 20)
        trained = [{"part": "trained", "radius": STANDARD, "hidden": 32, "batch": 256,
                    "n_train": n, "epochs": epochs}]
        return init + trained

    def run(self, spec: dict, seed: int) -> dict:
        X, y = _sequences()
        model, rnn = build(spec["hidden"], spec["radius"], seed)
        rows = make_rng(seed).choice(len(X), spec["batch"], replace=False)
        before = gradient_profile(model, rnn, X[rows], y[rows])
        if spec["part"] == "init":
            return before
        history = fit(model, X[:spec["n_train"]], y[:spec["n_train"]], loss="softmax_ce",
                      optimizer="adam", lr=1e-2, epochs=spec["epochs"], batch_size=100,
                      seed=seed, clip_norm=1.0, progress=False)
        after = gradient_profile(model, rnn, X[rows], y[rows])
        return {**after, "before": before, "final_loss": history.epochs["loss"][-1],
                "train_acc": history.epochs["acc"][-1]}

    def verdicts(self, results):
        init = [r for r in results if r.spec["part"] == "init"]
        by = group(init, "radius")
        statuses, numbers, parts, tallies, rows = [], {}, [], [], []
        kinds: dict[str, list[str]] = {N_("vanishes"): [], N_("explodes"): [], N_("neither"): []}
        steps_by_rho = []
        self._per_radius(by, numbers, statuses, tallies, steps_by_rho, parts, rows, kinds)
        steps_by_rho.sort()
        (rho_lo, step_lo), (rho_hi, step_hi) = steps_by_rho[0], steps_by_rho[-1]
        summary = "; ".join(_("{kind} for {radii}").format(kind=_(kind), radii=", ".join(labels))
                            for kind, labels in kinds.items() if labels)
        trained = [r for r in results if r.spec["part"] == "trained"]
        tail = ""
        if trained:
            rho_t = mean_spread([r.result["radius"] for r in trained])
            ratio_t = mean_spread([r.result["ratio"] for r in trained])
            numbers["after training: spectral radius ρ"] = rho_t
            sat_t = mean_spread([r.result["saturated"] for r in trained])
            numbers["after training: ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖"] = ratio_t
            numbers["after training: saturated hidden values (|h| > 0.97)"] = sat_t
            tail = (_(" After {trained_spec_epochs} epochs of training, the standard-init net "
                      "has ρ = {rho_t}, {sat_t} of its hidden values saturated and a ratio of "
                      "{ratio_t}.").format(
                        trained_spec_epochs=trained[0].spec['epochs'], rho_t=rho_t,
                        sat_t=sat_t.fmt('.0%'), ratio_t=ratio_t))
        status = combine(statuses)
        verdict_note = {"depends": _(": whether it vanishes depends on the recurrent weights"),
                        "holds": _(": it vanishes in every setting measured"),
                        "fails": _(": it vanishes in none of the settings measured"),
                        "inconclusive": _(" (seeds disagree in some setting)")}
        steps = len(init[0].result["g"]) if init else 0
        sentence = self._sentence(tail, parts, summary, step_lo, rho_lo, step_hi, rho_hi, steps, verdict_note, status)
        if trained:
            rows.append(Row(_("standard init, after training"), {
                "‖∂L/∂h_1‖ / ‖∂L/∂h_T‖": ratio_t, _("spectral radius ρ"): rho_t}))
        rule = (_("Per spectral radius, the gradient vanishes when, in every seed, ‖∂L/∂h_1‖ / "
                  "‖∂L/∂h_T‖ is below {vanished:g} (explodes: above {exploded:g}); vanishes "
                  "for some radii and not others → depends on the recurrent weights.").format(
                    vanished=VANISHED, exploded=EXPLODED))
        agree = Tally(status, sum(t.agree for t in tallies), sum(t.n for t in tallies))
        answer = (_("It depends on the recurrent weights: the gradient vanishes for "
                    "{join_kinds_vanishes}").format(
                      join_kinds_vanishes=', '.join(kinds['vanishes']) or _('none'))
                  + (_(", explodes for {join_kinds_explodes}").format(
                         join_kinds_explodes=', '.join(kinds['explodes'])) if kinds["explodes"] else "")
                  + "." if status == "depends" else
                  {"holds": _("Yes: it vanished at every spectral radius measured."),
                   "fails": _("No: it vanished at none of the spectral radii measured."),
                   "inconclusive": _("Unclear: seeds disagree at some spectral radius.")}[status])
        return [Verdict("N1", status, sentence, numbers, answer=answer, evidence=rows, rule=rule,
                        depends_on=(_("recurrent spectral radius ρ"),) if status == "depends" else (),
                        agree=agree)]

    @staticmethod
    def _per_radius(by, numbers, statuses, tallies, steps_by_rho, parts, rows, kinds):
        """Per spectral radius: status, numbers, sentence part, tally and rows (appended)."""
        for radius, runs in by.items():
            ratios = [r.result["ratio"] for r in runs]
            t = tally(q < VANISHED for q in ratios)
            statuses.append(t.status)
            tallies.append(t)
            rho = mean_spread([r.result["radius"] for r in runs])
            label = (_("standard init (ρ = {rho:.2f})").format(rho=rho.mean) if radius == STANDARD
                     else f"ρ = {radius:g}")
            ratio = mean_spread(ratios)
            step = mean_spread([r.result["per_step"] for r in runs])
            numbers[f"{label}: ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖"] = ratio
            numbers[f"{label}: factor per step back"] = step
            kind = ("vanishes" if all(q < VANISHED for q in ratios) else
                    "explodes" if all(q > EXPLODED for q in ratios) else "neither")
            kinds[kind].append(label)
            steps_by_rho.append((rho.mean, step.mean))
            parts.append(_("{label}: {ratio} (×{step:.2f} per step)").format(
                             label=label, ratio=ratio, step=step.mean))
            rows.append(Row(label, {"‖∂L/∂h_1‖ / ‖∂L/∂h_T‖": ratio, _("factor per step back"): step,
                                    _("vanishes (< {vanished:g})").format(vanished=VANISHED): outcome(t.status, t)}))

    @staticmethod
    def _sentence(tail, parts, summary, step_lo, rho_lo, step_hi, rho_hi, steps, verdict_note, status):
        """The long form: the gradient ratio per spectral radius, and the trained nets."""
        sentence = (_("‖∂L/∂h_1‖ / ‖∂L/∂h_{steps}‖ in a tanh RNN with the loss at the last of "
                      "{steps} steps: ").format(steps=steps) + "; ".join(parts) + _(". So the gradient "
                                                              "{summary}{verdict_note_status}. "
                                                              "The factor per step back is "
                                                              "close to ρ where the units are "
                                                              "unsaturated (×{step_lo:.2f} at "
                                                              "ρ = {rho_lo:.2f}) and below it "
                                                              "where tanh saturates "
                                                              "(×{step_hi:.2f} at ρ = "
                                                              "{rho_hi:.2f}).").format(
                                                                summary=summary,
                                                                verdict_note_status=verdict_note[status],
                                                                step_lo=step_lo, rho_lo=rho_lo,
                                                                step_hi=step_hi, rho_hi=rho_hi)
                    + tail + _(" A setting holds when, in every seed, the ratio is below "
                               "{vanished:g} (exploded: above {exploded:g}).").format(
                                 vanished=VANISHED, exploded=EXPLODED))
        return sentence

    def published(self, results):
        init = [r for r in results if r.spec["part"] == "init"]
        by = group(init, "radius")
        below = [k for k in by if k != STANDARD and k < 1]
        above = [k for k in by if k != STANDARD and k > 1]
        show = []
        for k in (min(below) if below else None, max(above) if above else None):
            if k is not None:
                show.append(f"ρ = {k:g}: ‖∂L/∂h_1‖/‖∂L/∂h_T‖ = "
                            f"{mean_spread([r.result['ratio'] for r in by[k]])}")
        return [Published(
            "N1", _("Pascanu, Mikolov & Bengio 2013, §2.1 (after Bengio et al. 1994)"),
            _("for tanh units, a largest singular value of W_hh below 1 is sufficient for the "
              "long-term gradient components to vanish, and above 1 is necessary for them to "
              "explode"),
            "; ".join(show),
            _("We rescale the spectral radius (largest |eigenvalue|), not the largest singular "
              "value; for these random matrices the two differ by a factor below 2, and past ρ "
              "≈ 1 the measured ratio grows with ρ even though saturation makes tanh′ < 1."))]

    def figures(self, results):
        init = [r for r in results if r.spec["part"] == "init"]
        by = group(init, "radius")
        fig = Figure(figsize=(7.2, 6.6))
        ax1, ax2 = fig.subplots(2, 1)
        cmap = {k: c for k, c in zip(by, ("black", "tab:blue", "tab:cyan", "tab:green",
                                          "tab:olive", "tab:orange", "tab:red", "tab:purple",
                                          "tab:brown", "tab:pink"))}
        for radius, runs in by.items():
            g = np.exp(np.mean([np.log(r.result["g"]) for r in runs], axis=0))
            label = (_("standard init (ρ = {rho:.2f})").format(
                         rho=np.mean([r.result['radius'] for r in runs]))
                     if radius == STANDARD else f"ρ = {radius:g}")
            ax1.plot(np.arange(1, len(g) + 1), g, color=cmap[radius], lw=2 if radius == STANDARD
                     else 1.2, label=label)
        for r in [q for q in results if q.spec["part"] == "trained"][:1]:
            ax1.plot(np.arange(1, len(r.result["g"]) + 1), r.result["g"], color="black", ls="--",
                     label=_("after training (ρ≈{radius:.2f})").format(radius=r.result['radius']))
        ax1.set(yscale="log", title=_("Gradient reaching h_t (loss at t = T)"), xlabel=_("time "
                                                                                      "step t"),
                ylabel="‖∂L/∂h_t‖ / ‖∂L/∂h_T‖")
        rho = np.array([r.result["radius"] for r in init])
        step = np.array([r.result["per_step"] for r in init])
        ax2.scatter(rho, step, s=14, color=[cmap[r.spec["radius"]] for r in init], zorder=3)
        lims = (0, max(rho.max(), step.max(), 1.1) * 1.08)
        grid = np.linspace(*lims, 50)
        ax2.plot(grid, grid, color="grey", ls=":", lw=1, label=_("factor = ρ (linear, "
                                                                 "unsaturated)"))
        ax2.axhline(1, color="grey", lw=0.8)
        ax2.set(xlim=lims, ylim=lims, title=_("Factor per step back vs ρ"),
                xlabel=_("spectral radius ρ of W_hh"), ylabel="(g_1/g_T)^(1/(T−1))")
        # One legend for both panels (same colours), where the right panel is empty.
        handles, labels = ax1.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax2.legend(handles + h2, labels + l2, fontsize=9, loc="upper left")
        fig.tight_layout()
        orders = -np.log10(np.mean([r.result["ratio"] for r in by.get(STANDARD, init)]))
        return [(_("Top: how much of the last step's gradient reaches each earlier hidden "
                   "state (geometric mean over seeds). Straight lines on the log scale are "
                   "geometric decay or growth: below ρ = 1 it vanishes, above it explodes; the "
                   "standard initialisation (black) loses {orders:.0f} orders of magnitude "
                   "over {len_init_g} steps. Bottom: the measured factor per step follows the "
                   "spectral radius (dotted) until tanh saturates.").format(
                     orders=orders, len_init_g=len(init[0].result['g'])), fig)]


EXPERIMENT = BackpropThroughTime()
