"""Probes: look inside a network while it trains, and say what is wrong in plain words.

* :mod:`~whynet.probes.stats` — the quantities, one function each, on plain arrays;
* :class:`Probe` — attaches to a whynet ``Sequential`` through its hooks, measures on a fixed probe
  batch at a cadence, and fills ``records`` (a tidy table), ``histograms`` and ``findings``;
  it is also a training callback for ``whynet.train.fit``;
* :mod:`~whynet.probes.findings` — the rules that turn quantities into sentences, in context;
  :func:`diagnose` applies them to a table of records and ranks the findings;
* :mod:`~whynet.probes.plots` — the figures; :mod:`~whynet.probes.tensorboard` — export;
* :mod:`whynet.probes.torch` — the same probes on a ``torch.nn.Module`` (needs PyTorch; import it
  explicitly, ``whynet.probes`` never imports torch).
"""

from . import stats
from .findings import RULE_QUESTIONS, RULES, Context, Finding, FindingRules, Thresholds, diagnose
from .records import HistogramEntry, Histograms, Records
from .recorder import DEFAULT_EVERY, ActivationInfo, BaseProbe, Cadence, LayerCapture, Probe

__all__ = ["stats", "Probe", "BaseProbe", "Cadence", "Records", "Histograms", "HistogramEntry",
           "Finding", "FindingRules", "Thresholds", "Context", "diagnose", "RULES",
           "RULE_QUESTIONS", "ActivationInfo", "LayerCapture", "DEFAULT_EVERY"]
