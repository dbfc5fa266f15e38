"""TensorBoard export read back by TensorBoard's own reader (issue 4, point 5), and the figures."""

import io
import time

import numpy as np
import pytest
from matplotlib.figure import Figure

from whynet.errors import ConfigError
from whynet.nn import mlp
from whynet.probes import Probe, Records, plots
from whynet.probes.tensorboard import TensorBoardWriter, export_tensorboard, tag
from whynet.train import fit


@pytest.fixture(scope="module")
def probe():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 8)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 0.5)
    model = mlp([8, 16, 16, 3], activation="tanh", seed=0)
    p = Probe(model, X[:64], y[:64], "softmax_ce", every=5, bins=12)
    fit(model, X, y, loss="softmax_ce", optimizer="sgd", lr=0.1, epochs=2, batch_size=32,
        seed=0, callbacks=[p])
    return p


def _reader(logdir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ea = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "histograms": 0})
    ea.Reload()
    return ea


def test_tag_is_tensorboard_safe():
    assert tag("dead", "1:relu") == "dead/1_relu"
    assert tag("weight_norm[W_hh]", "act@2:tanh") == "weight_norm_W_hh_/act_2_tanh"


def test_tensorboard_export_reads_back_with_expected_tags_and_steps(probe, tmp_path):
    export_tensorboard(probe, tmp_path)
    ea = _reader(tmp_path)
    scalars = set(ea.Tags()["scalars"])
    expected = {tag(q, la) for _, la, q, _ in probe.records}
    assert scalars == expected
    assert {"loss/model", "saturated/1_tanh", "update_ratio/0_dense"} <= scalars
    steps, values = probe.records.series("1:tanh", "act_std")
    events = ea.Scalars("act_std/1_tanh")
    assert [e.step for e in events] == steps.tolist() == [1, 5, 10, 15]
    np.testing.assert_allclose([e.value for e in events], values, rtol=1e-6)  # stored as float32
    hists = set(ea.Tags()["histograms"])
    assert hists == {"activation/1_tanh", "activation/3_tanh", "gradient/0_dense",
                     "gradient/2_dense", "gradient/4_dense"}
    h = ea.Histograms("activation/3_tanh")
    assert [e.step for e in h] == [1, 5, 10, 15]
    entry = probe.histograms.at(10, "3:tanh")
    hv = h[2].histogram_value
    assert hv.num == entry.num == 64 * 16
    assert list(hv.bucket) == entry.counts.tolist()
    assert list(hv.bucket_limit) == pytest.approx(entry.edges[1:].tolist())


def test_tensorboard_writer_writes_only_what_is_new(probe, tmp_path):
    first = Records(list(probe.records)[:10])
    with TensorBoardWriter(tmp_path) as tb:
        tb.write(first)
        tb.write(probe)          # the first 10 rows are not written twice
    ea = _reader(tmp_path)
    assert len(ea.Scalars("loss/model")) == len(probe.records.series("model", "loss")[0])
    with pytest.raises(ConfigError, match="expected a probe or Records, got dict"):
        TensorBoardWriter(tmp_path).write({})


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_activation_histograms_side_by_side(probe):
    fig = plots.activation_histograms(probe)
    assert [ax.get_title().split("\n")[0] for ax in fig.axes] == ["1:tanh", "3:tanh"]
    assert fig.get_suptitle() == "activations at step 15"
    assert _png(fig).startswith(b"\x89PNG")
    fig = plots.activation_histograms(probe.histograms, step=5, layers=["3:tanh"])
    assert len(fig.axes) == 1


def test_histogram_over_time_image(probe):
    fig = plots.histogram_over_time(probe)
    axes = [ax for ax in fig.axes if ax.get_ylabel()]
    assert [ax.get_ylabel() for ax in axes] == ["1:tanh", "3:tanh"]
    image = axes[0].images[0].get_array()
    assert image.shape == (12, 4)                  # bins × measurements
    assert axes[0].get_ylim() == pytest.approx((-1.0, 1.0))   # tanh's range
    assert _png(fig).startswith(b"\x89PNG")


def test_gradient_norms_by_layer(probe):
    fig = plots.gradient_norms(probe)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.lines] == ["step 1", "step 10", "step 15"]
    assert len(ax.lines[0].get_xdata()) == 3       # three dense layers
    assert _png(fig).startswith(b"\x89PNG")


def test_update_ratios_with_the_healthy_line(probe):
    fig = plots.update_ratios(probe)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.lines]
    assert labels == ["0:dense", "2:dense", "4:dense", "1e-3"]
    assert ax.lines[-1].get_ydata()[0] == 1e-3
    assert _png(fig).startswith(b"\x89PNG")


def test_dead_and_saturated_over_time(probe):
    fig = plots.dead_saturated(probe)
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels == ["1:tanh dead", "3:tanh dead", "1:tanh saturated", "3:tanh saturated"]
    assert _png(fig).startswith(b"\x89PNG")


def test_log_plots_tolerate_zero_values():
    records = Records([(1, "0:dense", "update_ratio", 0.0), (2, "0:dense", "update_ratio", 1e-3)])
    fig = plots.update_ratios(records)     # no warning (warnings are errors in tests)
    assert np.isnan(fig.axes[0].lines[0].get_ydata()[0])


def test_plots_say_what_is_missing():
    with pytest.raises(ConfigError, match="no update_ratio records"):
        plots.update_ratios(Records())
    with pytest.raises(ConfigError, match="no histograms recorded"):
        plots.histogram_over_time(_empty_probe())
    with pytest.raises(ConfigError, match="expected a probe or Records, got int"):
        plots.dead_saturated(3)


def _empty_probe():
    from whynet.probes import Histograms

    class Empty:
        histograms = Histograms()
    return Empty()


def test_tensorboard_callback_writes_while_training_and_hparams_at_the_end(tmp_path):
    from whynet.probes.tensorboard import TensorBoardCallback
    from whynet.train import Callback

    X = np.random.default_rng(0).standard_normal((200, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    model = mlp([2, 8, 2], activation="tanh", seed=0)
    probe = Probe(model, X[:64], y[:64], "softmax_ce", every=5)
    logdir = tmp_path / "live"
    tb = TensorBoardCallback(logdir, probe, hparams={"lr": 0.1, "activation": "tanh"})
    seen_during = {}

    class ReadBack(Callback):  # reads the event file from outside, mid-training
        def on_epoch_end(self, epoch, logs, ctx):
            if epoch == 3:  # training waits here; tensorboardX writes from its own thread
                deadline = time.monotonic() + 10
                while True:
                    ea = _reader(logdir)
                    tags = ea.Tags()["scalars"]
                    steps = [e.step for e in ea.Scalars("epoch/loss")] if "epoch/loss" in tags \
                        else []
                    if steps == [1, 2, 3] or time.monotonic() > deadline:
                        break
                    time.sleep(0.1)
                seen_during["epochs"] = steps
                seen_during["probe"] = [t for t in tags if t.startswith("dead/")]

    h = fit(model, X, y, loss="softmax_ce", lr=0.1, epochs=6, batch_size=50,
            validation_data=(X[:50], y[:50]), callbacks=[probe, tb, ReadBack()], progress=False)
    assert seen_during["epochs"] == [1, 2, 3]  # the first three epochs, readable while training
    assert seen_during["probe"]  # and the probe's per-layer scalars
    ea = _reader(logdir)
    loss = [e.value for e in ea.Scalars("epoch/loss")]
    assert np.allclose(loss, h.epochs["loss"], rtol=1e-6)
    assert [e.value for e in ea.Scalars("epoch/val_acc")] == pytest.approx(h.epochs["val_acc"])
    hparams = ea.PluginTagToContent("hparams")
    assert hparams and any(b"activation" in content for content in hparams.values())
    assert [e.value for e in ea.Scalars("final/loss")] == pytest.approx([h.epochs["loss"][-1]])


def test_hparams_written_at_once_keep_the_scalars_before_them(tmp_path):
    """tensorboardX's add_hparams opens a second event file named by the current second; written
    right after the first, it had the same name and truncated it (the CI failure of stop 18)."""
    from whynet.probes.tensorboard import TensorBoardWriter

    with TensorBoardWriter(tmp_path) as writer:
        for step in (1, 2, 3):
            writer.scalar("epoch/loss", 1.0 / step, step)
        writer.hparams({"lr": 0.1}, {"final/loss": 1 / 3})
    ea = _reader(tmp_path)
    assert [e.step for e in ea.Scalars("epoch/loss")] == [1, 2, 3]
    assert [e.value for e in ea.Scalars("final/loss")] == pytest.approx([1 / 3])
    assert any(b"lr" in content for content in ea.PluginTagToContent("hparams").values())
    assert len(list(tmp_path.iterdir())) == 1  # one event file
