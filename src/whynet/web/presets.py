"""One-click presets: an experiment of whynet's report, shrunk to fit the 2-D lab.

Each preset is a lab configuration, the question IDs it illustrates, the experiment whose section
of the report has the full measurement over seeds, and one paragraph saying what to look at.
``tests/test_web_presets.py`` trains every preset for a while and checks that it shows what its
paragraph promises.
"""

from __future__ import annotations

import dataclasses

from ..errors import ConfigError
from ..i18n import N_, _
from ..probes.findings import RULES
from .schema import LabConfig


@dataclasses.dataclass(frozen=True)
class Preset:
    """A preset. ``title`` and ``explanation`` are English source strings (marked with ``N_``),
    translated when shown; ``lesson`` is the finding rule the preset is about
    (:data:`whynet.probes.findings.RULES`), ranked first among its findings; None when its lesson
    is not one a rule finds (a curve to compare, a column to watch)."""

    id: str
    title: str
    questions: tuple[str, ...]
    experiment: str
    explanation: str
    config: LabConfig
    speed: int = 0  # steps a second to play at; 0 keeps the page's speed
    lesson: str | None = None

    def __post_init__(self):
        if self.lesson is not None and self.lesson not in RULES:
            raise ConfigError(f"preset {self.id}: lesson must be a finding rule, "
                              f"got {self.lesson!r}")

    def to_dict(self) -> dict:
        """The preset as the page gets it, its text in the language in force."""
        return {"id": self.id, "title": _(self.title), "questions": list(self.questions),
                "experiment": self.experiment, "explanation": _(self.explanation),
                "config": self.config.model_dump(), "speed": self.speed, "lesson": self.lesson}


def _layers(n: int, units: int, activation: str) -> list[dict]:
    return [{"units": units, "activation": activation}] * n


PRESETS: tuple[Preset, ...] = (
    Preset(
        "dead-relu", N_("Dead ReLU units"), ("A6",), "a6",
        N_("A ReLU unit whose input is negative for every example outputs 0 everywhere and gets "
           "no gradient, so nothing can bring it back. Plain SGD with a learning rate of 0.5 "
           "throws units into that state: watch the dead column of the layer table climb until "
           "the last hidden layer is entirely dead (its heat maps go blank, outlined in red), "
           "the output is a constant and the accuracy stays at 50%. Switch the three activations "
           "to leaky_relu (same seed): its slope for z < 0 is 0.01, not 0, so no unit dies and "
           "it keeps learning."),
        LabConfig(dataset="spiral", noise=0.0, layers=_layers(3, 8, "relu"), optimizer="sgd",
                  lr=0.5, batch_size=10, seed=10), lesson="dead_units"),
    Preset(
        "vanishing-sigmoid", N_("Vanishing gradients in a deep sigmoid net"), ("A4",), "a4",
        N_("σ′(z) is at most 0.25, so each sigmoid layer multiplies the gradient flowing down by "
           "0.25 or less: six layers can shrink it by 0.25⁶ ≈ 2·10⁻⁴. The gradient-norm chart "
           "shows the first layer's line far below the last one's, the early layers barely move "
           "(update ratio), and the loss stays flat for a long time. Change the activation to "
           "relu with He initialisation and the lines come together."),
        LabConfig(dataset="circles", noise=0.1, layers=_layers(6, 8, "sigmoid"),
                  init="xavier_uniform", optimizer="sgd", lr=0.3, batch_size=10, seed=4),
        lesson="vanishing_gradient"),
    Preset(
        "zero-init", N_("Zero initialisation: symmetry"), ("I1", "I4"), "i1",
        N_("With every weight at zero, all units of a layer compute the same function, receive "
           "the same gradient and therefore stay equal forever: the layer acts as a single unit. "
           "The heat maps of each layer are identical and the layer table reports one distinct "
           "unit. Pick any random initialiser (biases may stay at zero) and the units "
           "differentiate."),
        LabConfig(dataset="circles", noise=0.1, layers=_layers(2, 6, "sigmoid"), init="zeros",
                  optimizer="sgd", lr=1.0, batch_size=10), lesson="symmetry"),
    Preset(
        "xavier-relu", N_("Xavier with ReLU in a deep net"), ("I3",), "i3",
        N_("Xavier initialisation keeps the variance of activations constant for a linear or "
           "tanh unit, but ReLU zeroes about half of its inputs, so with Xavier the spread of "
           "the activations shrinks layer after layer. Look at step 0, before Play (⟲ Reset "
           "brings it back): the act std column falls from about 0.14 in the first layer to 0.03 "
           "in the sixth. Then press Play: the loss hardly moves from ln 2 ≈ 0.69 for the first "
           "few hundred steps (still above 0.6 at step 300). Load the He preset to compare."),
        LabConfig(dataset="circles", noise=0.1, layers=_layers(6, 16, "relu"),
                  init="xavier_normal", optimizer="sgd", lr=0.01, batch_size=10), speed=200),
    Preset(
        "he-relu", N_("He with ReLU in a deep net"), ("I3",), "i3",
        N_("He initialisation doubles Xavier's variance (std √(2/fan_in)) to make up for the "
           "half of the inputs ReLU zeroes. Look at step 0, before Play (⟲ Reset brings it "
           "back): the act std column stays about the same (≈ 0.3–0.6) from the first layer to "
           "the sixth. Then press Play: gradients reach every layer, and the same deep net's "
           "loss falls from the first steps."),
        LabConfig(dataset="circles", noise=0.1, layers=_layers(6, 16, "relu"), init="he_normal",
                  optimizer="sgd", lr=0.01, batch_size=10), speed=200),
    Preset(
        "small-init-tanh", N_("Small random weights in a deep tanh net"), ("I2",), "i2",
        N_("Weights drawn with std 0.01 (the course's ×0.01) are fine for one hidden layer, but "
           "each tanh layer multiplies the activations' spread by about 0.01·√fan_in: by the "
           "third layer the histograms are a spike at zero, the gradients vanish with them, and "
           "nothing trains."),
        LabConfig(dataset="circles", noise=0.1, layers=_layers(5, 16, "tanh"), init="small",
                  optimizer="sgd", lr=0.1, batch_size=10),
        lesson="vanishing_gradient"),
    Preset(
        "l1-sparsity", N_("L1 makes weights sparse"), ("R1",), "r1",
        N_("All seven inputs are offered, but circles only needs x₁² and x₂². The L1 penalty λ·Σ|w| "
           "pulls every weight towards zero by the same amount each step, so the weights of the "
           "five useless inputs end within 10⁻³ of zero: the “≈0 weights” column of the first layer "
           "climbs to about 90%. Switch to L2, whose pull (λ·w) weakens as a weight shrinks: the "
           "useless weights get small but stay far from zero, and the column stays low."),
        LabConfig(dataset="circles", noise=0.05,
                  features=["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"],
                  layers=_layers(1, 8, "tanh"), regularizer="l1", reg_rate=0.01,
                  optimizer="sgd", lr=0.1, batch_size=10)),
    Preset(
        "linear-collapse", N_("No non-linearity: the network is one linear map"), ("A10",), "a10",
        N_("Three hidden layers with the identity activation compute W₄W₃W₂W₁x + b: a single "
           "linear map, so the boundary stays a straight line and circles stays near 50% "
           "accuracy however long it trains. Change the activation to tanh and the boundary "
           "bends."),
        LabConfig(dataset="circles", noise=0.1, layers=_layers(3, 8, "identity"),
                  optimizer="sgd", lr=0.03, batch_size=10)),
    Preset(
        "tanh-vs-sigmoid", N_("Sigmoid in hidden layers"), ("A5", "A1"), "a5",
        N_("Sigmoid outputs are all positive, so the gradients of the weights into a unit share "
           "one sign and updates zig-zag; tanh is zero-centred. With the same seed, budget and "
           "learning rate, compare the test loss curve of this sigmoid net with the same net in "
           "tanh (change both layers' activations)."),
        LabConfig(dataset="xor", noise=0.0, layers=_layers(2, 8, "sigmoid"), optimizer="sgd",
                  lr=0.1, batch_size=10)),
    Preset(
        "batchnorm-rescue", N_("Batch normalisation rescues a deep sigmoid net"), ("B2",), "b2",
        N_("The deep sigmoid net of the vanishing-gradient preset, with batch normalisation "
           "before every activation: each layer's inputs are re-centred and re-scaled, so the "
           "sigmoids work in their steep middle part, gradients reach the first layer, and it "
           "trains."),
        LabConfig(dataset="circles", noise=0.1, layers=_layers(6, 8, "sigmoid"),
                  init="xavier_uniform", batchnorm=True, optimizer="sgd", lr=0.3,
                  batch_size=10, seed=4)),
    Preset(
        "overfitting", N_("Overfitting, and what weight decay does"), ("R2",), "r2",
        N_("Few noisy training points and a large network: the training loss keeps falling while "
           "the test loss turns up, and the boundary wraps around single points. Set L2 with a "
           "rate of 0.01 (or dropout 0.3) and the gap between the two curves closes."),
        LabConfig(dataset="moons", noise=0.3, n_points=80, train_ratio=0.5,
                  layers=_layers(3, 16, "relu"), optimizer="adam", lr=0.01, batch_size=10,
                  seed=1)),
)

PRESET_IDS = tuple(p.id for p in PRESETS)
