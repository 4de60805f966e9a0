"""Autograd: ``Tensor``, the ``Function`` base class, the backward engine, grad and anomaly
modes, and PyTorch's ``autograd.grad`` / ``autograd.backward`` (``autograd.functional`` holds
``jacobian`` and ``vjp``)."""

from . import functional  # torch.autograd.functional: an attribute, as torch's
from .anomaly import detect_anomaly, is_anomaly_enabled
from .function import Function, FunctionCtx, once_differentiable, unbroadcast
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradients import backward, grad
from .tensor import Tensor, as_tensor, tensor

__all__ = [
    "Function",
    "FunctionCtx",
    "Tensor",
    "as_tensor",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "functional",
    "grad",
    "inference_mode",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "once_differentiable",
    "set_grad_enabled",
    "tensor",
    "unbroadcast",
]
