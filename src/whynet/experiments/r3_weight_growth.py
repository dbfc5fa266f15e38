"""R3 — do the weights grow the longer you train?

Note 000 (Q8) asks why w keeps growing as training goes on, and answers "because the feature is
influential". The better answer (Soudry et al. 2018): on linearly separable data the
cross-entropy never reaches its minimum: every example is already right, yet scaling w up makes
every margin y·wᵀx larger and the loss smaller, so gradient descent keeps scaling. ‖w‖ grows like
ln t / γ* (γ* the best achievable margin) while the direction of w turns towards the max-margin
separator. An L2 penalty puts a finite minimum back and ‖w‖ levels off; so does making the classes
overlap by flipping a few labels — the same features, just as "influential", and no growth.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from scipy.optimize import minimize_scalar

from ..i18n import N_, _
from .. import datasets
from ..nn import Sequential
from ..nn.layers import Dense
from ..nn.regularizers import L2
from ..optim import SGD
from ..train import Trainer
from .base import (Correction, Experiment, Published, Row, Tally, Verdict, combine, group,
                   mean_spread, outcome, tally, values)

MARGIN = 0.5  # points closer than this to the line x1 + x2 = 0 are dropped: separable, γ* ≥ 0.5
FLIPPED = 10  # labels flipped in the "overlapping" variant (5% of 200)
PLATEAU = 0.01  # "levelled off": ‖w‖ changes by < 1% over the last decade of steps
LN10 = math.log(10)


def two_gaussians(seed: int, flip: int = 0):
    """Playground's two Gaussians (centres ±(2, 2), variance 0.5), made exactly separable by the
    line x1 + x2 = 0 with margin ≥ ``MARGIN``; optionally with ``flip`` labels flipped."""
    data = datasets.gaussian(n=200, noise=0.0, seed=seed)
    s = 2 * data.y - 1
    keep = s * (data.X[:, 0] + data.X[:, 1]) / math.sqrt(2) >= MARGIN
    X, y = data.X[keep], data.y[keep].copy()
    if flip:
        idx = np.random.default_rng(seed + 1).choice(len(y), flip, replace=False)
        y[idx] = 1 - y[idx]
    return X, y


def margins(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Signed distances y·wᵀx/‖w‖ of every point to the line wᵀx = 0 (y in ±1)."""
    return (2 * y - 1) * (X.astype(np.float64) @ w) / np.linalg.norm(w)


def max_margin_direction(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """The unit vector u maximising min_i y_i·uᵀx_i (the hard-margin SVM through the origin, in 2-D
    a search over one angle) and that margin γ*."""
    def neg_margin(theta):
        return -margins(np.array([math.cos(theta), math.sin(theta)]), X, y).min()

    thetas = np.linspace(-math.pi, math.pi, 3601)
    best = thetas[np.argmin([neg_margin(t) for t in thetas])]
    step = thetas[1] - thetas[0]
    res = minimize_scalar(neg_margin, bounds=(best - step, best + step), method="bounded",
                          options={"xatol": 1e-10})
    return np.array([math.cos(res.x), math.sin(res.x)]), float(-res.fun)


class WeightGrowth(Experiment):
    id = "r3"
    questions = ("R3",)
    title = N_("Weight norm on separable data")
    question = (N_("Do the weights keep growing as training goes on, and why: separable data "
                "under cross-entropy, or influential features?"))
    what = (N_("Logistic regression without a bias, z = wᵀx, trained by full-batch gradient descent "
            "(lr 1) on binary cross-entropy, from w = 0. Data: Playground's two Gaussians "
            "(200 points, centres ±(2, 2)), minus the few points within 0.5 of the line "
            "x1 + x2 = 0, so they are separable through the origin; then the same points with an "
            "L2 penalty λ = 0.01, and the same points with 10 labels flipped so that the classes "
            "overlap (no penalty). At log-spaced steps we record ‖w‖, the loss, the smallest "
            "margin min y·wᵀx/‖w‖ and the angle between w and the max-margin direction "
            "(the hard-margin SVM through the origin, found by a search over angles). Soudry et "
            "al. (2018) predict ‖w‖ ≈ ln t / γ* on separable data: a rise of ln 10 / γ* per "
            "decade of steps."))
    seeds_quick = 3
    seeds_full = 10
    version = 1

    def grid(self, quick: bool) -> list[dict]:
        steps = 3000 if quick else 30_000
        return [{"data": "separable", "l2": 0.0, "steps": steps},
                {"data": "separable", "l2": 0.01, "steps": steps},
                {"data": "overlapping", "l2": 0.0, "steps": steps}]

    def run(self, spec: dict, seed: int) -> dict:
        X, y = two_gaussians(seed, flip=FLIPPED if spec["data"] == "overlapping" else 0)
        model = Sequential(Dense(2, 1, bias=False, init="zeros"))
        W = model[0].W
        reg = L2(spec["l2"]) if spec["l2"] else None
        trainer = Trainer(model, "bce", SGD(model.parameters(), lr=1.0), regularizer=reg)
        u, gamma = max_margin_direction(X, y)
        T = spec["steps"]
        record = set(np.geomspace(1, T, 120).astype(int).tolist()) | {T // 100, T // 10, T}
        steps, norms, losses, margin, angle = [], [], [], [], []
        for step in range(1, spec["steps"] + 1):
            loss = trainer.train_step(X, y)
            if step in record:
                w = W.value[0].astype(np.float64)
                steps.append(step)
                norms.append(float(np.linalg.norm(w)))
                losses.append(loss)
                margin.append(float(margins(w, X, y).min()))
                cos = float(w @ u / np.linalg.norm(w))
                angle.append(math.degrees(math.acos(min(1.0, cos))))
        at = dict(zip(steps, norms))
        last = at[T] - at[T // 10]
        previous = at[T // 10] - at[T // 100]
        return {"steps": steps, "norm": norms, "loss": losses, "margin": margin, "angle": angle,
                "gamma_star": gamma, "predicted_per_decade": LN10 / gamma,
                "per_decade_last": last, "per_decade_previous": previous,
                "relative_change_last": last / at[T], "final_norm": at[T],
                "final_loss": losses[-1], "final_margin": margin[-1], "final_angle": angle[-1],
                "n": int(len(y))}

    def _parts(self, results):
        by = group(results, ("data", "l2"))
        return (by[("separable", 0.0)], next(v for k, v in by.items() if k[0] == "separable"
                                             and k[1] > 0), by[("overlapping", 0.0)])

    @staticmethod
    def grows(r: dict) -> bool:
        """Still growing over the last decade of steps: by more than 10·PLATEAU of ‖w‖."""
        return r["relative_change_last"] > 10 * PLATEAU

    def verdicts(self, results):
        free, l2, overlap = self._parts(results)
        T = free[0].spec["steps"]
        lam = l2[0].spec["l2"]
        # On separable data growth must also look like Soudry et al.'s ln t: more than a quarter
        # of ln 10/γ* per decade, at a rate within 2× of the decade before.
        sep = tally(self.grows(f.result)
                    and f.result["per_decade_last"] > 0.25 * f.result["predicted_per_decade"]
                    and 0.5 < f.result["per_decade_last"] / f.result["per_decade_previous"] < 2
                    for f in free)
        conditions = {_("separable, no penalty"): (free, sep),
                      _("separable, L2 λ = {lam:g}").format(lam=lam):
                          (l2, tally(self.grows(r.result) for r in l2)),
                      _("{flipped} labels flipped, no penalty").format(flipped=FLIPPED):
                          (overlap, tally(self.grows(r.result) for r in overlap))}
        status = combine(t.status for _, t in conditions.values())
        agree = Tally(status, sum(t.agree for _, t in conditions.values()),
                      sum(t.n for _, t in conditions.values()))
        rows = [Row(name, {_("‖w‖ at step {t}").format(t=T): mean_spread(values(runs, "final_norm")),
                           _("rise over the last decade"): mean_spread(values(runs,
                                                                           "per_decade_last")),
                           _("relative change, last decade"): mean_spread(
                               values(runs, "relative_change_last")),
                           _("still growing"): outcome(t.status, t)})
                for name, (runs, t) in conditions.items()]
        rise = mean_spread(values(free, "per_decade_last"))
        pred = mean_spread(values(free, "predicted_per_decade"))
        numbers = {
            f"‖w‖ at step {T}, separable": mean_spread(values(free, "final_norm")),
            f"rise of ‖w‖ over steps {T // 10}–{T}, separable": rise,
            "predicted rise per decade ln 10 / γ*": pred,
            f"‖w‖ at step {T}, separable + L2": mean_spread(values(l2, "final_norm")),
            "relative change over the last decade, L2": mean_spread(
                values(l2, "relative_change_last")),
            f"‖w‖ at step {T}, overlapping": mean_spread(values(overlap, "final_norm")),
            "relative change over the last decade, overlapping": mean_spread(
                values(overlap, "relative_change_last")),
            "angle to the max-margin direction at the end (degrees)": mean_spread(
                values(free, "final_angle")),
        }
        growing = [n for n, (_, t) in conditions.items() if t.status == "holds"]
        flat = [n for n, (_, t) in conditions.items() if t.status == "fails"]
        answer = self._answer_text(status)
        rule = (_("Per condition, ‖w‖ still grows when, in every seed, it rises by more than "
                  "{v10_plateau:.0%} over the last decade of steps (on separable data also by "
                  "more than a quarter of ln 10/γ* and within 2× of the decade before: "
                  "logarithmic); grows in some conditions and not others → depends on the "
                  "data's separability and the penalty.").format(v10_plateau=10 * PLATEAU))
        sentence = self._sentence(rule, T, rise, pred, lam, numbers, growing, flat, free)
        return [Verdict("R3", status, sentence, numbers, answer=answer, evidence=rows, rule=rule,
                        depends_on=(_("data separability"), _("penalty")) if status == "depends"
                        else (), agree=agree)]

    @staticmethod
    def _answer_text(status):
        """The one-line answer: where ‖w‖ kept growing."""
        if status == "depends":
            answer = (_("Only on separable data without a penalty (like ln t). With an L2 "
                        "penalty, or with {flipped} labels flipped so the classes overlap, ‖w‖ "
                        "levels off.").format(flipped=FLIPPED))
        elif status == "holds":
            answer = _("Yes, in every condition measured, even with a penalty or overlapping "
                       "classes.")
        elif status == "fails":
            answer = _("No: ‖w‖ levelled off in every condition measured, separable data "
                       "included.")
        else:
            answer = _("Unclear: the seeds disagree in some condition (see the evidence).")
        return answer

    @staticmethod
    def _sentence(rule, T, rise, pred, lam, numbers, growing, flat, free):
        """The long form: the growth per condition against the predicted rate."""
        sentence = (
            _("On separable data without a penalty ‖w‖ is still rising at step {t}: by {rise} "
              "over the last decade of steps (the asymptote of Soudry et al., ln 10 / γ*, is "
              "{pred}), while the loss goes to {mean_spread_values_free} and w turns to within "
              "{numbers_angle_to_the_max_margin_direction_at_the_end_degrees}° of the "
              "max-margin direction. With L2 (λ = {lam:g}) it levels off at "
              "{numbers_w_at_step_t} and with {flipped} flipped labels at "
              "{numbers_w_at_step_t_2} (changes over the last decade "
              "{numbers_relative_change_over_the_last_decade_l2_1e} and "
              "{numbers_relative_change_over_the_last_decade_overlapping_1e} of ‖w‖). Growth: "
              "{join_growing_none}; levelled off: {join_flat_none}. ").format(
                t=T, rise=rise, pred=pred,
                mean_spread_values_free=mean_spread(values(free, 'final_loss')).fmt('.2g'),
                numbers_angle_to_the_max_margin_direction_at_the_end_degrees=numbers['angle to the max-margin direction at the end (degrees)'].fmt('.2f'),
                lam=lam, numbers_w_at_step_t=numbers[f'‖w‖ at step {T}, separable + L2'],
                flipped=FLIPPED, numbers_w_at_step_t_2=numbers[f'‖w‖ at step {T}, overlapping'],
                numbers_relative_change_over_the_last_decade_l2_1e=numbers['relative change over the last decade, L2'].fmt('.1e'),
                numbers_relative_change_over_the_last_decade_overlapping_1e=numbers['relative change over the last decade, overlapping'].fmt('.1e'),
                join_growing_none=', '.join(growing) or _('none'),
                join_flat_none=', '.join(flat) or _('none'))
            + rule)
        return sentence

    def corrections(self, results):
        free, l2, overlap = self._parts(results)
        T = free[0].spec["steps"]
        return [Correction(
            "R3", "000 Q8",
            _("w grows the longer the network trains because the feature is influential: the w "
              "of influential features gets large."),
            _("The growth comes from the loss, not from the features: on separable data the "
              "cross-entropy keeps rewarding larger margins, so ‖w‖ grows without bound (like "
              "ln t) unless a penalty stops it. Flipping one label in twenty leaves every feature "
              "as informative as before, yet ‖w‖ stops growing."),
            _("‖w‖ at step {t}: separable {mean_spread_values_free}, still rising "
              "{mean_spread_values_free_2} per decade; same points with 10 labels flipped "
              "{mean_spread_values_overlap} (flat, relative change "
              "{mean_spread_values_overlap_2}); separable with L2 λ = {l2_spec:g} "
              "{mean_spread_values_l2}.").format(
                t=T, mean_spread_values_free=mean_spread(values(free, 'final_norm')),
                mean_spread_values_free_2=mean_spread(values(free, 'per_decade_last')),
                mean_spread_values_overlap=mean_spread(values(overlap, 'final_norm')),
                mean_spread_values_overlap_2=mean_spread(values(overlap, 'relative_change_last')).fmt('.1e'),
                l2_spec=l2[0].spec['l2'],
                mean_spread_values_l2=mean_spread(values(l2, 'final_norm'))),
            so_what=_("Large weights are a sign of separable data and an unpenalised loss, not "
                      "of important features; a small L2 penalty (or early stopping) bounds "
                      "them."))]

    def published(self, results):
        free = self._parts(results)[0]
        T = free[0].spec["steps"]
        return [Published(
            "R3", _("Soudry, Hoffer, Nacson, Gunasekar & Srebro 2018, JMLR 19(70), Theorem 3"),
            _("on separable data, gradient descent on the logistic loss gives w(t) = ŵ·ln t + "
              "O(1) with ŵ the hard-margin SVM solution (‖ŵ‖ = 1/γ*): ‖w‖ rises by ln 10/γ* "
              "per decade and its direction converges to the max-margin one, slowly (as 1/ln t)"),
            _("rise over steps {t_10}–{t}: {mean_spread_values_free} vs ln 10/γ* = "
              "{mean_spread_values_free_2}; angle to the SVM direction "
              "{mean_spread_values_free_3}° at step {t}").format(
                t_10=T // 10, t=T,
                mean_spread_values_free=mean_spread(values(free, 'per_decade_last')),
                mean_spread_values_free_2=mean_spread(values(free, 'predicted_per_decade')),
                mean_spread_values_free_3=mean_spread(values(free, 'final_angle')).fmt('.2f')),
            _("Same setting (linear model without bias, full-batch GD, small enough step). The "
              "rise approaches ln 10/γ* from below because the O(1) term is still settling at "
              "these step counts."))]

    def figures(self, results):
        free, l2, overlap = self._parts(results)
        fig = Figure(figsize=(7.2, 6.4))
        ax1, ax2 = fig.subplots(2, 1)
        runs = ((free, "tab:red", _("separable")),
                (l2, "tab:blue", _("separable, L2 λ = {lam:g}").format(lam=l2[0].spec['l2'])),
                (overlap, "tab:green", _("10 labels flipped")))
        for rs, colour, label in runs:
            for i, r in enumerate(rs):
                ax1.plot(r.result["steps"], r.result["norm"], color=colour, alpha=0.8,
                         label=label if i == 0 else None)
        r0 = free[0].result
        t = np.array(r0["steps"], dtype=float)
        T = t[-1]
        end = r0["norm"][-1] + 0.3
        ax1.plot([T / 10, T], [end - r0["predicted_per_decade"], end], "k:", lw=1.5,
                 label=_("slope ln 10/γ* per decade"))
        ax1.set(xscale="log", title=_("‖w‖ over training"), xlabel=_("step (log scale)"), ylabel="‖w‖")
        ax1.legend(fontsize=9)
        for i, r in enumerate(free):
            ax2.plot(r.result["steps"], r.result["angle"], color="tab:red",
                     label=_("separable") if i == 0 else None)
        ax2.set(xscale="log", title=_("Angle of w to the max-margin direction"),
                xlabel=_("step (log scale)"), ylabel=_("degrees"))
        ax2.legend(fontsize=9)
        fig.tight_layout()
        return [(_("Top: on separable data (red) ‖w‖ rises by a constant amount per decade of "
                   "steps — close to a straight line on a log axis, approaching from below the "
                   "slope ln 10/γ* that Soudry et al. predict (dotted, seed 0) — while with L2 "
                   "(blue) or with a few labels flipped (green) it flattens. Bottom: the "
                   "growing w turns slowly (as 1/ln t) towards the max-margin separator; where "
                   "other points sit almost as close to the boundary as the support vectors, "
                   "the turn takes far longer than this run."), fig)]


EXPERIMENT = WeightGrowth()
