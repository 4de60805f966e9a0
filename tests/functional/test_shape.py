"""Shape ops: reshape, transpose/permute, squeeze, expand_dims, broadcast_to, concatenate, stack,
split, pad, flip, and indexing (slices, integer arrays with repeats, boolean masks)."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from oracle import assert_same_as_torch, normal, torch
from shenjing import F


def _torch_pad(widths):
    """numpy.pad's ((before, after), ...) per axis as torch.nn.functional.pad's flat list, which
    starts from the last axis."""
    return [w for pair in reversed(widths) for w in pair]


# name: (input shape, shenjing fn, torch fn)
UNARY_CASES = {
    "reshape": ((2, 3, 4), lambda x: F.reshape(x, (6, 4)), lambda t: t.reshape(6, 4)),
    "reshape_minus_one": ((2, 3, 4), lambda x: x.reshape(4, -1, 2), lambda t: t.reshape(4, -1, 2)),
    "flatten": ((2, 3, 4), lambda x: x.flatten(), lambda t: t.flatten()),
    "transpose_reversed": ((2, 3, 4), F.transpose, lambda t: t.permute(2, 1, 0)),
    "transpose_axes": ((2, 3, 4), lambda x: F.transpose(x, (1, 0, 2)),
                       lambda t: t.permute(1, 0, 2)),
    "transpose_negative": ((2, 3, 4), lambda x: F.transpose(x, (-1, 0, 1)),
                           lambda t: t.permute(2, 0, 1)),
    "T": ((3, 4), lambda x: x.T, lambda t: t.T),
    "permute": ((2, 3, 4), lambda x: F.permute(x, 2, 0, 1), lambda t: t.permute(2, 0, 1)),
    "permute_tuple": ((2, 3, 4), lambda x: x.permute((1, 2, 0)), lambda t: t.permute(1, 2, 0)),
    "squeeze_all": ((1, 3, 1, 4), F.squeeze, lambda t: t.squeeze()),
    "squeeze_axis": ((1, 3, 1, 4), lambda x: F.squeeze(x, -2), lambda t: t.squeeze(-2)),
    "squeeze_axes": ((1, 3, 1, 4), lambda x: F.squeeze(x, (0, 2)), lambda t: t.squeeze((0, 2))),
    "expand_dims": ((3, 4), lambda x: F.expand_dims(x, 0), lambda t: t.unsqueeze(0)),
    "expand_dims_last": ((3, 4), lambda x: F.expand_dims(x, -1), lambda t: t.unsqueeze(-1)),
    "expand_dims_axes": ((3, 4), lambda x: F.expand_dims(x, (0, 2)),
                         lambda t: t.reshape(1, 3, 1, 4)),
    "broadcast_to": ((3, 1), lambda x: F.broadcast_to(x, (2, 3, 4)),
                     lambda t: t.broadcast_to((2, 3, 4))),
    "broadcast_scalar": ((), lambda x: x.broadcast_to((2, 3)), lambda t: t.broadcast_to((2, 3))),
    "pad": ((2, 3), lambda x: F.pad(x, ((1, 2), (0, 1))),
            lambda t: torch.nn.functional.pad(t, _torch_pad(((1, 2), (0, 1))))),
    "pad_value": ((2, 3), lambda x: F.pad(x, 1, constant_values=1.5),
                  lambda t: torch.nn.functional.pad(t, [1, 1, 1, 1], value=1.5)),
    "pad_one_pair": ((2, 3, 2), lambda x: F.pad(x, [(0, 2)]),
                     lambda t: torch.nn.functional.pad(t, [0, 2] * 3)),
    "flip_all": ((2, 3, 4), F.flip, lambda t: t.flip((0, 1, 2))),
    "flip_axis": ((2, 3, 4), lambda x: F.flip(x, -1), lambda t: t.flip(-1)),
    "flip_axes": ((2, 3, 4), lambda x: x.flip((0, 2)), lambda t: t.flip((0, 2))),
}


@pytest.mark.parametrize("name", UNARY_CASES)
def test_shape_op_gradcheck(name, rng):
    shape, fn, _ = UNARY_CASES[name]
    assert shenjing.gradcheck(fn, normal(rng, shape))


@pytest.mark.parametrize("name", UNARY_CASES)
def test_shape_op_matches_torch(name, rng):
    shape, fn, torch_fn = UNARY_CASES[name]
    assert_same_as_torch(fn, [normal(rng, shape)], torch_fn)


# -- ops on several tensors ------------------------------------------------------------------------

# name: (input shapes, shenjing fn, torch fn); fns take the tensors as separate arguments.
JOIN_CASES = {
    "concatenate_0": ([(1, 3), (2, 3), (3, 3)], lambda *xs: F.concatenate(xs, axis=0),
                      lambda *ts: torch.cat(ts, dim=0)),
    "concatenate_last": ([(2, 1, 2), (2, 1, 3)], lambda *xs: F.concatenate(xs, axis=-1),
                         lambda *ts: torch.cat(ts, dim=-1)),
    "stack_0": ([(2, 3)] * 3, lambda *xs: F.stack(xs), lambda *ts: torch.stack(ts)),
    "stack_1": ([(2, 3)] * 2, lambda *xs: F.stack(xs, axis=1), lambda *ts: torch.stack(ts, 1)),
    "stack_last": ([(2, 3)] * 2, lambda *xs: F.stack(xs, axis=-1),
                   lambda *ts: torch.stack(ts, -1)),
    "stack_scalars": ([()] * 3, lambda *xs: F.stack(xs), lambda *ts: torch.stack(ts)),
}


@pytest.mark.parametrize("name", JOIN_CASES)
def test_join_gradcheck(name, rng):
    shapes, fn, _ = JOIN_CASES[name]
    assert shenjing.gradcheck(fn, *[normal(rng, s) for s in shapes])


@pytest.mark.parametrize("name", JOIN_CASES)
def test_join_matches_torch(name, rng):
    shapes, fn, torch_fn = JOIN_CASES[name]
    assert_same_as_torch(fn, [normal(rng, s) for s in shapes], torch_fn)


def test_concatenate_gradient_only_for_inputs_that_need_it(rng):
    a = shenjing.tensor(normal(rng, (2, 3)), requires_grad=True)
    b = shenjing.tensor(normal(rng, (1, 3)))
    F.concatenate([a, b]).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.ones((2, 3), np.float32))
    assert b.grad is None


# Split returns several tensors: the oracle compares each piece and the gradient of all of them.
SPLITS = [(3, 1), ([1, 3], -1), ([2], 0), (2, 0)]


@pytest.mark.parametrize("sections, axis", SPLITS, ids=str)
def test_split_gradcheck(sections, axis, rng):
    def fn(x):  # gradcheck needs one output: join the pieces in reverse order
        return F.concatenate(F.split(x, sections, axis)[::-1], axis=axis)

    assert shenjing.gradcheck(fn, normal(rng, (2, 3, 4)))


@pytest.mark.parametrize("sections, axis", SPLITS, ids=str)
def test_split_matches_torch(sections, axis, rng):
    assert_same_as_torch(lambda x: F.split(x, sections, axis), [normal(rng, (2, 3, 4))],
                         lambda t: torch.tensor_split(t, sections, dim=axis))


def test_split_pieces_are_numpys(rng):
    x = normal(rng, (4, 6)).astype(np.float32)
    pieces = shenjing.tensor(x).split([1, 4], axis=1)
    for piece, expected in zip(pieces, np.split(x, [1, 4], axis=1), strict=True):
        np.testing.assert_array_equal(piece.numpy(), expected)


# -- indexing ------------------------------------------------------------------------------------

INDICES = {
    "int": 1,
    "negative_int": -1,
    "slice": slice(1, None),
    "strided": (slice(None), slice(None, None, 2)),
    "ellipsis": (Ellipsis, 2),
    "newaxis": (slice(None), None, 0),
    "int_array_repeated": np.array([2, 0, 2, 2]),
    "list_repeated": [0, 0, 1],
    "int_and_array": (1, np.array([0, 0, 2])),
    "arrays_paired_repeated": (np.array([0, 1, 1, 0]), np.array([2, 0, 0, 2])),
    "slice_and_array": (slice(None), np.array([[1, 1], [0, 2]])),
    "bool_mask": np.array([[True, False, True, True], [False, False, True, False],
                           [True, True, False, False]]),
    "bool_rows": np.array([True, False, True]),
    "bool_and_slice": (np.array([False, True, True]), slice(1, 3)),
}


def _torch_index(index):
    """Torch indexes with tensors, not NumPy arrays."""
    if isinstance(index, tuple):
        return tuple(_torch_index(i) for i in index)
    if isinstance(index, np.ndarray):
        return torch.from_numpy(index)
    return index


@pytest.mark.parametrize("name", INDICES)
def test_getitem_gradcheck(name, rng):
    assert shenjing.gradcheck(lambda x: x[INDICES[name]], normal(rng, (3, 4)))


@pytest.mark.parametrize("name", INDICES)
def test_getitem_matches_torch(name, rng):
    index = INDICES[name]
    assert_same_as_torch(lambda x: x[index], [normal(rng, (3, 4))],
                         lambda t: t[_torch_index(index)])


def test_getitem_negative_step_gradcheck(rng):
    # torch has no negative steps, so this one is checked against finite differences only.
    assert shenjing.gradcheck(lambda x: x[::-1, 1::-2], normal(rng, (3, 4)))


def test_getitem_repeated_indices_accumulate():
    x = shenjing.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[np.array([0, 2, 0, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


def test_getitem_takes_a_tensor_index(rng):
    x = shenjing.tensor(normal(rng, (3, 4)), requires_grad=True)
    x[shenjing.tensor([2, 2])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[2], np.full(4, 2.0, np.float32))


# -- errors ----------------------------------------------------------------------------------------

ERRORS = {
    "squeeze_size_3": (lambda x: F.squeeze(x, 1), "cannot squeeze"),
    "split_unequal": (lambda x: F.split(x, 2, axis=1), "equal parts"),
    "concatenate_nothing": (lambda x: F.concatenate([]), "at least one"),
    "stack_nothing": (lambda x: F.stack([]), "at least one"),
    "expand_dims_out_of_range": (lambda x: F.expand_dims(x, 4), "out of range"),
}


@pytest.mark.parametrize("name", ERRORS)
def test_shape_op_misuse_raises(name):
    fn, message = ERRORS[name]
    with pytest.raises(ValueError, match=message):
        fn(shenjing.tensor(np.zeros((2, 3, 1))))


_X23 = np.arange(6, dtype=np.float32).reshape(2, 3)
OUT_OF_RANGE_AXIS = {  # each given axis 2 (or 3 where a new axis may be 2) of a 2-D tensor
    "concatenate": lambda x: F.concatenate([x, x], axis=2),
    "stack": lambda x: F.stack([x, x], axis=3),
    "split": lambda x: F.split(x, 1, axis=2),
    "transpose": lambda x: F.transpose(x, (0, 2)),
    "take_along_axis": lambda x: F.take_along_axis(x, np.zeros((2, 1), int), axis=2),
    "softmax": lambda x: F.softmax(x, axis=2),
    "sum": lambda x: F.sum(x, axis=2),
    "flip": lambda x: F.flip(x, axis=2),
    "ops.repeat": lambda x: shenjing.ops.repeat(x, 2, axis=2),
    "ops.take": lambda x: shenjing.ops.take(x, [0], axis=2),
    "ops.swapaxes": lambda x: shenjing.ops.swapaxes(x, 0, 2),
    "ops.average": lambda x: shenjing.ops.average(x, axis=2, weights=np.ones(3)),
    "Tensor.transpose(0, 2)": lambda x: x.transpose(0, 2),
    "Tensor.flatten": lambda x: x.flatten(0, 2),
    "Tensor.unbind": lambda x: x.unbind(2),
    "Tensor.topk": lambda x: x.topk(1, dim=2),
    "Tensor.repeat_interleave": lambda x: x.repeat_interleave(2, dim=2),
    "Tensor.index_add": lambda x: x.index_add(2, np.array([0]), x),
    "sparse_categorical_crossentropy": lambda x: shenjing.losses.sparse_categorical_crossentropy(
        np.zeros(2, int), x, axis=2),
    "random.shuffle": lambda x: shenjing.random.shuffle(x, axis=2),
}


@pytest.mark.parametrize("name", OUT_OF_RANGE_AXIS)
def test_an_axis_out_of_range_is_an_error_never_wrapped_around(name):
    """Axis 2 of a 2-D tensor names no axis: an error that says so (a ValueError, as NumPy's
    AxisError, and an IndexError, as torch's), where ``axis % ndim`` would quietly take axis 0."""
    with pytest.raises(ValueError, match=r"axis [23] is out of (range|bounds)") as info:
        OUT_OF_RANGE_AXIS[name](shenjing.tensor(_X23))
    assert isinstance(info.value, IndexError)


def test_concatenate_with_no_axis_joins_the_flattened_tensors_and_0d_is_an_error():
    a, b = shenjing.tensor(_X23, requires_grad=True), shenjing.tensor([7.0, 8.0])
    y = F.concatenate([a, b], axis=None)
    np.testing.assert_array_equal(y.numpy(), np.concatenate([_X23, [7.0, 8.0]], axis=None))
    (y * shenjing.tensor(np.arange(8.0, dtype=np.float32))).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match="0-d tensors have none"):
        F.concatenate([shenjing.tensor(1.0), shenjing.tensor(2.0)])
    for other in (shenjing.zeros(0), shenjing.ones(3, 3)):  # torch's legacy (0,) was IndexError
        with pytest.raises(ValueError, match=r"same sizes on every axis but the joined one "
                                             r"\(1\), got shapes \[\(2, 3\), "):
            F.cat([shenjing.tensor(_X23), other], dim=1)
    with pytest.raises(ValueError, match=r"pad: pad_width .* each of x's 2 axes"):
        F.pad(shenjing.tensor(_X23), [(0, 0)] * 3)
