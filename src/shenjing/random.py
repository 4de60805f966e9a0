"""``keras.random``: random tensors and dropout for custom layers (``keras.random.normal(shape)``
in a VAE's sampling layer, ``keras.random.dropout(x, rate)`` in a custom dropout).

``seed`` is Keras's: None draws from shenjing's shared stream (reproducible after
``shenjing.utils.set_random_seed``), an int gives the same numbers at every call, and a
:class:`SeedGenerator` gives a new draw at each call from its own reproducible stream. Floating
results are float32 unless ``dtype`` says otherwise; none of them needs a gradient.

>>> eps = shenjing.random.normal((4, 2), seed=SeedGenerator(1337))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import backend
from . import functional as F
from .autograd import Tensor, as_tensor
from .functional._util import axis_index


class SeedGenerator:
    """A reproducible random stream to pass as ``seed=`` (Keras's ``keras.random.SeedGenerator``):
    each call that uses it draws new numbers; two generators made with one seed draw the same.
    Without a seed it is spawned from shenjing's root seed."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self.generator = backend.new_generator() if seed is None else np.random.default_rng(seed)

    def __repr__(self) -> str:
        return f"SeedGenerator(seed={self.seed!r})"


def _rng(seed: Any) -> np.random.Generator:
    if seed is None:
        return backend.default_generator()
    if isinstance(seed, SeedGenerator):
        return seed.generator
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise ValueError(f"seed must be None, an int or a SeedGenerator, got {seed!r}")


def _floats(values: np.ndarray, dtype: Any) -> Tensor:
    return Tensor(values, dtype=dtype or backend.DEFAULT_FLOAT)


def normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
           seed: Any = None) -> Tensor:
    """Samples of a normal distribution N(mean, stddev**2)."""
    return _floats(_rng(seed).normal(mean, stddev, size=tuple(shape)), dtype)


def truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                     seed: Any = None) -> Tensor:
    """Normal samples redrawn until they lie within two standard deviations of the mean."""
    rng = _rng(seed)
    z = rng.standard_normal(tuple(shape))
    while np.any(far := np.abs(z) > 2.0):
        z[far] = rng.standard_normal(int(far.sum()))
    return _floats(mean + stddev * z, dtype)


def uniform(shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None,
            seed: Any = None) -> Tensor:
    """Samples of the uniform distribution on [minval, maxval)."""
    return _floats(_rng(seed).uniform(minval, maxval, size=tuple(shape)), dtype)


def categorical(logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None) -> Tensor:
    """``num_samples`` class ids per row of ``logits`` (batch, classes), drawn with
    probabilities softmax(logits) (Keras's; a row's -inf logits are never drawn): the argmax
    of logits plus Gumbel noise, one draw per sample, computed in float64."""
    z = np.asarray(logits.data if isinstance(logits, Tensor) else logits, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"categorical: logits must be (batch, classes), got shape {z.shape}")
    noise = gumbel(_rng(seed), (z.shape[0], num_samples, z.shape[1]))
    return Tensor((z[:, None, :] + noise).argmax(axis=-1).astype(dtype))


def gumbel(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard Gumbel noise -log(-log(u)), float64: argmax(logits + it) samples
    softmax(logits) (categorical here, torch's gumbel_softmax)."""
    return -np.log(-np.log(rng.uniform(np.finfo(np.float64).tiny, 1.0, shape)))


def randint(shape: Any, minval: int, maxval: int, dtype: Any = "int32",
            seed: Any = None) -> Tensor:
    """Integers drawn uniformly from [minval, maxval)."""
    return Tensor(_rng(seed).integers(minval, maxval, size=tuple(shape)).astype(dtype))


def shuffle(x: Any, axis: int = 0, seed: Any = None) -> Tensor:
    """``x`` with its slices along ``axis`` in a random order."""
    x = x if isinstance(x, Tensor) else as_tensor(x)
    axis = axis_index(axis, x.ndim)
    order = _rng(seed).permutation(x.shape[axis])
    index = (slice(None),) * axis + (order,)
    return x[index]


def dropout(inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None) -> Tensor:
    """Zero each element with probability ``rate`` and scale the rest by 1 / (1 - rate)
    (differentiable; ``noise_shape`` as Keras's, 1 on an axis sharing one draw along it)."""
    x = inputs if isinstance(inputs, Tensor) else as_tensor(inputs, backend.DEFAULT_FLOAT)
    return F.dropout(x, rate, training=True, generator=_rng(seed), noise_shape=noise_shape)


__all__ = ["SeedGenerator", "dropout", "normal", "randint", "shuffle", "truncated_normal",
           "uniform"]
