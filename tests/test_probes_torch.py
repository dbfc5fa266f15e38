"""whynet.probes.torch: the same records from a PyTorch model as from the same whynet model
(issue 4, point 2), and PyTorch training left untouched."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from whynet.errors import ConfigError  # noqa: E402
from whynet.nn import Dense, Sequential  # noqa: E402
from whynet.nn.activations import PReLU, ReLU, Sigmoid, Tanh  # noqa: E402
from whynet.nn.losses import SoftmaxCrossEntropy  # noqa: E402
from whynet.nn.norm import BatchNorm1d  # noqa: E402
from whynet.nn.torch_state import to_torch  # noqa: E402
from whynet.probes import Probe  # noqa: E402
from whynet.probes.torch import TorchProbe  # noqa: E402

nn = torch.nn


def _copy_weights(wn, tn):
    """whynet layer i → torch layer i, through the public converter (Dense/Linear, PReLU α,
    BatchNorm γ β, running statistics and batch count)."""
    tn.load_state_dict(to_torch(wn))


def _pair(kind: str):
    f64 = np.float64
    if kind == "mlp":
        wn = Sequential(Dense(6, 12, rng=1, dtype=f64), Tanh(), Dense(12, 10, rng=2, dtype=f64),
                        ReLU(), Dense(10, 8, rng=3, dtype=f64), Sigmoid(),
                        Dense(8, 4, rng=4, dtype=f64))
        tn = nn.Sequential(nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 10), nn.ReLU(),
                           nn.Linear(10, 8), nn.Sigmoid(), nn.Linear(8, 4))
    else:  # BatchNorm and PReLU, with non-trivial running statistics and slopes
        wn = Sequential(Dense(6, 10, rng=1, dtype=f64), BatchNorm1d(10, dtype=f64),
                        PReLU(num_parameters=10, dtype=f64), Dense(10, 4, rng=2, dtype=f64))
        wn[1].running_mean = np.linspace(-1, 1, 10)
        wn[1].running_var = np.linspace(0.5, 2, 10)
        wn[1].gamma.value[...] = np.linspace(0.8, 1.2, 10)
        wn[2].alpha.value[...] = np.linspace(0.05, 0.5, 10)
        tn = nn.Sequential(nn.Linear(6, 10), nn.BatchNorm1d(10), nn.PReLU(10), nn.Linear(10, 4))
    tn = tn.double()
    _copy_weights(wn, tn)
    return wn, tn


@pytest.mark.parametrize("kind", ["mlp", "bn_prelu"])
def test_whynet_and_torch_paths_give_equal_records(kind):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(48, 6))
    y = rng.integers(0, 4, size=48)
    wn, tn = _pair(kind)
    opts = dict(every=1, jacobian=True, bins=20)
    p = Probe(wn, X, y, SoftmaxCrossEntropy(), **opts)
    q = TorchProbe(tn, X, y, nn.CrossEntropyLoss(), **opts)
    # Measure, take one identical SGD step in both (for ‖ΔW‖/‖W‖), measure again.
    for step in (1, 2):
        p.on_before_update(step)
        q.on_before_update(step)
        with torch.no_grad():
            for w, t in zip(wn.layers, tn):
                if isinstance(t, nn.Linear):
                    delta = 0.1 * np.cos(np.arange(w.W.value.size)).reshape(w.W.value.shape)
                    w.W.value -= delta
                    t.weight -= torch.from_numpy(delta)
        p.on_step_end(step, 1.0)
        q.on_step_end(step, 1.0)
    a, b = list(p.records), list(q.records)
    assert len(a) == len(b) > 100
    assert [r[:3] for r in a] == [r[:3] for r in b]          # same steps, layers, quantities
    np.testing.assert_allclose([r[3] for r in a], [r[3] for r in b], rtol=1e-6, atol=1e-12)
    assert {"update_ratio", "jac_sv_mean", "input_grad_norm"} <= set(p.records.quantities())
    if kind == "bn_prelu":
        assert {"bn_mean_gap", "bn_var_ratio", "alpha_min"} <= set(p.records.quantities())
    else:
        assert {"saturated", "dead", "sign_agreement"} <= set(p.records.quantities())
    for ea, eb in zip(p.histograms, q.histograms):
        assert (ea.step, ea.layer, ea.kind) == (eb.step, eb.layer, eb.kind)
        # Round-off (float64, different BLAS) may move a value that sits on a bin edge into
        # the next bin: the cumulative counts may differ by one, never more.
        assert ea.counts.sum() == eb.counts.sum()
        assert np.abs(np.cumsum(ea.counts) - np.cumsum(eb.counts)).max() <= 1
        np.testing.assert_allclose(ea.edges, eb.edges, rtol=1e-9, atol=1e-15)
    assert [(f.rule, f.layer, f.step) for f in p.findings] == \
        [(f.rule, f.layer, f.step) for f in q.findings]


def test_torch_training_is_unchanged_by_the_probe():
    rng = np.random.default_rng(1)
    X = torch.from_numpy(rng.normal(size=(64, 5)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 3, size=64))

    def make():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(5, 16), nn.ReLU(inplace=True), nn.Dropout(0.3),
                             nn.Linear(16, 3))

    def train(model, probe=None):
        torch.manual_seed(1)
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        loss_fn = nn.CrossEntropyLoss()
        for step in range(1, 13):
            opt.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            if probe:
                probe.on_before_update(step)
            opt.step()
            if probe:
                probe.on_step_end(step, loss.item())

    plain, probed = make(), make()
    train(plain)
    for mode in ("eval", "train"):
        probed = make()
        probe = TorchProbe(probed, X[:32], y[:32], nn.CrossEntropyLoss(), every=3, mode=mode)
        train(probed, probe)
        for a, b in zip(plain.parameters(), probed.parameters()):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
        assert probed[1].inplace is True                # switched off only during the pass
        assert probe.records.steps() == [1, 3, 6, 9, 12]
        assert probed.training


def test_a_reused_activation_module_gets_one_label_per_call():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.out = nn.Linear(4, 8), nn.Linear(8, 8), nn.Linear(8, 2)
            self.act = nn.Tanh()

        def forward(self, x):
            return self.out(self.act(self.fc2(self.act(self.fc1(x)))))

    torch.manual_seed(0)
    net = Net()
    X = torch.randn(16, 4)
    y = torch.randint(0, 2, (16,))
    rows = TorchProbe(net, X, y, nn.CrossEntropyLoss()).measure(1)
    assert rows.layers() == ["model", "fc1:dense", "act:tanh", "fc2:dense", "act@2:tanh",
                             "out:dense"]
    # each call keeps its own activations: the second tanh sees fc2's output
    with torch.no_grad():
        a2 = torch.tanh(net.fc2(torch.tanh(net.fc1(X)))).numpy()
    assert rows.value(1, "act@2:tanh", "act_mean") == pytest.approx(float(a2.mean()), rel=1e-5)
    # ∂L/∂(input of the second call) is the gradient flowing into fc2's output
    assert rows.value(1, "act@2:tanh", "input_grad_norm") == pytest.approx(
        rows.value(1, "fc2:dense", "output_grad_norm"), rel=1e-6)


def test_vanishing_gradient_finding_on_a_deep_torch_sigmoid_net():
    torch.manual_seed(0)
    layers = []
    for _ in range(9):
        layers += [nn.Linear(16, 16), nn.Sigmoid()]
    net = nn.Sequential(*layers, nn.Linear(16, 3))
    X, y = torch.randn(64, 16), torch.randint(0, 3, (64,))
    probe = TorchProbe(net, X, y, nn.CrossEntropyLoss())
    probe.measure(1)
    assert [f.rule for f in probe.findings][0] == "vanishing_gradient"


def test_binary_accuracy_and_bad_arguments():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 1))
    X = torch.randn(20, 3)
    y = (X[:, :1] > 0).double().float()
    rows = TorchProbe(net, X, y, nn.BCEWithLogitsLoss()).measure(1)
    with torch.no_grad():
        expected = float(((net(X) > 0).float() == y).float().mean())
    assert rows.value(1, "model", "accuracy") == pytest.approx(expected)
    with pytest.raises(ConfigError, match="model must be a torch.nn.Module, got Sequential"):
        TorchProbe(Sequential(Dense(3, 1)), X, y, nn.BCEWithLogitsLoss())
    with pytest.raises(ConfigError, match="loss_fn must be callable"):
        TorchProbe(net, X, y, "bce")


def test_importing_whynet_probes_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, whynet.probes, whynet.probes.plots; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _torch_run(attach: bool, steps: int = 12):
    """A small torch MLP trained by SGD for ``steps`` steps, probed either through
    ``attach(optimizer)`` or with the two manual calls around ``optimizer.step()``."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    X = torch.randn(64, 4)
    y = torch.randint(0, 3, (64,))
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    probe = TorchProbe(model, X[:32], y[:32], loss_fn, every=4)
    handle = probe.attach(opt) if attach else None
    for step in range(1, steps + 1):
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        if not attach:
            probe.on_before_update(step)
        opt.step()
        if not attach:
            probe.on_step_end(step)
    if handle:
        handle.remove()
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        opt.step()  # detached: this step is not measured
    return probe


def test_attach_to_the_optimizer_records_what_the_manual_calls_record():
    by_hooks, by_hand = _torch_run(True), _torch_run(False)
    assert by_hooks.records.steps() == by_hand.records.steps() == [1, 4, 8, 12]
    a, b = by_hooks.records.to_dict(), by_hand.records.to_dict()
    assert a["quantity"] == b["quantity"] and a["layer"] == b["layer"]
    np.testing.assert_allclose(a["value"], b["value"], rtol=1e-6)
    assert "update_ratio" in a["quantity"]
    with pytest.raises(ConfigError, match="expected a torch.optim.Optimizer"):
        by_hooks.attach(object())


def test_lightning_callback_probes_a_lightning_module(tmp_path):
    lightning = pytest.importorskip("lightning")
    from whynet.probes.lightning import ProbeCallback

    class Net(lightning.LightningModule):
        def __init__(self):
            super().__init__()
            self.body = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(),
                                            torch.nn.Linear(8, 3))
            self.loss_fn = torch.nn.CrossEntropyLoss()

        def forward(self, x):
            return self.body(x)

        def training_step(self, batch, batch_idx):
            x, y = batch
            return self.loss_fn(self(x), y)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    torch.manual_seed(0)
    X, y = torch.randn(96, 4), torch.randint(0, 3, (96,))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=16)
    callback = ProbeCallback(X[:32], y[:32], torch.nn.CrossEntropyLoss(), every=2)
    trainer = lightning.Trainer(max_epochs=2, callbacks=[callback], logger=False,
                                enable_checkpointing=False, enable_progress_bar=False,
                                enable_model_summary=False, accelerator="cpu",
                                default_root_dir=tmp_path)
    trainer.fit(Net(), loader)
    probe = callback.probe
    assert probe.records.steps() == [1, 2, 4, 6, 8, 10, 12]  # 12 optimiser steps: 1, then every 2
    quantities = set(probe.records.quantities())
    assert {"update_ratio", "train_loss", "dead", "weight_grad_norm"} <= quantities
    assert probe.records.layers()[:2] == ["model", "body.0:dense"]
