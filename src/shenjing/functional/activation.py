"""Activation functions: sigmoid, tanh, relu, leaky_relu, elu, selu, gelu, softplus, silu,
softmax, log_softmax. Each keeps what its derivative needs (usually its output) and is written
so that no input, however large, overflows."""

from __future__ import annotations

import math
import operator
import sys

import numpy as np

from .. import native, parallel
from ..autograd import Function, Tensor, temporary
from ..backend import get_xp
from ..native import address
from . import elementwise as E
from ._util import fold_relu, max_shift, select, torch_alias

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


# The C passes run from native.C_MIN elements; the sigmoid and tanh gradients (one or two
# NumPy passes) pay from parallel.TEAM_MIN elements on.
def _sigmoid(x):
    """1 / (1 + e**-x) from e**-|x| only, so neither branch can overflow: one C pass where it
    applies (native/activations.c), else NumPy's passes."""
    y = native.run("sj_sigmoid_fwd", x, min_size=native.C_MIN)
    if y is not None:
        return y
    xp = get_xp(x)
    e = xp.exp(-xp.abs(x))
    r = 1 / (1 + e)
    return select(x >= 0, r, e * r)


class _Sigmoid(Function):
    """y = 1 / (1 + e**-x);  dy/dx = y (1 - y) <= 1/4 (why deep sigmoid nets' gradients vanish)."""

    saves_outputs = True

    def forward(self, x):
        y = _sigmoid(x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved
        gx = native.run("sj_sigmoid_bwd", g, y, min_size=parallel.TEAM_MIN)
        return g * y * (1 - y) if gx is None else gx

    def differentiable_backward(self, g):
        return _GradTimesDerivative.apply(g, self.inputs[0], kind="sigmoid")


class _Tanh(Function):
    """y = tanh(x);  dy/dx = 1 - y**2."""

    saves_outputs = True

    def forward(self, x):
        y = get_xp(x).tanh(x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved
        gx = native.run("sj_tanh_bwd", g, y, min_size=parallel.TEAM_MIN)
        return g * (1 - y * y) if gx is None else gx

    def differentiable_backward(self, g):
        return _GradTimesDerivative.apply(g, self.inputs[0], kind="tanh")


def _derivatives(x, kind):
    """(f'(x), f''(x)) of tanh or sigmoid, on arrays or (recorded) on Tensors alike."""
    y = (tanh(x) if kind == "tanh" else sigmoid(x)) if isinstance(x, Tensor) else (
        get_xp(x).tanh(x) if kind == "tanh" else _sigmoid(x))
    if kind == "tanh":
        d1 = 1 - y * y
        return d1, -2 * y * d1
    d1 = y * (1 - y)
    return d1, d1 * (1 - 2 * y)


class _GradTimesDerivative(Function):
    """z = g f'(x) for f = tanh or sigmoid: their backward as one recorded op under
    create_graph (recomputing f and its products op by op took four), differentiable again:
    dz/dg = f'(x), dz/dx = g f''(x)."""

    def forward(self, g, x, kind="tanh"):
        d1, d2 = _derivatives(x, kind)
        self.save_for_backward(g, d1, d2, kind)
        return g * d1

    def backward(self, gz):
        g, d1, d2, _ = self.saved
        need = self.needs_input_grad
        return (gz * d1 if need[0] else None), (gz * g * d2 if need[1] else None)

    def differentiable_backward(self, gz):
        (g, x), need = self.inputs, self.needs_input_grad
        d1, d2 = _derivatives(x, self.saved[3])
        return (gz * d1 if need[0] else None), (gz * g * d2 if need[1] else None)


class _ReLU(Function):
    """y = max(0, x);  dy/dx = 1 for x > 0, else 0 (0 at the kink, as torch). Big arrays are
    split over the intra-op threads (after a batch norm, ReLU is a full pass of its own)."""

    saves_outputs = True

    def forward(self, x):
        xp = get_xp(x)
        x1 = x.reshape(-1)
        # in team mode one C pass on the team; else NumPy's, split over the batch if big
        y = native.run("sj_relu", x1, min_size=parallel.TEAM_MIN) if parallel.team_size else None
        if y is None:
            y = xp.empty_like(x1)
            parallel.over_batch(lambda a, b: xp.maximum(x1[a:b], 0, out=y[a:b]), x1.size,
                                x1.size, xp is np)
        self.save_for_backward(y)
        return y.reshape(x.shape)

    def backward(self, g):
        xp, y = get_xp(g), self.saved[0]
        g1 = g.reshape(-1)
        gx = native.run("sj_relu_grad", g1, y, min_size=parallel.TEAM_MIN) if (
            parallel.team_size) else None
        if gx is None:
            gx = xp.empty(g1.shape, dtype=xp.result_type(g1, y))
            parallel.over_batch(lambda a, b: xp.multiply(g1[a:b], y[a:b] > 0, out=gx[a:b]),
                                g1.size, 2 * g1.size, xp is np)
        return gx.reshape(g.shape)

    def derivative(self, x):
        return x.data > 0  # a constant: relu is piecewise linear


class _LeakyReLU(Function):
    """y = x for x > 0, else slope * x;  dy/dx = 1 or slope. One C pass each way where the
    kernels apply (NumPy's where needs three), split over the intra-op threads as ReLU."""

    def forward(self, x, slope=0.2):
        self.save_for_backward(x, slope)
        return _by_sign(x, x, slope, "sj_leaky_relu")

    def backward(self, g):
        x, slope = self.saved
        return _by_sign(g, x, slope, "sj_leaky_relu_grad")

    def differentiable_backward(self, g):
        x, slope = self.saved
        return _LeakyMask.apply(g, x=x, slope=slope)


class _LeakyMask(Function):
    """y = g where x > 0, else slope * g, for a constant x: leaky ReLU's backward as an op (its
    recorded form under create_graph); a diagonal linear map, so its backward is itself."""

    def forward(self, g, x=None, slope=0.2):
        self.save_for_backward(x, slope)
        return _by_sign(g, x, slope, "sj_leaky_relu_grad")

    # the same saved (x, slope) as leaky ReLU's, and the same map back
    backward = _LeakyReLU.backward
    differentiable_backward = _LeakyReLU.differentiable_backward


def _by_sign(a, x, slope, kernel):
    """``a`` where x > 0, else slope * a (a NaN in x gives slope * a, NaN for a = x): leaky
    ReLU's forward (a = x) and backward (a = g), in C where it applies."""
    xp = get_xp(a)
    a1, x1 = a.reshape(-1), x.reshape(-1)
    out = xp.empty(a1.shape, dtype=xp.result_type(a1, x1))
    kernels = native.kernels_for(a1, x1, out)
    if kernels is not None:
        fn, args = getattr(kernels, kernel), (() if a is x else (x1,))

        def part(lo, hi):
            fn(hi - lo, *(address(v[lo:]) for v in (a1, *args, out)), slope)
    else:
        def part(lo, hi):
            out[lo:hi] = select(x1[lo:hi] > 0, a1[lo:hi], a1[lo:hi] * a1.dtype.type(slope))
    parallel.over_batch(part, a1.size, a1.size, xp is np)
    return out.reshape(a.shape)


class _ELU(Function):
    """y = scale * (x for x > 0, else alpha (e**x - 1));  dy/dx = scale or scale alpha e**x
    (from x, as torch: y + scale alpha would cancel to 0 for x below about -17 in float32).
    (scale = 1 is ELU; SELU uses fixed alpha and scale.)"""

    def forward(self, x, alpha=1.0, scale=1.0):
        xp = get_xp(x)
        t = x.dtype.type
        positive = x > 0
        negative_part = xp.minimum(x, 0)
        y = select(positive, x, t(alpha) * xp.expm1(negative_part)) * t(scale)
        self.save_for_backward(positive, negative_part, t(alpha * scale), t(scale))
        return y

    def backward(self, g):
        positive, negative_part, alpha_scale, scale = self.saved
        xp = get_xp(g)
        return g * select(positive, scale, alpha_scale * xp.exp(negative_part))

    def derivative(self, x):
        positive, _, alpha_scale, scale = self.saved
        return E.where(positive, scale, E.exp(E.minimum(x, 0)) * alpha_scale)


_ERF64 = np.frompyfunc(math.erf, 1, 1)


def _erf(x):
    """The error function: NumPy has none, and SciPy is not a dependency. In float32, Abramowitz
    & Stegun 7.1.26 (absolute error < 1.5e-7, below float32's resolution near 1, vectorized),
    and below |x| = 0.5 its Taylor series to x**11 (relative error < 3e-8: the absolute bound
    was 5% of erf(1e-6)); float64 NumPy arrays get Python's ``math.erf`` element by element
    (correctly rounded to a bit, ~0.1 us each: float64 is for checking, where 1.5e-7 would
    show)."""
    xp = get_xp(x)
    if xp is np and x.dtype == np.float64:
        return np.asarray(_ERF64(x), dtype=np.float64)
    s = xp.sign(x)
    a = xp.abs(x)
    t = 1 / (1 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                                                                          + t * 1.061405429))))
    xs = xp.clip(x, -0.5, 0.5)  # where the series is used (a huge x would overflow it)
    x2 = xs * xs
    series = xs * (1.1283791670955126 * (1 + x2 * (-1 / 3 + x2 * (1 / 10 + x2 * (
        -1 / 42 + x2 * (1 / 216 + x2 * (-1 / 1320)))))))
    return xp.where(a < 0.5, series, s * (1 - poly * xp.exp(-a * a))).astype(x.dtype, copy=False)


class _GELU(Function):
    """y = x Phi(x) (Phi the normal CDF);  dy/dx = Phi(x) + x phi(x).
    With ``approximate=True`` Phi is replaced by 0.5 (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))."""

    def forward(self, x, approximate=False):
        grad = self.needs_input_grad[0]  # dy/dx only when a backward will need it
        done = None if approximate else native.run(
            "sj_gelu_fwd", x, outputs=1 + grad, skipped=1 - grad, min_size=native.C_MIN)
        if done is not None:  # one C pass for y (and dy/dx)
            if not grad:
                return done
            self.save_for_backward(done[1], approximate)
            return done[0]
        xp, dtype = get_xp(x), x.dtype
        if dtype == np.float16:  # computed in float32: float16's erf cancels (45% off at -3.7)
            x = x.astype(np.float32)  # and its tanh form's x**3 overflows (NaN gradients)
        t = x.dtype.type
        if approximate:
            inner = t(math.sqrt(2 / math.pi)) * (x + t(0.044715) * x * x * x)
            th = xp.tanh(inner)
            cdf = t(0.5) * (1 + th)
        else:
            cdf = t(0.5) * (1 + _erf(x * t(1 / math.sqrt(2))))
        if grad:
            if approximate:
                dydx = cdf + x * (t(0.5) * (1 - th * th) * t(math.sqrt(2 / math.pi)) * (
                    1 + t(3 * 0.044715) * x * x))
            else:
                dydx = cdf + x * xp.exp(t(-0.5) * x * x) * t(1 / math.sqrt(2 * math.pi))
            self.save_for_backward(dydx.astype(dtype), approximate)
        return (x * cdf).astype(dtype)

    def backward(self, g):
        return parallel.arith(parallel.MUL, g, self.saved[0])

    def derivative(self, x):
        if self.saved[1]:
            th = tanh((x + x * x * x * 0.044715) * math.sqrt(2 / math.pi))
            return 0.5 * (1 + th) + x * (0.5 * math.sqrt(2 / math.pi)) * (1 - th * th) * (
                1 + x * x * (3 * 0.044715))
        cdf = 0.5 * (1 + _Erf.apply(x * (1 / math.sqrt(2))))
        return cdf + x * E.exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi))


class _Erf(Function):
    """y = erf(x);  dy/dx = 2 / sqrt(pi) e**(-x**2): GELU's derivative, recorded."""

    def forward(self, x):
        self.save_for_backward(x)
        return _erf(x).astype(x.dtype)

    def backward(self, g):
        x = self.saved[0]
        return g * get_xp(x).exp(-x * x) * x.dtype.type(2 / math.sqrt(math.pi))

    def derivative(self, x):
        return E.exp(-x * x) * (2 / math.sqrt(math.pi))


class _Softplus(Function):
    """y = ln(1 + e**x), computed as max(x, 0) + ln(1 + e**-|x|);  dy/dx = sigmoid(x)."""

    def forward(self, x):
        xp = get_xp(x)
        self.save_for_backward(x)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, g):
        return g * _sigmoid(self.saved[0])

    def derivative(self, x):
        return sigmoid(x)


class _SiLU(Function):
    """y = x sigmoid(x) (swish);  dy/dx = s + x s (1 - s), computed with y (one C pass for
    both where it applies, as GELU's; NumPy's six passes took 2.4x PyTorch's time)."""

    def forward(self, x):
        grad = self.needs_input_grad[0]  # dy/dx only when a backward will need it
        done = native.run("sj_silu_fwd", x, outputs=1 + grad, skipped=1 - grad,
                          min_size=native.C_MIN)
        if done is None:
            wide = x.astype(np.float32) if x.dtype == np.float16 else x  # float16's sigmoid
            s = _sigmoid(wide)  # of x < -10 is subnormal: its products lose most digits
            done = (wide * s, s + wide * s * (1 - s)) if grad else wide * s
            done = tuple(d.astype(x.dtype) for d in done) if grad else done.astype(x.dtype)
        if not grad:
            return done
        self.save_for_backward(done[1])
        return done[0]

    def backward(self, g):
        return parallel.arith(parallel.MUL, g, self.saved[0])

    def derivative(self, x):
        s = sigmoid(x)
        return s + x * s * (1 - s)


def _last(axis, x):
    """Whether ``axis`` is x's last (rows of the C passes), x holding something (and rows)."""
    try:
        return operator.index(axis) in (-1, x.ndim - 1) and x.size > 0 and x.ndim > 0
    except TypeError:  # a tuple of axes
        return False


class _Softmax(Function):
    """y = e**x / sum(e**x) along an axis;  gx = y (g - sum(g y)). Shifted by the max."""

    saves_outputs = True

    def forward(self, x, axis=-1):
        y = native.run("sj_softmax", x, min_size=native.C_MIN, lead=(x.shape[-1],)) if (
            _last(axis, x)) else None
        if y is None:  # else one C pass a row (softmax_xent.c)
            xp = get_xp(x)
            e = xp.exp(x - max_shift(x, axis))
            y = e / e.sum(axis=axis, keepdims=True)
        self.save_for_backward(y, axis)
        return y

    def backward(self, g):
        y, axis = self.saved
        gx = native.run("sj_softmax_grad", g, y, min_size=native.C_MIN, lead=(y.shape[-1],)) if (
            _last(axis, y)) else None
        return y * (g - (g * y).sum(axis=axis, keepdims=True)) if gx is None else gx

    def differentiable_backward(self, g):
        axis = self.saved[1]
        y = softmax(self.inputs[0], axis)
        return y * (g - (g * y).sum(axis=axis, keepdims=True))


class _LogSoftmax(Function):
    """y = x - logsumexp(x) along an axis;  gx = g - softmax(x) sum(g)."""

    saves_outputs = True

    def forward(self, x, axis=-1):
        xp = get_xp(x)
        shifted = x - max_shift(x, axis)
        y = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True)) if x.size else shifted
        self.save_for_backward(y, axis)
        return y

    def backward(self, g):
        y, axis = self.saved
        return g - get_xp(g).exp(y) * g.sum(axis=axis, keepdims=True)

    def differentiable_backward(self, g):
        axis = self.saved[1]
        return g - softmax(self.inputs[0], axis) * g.sum(axis=axis, keepdims=True)


def sigmoid(x: Tensor) -> Tensor:
    """Logistic sigmoid 1 / (1 + e**-x), in (0, 1); no overflow for any x.

    >>> F.sigmoid(shenjing.tensor([-1.0, 0.0, 1.0]))
    Tensor([0.2689414 0.5       0.7310586])
    """
    return _Sigmoid.apply(E.floating(x))


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent, in (-1, 1)."""
    return _Tanh.apply(E.floating(x))


def relu(x: Tensor) -> Tensor:
    """Rectified linear unit max(0, x). Of a temporary made by linear or conv2d
    (``relu(linear(h, w, b))``), folded into that op as its fused ReLU (see
    :func:`._util.fold_relu`)."""
    if sys.getrefcount(x) == temporary.ALONE and fold_relu(x):  # (first: no name holds x yet)
        return x
    return _ReLU.apply(x)


class _HardTanh(Function):
    """y = x clamped to [lo, hi];  dy/dx = 1 strictly inside, 0 at the bounds and beyond,
    read off y (strictly inside exactly where x is), so that x may be overwritten by y
    (torch's ``inplace=True``)."""

    saves_outputs = True

    def forward(self, x, lo=-1.0, hi=1.0):
        y = get_xp(x).clip(x, x.dtype.type(lo), x.dtype.type(hi))
        self.save_for_backward(y, lo, hi)
        return y

    def backward(self, g):
        y, lo, hi = self.saved
        return g * ((y > lo) & (y < hi))

    differentiable_backward = backward  # g times a constant mask: also on Tensors


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clamped to [min_val, max_val]; the gradient is 1 strictly inside and 0 at the bounds
    and beyond, as torch's hardtanh/relu6 and TF's and JAX's relu6 give it (``clip`` passes it
    at the bounds, as ``torch.clamp``): relu6, hard_tanh and the hard sigmoids are built on it."""
    return _HardTanh.apply(E.floating(x), lo=min_val, hi=max_val)


def leaky_relu(x: Tensor, negative_slope: float = 0.2) -> Tensor:
    """x for x > 0, else negative_slope * x (Keras's default slope 0.2; torch's is 0.01)."""
    return _LeakyReLU.apply(E.floating(x), slope=negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """Exponential linear unit: x for x > 0, else alpha (e**x - 1)."""
    return _ELU.apply(E.floating(x), alpha=alpha)


def selu(x: Tensor) -> Tensor:
    """Scaled ELU with the self-normalizing constants of Klambauer et al. (2017)."""
    return _ELU.apply(E.floating(x), alpha=SELU_ALPHA, scale=SELU_SCALE)


def gelu(x: Tensor, approximate: bool | str = False) -> Tensor:
    """Gaussian error linear unit x Phi(x): exact by default; the tanh approximation with
    ``approximate=True`` (Keras's) or ``'tanh'`` (torch's, whose ``'none'`` is exact)."""
    if approximate not in (False, True, "none", "tanh"):
        raise ValueError(f"gelu: approximate must be True/False (Keras) or 'none'/'tanh' "
                         f"(torch), got {approximate!r}")
    return _GELU.apply(E.floating(x), approximate=approximate in (True, "tanh"))


def softplus(x: Tensor) -> Tensor:
    """ln(1 + e**x), a smooth ReLU; no overflow for any x."""
    return _Softplus.apply(E.floating(x))


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    return _SiLU.apply(E.floating(x))


def softmax(x: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """Normalized exponentials along ``axis`` (``dim``, PyTorch's name, is an alias); stable for
    logits of any size."""
    if dim is not None:
        axis = torch_alias(axis, dim, ("axis", "dim"), -1)
    return _Softmax.apply(E.floating(x), axis=axis)


def log_softmax(x: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """log(softmax(x)) along ``axis`` (or ``dim``) computed directly (no log of a
    rounded-to-zero probability)."""
    if dim is not None:
        axis = torch_alias(axis, dim, ("axis", "dim"), -1)
    return _LogSoftmax.apply(E.floating(x), axis=axis)
