"""whynet — a neural-network laboratory: an engine you can read, probes that look inside a network
while it trains, and experiments that answer *why*."""

__version__ = "0.1.0"

from .errors import (ConfigError, DivergenceError, ModelFileError, NonFiniteError,  # noqa: F401
                     ShapeError, UnknownNameError, WhynetError)
