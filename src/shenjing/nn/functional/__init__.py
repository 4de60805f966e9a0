"""PyTorch's ``torch.nn.functional``: torch's signatures, argument names, defaults and layouts
over shenjing's ops, so that ``import shenjing.nn.functional as F`` ports torch code unchanged.

The layouts are torch's: images NCHW (and NCL), linear weights (out, in), convolution weights
(out, in / groups, kh, kw), normalization over channel axis 1, losses as (input, target), pad
pairs from the last axis backwards, torch's defaults (leaky_relu's 0.01, batch_norm's momentum
0.1 and eps 1e-5, dropout's ``training=True``). Each function is a thin adapter: transposes
and reshapes around shenjing's fused kernels, so gradients and speed are theirs.

``shenjing.functional`` (``shenjing.F``) stays shenjing's own Keras-flavoured API (NHWC, (in, out)
kernels, Keras's momentum and epsilon, ``(y_true, y_pred)`` losses): the same name with the
other convention would compute something else without an error, so the two live apart.
"""

from .activation import (
    celu,
    celu_,
    elu,
    elu_,
    gelu,
    glu,
    gumbel_softmax,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu,
    leaky_relu_,
    log_softmax,
    logsigmoid,
    mish,
    prelu,
    relu,
    relu6,
    relu_,
    selu,
    selu_,
    sigmoid,
    silu,
    softmax,
    softmin,
    softplus,
    softshrink,
    softsign,
    tanh,
    tanhshrink,
    threshold,
    threshold_,
)
from .conv import (
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    fold,
    max_pool1d,
    max_pool2d,
    unfold,
)
from .dense import bilinear, linear, scaled_dot_product_attention
from .indexing import embedding, embedding_bag, one_hot, pad
from .loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cosine_embedding_loss,
    cosine_similarity,
    cross_entropy,
    ctc_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    mse_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    nll_loss,
    pairwise_distance,
    poisson_nll_loss,
    smooth_l1_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from .normalization import (
    batch_norm,
    dropout,
    dropout1d,
    dropout2d,
    group_norm,
    instance_norm,
    layer_norm,
    normalize,
    rms_norm,
)
from .resize import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    channel_shuffle,
    interpolate,
    pixel_shuffle,
    pixel_unshuffle,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)

__all__ = sorted(n for n, v in globals().items() if not n.startswith("_") and callable(v))
