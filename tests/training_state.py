"""A check the resume tests share: two models in the same training state, bit for bit."""

from __future__ import annotations

import numpy as np


def assert_same_state(a, b):
    """Equal weights, optimizer step count and optimizer slots (moments, velocities...)."""
    for u, v in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)
    assert a.optimizer.iterations == b.optimizer.iterations
    for i, state in a.optimizer.state_dict()["state"].items():
        for key, value in state.items():
            np.testing.assert_array_equal(b.optimizer.state_dict()["state"][i][key], value)
