"""Batch normalization and layer normalization, each one fused Function with its backward.

Both normalize x to xhat = (x - mean) / sqrt(var + eps) and return gamma * xhat + beta. Batch
norm takes the statistics over every axis but the last (channels-last), per channel; layer norm
over the given axes, per sample. Variances are biased (divided by M, not M - 1), as in Keras
and torch.

The backward of a normalization whose statistics depend on x (batch norm in training, layer
norm) is, over the M elements that share one mean and variance, with gh = g * gamma:

    gx = inv_std / M * (M * gh - sum(gh) - xhat * sum(gh * xhat))

(the derivative through xhat directly, through the mean, and through the variance). Computing it
in one pass over saved xhat is both faster and more accurate than differentiating the
composition of mean, subtract, square, ... op by op.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import native, parallel
from ..autograd import Function, Tensor
from ..backend import get_xp
from ..native import address
from . import elementwise as E
from . import reduction as R
from . import shape as S
from ._util import normalize_axes, sum_products, sum_rows
from .dtypes import cast


def _affine(xhat: Any, gamma: Any, beta: Any) -> Any:
    """gamma * xhat + beta in one new array (never xhat itself, which backward keeps)."""
    if gamma is not None:
        y = xhat * gamma
        if beta is not None:
            y += beta
        return y
    return xhat + beta if beta is not None else xhat.copy()


def _recorded_grads(x: Tensor, gamma: Tensor | None, g: Tensor, axes: tuple[int, ...],
                    eps: float) -> tuple[Tensor, Tensor]:
    """(gx, xhat) of gamma * xhat + beta with statistics over ``axes`` that depend on x,
    written with recorded ops (the normalizations' backward under create_graph=True):
    gx = inv_std * (gh - mean(gh) - xhat mean(gh xhat)), gh = g * gamma."""
    xc = x - R.mean(x, axes, keepdims=True)
    inv_std = 1 / E.sqrt(R.mean(xc * xc, axes, keepdims=True) + eps)
    xhat = xc * inv_std
    gh = g if gamma is None else g * gamma
    return inv_std * (gh - R.mean(gh, axes, keepdims=True)
                      - xhat * R.mean(gh * xhat, axes, keepdims=True)), xhat


def _affine_grads(grads: list[Any], g: Tensor, xhat: Tensor, others: tuple[int, ...],
                  has_gamma: bool, has_beta: bool, needs: tuple[bool, ...]) -> tuple[Any, ...]:
    """``grads`` (holding gx) followed by ggamma = sum(g xhat) and gbeta = sum(g) over the
    ``others`` axes, for the affine parameters the op has."""
    if has_gamma:
        grads.append(R.sum(g * xhat, others) if needs[1] else None)
    if has_beta:
        grads.append(R.sum(g, others) if needs[-1] else None)
    return tuple(grads)


class _BatchNorm(Function):
    """Training: y = gamma * xhat + beta with xhat = (x - mean_B) * inv_std, inv_std =
    1 / sqrt(var_B + eps), the statistics of the batch (biased variance) per channel; over the
    M = x.size / C elements of a channel:
        gx = gamma * inv_std / M * (M g - sum(g) - xhat sum(g xhat)),
        ggamma = sum(g xhat),  gbeta = sum(g).
    Inference: the moving statistics are constants, so y = x * scale + shift with scale =
    gamma * inv_std, and gx = g * scale.

    Both are computed as xc * scale (+ beta) with xc = x - mean, and xc is what backward keeps
    (xhat = xc * inv_std is folded into per-channel coefficients), which saves a full pass over
    the activations. In training the moving statistics (raw arrays, not inputs) are updated in
    place with Keras's rule moving = moving * momentum + batch * (1 - momentum).
    """

    def forward(self, x, *affine, has_gamma=True, has_beta=True, moving=(None, None),
                training=True, momentum=0.99, epsilon=1e-3):
        xp = get_xp(x)
        gamma = affine[0] if has_gamma else None
        beta = affine[-1] if has_beta else None
        x2 = x.reshape(-1, x.shape[-1])
        m = x2.shape[0]
        moving_mean, moving_var = moving
        eps = x.dtype.type(epsilon)
        split = xp is np
        if training:
            # Three passes, each split over rows on the intra-op threads: the sums (-> mean),
            # xc = x - mean with its squares' sums (-> var), then y = xc * scale + beta.
            mean = parallel.summed(parallel.over_batch(
                lambda a, b: sum_rows(x2[a:b]), m, x2.size, split)) / x.dtype.type(m)
            xc = xp.empty_like(x2)

            def center(a, b):
                xp.subtract(x2[a:b], mean, out=xc[a:b])
                return sum_products(xc[a:b], xc[a:b])

            var = parallel.summed(parallel.over_batch(center, m, 2 * x2.size, split))
            var /= x.dtype.type(m)
            inv_std = 1.0 / xp.sqrt(var + eps)
            # Keras's rule, with the biased batch variance (torch's running_var would use the
            # unbiased one, var * M / (M - 1)).
            # Only from a finite batch: fit skips the update of a non-finite loss, and a NaN
            # in the moving statistics would make every later prediction NaN.
            keep = 1.0 - momentum
            finite = xp.isfinite(mean).all() & xp.isfinite(var).all()  # no sync on a GPU
            for stat, batch in ((moving_mean, mean), (moving_var, var)):
                if stat is not None:
                    stat[...] = xp.where(finite, stat * momentum + (keep * batch).astype(
                        stat.dtype, copy=False), stat)
            scale = inv_std * gamma if gamma is not None else inv_std
            source, shift = xc, beta
        else:
            mean = moving_mean.astype(x.dtype, copy=False)
            inv_std = 1.0 / xp.sqrt(moving_var.astype(x.dtype, copy=False) + eps)
            scale = inv_std * gamma if gamma is not None else inv_std
            source, shift = x2, (-mean * scale if beta is None else beta - mean * scale)
            xc = None
        y = xp.empty_like(x2)

        def affine(a, b):
            xp.multiply(source[a:b], scale, out=y[a:b])
            if shift is not None:
                y[a:b] += shift

        parallel.over_batch(affine, m, 2 * x2.size, split)
        needs = self.needs_input_grad
        if any(needs):
            # xc is needed for gx in training and for ggamma; inference recomputes it from x
            # only when ggamma is wanted (fine-tuning gamma of a frozen-statistics layer).
            keep_x = not training and has_gamma and needs[1]
            self.save_for_backward(xc, x2 if keep_x else None, mean, inv_std, scale, training,
                                   has_gamma, has_beta, eps)
        return y.reshape(x.shape)

    def backward(self, g):
        xc, x2, mean, inv_std, scale, training, has_gamma, has_beta = self.saved[:8]
        shape = g.shape
        g2 = g.reshape(-1, shape[-1])
        needs = self.needs_input_grad
        want_gamma = has_gamma and needs[1]
        xp = get_xp(g)
        m = g2.shape[0]
        split = xp is np
        want_beta = training and needs[0] or has_beta and needs[-1]
        want_ggamma = training and needs[0] or want_gamma
        if want_ggamma and xc is None:
            xc = x2 - mean

        def sums(a, b):  # per-channel sum(g) and sum(g * xc) of a slice of rows
            return (sum_rows(g2[a:b]) if want_beta else None,
                    sum_products(g2[a:b], xc[a:b]) if want_ggamma else None)

        partials = parallel.over_batch(sums, m, 2 * g2.size, split)
        gbeta, ggamma = (parallel.summed([p[i] for p in partials]) for i in range(2))
        if ggamma is not None:
            ggamma *= inv_std  # sum(g * xhat)
        gx = None
        if needs[0]:
            gx = xp.empty_like(g2)
            coef = inv_std * ggamma / -m if training else None

            def grad_x(a, b):
                out = gx[a:b]
                if training:
                    # gx = scale * (g - sum(g) / M - xhat * sum(g xhat) / M), xhat = xc * inv_std
                    xp.multiply(xc[a:b], coef, out=out)
                    out += g2[a:b]
                    out -= gbeta / m
                    out *= scale
                else:
                    xp.multiply(g2[a:b], scale, out=out)

            parallel.over_batch(grad_x, m, 3 * g2.size, split)
            gx = gx.reshape(shape)
        grads = [gx]
        if has_gamma:
            grads.append(ggamma if want_gamma else None)
        if has_beta:
            grads.append(gbeta if needs[-1] else None)
        return tuple(grads)

    def differentiable_backward(self, g):
        _, _, mean, inv_std, _, training, has_gamma, has_beta, eps = self.saved
        x, needs = self.inputs[0], self.needs_input_grad
        gamma = self.inputs[1] if has_gamma else None
        x2, g2 = S.reshape(x, (-1, x.shape[-1])), S.reshape(g, (-1, x.shape[-1]))
        if training:
            gx, xhat = _recorded_grads(x2, gamma, g2, (0,), eps)
        else:  # the moving statistics are constants
            xhat = (x2 - mean) * inv_std
            gx = g2 * inv_std if gamma is None else g2 * inv_std * gamma
        return _affine_grads([S.reshape(gx, x.shape) if needs[0] else None], g2, xhat, (0,),
                             has_gamma, has_beta, needs)


def batch_norm(x: Tensor, gamma: Tensor | None, beta: Tensor | None,
               moving_mean: Tensor | None, moving_variance: Tensor | None, training: bool,
               momentum: float = 0.99, epsilon: float = 1e-3) -> Tensor:
    """Batch normalization over every axis but the last (channels-last: (N, C), (N, H, W, C)...).

    In training, normalizes with the batch's mean and biased variance and updates
    ``moving_mean`` / ``moving_variance`` in place: moving = moving * momentum + batch *
    (1 - momentum) (Keras's rule, with the biased variance; torch's ``momentum`` is 1 - Keras's
    and its running variance uses the unbiased batch variance). In inference, normalizes with
    the moving statistics.

    Args:
        x: shape (..., channels).
        gamma: scale, shape (channels,), or None (``scale=False``).
        beta: offset, shape (channels,), or None (``center=False``).
        moving_mean, moving_variance: non-trainable tensors of shape (channels,); needed for
            inference; in training they are updated in place when given.
        training: batch statistics (True) or moving statistics (False).
        momentum: Keras's momentum of the moving averages (0.99).
        epsilon: added to the variance (Keras's default 1e-3).

    Returns:
        gamma * (x - mean) / sqrt(var + epsilon) + beta, with x's shape.

    >>> y = F.batch_norm(x, gamma, beta, moving_mean, moving_var, training=True)
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (batch, ..., channels), got "
                         f"shape {x.shape}")
    c = x.shape[-1]
    moving = (_moving_array(moving_mean, "moving_mean"),
              _moving_array(moving_variance, "moving_variance"))
    named = {"gamma": gamma, "beta": beta, "moving_mean": moving_mean,
             "moving_variance": moving_variance}
    for name, t in named.items():
        if t is not None and t.shape != (c,):
            raise ValueError(f"batch_norm: {name} of shape {t.shape}, expected ({c},) for input "
                             f"of shape {x.shape}")
    if not training and (moving_mean is None or moving_variance is None):
        raise ValueError("batch_norm: inference (training=False) needs moving_mean and "
                         "moving_variance")
    if x.dtype == np.float16:
        wide = _in_float32(x, gamma, beta)
        return cast(batch_norm(*wide, moving_mean, moving_variance, training, momentum, epsilon),
                    np.float16)
    affine = tuple(t for t in (gamma, beta) if t is not None)
    return _BatchNorm.apply(x, *affine, has_gamma=gamma is not None, has_beta=beta is not None,
                            moving=moving, training=bool(training), momentum=float(momentum),
                            epsilon=float(epsilon))


def _in_float32(*tensors: Tensor | None) -> list[Tensor | None]:
    """float16 tensors normalized in float32 (the result cast back), as torch and Keras do:
    float16's sums of squares overflow at 65,504 and its statistics lose the digits that the
    gradient's differences need."""
    return [None if t is None else cast(t, np.float32) for t in tensors]


def _moving_array(t: Any, name: str) -> Any:
    """The array of a moving statistic (a Tensor's, or an array itself), which training
    updates in place."""
    if t is None or isinstance(t, Tensor):
        return None if t is None else t.data
    if not hasattr(t, "__array_interface__") and not hasattr(t, "__cuda_array_interface__"):
        raise TypeError(f"batch_norm: {name} must be a Tensor or an array (updated in place "
                        f"in training), got {type(t).__name__}")
    return t


class _LayerNorm(Function):
    """y = gamma * xhat + beta, xhat = (x - mean) * inv_std over ``axes`` per sample; with
    gh = g * gamma and M the number of elements normalized together:
        gx = inv_std / M * (M gh - sum(gh) - xhat sum(gh xhat))   (sums over ``axes``),
        ggamma = sum(g xhat),  gbeta = sum(g)   (sums over the other axes).
    """

    def forward(self, x, *affine, axes=(-1,), has_gamma=True, has_beta=True, epsilon=1e-3):
        xp = get_xp(x)
        gamma = affine[0] if has_gamma else None
        beta = affine[-1] if has_beta else None
        bshape = tuple(n if a in axes else 1 for a, n in enumerate(x.shape))
        lib = native.kernels_for(x, *affine) if (
            axes == (x.ndim - 1,) and x.size >= native.C_MIN) else None
        if lib is not None:  # one C pass a row (native/layer_norm.c); keeps x, mean, 1 / std
            y = np.empty_like(x)
            mean, inv_std = (np.empty(x.shape[:-1] + (1,), x.dtype) for _ in range(2))
            lib.sj_layer_norm_fwd(x.size, x.shape[-1], address(x), address(gamma),
                                  address(beta), epsilon, address(y), address(mean),
                                  address(inv_std))
            if any(self.needs_input_grad):
                self.save_for_backward(x, inv_std, None if gamma is None else
                                       gamma.reshape(bshape), axes, epsilon, mean)
            return y
        mean = x.mean(axis=axes, keepdims=True)
        xhat = x - mean
        var = (xhat * xhat).mean(axis=axes, keepdims=True)
        inv_std = 1.0 / xp.sqrt(var + x.dtype.type(epsilon))
        xhat *= inv_std
        gamma_b = None if gamma is None else gamma.reshape(bshape)
        y = _affine(xhat, gamma_b, None if beta is None else beta.reshape(bshape))
        if any(self.needs_input_grad):
            self.save_for_backward(xhat, inv_std, gamma_b, axes, epsilon, None)
        return y

    def backward(self, g):
        # the C forward saved x and the mean (xhat is recomputed), NumPy's xhat and None
        x_or_xhat, inv_std, gamma_b, axes, _, mean = self.saved
        needs = self.needs_input_grad
        has_beta = len(needs) > 1 + (gamma_b is not None)
        want = (needs[0], gamma_b is not None and needs[1], has_beta and needs[-1])
        grads = None if mean is None else _native_grads(g, x_or_xhat, mean, inv_std, gamma_b,
                                                        axes, want)
        if grads is None:
            xhat = x_or_xhat if mean is None else (x_or_xhat - mean) * inv_std
            grads = _numpy_grads(g, xhat, inv_std, gamma_b, axes, want)
        gx, ggamma, gbeta = grads
        return (gx,) + ((ggamma,) if gamma_b is not None else ()) + (
            (gbeta,) if has_beta else ())

    def differentiable_backward(self, g):
        _, _, gamma_b, axes, eps, _ = self.saved
        x, needs = self.inputs[0], self.needs_input_grad
        bshape = tuple(n if a in axes else 1 for a, n in enumerate(x.shape))
        gamma = None if gamma_b is None else S.reshape(self.inputs[1], bshape)
        gx, xhat = _recorded_grads(x, gamma, g, axes, eps)
        others = tuple(a for a in range(x.ndim) if a not in axes)
        return _affine_grads([gx if needs[0] else None], g, xhat, others, gamma_b is not None,
                             len(needs) > 1 + (gamma_b is not None), needs)


def _numpy_grads(g, xhat, inv_std, gamma_b, axes, want):
    """(gx, ggamma, gbeta), each None where not wanted: see :class:`_LayerNorm`."""
    others = tuple(a for a in range(g.ndim) if a not in axes)
    gx = None
    if want[0]:
        gh = g * gamma_b if gamma_b is not None else g
        m = xhat.size // inv_std.size
        gx = xhat * ((gh * xhat).sum(axis=axes, keepdims=True) / -m)
        gx += gh
        gx -= gh.sum(axis=axes, keepdims=True) / m
        gx *= inv_std
    return (gx, (g * xhat).sum(axis=others) if want[1] else None,
            g.sum(axis=others) if want[2] else None)


def _native_grads(g, x, mean, inv_std, gamma_b, axes, want):
    """The same in one C pass a row, from the C forward's x, mean and 1 / std (xhat
    recomputed); None where it cannot run."""
    if not (type(g) is np.ndarray and g.dtype == np.float32):
        return None
    g = np.ascontiguousarray(g)  # (after the checks: a copy only where C runs)
    lib = native.kernels_for(g, x, *(() if gamma_b is None else (gamma_b,)))
    if lib is None:
        return None
    n = g.shape[-1]
    gx = np.empty_like(g) if want[0] else None
    ggamma, gbeta = (np.empty(n, g.dtype) if w else None for w in want[1:])
    if lib.sj_layer_norm_bwd(g.size, n, address(g), address(x), address(mean),
                             address(inv_std), address(gamma_b), address(gx),
                             address(ggamma), address(gbeta)) != 0:
        return None
    return gx, ggamma, gbeta


def layer_norm(x: Tensor, gamma: Tensor | None, beta: Tensor | None, axis: Any = -1,
               epsilon: float = 1e-3) -> Tensor:
    """Layer normalization: normalize each sample over ``axis`` (Keras's LayerNormalization).

    Args:
        x: any shape.
        gamma: scale with the shape of the normalized axes (``x.shape[axis]``), or None.
        beta: offset, the same shape, or None.
        axis: an int or a tuple of ints, the axes normalized together.
        epsilon: added to the variance (Keras's default 1e-3; torch's is 1e-5).

    Returns:
        gamma * (x - mean) / sqrt(var + epsilon) + beta, with x's shape.

    >>> y = F.layer_norm(x, gamma, beta)   # x (batch, features), gamma (features,)
    """
    axes = normalize_axes(axis, x.ndim)
    expected = tuple(x.shape[a] for a in axes)
    for name, t in (("gamma", gamma), ("beta", beta)):
        if t is not None and t.shape != expected:
            raise ValueError(f"layer_norm: {name} of shape {t.shape}, expected {expected} for "
                             f"input of shape {x.shape} normalized over axes {axes}")
    if x.dtype == np.float16:
        return cast(layer_norm(*_in_float32(x, gamma, beta), axis, epsilon), np.float16)
    affine = tuple(t for t in (gamma, beta) if t is not None)
    return _LayerNorm.apply(x, *affine, axes=axes, has_gamma=gamma is not None,
                            has_beta=beta is not None, epsilon=float(epsilon))
