"""The question catalogue: the 30 stable IDs of ``../shared/QUESTIONS.md``, as data.

Each :class:`Question` keeps the note's claim *in our own words*, where the notes make it
(:class:`Source`: note file and page, question or section), and a short ``why`` paragraph: the
mechanism a learner needs to read the measurement, with the formula where it helps. The ``why``
explains; it never decides: whether the claim holds is the experiment's verdict.

The five notes (``../shared/seeds/``, in Korean) are described in :data:`NOTES`. Note 004 cites
the slide pages of cs231n lectures 5 and 6, which overlap (both have a p31 and a p37), so its
sources name the lecture: ``Source("004", "lecture 6, p21")``.

The report's overview lists every ID here, with "not yet answered" where no experiment covers it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..i18n import N_, _


@dataclass(frozen=True)
class Note:
    """One of the study group's notes: its short id, its file in ``shared/seeds`` and what it is."""

    id: str
    file: str
    title: str

    def translated(self) -> Note:
        """This note with its title in the language in force (:mod:`whynet.i18n`)."""
        return replace(self, title=_(self.title))


NOTES: dict[str, Note] = {n.id: n for n in (
    Note("000", "000_b82c469d1e6eb1b9.txt",
         N_("the study group's week-2 questions (Q1–Q8 and an appendix)")),
    Note("001", "001_66ee465d1f500ac0.txt",
         N_("lecture notes, week 4: activation functions and random initialisation "
         "(deeplearning.ai course 1)")),
    Note("002", "002_74563aa34a039fb3.txt",
         N_("notes on cs231n lecture 6-1: activation functions, one paragraph per slide")),
    Note("003", "003_4e294728f79e010d.txt",
         N_("a five-minute review of neural networks (handwritten, OCR)")),
    Note("004", "004_725f0a223585c06e.txt",
         N_("the group's questions on cs231n lectures 5 and 6, by slide page")),
)}


@dataclass(frozen=True)
class Source:
    """Where a note makes a claim: the note id (``"004"``) and the place in it (a page, a
    question number or a section title), e.g. ``Source("000", "Q1")``."""

    note: str
    where: str

    def __str__(self) -> str:
        return f"{self.note} {self.where}"

    def translated(self) -> Source:
        """This source with its place (a section title, "lecture 6, p21"…) in the language in
        force; a bare page or question number ("Q1", "p37") stays as it is."""
        return replace(self, where=_(self.where) if " " in self.where else self.where)


@dataclass(frozen=True)
class Question:
    """One question of the catalogue.

    Fields:
        id: the stable ID, e.g. ``"A4"``. group: its letter (see :data:`GROUPS`).
        claim: the note's claim paraphrased in our words (what the notes say, not what we found).
        sources: where the notes make it (:class:`Source`, at least one).
        why: the mechanism, in a short paragraph, with the formula where it helps.
    """

    id: str
    group: str
    claim: str
    sources: tuple[Source, ...] = ()
    why: str = ""

    @property
    def source(self) -> str:
        """The sources as one line: ``"000 Q1; 002 sigmoid slide; 004 lecture 6, p21, p36"``."""
        return "; ".join(str(s) for s in self.sources)

    def translated(self) -> Question:
        """This question with its claim, sources and why in the language in force
        (:mod:`whynet.i18n`): what the report, the CLI and the lab show. The catalogue itself
        stays English (the ``N_``-marked source text)."""
        return replace(self, claim=_(self.claim) if self.claim else "",
                       sources=tuple(s.translated() for s in self.sources),
                       why=_(self.why) if self.why else "")


GROUPS = {
    "A": N_("Activation functions"),
    "I": N_("Initialisation"),
    "R": N_("Regularisation and generalisation"),
    "B": N_("Batch normalisation"),
    "T": N_("Watching training"),
    "H": N_("Hyperparameter search"),
    "C": N_("Convolution and recurrence"),
}

S = Source
_QUESTIONS = [
    Question(
        "A1", "A",
        N_("Outputs that are not centred on zero (sigmoid, ReLU) make all the incoming-weight "
        "gradients of the next neuron share one sign, so its updates zig-zag and learning slows; "
        "tanh, centred on zero, avoids this."),
        (S("000", "Q1"), S("002", N_("sigmoid slide, second problem")),
         S("004", N_("lecture 6, p21, p36"))),
        N_("For a neuron z = Σᵢ wᵢxᵢ + b the gradient of each incoming weight is "
        "∂L/∂wᵢ = (∂L/∂z)·xᵢ. Within one example the factor ∂L/∂z is shared, so when every "
        "input xᵢ is positive (as sigmoid's outputs always are) all the wᵢ move up together or "
        "down together: the update can only point into two quadrants of weight space, and "
        "reaching a point that needs some weights up and others down takes a zig-zag of steps. "
        "In a minibatch the gradient is a sum over examples whose ∂L/∂z differ in sign, which "
        "loosens the lock-step; inputs centred on zero (tanh's outputs, standardised data) "
        "remove it. Zero-centring is a separate matter from saturation: tanh′(z) still goes to "
        "0 for large |z|.")),
    Question(
        "A2", "A",
        N_("ReLU trains much faster than sigmoid or tanh, because its derivative is exactly 1 or "
        "0, it does not saturate for z > 0, and it needs no exponential."),
        (S("000", "Q2"), S("001", N_("section “Activation functions”")),
         S("002", N_("ReLU slide"))),
        N_("Back-propagation multiplies the error by f′(z) at every layer. Sigmoid's f′ is at most "
        "1/4 and tanh's at most 1, and both go to 0 once |z| is large (saturation), so the "
        "signal reaching early layers shrinks. ReLU's f′ is exactly 1 for every active unit, so "
        "an active path passes the gradient on unchanged, and max(0, z) is cheaper than exp. "
        "Whether this makes training faster in epochs is an empirical question that also "
        "depends on the depth, the initialisation and the learning rate chosen for each "
        "activation. Krizhevsky et al. (2012) reported a deep ReLU CNN reaching 25% training "
        "error on CIFAR-10 six times sooner than the same net with tanh.")),
    Question(
        "A3", "A",
        N_("The output unit of a binary classifier should be a sigmoid, because its value lies "
        "between 0 and 1."),
        (S("000", "Q3"), S("001", N_("section “Activation functions”, point 1"))),
        N_("σ(z) = 1/(1 + e⁻ᶻ) maps any logit to (0, 1), so it can be read as P(y = 1 | x). "
        "Paired with binary cross-entropy L = −[y ln p + (1 − y) ln(1 − p)], the negative "
        "log-likelihood of a Bernoulli model, the gradient with respect to the logit is simply "
        "p − y: it never saturates, and the loss is a proper scoring rule, minimised by the true "
        "probability, which tends to give calibrated outputs. A linear output trained with "
        "squared error can leave [0, 1]; a tanh output trained with squared error has the "
        "gradient (p − y)·f′(z), which vanishes when the unit saturates, even on a confidently "
        "wrong example.")),
    Question(
        "A4", "A",
        N_("sigmoid′ is at most 1/4 and tanh′ at most 1, so the gradient shrinks layer by layer "
        "(through L sigmoid layers by up to 0.25^L); with large weights it explodes instead."),
        (S("001", N_("section “Derivatives of activation functions”")),
         S("002", N_("sigmoid slide, first problem")), S("003", N_("section “Gradient vanishing”"))),
        N_("By the chain rule the gradient reaching the first layer is a product over the layers "
        "above it. In a chain of single units, ∂L/∂a₀ = ∂L/∂a_L · ∏ₗ σ′(zₗ)·wₗ. Since "
        "σ′(z) = σ(z)(1 − σ(z)) ≤ 1/4, each sigmoid layer multiplies the gradient by at most "
        "|wₗ|/4: with |wₗ| ≤ 1 it shrinks at least 4× per layer (0.25¹⁰ ≈ 10⁻⁶ after ten). "
        "With matrices the factor per layer is at most ¼·‖Wₗ‖₂ (the largest singular value), "
        "so large weights can make the product grow instead (an exploding gradient), unless the "
        "units saturate, since σ′ → 0 for large |z|. tanh′(z) = 1 − tanh²(z) reaches 1 only at "
        "z = 0; ReLU passes the gradient with factor 1 through every active unit.")),
    Question(
        "A5", "A",
        N_("tanh always gives better results than sigmoid in hidden layers (the note says "
        "“always”; the lecture said “almost always”)."),
        (S("001", N_("section “Activation functions”")),),
        N_("tanh(z) = 2σ(2z) − 1 is a shifted and rescaled sigmoid, so the two can represent the "
        "same functions: a sigmoid net equals a tanh net with its weights halved and its biases "
        "adjusted. What differs is training: tanh's outputs are centred on zero (see A1) and its "
        "derivative peaks at 1 instead of 1/4 (see A4), so its gradients are larger and better "
        "conditioned at the start. Because the function classes are the same, the advantage can "
        "shrink or vanish once each activation gets its own learning rate, or on an easy "
        "problem; “always” claims it on every data set, which one counter-example refutes.")),
    Question(
        "A6", "A",
        N_("A ReLU unit whose input is negative for every example gets no gradient and never "
        "recovers (a dead unit); Leaky ReLU fixes this."),
        (S("001", N_("section “Derivatives of activation functions”")),
         S("002", N_("dead ReLU slide")), S("004", N_("lecture 6, p27–28"))),
        N_("ReLU′(z) = 0 for z < 0. If a unit's pre-activation z = wᵀx + b is negative for every "
        "training example, every gradient reaching its incoming weights and bias is zero, so "
        "gradient descent never changes them: the unit is dead. Only something outside the unit "
        "can revive it: the layer below changing its inputs x, or momentum's leftover velocity. "
        "Large updates (a big learning rate) or a strongly negative bias push units there. "
        "Leaky ReLU (f′ = 0.01 for z < 0), PReLU (a learned slope) and ELU (f′ = α·eᶻ) keep a "
        "non-zero gradient on the negative side, so a unit that went negative can be pushed "
        "back, slowly if the slope is small.")),
    Question(
        "A7", "A",
        N_("PReLU's negative-side slope α is learned by back-propagation, like the weights."),
        (S("002", N_("Leaky ReLU and PReLU slide")),),
        N_("PReLU is f(z) = z for z > 0 and α·z otherwise. Its derivative with respect to α is "
        "∂f/∂α = min(z, 0), so ∂L/∂α is the sum, over the units and examples that share α, of "
        "(∂L/∂f)·min(z, 0): an ordinary gradient that any optimiser can follow. He et al. "
        "(2015) learned one α per channel or per layer; α fixed at 0.01 is Leaky ReLU, α = 0 is "
        "ReLU.")),
    Question(
        "A8", "A",
        N_("ELU's outputs have a mean closer to zero than ReLU's, at the cost of an exponential."),
        (S("002", N_("ELU slide")), S("004", N_("lecture 6, p31"))),
        N_("ELU is f(z) = z for z > 0 and α(eᶻ − 1) for z ≤ 0, so negative inputs give outputs "
        "down to −α instead of 0. For z ~ N(0, 1), E[ReLU(z)] = 1/√(2π) ≈ 0.40 while "
        "E[ELU(z)] ≈ 0.16 (α = 1): closer to zero than ReLU, but not centred like tanh "
        "(E = 0). Deeper in a network the mean also depends on the weights, which training "
        "changes. The exponential on the negative side is why ELU costs more to compute than "
        "ReLU.")),
    Question(
        "A9", "A",
        N_("Maxout generalises ReLU and Leaky ReLU, but doubles the parameters and the compute."),
        (S("002", N_("Maxout slide")),),
        N_("A maxout unit outputs max(w₁ᵀx + b₁, w₂ᵀx + b₂) (k = 2 pieces). With w₁ = 0 and "
        "b₁ = 0 it is max(0, w₂ᵀx + b₂), a ReLU unit; with w₁ = 0.01·w₂ and b₁ = 0.01·b₂ it "
        "is a Leaky ReLU unit. The generality costs k weight vectors per unit: k times the "
        "parameters of a Dense layer of the same width, and about k times its multiply-adds.")),
    Question(
        "A10", "A",
        N_("Without a non-linear activation, stacked layers collapse into one linear map (three "
        "layers of φ(z) = 10z are one layer of 1000z), so the network cannot learn a "
        "non-linear boundary."),
        (S("001", N_("section “Why do you need non-linear activation functions?”")),
         S("003", N_("section “Why non-linear activation function?”"))),
        N_("A linear layer computes Wx + b. Two of them compose to "
        "W₂(W₁x + b₁) + b₂ = (W₂W₁)x + (W₂b₁ + b₂), which is again one linear layer, and by "
        "induction any depth is one map W = W_L⋯W₁. Its decision boundary {x : wᵀx + b = 0} is "
        "a hyperplane, so however deep it is, it cannot separate circles or XOR. This is an "
        "identity that holds by construction, up to floating-point round-off; a non-linearity "
        "between the layers is what breaks the product apart.")),
    Question(
        "I1", "I",
        N_("With every weight initialised to zero the hidden units of a layer stay identical, so "
        "many units act as one."),
        (S("001", N_("section “Random initialization”")),),
        N_("Units that start with the same incoming and outgoing weights compute the same output "
        "and receive the same gradient, so every update keeps them equal: the symmetry is never "
        "broken and the layer acts as one unit. Zero is a special case that depends on the "
        "activation. With ReLU or tanh, f(0) = 0: the hidden activations are all zero, and so "
        "is every weight gradient; nothing but the output bias moves, which is worse than "
        "symmetry. With sigmoid, σ(0) = 1/2: the outgoing weights move, all by the same amount, "
        "and the hidden units then learn as identical copies, which is symmetry proper. Random "
        "initialisation gives every unit a different start.")),
    Question(
        "I2", "I",
        N_("Small random weights (×0.01) work in a shallow net, but in a deep net the activations "
        "shrink to zero layer by layer; weights of ×1 saturate tanh instead."),
        (S("001", N_("section “Random initialization”, solution")),
         S("004", N_("lecture 6, p48–51"))),
        N_("For a layer with n inputs and independent zero-mean weights, "
        "Var(zⱼ) ≈ n·Var(w)·E[x²]. With w = 0.01·N(0, 1) each layer multiplies the activation "
        "variance by about n·10⁻⁴ (10⁻² for n = 100; tanh is nearly the identity near 0), so the "
        "spread falls tenfold per layer and after a few layers the activations, and the weight "
        "gradients that are proportional to them, are nearly zero. With w ~ N(0, 1), "
        "Var(z) ≈ n: |z| is large, tanh sits at ±1 and tanh′ ≈ 0 (saturation). Xavier's "
        "Var(w) = 1/n keeps Var(z) about constant from layer to layer (Glorot & Bengio 2010).")),
    Question(
        "I3", "I",
        N_("Xavier initialisation suits tanh, but in a deep ReLU net it makes the activations "
        "collapse; He initialisation keeps them spread."),
        (S("004", N_("lecture 6, p48–50")),),
        N_("Xavier sets Var(w) = 1/n_in so that a layer that is linear near 0, as tanh is, keeps "
        "Var(z) constant. ReLU zeroes half of its inputs, so E[a²] = ½·Var(z): under Xavier "
        "every ReLU layer halves the second moment, and after L layers the activations' scale "
        "is about 2^(−L/2) of the input's (3·10⁻⁵ after 30). He et al. (2015) double the "
        "variance, Var(w) = 2/n_in, which keeps E[a²] constant through any number of ReLU "
        "layers. Whether the shrinking stops a net from training also depends on the "
        "optimiser: Adam divides each step by the gradient's own running size, so it can train "
        "where plain SGD stalls.")),
    Question(
        "I4", "I",
        N_("Biases may start at zero, but weights must not."),
        (S("001", N_("section “Random initialization”, solution")),),
        N_("What must be broken is the symmetry between units (see I1), and random weights already "
        "break it: units with different incoming weights compute different outputs and get "
        "different gradients, whatever their biases, so zero biases are harmless. With zero "
        "weights and random biases the units differ, but none of them sees the input: each "
        "outputs the constant f(b). Once the outgoing weights have moved, the first layer's "
        "gradient Σₙ δₙxₙᵀ has an error δₙ that depends only on the label yₙ, so it measures "
        "the linear correlation between the labels and the inputs. Where the data carry such a "
        "signal (moons), training can start from there; where they do not (circles, symmetric "
        "about the origin), the weights stay near zero.")),
    Question(
        "R1", "R",
        N_("An L1 penalty makes W sparse, with many weights exactly zero, and so “compresses” "
        "the model; an L2 penalty only shrinks the weights, without zeros."),
        (S("000", N_("Q5, Q6")),),
        N_("The L1 penalty λ·Σ|w| pulls every weight towards zero with the same force λ, however "
        "small it is; L2's pull λ·w fades as w → 0, so L2 shrinks weights but never makes them "
        "exactly zero. Whether L1 gives exact zeros depends on how it is applied. The proximal "
        "step (soft-thresholding, w ← sign(w)·max(|w| − ηλ, 0)) sets a weight to 0.0 whenever "
        "the step would carry it across zero, and exact zeros appear. The plain subgradient "
        "step w ← w − η(g + λ·sign(w)) overshoots zero and rattles around it, leaving many tiny "
        "weights but almost no exact zeros. “Compresses” is a separate question: a model is "
        "compressible when many weights can be pruned with little loss of accuracy, which tiny "
        "weights allow as much as exact zeros do.")),
    Question(
        "R2", "R",
        N_("Making each hidden unit's influence smaller (weight decay, dropout) prevents "
        "overfitting."),
        (S("000", "Q7"),),
        N_("Overfitting shows as a gap between training and test accuracy: the network fits the "
        "noise of its few training points. Weight decay (an L2 penalty (λ/2)·‖W‖²) keeps the "
        "weights small, which limits how sharply the function can bend; dropout trains random "
        "sub-networks, so no unit can rely on a few others. Both trade variance for bias. Too "
        "much of either makes the model too simple, and the gap then closes because training "
        "accuracy falls to the test accuracy (underfitting), not because test accuracy rises. "
        "So “prevents overfitting” means the gap shrinks while test accuracy does not fall, "
        "and ideally rises, at some strength.")),
    Question(
        "R3", "R",
        N_("The weights grow the longer a network trains, because the features that matter get "
        "larger weights."),
        (S("000", "Q8"),),
        N_("On linearly separable data the logistic loss ln(1 + e^(−y·wᵀx)) is never zero but keeps "
        "falling as the margins y·wᵀx grow, so it has no finite minimiser: gradient descent "
        "keeps increasing ‖w‖ along the max-margin direction, about as ln t / γ* after t steps "
        "(Soudry et al. 2018; γ* is the max margin). When the classes overlap, a larger ‖w‖ "
        "costs more on the misclassified points, so the loss has a finite minimum and ‖w‖ "
        "settles; an L2 penalty (λ/2)·‖w‖² gives a finite minimum too. Growth is a property of "
        "separable data without a penalty, not of a feature's influence.")),
    Question(
        "R4", "R",
        N_("Normalising inputs is not regularisation; the note asks how standardising, min-max "
        "scaling and a log transform differ, and says normalisation puts values between 0 and 1."),
        (S("000", N_("appendix, Q1 on normalisation")), S("004", N_("lecture 6, p37"))),
        N_("Regularisation changes the objective: it adds a penalty to the loss. Normalisation "
        "changes the inputs and leaves the problem the same up to a change of variables. Scaling "
        "matters to gradient descent because the curvature of the loss follows the inputs: for a "
        "linear model the Hessian is proportional to XᵀX/m, the step must stay below "
        "2/λ_max, and progress along the flattest direction is about 1/κ per step, where "
        "κ = λ_max/λ_min is the condition number. Standardising, (x − μ)/σ, gives every "
        "feature mean 0 and std 1; min-max scaling maps it into [0, 1], which is what the note "
        "calls normalisation; a log transform compresses a right-skewed feature such as "
        "income.")),
    Question(
        "R5", "R",
        N_("The gradient dW has the same shape as W (the note: “a matrix keeps its shape when "
        "differentiated”)."),
        (S("000", N_("appendix, last question")),),
        N_("The loss L is one number, so ∂L/∂W has one entry ∂L/∂Wᵢⱼ per entry of W: it has W's "
        "shape by definition. For a Dense layer Z = XWᵀ + b on m examples, dW = dZᵀX has shape "
        "(n_out, m)·(m, n_in) = (n_out, n_in), the sum over the batch happening inside the "
        "matrix product. What is not W-shaped is the Jacobian ∂Z/∂W of a vector output, with one "
        "entry per pair (output, weight): the note's rule holds for the gradient of a scalar, "
        "not for derivatives in general.")),
    Question(
        "R6", "R",
        N_("A dev set used to choose between models gives an optimistic estimate of the chosen "
        "one; only an untouched test set is unbiased (the note asks what “no unbiased estimate "
        "needed” means)."),
        (S("000", "Q4"),),
        N_("Each configuration's dev score is its true accuracy plus noise from the finite dev set. "
        "Picking the highest dev score also picks the most favourable noise, so the expected "
        "best dev score exceeds the chosen model's true accuracy: E[max] ≥ max E. The bias "
        "grows with the number of configurations compared and shrinks as the dev set grows (the "
        "noise of an accuracy p on n points is about √(p(1 − p)/n)). A test set that played no "
        "part in the choice is free of this selection, so its score is unbiased. “No unbiased "
        "estimate needed” means: if you only need to choose, not to report how good the choice "
        "is, a dev set alone is enough.")),
    Question(
        "B1", "B",
        N_("Batch normalisation standardises each unit, and its learned scale γ and shift β can "
        "undo that: γ = √(σ² + ε), β = μ gives back the input (the note asks what this "
        "“identity mapping” means)."),
        (S("004", N_("lecture 6, p59")),),
        N_("BatchNorm computes x̂ = (x − μ_B)/√(σ²_B + ε) and outputs y = γ·x̂ + β. With "
        "γ = √(σ²_B + ε) and β = μ_B this is y = x exactly: an identity that holds by algebra, "
        "up to floating-point round-off. So inserting BN never takes away a function the "
        "network could represent; training decides how much normalisation to keep. In "
        "evaluation mode μ and σ² are the running averages, so the identity needs γ and β set "
        "from those.")),
    Question(
        "B2", "B",
        N_("Batch normalisation keeps every layer's activations spread out and lets deep or badly "
        "initialised networks train."),
        (S("004", N_("lecture 6, p48")),),
        N_("Without BN a layer's output scale is the product of the scales of all the layers below "
        "it (see A4 and I2): a small initialisation shrinks activations and gradients "
        "geometrically with depth, a saturating one kills the derivatives. BN re-standardises "
        "every unit's pre-activation over the batch, so each layer sees inputs of mean 0 and "
        "std 1 (times the learned γ) whatever happened below; for sigmoid it also keeps z where "
        "σ′ is not tiny. The normalisation also makes a layer scale-invariant: multiplying W by "
        "c leaves the output unchanged and divides ∂L/∂W by c.")),
    Question(
        "T1", "T",
        N_("On a 10-class problem the loss can stay near ln 10 ≈ 2.30 while the accuracy jumps to "
        "about 20%."),
        (S("004", N_("lecture 6, p71")),),
        N_("With small weights every logit is near 0, the softmax is almost uniform (pₖ ≈ 1/10) "
        "and the cross-entropy −ln p_y ≈ ln 10 ≈ 2.303. Accuracy asks only which class has the "
        "largest probability, so a tiny change, the correct class at 0.11 while the others sit "
        "at 0.099, makes a prediction right while the loss moves by only ln(0.11/0.10) ≈ 0.1. "
        "The loss measures how much probability goes to the right class; accuracy counts argmax "
        "hits. Early in training the argmax can improve long before the probabilities do.")),
    Question(
        "T2", "T",
        N_("Back-propagation gives the gradient and the optimiser decides the step: "
        "W := W − η·∂E/∂W for plain gradient descent."),
        (S("003", N_("section “How does a network learn?”, back-propagation vs optimiser")),),
        N_("Back-propagation computes g = ∂E/∂W and nothing else; it is the same whichever "
        "optimiser follows. The optimiser turns the history of gradients into a step: SGD takes "
        "−η·g; momentum accumulates v ← μ·v + g and steps −η·v; RMSProp divides each coordinate "
        "by a running root-mean-square of its gradient; Adam combines both and steps "
        "−η·m̂/(√v̂ + ε). So one gradient can lead to steps of different directions and lengths; "
        "only SGD's step is exactly −η·g.")),
    Question(
        "T3", "T",
        N_("Vectorising over examples and units (matrices of shape (n[l], m)) is what makes "
        "training fast."),
        (S("001", N_("opening section, vectorisation")),),
        N_("A layer applied to m examples at once is one matrix product Z = WX + b, of shapes "
        "(n[l], n[l−1])·(n[l−1], m). Mathematically it equals m matrix–vector products, so the "
        "numbers agree up to the order of floating-point sums. The product runs in optimised "
        "BLAS code that blocks for the cache and uses SIMD instructions, while a Python loop "
        "pays the interpreter's overhead per example and calls many small, inefficient "
        "products. The speed-up grows with the batch until the arithmetic itself dominates.")),
    Question(
        "H1", "H",
        N_("Sample the learning rate on a log scale: uniform sampling on [1e-4, 1] puts nine "
        "samples in ten in [0.1, 1]."),
        (S("004", N_("lecture 6, p77")),),
        N_("Uniform sampling on [a, b] gives each interval a share proportional to its length: "
        "[0.1, 1] is 90% (by length) of [1e-4, 1], so nine samples in ten land in the top decade and "
        "[1e-4, 1e-3] gets 0.09%. A learning rate acts multiplicatively (halving it matters as "
        "much at 1e-3 as at 0.1), so we sample log₁₀ η uniformly on [−4, 0] instead, giving "
        "each decade 25%. Whether that finds a better learning rate depends on where the good "
        "ones lie: if they are all in the top decade, linear sampling wastes nothing.")),
    Question(
        "H2", "H",
        N_("When one hyperparameter matters and another does not, random search beats grid "
        "search."),
        (S("004", N_("lecture 6, p80")),),
        N_("A grid of n × n trials tries only n distinct values of each parameter, so if only one "
        "parameter matters, n² trials buy the information of n. Random search with the same n² "
        "trials tries n² distinct values of every parameter, exploring the important one n "
        "times more finely (Bergstra & Bengio 2012). The advantage needs a strong main effect "
        "of one parameter and a large enough budget: with few trials, or a grid whose points "
        "happen to sit near the optimum, the grid can do as well. Where a grid puts its points "
        "within each range (the endpoints or the cell centres) matters for a small grid.")),
    Question(
        "C1", "C",
        N_("Convolution keeps the image's structure, each unit looking at a local patch with a "
        "filter shared across positions, instead of flattening the image into one vector."),
        (S("004", N_("lecture 5, p31, p67")),),
        N_("A convolutional layer computes each output from a small neighbourhood (local "
        "connectivity) with the same weights at every position (weight sharing), so it has far "
        "fewer parameters than a Dense layer and responds to a pattern wherever it appears. "
        "These assumptions help only if neighbouring inputs are related. A Dense layer treats "
        "its inputs as an unordered list: permuting the positions (the same way for every "
        "example) changes nothing for an MLP, but destroys what a CNN relies on. Comparing both "
        "on ordered and on shuffled inputs separates the benefit of the structure from that of "
        "the parameter count.")),
    Question(
        "C2", "C",
        N_("A CNN's early layers learn edges; deeper layers combine them into more complex "
        "patterns (corners, blobs)."),
        (S("004", N_("lecture 5, p37")),),
        N_("A first-layer filter is a small template correlated with every patch of the image; "
        "training shapes it towards the local patterns that reduce the loss. Images are full of "
        "intensity changes along lines, so oriented differences, edge detectors like the "
        "Prewitt kernel [−1 0 1], are useful first features, and deeper layers combine the "
        "edge maps over larger regions. How edge-like small filters become depends on the data, "
        "the filter size and the regularisation: a 3×3 filter on 8×8 digits has little room, "
        "and a random filter already correlates with some edge by chance.")),
    Question(
        "N1", "C",
        N_("In a recurrent network, back-propagation through time makes the gradient vanish over "
        "the time steps."),
        (S("003", N_("section “Different type of BP: BPTT”")),),
        N_("An RNN applies the same map hₜ = tanh(W_hh·hₜ₋₁ + W_xh·xₜ + b) at every step, so the "
        "gradient reaching an early state is a product of Jacobians: "
        "∂L/∂hₜ = [∏ₖ₌ₜ₊₁..T W_hhᵀ·diag(1 − hₖ²)] ∂L/∂h_T. Each factor's size is bounded by "
        "the norm of W_hh times tanh′ ≤ 1. When the spectral radius of W_hh is below 1 the "
        "product shrinks geometrically with the distance in time (vanishing); when it is large "
        "the product can grow (exploding), unless the tanh units saturate. Gradient clipping "
        "tames the explosion; gated units (LSTM, GRU) address the vanishing.")),
]
del S

QUESTIONS: dict[str, Question] = {q.id: q for q in _QUESTIONS}

# The notes' known mistakes (QUESTIONS.md, last section): shown in the report as "not yet
# measured" until an experiment backs them with a number through `Experiment.corrections`.
def translated_groups() -> dict[str, str]:
    """:data:`GROUPS` with the names in the language in force."""
    return {letter: _(name) for letter, name in GROUPS.items()}


def translated_notes() -> dict[str, Note]:
    """:data:`NOTES` with the titles in the language in force."""
    return {k: n.translated() for k, n in NOTES.items()}


def translated_questions() -> dict[str, Question]:
    """:data:`QUESTIONS`, every question :meth:`Question.translated`."""
    return {k: q.translated() for k, q in QUESTIONS.items()}


def translated_known_corrections() -> list[tuple[str, str, str, str]]:
    """:data:`KNOWN_CORRECTIONS` with what the note says and the fix in the language in
    force (question ID and note place unchanged)."""
    return [(qid, note, _(says), _(fix)) for qid, note, says, fix in KNOWN_CORRECTIONS]


KNOWN_CORRECTIONS = [
    ("R4", "004 p37", N_("normalisation puts values “between 0 and 1”"),
     N_("that is min-max scaling; standardising gives mean 0 and std 1")),
    ("A2", "000 Q2", N_("ReLU's derivative “switches off features with small influence”"),
     N_("what matters is that the gradient is 1 where the unit is active, so it does not shrink "
     "with depth")),
    ("R3", "000 Q8", N_("weights grow “because the feature is influential”"),
     N_("on separable data cross-entropy keeps rewarding larger margins, so ‖W‖ grows without "
     "bound unless regularised")),
    ("A5", "001", N_("tanh is “always” better than sigmoid"), N_("to be checked")),
    ("A1", "002", N_("tanh fixes sigmoid's “non-linear function” problem"),
     N_("it fixes zero-centring, not saturation")),
]
