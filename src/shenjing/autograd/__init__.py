"""Autograd: ``Tensor``, the ``Function`` base class, the backward engine, grad and anomaly
modes."""

from .anomaly import detect_anomaly, is_anomaly_enabled
from .function import Function, unbroadcast
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .tensor import Tensor, as_tensor, tensor

__all__ = [
    "Function",
    "Tensor",
    "as_tensor",
    "detect_anomaly",
    "enable_grad",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "tensor",
    "unbroadcast",
]
