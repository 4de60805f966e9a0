"""Element-wise ops: add, sub, mul, div, neg, pow, exp, log, sqrt, sin, cos, abs, maximum,
minimum, clip, where, cast. Each is gradchecked in float64 and compared with torch in float32."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import shenjing
from oracle import (
    assert_same_as_torch,
    away_from_zero,
    distinct,
    normal,
    positive,
    require_torch,
    torch,
)
from shenjing import F

# name: (shenjing op, torch op, sampler of a, sampler of b)
BINARY = {
    "add": (F.add, lambda a, b: a + b, normal, normal),
    "sub": (F.sub, lambda a, b: a - b, normal, normal),
    "mul": (F.mul, lambda a, b: a * b, normal, normal),
    "div": (F.div, lambda a, b: a / b, normal, away_from_zero),
    # The exponent's gradient, y ln a, needs a > 0.
    "pow": (F.pow, lambda a, b: a**b, positive, normal),
    "maximum": (F.maximum, lambda a, b: torch.maximum(a, b), distinct, distinct),
    "minimum": (F.minimum, lambda a, b: torch.minimum(a, b), distinct, distinct),
    # a / b away from whole numbers, where the remainders jump
    "remainder": (F.remainder, lambda a, b: a % b, distinct, away_from_zero),
    "fmod": (F.fmod, lambda a, b: torch.fmod(a, b), distinct, away_from_zero),
    "clip_tensor_min": (F.clip, lambda a, b: a.clamp(min=b), distinct, distinct),
    "clip_tensor_max": (lambda a, b: F.clip(a, None, b), lambda a, b: a.clamp(max=b), distinct,
                        distinct),
}

BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((4, 1), (1, 5)),
    ((2, 1, 4), (3, 1)),
    ((), (2, 3)),
]

# name: (shenjing op, torch op, sampler)
UNARY = {
    "neg": (F.neg, lambda x: -x, normal),
    "exp": (F.exp, lambda x: x.exp(), normal),
    "log": (F.log, lambda x: x.log(), positive),
    "sqrt": (F.sqrt, lambda x: x.sqrt(), positive),
    "sin": (F.sin, lambda x: x.sin(), normal),
    "cos": (F.cos, lambda x: x.cos(), normal),
    "abs": (F.abs, lambda x: x.abs(), away_from_zero),
    # distinct() keeps every value at least 0.1 from a multiple of 0.4, so from both bounds.
    "clip": (lambda x: F.clip(x, -0.4, 0.8), lambda x: x.clamp(-0.4, 0.8), distinct),
    "clip_min": (lambda x: F.clip(x, min_value=0.4), lambda x: x.clamp(min=0.4), distinct),
    "clip_max": (lambda x: F.clip(x, max_value=-0.4), lambda x: x.clamp(max=-0.4), distinct),
    # piecewise constant: gradient 0, recorded as torch's (random values sit off the jumps)
    "floor": (F.floor, lambda x: x.floor(), normal),
    "ceil": (F.ceil, lambda x: x.ceil(), normal),
    "trunc": (F.trunc, lambda x: x.trunc(), normal),
    "round": (F.round, lambda x: x.round(), normal),
    "round_decimals": (lambda x: F.round(x, 1), lambda x: x.round(decimals=1), normal),
    "sign": (F.sign, lambda x: x.sign(), normal),
    "pow_scalar": (lambda x: x**3, lambda x: x**3, normal),
    "rpow_scalar": (lambda x: 2.0**x, lambda x: 2.0**x, normal),
}

UNARY_SHAPES = [(), (5,), (3, 4)]


def _binary_inputs(name, shapes, rng):
    _, _, sample_a, sample_b = BINARY[name]
    return sample_a(rng, shapes[0]), sample_b(rng, shapes[1])


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_gradcheck(name, shapes, rng):
    assert shenjing.gradcheck(BINARY[name][0], *_binary_inputs(name, shapes, rng))


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_matches_torch(name, shapes, rng):
    op, torch_op, _, _ = BINARY[name]
    assert_same_as_torch(op, _binary_inputs(name, shapes, rng), torch_op)


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", UNARY)
def test_unary_gradcheck(name, shape, rng):
    op, _, sample = UNARY[name]
    assert shenjing.gradcheck(op, sample(rng, shape))


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", UNARY)
def test_unary_matches_torch(name, shape, rng):
    op, torch_op, sample = UNARY[name]
    assert_same_as_torch(op, [sample(rng, shape)], torch_op)


def test_clip_without_bounds_raises():
    with pytest.raises(ValueError, match="min_value or max_value"):
        F.clip(shenjing.tensor([1.0]))


# -- where ----------------------------------------------------------------------------------------

WHERE_SHAPES = [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((2, 1, 4), (3, 1), ())]


@pytest.mark.parametrize("cond_shape, a_shape, b_shape", WHERE_SHAPES, ids=str)
def test_where_gradcheck(cond_shape, a_shape, b_shape, rng):
    cond = rng.random(cond_shape) > 0.5
    assert shenjing.gradcheck(F.where, cond, normal(rng, a_shape), normal(rng, b_shape))


@pytest.mark.parametrize("cond_shape, a_shape, b_shape", WHERE_SHAPES, ids=str)
def test_where_matches_torch(cond_shape, a_shape, b_shape, rng):
    cond = rng.random(cond_shape) > 0.5
    inputs = [cond, normal(rng, a_shape), normal(rng, b_shape)]
    assert_same_as_torch(F.where, inputs, lambda c, a, b: torch.where(c, a, b))


def test_where_takes_scalar_branches(rng):
    x = shenjing.tensor(normal(rng, (5,)), requires_grad=True)
    y = F.where(x.data > 0, x, 0.0)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), np.maximum(x.numpy(), 0))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (x.numpy() > 0).astype(np.float32))


# -- cast -----------------------------------------------------------------------------------------


def test_cast_gradcheck(rng):
    # float64 -> float32 -> float64 rounds to ~6e-8, which a step of 1e-6 would turn into errors
    # of ~0.1; cast is linear, so a large step has no truncation error and checks it exactly.
    def fn(x):
        return F.cast(F.cast(x, np.float32) * 3.0, np.float64)

    assert shenjing.gradcheck(fn, normal(rng, (3, 4)), eps=1e-2)


def test_cast_matches_torch(rng):
    assert_same_as_torch(
        lambda x: F.cast(F.cast(x, np.float64) * 3.0, np.float32),
        [normal(rng, (3, 4))],
        lambda x: (x.double() * 3.0).float(),
    )


def test_cast_gradient_takes_the_input_dtype(rng):
    x = shenjing.tensor(normal(rng, (4,)), requires_grad=True)
    y = F.cast(x, np.float64)
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    assert F.cast(x, np.float32) is x


# -- dtypes: Python and NumPy scalars take the tensor's dtype ------------------------------------

# Operators with a Python scalar: the same lambda runs on shenjing and on torch.
OPERATOR_EXPRESSIONS = {
    "mul": lambda x: x * 2.0,
    "rmul": lambda x: 2.0 * x,
    "add": lambda x: x + 1,
    "rsub": lambda x: 1.5 - x,
    "div": lambda x: x / 3.0,
    "rtruediv": lambda x: 2.0 / x,
    "pow": lambda x: x**2.0,
    "rpow": lambda x: 2.0**x,
}
SCALAR_EXPRESSIONS = {
    **OPERATOR_EXPRESSIONS,
    "maximum": lambda x: F.maximum(x, 0.5),
    "where": lambda x: F.where(x.data > 1, 1.0, x),
    "np_float64": lambda x: np.float64(2.0) * x,
    "np_array": lambda x: x * np.arange(4.0),
}


@pytest.mark.parametrize("name", SCALAR_EXPRESSIONS)
def test_scalar_operand_keeps_float32(name, rng):
    x = shenjing.tensor(positive(rng, (4,)), requires_grad=True)
    y = SCALAR_EXPRESSIONS[name](x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("name", OPERATOR_EXPRESSIONS)
def test_scalar_operand_matches_torch(name, rng):
    assert_same_as_torch(OPERATOR_EXPRESSIONS[name], [positive(rng, (4,))])


# -- kinks follow torch ---------------------------------------------------------------------------

KINKS = {
    # name: (op, torch op, inputs at the kink, expected gradients of .sum())
    "abs_at_zero": (F.abs, lambda x: x.abs(), [[-1.0, 0.0, 2.0]], [[-1.0, 0.0, 1.0]]),
    "maximum_tie": (F.maximum, lambda a, b: torch.maximum(a, b),
                    [[1.0, 2.0, 3.0], [1.0, 5.0, 3.0]], [[0.5, 0.0, 0.5], [0.5, 1.0, 0.5]]),
    "minimum_tie": (F.minimum, lambda a, b: torch.minimum(a, b),
                    [[1.0, 2.0, 3.0], [1.0, 5.0, 3.0]], [[0.5, 1.0, 0.5], [0.5, 0.0, 0.5]]),
    # where either is NaN (so is the result), both inputs get the gradient, as torch
    "maximum_nan": (F.maximum, lambda a, b: torch.maximum(a, b),
                    [[np.nan, 1.0, 2.0], [0.0, np.nan, 1.0]], [[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]]),
    "minimum_nan": (F.minimum, lambda a, b: torch.minimum(a, b),
                    [[np.nan, 1.0, 2.0], [0.0, np.nan, 1.0]], [[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]),
    # torch.clamp passes the gradient at the bounds themselves.
    "clip_at_bounds": (lambda x: F.clip(x, -1.0, 1.0), lambda x: x.clamp(-1.0, 1.0),
                       [[-2.0, -1.0, 0.0, 1.0, 2.0]], [[0.0, 1.0, 1.0, 1.0, 0.0]]),
}


@pytest.mark.parametrize("name", KINKS)
def test_kink_gradient_is_torchs(name):
    op, _, inputs, expected = KINKS[name]
    tensors = [shenjing.tensor(v, requires_grad=True) for v in inputs]
    op(*tensors).sum().backward()
    for t, g in zip(tensors, expected, strict=True):
        np.testing.assert_array_equal(t.grad.numpy(), np.float32(g))


@pytest.mark.parametrize("name", KINKS)
def test_kink_matches_torch(name):
    op, torch_op, inputs, _ = KINKS[name]
    assert_same_as_torch(op, [np.array(v) for v in inputs], torch_op)


PROMOTION_CASES = {  # name: (a, b); int64 and bool meet float32/float64 tensors and Python numbers
    "int / int": (np.array([1, 2, 3]), np.array([2, 2, 2])),
    "int / number": (np.array([1, 2, 3]), 2),
    "int + float number": (np.array([1, 2, 3]), 0.5),
    "int * float32": (np.array([1, 2, 3]), np.array([0.5, 1.5, 2.5], np.float32)),
    "float32 - int": (np.array([0.5, 1.5, 2.5], np.float32), np.array([1, 2, 3])),
    "int * float64": (np.array([1, 2, 3]), np.array([0.5, 1.5, 2.5])),
    "bool * float32": (np.array([True, False, True]), np.array([0.5, 1.5, 2.5], np.float32)),
    "int ** float number": (np.array([1, 2, 3]), 0.5),
    "int + int": (np.array([1, 2, 3]), np.array([4, 5, 6])),
    "int * int number": (np.array([1, 2, 3]), 2),
}


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
@pytest.mark.parametrize("case", PROMOTION_CASES.values(), ids=PROMOTION_CASES.keys())
def test_binary_ops_promote_dtypes_as_torch(case, op):
    # PyTorch's rule (a float meeting integers keeps its own dtype; int / int is float32), not
    # NumPy's (int64 with float32 is float64): checked against torch itself, values included.
    import operator

    fn = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
          "**": operator.pow}[op]
    a, b = case
    torch_ = require_torch()
    got = fn(shenjing.tensor(a, dtype=a.dtype),
             shenjing.tensor(b, dtype=b.dtype) if isinstance(b, np.ndarray) else b)
    try:
        want = fn(torch_.from_numpy(a), torch_.from_numpy(b) if isinstance(b, np.ndarray) else b)
    except RuntimeError:  # torch refuses bool - float: we compute it, in the float's dtype
        assert got.dtype == np.float32
        np.testing.assert_allclose(got.numpy(), fn(a.astype(np.float32), b), rtol=1e-6)
        return
    assert str(got.dtype) == str(want.dtype).removeprefix("torch.")
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_pow_exponent_gradient_is_zero_where_the_base_is_zero_as_torch():
    # dy/db = y ln a: at a = 0, y = 0 for b > 0, and torch takes 0 rather than 0 * -inf = NaN
    torch_ = require_torch()
    a, b = np.array([0.0, 0.0, 2.0], np.float32), np.array([2.0, 0.5, 1.0], np.float32)
    tb = shenjing.tensor(b, requires_grad=True)
    (shenjing.tensor(a) ** tb).sum().backward()
    ref = torch_.tensor(b, requires_grad=True)
    (torch_.tensor(a) ** ref).sum().backward()
    np.testing.assert_allclose(tb.grad.numpy(), ref.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(tb.grad.numpy(), [0.0, 0.0, 2 * np.log(2)], rtol=1e-6)



OPERATORS = {"+": (lambda x, n: x + n, lambda x, n: n + x, F.add),
             "-": (lambda x, n: x - n, lambda x, n: n - x, F.sub),
             "*": (lambda x, n: x * n, lambda x, n: n * x, F.mul),
             "/": (lambda x, n: x / n, lambda x, n: n / x, F.div)}


def _with_warnings(fn, *args):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args)
    return out, sorted(str(w.message) for w in caught)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("op", OPERATORS)
def test_an_operator_with_a_number_outside_the_graph_is_the_recorded_ops_value(op, dtype):
    """``x op 2.5`` and ``2.5 op x`` take a shortcut where nothing is recorded (no_grad, or x
    requires no grad): the recorded op's dtype, values bit for bit, warnings (a division by
    zero) and 0-d arrays; a tensor in the graph still records it."""
    forward, reflected, fn = OPERATORS[op]
    sides = ((forward, lambda t, n: fn(t, n)), (reflected, lambda t, n: fn(n, t)))
    rng = np.random.default_rng(0)
    for shape in [(), (7,), (300, 200)]:  # 60,000 elements: on the team in team mode
        a = rng.standard_normal(shape).astype(dtype)
        a.flat[0] = 0.0
        for number in (2.5, 3, -1e-3):
            for shortcut, recorded in sides:
                got, got_warnings = _with_warnings(shortcut, shenjing.Tensor(a, dtype=dtype),
                                                   number)
                want, want_warnings = _with_warnings(
                    recorded, shenjing.Tensor(a, dtype=dtype, requires_grad=True), number)
                assert want.requires_grad and not got.requires_grad and got.grad_fn is None
                assert type(got.data) is np.ndarray and got.dtype == want.dtype == dtype
                np.testing.assert_array_equal(got.numpy(), want.numpy())
                assert got_warnings == want_warnings
    with shenjing.no_grad():  # a tensor that requires grad, under no_grad: nothing recorded
        y = reflected(shenjing.Tensor(np.ones(3, dtype), requires_grad=True), 2.0)
    assert not y.requires_grad and y.grad_fn is None
    special = np.array([np.nan, np.inf, -np.inf, 0.0], dtype)
    for number in (0, 1e300, float("nan")):  # NumPy's errors raised both ways
        for shortcut, recorded in sides:
            outcomes = []
            for fn_, t in ((shortcut, shenjing.Tensor(special, dtype=dtype)),
                           (recorded, shenjing.Tensor(special, dtype=dtype, requires_grad=True))):
                with np.errstate(all="raise"):
                    try:
                        outcomes.append(fn_(t, number).numpy().tobytes())
                    except (FloatingPointError, OverflowError) as err:
                        outcomes.append(type(err))
            assert outcomes[0] == outcomes[1], (op, number)
