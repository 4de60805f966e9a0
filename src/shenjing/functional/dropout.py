"""Inverted dropout: zero a random fraction of the inputs during training and scale the rest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import Function, Tensor
from ..backend import default_generator, get_xp


class _Dropout(Function):
    """y = x * m / (1 - rate) with m ~ Bernoulli(1 - rate), drawn at ``noise_shape`` and
    broadcast over x;  dy/dx = m / (1 - rate), the same saved mask."""

    def forward(self, x, rate=0.5, generator=None, noise_shape=None):
        xp = get_xp(x)  # the mask is drawn on the host: one seeded stream for every backend
        keep = xp.asarray(generator.random(noise_shape or x.shape, dtype=np.float32) >= rate)
        scale = xp.asarray(1.0 / (1.0 - rate), dtype=x.dtype)
        mask = keep * scale
        self.save_for_backward(mask)
        return x * mask

    def backward(self, g):
        return g * self.saved[0]

    differentiable_backward = backward  # g times a constant mask: also on Tensors


def concrete_noise_shape(noise_shape: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Keras's ``noise_shape`` for an input of ``shape``: None entries take its size; each
    entry must be 1, None or that size (a ValueError naming both otherwise)."""
    given = tuple(noise_shape)
    if len(given) != len(shape) or any(d not in (None, 1, n) for d, n in zip(given, shape)):
        raise ValueError(f"dropout: noise_shape must have one entry per axis of x, each 1, "
                         f"None or that axis's size; got {noise_shape} for x of shape {shape}")
    return tuple(n if d is None else int(d) for d, n in zip(given, shape))


def dropout(x: Tensor, rate: float = 0.5, training: bool = True,
            generator: np.random.Generator | None = None,
            noise_shape: Sequence[int | None] | None = None, *, p: float | None = None,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability ``rate`` and scale survivors by 1 / (1 - rate), so the
    expected value is unchanged and inference needs no rescaling (inverted dropout).

    Args:
        rate: the fraction dropped, in [0, 1).
        training: when False (inference), x is returned unchanged.
        generator: the random stream; the shared one (seeded by ``set_random_seed``) if None.
        noise_shape: the shape of the random keep-mask, broadcast over x (Keras): 1 on an axis
            shares one draw along it (``(batch, 1, 1, channels)`` drops whole feature maps of
            NHWC images); None entries take x's size. Default: x's shape.
        p, inplace: PyTorch's name for ``rate`` (``F.dropout(x, p=0.2)``; 1 drops all), and
            its in-place flag, accepted (the result is a new tensor either way).
    """
    if p is not None:
        if rate != 0.5:
            raise TypeError(f"dropout: got both rate={rate} and p={p}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability must be in [0, 1], got {p}")
        if p == 1.0 and training:
            return x * 0.0
        rate = p
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
    if not training or rate == 0.0:
        return x
    if noise_shape is not None:
        noise_shape = concrete_noise_shape(noise_shape, x.shape)
    return _Dropout.apply(x, rate=rate, generator=generator or default_generator(),
                          noise_shape=noise_shape)
