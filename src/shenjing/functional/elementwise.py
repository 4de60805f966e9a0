"""Element-wise arithmetic: add, sub, mul, div, floor_divide, remainder, fmod, neg, pow, exp,
log (log10, log2), sqrt, sin, cos, abs, floor/ceil/trunc/round/sign (gradient 0), maximum,
minimum, clip, where. The dtype rules and casts (``dtypes.py``: cast, clone, floating...) and
the comparisons and bitwise operators (``comparison.py``) are part of this namespace too
(``E.cast``, ``E.equal``), re-exported here.

Binary ops broadcast like NumPy; their gradients come back in the broadcast shape and the engine
sums them to each input's shape.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import backend, parallel
from ..autograd import Function, Tensor
from ..backend import get_xp
from ._util import as_tensor, select
from .comparison import (  # noqa: F401 - E's namespace
    allclose,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    equal,
    greater,
    greater_equal,
    isclose,
    less,
    less_equal,
    not_equal,
)
from .dtypes import (  # noqa: F401 - E's namespace
    _operands,
    _promoted,
    _wrapped,
    accumulating,
    cast,
    clone,
    floating,
    floating_like,
    promote_types,
    result_dtype,
)


class _Add(Function):
    """y = a + b;  dy/da = dy/db = 1."""

    def forward(self, a, b):
        return parallel.arith(parallel.ADD, a, b) if parallel.team_size else a + b

    def backward(self, g):
        need = self.needs_input_grad  # grad() may ask for one side only (no sum back for b)
        return (g if need[0] else None), (g if need[1] else None)

    differentiable_backward = backward


class _Sub(Function):
    """y = a - b;  dy/da = 1, dy/db = -1."""

    def forward(self, a, b):
        return parallel.arith(parallel.SUB, a, b) if parallel.team_size else a - b

    def backward(self, g):
        need = self.needs_input_grad
        return (g if need[0] else None), (-g if need[1] else None)

    differentiable_backward = backward


class _Mul(Function):
    """y = a * b;  dy/da = b, dy/db = a."""

    def forward(self, a, b):
        self.save_for_backward(a if self.needs_input_grad[1] else None,
                               b if self.needs_input_grad[0] else None)
        return parallel.arith(parallel.MUL, a, b) if parallel.team_size else a * b

    def backward(self, g):
        (a, b), need = self.saved, self.needs_input_grad  # need: grad()'s may be narrower
        return (g * b if need[0] else None), (g * a if need[1] else None)

    def differentiable_backward(self, g):
        (a, b), need = self.inputs, self.needs_input_grad
        return (g * b if need[0] else None), (g * a if need[1] else None)


class _Div(Function):
    """y = a / b;  dy/da = 1/b, dy/db = -a/b**2. It saves its inputs, not y (as torch's), so
    that ``y = x / w; y += 1`` can still go backward."""

    def forward(self, a, b):
        y = parallel.arith(parallel.DIV, a, b) if parallel.team_size else a / b
        self.save_for_backward(a if self.needs_input_grad[1] else None, b)
        return y

    def backward(self, g):
        a, b = self.saved
        ga = g / b
        gb = -ga * a / b if self.needs_input_grad[1] else None
        return ga, gb

    def differentiable_backward(self, g):
        a, b = self.inputs
        ga = g / b
        return ga, (-ga * a / b if self.needs_input_grad[1] else None)


class _Neg(Function):
    """y = -x."""

    def forward(self, x):
        return -x

    def backward(self, g):
        return -g

    differentiable_backward = backward


class _Pow(Function):
    """y = a ** b;  dy/da = b a**(b-1), dy/db = y ln a."""

    saves_outputs = True

    def forward(self, a, b):
        y = get_xp(a).power(a, b)
        # y only for the exponent's gradient (as torch's): `y = x ** 2; y += 1` goes backward
        self.save_for_backward(a, b, y if self.needs_input_grad[1] else None)
        return y

    def backward(self, g):
        a, b, y = self.saved
        xp = get_xp(a)
        # dy/da = b a**(b-1), 0 where b = 0 (y = 1 whatever a; at a = 0 not 0 * inf = NaN)
        ga = g * b * xp.power(a, xp.where(b == 0, 1, b) - 1) if self.needs_input_grad[0] else None
        # dy/db = y ln a; at a = 0 with b >= 0 (y = 0 or 1) torch takes 0, not 0 * -inf =
        # NaN; with b < 0 it is inf * -inf = -inf, as torch's
        gb = None
        if self.needs_input_grad[1]:
            gb = g * y * xp.log(xp.where((a == 0) & (b >= 0), 1, a))
        return ga, gb

    def differentiable_backward(self, g):
        (a, b), need = self.inputs, self.needs_input_grad
        ga = g * b * a ** (where(b.data == 0, 1, b) - 1) if need[0] else None
        gb = g * a ** b * log(where((a.data == 0) & (b.data >= 0), 1, a)) if need[1] else None
        return ga, gb


class _Exp(Function):
    """y = e**x;  dy/dx = y."""

    saves_outputs = True

    def forward(self, x):
        y = get_xp(x).exp(x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        return g * self.saved[0]

    def derivative(self, x):
        return exp(x)


class _Log(Function):
    """y = log_b x (ln, log10 or log2);  dy/dx = 1 / (x ln b)."""

    _FUNCTIONS = {None: ("log", 1.0), 10: ("log10", math.log(10)), 2: ("log2", math.log(2))}

    def forward(self, x, base=None):
        name, self.ln_base = self._FUNCTIONS[base]
        self.save_for_backward(x)
        return getattr(get_xp(x), name)(x)

    def backward(self, g):
        return self._grad(g, self.saved[0])

    def differentiable_backward(self, g):
        return self._grad(g, self.inputs[0])

    def _grad(self, g, x):  # on arrays or, recorded, on Tensors
        return g / x if self.ln_base == 1.0 else g / (x * self.ln_base)


class _Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 y)."""

    saves_outputs = True

    def forward(self, x):
        y = get_xp(x).sqrt(x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        return g / (2 * self.saved[0])

    def differentiable_backward(self, g):
        return g / (2 * sqrt(self.inputs[0]))


class _Sin(Function):
    """y = sin x;  dy/dx = cos x."""

    def forward(self, x):
        self.save_for_backward(x)
        return get_xp(x).sin(x)

    def backward(self, g):
        return g * get_xp(g).cos(self.saved[0])

    def derivative(self, x):
        return cos(x)


class _Cos(Function):
    """y = cos x;  dy/dx = -sin x."""

    def forward(self, x):
        self.save_for_backward(x)
        return get_xp(x).cos(x)

    def backward(self, g):
        return -g * get_xp(g).sin(self.saved[0])

    def derivative(self, x):
        return -sin(x)


class _Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at 0, as torch)."""

    def forward(self, x):
        self.save_for_backward(x)
        return get_xp(x).abs(x)

    def backward(self, g):
        return g * get_xp(g).sign(self.saved[0])

    def derivative(self, x):
        return get_xp(x.data).sign(x.data)  # constant: |x| is piecewise linear


class _Maximum(Function):
    """y = max(a, b);  the gradient goes to the larger input, split evenly on ties, and to
    both where either is NaN (y is NaN there): an input gets it unless it strictly lost, as
    torch."""

    sign = 1

    def forward(self, a, b):
        self.save_for_backward(a, b)
        xp = get_xp(a)
        return xp.maximum(a, b) if self.sign > 0 else xp.minimum(a, b)

    def _shares(self, dtype):
        a, b = self.saved
        xp = get_xp(a)
        big, small = (a, b) if self.sign > 0 else (b, a)
        tie = a == b
        return (xp.where(tie, 0.5, ~(big < small)).astype(dtype),
                xp.where(tie, 0.5, ~(big > small)).astype(dtype))

    # g where it goes, then its share: an inf gradient gives the loser 0, not inf * 0 = NaN,
    # as torch's
    def backward(self, g):
        zero = g.dtype.type(0)
        return tuple(get_xp(g).where(s > 0, g, zero) * s for s in self._shares(g.dtype))

    def differentiable_backward(self, g):
        return tuple(where(s > 0, g, 0.0) * s for s in self._shares(g.dtype))


class _Minimum(_Maximum):
    """y = min(a, b);  the gradient goes to the smaller input, split evenly on ties."""

    sign = -1


class _Clip(Function):
    """y = x clamped to [lo, hi] (hi where lo > hi); either bound may be absent, a bound is a
    Tensor (broadcast) or a number. dy/dx = 1 where lo <= x <= hi, else 0, so a tie goes to x;
    a bound gets the gradient where it binds strictly: lo where x < lo (and lo < hi), hi where
    x > hi (or hi < lo). That is torch.clamp's rule. The bounds are the inputs after x, named
    by ``bounds`` ('lo', 'hi')."""

    def forward(self, x, *values, bounds=("lo", "hi")):
        given = dict(zip(bounds, values))
        lo, hi = given.get("lo"), given.get("hi")
        inside = True
        if lo is not None:
            inside = x >= lo
        if hi is not None:
            inside = inside & (x <= hi)
        masks = [inside]
        for name, need in zip(bounds, self.needs_input_grad[1:]):
            if not need:
                masks.append(None)
            elif name == "lo":
                masks.append((x < lo) if hi is None else (x < lo) & (lo < hi))
            else:
                masks.append((x > hi) if lo is None else (x > hi) | (hi < lo))
        self.save_for_backward(*masks)
        return get_xp(x).clip(x, lo, hi)

    def backward(self, g):
        # where, not g * mask: an inf gradient (log of a clipped 0) gives 0 there, not NaN,
        # as torch.clamp's
        zero = g.dtype.type(0)
        return tuple(None if mask is None else get_xp(g).where(mask, g, zero)
                     for mask in self.saved)

    def differentiable_backward(self, g):
        return tuple(None if mask is None else where(mask, g, 0.0) for mask in self.saved)


class _Stepwise(Function):
    """y = floor, ceil, trunc, round (half to even, to ``decimals`` places) or sign of x:
    piecewise constant, so dy/dx = 0. Recorded all the same, as torch records them, so that a
    loss reaching a parameter only through them backpropagates (zeros) instead of failing.
    Integers and booleans are whole already: they keep their dtype (NumPy's floor gives
    float64)."""

    def forward(self, x, name="floor", decimals=0):
        if x.dtype.kind == "b" or (x.dtype.kind in "iu" and name in ("floor", "ceil", "trunc")):
            return x.copy()
        xp = get_xp(x)
        return xp.round(x, decimals) if name == "round" else getattr(xp, name)(x)

    def backward(self, g):
        return get_xp(g).zeros_like(g)

    def differentiable_backward(self, g):
        return Tensor._wrap(get_xp(g.data).zeros_like(g.data))


class _Where(Function):
    """y = a where cond else b;  the gradient flows to whichever input was chosen."""

    def forward(self, a, b, cond=None):
        self.save_for_backward(cond)
        return select(cond, a, b)

    def backward(self, g):
        (cond,) = self.saved
        zero = g.dtype.type(0)
        ga = select(cond, g, zero) if self.needs_input_grad[0] else None
        gb = select(cond, zero, g) if self.needs_input_grad[1] else None
        return ga, gb

    def differentiable_backward(self, g):
        (cond,), need = self.saved, self.needs_input_grad
        return (where(cond, g, 0) if need[0] else None), (where(cond, 0, g) if need[1] else None)


class _FloorDivide(Function):
    """y = floor(a / b) (Python's ``//``);  piecewise constant: no gradient to either input
    (torch's has none either: its backward raises)."""

    def forward(self, a, b):
        return get_xp(a).floor_divide(a, b)

    def backward(self, g):
        return None, None

    differentiable_backward = backward


class _Remainder(Function):
    """y = a - q b: Python's and torch's ``%`` (``remainder``, the sign of b) with
    q = floor(a / b), C's and torch's ``fmod`` (the sign of a) with q = trunc(a / b); computed
    exactly by NumPy's remainder/fmod, not from q (whose rounding loses digits of a big a).
    dy/da = 1, dy/db = -q, as torch's."""

    def forward(self, a, b, c_style=False):
        xp = get_xp(a)
        self.save_for_backward(a, b, c_style)
        return (xp.fmod if c_style else xp.remainder)(a, b)

    def backward(self, g):
        a, b, c_style = self.saved
        xp = get_xp(a)
        gb = None
        if self.needs_input_grad[1]:
            gb = -g * (xp.trunc(a / b) if c_style else xp.floor_divide(a, b))
        return g, gb

    differentiable_backward = backward  # g times constants (q is piecewise constant)


def _binary(cls: type[Function], a: Any, b: Any, **options: Any) -> Tensor:
    x, y = _operands(a, b)
    if cls is _Div and x.data.dtype.kind not in "fc":  # integer / integer is the default
        # float, of the values as given (int8 / 200 is 0.005: 200 need not fit int8)
        x, y = (Tensor._wrap(as_tensor(v).data.astype(backend.DEFAULT_FLOAT)) for v in (a, b))
    return cls.apply(x, y, **options)


def add(a: Any, b: Any) -> Tensor:
    """a + b, broadcasting."""
    return _binary(_Add, a, b)


def sub(a: Any, b: Any) -> Tensor:
    """a - b, broadcasting."""
    return _binary(_Sub, a, b)


def mul(a: Any, b: Any) -> Tensor:
    """a * b, broadcasting."""
    return _binary(_Mul, a, b)


def div(a: Any, b: Any) -> Tensor:
    """a / b, broadcasting."""
    return _binary(_Div, a, b)


def floor_divide(a: Any, b: Any) -> Tensor:
    """floor(a / b), broadcasting: Python's and torch's ``a // b`` (integers stay integers);
    no gradient."""
    return _binary(_FloorDivide, a, b)


def remainder(a: Any, b: Any) -> Tensor:
    """a - floor(a / b) b, with the sign of b: Python's and torch's ``a % b``; its gradient is
    1 for a and -floor(a / b) for b, as torch's."""
    return _binary(_Remainder, a, b)


def fmod(a: Any, b: Any) -> Tensor:
    """a - trunc(a / b) b, with the sign of a: C's and torch's ``fmod``; its gradient is 1 for a
    and -trunc(a / b) for b, as torch's."""
    return _binary(_Remainder, a, b, c_style=True)


def neg(x: Tensor) -> Tensor:
    """-x."""
    return _Neg.apply(x)


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001 - mirrors torch.pow / Tensor.__pow__
    """a ** b, broadcasting; differentiable in both (the exponent's gradient needs a > 0)."""
    return _binary(_Pow, a, b)


def exp(x: Tensor) -> Tensor:
    """e ** x."""
    return _Exp.apply(floating(x))


def log(x: Tensor) -> Tensor:
    """Natural logarithm."""
    return _Log.apply(floating(x))


def log10(x: Tensor) -> Tensor:
    """Base-10 logarithm (torch's ``log10``: makemore's ``lossi.append(loss.log10().item())``)."""
    return _Log.apply(floating(x), base=10)


def log2(x: Tensor) -> Tensor:
    """Base-2 logarithm."""
    return _Log.apply(floating(x), base=2)


def sqrt(x: Tensor) -> Tensor:
    """Square root."""
    return _Sqrt.apply(floating(x))


def sin(x: Tensor) -> Tensor:
    """Sine (radians)."""
    return _Sin.apply(floating(x))


def cos(x: Tensor) -> Tensor:
    """Cosine (radians)."""
    return _Cos.apply(floating(x))


def abs(x: Tensor) -> Tensor:  # noqa: A001
    """|x|; the gradient at 0 is 0."""
    return _Abs.apply(x)


def floor(x: Tensor) -> Tensor:
    """The largest whole number <= x; gradient 0 (recorded, as torch's)."""
    return _Stepwise.apply(x, name="floor")


def ceil(x: Tensor) -> Tensor:
    """The smallest whole number >= x; gradient 0 (recorded, as torch's)."""
    return _Stepwise.apply(x, name="ceil")


def trunc(x: Tensor) -> Tensor:
    """x rounded toward zero; gradient 0 (recorded, as torch's)."""
    return _Stepwise.apply(x, name="trunc")


def round(x: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001 - torch's and NumPy's name
    """x rounded half to even (NumPy's and torch's rule), to ``decimals`` places; gradient 0
    (recorded, as torch's)."""
    return _Stepwise.apply(x, name="round", decimals=decimals)


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 as x is negative, zero or positive; gradient 0 (recorded, as torch's)."""
    return _Stepwise.apply(x, name="sign")


def maximum(a: Any, b: Any) -> Tensor:
    """Element-wise maximum; ties share the gradient evenly."""
    return _binary(_Maximum, a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Element-wise minimum; ties share the gradient evenly."""
    return _binary(_Minimum, a, b)


def clip(x: Tensor, min_value: Any = None, max_value: Any = None) -> Tensor:
    """Clamp x to [min_value, max_value]: numbers or Tensors (broadcast, and differentiable
    where they bind), either may be None; torch.clamp's gradient (see ``_Clip``) and dtype
    (an integer x with float bounds is float32, a number bound never widens x)."""
    if min_value is None and max_value is None:
        raise ValueError("clip() needs min_value or max_value")
    x = as_tensor(x)
    names, values = [], []
    for name, v in (("lo", min_value), ("hi", max_value)):
        if v is not None:
            if x.dtype.kind in "iu" and v.__class__ is int and not (
                    np.iinfo(x.dtype).min <= v <= np.iinfo(x.dtype).max):
                raise ValueError(f"clip: the bound {v} does not fit x's dtype {x.dtype}")
            names.append(name)
            values.append(v if isinstance(v, Tensor) else _wrapped(v, x))
    x, *values = _promoted(x, *values)
    return _Clip.apply(x, *values, bounds=tuple(names))


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``condition`` is true, else ``b`` (broadcasting); not differentiable in the
    condition."""
    cond = condition.data if isinstance(condition, Tensor) else condition
    a, b = _operands(a, b)
    return _Where.apply(a, b, cond=get_xp(a.data).asarray(cond, dtype=bool))
