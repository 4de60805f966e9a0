"""Every functional op takes NumPy arrays where it takes Tensors (as constants), with the same
result: ``F.sigmoid(np.array(...))`` once failed deep inside with "'memoryview' object has no
attribute 'dtype'" (an ndarray's ``.data``) while ``F.add`` took arrays. The sweep covers each
public function of both functional namespaces, so a new op is checked as it lands."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import shenjing as sj
import shenjing.nn.functional as torch_style
from shenjing import F

A = np.array([[0.3, 2.0], [0.5, 3.0]], dtype=np.float32)
B = np.array([[1.5, 0.2], [0.7, 1.0]], dtype=np.float32)
IMAGES = np.random.default_rng(0).standard_normal((2, 5, 5, 3)).astype(np.float32)
# argument lists tried in turn: the first that the op takes as Tensors is compared
RANDOM = {"gumbel_softmax", "bernoulli"}  # draws: two calls are not comparable
CALLS = ((A,), (IMAGES,), (A, B), (A, np.array([1, 0])), ([A, B],), (A, B, B[0]))


def _public(module):
    return [(module.__name__, name) for name in sorted(dir(module))
            if not name.startswith("_") and "dropout" not in name and name not in RANDOM
            and name != "cast"  # its second argument is a dtype (NumPy reads a Tensor's)
            and not name.endswith("_")  # in place (relu_): a Tensor to write into, by nature
            and callable(getattr(module, name)) and not inspect.isclass(getattr(module, name))]


def _tensors(args, which):
    """``args`` with the arrays at the positions in ``which`` made Tensors (lists whole)."""
    out = []
    for k, a in enumerate(args):
        if k in which:
            a = [sj.Tensor(v) for v in a] if isinstance(a, list) else sj.Tensor(a)
        out.append(a)
    return out


@pytest.mark.parametrize("module, name", _public(F) + _public(torch_style))
def test_arrays_are_taken_as_tensors(module, name):
    fn = getattr(F if module == F.__name__ else torch_style, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # log of a negative: both sides alike
        for args in CALLS:
            try:
                want = fn(*_tensors(args, range(len(args))))
            except Exception:  # noqa: BLE001 - not this op's arguments: try the next
                continue
            if not isinstance(want, sj.Tensor):
                return
            for which in ((), (0,), tuple(range(1, len(args)))):  # all arrays, or mixed
                got = fn(*_tensors(args, which))
                assert isinstance(got, sj.Tensor), (name, which, type(got))
                assert got.dtype == want.dtype and got.shape == want.shape, (name, which)
                np.testing.assert_array_equal(got.numpy(), want.numpy())
            return


def test_an_array_input_is_a_constant():
    x = sj.Tensor(A, requires_grad=True)
    y = F.matmul(x, B).sum()  # B, an array, gets no gradient and needs none
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones((2, 2)) @ B.T, rtol=1e-6)
    assert not F.sigmoid(A).requires_grad


def test_other_inputs_are_named():
    with pytest.raises(TypeError, match="ReLU takes Tensors or arrays .* got str"):
        F.relu("x")
    with pytest.raises(TypeError, match="got NoneType"):
        sj.Tensor(A) + None


def test_cast_of_an_array_keeps_its_precision():
    x = np.array([1 + 2 ** -40])  # lost in float32
    assert F.cast(x, np.float64).numpy()[0] == x[0]


def _binary_methods():
    names = []
    for name in sorted(dir(sj.Tensor)):
        if name.endswith("_") or name in ("astype", "cast", "to", "type") or name in RANDOM:
            continue
        try:
            if isinstance(getattr(sj.Tensor(A), name)(sj.Tensor(B)), sj.Tensor):
                names.append(name)
        except Exception:  # noqa: BLE001, S112 - not a method of another tensor
            continue
    return names


@pytest.mark.parametrize("name", _binary_methods())
def test_tensor_methods_take_arrays_as_their_other_operand(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = getattr(sj.Tensor(A), name)(sj.Tensor(B))
        got = getattr(sj.Tensor(A), name)(B)
    assert isinstance(got, sj.Tensor) and got.dtype == want.dtype
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_a_float64_array_beside_a_float64_tensor_keeps_its_precision():
    # it was made float32 first (1/3 came back as 0.3333333432674408)
    third = np.array([[1 / 3]])
    x = sj.tensor(np.ones((1, 1)), dtype=np.float64)
    assert F.matmul(x, third).numpy()[0, 0] == 1 / 3
    assert F.concatenate([x, third]).numpy()[1, 0] == 1 / 3
    assert sj.einsum("ij,jk->ik", x, third).numpy()[0, 0] == 1 / 3
