"""Tensor: its array facts, dtype rules, operators (reflected ones included), comparisons and
differentiable indexing. Gradients here are checked against formulas written out by hand."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from shenjing import Tensor

_RNG_SEED = 0


def _data(shape=(2, 3), low=0.5, high=2.0, seed=_RNG_SEED):
    """Positive float32 data, so that division, powers and logs are well defined."""
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)


# -- array facts ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, dtype",
    [
        (1.5, np.float32),
        ([1.0, 2.0], np.float32),
        (np.arange(3, dtype=np.float64), np.float32),
        (np.arange(3, dtype=np.float32), np.float32),
        (np.float64(2.0), np.float32),
        ([1, 2], np.int64),
        (np.arange(3, dtype=np.int32), np.int32),
        (np.arange(3, dtype=np.uint8), np.uint8),
        (True, np.bool_),
        (np.array([True, False]), np.bool_),
    ],
)
def test_tensor_dtype_default(value, dtype):
    assert Tensor(value).dtype == dtype


@pytest.mark.parametrize("value", [1.5, [1.0, 2.0], np.arange(3, dtype=np.float64)])
def test_tensor_dtype_float64_when_asked(value):
    t = Tensor(value, dtype=np.float64)
    assert t.dtype == np.float64
    assert shenjing.tensor(value, dtype="float64").dtype == np.float64


@pytest.mark.parametrize("value, named", [(None, "NoneType"), ([1.0, None], "list of NoneType"),
                                          ({"a": 1}, "dict"), (object(), "object")])
def test_tensor_of_what_is_no_number_is_a_type_error(value, named):
    # NumPy would make None a NaN in float32, or keep an object array: torch refuses both
    message = f"numbers, arrays or nested lists of numbers, got .*{named}"
    with pytest.raises(TypeError, match=message):
        Tensor(value)
    with pytest.raises(TypeError, match=named.split()[-1]):
        Tensor([1.0]) + value


def test_tensor_data_is_ndarray():
    t = Tensor([[1.0, 2.0]])
    assert isinstance(t.data, np.ndarray)
    np.testing.assert_array_equal(t.data, [[1.0, 2.0]])


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4)])
def test_tensor_shape_ndim_size(shape):
    t = Tensor(np.zeros(shape))
    assert t.shape == shape
    assert t.ndim == len(shape)
    assert t.size == int(np.prod(shape))
    assert isinstance(t.size, int)


def test_tensor_new_has_no_grad():
    t = Tensor([1.0, 2.0])
    assert t.grad is None
    assert t.requires_grad is False
    assert t.is_leaf


def test_tensor_factory_matches_class():
    t = shenjing.tensor([1.0, 2.0], requires_grad=True)
    assert isinstance(t, Tensor)
    assert t.requires_grad
    assert t.dtype == np.float32


def test_as_tensor_shares_memory_only_when_the_dtype_fits():
    batch = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = shenjing.as_tensor(batch)
    assert t.data is batch and not t.requires_grad  # no copy: what the batch loop wants
    batch[0, 0] = 7.0
    assert t.numpy()[0, 0] == 7.0
    assert shenjing.as_tensor(t) is t
    wide = np.ones(3)  # float64 becomes the default float32: a copy, as tensor() does
    assert shenjing.as_tensor(wide).dtype == np.float32
    assert shenjing.as_tensor(wide, dtype="float64").data is wide
    assert shenjing.as_tensor([1, 2]).dtype == np.int64
    assert shenjing.as_tensor(t, dtype="float64").dtype == np.float64


def test_tensor_numpy_returns_array():
    x = _data()
    out = Tensor(x).numpy()
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, x)


@pytest.mark.parametrize(
    "value, expected", [(2.5, 2.5), ([[3.0]], 3.0), (7, 7), (np.array([True]), True)]
)
def test_tensor_item_returns_python_number(value, expected):
    out = Tensor(value).item()
    assert out == expected
    assert type(out) is type(expected)


def test_tensor_item_many_elements_raises():
    with pytest.raises(ValueError, match=r"\(2,\)"):
        Tensor([1.0, 2.0]).item()


def test_tensor_T_transposes_and_is_differentiable():
    x = Tensor(_data((2, 3)), requires_grad=True)
    u = _data((3, 2), seed=1)
    y = x.T
    assert y.shape == (3, 2)
    np.testing.assert_array_equal(y.numpy(), x.numpy().T)
    (y * u).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), u.T)


def test_tensor_python_protocol():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert len(t) == 2
    assert float(Tensor([2.5])) == 2.5
    assert int(Tensor(3)) == 3
    assert bool(Tensor(1.0)) and not bool(Tensor(0.0))
    np.testing.assert_array_equal(np.asarray(t), t.numpy())
    with pytest.raises(ValueError, match="ambiguous"):
        bool(t)
    with pytest.raises(TypeError):
        len(Tensor(1.0))


def test_tensor_repr_shows_values_and_flags():
    assert repr(Tensor([1.0, 2.0])) == "Tensor([1. 2.])"
    assert "requires_grad=True" in repr(Tensor([1.0], requires_grad=True))
    assert "float64" in repr(Tensor([1.0], dtype=np.float64))


# -- requires_grad and detach -------------------------------------------------------------------
def test_tensor_requires_grad_sets_flag_and_returns_self():
    t = Tensor([1.0, 2.0])
    assert t.requires_grad_() is t
    assert t.requires_grad
    assert t.requires_grad_(False) is t
    assert not t.requires_grad


@pytest.mark.parametrize("value", [[1, 2], np.arange(3, dtype=np.int32), [True, False]])
def test_tensor_requires_grad_non_floating_raises(value):
    with pytest.raises(TypeError, match="floating"):
        Tensor(value).requires_grad_()
    with pytest.raises(TypeError, match="floating"):
        Tensor(value, requires_grad=True)


def test_tensor_requires_grad_false_on_non_leaf_raises():
    y = Tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


def test_tensor_detach_shares_data_and_cuts_graph():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.requires_grad is False
    assert d.is_leaf
    assert np.shares_memory(d.data, y.data)
    # d is a constant: only the second factor carries gradient back to x.
    (d * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


# -- operators ----------------------------------------------------------------------------------
# Each case: the expression on (x, c), its value, and d(sum of it)/dx, all in float64 NumPy.
# c is a float64 ndarray, so the reflected forms (c + x, c @ x...) go through Tensor's __r*__.
_ONES = np.ones
OPERATOR_CASES = {
    "add": (lambda x, c: x + c, lambda x, c: x + c, lambda x, c: _ONES(x.shape)),
    "radd_array": (lambda x, c: c + x, lambda x, c: c + x, lambda x, c: _ONES(x.shape)),
    "radd_scalar": (lambda x, c: 2 + x, lambda x, c: 2 + x, lambda x, c: _ONES(x.shape)),
    "sub": (lambda x, c: x - c, lambda x, c: x - c, lambda x, c: _ONES(x.shape)),
    "rsub_array": (lambda x, c: c - x, lambda x, c: c - x, lambda x, c: -_ONES(x.shape)),
    "rsub_scalar": (lambda x, c: 1.5 - x, lambda x, c: 1.5 - x, lambda x, c: -_ONES(x.shape)),
    "mul": (lambda x, c: x * c, lambda x, c: x * c, lambda x, c: c),
    "rmul_array": (lambda x, c: c * x, lambda x, c: c * x, lambda x, c: c),
    "rmul_scalar": (lambda x, c: 3 * x, lambda x, c: 3 * x, lambda x, c: 3 * _ONES(x.shape)),
    "div": (lambda x, c: x / c, lambda x, c: x / c, lambda x, c: 1 / c),
    "rdiv_array": (lambda x, c: c / x, lambda x, c: c / x, lambda x, c: -c / x**2),
    "rdiv_scalar": (lambda x, c: 1.0 / x, lambda x, c: 1 / x, lambda x, c: -1 / x**2),
    "pow_scalar": (lambda x, c: x**2, lambda x, c: x**2, lambda x, c: 2 * x),
    "pow_fraction": (lambda x, c: x**0.5, lambda x, c: x**0.5, lambda x, c: 0.5 * x**-0.5),
    "pow_array": (lambda x, c: x**c, lambda x, c: x**c, lambda x, c: c * x ** (c - 1)),
    "rpow_scalar": (lambda x, c: 2.0**x, lambda x, c: 2.0**x, lambda x, c: 2.0**x * np.log(2)),
    "rpow_array": (lambda x, c: c**x, lambda x, c: c**x, lambda x, c: c**x * np.log(c)),
    "matmul": (lambda x, c: x @ c.T, lambda x, c: x @ c.T, lambda x, c: _ONES((2, 2)) @ c),
    "rmatmul": (lambda x, c: c.T @ x, lambda x, c: c.T @ x, lambda x, c: c @ _ONES((3, 3))),
    "neg": (lambda x, c: -x, lambda x, c: -x, lambda x, c: -_ONES(x.shape)),
    "chain": (
        lambda x, c: (3 - x) * x / 2,
        lambda x, c: (3 - x) * x / 2,
        lambda x, c: (3 - 2 * x) / 2,
    ),
}


@pytest.mark.parametrize("case", OPERATOR_CASES.values(), ids=OPERATOR_CASES.keys())
def test_operator_value_and_grad(case):
    expr, value, grad = case
    x_np, c = _data((2, 3)), _data((2, 3), seed=1).astype(np.float64)
    x = Tensor(x_np, requires_grad=True)
    y = expr(x, c)
    assert isinstance(y, Tensor)
    assert y.dtype == np.float32  # python numbers and float64 arrays never promote
    assert y.requires_grad
    x64 = x_np.astype(np.float64)
    np.testing.assert_allclose(y.numpy(), value(x64, c), rtol=1e-5, atol=1e-6)
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), grad(x64, c), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "expr",
    [
        lambda a, t: a + t,
        lambda a, t: a - t,
        lambda a, t: a * t,
        lambda a, t: a / t,
        lambda a, t: a**t,
        lambda a, t: a @ t,
    ],
    ids=["add", "sub", "mul", "div", "pow", "matmul"],
)
def test_operator_ndarray_on_left_returns_tensor(expr):
    a = np.full((2, 2), 2.0)  # float64
    t = Tensor(np.ones((2, 2)), requires_grad=True)
    out = expr(a, t)
    assert isinstance(out, Tensor)
    assert out.dtype == np.float32
    assert out.requires_grad
    np.testing.assert_allclose(out.numpy(), expr(a, np.ones((2, 2))))


def test_inplace_operator_into_an_array_takes_a_tensor_as_torch_data_does():
    # makemore's `W.data += -50 * W.grad`: torch's .data is a tensor, shenjing's the array;
    # either way the update goes into W's memory, outside the graph
    w0 = _data()
    w = Tensor(w0, requires_grad=True)
    (w * w).sum().backward()
    memory = w.data
    w.data += -0.5 * w.grad
    w.data -= 0.25 * w.grad
    w.data *= Tensor(np.full((2, 3), 2.0, np.float32))
    assert w.data is memory and w.requires_grad and w.is_leaf and w.grad is not None
    np.testing.assert_allclose(w.numpy(), (w0 - 0.75 * 2 * w0) * 2, rtol=1e-6)
    counts = np.zeros(3, np.int64)
    counts += Tensor(np.array([1, 2, 3]))
    np.add(counts, Tensor(np.array([1, 1, 1])), out=counts)
    np.testing.assert_array_equal(counts, [2, 3, 4])
    assert isinstance(np.float32(2) * w, Tensor)  # NumPy scalars still defer


def test_numpy_functions_refuse_tensors_naming_the_remedy():
    t = Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="NumPy's exp .* does not take Tensors"):
        np.exp(t)
    with pytest.raises(TypeError, match="does not take Tensors"):
        np.add(np.ones(2), np.ones(2), out=(t,))


def test_operator_tensor_with_tensor_grads_both():
    a = Tensor(_data(), requires_grad=True)
    b = Tensor(_data(seed=1), requires_grad=True)
    (a * b - a / b).sum().backward()
    an, bn = a.numpy().astype(np.float64), b.numpy().astype(np.float64)
    np.testing.assert_allclose(a.grad.numpy(), bn - 1 / bn, rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), an + an / bn**2, rtol=1e-5)


def test_operator_float64_tensor_stays_float64():
    x = Tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    y = (2 * x + 1.5) / 3 - x**2
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float64


# -- comparisons --------------------------------------------------------------------------------
COMPARISONS = {
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
}
_X = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], dtype=np.float32)
_Y = np.array([[3.0, 2.0, 1.0], [1.0, 2.0, 3.0]], dtype=np.float32)
OPERANDS = {
    "tensor_scalar": (lambda x: (x, 2.0), (_X, 2.0)),
    "scalar_tensor": (lambda x: (2.0, x), (2.0, _X)),
    "tensor_array": (lambda x: (x, _Y), (_X, _Y)),
    "array_tensor": (lambda x: (_Y, x), (_Y, _X)),
    "tensor_tensor": (lambda x: (x, Tensor(_Y)), (_X, _Y)),
}


@pytest.mark.parametrize("operands", OPERANDS.values(), ids=OPERANDS.keys())
@pytest.mark.parametrize("compare", COMPARISONS.values(), ids=COMPARISONS.keys())
def test_comparison_returns_bool_tensor_without_grad(compare, operands):
    make, (a_np, b_np) = operands
    x = Tensor(_X, requires_grad=True)
    out = compare(*make(x))
    assert isinstance(out, Tensor)
    assert out.dtype == np.bool_
    assert out.requires_grad is False
    assert out.is_leaf
    np.testing.assert_array_equal(out.numpy(), compare(a_np, b_np))
    with pytest.raises(RuntimeError, match="does not require grad"):
        out.sum().backward()


def test_comparison_tensor_is_still_hashable():
    t = Tensor([1.0, 2.0])
    assert {t: 1}[t] == 1


# -- indexing -----------------------------------------------------------------------------------
_X45 = np.arange(20, dtype=np.float32).reshape(4, 5) - 7.5
INDEX_CASES = {
    "slice": np.s_[1:3],
    "step_slices": np.s_[::2, 1:],
    "int": 2,
    "negative_int": -1,
    "int_and_slice": np.s_[1, 2:],
    "ellipsis_newaxis": np.s_[..., None, 1],
    "int_list": [0, 2],
    "int_array_repeated": np.array([3, 0, 3, 3]),
    "negative_alias_repeated": np.array([0, -4, 1]),
    "int_arrays_pairs_repeated": (np.array([0, 0, 1, 0]), np.array([1, 1, 4, 1])),
    "int_array_and_slice": np.s_[np.array([2, 2]), 1:4],
    "bool_mask": _X45 > 0,
    "bool_row_mask": np.array([True, False, True, True]),
}


@pytest.mark.parametrize("index", INDEX_CASES.values(), ids=INDEX_CASES.keys())
def test_getitem_value_and_grad(index):
    x = Tensor(_X45, requires_grad=True)
    y = x[index]
    expected = _X45[index]
    np.testing.assert_array_equal(y.numpy(), expected)
    u = np.random.default_rng(0).standard_normal(expected.shape).astype(np.float32)
    (y * u).sum().backward()
    # The gradient of x[index] scatters back, adding where an element was picked twice.
    grad = np.zeros_like(_X45)
    np.add.at(grad, index, u)
    np.testing.assert_allclose(x.grad.numpy(), grad, rtol=1e-6)


def test_getitem_repeated_indices_accumulate():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


@pytest.mark.parametrize(
    "make_index, np_index",
    [
        (lambda x: Tensor(np.array([1, 1, 3])), np.array([1, 1, 3])),
        (lambda x: x > 0, _X45 > 0),
        (lambda x: (Tensor(np.array([0, 0])), slice(None, 2)), np.s_[np.array([0, 0]), :2]),
    ],
    ids=["int_tensor", "bool_tensor_from_comparison", "tuple_with_tensor"],
)
def test_getitem_tensor_index(make_index, np_index):
    x = Tensor(_X45, requires_grad=True)
    y = x[make_index(x)]
    np.testing.assert_array_equal(y.numpy(), _X45[np_index])
    y.sum().backward()
    grad = np.zeros_like(_X45)
    np.add.at(grad, np_index, 1.0)
    np.testing.assert_array_equal(x.grad.numpy(), grad)


def test_pytorch_habits_transpose_flatten_format_iter_squeeze():
    x = shenjing.tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(x.transpose(1, 2).numpy(), x.numpy().swapaxes(1, 2))
    np.testing.assert_array_equal(x.transpose(-1, 0).numpy(), x.numpy().swapaxes(-1, 0))
    np.testing.assert_array_equal(x.transpose(2, 0, 1).numpy(), x.numpy().transpose(2, 0, 1))
    m = shenjing.tensor(np.arange(6.0).reshape(2, 3))
    assert m.transpose(0, 1).shape == m.transpose(1, 0).shape == m.T.shape == (3, 2)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    assert x.flatten(0, 1).shape == (6, 4)
    assert f"{shenjing.tensor(0.123456):.3f}" == "0.123" and f"{m}" == str(m)
    rows = list(m)
    assert len(rows) == 2 and np.array_equal(rows[1].numpy(), [3.0, 4.0, 5.0])
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(shenjing.tensor(1.0))
    assert shenjing.tensor(1.0).squeeze(0).shape == ()
    m[0] = 5.0  # item assignment as torch's (tests/autograd/test_inplace_recorded.py)
    assert np.array_equal(m.numpy()[0], [5.0, 5.0, 5.0])


def test_register_hook_returns_a_handle_with_remove():
    w = shenjing.tensor([1.0, 2.0], requires_grad=True)
    handle = w.register_hook(lambda g: g * 10)
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [20.0, 40.0])
    handle.remove()
    handle.remove()  # twice is harmless
    w.grad = None
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0])


def test_mean_of_integers_is_float32_and_of_nothing_is_nan():
    assert shenjing.tensor([1, 2, 4]).mean().dtype == np.float32
    x = shenjing.tensor(np.zeros((0, 4), np.float32), requires_grad=True)
    loss = x.mean()
    assert np.isnan(loss.item())
    loss.backward()
    assert x.grad.shape == (0, 4)
