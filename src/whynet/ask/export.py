"""A run configuration as a question file: the lab's "Ask as a question".

``question_from_config(cfg, "activation", ["relu", "tanh"])`` writes the TOML of a question whose
``[run]`` is ``cfg`` (the keys that differ from :class:`~whynet.config.RunConfig`'s defaults,
without the seed) with one key turned into a dimension, a ``[measure]`` and a ``[claim]``; the
text is checked by :func:`~whynet.ask.question.loads_question` before it is returned, so what the
lab hands out always runs with ``whynet ask``.
"""

from __future__ import annotations

import json

from ..config import RunConfig
from ..datasets import REGRESSION_SETS
from ..errors import ConfigError
from ..i18n import _
from .metrics import goal
from .question import DEFAULT_SEEDS, _show, loads_question


def _toml(value) -> str:
    """A TOML literal: strings as JSON strings (a subset of TOML's basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    raise ConfigError(_("cannot write {value!r} in a question file").format(value=value))


def question_from_config(cfg: RunConfig, dimension: str, values, *, metric: str = "best_val_acc",
                         expect: str | None = None, question: str | None = None,
                         seeds: int = DEFAULT_SEEDS, name: str = "lab_question.toml") -> str:
    """The TOML text of a question comparing ``values`` of ``dimension`` with ``cfg``'s other
    settings; ``expect`` defaults to "first value better than second" on ``metric``."""
    values = list(values)
    if len(values) < 2:
        raise ConfigError(_("ask as a question: give at least two values of {dimension}, got "
                            "{values!r}").format(dimension=dimension, values=values))
    defaults = RunConfig().to_dict()
    run = {k: v for k, v in cfg.to_dict().items()
           if k != "seed" and k != dimension and v is not None and v != defaults[k]}
    act = run.get("activation")
    if isinstance(act, list):  # a list in [run] is a dimension: one name for every layer
        if len(set(act)) > 1:
            raise ConfigError(_("ask as a question: the layers have different activations "
                                "({act}); a question file gives one for all layers unless "
                                "activation is the dimension").format(act=', '.join(act)))
        run["activation"] = act[0]
    better = "<" if goal(metric) == "min" else ">"
    expect = expect or f"{_show(values[0])} {better} {_show(values[1])}"
    words = question or (f"With these settings, does {dimension} {_show(values[0])} give a "
                         f"{'lower' if better == '<' else 'higher'} {metric} than "
                         f"{_show(values[1])}?")
    lines = [f"question = {_toml(words)}", "source = \"the whynet lab\"", f"seeds = {seeds}", "",
             "[run]"]
    lines += [f"{k} = {_toml(v)}" for k, v in run.items()]
    # A regression set has no accuracy: its question measures losses only.
    shown = {"final_loss"} if cfg.data in REGRESSION_SETS else {"best_val_acc", "final_loss"}
    lines += [f"{dimension} = {_toml(values)}", "", "[measure]",
              f"metrics = {_toml(sorted({metric} | shown))}", "",
              "[claim]", f"compare = {_toml(dimension)}", f"expect = {_toml(expect)}",
              f"metric = {_toml(metric)}", ""]
    text = "\n".join(lines)
    loads_question(text, name)  # what the lab hands out must run as it is
    return text
