"""Autograd: ``Tensor``, the ``Function`` base class, the backward engine and grad modes."""

from .function import Function, unbroadcast
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .tensor import Tensor, tensor

__all__ = [
    "Function",
    "Tensor",
    "enable_grad",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "tensor",
    "unbroadcast",
]
