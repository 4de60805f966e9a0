"""torch's activations with torch's defaults (leaky_relu's slope 0.01, softplus's beta and
threshold, gelu's approximate='none', softmax's dim), over shenjing's activation ops.

``inplace=True`` writes the result into the input and returns it, as torch (``copy_``: a
leaf that requires grad refuses, as torch's does).
"""

from __future__ import annotations

import warnings
from typing import Any

from ... import _ops_nn, backend
from ...autograd import Tensor
from ...backend import get_xp
from ...functional import activation as A
from ...functional import elementwise as E
from ...functional import shape as S
from ...functional.activation import sigmoid, tanh  # noqa: F401 - torch's signatures
from ._layout import as_float, honours_inplace


@honours_inplace
def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(0, x); relu'(0) = 0."""
    return A.relu(input)


@honours_inplace
def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x for x > 0, else alpha (exp(x) - 1)."""
    return A.elu(input, alpha)


@honours_inplace
def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Scaled ELU with Klambauer et al.'s constants."""
    return A.selu(input)


@honours_inplace
def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x sigmoid(x)."""
    return A.silu(input)


@honours_inplace
def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,  # noqa: A002
             inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val]; the gradient is 1 strictly inside, 0 at the bounds and
    beyond (torch's, where ``clamp`` passes it at the bounds)."""
    return A.hardtanh(as_float(input), min_val, max_val)


@honours_inplace
def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(0, x), 6) (``hardtanh(x, 0, 6)``: relu6'(0) = 0, as relu's)."""
    return hardtanh(input, 0.0, 6.0)


@honours_inplace
def leaky_relu(input: Tensor, negative_slope: float = 0.01,  # noqa: A002
               inplace: bool = False) -> Tensor:
    """x for x > 0, else ``negative_slope * x`` (torch's slope 0.01; shenjing.F's is 0.2)."""
    return A.leaky_relu(input, negative_slope)


@honours_inplace
def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x for x > 0, else alpha (exp(x / alpha) - 1): alpha * elu(x / alpha)."""
    return _ops_nn.celu(input, alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """x Phi(x); ``approximate='tanh'`` for the tanh approximation."""
    return A.gelu(input, approximate=approximate)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """ln(1 + exp(beta x)) / beta, and x itself where beta x > threshold (torch's)."""
    x = as_float(input)
    smooth = A.softplus(x * beta) * (1.0 / beta) if beta != 1 else A.softplus(x)
    return E.where((x.data * beta) > threshold, x, smooth)


@honours_inplace
def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x tanh(softplus(x)) (Misra, 2019): ``ops.mish``."""
    return _ops_nn.mish(input)


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """log(sigmoid(x)) = -softplus(-x), without overflow."""
    return -A.softplus(-as_float(input))


@honours_inplace
def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """relu6(x + 3) / 6."""
    return _ops_nn.hard_sigmoid(input)


@honours_inplace
def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x relu6(x + 3) / 6 (MobileNetV3)."""
    return _ops_nn.hard_swish(input)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """x / (1 + |x|)."""
    x = as_float(input)
    return x / (E.abs(x) + 1.0)


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """x - tanh(x): ``ops.tanh_shrink``."""
    return _ops_nn.tanh_shrink(input)


@honours_inplace
def threshold(input: Tensor, threshold: float, value: float,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """x where x > threshold, else ``value``: ``ops.threshold``."""
    return _ops_nn.threshold(input, threshold, value)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """x where |x| > lambd, else 0: ``ops.hard_shrink``."""
    return _ops_nn.hard_shrink(input, lambd)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """x moved ``lambd`` towards 0, and 0 within it: ``ops.soft_shrink``."""
    return _ops_nn.soft_shrink(input, lambd)


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """x where x > 0, else weight * x, ``weight`` one number or one per channel (axis 1)."""
    x = as_float(input)
    if weight.size != 1 and (x.ndim < 2 or weight.size != x.shape[1]):
        raise ValueError(f"prelu: weight of {weight.size} values for input of shape {x.shape}: "
                         "give one, or one per channel (axis 1)")
    slope = S.reshape(weight, () if weight.size == 1 else (-1,) + (1,) * (x.ndim - 2))
    return E.where(x.data > 0, x, slope * x)  # at 0 the gradient is the slope, as torch's


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A differentiable sample of the categorical distribution softmax(logits) (Jang et al.
    2016): softmax((logits + g) / tau) with Gumbel noise g = -log(-log(u)), drawn from
    shenjing's seeded streams; ``hard``: the one-hot of its argmax forward, the soft
    sample's gradient backward (straight-through)."""
    x = as_float(logits)
    from ...random import gumbel  # (keras.random loads on first use)

    noise = backend.on_device_of(gumbel(backend.default_generator(), x.shape).astype(x.dtype),
                                 x.data)
    soft = A.softmax((x + Tensor._wrap(noise)) * (1.0 / tau), axis=dim)
    if not hard:
        return soft
    xp = get_xp(soft.data)
    winner = xp.argmax(soft.data, axis=dim)
    one_hot = (xp.arange(soft.shape[dim]) == xp.expand_dims(winner, -1)).astype(soft.dtype)
    one_hot = xp.moveaxis(one_hot, -1, dim)
    return soft - soft.detach() + Tensor._wrap(one_hot)


def _in_place_form(fn: Any) -> Any:
    """torch's ``relu_`` & co: ``fn(x, ..., inplace=True)``."""
    def in_place(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:  # noqa: A002
        return fn(input, *args, inplace=True, **kwargs)

    in_place.__name__ = in_place.__qualname__ = fn.__name__ + "_"
    in_place.__doc__ = f"``{fn.__name__}(x, ..., inplace=True)``: x itself, changed."
    return in_place


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """a * sigmoid(b), with a and b the halves of ``dim``."""
    a, b = S.split(as_float(input), 2, axis=dim)
    return a * A.sigmoid(b)


def _softmax_input(name: str, input: Tensor, dim: int | None, dtype: Any) -> tuple[Tensor, int]:
    x = as_float(input) if dtype is None else E.cast(
        input if isinstance(input, Tensor) else Tensor(input), dtype)
    if dim is None:  # torch's legacy choice, with its warning
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                      "call to include dim=X as an argument.", UserWarning, stacklevel=3)
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return x, dim


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
            dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``; ``dtype`` casts the input first."""
    x, dim = _softmax_input("softmax", input, dim, dtype)
    return A.softmax(x, dim)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
            dtype: Any = None) -> Tensor:
    """softmax(-x) along ``dim``."""
    x, dim = _softmax_input("softmin", input, dim, dtype)
    return A.softmax(-x, dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
                dtype: Any = None) -> Tensor:
    """log(softmax(x)) along ``dim``, computed directly."""
    x, dim = _softmax_input("log_softmax", input, dim, dtype)
    return A.log_softmax(x, dim)



relu_, elu_, selu_, celu_, leaky_relu_, hardtanh_, threshold_ = (
    _in_place_form(f) for f in (relu, elu, selu, celu, leaky_relu, hardtanh, threshold))
