"""Shared test settings: strict numerics, and small helpers used across test files."""

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _strict_numpy():
    """Overflow, invalid operations and division by zero raise instead of warning."""
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        yield


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
