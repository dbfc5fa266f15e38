"""whynet — a neural-network laboratory: an engine you can read, probes that look inside a network
while it trains, and experiments that answer *why*."""

__version__ = "0.1.0"

from .errors import (ConfigError, DivergenceError, ModelFileError, NonFiniteError,  # noqa: F401
                     ShapeError, UnknownNameError, WhynetError)


def __getattr__(name: str):
    """``whynet.to_torch(model)`` → a ``torch.nn.Sequential`` and ``whynet.from_torch(module)`` →
    a whynet ``Sequential`` (:mod:`whynet.nn.torch_state`), imported on first use so that
    ``import whynet`` stays light."""
    if name in ("to_torch", "from_torch"):
        from .nn import torch_state

        return getattr(torch_state, f"{name}_module")
    raise AttributeError(f"module 'whynet' has no attribute {name!r}")
