"""Export probe records to TensorBoard event files (scalars and histograms), with tensorboardX.

Tags are ``"<quantity>/<layer>"`` (``"dead/1_relu"``, ``"weight_grad_norm/0_dense"``,
``"loss/model"``), so TensorBoard groups one quantity of every layer in one section; histograms
are ``"activation/<layer>"`` and ``"gradient/<layer>"``. Layer labels are made tag-safe
(``"1:relu"`` → ``"1_relu"``). Steps are the probe's steps.

Example::

    export_tensorboard(probe, "runs/relu-lr0.5")       # then: tensorboard --logdir runs

or live, writing only what is new at each call::

    with TensorBoardWriter("runs/live") as tb:
        for step in …:
            …; probe.measure(step); tb.write(probe)

or, simplest, as a callback of ``fit`` that writes while training (the epoch metrics under
``epoch/…``, the probe's scalars and histograms as they are measured, the hyperparameters with the
final metrics at the end)::

    fit(model, X, y, …, callbacks=[probe, TensorBoardCallback("runs/live", probe,
                                                            hparams={"lr": 0.1})])
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ConfigError
from ..i18n import _
from .records import Histograms, Records

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-/]")


def tag(quantity: str, layer: str) -> str:
    """The TensorBoard tag of one series: ``tag("dead", "1:relu") == "dead/1_relu"``."""
    return f"{_UNSAFE.sub('_', quantity)}/{_UNSAFE.sub('_', layer)}"


class TensorBoardWriter:
    """Writes a probe's records and histograms to ``logdir``; each :meth:`write` adds only the
    rows and histograms recorded since the previous call."""

    def __init__(self, logdir, flush_secs: int = 10):
        try:
            from tensorboardX import SummaryWriter
        except ImportError as e:
            raise ConfigError(_("TensorBoard export needs tensorboardX: pip install "
                                "'whynet[tensorboard]'")) from e
        self.logdir = Path(logdir)
        self._writer = SummaryWriter(logdir=str(self.logdir), flush_secs=flush_secs)
        self._rows_done = 0
        self._hist_done = 0

    def write(self, source, histograms: Histograms | None = None) -> None:
        """Write new rows of ``source`` (a probe or Records) and new histograms (the probe's, or
        ``histograms``)."""
        records = getattr(source, "records", source)
        if not isinstance(records, Records):
            raise ConfigError(_("TensorBoardWriter.write: expected a probe or Records, got {type}")
                                .format(type=type(source).__name__))
        hist = histograms if histograms is not None else getattr(source, "histograms", None)
        rows = list(records)
        for step, layer, quantity, value in rows[self._rows_done:]:
            self._writer.add_scalar(tag(quantity, layer), value, global_step=step)
        self._rows_done = len(rows)
        if hist is not None:
            entries = list(hist)
            for e in entries[self._hist_done:]:
                self._writer.add_histogram_raw(
                    tag(e.kind, e.layer), min=e.min, max=e.max, num=e.num, sum=e.sum,
                    sum_squares=e.sum_squares, bucket_limits=e.edges[1:].tolist(),
                    bucket_counts=e.counts.tolist(), global_step=e.step)
            self._hist_done = len(entries)

    def scalar(self, tag_: str, value: float, step: int) -> None:
        """One scalar under its full tag, e.g. ``scalar("epoch/loss", 0.31, 4)``."""
        self._writer.add_scalar(tag_, float(value), global_step=step)

    def hparams(self, hparams: dict, metrics: dict) -> None:
        """Hyperparameters and the metrics they led to, for TensorBoard's HParams tab, written into
        this writer's own event file.

        (tensorboardX's ``add_hparams`` opens a second writer instead, whose file is named by the
        current second: within the first second of a run it has the main file's name and
        truncates it, losing every scalar written so far.)
        """
        from tensorboardX.summary import hparams as hparams_summaries

        file_writer = self._writer._get_file_writer()
        for summary in hparams_summaries(hparams, metrics):  # experiment, session start, end
            file_writer.add_summary(summary)
        for name, value in metrics.items():
            self._writer.add_scalar(name, value)

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> "TensorBoardWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class TensorBoardCallback:
    """A :func:`whynet.train.fit` callback that writes to TensorBoard *while* training.

    At each epoch end: ``epoch/loss``, ``epoch/acc``, ``epoch/lr`` and ``epoch/val_*`` (step =
    epoch), then a flush, so TensorBoard shows the run as it goes. After every step where the
    probe (if given; put it before this callback) recorded something new: its scalars and
    histograms. At the end: ``hparams`` (a flat dict of numbers/strings) with the last epoch's
    metrics, in TensorBoard's HParams tab, and the file is closed.
    """

    def __init__(self, logdir, probe=None, hparams: dict | None = None, flush_secs: int = 10):
        self.writer = TensorBoardWriter(logdir, flush_secs=flush_secs)  # checks tensorboardX now
        self.probe, self.hparams = probe, dict(hparams or {})
        self._seen = 0
        self._last: dict = {}

    def on_step_end(self, step, loss, ctx) -> None:
        if self.probe is not None and len(self.probe.records) != self._seen:
            self.writer.write(self.probe)
            self._seen = len(self.probe.records)

    def on_epoch_end(self, epoch, logs, ctx) -> None:
        for name, value in logs.items():
            if value is not None:
                self.writer.scalar(f"epoch/{name}", value, epoch)
        self._last = {f"final/{k}": float(v) for k, v in logs.items() if v is not None}
        self.writer.flush()

    def on_train_end(self, ctx) -> None:
        if self.probe is not None:
            self.writer.write(self.probe)
        if self.hparams:
            self.writer.hparams(self.hparams, self._last or {"final/none": 0.0})
        self.writer.close()


def export_tensorboard(source, logdir, histograms: Histograms | None = None) -> Path:
    """Write all records (and histograms) of ``source`` to a new event file in ``logdir``;
    returns ``logdir``. This is what ``--tensorboard DIR`` calls."""
    with TensorBoardWriter(logdir) as writer:
        writer.write(source, histograms)
    return Path(logdir)
