"""Ask your own question: a question file in, a measured verdict out.

::

    from whynet.ask import load_question, QuestionExperiment
    q = load_question("examples/questions/swish_vs_relu.toml")   # validated; nothing runs
    e = QuestionExperiment(q)                                    # an Experiment like the built-ins
    # whynet.runner.plan([e], quick=True) … run_tasks … collect … evaluate, or `whynet ask FILE`

:mod:`~whynet.ask.question` reads and checks the file, :mod:`~whynet.ask.metrics` says what can be
measured, :mod:`~whynet.ask.experiment` runs it and applies the shared verdict rule,
:mod:`~whynet.ask.budget` estimates the cost before anything runs. Format: ``docs/ask.md``.
"""

from .experiment import QuestionExperiment, decide_claim  # noqa: F401
from .metrics import METRICS  # noqa: F401
from .question import MAX_RUNS, Claim, Question, load_question  # noqa: F401
