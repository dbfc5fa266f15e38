"""H1 — sample the learning rate in log space.

Note 004 (p77): drawn uniformly from [1e-4, 1], a learning rate lands in [0.1, 1] 90% of the time
and in [1e-4, 0.1] — "where the learning rate we want is" — only 10%; sampling the exponent
uniformly gives each decade the same chance. We count the samples per decade that Optuna's random
sampler (through :func:`whynet.search.search`) draws on a linear and on a log range, then give
both samplings the same budget of trials on a real objective — an MLP on the digits, trained with
plain SGD and with Adam — and compare the best validation accuracy each finds.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from ..search import Range, expected_best, load_data, search
from .base import (Correction, Experiment, Row, Tally, Verdict, combine, group, mean_spread,
                   outcome, status_word, tally, values)

LOW, HIGH = 1e-4, 1.0
DECADES = [(1e-4, 1e-3), (1e-3, 1e-2), (1e-2, 1e-1), (1e-1, 1.0)]
DECADE_NAMES = ["[1e-4, 1e-3)", "[1e-3, 0.01)", "[0.01, 0.1)", "[0.1, 1]"]
SAMPLINGS = ("log", "linear")
OPTIMISER_NAMES = {"sgd": "SGD", "adam": "Adam"}
GAIN = 0.01  # log sampling "finds a better learning rate" when its best beats linear's by this


def decade_shares(lrs) -> list[float]:
    """Fraction of ``lrs`` in each decade of [1e-4, 1] (the last one closed)."""
    lrs = np.asarray(lrs)
    counts = [np.sum((lrs >= lo) & ((lrs < hi) if hi < HIGH else (lrs <= hi)))
              for lo, hi in DECADES]
    return [float(c / len(lrs)) for c in counts]


def _zero(params, trial) -> float:
    return 0.0


class LogSampling(Experiment):
    id = "h1"
    questions = ("H1",)
    title = N_("Log-uniform learning rates")
    question = N_("Should learning rates be sampled uniformly in log space rather than linearly?")
    what = (N_("Part 1: Optuna's random sampler (via whynet.search) draws learning rates from "
            "[1e-4, 1] once as a linear range and once as a log range; we count the share of "
            "samples in each decade. Part 2: the same sampler, with the same seed, draws a pool "
            "of 24 (full: 64) learning rates from each range; a trial trains a [64, 32, 32, 10] "
            "ReLU MLP for 5 epochs (batch 64) on 600 digits (60/20/20 split, standardised) with "
            "plain SGD or with Adam and scores its validation accuracy. From each pool we compute "
            "exactly the expected best accuracy of a random search of k trials (Bergstra & "
            "Bengio's efficiency curve) and compare log and linear sampling at a budget of 8."))
    seeds_quick = 3
    seeds_full = 8
    version = 1

    def grid(self, quick: bool) -> list[dict]:
        budget = {"budget": 8, "pool": 24 if quick else 64, "epochs": 5, "batch_size": 64,
                  "examples": 600}
        return ([{"part": "decades", "samples": 400 if quick else 2000}]
                + [{"part": "budget", "optimizer": opt, **budget} for opt in ("sgd", "adam")])

    def run(self, spec: dict, seed: int) -> dict:
        if spec["part"] == "decades":
            out = {}
            for sampling in SAMPLINGS:
                result = search({"lr": Range(LOW, HIGH, log=sampling == "log")},
                                objective=_zero, sampler="random", seed=seed,
                                n_trials=spec["samples"], storage=None, pruner="none")
                out[sampling] = decade_shares([t["params"]["lr"] for t in result.trials()])
            return out
        data = load_data("digits", examples=spec["examples"], seed=seed)
        fixed = {"optimizer": spec["optimizer"], "epochs": spec["epochs"], "width": 32,
                 "depth": 2, "batch_size": spec["batch_size"]}
        out = {}
        for sampling in SAMPLINGS:
            # The same sampler seed for both ranges: trial k maps the same uniform draw onto
            # [1e-4, 1] linearly or through the exponent, so the two pools are paired.
            result = search({"lr": Range(LOW, HIGH, log=sampling == "log"), **fixed},
                            data=data, sampler="random", seed=seed, n_trials=spec["pool"],
                            storage=None, pruner="none")
            done = result.trials()
            scores = [t["value"] for t in done]
            out[f"trials_{sampling}"] = [[t["params"]["lr"], t["value"]] for t in done]
            out[f"curve_{sampling}"] = [expected_best(scores, k)
                                        for k in range(1, len(scores) + 1)]
            out[f"best_{sampling}"] = out[f"curve_{sampling}"][spec["budget"] - 1]
        everything = out["trials_log"] + out["trials_linear"]
        out["best_lr"] = float(max(everything, key=lambda t: t[1])[0])
        return out

    # -- verdict ----------------------------------------------------------------------------

    def _decades(self, results):
        runs = group(results, "part")["decades"]
        n = runs[0].spec["samples"]
        tol_top = 4 * math.sqrt(0.9 * 0.1 / n)  # 4 binomial standard errors
        tol_dec = 4 * math.sqrt(0.25 * 0.75 / n)
        flags = [abs(r.result["linear"][-1] - 0.9) < tol_top
                 and all(abs(s - 0.25) < tol_dec for s in r.result["log"]) for r in runs]
        linear_top = mean_spread(r.result["linear"][-1] for r in runs)
        log_shares = [mean_spread(r.result["log"][i] for r in runs) for i in range(4)]
        # Where uniform samples fall is arithmetic (90% of [1e-4, 1] is [0.1, 1]): shown, and a
        # miss beyond 4 standard errors would be a sampler bug (fails).
        return ("shown" if tally(flags).status == "holds" else "fails", linear_top, log_shares, n,
                tol_top, tol_dec)

    def _budget(self, results):
        runs = group(results, "part")["budget"]
        by = group(runs, "optimizer")
        out = {}
        for opt, rs in by.items():
            diffs = [r.result["best_log"] - r.result["best_linear"] for r in rs]
            t = tally(d > GAIN for d in diffs)
            out[opt] = {"status": t.status, "tally": t,
                        "log": mean_spread(values(rs, "best_log")),
                        "linear": mean_spread(values(rs, "best_linear")),
                        "diff": mean_spread(diffs),
                        "best_lr": float(np.median(values(rs, "best_lr"))),
                        "budget": rs[0].spec["budget"]}
        return out

    def verdicts(self, results):
        dec_status, linear_top, log_shares, n, tol_top, tol_dec = self._decades(results)
        budget = self._budget(results)
        status = combine([dec_status] + [b["status"] for b in budget.values()])
        names = OPTIMISER_NAMES
        compared = {"holds": _("log better"), "fails": _("log not better"),
                   "inconclusive": _("seeds disagree")}
        per_opt = "; ".join(
            _("{names_get_o} (best learning rate found ≈ {b_best_lr:.2g}): log {b_log_3f} vs "
              "linear {b_linear_3f}, difference {b_diff:+.3f} ± {b_diff_std:.3f} "
              "({outcome_b_status})").format(
                names_get_o=names.get(o, o), b_best_lr=b['best_lr'], b_log_3f=b['log'].fmt('.3f'),
                b_linear_3f=b['linear'].fmt('.3f'), b_diff=b['diff'].mean,
                b_diff_std=b['diff'].std, outcome_b_status=compared[b['status']])
            for o, b in budget.items())
        spec = group(results, "part")["budget"][0].spec
        sentence = self._sentence(status, per_opt, n, spec, log_shares, linear_top)
        numbers = {"uniform share in [0.1, 1]": linear_top}
        numbers.update({f"log share in {name}": s for name, s in zip(DECADE_NAMES, log_shares)})
        for o, b in budget.items():
            for sampling in SAMPLINGS:
                numbers[f"{names.get(o, o)}: expected best of {b['budget']}, {sampling} "
                        f"sampling"] = b[sampling]
            numbers[f"{names.get(o, o)}: best learning rate found (median)"] = b["best_lr"]
        numbers["tolerance (4 s.e.) on 90% / 25%"] = f"{tol_top:.3f} / {tol_dec:.3f}"
        rows = [Row(_("uniform sampling on [1e-4, 1]"), {_("share in [0.1, 1]"): linear_top}),
                Row(_("log sampling on [1e-4, 1]"), {_("share in {name}").format(name=name): s for name, s in
                                                  zip(DECADE_NAMES, log_shares)})]
        rows += [Row(_("{optimiser}, budget {budget}").format(optimiser=names.get(o, o), budget=b['budget']), {
            _("expected best, log"): b["log"], _("expected best, linear"): b["linear"],
            _("log − linear"): b["diff"], _("best learning rate (median)"): b["best_lr"],
            _("log better"): outcome(b['status'], b['tally'])}) for o, b in budget.items()]
        tests = [b["tally"] for b in budget.values()]
        agree = Tally(status, sum(t.agree for t in tests), sum(t.n for t in tests))
        wins = [names.get(o, o) for o, b in budget.items() if b["status"] == "holds"]
        loses = [_("{names_get_o} (best rate ≈ {b_best_lr:.2g})").format(
                     names_get_o=names.get(o, o), b_best_lr=b['best_lr'])
                 for o, b in budget.items() if b["status"] == "fails"]
        answer = (_("The 90% (in the top decade) is arithmetic. Log sampling found better learning rates with "
                    "{join_wins}; with {join_loses} it did not.").format(
                      join_wins=', '.join(wins), join_loses=', '.join(loses))
                  ) if wins and loses else (
                  _("The 90% (in the top decade) is arithmetic. Log sampling better: ")
                  + ", ".join(f"{names.get(o, o)} {status_word(b['status'])}" for o, b in budget.items()) + ".")
        rule = (_("Sampling shares are shown (arithmetic; a miss beyond 4 binomial standard "
                  "errors would be a sampler bug). Tested per optimiser: log sampling is "
                  "better when, in every seed, its expected best validation accuracy at the "
                  "budget beats linear sampling's by more than {gain:.0%}; optimisers disagree "
                  "→ depends on the optimiser (where its good learning rates lie).").format(
                    gain=GAIN))
        return [Verdict("H1", status, sentence, numbers, answer=answer, evidence=rows, rule=rule,
                        depends_on=(_("optimizer"),) if status == "depends" else (), agree=agree)]

    @staticmethod
    def _sentence(status, per_opt, n, spec, log_shares, linear_top):
        """The long form: the sampling shares and the budget comparison per optimiser."""
        sentence = (_("Uniform sampling on [1e-4, 1] puts {linear_top_1} of {n} samples in "
                      "[0.1, 1]; log sampling puts ").format(
                        linear_top_1=linear_top.fmt('.1%'), n=n)
                    + ", ".join(f"{s.mean:.1%}" for s in log_shares)
                    + _(" in the four decades. With the same budget of {spec_budget} trials, "
                        "the expected best validation accuracy (from a pool of {spec_pool} "
                        "random trials per sampling) is — {per_opt}. The sampling part is "
                        "shown when every seed is within 4 standard errors of 90% and 25% per "
                        "decade; the budget part holds for an optimiser when log beats linear "
                        "by more than {gain:.0%} in every seed").format(
                          spec_budget=spec['budget'], spec_pool=spec['pool'], per_opt=per_opt,
                          gain=GAIN)
                    + (_("; it holds for some optimisers and not others, so the claim depends "
                         "on where the good learning rates lie.") if status == "depends" else "."))
        return sentence

    def corrections(self, results):
        budget = self._budget(results)
        high = {o: b for o, b in budget.items() if b["best_lr"] >= 0.1}
        if not high:
            return []
        o, b = next(iter(high.items()))
        name = OPTIMISER_NAMES.get(o, o)
        result = {"holds": _("log sampling still wins there"),
                   "fails": _("there log sampling does not beat linear sampling"),
                   "inconclusive": _("there the seeds disagree on which sampling wins")}[b["status"]]
        return [Correction(
            "H1", "004 p77",
            _("the learning rate we want lies in 0.0001–0.1, so uniform sampling on [1e-4, 1] "
              "finds it only one time in ten"),
            _("where the good learning rates lie depends on the optimiser and the model: with "
              "{name} on the digits the best ones are in the top decade [0.1, 1], and "
              "{outcome}; sample in log space because the right decade is unknown, not because "
              "it is always a small one").format(name=name, outcome=result),
            _("{name}: best learning rate found ≈ {b_best_lr:.2g} (median over seeds); "
              "expected best validation accuracy of {b_budget} trials: log {b_log_3f}, linear "
              "{b_linear_3f}").format(
                name=name, b_best_lr=b['best_lr'], b_budget=b['budget'],
                b_log_3f=b['log'].fmt('.3f'), b_linear_3f=b['linear'].fmt('.3f')),
            so_what=_("Sample the learning rate in log space because you do not know which "
                      "decade holds the good values; once a first search shows where they are, "
                      "narrow the range around them."))]

    # -- figures ----------------------------------------------------------------------------

    def figures(self, results):
        parts = group(results, "part")
        dec = parts["decades"]
        fig1 = Figure(figsize=(6.2, 3.4), layout="constrained")
        ax = fig1.subplots()
        x = np.arange(4)
        for i, (sampling, colour) in enumerate((("linear", "tab:orange"), ("log", "tab:blue"))):
            shares = np.array([r.result[sampling] for r in dec])
            ax.bar(x + (i - 0.5) * 0.38, shares.mean(0), 0.38, yerr=shares.std(0),
                   color=colour, label=_("{uniform_sampling_linear} on [1e-4, 1]").format(
                                           uniform_sampling_linear=_('uniform') if sampling == 'linear' else _('log-uniform')))
        ax.axhline(0.25, color="tab:blue", ls=":", lw=1)
        ax.axhline(0.9, color="tab:orange", ls=":", lw=1)
        ax.set_xticks(x, DECADE_NAMES)
        ax.set(title=_("Where {dec_spec_samples} sampled learning rates fall").format(
                         dec_spec_samples=dec[0].spec['samples']),
               xlabel=_("decade of the learning rate"), ylabel=_("share of samples"), ylim=(0, 1))
        ax.legend(fontsize=9, loc="upper left")

        fig2 = self._budget_figure(parts)
        return [(_("Uniform sampling (orange) spends nine draws in ten in the top decade; "
                   "log-uniform sampling (blue) gives each decade a quarter."), fig1),
                (_("Top: validation accuracy of every trial against its learning rate shows in "
                   "which decade each optimiser's good learning rates lie (orange band: where "
                   "nine uniform draws in ten land). Bottom: the best accuracy a random search of k "
                   "trials can expect (mean over seeds, band: min–max), log (solid) vs linear "
                   "(dashed); the dotted line marks the budget the verdict uses."), fig2)]

    @staticmethod
    def _budget_figure(parts):
        """Every trial of seed 0, and the expected best against the budget."""
        fig2 = Figure(figsize=(7.2, 7.6), layout="constrained")
        ax1, ax2 = fig2.subplots(2, 1)
        budget = group(parts["budget"], "optimizer")
        colours = {"sgd": "tab:green", "adam": "tab:purple"}
        for opt, rs in budget.items():
            r = rs[0].result
            pts = np.array(r["trials_log"] + r["trials_linear"])
            ax1.scatter(pts[:, 0], pts[:, 1], s=10, color=colours.get(opt), alpha=0.7,
                        label=OPTIMISER_NAMES.get(opt, opt))
        ax1.set_xscale("log")
        ax1.axvspan(0.1, 1, color="tab:orange", alpha=0.12, lw=0,
                    label=_("[0.1, 1]: 90% (uniform sampling)"))
        ax1.set(title=_("Every trial (seed 0)"), xlabel=_("learning rate (log scale)"),
                ylabel=_("validation accuracy"), ylim=(0, 1))
        ax1.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
        styles = {"log": "-", "linear": "--"}
        for opt, rs in budget.items():
            for sampling in SAMPLINGS:
                curves = np.array(values(rs, f"curve_{sampling}"))
                k = np.arange(1, curves.shape[1] + 1)
                k_max = len(k)
                ax2.plot(k, curves.mean(0), styles[sampling], color=colours.get(opt),
                         label=_("{opt_optimiser_names_get}, {sampling}").format(
                                   opt_optimiser_names_get=OPTIMISER_NAMES.get(opt, opt),
                                   sampling=sampling))
                ax2.fill_between(k, curves.min(0), curves.max(0), color=colours.get(opt),
                                 alpha=0.12, lw=0)
        budget_k = parts["budget"][0].spec["budget"]
        ax2.axvline(budget_k, color="0.5", lw=0.8, ls=":")
        ax2.set_xscale("log", base=2)
        ticks = [k for k in (1, 2, 4, 8, 16, 32, 64) if k <= k_max]
        ax2.set_xticks(ticks, [str(k) for k in ticks])
        ax2.set(title=_("Expected best vs budget"), xlabel=_("trials (log scale)"),
                ylabel=_("expected best validation accuracy"), ylim=(0, 1))
        ax2.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
        return fig2


EXPERIMENT = LogSampling()
