"""whynet's probes inside PyTorch Lightning: one callback.

    trainer = lightning.Trainer(callbacks=[ProbeCallback(X_probe, y_probe, nn.CrossEntropyLoss(),
                                                         every=10)])
    trainer.fit(module, loader)
    print(trainer.callbacks[0].probe.report())

The callback builds a :class:`~whynet.probes.torch.TorchProbe` on the LightningModule when fitting
starts, measures before each due optimiser step (``on_before_optimizer_step``) and records the
update ratio and the training loss after it (``on_train_batch_end``). Needs ``lightning``
(``pip install lightning``) besides ``whynet[torch]``.
"""

from __future__ import annotations

from ..errors import ConfigError
from ..i18n import _
from .recorder import DEFAULT_EVERY
from .torch import TorchProbe

try:
    from lightning.pytorch.callbacks import Callback
except ImportError as e:  # an optional extra: say which package is missing
    raise ConfigError(_("whynet.probes.lightning needs PyTorch Lightning: pip install lightning")) \
        from e


class ProbeCallback(Callback):
    """A Lightning callback that probes the module being trained; ``.probe`` holds the records,
    histograms and findings (a :class:`~whynet.probes.torch.TorchProbe`)."""

    def __init__(self, X, y, loss_fn, every=DEFAULT_EVERY, **options):
        super().__init__()
        self.X, self.y, self.loss_fn, self.every, self.options = X, y, loss_fn, every, options
        self.probe = None

    def on_fit_start(self, trainer, pl_module) -> None:
        self.probe = TorchProbe(pl_module, self.X, self.y, self.loss_fn, every=self.every,
                                **self.options)

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        self.probe.on_before_update(trainer.global_step + 1)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        value = None if loss is None else float(loss.detach())
        self.probe.on_step_end(trainer.global_step, value)

    def on_fit_end(self, trainer, pl_module) -> None:
        self.probe.finish()  # the end-of-run findings (underfitting, a run too short)
