"""``torch.nn.init``: fill a tensor in place, by torch's formulas and torch's layout (a weight
is (out_features, in_features, *kernel): fan_in = in * kernel size, fan_out = out * kernel
size). Draws come from shenjing's seeded streams (``set_random_seed``), so the values are not
torch's, only their distribution. Each returns the tensor it filled.

>>> w = shenjing.empty(256, 784); nn.init.kaiming_uniform_(w, nonlinearity="relu")
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import backend
from ..autograd import Tensor
from ..layers.initializers import compute_fans, semi_orthogonal

_GAINS = {"linear": 1.0, "identity": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3, "relu": math.sqrt(2.0),
          "selu": 3.0 / 4}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """torch's recommended gain for ``nonlinearity`` (conv layers and 'linear' 1, tanh 5/3,
    relu sqrt(2), leaky_relu sqrt(2 / (1 + slope**2)) with slope ``param`` (0.01), selu 3/4)."""
    if nonlinearity.startswith("conv") or nonlinearity in _GAINS:
        return _GAINS.get(nonlinearity, 1.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; one of "
                     f"{', '.join([*_GAINS, 'leaky_relu', 'conv1d', 'conv2d', 'conv3d'])}")


def _fans(tensor: Tensor) -> tuple[int, int]:
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dimensions, got "
                         f"shape {tensor.shape}")
    out, inputs, *kernel = tensor.shape  # torch's layout, in Keras's order for compute_fans
    return compute_fans((*kernel, inputs, out))


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    """``tensor``'s values replaced in place (its dtype and device kept)."""
    tensor.data[...] = backend.on_device_of(values.astype(tensor.dtype), tensor.data)
    return tensor


def _rng(generator: Any = None) -> np.random.Generator:
    """The stream to draw from: the ``generator`` given (a ``shenjing.Generator`` or any NumPy
    one), else shenjing's seeded default."""
    return generator if generator is not None else backend.default_generator()


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
    return _fill(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None
            ) -> Tensor:
    return _fill(tensor, _rng(generator).normal(mean, std, tensor.shape))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Any = None) -> Tensor:
    """N(mean, std) restricted to [a, b] (absolute bounds, as torch's), by redrawing."""
    rng = _rng(generator)
    values = rng.normal(mean, std, tensor.shape)
    while (out := (values < a) | (values > b)).any():
        values[out] = rng.normal(mean, std, int(out.sum()))
    return _fill(tensor, values)


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _fill(tensor, np.full(tensor.shape, val))


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    if tensor.ndim != 2:
        raise ValueError(f"eye_ fills a 2-D tensor, got shape {tensor.shape}")
    return _fill(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot's)."""
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """N(0, std**2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: Any = None) -> Tensor:
    """U(-b, b), b = sqrt(3) * gain / sqrt(fan) (He's; torch's Linear and Conv use it with
    a = sqrt(5))."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Any = None) -> Tensor:
    """N(0, std**2), std = gain / sqrt(fan)."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """A (semi-)orthogonal matrix over the first axis and the rest flattened, times ``gain``
    (the QR of a normal matrix with the signs of R's diagonal, as torch's)."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_ needs at least 2 dimensions, got shape {tensor.shape}")
    q = semi_orthogonal(_rng(generator), tensor.shape[0], tensor.size // tensor.shape[0])
    return _fill(tensor, gain * q.reshape(tensor.shape))
