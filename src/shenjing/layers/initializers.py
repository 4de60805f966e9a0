"""Weight initializers with Keras's names, arguments and defaults.

An initializer is called as ``init(shape, dtype)`` and returns an array. Random ones draw from a
Generator of their own: seeded with ``seed`` when given (the same values at every call, as in
Keras), otherwise spawned from shenjing's root seed (``set_random_seed``), so runs repeat.

Fan-in and fan-out follow Keras: a (in, out) matrix has fans in and out; a convolution kernel
(kh, kw, in, out) multiplies both by the receptive field kh * kw.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import backend

# The standard deviation of a unit normal truncated to [-2, 2]: dividing by it makes a
# truncated normal's variance the one asked for (Keras's VarianceScaling).
_TRUNC_STD = 0.87962566103423978


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base: subclasses implement ``sample(shape, rng)``; configs are the ``__init__`` args."""

    random = True

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed

    def __call__(self, shape: Any, dtype: Any = None) -> np.ndarray:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        seed = getattr(self, "seed", None)
        rng = np.random.default_rng(seed) if seed is not None else (
            backend.new_generator() if self.random else None)
        # C order always (QR gives Fortran order): an optimizer's state is made zeros_like its
        # weight, and every in-place update pass mixing the two orders runs several times slower
        return np.asarray(self.sample(shape, rng), dtype=dtype or backend.DEFAULT_FLOAT, order="C")

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)


class Zeros(Initializer):
    random = False

    def __init__(self) -> None:
        super().__init__()
        del self.seed

    def sample(self, shape, rng):
        return np.zeros(shape)


class Ones(Zeros):
    def sample(self, shape, rng):
        return np.ones(shape)


class Constant(Zeros):
    """``value`` everywhere (a number, or an array broadcast to the shape, as the output bias
    ``Constant(np.log([pos / neg]))``)."""

    def __init__(self, value: Any = 0.0) -> None:
        super().__init__()
        self.value = value

    def sample(self, shape, rng):
        return np.full(shape, self.value)

    def get_config(self) -> dict[str, Any]:
        value = np.asarray(self.value)  # plain numbers and lists, for JSON
        return {"value": value.item() if value.ndim == 0 else value.tolist()}


class RandomNormal(Initializer):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def sample(self, shape, rng):
        return rng.normal(self.mean, self.stddev, shape)


class RandomUniform(Initializer):
    def __init__(self, minval: float = -0.05, maxval: float = 0.05,
                 seed: int | None = None) -> None:
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def sample(self, shape, rng):
        return rng.uniform(self.minval, self.maxval, shape)


def _truncated_normal(rng: np.random.Generator, shape, mean: float, stddev: float) -> np.ndarray:
    """Normal samples redrawn until they fall within two standard deviations."""
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return mean + stddev * out


class TruncatedNormal(RandomNormal):
    def sample(self, shape, rng):
        return _truncated_normal(rng, shape, self.mean, self.stddev)


class VarianceScaling(Initializer):
    """Samples with variance scale / n, n the fan-in, fan-out or their average (``mode``), from a
    truncated normal, an untruncated normal or a uniform distribution."""

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None) -> None:
        super().__init__(seed)
        if not isinstance(scale, (int, float, np.number)) or isinstance(scale, bool) or \
                not scale > 0:
            raise ValueError(f"VarianceScaling: scale must be a positive number, got {scale!r}")
        mode = mode.lower() if isinstance(mode, str) else mode
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"mode must be fan_in, fan_out or fan_avg, got {mode!r}")
        distribution = distribution.lower() if isinstance(distribution, str) else distribution
        if distribution == "normal":  # tf.keras's older name for it (Keras 3 maps it too)
            distribution = "truncated_normal"
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(f"unknown distribution {distribution!r}: truncated_normal, "
                             "untruncated_normal or uniform")
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def sample(self, shape, rng):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3 * variance)
            return rng.uniform(-limit, limit, shape)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, math.sqrt(variance), shape)
        return _truncated_normal(rng, shape, 0.0, math.sqrt(variance) / _TRUNC_STD)


def _variance_scaling(name: str, scale: float, mode: str, distribution: str, doc: str):
    def __init__(self, seed: int | None = None) -> None:
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": doc})


GlorotUniform = _variance_scaling("GlorotUniform", 1.0, "fan_avg", "uniform",
                                  "Glorot (Xavier) uniform: limit sqrt(6 / (fan_in + fan_out)).")
GlorotNormal = _variance_scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal",
                                 "Glorot (Xavier) normal: std sqrt(2 / (fan_in + fan_out)).")
HeNormal = _variance_scaling("HeNormal", 2.0, "fan_in", "truncated_normal",
                             "He (Kaiming) normal: std sqrt(2 / fan_in), for ReLU networks.")
HeUniform = _variance_scaling("HeUniform", 2.0, "fan_in", "uniform",
                              "He (Kaiming) uniform: limit sqrt(6 / fan_in).")
LecunNormal = _variance_scaling("LecunNormal", 1.0, "fan_in", "truncated_normal",
                                "LeCun normal: std sqrt(1 / fan_in) (for SELU networks).")
LecunUniform = _variance_scaling("LecunUniform", 1.0, "fan_in", "uniform",
                                 "LeCun uniform: limit sqrt(3 / fan_in).")


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix, scaled by ``gain``; the default for recurrent kernels.
    Higher-rank shapes are flattened to (prod(shape[:-1]), shape[-1])."""

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        super().__init__(seed)
        self.gain = gain

    def sample(self, shape, rng):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank >= 2, got {shape}")
        return self.gain * semi_orthogonal(rng, math.prod(shape[:-1]), shape[-1]).reshape(shape)


def semi_orthogonal(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """A (rows, cols) matrix with orthonormal rows or columns, uniformly drawn: the Q of a
    normal matrix's QR, its signs made those of R's diagonal (which makes it unique)."""
    q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
    q *= np.sign(np.diag(r))
    return q if rows >= cols else q.T


class Identity(Zeros):
    """``gain`` times the identity matrix (2-D shapes; Keras's ``Identity``, for a square
    kernel that starts as the identity map)."""

    def __init__(self, gain: float = 1.0) -> None:
        super().__init__()
        self.gain = gain

    def sample(self, shape, rng):
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2-D shape, got {shape}")
        return self.gain * np.eye(*shape)


_ALIASES = {
    "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
    "identity": Identity, "identityinitializer": Identity, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "uniform": RandomUniform, "normal": RandomNormal,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "xavier_uniform": GlorotUniform, "xavier_normal": GlorotNormal,
    "he_normal": HeNormal, "he_uniform": HeUniform, "kaiming_normal": HeNormal,
    "kaiming_uniform": HeUniform, "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
    "orthogonal": Orthogonal,
}
_CLASSES = {cls.__name__: cls for cls in set(_ALIASES.values())}


def get(identifier: Any) -> Initializer | None:
    """An initializer from a name ('glorot_uniform', 'GlorotUniform'), a config dict
    ({'class_name': ..., 'config': ...}), a class (made with its defaults), an instance, or a
    callable (shape, dtype) -> array; None for None."""
    if identifier is None:
        return None
    if isinstance(identifier, type):  # the class itself: an instance of it, as Keras's get
        return identifier()
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier.lower()) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"unknown initializer {identifier!r}; known: {', '.join(_ALIASES)}")
        return cls()
    if isinstance(identifier, dict):
        cls = _CLASSES.get(identifier.get("class_name", ""))
        if cls is None:
            raise ValueError(f"unknown initializer config {identifier!r}")
        return cls.from_config(identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise TypeError(f"initializer must be a name, a config or a callable, got {identifier!r}")


def serialize(init: Any) -> dict[str, Any]:
    if not isinstance(init, Initializer):
        raise ValueError(f"initializer {init!r} is not a shenjing Initializer and cannot be saved")
    return {"class_name": type(init).__name__, "config": init.get_config()}


__all__ = [
    "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity", "Initializer",
    "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "RandomNormal", "RandomUniform",
    "TruncatedNormal", "VarianceScaling", "Zeros", "compute_fans", "get", "serialize",
]
