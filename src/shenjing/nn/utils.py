"""``torch.nn.utils``: gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``) and
``parameters_to_vector`` / ``vector_to_parameters``, for training loops written by hand. The
Keras way is the optimizers' ``global_clipnorm`` / ``clipvalue``."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..autograd import Tensor, no_grad
from ..optimizers.optimizer import global_norm


def _tensors(parameters: Any) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _vector_norm(values: Any, p: float) -> float:
    """torch's ``linalg.vector_norm`` of an array: max or min |x| for +-inf, the count of
    non-zeros for 0, else (sum |x|**p)**(1/p), in float64."""
    magnitudes = abs(values.astype(np.float64)).reshape(-1)
    if not magnitudes.size:
        return 0.0
    if math.isinf(p):
        return float(magnitudes.max() if p > 0 else magnitudes.min())
    if p == 0:
        return float((magnitudes != 0).sum())
    with np.errstate(divide="ignore"):  # a negative order meets 0: inf, and a norm of 0
        return float((magnitudes ** p).sum() ** (1.0 / p))


def clip_grad_norm_(parameters: Any, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: Any = None) -> Tensor:
    """Scale the gradients of ``parameters`` in place so that their ``norm_type`` norm is at
    most ``max_norm``, as torch's: the norm of the gradients' norms (for 2, that of all of them
    as one vector; ``inf`` the largest magnitude, 0 a count), scaled by
    ``max_norm / (norm + 1e-6)``, never above 1. Returns the norm before clipping; a NaN or
    infinite one raises with ``error_if_nonfinite``."""
    grads = [p.grad for p in _tensors(parameters) if p.grad is not None]
    if not grads:
        return Tensor(0.0)
    p = float(norm_type)
    if p == 2.0:  # one dot product per gradient (the optimizers' clipping's own)
        total = global_norm([g.data for g in grads])
    else:
        total = _vector_norm(np.array([_vector_norm(g.data, p) for g in grads]), p)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is "
                           f"non-finite ({total}), so it cannot be clipped; pass "
                           "error_if_nonfinite=False to clip anyway")
    scale = min(float(max_norm) / (total + 1e-6), 1.0)
    if scale < 1.0 or math.isnan(scale):
        with no_grad():
            for g in grads:
                g.data *= g.data.dtype.type(scale)
    return Tensor(total, dtype=grads[0].dtype)


def clip_grad_value_(parameters: Any, clip_value: float, foreach: Any = None) -> None:
    """Clamp every gradient of ``parameters`` in place to [-clip_value, clip_value]."""
    value = float(clip_value)
    for p in _tensors(parameters):
        if p.grad is not None:
            p.grad.xp.clip(p.grad.data, -value, value, out=p.grad.data)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters' values flattened and joined into one vector (a copy)."""
    tensors = _tensors(parameters)
    xp = tensors[0].xp
    return Tensor(xp.concatenate([t.data.reshape(-1) for t in tensors]),
                  dtype=tensors[0].dtype)


def vector_to_parameters(vec: Any, parameters: Iterable[Tensor]) -> None:
    """Write the slices of ``vec`` back into ``parameters`` in place (the inverse of
    :func:`parameters_to_vector`)."""
    values = vec.data if isinstance(vec, Tensor) else np.asarray(vec)
    start = 0
    tensors = _tensors(parameters)
    need = sum(t.size for t in tensors)
    if values.shape != (need,):
        raise ValueError(f"vector_to_parameters: a vector of {need} values is needed for "
                         f"these parameters, got shape {values.shape}")
    for t in tensors:
        t.data[...] = values[start:start + t.size].reshape(t.shape)
        start += t.size
