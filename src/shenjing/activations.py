"""Activation functions by name, as Keras resolves ``Dense(64, activation='relu')``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import functional as F
from .autograd import Tensor


def linear(x: Tensor) -> Tensor:
    """The identity (Keras's ``activation=None``)."""
    return x


def swish(x: Tensor) -> Tensor:
    """x * sigmoid(x) (the same function as silu)."""
    return F.silu(x)


_REGISTRY: dict[str, Callable[[Tensor], Tensor]] = {
    "linear": linear,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "elu": F.elu,
    "selu": F.selu,
    "gelu": F.gelu,
    "softplus": F.softplus,
    "silu": F.silu,
    "swish": swish,
    "softmax": F.softmax,
    "log_softmax": F.log_softmax,
    "exponential": F.exp,
}
globals().update({k: v for k, v in _REGISTRY.items() if k not in globals()})


def get(identifier: Any) -> Callable[[Tensor], Tensor]:
    """The activation for a name, a callable, or None (the identity)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in _REGISTRY:
            raise ValueError(f"unknown activation {identifier!r}; known: {', '.join(_REGISTRY)}")
        return _REGISTRY[key]
    if callable(identifier):
        return identifier
    raise TypeError(f"activation must be a name or a callable, got {identifier!r}")


def serialize(fn: Callable[[Tensor], Tensor]) -> str:
    """The registered name of an activation (for configs); custom callables cannot be saved."""
    for name, f in _REGISTRY.items():
        if f is fn:
            return name
    raise ValueError(f"activation {fn!r} is not a registered one and cannot be serialized")


def fused_name(activation: Callable[[Tensor], Tensor]) -> str | None:
    """The name under which a fused op (``F.linear``, ``F.conv2d``) applies ``activation``
    itself, or None when the layer must apply it as a separate op afterwards."""
    return "relu" if activation is F.relu else None
