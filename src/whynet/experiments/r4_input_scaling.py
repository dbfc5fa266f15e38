"""R4 — regularisation is not normalisation; raw vs min-max vs standardised vs log inputs.

Note 000 (appendix, Q1) asks whether taking logs is "also a regularisation method" and how it
differs from normalising to a standard normal distribution; the group concluded that
regularisation and normalisation had been confused. Note 004 (p37) says normalisation makes the
values "between 0 and 1". Both get measured here. A logistic regression is trained by gradient
descent on one data set under five input preprocessings, each at its best learning rate, and we
count the steps to a target loss next to the condition number of the inputs' second-moment
matrix X̃ᵀX̃/m — the Hessian of a linear least-squares fit, and a bound on the logistic one. A
penalty (L2) is run beside them to show what regularisation changes instead: the objective.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from .. import datasets
from ..nn import Sequential
from ..nn.layers import Dense
from ..nn.losses import BCEWithLogits
from ..nn.regularizers import L2
from ..optim import SGD
from ..train import Trainer
from .base import Correction, Experiment, Row, Verdict, group, mean_spread, tally, values

FEATURES = ("age", "income", "rate", "tiny")
INPUTS = ("raw", "minmax", "standardize", "log", "log+standardize")
LABELS = {"raw": N_("raw"), "minmax": N_("min-max"), "standardize": N_("standardised"),
          "log": "log(1+x)", "log+standardize": N_("log, then standardised")}
"""English in the numbers' names; shown as ``_(LABELS[k])``."""
N = 600
TARGET = 0.40  # the training loss to reach (the best linear fits reach 0.33–0.37)
# Learning rates tried: factor / λ_max(X̃ᵀX̃/m). The logistic loss's Hessian is at most
# ¼·X̃ᵀX̃/m, so 8/λ_max is the largest step that is stable along every direction of that bound.
LR_FACTORS = (2.0, 4.0, 8.0)
WINDOW, STALL = 50, 1e-6  # a run stops when its loss improves by < 1e-6 over 50 steps
L2_LAMBDA = 0.1


def loans(seed: int, n: int = N):
    """A synthetic credit data set with features on very different scales and one skewed one.

    age ~ U(20, 70) years; income ~ log-normal around 30,000 (right-skewed, up to ~10⁵–10⁶);
    rate ~ U(0, 1); tiny ~ U(0, 0.01). The label is drawn from a logistic model of the four
    features, income entering through its log.
    """
    rng = np.random.default_rng(seed)
    age = rng.uniform(20, 70, n)
    income = rng.lognormal(math.log(30_000), 0.8, n)
    rate = rng.uniform(0, 1, n)
    tiny = rng.uniform(0, 0.01, n)
    z = ((age - 45) / 14 + 1.5 * (np.log(income) - math.log(30_000)) / 0.8
         + (rate - 0.5) / 0.29 - (tiny - 0.005) / 0.0029)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-1.5 * z))).astype(np.int64)
    X = np.column_stack([age, income, rate, tiny]).astype(np.float32)
    return datasets.Dataset(X, y, "loans", 2, FEATURES)


def preprocess(data, how: str) -> np.ndarray:
    """The inputs after ``how``, through whynet's scalers (fitted on these examples)."""
    if how == "raw":
        return data.X.copy()
    if how == "minmax":
        return datasets.minmax(data.X)[0]
    if how == "standardize":
        return datasets.standardize(data.X)[0]
    if how == "log":
        return datasets.log_transform(data.X)[0]
    logged = datasets.log_transform(data.X)[0]
    return datasets.standardize(logged)[0]


def second_moment(X: np.ndarray) -> np.ndarray:
    """X̃ᵀX̃/m with X̃ = [X, 1]: the bias is a weight on a constant input, so it belongs in the
    matrix that sets gradient descent's speed."""
    Xt = np.column_stack([X.astype(np.float64), np.ones(len(X))])
    return Xt.T @ Xt / len(Xt)


def steps_to(losses: list[float], target: float) -> int | None:
    """The first step (from 1) whose loss is ≤ target, or None."""
    for i, loss in enumerate(losses):
        if loss <= target:
            return i + 1
    return None


class InputScaling(Experiment):
    id = "r4"
    questions = ("R4",)
    title = N_("Input scaling: raw, min-max, standardised, log")
    question = (N_("How do raw, min-max, standardised and log-transformed inputs change how fast a "
                "model trains, and how does that differ from regularisation?"))
    what = N_("A synthetic credit data set (600 examples): age U(20, 70), income log-normal "
               "around 30,000 (right-skewed), a rate U(0, 1) and a tiny feature U(0, 0.01); "
               "the label comes from a logistic model in which income enters through its log. "
               "Logistic regression (one Dense unit with bias, zero init, binary "
               "cross-entropy), full-batch gradient descent, on the raw inputs, min-max "
               "scaled, standardised, log(1+x), and log then standardised. Each preprocessing "
               "gets the best of the learning rates {join_g_lr_factors}/λ_max(X̃ᵀX̃/m) (quick "
               "grid: 8/λ_max only). The Hessian of the logistic loss is at most ¼·X̃ᵀX̃/m, so "
               "8/λ_max is the largest step that is stable along every direction. A run stops "
               "at the step limit, or once its loss improves by less than {stall:g} over "
               "{window} steps (converged, or stalled). We count the steps to a training loss "
               "of {target}, and measure the condition number κ of X̃ᵀX̃/m (X̃ = [X, 1]) and "
               "each feature's range, mean and std after preprocessing. Beside them, the "
               "standardised inputs with an L2 penalty λ = {l2_lambda}: a change of objective, "
               "not of inputs.")
    what_values = {"join_g_lr_factors": ', '.join((f'{f:g}' for f in LR_FACTORS)), "stall": STALL, "window": WINDOW, "target": TARGET, "l2_lambda": L2_LAMBDA}
    seeds_quick = 3
    seeds_full = 8
    version = 1

    def grid(self, quick: bool) -> list[dict]:
        steps = 5000 if quick else 20_000
        factors = [8.0] if quick else list(LR_FACTORS)
        return ([{"inputs": how, "l2": 0.0, "steps": steps, "lr_factors": factors}
                 for how in INPUTS]
                + [{"inputs": "standardize", "l2": L2_LAMBDA, "steps": steps,
                    "lr_factors": factors}])

    def run(self, spec: dict, seed: int) -> dict:
        data = loans(seed)
        X = preprocess(data, spec["inputs"])
        eig = np.linalg.eigvalsh(second_moment(X))
        loss_fn = BCEWithLogits()
        best = None
        for factor in spec["lr_factors"]:
            model = Sequential(Dense(X.shape[1], 1, init="zeros"))
            reg = L2(spec["l2"]) if spec["l2"] else None
            # The penalty adds λ·I to the Hessian: the same rule on the bound ¼·X̃ᵀX̃/m + λ·I.
            lr = factor / (eig[-1] + 4 * spec["l2"])
            trainer = Trainer(model, loss_fn, SGD(model.parameters(), lr=lr), regularizer=reg)
            losses = []
            for _rep in range(spec["steps"]):
                loss = trainer.train_step(X, data.y)
                if not math.isfinite(loss) or loss > 1e3:
                    break
                losses.append(loss)
                if len(losses) > WINDOW and losses[-WINDOW - 1] - loss < STALL:
                    break
            data_loss = loss_fn.forward(model.forward(X), data.y)  # without the penalty
            hit = steps_to(losses, TARGET) if not reg else None
            key = (hit if hit is not None else math.inf, data_loss)
            if best is None or key < best[0]:
                best = (key, factor, hit, losses, data_loss, model)
        _lr, factor, hit, losses, data_loss, model = best
        step = max(1, len(losses) // 150)
        return {
            "kappa": float(eig[-1] / eig[0]), "log10_kappa": float(np.log10(eig[-1] / eig[0])),
            "lr_factor": factor, "steps_to_target": hit, "reached": hit is not None,
            "steps_run": len(losses),
            "final_loss": float(data_loss),
            "weight_norm": float(np.linalg.norm(model[0].W.value)),
            "loss_curve": losses[::step], "curve_step": step,
            "min": X.min(axis=0).tolist(), "max": X.max(axis=0).tolist(),
            "mean": X.mean(axis=0, dtype=np.float64).tolist(),
            "std": X.std(axis=0, dtype=np.float64).tolist(),
        }

    # -- verdicts ---------------------------------------------------------------------------------
    def _parts(self, results):
        plain = group([r for r in results if not r.spec["l2"]], "inputs")
        penalised = [r for r in results if r.spec["l2"]]
        return plain, penalised

    def verdicts(self, results):
        plain, pen = self._parts(results)
        T = results[0].spec["steps"]
        flags = []
        for i in range(len(plain["standardize"])):
            r = {k: v[i].result for k, v in plain.items()}
            steps = {k: (v["steps_to_target"] or math.inf) for k, v in r.items()}
            std, mm = r["standardize"], r["minmax"]
            flags.append(
                steps["standardize"] < steps["minmax"] < steps["raw"]
                and r["standardize"]["kappa"] < r["minmax"]["kappa"] < r["raw"]["kappa"]
                and max(abs(m) for m in std["mean"]) < 1e-3
                and max(abs(s - 1) for s in std["std"]) < 1e-3 and max(std["max"]) > 1
                and min(mm["min"]) == 0 and max(mm["max"]) == 1
                and steps["log+standardize"] < steps["log"]
                and abs(std["final_loss"] - mm["final_loss"]) < 0.005
                and pen[i].result["final_loss"] > std["final_loss"] + 0.01)
        steps = {k: [r.result["steps_to_target"] for r in v] for k, v in plain.items()}

        def fmt_steps(k):
            s = steps[k]
            if all(v is None for v in s):
                runs = plain[k]
                loss = mean_spread(values(runs, "final_loss")).fmt(".2f")
                if all(r.result["steps_run"] < T for r in runs):
                    return _("never (stalled at loss {loss})").format(loss=loss)
                return _("not within {t} steps (loss {loss})").format(t=T, loss=loss)
            if any(v is None for v in s):
                return _("{sum_s_v}/{len_s} seeds reached").format(
                           sum_s_v=sum((v is not None for v in s)), len_s=len(s))
            return str(mean_spread(s))

        kappa = {k: mean_spread(values(v, "log10_kappa")) for k, v in plain.items()}
        numbers = {f"steps to loss {TARGET}, {LABELS[k]}": fmt_steps(k) for k in plain}
        numbers.update({f"log10 κ, {LABELS[k]}": v for k, v in kappa.items()})
        std_loss = mean_spread(values(plain["standardize"], "final_loss"))
        mm_loss = mean_spread(values(plain["minmax"], "final_loss"))
        pen_loss = mean_spread(values(pen, "final_loss"))
        numbers.update({
            "final loss, standardised": std_loss, "final loss, min-max": mm_loss,
            f"final loss (without penalty), standardised + L2 λ={L2_LAMBDA:g}": pen_loss})
        sentence = self._sentence(mm_loss, std_loss, pen_loss, plain, kappa, fmt_steps)
        t = tally(flags)
        rule = (_("Holds when, in every seed, steps to the target and κ both order "
                  "standardised < min-max < raw, log then standardised beats log alone, the "
                  "measured moments and ranges match the definitions, min-max and standardised "
                  "final losses agree within 0.005, and the L2 penalty raises the loss by more "
                  "than 0.01."))
        rows = [Row(_(LABELS[k]), {_("steps to loss {target}").format(target=TARGET): fmt_steps(k), "log10 κ": kappa[k],
                                _("final loss"): mean_spread(values(plain[k], "final_loss"))})
                for k in plain]
        rows.append(Row(_("standardised + L2 λ = {lam:g}").format(lam=L2_LAMBDA), {_("final loss (data only)"): pen_loss}))
        answer = (_("Standardising (mean 0, std 1), not squeezing into [0, 1], is what speeds "
                    "gradient descent; both reach the same fit, which only a penalty changes.")
                  if t.status == "holds" else
                  _("Not in every seed ({t}): see steps and κ per preprocessing.").format(t=t))
        return [Verdict("R4", t.status, sentence, numbers, answer=answer, evidence=rows,
                        rule=rule, agree=t)]

    @staticmethod
    def _sentence(mm_loss, std_loss, pen_loss, plain, kappa, fmt_steps):
        """The long form: steps and condition number per scaling, and the penalty."""
        sentence = (
            _("Steps to a training loss of {target} at each preprocessing's best learning "
              "rate: ").format(target=TARGET)
            + ", ".join(f"{_(LABELS[k])} {fmt_steps(k)}" for k in plain)
            + _("; log10 κ of X̃ᵀX̃/m: ") + ", ".join(f"{_(LABELS[k])} {kappa[k]}" for k in plain)
            + _(". Standardising (mean 0, std 1) is fastest because it makes X̃ᵀX̃/m nearly "
                "the identity; min-max only fixes the scales, not the offsets; the log alone "
                "reshapes income but leaves the scales apart. Min-max and standardised inputs "
                "end at the same loss ({mm_loss} vs {std_loss}) — preprocessing changes the "
                "speed, not the best fit — while an L2 penalty (λ = {l2_lambda:g}) changes the "
                "fit itself (loss {pen_loss}). Holds when, in every seed, steps and κ order "
                "standardised < min-max < raw, log then standardised beats log alone, the "
                "measured means/stds/ranges are those of the definitions (standardised: mean "
                "0, std 1 within 1e-3 and values above 1; min-max: exactly [0, 1]), min-max "
                "and standardised final losses agree within 0.005, and the penalty raises the "
                "loss by more than 0.01.").format(
                  mm_loss=mm_loss, std_loss=std_loss, l2_lambda=L2_LAMBDA, pen_loss=pen_loss))
        return sentence

    def corrections(self, results):
        plain, pen = self._parts(results)
        std, mm = plain["standardize"][0].result, plain["minmax"][0].result
        T = results[0].spec["steps"]

        def ranges(r):
            return ", ".join(f"{f} [{lo:.2f}, {hi:.2f}]" for f, lo, hi in
                             zip(FEATURES, r["min"], r["max"]))

        def moments(r):
            return ", ".join(f"{f} {m:.2f}/{s:.2f}" for f, m, s in
                             zip(FEATURES, r["mean"], r["std"]))

        std_loss = mean_spread(values(plain["standardize"], "final_loss"))
        mm_loss = mean_spread(values(plain["minmax"], "final_loss"))
        pen_loss = mean_spread(values(pen, "final_loss"))
        log_loss = mean_spread(values(plain["log+standardize"], "final_loss"))
        return [
            Correction(
                "R4", "004 p37",
                _("Normalisation puts the values between 0 and 1."),
                _("That is min-max scaling. Standardising, the normalisation the lecture "
                  "means, gives every feature mean 0 and std 1, so values fall on both sides "
                  "of 0 and beyond 1 (far beyond for a skewed feature). Min-max leaves the "
                  "means at about 0.5, and the offset slows gradient descent."),
                _("seed 0, standardised: mean/std {moments_std}; ranges {ranges_std}. Min-max: "
                  "ranges {ranges_mm}; mean/std {moments_mm}. Steps to loss {target}: "
                  "standardised {std_steps_to_target}, min-max {mm_steps_to_target}.").format(
                    moments_std=moments(std), ranges_std=ranges(std), ranges_mm=ranges(mm),
                    moments_mm=moments(mm), target=TARGET,
                    std_steps_to_target=std['steps_to_target'],
                    mm_steps_to_target=mm['steps_to_target']),
                so_what=_("Standardise inputs for gradient descent: centring matters as much "
                          "as scaling, and a value above 1 after standardising is expected, "
                          "not a bug.")),
            Correction(
                "R4", "000 appendix (Q1)",
                _("Asks whether taking logs is also a regularisation method, and how it "
                  "differs from normalising to a standard normal (the group suspected "
                  "regularisation and normalisation were being confused)."),
                _("They were. Taking logs, min-max and standardising are input preprocessing: "
                  "they change the inputs the model sees. The log changes the shape of a "
                  "skewed feature (a model linear in log income fits better). Min-max and "
                  "standardising change only scale and offset, which a linear layer can undo, "
                  "so they leave the best fit alone and change how fast gradient descent gets "
                  "there. Regularisation changes the objective: an L2 penalty moves the "
                  "optimum itself."),
                _("final training loss: min-max {mm_loss}, standardised {std_loss} (same fit); "
                  "log then standardised {log_loss} (a better fit: the right shape); "
                  "standardised + L2 λ = {l2_lambda:g} {pen_loss} (a different optimum); each "
                  "trained until its loss stopped improving or for {t} steps.").format(
                    mm_loss=mm_loss, std_loss=std_loss, log_loss=log_loss, l2_lambda=L2_LAMBDA,
                    pen_loss=pen_loss, t=T),
                so_what=_("Preprocessing changes what the model sees and how fast it learns; "
                          "regularisation changes what it is asked to minimise. Choose them "
                          "for different reasons."))]

    # -- figures ----------------------------------------------------------------------------------
    def figures(self, results):
        plain, pen = self._parts(results)
        colours = dict(zip(INPUTS, ("tab:grey", "tab:orange", "tab:blue", "tab:brown",
                                    "tab:green")))
        fig = Figure(figsize=(7.2, 6.8))
        ax1, ax2 = fig.subplots(2, 1)
        for k, runs in plain.items():
            r = runs[0].result
            xs = np.arange(len(r["loss_curve"])) * r["curve_step"] + 1
            ax1.plot(xs, r["loss_curve"], color=colours[k], label=_(LABELS[k]))
        r = pen[0].result
        xs = np.arange(len(r["loss_curve"])) * r["curve_step"] + 1
        ax1.plot(xs, r["loss_curve"], color="tab:blue", ls="--",
                 label=_("standardised + L2 (with penalty)"))
        ax1.axhline(TARGET, color="k", ls=":", lw=1)
        ax1.set(xscale="log", title=_("Training loss (best lr each, seed 0)"), xlabel=_("step"),
                ylabel=_("BCE loss"), ylim=(0.3, 0.75))
        T = results[0].spec["steps"]
        for k, runs in plain.items():
            kap = values(runs, "log10_kappa")
            st = [v if v is not None else T * 1.5 for v in values(runs, "steps_to_target")]
            ax2.scatter(kap, st, color=colours[k], label=_(LABELS[k]))
        ax2.axhline(T, color="k", ls=":", lw=1)
        ax2.text(0.2, T * 1.15, _("not reached"), fontsize=9)
        ax2.set(yscale="log", title=_("Steps to target vs conditioning"), xlabel=_("log10 "
                                                                                "κ(X̃ᵀX̃/m)"),
                ylabel=_("steps to loss {target}").format(target=TARGET))
        handles, labels = ax1.get_legend_handles_labels()
        ax2.legend(handles, labels, fontsize=9, loc="lower right")
        fig.tight_layout()

        fig2 = Figure(figsize=(7.2, 3.0))
        axes = fig2.subplots(1, 3, sharey=True)
        for ax, k in zip(axes, ("raw", "minmax", "standardize")):
            r = plain[k][0].result
            y = np.arange(len(FEATURES))
            ax.hlines(y, r["min"], r["max"], color=colours[k], lw=3)
            ax.plot(r["mean"], y, "k|", ms=10, label=_("mean"))
            ax.set(title=_(LABELS[k]), xlabel=_("value"))
            if k == "raw":
                ax.set(xscale="log", xlim=(1e-5, 3e6), xlabel=_("value (log scale)"))
            if k != "raw":
                ax.axvline(0, color="k", lw=0.6)
                ax.axvline(1, color="k", lw=0.6, ls=":")
        axes[0].set_yticks(range(len(FEATURES)), FEATURES)
        axes[0].legend(fontsize=9)
        fig2.tight_layout()
        return [
            (_("Top: the training loss under each preprocessing at its best learning rate; the "
               "dotted line is the target. Bottom: steps to the target against the condition "
               "number of X̃ᵀX̃/m — runs that never reach it sit above the dotted line. "
               "Gradient descent is as slow as the inputs are badly conditioned."), fig),
            (_("Each feature's range (bar) and mean (tick) after preprocessing (seed 0). Raw: "
               "scales from 0.01 to 10⁵. Min-max: every feature in [0, 1] (dotted line at 1) "
               "with means near 0.5. Standardised: means at 0, values spread past 1 — "
               "standardising is not 'between 0 and 1'."), fig2),
        ]


EXPERIMENT = InputScaling()
