"""TensorFlow's ``tf.nn`` functions, for Keras code written for TensorFlow (``import shenjing as
tf``: ``tf.nn.softmax(logits / temperature)``, ``tf.nn.sparse_softmax_cross_entropy_with_logits``).

They sit in ``shenjing.nn`` beside PyTorch's ``functional``: torch's ``nn`` has no lowercase
functions of its own, so the two never share a name. TensorFlow's argument names and defaults
(``axis=-1``, ``gelu(approximate=False)``, ``leaky_relu(alpha=0.2)``, losses per element or
per sample, never reduced), over shenjing's differentiable ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from .. import ops
from ..autograd import Tensor
from ..backend import get_xp
from ..functional._util import as_tensor
from . import functional


def _t(x: Any, like: Tensor | None = None) -> Tensor:
    """``x`` as a float32 Tensor where it lives (a CuPy array stays on its GPU), or, given
    ``like``, in like's dtype and on like's device (labels beside the logits)."""
    if isinstance(x, Tensor):
        return x
    if like is not None:
        return as_tensor(x, like)
    return as_tensor(get_xp(x).asarray(x, dtype=np.float32))


def relu(features: Any, name: str | None = None) -> Tensor:
    return F.relu(_t(features))


def relu6(features: Any, name: str | None = None) -> Tensor:
    """min(max(x, 0), 6), with TensorFlow's gradient 0 at both bounds (torch's relu6's)."""
    return functional.relu6(_t(features))


def sigmoid(x: Any, name: str | None = None) -> Tensor:
    return F.sigmoid(_t(x))


def tanh(x: Any, name: str | None = None) -> Tensor:
    return F.tanh(_t(x))


def softplus(features: Any, name: str | None = None) -> Tensor:
    return F.softplus(_t(features))


def softsign(features: Any, name: str | None = None) -> Tensor:
    return ops.softsign(_t(features))


def elu(features: Any, name: str | None = None) -> Tensor:
    return F.elu(_t(features))


def selu(features: Any, name: str | None = None) -> Tensor:
    return F.selu(_t(features))


def silu(features: Any, beta: float = 1.0, name: str | None = None) -> Tensor:
    x = _t(features)
    return F.silu(x) if beta == 1.0 else x * F.sigmoid(x * beta)


swish = silu


def gelu(features: Any, approximate: bool = False, name: str | None = None) -> Tensor:
    """GELU, exact by default (TensorFlow's default; Keras 3's ``ops.gelu`` approximates)."""
    return F.gelu(_t(features), approximate=approximate)


def leaky_relu(features: Any, alpha: float = 0.2, name: str | None = None) -> Tensor:
    return F.leaky_relu(_t(features), alpha)


def softmax(logits: Any, axis: int | None = None, name: str | None = None) -> Tensor:
    return F.softmax(_t(logits), -1 if axis is None else axis)


def log_softmax(logits: Any, axis: int | None = None, name: str | None = None) -> Tensor:
    return F.log_softmax(_t(logits), -1 if axis is None else axis)


def bias_add(value: Any, bias: Any, data_format: str | None = None,
             name: str | None = None) -> Tensor:
    """``value + bias`` along the channels (the last axis; NCHW's second with
    ``data_format='NCHW'``)."""
    value, bias = _t(value), _t(bias)
    if data_format is not None and data_format.startswith("NC"):
        bias = F.reshape(bias, (-1,) + (1,) * (value.ndim - 2))
    return value + bias


def l2_loss(t: Any, name: str | None = None) -> Tensor:
    """``sum(t ** 2) / 2``."""
    t = _t(t)
    return F.sum(t * t) * 0.5


def l2_normalize(x: Any, axis: Any = None, epsilon: float = 1e-12,
                 name: str | None = None) -> Tensor:
    """``x / sqrt(max(sum(x ** 2, axis), epsilon))``."""
    x = _t(x)
    return x / F.sqrt(F.maximum(F.sum(x * x, axis=axis, keepdims=True), epsilon))


def moments(x: Any, axes: Any, shift: Any = None, keepdims: bool = False,
            name: str | None = None) -> tuple[Tensor, Tensor]:
    """The mean and the (population) variance of ``x`` over ``axes``."""
    return ops.moments(_t(x), axes, keepdims=keepdims)


def dropout(x: Any, rate: float, noise_shape: Any = None, seed: int | None = None,
            name: str | None = None) -> Tensor:
    """Inverted dropout, always on (TensorFlow's ``tf.nn.dropout`` has no training flag)."""
    generator = None if seed is None else np.random.default_rng(seed)
    return F.dropout(_t(x), rate, training=True, generator=generator, noise_shape=noise_shape)


def sigmoid_cross_entropy_with_logits(labels: Any = None, logits: Any = None,
                                      name: str | None = None) -> Tensor:
    """Element-wise ``max(x, 0) - x z + log(1 + e**-|x|)``: binary cross-entropy of logits
    ``x`` against labels ``z`` of the same shape, stable for any logit."""
    x = _t(logits)
    z = _t(labels, x)
    if x.shape != z.shape:
        raise ValueError(f"sigmoid_cross_entropy_with_logits: logits {x.shape} and labels "
                         f"{z.shape} must have the same shape")
    return F.binary_cross_entropy_with_logits(x, z, reduction="none")  # the fused op


def softmax_cross_entropy_with_logits(labels: Any, logits: Any, axis: int = -1,
                                      name: str | None = None) -> Tensor:
    """Per sample ``-sum(labels * log_softmax(logits), axis)``, for label distributions."""
    x = _t(logits)
    z = _t(labels, x)
    if x.shape != z.shape:
        raise ValueError(f"softmax_cross_entropy_with_logits: logits {x.shape} and labels "
                         f"{z.shape} must have the same shape")
    return F.categorical_crossentropy(z, x, from_logits=True, axis=axis, reduction="none")


def sparse_softmax_cross_entropy_with_logits(labels: Any = None, logits: Any = None,
                                             name: str | None = None) -> Tensor:
    """Per sample cross-entropy of logits ``(..., classes)`` against class ids ``(...)``, of
    the ids' shape (any rank, as TF's: a sequence's positions, or one unbatched sample)."""
    x = _t(logits)
    ids = labels.data if isinstance(labels, Tensor) else get_xp(x.data).asarray(labels)
    if x.ndim < 1 or tuple(ids.shape) != tuple(x.shape[:-1]):
        raise ValueError(f"sparse_softmax_cross_entropy_with_logits: labels of shape "
                         f"{tuple(ids.shape)} must be the logits' {tuple(x.shape)} without "
                         "its last (class) axis")
    flat = F.sparse_categorical_crossentropy(ids.reshape(-1), F.reshape(x, (-1, x.shape[-1])),
                                             from_logits=True, reduction="none")
    return F.reshape(flat, ids.shape)


def ctc_loss(labels: Any, logits: Any, label_length: Any, logit_length: Any,
             logits_time_major: bool = True, unique: Any = None, blank_index: int | None = None,
             name: str | None = None) -> Tensor:
    """Per-sample CTC loss of ``logits`` ((frames, batch, classes), or batch first with
    ``logits_time_major=False``) against dense ``labels`` (batch, longest) with
    ``label_length``; ``blank_index`` defaults to 0, a negative one counts from the last class
    (-1: the last, TensorFlow 1's choice). See :mod:`shenjing.functional.ctc`."""
    from ..functional import shape as S
    from ..functional.ctc import ctc_log_likelihood_loss

    if unique is not None:
        raise NotImplementedError("ctc_loss: `unique` (tf.nn.ctc_unique_labels's output) is "
                                  "not supported; pass the labels themselves")
    x = _t(logits)
    if logits_time_major:
        x = S.transpose(x, (1, 0, 2))
    blank = 0 if blank_index is None else blank_index % x.shape[-1]
    return ctc_log_likelihood_loss(F.log_softmax(x, -1), labels, logit_length, label_length,
                                   blank=blank)


NAMES = ("bias_add", "ctc_loss", "dropout", "elu", "gelu", "l2_loss", "l2_normalize", "leaky_relu",
         "log_softmax", "moments", "relu", "relu6", "selu", "sigmoid",
         "sigmoid_cross_entropy_with_logits", "silu", "softmax",
         "softmax_cross_entropy_with_logits", "softplus", "softsign",
         "sparse_softmax_cross_entropy_with_logits", "swish", "tanh")
