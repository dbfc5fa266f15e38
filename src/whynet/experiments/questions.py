"""The question catalogue: the stable IDs and short claims of ``../shared/QUESTIONS.md``.

The report's overview lists every ID here, with "not yet answered" where no experiment covers it.
The claims are shortened from the notes; the note file (000–004) and page are kept in brackets.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    id: str
    group: str
    claim: str


GROUPS = {
    "A": "Activation functions",
    "I": "Initialisation",
    "R": "Regularisation and generalisation",
    "B": "Batch normalisation",
    "T": "Watching training",
    "H": "Hyperparameter search",
    "C": "Convolution and recurrence",
}

_CLAIMS = [
    ("A1", "A", "Non-zero-centred outputs (sigmoid, ReLU) make a neuron's incoming-weight gradients "
                "share one sign, so updates zig-zag and learning slows; tanh is zero-centred "
                "(000 Q1, 002, 004 p21/p36)"),
    ("A2", "A", "ReLU trains much faster than sigmoid/tanh: derivative 1 or 0, no saturation for "
                "z>0, no exp (000 Q2, 001, 002)"),
    ("A3", "A", "Sigmoid belongs at the output of a binary classifier (000 Q3, 001)"),
    ("A4", "A", "sigmoid′ ≤ 0.25 and tanh′ ≤ 1, so gradients vanish with depth (≤ 0.25^L); with "
                "large weights they explode instead (001, 003)"),
    ("A5", "A", "tanh is almost always better than sigmoid in hidden layers (001)"),
    ("A6", "A", "Dead ReLU: a unit negative for every example gets no gradient and never "
                "recovers; Leaky ReLU fixes it (001, 002, 004 p27-28)"),
    ("A7", "A", "PReLU's slope α is learned by backprop (002)"),
    ("A8", "A", "ELU's outputs are closer to zero mean; it costs an exp (002, 004 p31)"),
    ("A9", "A", "Maxout generalises ReLU and Leaky ReLU but doubles parameters and compute (002)"),
    ("A10", "A", "Without a non-linearity, stacked layers collapse to one linear map and cannot "
                 "learn non-linear boundaries (001, 003)"),
    ("I1", "I", "Zero initialisation keeps hidden units identical, so many units act as one (001)"),
    ("I2", "I", "Small random init (×0.01) works for shallow nets, but in deep nets activations "
                "shrink to zero; ×1 saturates tanh (001, 004)"),
    ("I3", "I", "Xavier suits tanh but collapses with ReLU in deep nets; He init keeps ReLU "
                "activations spread (004 p48-50)"),
    ("I4", "I", "Biases may start at zero; weights must not (001)"),
    ("R1", "R", "L1 makes W sparse and so compresses the model; L2 shrinks without zeros "
                "(000 Q5/Q6)"),
    ("R2", "R", "Shrinking hidden units' influence (weight decay, dropout) prevents overfitting "
                "(000 Q7)"),
    ("R3", "R", "Weights grow the longer you train (000 Q8)"),
    ("R4", "R", "Regularisation is not normalisation; standardising vs min-max vs log inputs "
                "(000 appendix, 004 p37)"),
    ("R5", "R", "dW has the same shape as W (000 appendix)"),
    ("R6", "R", "A dev set used for choosing is optimistically biased; only an untouched test set "
                "is unbiased (000 Q4)"),
    ("B1", "B", "BN normalises, then γ and β can undo it: γ=√(σ²+ε), β=μ gives the identity "
                "(004 p59)"),
    ("B2", "B", "BN keeps every layer's activations spread and lets deep or badly initialised "
                "nets train (004 p48)"),
    ("T1", "T", "Loss can stay near ln(10) while accuracy jumps to ~20% on a 10-class problem "
                "(004 p71)"),
    ("T2", "T", "Backprop gives the gradient, the optimiser decides the step: W := W − η ∂E/∂W "
                "(003)"),
    ("T3", "T", "Vectorising over examples and units is what makes it fast (001)"),
    ("H1", "H", "Sample the learning rate in log space: uniform on [1e-4, 1] puts 90% of samples "
                "in [0.1, 1] (004 p77)"),
    ("H2", "H", "Random search beats grid search when one hyperparameter matters and another does "
                "not (004 p80)"),
    ("C1", "C", "Convolution keeps the image's structure (local connectivity, shared filters) "
                "instead of flattening it (004 p31, p67)"),
    ("C2", "C", "Early layers learn edges, deeper layers more complex patterns (004 p37)"),
    ("N1", "C", "In an RNN, back-propagation through time makes gradients vanish over time "
                "steps (003)"),
]

QUESTIONS: dict[str, Question] = {qid: Question(qid, g, claim) for qid, g, claim in _CLAIMS}

# The notes' known mistakes (QUESTIONS.md, last section): shown in the report as "not yet
# measured" until an experiment backs them with a number through `Experiment.corrections`.
KNOWN_CORRECTIONS = [
    ("R4", "004 p37", "normalisation puts values “between 0 and 1”",
     "that is min-max scaling; standardising gives mean 0 and std 1"),
    ("A2", "000 Q2", "ReLU's derivative “switches off features with small influence”",
     "what matters is that the gradient is 1 where the unit is active, so it does not shrink "
     "with depth"),
    ("R3", "000 Q8", "weights grow “because the feature is influential”",
     "on separable data cross-entropy keeps rewarding larger margins, so ‖W‖ grows without "
     "bound unless regularised"),
    ("A5", "001", "tanh is “always” better than sigmoid", "to be checked"),
    ("A1", "002", "tanh fixes sigmoid's “non-linear function” problem",
     "it fixes zero-centring, not saturation"),
]
