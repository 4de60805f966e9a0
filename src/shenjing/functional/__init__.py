"""Every differentiable op, imported as ``F`` (``import shenjing.functional as F``).

Each op is a ``Function`` subclass (forward and backward in one class) with a small wrapper
function here; see the modules for the derivatives.
"""

from . import tensor_methods as _tensor_methods
from .activation import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from .conv import conv2d, conv2d_transpose, depthwise_conv2d
from .device import to_device
from .dropout import dropout
from .elementwise import (
    abs,
    add,
    allclose,
    cast,
    ceil,
    clip,
    clone,
    cos,
    div,
    equal,
    exp,
    floor,
    floor_divide,
    fmod,
    greater,
    greater_equal,
    isclose,
    less,
    less_equal,
    log,
    log2,
    log10,
    maximum,
    minimum,
    mul,
    neg,
    not_equal,
    pow,
    remainder,
    round,
    sign,
    sin,
    sqrt,
    sub,
    trunc,
    where,
)
from .embedding import embedding, one_hot
from .linalg import linear, matmul
from .loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    binary_crossentropy,
    categorical_crossentropy,
    cross_entropy,
    huber,
    huber_loss,
    l1_loss,
    mean_absolute_error,
    mean_squared_error,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
    sparse_categorical_crossentropy,
)
from .normalization import batch_norm, layer_norm
from .pooling import avg_pool2d, global_avg_pool2d, global_max_pool2d, max_pool2d
from .recurrent import recurrence
from .reduction import logsumexp, max, mean, min, norm, std, sum, var
from .shape import (
    broadcast_to,
    cat,
    concatenate,
    expand_dims,
    flip,
    gather,
    getitem,
    pad,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    take_along_axis,
    transpose,
)

_tensor_methods.install()

__all__ = [n for n in dir() if not n.startswith("_")] + ["conv3d", "ctc_decode", "ctc_loss"]


def __getattr__(name: str):
    if name == "conv3d":  # volumes are rarer than images: loaded on first use
        from .volume import conv3d

        return conv3d
    if name == "ctc_loss":  # as rare: sequence labelling
        from .ctc import ctc_loss

        return ctc_loss
    if name == "ctc_decode":
        from .ctc_decoding import ctc_decode

        return ctc_decode
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
