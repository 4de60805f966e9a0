"""PyTorch's spellings on Tensor: ``dim=``/``keepdim=`` aliases, in-place methods (``add_`` ...
``zero_``, ``copy_``), ``detach_``, ``view``, ``unsqueeze``, ``expand``, the ``*_as`` forms,
``t``, ``clone``, the casts and ``to``, the method forms of ops (``add(alpha=)``, ``clamp`` ...),
var/std's ``correction=``/``unbiased=``, ``F.cat``/``F.stack`` with ``dim=``. Where one lambda
can run on both frameworks it does, so the test reads as the torch code a user writes.
(``reshape(*shape)`` and ``permute(*dims)`` were there before: tests/functional/test_shape.py;
the factories ``shenjing.zeros`` ... are in tests/test_factories.py.)"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import shenjing
from oracle import assert_same_as_torch, distinct, normal, require_torch, torch
from shenjing import F, Tensor, no_grad

SHAPE = (2, 3, 4)


# -- dim= / keepdim= --------------------------------------------------------------------------
# name: (the call on shenjing, the call on torch, sampler); None: the same lambda runs on both.
# max/min with dim=: (values, indices) on both (see the test of their indices below).
# var/std with dim=/keepdim=: torch's default correction 1 on both (NumPy's ddof=0 called
# NumPy's way).
DIM_CALLS = {
    "sum": (lambda t: t.sum(dim=1), None, normal),
    "sum_keepdim": (lambda t: t.sum(dim=(0, 2), keepdim=True), None, normal),
    "mean": (lambda t: t.mean(dim=-1, keepdim=True), None, normal),
    "F.mean": (lambda t: F.mean(t, dim=0), lambda t: torch.mean(t, dim=0), normal),
    "max": (lambda t: t.max(dim=1, keepdim=True).values, None, distinct),
    "min": (lambda t: t.min(dim=2)[0], None, distinct),
    "amax": (lambda t: t.amax(dim=(0, 2)), None, distinct),
    "var": (lambda t: t.var(dim=1), None, normal),
    "std": (lambda t: t.std(dim=-1, keepdim=True), None, normal),
    "std_keepdim_only": (lambda t: t.std(0, keepdim=True), None, normal),  # makemore's batch norm
    "var_ddof0": (lambda t: t.var(dim=1, ddof=0), lambda t: t.var(dim=1, correction=0), normal),
    "logsumexp": (lambda t: t.logsumexp(dim=1, keepdim=True), None, normal),
    "softmax": (lambda t: t.softmax(dim=1), None, normal),
    "F.softmax": (lambda t: F.softmax(t, dim=0), lambda t: torch.softmax(t, dim=0), normal),
    "log_softmax": (lambda t: t.log_softmax(dim=-2), None, normal),
    "F.log_softmax": (lambda t: F.log_softmax(t, dim=1),
                      lambda t: torch.log_softmax(t, dim=1), normal),
    "keepdim_only": (lambda t: t.sum(2, keepdim=True), None, normal),
}


@pytest.mark.parametrize("name", DIM_CALLS)
def test_dim_keyword_matches_torch(name, rng):
    ours, theirs, sample = DIM_CALLS[name]
    assert_same_as_torch(ours, [sample(rng, SHAPE)], theirs)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dim, keepdim", [(1, False), (-1, True), (None, False)])
def test_argmax_dim_keyword_matches_torch(name, dim, keepdim, rng):
    th = require_torch()
    x = distinct(rng, SHAPE).astype(np.float32)
    got = getattr(Tensor(x), name)(dim=dim, keepdim=keepdim)
    expected = getattr(th.from_numpy(x), name)(dim=dim, keepdim=keepdim).numpy()
    assert got.shape == expected.shape and not got.requires_grad
    np.testing.assert_array_equal(got.numpy(), expected)


def test_squeeze_dim_keyword():
    x = Tensor(np.ones((2, 1, 3)), requires_grad=True)
    y = x.squeeze(dim=1)
    assert y.shape == (2, 3)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 1, 3)))


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.sum(axis=1, dim=1),
        lambda x: x.mean(0, dim=0),
        lambda x: F.max(x, keepdims=True, keepdim=True),
        lambda x: x.var(axis=0, dim=0),
        lambda x: x.logsumexp(axis=(0, 1), dim=1),
        lambda x: F.softmax(x, 0, dim=1),
        lambda x: x.log_softmax(axis=0, dim=0),
        lambda x: x.argmax(axis=1, dim=1),
        lambda x: x.squeeze(0, dim=0),
        lambda x: F.cat([x, x], axis=1, dim=1),
        lambda x: F.stack([x, x], 1, dim=1),
    ],
)
def test_dim_and_axis_together_is_a_type_error(call):
    x = Tensor(np.ones((1, 3, 4)), requires_grad=True)
    with pytest.raises(TypeError, match=r"both (axis=.* and dim=|keepdims=.* and keepdim=)"):
        call(x)


# -- in-place methods -------------------------------------------------------------------------
# The same call on both frameworks, on tensors that take no part in autograd.
INPLACE_CALLS = {
    "add_": lambda t, o: t.add_(o),
    "add_alpha": lambda t, o: t.add_(o, alpha=-0.5),
    "add_scalar": lambda t, o: t.add_(2.0),
    "sub_": lambda t, o: t.sub_(o),
    "sub_alpha": lambda t, o: t.sub_(o, alpha=3),
    "mul_": lambda t, o: t.mul_(o),
    "mul_broadcast": lambda t, o: t.mul_(o[0]),
    "div_": lambda t, o: t.div_(o),
    "div_scalar": lambda t, o: t.div_(4.0),
    "fill_": lambda t, o: t.fill_(1.5),
    "zero_": lambda t, o: t.zero_(),
    "copy_": lambda t, o: t.copy_(o),
    "copy_broadcast": lambda t, o: t.copy_(o[1]),
}


@pytest.mark.parametrize("name", INPLACE_CALLS)
def test_inplace_method_matches_torch(name, rng):
    th = require_torch()
    a = rng.uniform(0.5, 2.0, (2, 3)).astype(np.float32)
    b = rng.uniform(0.5, 2.0, (2, 3)).astype(np.float32)
    ours, other = Tensor(a), Tensor(b)
    memory, version = ours.data, ours._version[0]
    out = INPLACE_CALLS[name](ours, other)
    theirs = th.from_numpy(a.copy())
    INPLACE_CALLS[name](theirs, th.from_numpy(b))
    assert out is ours and ours.data is memory  # really in place, and chainable as in torch
    assert ours._version[0] == version + 1
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", INPLACE_CALLS)
def test_inplace_method_on_leaf_requiring_grad_raises(name):
    w = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*no_grad"):
        INPLACE_CALLS[name](w, Tensor(np.ones((2, 3))))
    np.testing.assert_array_equal(w.numpy(), np.ones((2, 3)))  # nothing was changed
    assert w._version[0] == 0
    th = require_torch()  # and torch refuses it too
    with pytest.raises(RuntimeError, match="leaf"):
        INPLACE_CALLS[name](th.ones(2, 3, requires_grad=True), th.ones(2, 3))


@pytest.mark.parametrize("name", INPLACE_CALLS)
def test_inplace_method_on_leaf_under_no_grad_is_allowed(name):
    w = Tensor(np.full((2, 3), 2.0), requires_grad=True)
    with no_grad():
        INPLACE_CALLS[name](w, Tensor(np.ones((2, 3))))
    assert w.requires_grad and w.is_leaf


def test_inplace_method_on_integer_tensor_meeting_grad_raises():
    # On an intermediate, or meeting a tensor that requires grad, the in-place methods are
    # recorded in the graph as torch records them (tests/autograd/test_inplace_recorded.py);
    # an integer tensor cannot carry a gradient (torch refuses too).
    w = Tensor(np.ones(3), requires_grad=True)
    for change in (lambda t: t.add_(w), lambda t: t.copy_(w)):
        with pytest.raises(RuntimeError, match="takes part in autograd"):
            change(Tensor(np.ones(3, np.int64)))


def _changed_after_forward(make, change):
    """A product's input changed in place after the product ran: its backward must refuse."""
    w = make([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    x = make([3.0, 4.0, 5.0, 6.0])
    y = (w * x).sum()
    change(x)  # w's gradient would now be the new x, not the x the product saw
    with pytest.raises(RuntimeError, match="modified"):
        y.backward()
    return x


@pytest.mark.parametrize(
    "change",
    [lambda x: x.mul_(2.0), lambda x: x.view(2, 2).fill_(0.0), lambda x: x.unsqueeze(0).zero_()],
    ids=["mul_", "view", "unsqueeze"],
)
def test_inplace_change_after_forward_is_caught_at_backward(change):
    # through a view too: it shares x's memory and in-place counter, as torch's views do
    x = _changed_after_forward(shenjing.tensor, change)
    assert (x.numpy() != [3.0, 4.0, 5.0, 6.0]).all()
    th = require_torch()
    x = _changed_after_forward(th.tensor, change)
    assert (x.numpy() != [3.0, 4.0, 5.0, 6.0]).all()


def test_training_loop_with_inplace_methods_matches_torch(rng):
    # The torch tutorial loop: p.grad.zero_(), then an SGD step with p.add_(grad, alpha=-lr)
    # (and the momentum buffer's mul_/add_) under no_grad.
    th = require_torch()
    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = rng.standard_normal((8, 1)).astype(np.float32)
    w0 = rng.standard_normal((3, 1)).astype(np.float32)

    def train(make, grad_ctx):
        w = make(w0.copy(), requires_grad=True)
        b = make(np.zeros(1, np.float32), requires_grad=True)
        velocity = make(np.zeros((3, 1), np.float32))
        for _ in range(5):
            loss = ((make(x) @ w + b - make(y)) ** 2).mean()
            loss.backward()
            with grad_ctx():
                velocity.mul_(0.9).add_(w.grad)
                w.sub_(velocity, alpha=0.1)
                b.add_(b.grad, alpha=-0.1)
            w.grad.zero_()
            b.grad.zero_()
        return w.detach().numpy(), b.detach().numpy(), w.grad.numpy()

    ours = train(shenjing.tensor, no_grad)
    theirs = train(th.tensor, th.no_grad)
    for a, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, t, rtol=1e-5, atol=1e-6)
    assert not ours[2].any()  # zeroed


# -- view, unsqueeze, expand, clone -----------------------------------------------------------
SHAPE_CALLS = {
    "view": (lambda t: t.view(4, 6) * 2.0, None),
    "view_tuple": (lambda t: t.view((6, -1)), None),
    "view_flat": (lambda t: t.view(-1), None),
    "unsqueeze": (lambda t: t.unsqueeze(1), None),
    "unsqueeze_last": (lambda t: t.unsqueeze(-1) * t.unsqueeze(0).sum(), None),
    "unsqueeze_dim": (lambda t: t.unsqueeze(dim=0), None),
    "expand": (lambda t: t[:, :1].expand(2, 5, -1) * 1.0, None),
    "expand_lead": (lambda t: t.expand(3, -1, -1, 4) * 1.0, None),
    "expand_tuple": (lambda t: t[:1].expand((2, 3, 4)) * 1.0, None),
    "clone": (lambda t: t.clone() * t, None),
}


@pytest.mark.parametrize("name", SHAPE_CALLS)
def test_shape_method_matches_torch(name, rng):
    ours, theirs = SHAPE_CALLS[name]
    assert_same_as_torch(ours, [normal(rng, SHAPE)], theirs)


def test_expand_rejects_minus_one_on_a_new_axis_and_too_few_sizes():
    x = Tensor(np.ones((3, 1)))
    with pytest.raises(ValueError, match="new leading axis"):
        x.expand(-1, 3, 4)
    with pytest.raises(ValueError, match="1 sizes"):
        x.expand(3)


def test_clone_is_a_copy_in_the_graph():
    w = Tensor([1.0, 2.0], requires_grad=True)
    c = w.clone()
    assert c.requires_grad and not c.is_leaf and c.data is not w.data
    with no_grad():
        c.add_(10.0)  # the copy's own memory: w and its counter are untouched
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0])
    assert w._version[0] == 0
    x = Tensor([1, 2])
    assert x.clone().dtype == np.int64 and F.clone(x).data is not x.data


# -- casts and to -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda t: (t.double() * 3.0).float(), None),
        (lambda t: t.float(), None),  # already float32: itself, as torch
        (lambda t: (t.to(np.float64) ** 2).to("float32"),
         lambda t: (t.to(torch.float64) ** 2).to(torch.float32)),
        (lambda t: t.to(dtype=np.float64).sum().to(t), lambda t: t.double().sum().to(t)),
    ],
    ids=["double-float", "float", "to-dtype", "to-tensor"],
)
def test_cast_methods_match_torch(ours, theirs, rng):
    assert_same_as_torch(ours, [normal(rng, (3, 4))], theirs)


@pytest.mark.parametrize("name, dtype", [("long", np.int64), ("int", np.int32),
                                         ("bool", np.bool_)])
def test_integer_casts_match_torch_and_carry_no_gradient(name, dtype):
    values = np.array([-1.7, -0.2, 0.0, 0.6, 2.5], np.float32)
    w = Tensor(values, requires_grad=True)
    got = getattr(w, name)()
    assert got.dtype == dtype and not got.requires_grad  # as torch: no gradient through ints
    assert not F.cast(w, dtype).requires_grad
    th = require_torch()
    expected = getattr(th.tensor(values, requires_grad=True), name)()
    assert not expected.requires_grad
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_same_dtype_casts_return_the_tensor_itself():
    x = Tensor([1.0, 2.0])
    d = Tensor([1.0], dtype=np.float64)
    assert x.float() is x and x.to(np.float32) is x and x.to("cpu") is x and x.to(x) is x
    assert d.double() is d and x.to(d).dtype == np.float64


def test_device_of_a_host_tensor_is_cpu_and_moving_there_is_a_no_op():
    x = Tensor([1.0, 2.0])
    assert x.device == "cpu" and x.cpu() is x and x.to("cpu") is x
    assert x.to("cpu", np.float64).dtype == np.float64


@pytest.mark.parametrize("device", ["mps", "tpu", "cuda:x", "cpu:1"])
def test_unknown_device_is_refused_by_name(device):
    with pytest.raises(ValueError, match=f"unknown device '{device}'"):
        Tensor([1.0]).to(device)


def test_moving_to_a_gpu_without_cupy_says_what_is_needed(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # as if CuPy were not installed
    with pytest.raises(RuntimeError, match="needs CuPy"):
        Tensor([1.0]).to("cuda")
    with pytest.raises(RuntimeError, match="needs CuPy"):
        Tensor([1.0]).cuda()


# -- numel, dim, t, the *_as forms ------------------------------------------------------------
def test_numel_and_dim_match_torch():
    th = require_torch()
    for shape in [(), (4,), (2, 3, 4), (0, 3)]:
        ours, theirs = Tensor(np.ones(shape)), th.ones(shape)
        assert ours.numel() == theirs.numel() and type(ours.numel()) is int
        assert ours.nelement() == theirs.nelement() and type(ours.nelement()) is int
        assert ours.dim() == theirs.dim() and type(ours.dim()) is int


AS_CALLS = {
    "t": (lambda a, b: a.t() * 2.0, (3, 4), (1,)),
    "t_1d": (lambda a, b: a.t() * b, (4,), (4,)),
    "t_t": (lambda a, b: a.t().t() @ b, (2, 3), (3, 2)),
    "expand_as": (lambda a, b: a.expand_as(b) * b, (3, 1), (2, 3, 4)),
    "view_as": (lambda a, b: a.view_as(b) * b, (2, 3, 4), (4, 6)),
    "reshape_as": (lambda a, b: a.reshape_as(b) - b, (2, 6), (3, 4)),
}


@pytest.mark.parametrize("name", AS_CALLS)
def test_t_and_as_methods_match_torch(name, rng):
    fn, shape_a, shape_b = AS_CALLS[name]
    assert_same_as_torch(fn, [normal(rng, shape_a), normal(rng, shape_b)])


def test_t_of_more_than_two_dims_is_an_error_as_in_torch():
    with pytest.raises(ValueError, match=r"at most 2 dimensions.*transpose\(-2, -1\)"):
        Tensor(np.ones((2, 3, 4))).t()
    th = require_torch()
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        th.ones(2, 3, 4).t()


def test_as_methods_refuse_shapes_that_do_not_fit():
    x = Tensor(np.ones(3))
    with pytest.raises(ValueError):
        x.expand_as(Tensor(np.ones((2, 2))))
    with pytest.raises(ValueError):
        x.view_as(Tensor(np.ones((2, 2))))


# -- method forms of the ops -------------------------------------------------------------------
# The same lambda on both frameworks; clamp bounds sit at multiples of 0.4, which `distinct`
# keeps every value at least 0.1 away from.
OP_METHOD_CALLS = {
    "add": (lambda a, b: a.add(b), normal),
    "add_alpha": (lambda a, b: a.add(b, alpha=0.5), normal),
    "add_alpha_broadcast": (lambda a, b: a.add(b[0], alpha=-2), normal),
    "add_scalar_alpha": (lambda a, b: a.add(3.0, alpha=2) * b, normal),
    "sub": (lambda a, b: a.sub(b), normal),
    "sub_alpha": (lambda a, b: a.sub(b, alpha=3), normal),
    "mul": (lambda a, b: a.mul(b), normal),
    "mul_scalar": (lambda a, b: a.mul(2.5) + b, normal),
    "div": (lambda a, b: a.div(b.abs() + 0.5), normal),
    "neg": (lambda a, b: a.neg() * b, normal),
    "pow": (lambda a, b: a.pow(2) + b.pow(3), normal),
    "pow_tensor": (lambda a, b: (a.abs() + 0.5).pow(b), normal),
    "clamp": (lambda a, b: a.clamp(min=-0.4, max=0.8) * b, distinct),
    "clamp_positional": (lambda a, b: a.clamp(-0.8, 0.4) * b, distinct),
    "clamp_only_max": (lambda a, b: a.clamp(max=0.0) * b, distinct),
    "clamp_min": (lambda a, b: a.clamp_min(0.4) * b, distinct),
    "clamp_max": (lambda a, b: a.clamp_max(-0.4) * b, distinct),
}


@pytest.mark.parametrize("name", OP_METHOD_CALLS)
def test_op_method_matches_torch(name, rng):
    fn, sample = OP_METHOD_CALLS[name]
    assert_same_as_torch(fn, [sample(rng, (3, 4)), sample(rng, (3, 4))])


def test_clamp_needs_a_bound_and_takes_tensor_bounds():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="min_value or max_value"):
        x.clamp()
    low = Tensor(np.array([0.0, 2.0, 1.5]), requires_grad=True)
    y = x.clamp(min=low, max=1.75)
    assert y.tolist() == [1.0, 1.75, 1.5]
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0] and low.grad.tolist() == [0.0, 0.0, 1.0]


# x at a bound (ties), x beyond either bound, a NaN, lo > hi and lo == hi (where torch gives
# no gradient to anything), with both bounds or one of them a tensor
CLAMP_X = [1.0, 2.0, 3.0, 4.0, 2.5, float("nan"), 1.0, 2.0, 3.0]
CLAMP_LO = [2.0, 2.0, 2.0, 2.0, 3.0, 0.0, 2.0, 2.0, 2.0]
CLAMP_HI = [3.0, 3.0, 3.0, 3.0, 2.0, 1.0, 2.0, 2.0, 2.0]


@pytest.mark.parametrize("bounds", ["both", "min", "max"])
def test_clamp_with_tensor_bounds_gives_ties_to_x_as_torch(bounds):
    th = require_torch()
    grads = []
    for m in (shenjing, th):
        x, lo, hi = (m.tensor(v, requires_grad=True) for v in (CLAMP_X, CLAMP_LO, CLAMP_HI))
        y = x.clamp(**{"both": {"min": lo, "max": hi}, "min": {"min": lo},
                       "max": {"max": hi}}[bounds])
        (y * m.arange(1.0, 10.0)).sum().backward()
        grads.append([y.detach().numpy()] + [np.zeros(9) if t.grad is None else t.grad.numpy()
                                             for t in (x, lo, hi)])
    for ours, theirs in zip(*grads, strict=True):
        np.testing.assert_array_equal(ours, theirs)


# -- var/std: correction= and unbiased= ---------------------------------------------------------
# The same lambda runs on both: these are torch's own keywords.
CORRECTION_CALLS = {
    "var_correction1": lambda t: t.var(dim=1, correction=1),
    "var_correction0": lambda t: t.var(dim=(0, 2), correction=0, keepdim=True),
    "var_correction2": lambda t: t.var(correction=2),
    "var_unbiased": lambda t: t.var(dim=-1, unbiased=True),
    "var_biased": lambda t: t.var(dim=0, unbiased=False),
    "std_correction1": lambda t: t.std(dim=1, correction=1),
    "std_unbiased": lambda t: t.std(dim=(1, 2), unbiased=True, keepdim=True),
    "std_biased": lambda t: t.std(unbiased=False),
    "F.var": lambda t: F.var(t, dim=2, correction=1) if isinstance(t, Tensor) else torch.var(
        t, dim=2, correction=1),
    "F.std": lambda t: F.std(t, dim=0, unbiased=True) if isinstance(t, Tensor) else torch.std(
        t, dim=0, unbiased=True),
}


@pytest.mark.parametrize("name", CORRECTION_CALLS)
def test_var_std_correction_matches_torch(name, rng):
    assert_same_as_torch(CORRECTION_CALLS[name], [normal(rng, SHAPE)])


@pytest.mark.parametrize("name", CORRECTION_CALLS)
def test_var_std_correction_gradcheck(name, rng):
    assert shenjing.gradcheck(CORRECTION_CALLS[name], normal(rng, SHAPE))


def test_correction_is_ddof():
    x = Tensor(np.arange(12.0).reshape(3, 4))
    for op in (F.var, F.std):
        np.testing.assert_array_equal(op(x, 1, correction=1).numpy(), op(x, 1, ddof=1).numpy())
        np.testing.assert_array_equal(op(x, unbiased=False).numpy(), op(x).numpy())


def test_var_std_follow_the_convention_of_the_call():
    # NumPy's keywords: population (ddof 0), as NumPy and Keras; torch's calls (no arguments,
    # positional dim and unbiased, dim=/keepdim=): unbiased
    a = np.arange(12.0).reshape(3, 4) ** 2
    x = Tensor(a)
    for name in ("var", "std"):
        for ours, numpy_kwargs in (
                (lambda f: f(), {"ddof": 1}), (lambda f: f(0), {"axis": 0, "ddof": 1}),
                (lambda f: f(0, False), {"axis": 0}),
                (lambda f: f(1, True, True), {"axis": 1, "ddof": 1, "keepdims": True}),
                (lambda f: f(axis=1), {"axis": 1}),
                (lambda f: f(0, keepdims=True), {"axis": 0, "keepdims": True}),
                (lambda f: f(dim=0), {"axis": 0, "ddof": 1}),
                (lambda f: f(1, keepdim=True), {"axis": 1, "keepdims": True, "ddof": 1}),
                (lambda f: f(dim=0, ddof=0), {"axis": 0}),
                (lambda f: f(axis=0, ddof=1), {"axis": 0, "ddof": 1})):
            np.testing.assert_allclose(ours(getattr(x, name)).numpy(),
                                       getattr(a, name)(**numpy_kwargs), rtol=1e-6)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x: x.var(ddof=1, correction=1), "both ddof=1 and correction=1"),
        (lambda x: F.std(x, 0, False, 1, correction=0), "both ddof=1 and correction=0"),
        (lambda x: x.std(correction=1, unbiased=True), "both correction=1 and unbiased=True"),
        (lambda x: F.var(x, ddof=1, unbiased=False), "both ddof=1 and unbiased=False"),
    ],
)
def test_ddof_with_correction_or_unbiased_is_a_type_error(call, message):
    with pytest.raises(TypeError, match=message):
        call(Tensor(np.ones((3, 4))))


# -- F.cat / F.stack with dim= ------------------------------------------------------------------
@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda a, b: F.cat([a, b], dim=1), lambda a, b: torch.cat([a, b], dim=1)),
        (lambda a, b: F.cat((a, b, a), dim=-1), lambda a, b: torch.cat((a, b, a), dim=-1)),
        (lambda a, b: F.concatenate([a, b], dim=0), lambda a, b: torch.cat([a, b], dim=0)),
        (lambda a, b: F.stack([a, b], dim=2), lambda a, b: torch.stack([a, b], dim=2)),
        (lambda a, b: F.stack([b, a], dim=-1), lambda a, b: torch.stack([b, a], dim=-1)),
    ],
    ids=["cat", "cat_last", "concatenate", "stack", "stack_last"],
)
def test_cat_and_stack_dim_match_torch(ours, theirs, rng):
    assert_same_as_torch(ours, [normal(rng, (2, 3, 4)), normal(rng, (2, 3, 4))], theirs)


# -- copy_ and detach_ --------------------------------------------------------------------------
def test_copy_casts_broadcasts_and_takes_arrays_as_torch():
    th = require_torch()
    ours, theirs = Tensor(np.zeros((2, 3), np.int64)), th.zeros(2, 3, dtype=th.int64)
    src = np.array([1.7, -2.2, 3.9], np.float32)
    ours.copy_(Tensor(src))
    theirs.copy_(th.from_numpy(src))
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())  # truncated, as torch
    ours.copy_(np.full(3, 5.0))
    np.testing.assert_array_equal(ours.numpy(), np.full((2, 3), 5))
    with pytest.raises(ValueError):
        ours.copy_(Tensor(np.ones(4)))


def test_copy_into_a_saved_input_is_caught_at_backward():
    _changed_after_forward(shenjing.tensor, lambda x: x.copy_(Tensor(np.zeros(4))))


def test_copy_into_target_weights_under_no_grad():
    online = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    target = Tensor(np.zeros(2), requires_grad=True)
    with no_grad():
        target.copy_(online)
    np.testing.assert_array_equal(target.numpy(), [1.0, 2.0])
    assert target.data is not online.data and target.is_leaf and target.requires_grad


def _detach_earlier_consumer(make):
    w = make([1.0, 2.0, 3.0], requires_grad=True)
    y = w * 2
    z = (y * 3).sum()  # recorded before the detach
    out = y.detach_()
    facts = (out is y, y.requires_grad, y.is_leaf)
    later = (y * w).sum()  # recorded after: the gradient reaches w only through the product
    later.backward()
    z.backward()
    return facts, w.grad.numpy(), y.grad


def test_detach_in_place_matches_torch():
    # the op recorded before the detach still reaches w (6 each); the one after sees y as a
    # constant (its gradient for w is y = 2 w)
    facts, w_grad, y_grad = _detach_earlier_consumer(shenjing.tensor)
    assert facts == (True, False, True) and y_grad is None
    np.testing.assert_array_equal(w_grad, [8.0, 10.0, 12.0])
    th = require_torch()
    t_facts, t_w_grad, t_y_grad = _detach_earlier_consumer(th.tensor)
    assert t_facts == facts and t_y_grad is None
    np.testing.assert_array_equal(w_grad, t_w_grad)


def test_detached_tensor_cannot_backward_and_can_become_a_leaf_again():
    w = Tensor([1.0, 2.0], requires_grad=True)
    y = (w * 2).detach_()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()
    y.requires_grad_(False)  # fine on a leaf, as torch
    y.requires_grad_()
    (y * y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [4.0, 8.0])
    assert w.grad is None
    w.detach_()  # a leaf: it stops requiring grad
    assert not w.requires_grad and w.is_leaf


def test_truncated_backprop_with_detach_in_place_matches_torch(rng):
    # The torch idiom: run a chunk, backward, then h.detach_() so that the next chunk's graph
    # stops at h.
    th = require_torch()
    w0 = rng.standard_normal((3, 3)).astype(np.float32) * 0.5
    xs = rng.standard_normal((4, 2, 3)).astype(np.float32)

    def run(make, tanh):
        w = make(w0.copy(), requires_grad=True)
        h = make(np.zeros((2, 3), np.float32))
        grads = []
        for chunk in (xs[:2], xs[2:]):
            for x in chunk:
                h = tanh(h @ w + make(x))
            (h * h).sum().backward()
            grads.append(w.grad.numpy().copy())
            h.detach_()
        return grads

    ours = run(shenjing.tensor, F.tanh)
    theirs = run(th.tensor, th.tanh)
    for a, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, t, rtol=1e-5, atol=1e-6)


# -- type(dtype) --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_type_casts_as_torch(dtype, rng):
    th = require_torch()
    x = (normal(rng, (3, 4)) * 3).astype(np.float32)
    got = Tensor(x).type(getattr(shenjing, dtype))
    expected = th.tensor(x).type(getattr(th, dtype)).numpy()
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got.numpy(), expected)


@pytest.mark.parametrize("name", ["torch.FloatTensor", "torch.DoubleTensor", "torch.HalfTensor",
                                  "torch.LongTensor", "torch.IntTensor", "torch.BoolTensor",
                                  "torch.ByteTensor"])
def test_type_takes_torch_tensor_type_names(name, rng):
    th = require_torch()
    x = (normal(rng, (3, 4)) * 3).astype(np.float32)
    got = Tensor(x).type(name)
    expected = th.tensor(x).type(name).numpy()
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got.numpy(), expected)


def test_type_refuses_an_unknown_name_saying_what_it_takes():
    with pytest.raises(ValueError, match=r"torch.FloatTensor.*got 'torch.Float'"):
        shenjing.ones(2).type("torch.Float")


def test_type_of_the_same_dtype_is_the_tensor_and_keeps_the_graph():
    x = shenjing.randn(3, requires_grad=True)
    assert x.type(shenjing.float32) is x and x.type() == "float32"
    x.type(shenjing.float64).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(3, np.float32))


def test_max_and_min_with_a_dim_give_values_and_indices_as_torch():
    # `_, predicted = outputs.max(1)` and `output.max(1, keepdim=True)[1]` (torch's examples):
    # the indices, where NumPy's meaning (values only) would silently be a row of values
    th = require_torch()
    x0 = distinct(np.random.default_rng(0), (4, 3)).astype(np.float32)
    x, tx = shenjing.tensor(x0), th.tensor(x0)
    for ours, theirs in ((x.max(1), tx.max(1)), (x.min(dim=0, keepdim=True),
                                                 tx.min(dim=0, keepdim=True)),
                         (x.max(1, True), tx.max(1, True)), (shenjing.max(x, 1), th.max(tx, 1))):
        values, indices = ours
        np.testing.assert_allclose(values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(indices.numpy(), theirs[1].numpy())
        assert ours.indices.dtype == np.int64
    _, predicted = x.max(1)
    np.testing.assert_array_equal(predicted.numpy(), x0.argmax(1))
    # NumPy's meaning stays with axis=, a tuple of axes, or none
    np.testing.assert_allclose(x.max(axis=1).numpy(), x0.max(1))
    np.testing.assert_allclose(x.min((0, 1)).numpy(), x0.min())
    assert x.max().item() == x0.max()


def test_floor_division_remainder_and_mask_operators_as_torch():
    # `(a > 0) & (a < 3)`, `~mask`, `x // 2`, `x % n` in ported code; % differentiable as torch's
    th = require_torch()
    a0 = np.array([1.5, -2.5, 4.0, -0.5], np.float32)
    b0 = np.array([2.0, 3.0, -1.5, 0.75], np.float32)
    i0 = np.array([5, -6, 7, 0])
    results = []
    for lib in (shenjing, th):
        a, b = lib.tensor(a0, requires_grad=True), lib.tensor(b0, requires_grad=True)
        i = lib.tensor(i0)
        r = a % b
        (r * lib.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
        mask = (a > 0) & (b > 0)
        values = [r, a.detach() // b.detach(), 7 % b.detach(), 7 // b.detach(), i // 4, i % 4,
                  -9 % i[:3], mask, ~mask, mask | (a < -1), mask ^ (b > 0), a.grad, b.grad]
        results.append([v.detach().numpy() for v in values])
    for ours, theirs in zip(*results):
        assert ours.dtype == theirs.dtype or ours.dtype.kind == theirs.dtype.kind == "i"
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_remainder_and_fmod_are_exact_as_torch():
    # NumPy's remainder/fmod, not a - floor(a / b) b in float32, which loses a big a's digits;
    # a divisor of inf leaves a finite a (or gives inf, -5 % inf); integers stay integers
    th = require_torch()
    a0 = np.array([1000.7, 50632.2, 1234567.8, 74.0, -5.0, 5.0], np.float32)
    b0 = np.array([0.3, 0.1, 0.3, 0.1, np.inf, np.inf], np.float32)
    i0, j0 = np.array([7, -7, 9], np.int32), np.array([3, 3, -4], np.int32)
    results = []
    for lib in (shenjing, th):
        a, b = lib.tensor(a0, requires_grad=True), lib.tensor(b0, requires_grad=True)
        r, f = a % b, lib.fmod(a, b)
        (r * lib.arange(6.0) + f * lib.arange(6.0, 12.0)).sum().backward()
        i, j = lib.tensor(i0), lib.tensor(j0)
        results.append([r, f, a.grad, b.grad, a % 0.3, a.fmod(0.1), i % j, i.fmod(j),
                        i.fmod(2), lib.remainder(i, j)])
    for ours, theirs in zip(*results, strict=True):
        theirs = theirs.detach().numpy()
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours.detach().numpy(), theirs)


# -- NumPy integers as dims ---------------------------------------------------------------------
# a dim computed with NumPy (np.int64) works wherever a Python int does; torch gets the int
NUMPY_DIM_CALLS = {
    "sum": lambda m, x, d: x.sum(d), "mean": lambda m, x, d: x.mean(dim=d, keepdim=True),
    "max": lambda m, x, d: x.max(d).values, "amin": lambda m, x, d: x.amin(d),
    "var": lambda m, x, d: x.var(d), "logsumexp": lambda m, x, d: x.logsumexp(d),
    "norm": lambda m, x, d: x.norm(dim=(d, 2)), "unsqueeze": lambda m, x, d: x.unsqueeze(d),
    "squeeze": lambda m, x, d: x[:, :1].squeeze(d), "softmax": lambda m, x, d: x.softmax(d),
    "transpose": lambda m, x, d: x.transpose(d, 2), "flatten": lambda m, x, d: x.flatten(d),
    "cumsum": lambda m, x, d: x.cumsum(d), "prod": lambda m, x, d: x.prod(d),
    "sort": lambda m, x, d: x.sort(d).values, "topk": lambda m, x, d: x.topk(2, d).values,
    "cat": lambda m, x, d: m.cat([x, x], d), "stack": lambda m, x, d: m.stack([x, x], d),
    "any": lambda m, x, d: (x > 0).any(d), "unbind": lambda m, x, d: x.unbind(d)[1],
}


@pytest.mark.parametrize("name", NUMPY_DIM_CALLS)
def test_numpy_integer_dims_work_as_ints(name, rng):
    th = require_torch()
    x0 = rng.standard_normal((2, 3, 4)).astype(np.float32)
    call = NUMPY_DIM_CALLS[name]
    ours = call(shenjing, shenjing.tensor(x0), np.int64(1))
    theirs = call(th, th.tensor(x0), 1)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)


def test_a_dim_that_is_no_integer_is_named():
    with pytest.raises(TypeError, match=r"axis/dim must be an int or a sequence of ints, got 1.5"):
        shenjing.ones(2, 3).sum(1.5)


@pytest.mark.parametrize("call", [
    lambda m, x, b: b.any(dim=1), lambda m, x, b: b.all(dim=1, keepdim=True),
    lambda m, x, b: b.any(dim=0, keepdim=False), lambda m, x, b: m.all(b, dim=-1),
    lambda m, x, b: m.any(b, 1, True), lambda m, x, b: x.flatten(start_dim=1),
    lambda m, x, b: x.flatten(start_dim=0, end_dim=1), lambda m, x, b: x.flatten(end_dim=-2),
    lambda m, x, b: m.flatten(x, start_dim=1), lambda m, x, b: m.flatten(x, 1, 2),
])
def test_any_all_and_flatten_take_torch_keywords(call, rng):
    th = require_torch()
    x0 = rng.standard_normal((2, 3, 4)).astype(np.float32)
    ours = call(shenjing, shenjing.tensor(x0), shenjing.tensor(x0 > 0))
    theirs = call(th, th.tensor(x0), th.tensor(x0 > 0))
    assert ours.shape == tuple(theirs.shape) and ours.dtype == theirs.numpy().dtype
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_numpy_reductions_of_a_tensor_still_reach_its_methods():
    # np.all(t) calls t.all(axis=None, out=None): NumPy's keywords pass through
    mask = shenjing.tensor([True, False])
    assert not bool(np.all(mask)) and bool(np.any(mask))
    assert int(np.argmax(shenjing.tensor([1.0, 3.0, 2.0]))) == 1
