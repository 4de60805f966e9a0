"""shenjing (神经, "neural"): a deep-learning framework from first principles.

A PyTorch-style autograd (``Tensor``, ``backward()``, ``no_grad()``) over NumPy, every
differentiable op in ``shenjing.functional`` (imported as ``F``), and gradient checks that
compare each op with finite differences.
"""

from . import backend, functional, utils
from .autograd import Function, Tensor, enable_grad, is_grad_enabled, no_grad, tensor
from .diagnostics import gradcheck

F = functional
__version__ = "0.1.0"

__all__ = [
    "F",
    "Function",
    "Tensor",
    "backend",
    "enable_grad",
    "functional",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "tensor",
    "utils",
]
