"""Integer and boolean inputs (one-hot codes, pixel bytes) into a layer with a float kernel are
promoted to the kernel's dtype, as Keras does: float32 out, the same values as the float input
gives (NumPy alone would compute in float64, and the recurrent C loops refused booleans)."""

from __future__ import annotations

import numpy as np
import pytest

from shenjing import layers

LAYERS = {
    "Dense": (lambda: layers.Dense(4), (2, 3)),
    "Conv1D": (lambda: layers.Conv1D(4, 2), (2, 5, 3)),
    "Conv2D": (lambda: layers.Conv2D(2, 2), (1, 4, 4, 3)),
    "DepthwiseConv2D": (lambda: layers.DepthwiseConv2D(2), (1, 4, 4, 3)),
    "SimpleRNN": (lambda: layers.SimpleRNN(3), (2, 5, 3)),
    "LSTM": (lambda: layers.LSTM(3), (2, 5, 3)),
    "GRU": (lambda: layers.GRU(3), (2, 5, 3)),
}


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int32, np.int64])
@pytest.mark.parametrize("name", LAYERS)
def test_integer_and_boolean_inputs_compute_in_the_kernels_float32(name, dtype):
    make, shape = LAYERS[name]
    x = (np.arange(np.prod(shape)).reshape(shape) % 3).astype(dtype)
    layer = make()
    out = layer(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), layer(x.astype(np.float32)).numpy(), rtol=1e-6)
