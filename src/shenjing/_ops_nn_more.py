"""More of ``keras.ops.nn`` (each also at the top of ``keras.ops``): adaptive pooling,
``depth_to_space`` / ``space_to_depth`` (TensorFlow's block order), ``dot_product_attention``
(Keras's (batch, length, heads, head_dim) layout, grouped-query heads, masks, causal, a bias,
a logit cap), ``unfold`` / ``fold`` (torch's, channels first), ``layer_normalization``,
``rms_normalization`` (epsilon by default Keras's 1e-7), ``psnr`` and ``sparse_sigmoid``; all
composites of differentiable F ops.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import functional as F
from ._ops_common import _float, _t
from .autograd import Tensor
from .config import epsilon
from .functional._util import large_negative

_EPSILON = epsilon()  # keras.config.epsilon()


def _channels_first(data_format: str | None) -> bool:
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got "
                         f"{data_format!r}")
    return data_format == "channels_first"


def _adaptive(name: str, kind: str) -> Any:
    def pool(inputs: Any, output_size: Any, data_format: str | None = None) -> Tensor:
        from .nn import functional as SF

        x = _float(inputs)
        if x.ndim not in (3, 4):
            raise ValueError(f"{name}: inputs must be 3-D or 4-D (1 or 2 spatial axes), got "
                             f"shape {x.shape}")
        first = _channels_first(data_format)
        x = x if first else F.transpose(x, (0, x.ndim - 1, *range(1, x.ndim - 1)))
        one_d = x.ndim == 3  # as an image of height 1
        size = (1, int(output_size if np.ndim(output_size) == 0 else output_size[0])) if one_d \
            else output_size
        y = getattr(SF, f"adaptive_{kind}_pool2d")(F.expand_dims(x, 2) if one_d else x, size)
        y = F.squeeze(y, 2) if one_d else y
        return y if first else F.transpose(y, (0, *range(2, y.ndim), 1))

    pool.__name__ = pool.__qualname__ = name
    pool.__doc__ = (f"{kind.title()} pooling into ``output_size`` bins per spatial axis (torch's "
                    "bins: [floor(i L / n), ceil((i + 1) L / n)) ), channels last by default.")
    return pool


adaptive_average_pool = _adaptive("adaptive_average_pool", "avg")
adaptive_max_pool = _adaptive("adaptive_max_pool", "max")


def depth_to_space(x: Any, block_size: int, data_format: str = "channels_last") -> Tensor:
    """(B, H, W, C) -> (B, H b, W b, C / b^2): channel block (i b + j) of a pixel goes to its
    (i, j) sub-pixel (TensorFlow's order)."""
    x, b = _t(x), int(block_size)
    first = _channels_first(data_format)
    x = F.transpose(x, (0, 2, 3, 1)) if first else x
    n, h, w, c = x.shape
    if c % (b * b):
        raise ValueError(f"depth_to_space: {c} channels are not divisible by block_size^2 = "
                         f"{b * b}")
    y = F.reshape(F.transpose(F.reshape(x, (n, h, w, b, b, c // (b * b))), (0, 1, 3, 2, 4, 5)),
                  (n, h * b, w * b, c // (b * b)))
    return F.transpose(y, (0, 3, 1, 2)) if first else y


def space_to_depth(x: Any, block_size: int, data_format: str = "channels_last") -> Tensor:
    """The inverse of :func:`depth_to_space`: (B, H, W, C) -> (B, H / b, W / b, C b^2)."""
    x, b = _t(x), int(block_size)
    first = _channels_first(data_format)
    x = F.transpose(x, (0, 2, 3, 1)) if first else x
    n, h, w, c = x.shape
    if h % b or w % b:
        raise ValueError(f"space_to_depth: height {h} and width {w} must be divisible by "
                         f"block_size {b}")
    y = F.reshape(F.transpose(F.reshape(x, (n, h // b, b, w // b, b, c)), (0, 1, 3, 2, 4, 5)),
                  (n, h // b, w // b, b * b * c))
    return F.transpose(y, (0, 3, 1, 2)) if first else y


def dot_product_attention(query: Any, key: Any, value: Any, bias: Any = None, mask: Any = None,
                          scale: float | None = None, is_causal: bool = False,
                          flash_attention: Any = None, attn_logits_soft_cap: Any = None
                          ) -> Tensor:
    """softmax(q k^T scale + bias, masked) v for (batch, length, heads, head_dim) inputs (or
    without the batch axis); key and value may have fewer heads, each shared by a group of
    query heads. ``mask`` (True: attend) and ``bias`` broadcast to (batch, heads, q_len,
    k_len); ``is_causal`` lets position i see keys up to i; ``attn_logits_soft_cap``
    squashes the logits to cap tanh(logits / cap). ``flash_attention`` is accepted."""
    q, k, v = (_float(t) for t in (query, key, value))
    batched = q.ndim == 4
    if not batched:
        q, k, v = (F.expand_dims(t, 0) for t in (q, k, v))
    heads, kv_heads = q.shape[2], k.shape[2]
    if heads % kv_heads:
        raise ValueError(f"dot_product_attention: {heads} query heads are not a multiple of "
                         f"{kv_heads} key heads")
    if kv_heads != heads:  # grouped-query attention: each key head serves heads / kv_heads
        k, v = (F.reshape(F.broadcast_to(F.expand_dims(t, 3), (*t.shape[:3], heads // kv_heads,
                                                                 t.shape[3])),
                          (*t.shape[:2], heads, t.shape[3])) for t in (k, v))
    qt, kt, vt = (F.transpose(t, (0, 2, 1, 3)) for t in (q, k, v))  # (B, N, len, H)
    logits = (qt @ kt.mT) * (1.0 / math.sqrt(q.shape[-1]) if scale is None else scale)
    if bias is not None:
        logits = logits + _t(bias)
    if attn_logits_soft_cap is not None:
        cap = float(attn_logits_soft_cap)
        logits = F.tanh(logits * (1.0 / cap)) * cap
    keep = None if mask is None else np.asarray(_t(mask).data, bool)
    if is_causal:
        causal = np.tril(np.ones(logits.shape[-2:], bool))
        keep = causal if keep is None else keep & causal
    if keep is not None:
        logits = F.where(keep, logits, large_negative(logits.dtype))
    out = F.transpose(F.softmax(logits, axis=-1) @ vt, (0, 2, 1, 3))
    return out if batched else F.squeeze(out, 0)


def conv_transpose(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
                   output_padding: Any = None, data_format: str | None = None,
                   dilation_rate: Any = 1) -> Tensor:
    """The transposed 1-D or 2-D convolution (Conv1DTranspose's and Conv2DTranspose's, no
    bias): kernel (*kernel_size, filters, in_channels), Keras's layout and output sizes."""
    from ._ops_common import _tensors
    from ._ops_nn import _channels_last
    from .functional.conv import ints
    from .layers.conv import transposed_window

    x, w = _tensors(_float(inputs), kernel)
    one_d = _channels_last("conv_transpose", data_format, x, "convolution")
    rank = 1 if one_d else 2
    strides, dilation = ints(strides, rank, "strides"), ints(dilation_rate, rank, "dilation_rate")
    extra = None if output_padding is None else ints(output_padding, rank, "output_padding",
                                                     minimum=0)
    windows = [transposed_window(x.shape[1 + a], w.shape[a], strides[a], dilation[a],
                                 padding.lower(), None if extra is None else extra[a])
               for a in range(rank)]
    if one_d:
        x, w = F.expand_dims(x, 1), F.expand_dims(w, 0)
        strides, dilation, windows = (1, *strides), (1, *dilation), [(0, 1), *windows]
    y = F.conv2d_transpose(x, w, strides, dilation, windows)
    return F.squeeze(y, 1) if one_d else y


def unfold(x: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
           stride: Any = 1) -> Tensor:
    """torch's ``unfold`` (im2col) of (N, C, H, W): (N, C kH kW, blocks)."""
    from .nn import functional as SF

    return SF.unfold(_float(x), kernel_size, dilation=dilation, padding=padding, stride=stride)


def fold(x: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """torch's ``fold`` (col2im, overlaps summed): the inverse arrangement of :func:`unfold`."""
    from .nn import functional as SF

    return SF.fold(_float(x), output_size, kernel_size, dilation=dilation, padding=padding,
                   stride=stride)


def layer_normalization(x: Any, gamma: Any = None, beta: Any = None, axis: Any = -1,
                        epsilon: float | None = None, **kwargs: Any) -> Tensor:
    """(x - mean) / sqrt(var + epsilon) * gamma + beta over ``axis`` (``F.layer_norm``);
    ``rms_scaling=True``, as Keras's, x / sqrt(var + epsilon) * gamma (no centring, no beta)."""
    x = _float(x)
    eps = _EPSILON if epsilon is None else float(epsilon)
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise TypeError(f"layer_normalization: unexpected arguments {sorted(kwargs)}")
    gamma = None if gamma is None else _t(gamma)
    if rms_scaling:
        y = x / F.sqrt(F.var(x, axis=axis, keepdims=True) + eps)
        return y if gamma is None else y * gamma
    return F.layer_norm(x, gamma, None if beta is None else _t(beta), axis, eps)


def rms_normalization(x: Any, scale: Any = None, axis: Any = -1,
                      epsilon: float | None = None) -> Tensor:
    """x / sqrt(mean(x^2) + epsilon) * scale over ``axis``."""
    x = _float(x)
    eps = _EPSILON if epsilon is None else float(epsilon)
    y = x / F.sqrt(F.mean(x * x, axis=axis, keepdims=True) + eps)
    return y if scale is None else y * _t(scale)


def psnr(x1: Any, x2: Any, max_val: Any) -> Tensor:
    """Peak signal-to-noise ratio in dB: 20 log10(max_val) - 10 log10(mean squared error)."""
    a, b = _float(x1), _float(x2)
    if a.shape != b.shape:
        raise ValueError(f"psnr: shapes {a.shape} and {b.shape} must match")
    mse = F.mean((a - b) * (a - b))
    return 20.0 * math.log10(float(_t(max_val).item())) - F.log(mse) * (10.0 / math.log(10.0))


def sparse_sigmoid(x: Any) -> Tensor:
    """0 below -1, (x + 1) / 2 between, 1 above 1 (a sigmoid with exact zeros and ones)."""
    return F.clip((_float(x) + 1.0) * 0.5, 0.0, 1.0)


__all__ = ["adaptive_average_pool", "adaptive_max_pool", "conv_transpose", "depth_to_space",
           "dot_product_attention", "fold", "layer_normalization", "psnr", "rms_normalization",
           "space_to_depth", "sparse_sigmoid", "unfold"]
