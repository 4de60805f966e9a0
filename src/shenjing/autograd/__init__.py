"""Autograd: ``Tensor``, the ``Function`` base class, the backward engine, grad and anomaly
modes, and PyTorch's ``autograd.grad`` / ``autograd.backward`` (``autograd.functional`` holds
``jacobian`` and ``vjp``)."""

import importlib as _importlib

from .anomaly import detect_anomaly, is_anomaly_enabled
from .function import Function, FunctionCtx, once_differentiable, unbroadcast
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .tensor import Tensor, array_of, as_tensor, tensor


def __getattr__(name: str):
    # Loaded on first use (they load the engine, which the forward pass never needs):
    # torch.autograd's grad/backward and its functional module (an attribute, as torch's).
    if name in ("grad", "backward"):
        from . import gradients

        return getattr(gradients, name)
    if name == "functional":
        return _importlib.import_module(".functional", __name__)
    if name in ("gradcheck", "gradgradcheck"):  # torch.autograd.gradcheck's place too
        from .. import diagnostics

        return getattr(diagnostics, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Function",
    "FunctionCtx",
    "Tensor",
    "array_of",
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
