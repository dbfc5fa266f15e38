"""A question file as an :class:`~whynet.experiments.base.Experiment`: grid, run, verdict, figure.

The grid is the product of the file's dimensions; one run builds the :class:`RunConfig` of a spec
and a seed with :func:`whynet.config.build`, trains it (with a :class:`~whynet.probes.Probe` when
a probe quantity is measured) and returns the measured metrics. The verdict rule is the shared one
(:func:`~whynet.experiments.base.tally`, :func:`~whynet.experiments.base.combine`):

* the *conditions* are the combinations of the dimensions other than ``compare`` and
  ``best_over``;
* in each condition, each side of the claim is taken at its best value of ``best_over`` (by the
  mean of ``best_by`` over seeds; ties to the first value in the file), then the two sides are
  paired by seed: a seed agrees when ``a − b`` beats the margin in the claimed direction
  (``a < b − margin``; ``a ≤ b + margin``; ``|a − b| ≤ margin`` for ``==``);
* a comparison holds when every seed agrees, fails when none does, else is inconclusive (each
  comparison listed in ``expect``, in each condition, is tallied on its own); the question holds
  or fails when every one does, *depends on* the dimensions that separate the holds from the fails
  (or on which values are compared) when some hold and the others fail, else is inconclusive.
"""

from __future__ import annotations

import math
import time

import numpy as np
from matplotlib.figure import Figure

from ..config import RunConfig, build
from ..experiments.base import Experiment, Row, Verdict, combine, group, mean_spread, tally
from ..i18n import N_, _, ngettext
from ..nn.activations import ACTIVATIONS
from ..probes import Probe
from ..report.status import label
from ..train import Callback
from .metrics import (PROBE_EXAMPLES, TARGET_METRICS, TRAINING_METRICS, goal, probe_metrics,
                      probe_steps, training_metrics)
from .question import Claim, Question, _show

#: Bump when a run's measurements change meaning: stored runs of asked questions are recomputed.
VERSION = 2  # 2: steps_to_target, reached_target; never reaching the target is inf


class _CpuClock(Callback):
    """CPU seconds of this process at the end of every epoch (a shared machine's other load does
    not count, unlike wall time)."""

    def __init__(self):
        self.times: list[float] = []

    def on_train_begin(self, ctx):
        self.start = time.process_time()

    def on_epoch_end(self, epoch, logs, ctx):
        self.times.append(time.process_time() - self.start)


def measure(spec_run: dict, seed: int, metrics, target, probe: bool) -> dict:
    """Train the RunConfig ``spec_run`` with ``seed``; every metric of ``metrics`` (and the rest
    of the cheap ones) as plain floats."""
    cfg = RunConfig.from_dict(spec_run).replace(seed=seed)
    run = build(cfg)
    clock = _CpuClock()
    callbacks: list = [clock]
    watcher = None
    train = run.data.train
    per_epoch = -(-len(train) // cfg.batch_size)  # fit keeps the last, smaller batch
    if probe:
        watcher = Probe(run.model, train.X[:PROBE_EXAMPLES], train.y[:PROBE_EXAMPLES], run.loss,
                        every=probe_steps(cfg.epochs, per_epoch), histograms=False)
        callbacks.append(watcher)
    # A learning rate too large must end as a recorded divergence, not as warnings and NaNs.
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        history = run.fit(callbacks=callbacks)
    out = training_metrics(history.epochs, history.diverged, clock.times, target, cfg.epochs,
                           per_epoch)
    if watcher is not None:
        widths = {la: m.n_out for la, m in zip(watcher.layer_labels(), run.model.layers)
                  if hasattr(m, "n_out")}
        out.update(probe_metrics(watcher.records, widths, list(widths)[-1] if widths else None))
    # Every training metric (cheap, and shown next to the claim's); probe ones only when asked.
    return {k: v for k, v in out.items() if k in TRAINING_METRICS or k in metrics}


class QuestionExperiment(Experiment):
    """The experiment of one question file (see the module docstring)."""

    version = VERSION

    def __init__(self, question: Question):
        self.q = question
        self.id = f"ask:{question.id}"
        self.questions = (question.id,)
        self.title = question.question
        self.question = question.question
        self.seeds_full = question.full.seeds
        self.seeds_quick = question.quick.seeds

    @property
    def what(self) -> str:
        """The grid, the fixed values and the metrics, in the language in force."""
        question = self.q
        dims = ", ".join(f"{k} ∈ {{{', '.join(map(_show, v))}}}"
                         for k, v in question.full.dims.items())
        fixed = ", ".join(f"{k} = {_show(v)}" for k, v in question.full.base.items())
        measured = ", ".join(question.metrics) + (
            " " + _("(target {target})").format(target=f"{question.target:g}")
            if question.target else "")
        what = _("Asked in {path}. Grid: {dims}; fixed: {fixed}; the rest are whynet train's "
                 "defaults. Measured: {measured}.").format(
            path=question.path, dims=dims, fixed=fixed or _("defaults"), measured=measured)
        quick = {k: v for k, v in {**question.quick.base, **question.quick.dims}.items()
                 if {**question.full.base, **question.full.dims}.get(k) != v}
        if quick or question.quick.seeds != question.full.seeds:
            changes = [f"{k} = {_show(v)}" for k, v in quick.items()]
            n = question.quick.seeds
            changes += [ngettext("{n} seed", "{n} seeds", n).format(n=n)] \
                if n != question.full.seeds else []
            what += " " + _("The quick grid changes: {changes}.").format(
                changes=", ".join(changes))
        return what

    @property
    def code_version(self) -> str:
        return f"ask{VERSION}"

    def grid(self, quick: bool) -> list[dict]:
        g = self.q.grid(quick)
        return [{**dims, "run": {**g.base, **dims},
                 "measure": {"metrics": list(self.q.metrics), "target": self.q.target}}
                for dims in g.specs()]

    def run(self, spec: dict, seed: int) -> dict:
        m = spec["measure"]
        return measure(spec["run"], seed, m["metrics"], m["target"], self.q.needs_probe())

    def verdicts(self, results):
        return [decide_claim(self.q.id, self.q.claim, results, self.dims(results),
                             shown=self.q.metrics)]

    def dims(self, results) -> list[str]:
        return [k for k in self.q.full.dims if any(k in r.spec for r in results)]

    def figures(self, results):
        return [claim_figure(self.q, results, self.dims(results))]


# -- the verdict rule ------------------------------------------------------------------------------

def _better(metric: str):
    """Key that sorts a mean best-first for ``metric``'s goal (NaN last)."""
    sign = -1.0 if goal(metric) == "max" else 1.0
    return lambda v: (math.isnan(v), sign * v if not math.isnan(v) else 0.0)


def _agrees(a: float, b: float, relation: str, margin: float) -> bool:
    """Whether one seed's pair agrees with the claim; a NaN (a diverged run) never agrees."""
    if math.isnan(a) or math.isnan(b):
        return False
    if a == b:  # also two runs that never reached the target (inf): a tie, whatever the margin
        return relation in ("<=", ">=", "==")
    return {"<": a < b - margin, ">": a > b + margin, "<=": a <= b + margin,
            ">=": a >= b - margin, "==": abs(a - b) <= margin}[relation]


def _cond_name(cond: dict) -> str:
    return ", ".join(f"{k} {_show(v)}" for k, v in cond.items())


def pick_best(runs, claim: Claim, metric: str):
    """The runs of one side at its best value of ``best_over`` (or all of them) and that value."""
    if claim.best_over is None:
        return runs, None
    by = group(runs, lambda r: repr(r.spec[claim.best_over]))
    by_by = claim.best_by or (metric if goal(metric) else "best_val_acc")
    score = {k: float(np.mean([r.result.get(by_by, float("nan")) for r in rs]))
             for k, rs in by.items()}
    key = _better(by_by)
    best = min(score, key=lambda k: key(score[k]))  # first of equals: min is stable
    return by[best], by[best][0].spec[claim.best_over]


def decide_claim(qid: str, claim: Claim, results, dims, shown=()) -> Verdict:
    """The shared rule (see the module docstring) on stored results: one :class:`Verdict`;
    the evidence rows show the claim's metric and the metrics in ``shown``. Each comparison of
    the claim (``expect`` may list several) is a condition of its own."""
    metric = claim.metric
    others = [d for d in dims if d not in (claim.compare, claim.best_over)]
    conditions = group(results, lambda r: tuple(repr(r.spec[d]) for d in others))
    per_cond, rows = [], []
    for runs in conditions.values():
        cond = {d: runs[0].spec[d] for d in others}
        side = {}
        for value in dict.fromkeys(map(repr, claim.sides)):
            mine = [r for r in runs if repr(r.spec[claim.compare]) == value]
            side[value] = pick_best(mine, claim, metric)
        for a_val, relation, b_val in claim.pairs:
            a = {r.seed: float(r.result[metric]) for r in side[repr(a_val)][0]}
            b = {r.seed: float(r.result[metric]) for r in side[repr(b_val)][0]}
            seeds = sorted(set(a) & set(b))
            flags = [_agrees(a[s], b[s], relation, claim.margin) for s in seeds]
            per_cond.append((cond, (a_val, relation, b_val), tally(flags), sum(flags)))
        for value, (chosen, best) in side.items():
            name = f"{claim.compare} {_show(chosen[0].spec[claim.compare])}"
            if best is not None:
                name += " " + _("(best {dimension} {value})").format(
                    dimension=claim.best_over, value=_show(best))
            if cond:
                name = f"{_cond_name(cond)}: {name}"
            measures = {metric: mean_spread([r.result[metric] for r in chosen])}
            extra = ("reached_target",) if metric in TARGET_METRICS else ()
            for k in (*shown, *extra):
                if k != metric and k in chosen[0].result:
                    measures[k] = _shown_measure(chosen, k)
            rows.append(Row(name, measures))
    status = combine(t.status for _c, _p, t, _k in per_cond)
    depends_on: tuple = ()
    if status == "depends":
        varying = [d for d in others
                   if len({repr(c[d]) for c, _p, t, _k in per_cond if t.status == "holds"}
                          | {repr(c[d]) for c, _p, t, _k in per_cond if t.status == "fails"}) > 1]
        if len(claim.pairs) > 1:
            varying.append(_("which values of {dimension} are compared").format(
                dimension=claim.compare))
        depends_on = tuple(varying or others)
    agree = per_cond[0][2] if len(per_cond) == 1 else None
    texts = _claim_texts(claim, status, per_cond, rows, depends_on)
    return Verdict(qid, status, texts["sentence"],
                   {r.condition: r.measures[metric] for r in rows}, answer=texts["answer"],
                   evidence=rows, rule=texts["rule"], depends_on=depends_on, agree=agree)


def _shown_measure(runs, name: str):
    """The mean ± spread of a measured quantity over ``runs``, or the words saying why it is
    undefined: ``saturated`` of an unbounded activation (ReLU…), which the probes do not record."""
    values = [float(r.result[name]) for r in runs]
    if name.split(".")[0] == "saturated" and all(math.isnan(v) for v in values):
        setting = runs[0].spec.get("run", {}).get("activation", RunConfig().activation)
        names = setting if isinstance(setting, list) else [setting]
        if not any(ACTIVATIONS[n].saturating for n in names):
            return _("undefined ({activation} is unbounded: its units can die, never "
                     "saturate)").format(activation=_show(setting))
    return mean_spread(values)


#: How a run that never reached the target counts, per metric (the rule says it).
_NEVER = {"epochs_to_target": N_(" A run that never reached the target counts epochs + 1."),
          "steps_to_target": N_(" A run that never reached the target counts inf: never faster."),
          "seconds_to_target": N_(" A run that never reached the target counts inf: never "
                                  "faster.")}


def _said(pair) -> str:
    a, r, b = pair
    return f"{_show(a)} {r} {_show(b)}"


def _claim_texts(claim: Claim, status: str, per_cond, rows, depends_on) -> dict:
    """The answer, the rule and the sentence of :func:`decide_claim`'s verdict, in the language
    in force."""
    metric = claim.metric
    where = (" " + _("at each one's best {dimension}").format(dimension=claim.best_over)
             if claim.best_over else "")
    within = (" " + _("(margin {margin})").format(margin=f"{claim.margin:g}")
              if claim.margin else "")
    n = sum(t.n for _c, _p, t, _k in per_cond)
    words = _("{metric} of {pairs}").format(
        metric=metric, pairs=_(" and ").join(_said(p) for p in claim.pairs)) + where
    if status == "holds":
        answer = ngettext("Yes: {claim}, in the {n} paired seed comparison.",
                          "Yes: {claim}, in all {n} paired seed comparisons.", n)
    elif status == "fails":
        answer = ngettext("No: {claim} did not hold in the {n} paired seed comparison.",
                          "No: {claim} held in none of {n} paired seed comparisons.", n)
    elif status == "depends":
        answer = _("It depends ({on}): holds for {held}, not for the rest.")
    else:
        answer = _("Inconclusive: {claim} held in some seeds, not in others.")
    held = "; ".join((_cond_name(c) + " " if c else "") + _said(p) for c, p, t, _k in per_cond
                     if t.status == "holds")
    answer = answer.format(claim=words, n=n, on=", ".join(depends_on), held=held)
    if len(answer.split()) > 30:  # the one-line answer stays one line
        answer = " ".join(answer.split()[:29]) + " …"
    # Here "k of n seeds agree" counts the seeds where the relation held, as the rule defines
    # agreeing, whatever the status (the verdict's own count is of the seeds on its side).
    detail = "; ".join(_("{where}{pair}: {status}, {k} of {n} seeds agree").format(
        where=(_cond_name(c) + ", ") if c else "", pair=_said(p), status=label(t.status),
        k=k, n=t.n) for c, p, t, k in per_cond)
    rule = _("Paired per seed{where}: a seed agrees when the claim's relation holds between the "
             "two sides' {metric}{within}. A comparison holds when every seed agrees, fails when "
             "none does, else is inconclusive; the comparisons combine to holds, fails, depends "
             "(some hold, others fail) or inconclusive. {detail}.").format(
        where=where, metric=metric, within=within, detail=detail)
    rule += _(_NEVER[metric]) if metric in _NEVER else ""
    if any(t.agree != k for _c, _p, t, k in per_cond):  # a fails or a split
        rule += (" The count beside the verdict is of the seeds on its side: for fails, those "
                 "where the relation did not hold.")
    sentence = _("Claim: {claim}{where}.").format(claim=claim.text(), where=where) + " " + \
        " ".join(f"{r.condition}: {metric} {r.measures[metric]}." for r in rows)
    return {"answer": answer, "rule": rule, "sentence": sentence}


# -- the figure --------------------------------------------------------------------------------------

def claim_figure(q: Question, results, dims) -> tuple[str, Figure]:
    """The claim's metric, one panel per condition: along x the values of ``best_over`` (one line
    per compared value) or else the compared values; mean ± spread over seeds, each seed a dot.
    A log scale when the values are positive and span more than 100×."""
    claim = q.claim
    others = [d for d in dims if d not in (claim.compare, claim.best_over)]
    conditions = group(results, lambda r: tuple(repr(r.spec[d]) for d in others))
    n = len(conditions)
    fig = Figure(figsize=(min(3.4 * n + 0.8, 11), 3.2), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    along = claim.best_over
    xs = q.full.dims[along] if along else q.full.dims[claim.compare]
    everything = []
    for ax, runs in zip(axes, conditions.values()):
        cond = {d: runs[0].spec[d] for d in others}
        lines = group(runs, lambda r: repr(r.spec[claim.compare])) if along else {"": runs}
        for i, rs in enumerate(lines.values()):
            means, spreads, pos = [], [], []
            for j, x in enumerate(xs):
                sel = [r for r in rs if r.spec[along or claim.compare] == x]
                if not sel:
                    continue
                v = [float(r.result[claim.metric]) for r in sel]
                _mark_never(ax, j + (0.06 * i if along else 0), v, f"C{i}")
                v = [x if not math.isinf(x) else math.nan for x in v]  # inf: not drawn
                everything += v
                stat = mean_spread(v)
                means.append(stat.mean)
                spreads.append(stat.std)
                pos.append(j + (0.06 * i if along else 0))
                ax.plot([pos[-1]] * len(v), v, ".", color=f"C{i}", alpha=0.45)
            label = f"{claim.compare} {_show(rs[0].spec[claim.compare])}" if along else None
            ax.errorbar(pos, means, yerr=spreads, marker="o", capsize=3, color=f"C{i}",
                        linestyle="-" if along else "none", label=label)
        ax.set_xticks(range(len(xs)))
        ax.set_xticklabels([_show(x) for x in xs])
        ax.set_xlim(-0.5, len(xs) - 0.5)
        ax.set_xlabel(along or claim.compare)
        ax.set_ylabel(claim.metric)
        if cond:
            ax.set_title(_cond_name(cond))
        if along:
            ax.legend()
    finite = [v for v in everything if math.isfinite(v)]
    if finite and min(finite) > 0 and max(finite) / min(finite) > 100:
        for ax in axes:
            ax.set_yscale("log")
    caption = _claim_caption(claim, along, others, len({r.seed for r in results}))
    return caption, fig


def _mark_never(ax, x: float, values, color: str) -> None:
    """Above position ``x``, how many runs never reached the target (inf, not drawn)."""
    never = sum(math.isinf(v) for v in values)
    if never:
        ax.annotate(_("{never} of {n}\nnever reached").format(never=never, n=len(values)),
                    (x, 0.97),
                    xycoords=("data", "axes fraction"), ha="center", va="top", fontsize=8,
                    color=color)


def _claim_caption(claim: Claim, along, others, n_seeds: int) -> str:
    """The figure's caption: what is plotted against what, over how many seeds."""
    if along:
        plotted = _("{metric} per {along} and {compare}").format(
            metric=claim.metric, along=along, compare=claim.compare)
    else:
        plotted = _("{metric} per {compare}").format(metric=claim.metric, compare=claim.compare)
    if others:
        plotted += _(", one panel per {dimensions}").format(dimensions=", ".join(others))
    text = ngettext("{plotted}: mean ± spread over {n} seed, each seed a dot.",
                    "{plotted}: mean ± spread over {n} seeds, each seed a dot.",
                    n_seeds).format(plotted=plotted, n=n_seeds)
    if claim.metric == "epochs_to_target":
        text += " " + _("Never reached = epochs + 1.")
    elif claim.metric in ("steps_to_target", "seconds_to_target"):
        text += " A run that never reached the target is not drawn."
    return text
