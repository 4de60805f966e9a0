"""PyTorch's tensor factories at package level: zeros, ones, full, the *_like forms, arange,
linspace, eye, and the seeded random ones (rand, randn, randint)."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from oracle import require_torch, torch
from shenjing import Tensor, factories
from shenjing.functional import device

# name: (the call on shenjing, the call on torch); None: the same lambda runs on both.
# Values, shapes and dtypes must agree (float32 by default, int64 for integer arguments).
CALLS = {
    "zeros": (lambda m: m.zeros(2, 3), None),
    "zeros_tuple": (lambda m: m.zeros((2, 3)), None),
    "zeros_list": (lambda m: m.zeros([4]), None),
    "zeros_0d": (lambda m: m.zeros(()), None),
    "zeros_empty": (lambda m: m.zeros(0, 3), None),
    "ones": (lambda m: m.ones(4), None),
    "ones_float64": (lambda m: m.ones(2, 3, dtype=np.float64),
                     lambda m: m.ones(2, 3, dtype=m.float64)),
    "ones_int": (lambda m: m.ones(3, dtype=np.int64), lambda m: m.ones(3, dtype=m.int64)),
    "full_float": (lambda m: m.full((2, 3), 1.5), None),
    "full_int": (lambda m: m.full((2,), 7), None),
    "full_bool": (lambda m: m.full((2, 2), True), None),
    "full_dtype": (lambda m: m.full((3,), 2.9, dtype=np.int64),
                   lambda m: m.full((3,), 2.9, dtype=m.int64)),
    "zeros_like": (lambda m: m.zeros_like(m.ones(2, 3, dtype=m_float64(m))), None),
    "ones_like_int": (lambda m: m.ones_like(m.arange(5)), None),
    "ones_like_dtype": (lambda m: m.ones_like(m.arange(5), dtype=np.float32),
                        lambda m: m.ones_like(m.arange(5), dtype=m.float32)),
    "full_like": (lambda m: m.full_like(m.zeros(2, 2), -0.5), None),
    "arange": (lambda m: m.arange(5), None),
    "arange_start_step": (lambda m: m.arange(1, 10, 3), None),
    "arange_negative_step": (lambda m: m.arange(5, -5, -2), None),
    "arange_float": (lambda m: m.arange(0, 1, 0.1), None),
    "arange_float_down": (lambda m: m.arange(-1.0, -3.0, -0.25), None),
    "arange_dtype": (lambda m: m.arange(6, dtype=np.float32),
                     lambda m: m.arange(6, dtype=m.float32)),
    "arange_empty": (lambda m: m.arange(3, 3), None),
    "linspace": (lambda m: m.linspace(0, 1, 7), None),
    "linspace_down": (lambda m: m.linspace(3, -2.5, 12), None),
    "linspace_one": (lambda m: m.linspace(-2, 3, 1), None),
    "linspace_none": (lambda m: m.linspace(0, 1, 0), None),
    "eye": (lambda m: m.eye(3), None),
    "eye_rect": (lambda m: m.eye(2, 4), None),
    "eye_int": (lambda m: m.eye(3, dtype=np.int64), lambda m: m.eye(3, dtype=m.int64)),
}


def m_float64(m):
    return np.float64 if m is shenjing else m.float64


@pytest.mark.parametrize("name", CALLS)
def test_factory_matches_torch(name):
    th = require_torch()
    ours, theirs = CALLS[name]
    got = ours(shenjing)
    expected = (theirs or ours)(th).numpy()
    assert isinstance(got, Tensor) and not got.requires_grad
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.zeros(2, 3, requires_grad=True),
        lambda m: m.ones((2, 3), requires_grad=True),
        lambda m: m.full((2, 3), 0.5, requires_grad=True),
        lambda m: m.ones_like(m.zeros(2, 3), requires_grad=True),
        lambda m: m.arange(0.0, 6.0, requires_grad=True),
        lambda m: m.linspace(-1, 1, 6, requires_grad=True),
        lambda m: m.eye(2, 3, requires_grad=True),
        lambda m: m.rand(2, 3, requires_grad=True),
        lambda m: m.randn(2, 3, requires_grad=True),
    ],
    ids=["zeros", "ones", "full", "ones_like", "arange", "linspace", "eye", "rand", "randn"],
)
def test_factory_with_requires_grad_makes_a_leaf_that_gradients_reach(make):
    th = require_torch()
    ours = make(shenjing)
    assert ours.requires_grad and ours.is_leaf and ours.dtype == np.float32
    (ours * ours * 3.0).sum().backward()
    theirs = th.from_numpy(ours.detach().numpy().copy()).requires_grad_()
    (theirs * theirs * 3.0).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6)


def test_like_factories_keep_dtype_not_requires_grad():
    w = Tensor(np.ones((2, 3)), dtype=np.float64, requires_grad=True)
    for made in (shenjing.zeros_like(w), shenjing.ones_like(w), shenjing.full_like(w, 2)):
        assert made.dtype == np.float64 and not made.requires_grad and made.data is not w.data
    assert shenjing.zeros_like(np.ones(3, np.int32)).dtype == np.int32  # arrays too


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda: shenjing.zeros(2, dtype=np.int64, requires_grad=True),
         lambda: torch.zeros(2, dtype=torch.int64, requires_grad=True)),
        (lambda: shenjing.full((2,), 3, requires_grad=True),
         lambda: torch.full((2,), 3, requires_grad=True)),
        (lambda: shenjing.arange(4, requires_grad=True),
         lambda: torch.arange(4, requires_grad=True)),
        (lambda: shenjing.randint(5, (2,), requires_grad=True),
         lambda: torch.randint(5, (2,), requires_grad=True)),
    ],
    ids=["zeros_int", "full_int", "arange_int", "randint"],
)
def test_integer_factory_refuses_requires_grad_as_torch(ours, theirs):
    with pytest.raises(TypeError, match="only floating tensors can require gradients"):
        ours()
    require_torch()
    with pytest.raises(RuntimeError, match="floating point"):
        theirs()


# -- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: shenjing.zeros(-1, 2), ValueError, "non-negative"),
        (lambda: shenjing.ones(2.5), TypeError, "integers"),
        (lambda: shenjing.rand((2, "3")), TypeError, "integers"),
        (lambda: shenjing.full(2.0, 1), TypeError, "integers"),
        (lambda: shenjing.eye(-1), ValueError, "non-negative"),
        (lambda: shenjing.arange(0, 5, 0), ValueError, "step must be nonzero"),
        (lambda: shenjing.arange(5, 0), ValueError, "step 1 does not lead from 5 to 0"),
        (lambda: shenjing.arange(0, 1, -0.1), ValueError, "does not lead"),
        (lambda: shenjing.linspace(0, 1, -1), ValueError, "non-negative"),
        (lambda: shenjing.rand(2, dtype=np.int64), TypeError, "floating dtype.*randint"),
        (lambda: shenjing.randn(2, dtype=bool), TypeError, "floating dtype"),
        (lambda: shenjing.randint(5, 2, (3,)), ValueError, "less than high"),
        (lambda: shenjing.randint(5), TypeError, "needs a size"),
        (lambda: shenjing.zeros(2, device="tpu"), ValueError, "unknown device 'tpu'"),
    ],
)
def test_factory_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- random factories -----------------------------------------------------------------------------
RANDOM = {
    "rand": lambda: shenjing.rand(3, 4),
    "randn": lambda: shenjing.randn((3, 4)),
    "randint": lambda: shenjing.randint(-3, 3, (3, 4)),
    "normal": lambda: shenjing.normal(0, 1, (3, 4)),
}


@pytest.mark.parametrize("name", RANDOM)
def test_random_factory_is_reproducible_with_set_random_seed(name):
    shenjing.utils.set_random_seed(7)
    first, second = RANDOM[name](), RANDOM[name]()
    shenjing.utils.set_random_seed(7)
    again = RANDOM[name]()
    shenjing.utils.set_random_seed(8)
    other = RANDOM[name]()
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert (first.numpy() != second.numpy()).any()  # the stream moves on
    assert (first.numpy() != other.numpy()).any()
    assert first.shape == (3, 4)
    assert first.dtype == (np.int64 if name == "randint" else np.float32)


def test_random_factories_draw_the_right_distributions():
    u = shenjing.rand(20000).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.01
    n = shenjing.randn(200, 100).numpy()
    assert abs(n.mean()) < 0.02 and abs(n.std() - 1.0) < 0.02
    k = shenjing.randint(3, 7, (20000,)).numpy()
    assert set(np.unique(k)) == {3, 4, 5, 6}
    assert shenjing.randn(3, dtype=np.float64).dtype == np.float64
    assert shenjing.rand(3, dtype=np.float16).dtype == np.float16


def test_randint_argument_orders_as_torch():
    th = require_torch()
    for call in (lambda m: m.randint(10, (3, 2)), lambda m: m.randint(2, 10, (5,)),
                 lambda m: m.randint(10, size=(4,)), lambda m: m.randint(high=3, size=[2])):
        got, expected = call(shenjing), call(th)
        assert got.shape == tuple(expected.shape) and got.dtype == expected.numpy().dtype
    assert shenjing.randint(4, (2,), dtype=np.int32).dtype == np.int32


def test_normal_argument_forms_as_torch():
    th = require_torch()
    calls = (lambda m: m.normal(0, 1, (3, 2)), lambda m: m.normal(0, 0.01, size=(4,)),
             lambda m: m.normal(m.zeros(3, 2), m.ones(3, 2)), lambda m: m.normal(m.zeros(5), 2.0),
             lambda m: m.normal(2.0, 0.01, size=(2, 1), requires_grad=True))
    for call in calls:
        got, expected = call(shenjing), call(th)
        assert got.shape == tuple(expected.shape) and got.dtype == expected.detach().numpy().dtype
        assert got.requires_grad == expected.requires_grad
    n = shenjing.normal(3.0, 0.5, (200, 100)).numpy()
    assert abs(n.mean() - 3.0) < 0.01 and abs(n.std() - 0.5) < 0.01
    m = shenjing.normal(shenjing.tensor([-100.0, 100.0]), shenjing.tensor([0.0, 1.0])).numpy()
    assert m[0] == -100.0 and abs(m[1] - 100.0) < 5
    assert shenjing.normal(shenjing.zeros(2, dtype=np.float64), 1.0).dtype == np.float64
    with pytest.raises(ValueError, match="std must be non-negative"):
        shenjing.normal(0.0, -1.0, (2,))


def test_normal_lands_on_the_gpu_of_its_tensor_arguments(monkeypatch):
    # no CuPy here: stand-ins say ``mean``'s array lives on GPU 1 and record the move the
    # result makes (tests/test_cupy.py checks it on a real GPU)
    mean = shenjing.zeros(3)
    monkeypatch.setattr(device, "_gpu_of", lambda a: 1 if a is mean.data else None)
    moves = []
    monkeypatch.setattr(factories, "array_on", lambda a, device: moves.append(device) or a)
    shenjing.normal(mean, 1.0)
    shenjing.normal(0.0, mean)
    shenjing.normal(shenjing.zeros(3), shenjing.ones(3))  # host tensors: stays on the host
    shenjing.normal(mean, 1.0, device="cpu")  # device= wins
    assert moves == ["cuda:1", "cuda:1", "cpu"]


def test_random_factories_take_a_generator():
    a = shenjing.randn(5, generator=np.random.default_rng(3))
    b = np.random.default_rng(3).standard_normal(5, dtype=np.float32)
    np.testing.assert_array_equal(a.numpy(), b)
    c = shenjing.randint(0, 100, (5,), generator=np.random.default_rng(3))
    np.testing.assert_array_equal(c.numpy(), np.random.default_rng(3).integers(0, 100, 5))


def test_factories_on_the_cpu_device():
    for t in (shenjing.zeros(2, device="cpu"), shenjing.randn(2, device="cpu"),
              shenjing.ones_like(shenjing.ones(2), device="cpu")):
        assert t.device == "cpu"


@pytest.mark.parametrize("name", ["zeros", "ones", "rand", "randn"])
def test_sizes_as_torch_size_keyword(name):
    # d2l writes torch.randn(size=shape)
    shenjing.utils.set_random_seed(3)
    by_keyword = getattr(shenjing, name)(size=(2, 3))
    shenjing.utils.set_random_seed(3)
    np.testing.assert_array_equal(by_keyword.numpy(), getattr(shenjing, name)(2, 3).numpy())
    th = require_torch()
    assert tuple(getattr(th, name)(size=(2, 3)).shape) == by_keyword.shape == (2, 3)
    with pytest.raises(TypeError, match="sizes given twice"):
        getattr(shenjing, name)(2, size=(2, 3))


def test_generator_as_torch_seeds_and_replays():
    # makemore's g = torch.Generator().manual_seed(2147483647), passed as generator=
    th = require_torch()
    g = shenjing.Generator()
    assert g.manual_seed(2147483647) is g and isinstance(g, np.random.Generator)
    for seed in (2147483647, -1, -5, 0):
        assert (shenjing.Generator().manual_seed(seed).initial_seed()
                == th.Generator().manual_seed(seed).initial_seed())
    assert shenjing.Generator().initial_seed() == th.Generator().initial_seed()

    def draws(gen):
        return [shenjing.randn((3, 2), generator=gen).numpy(),
                shenjing.rand(4, generator=gen).numpy(),
                shenjing.randint(0, 9, (5,), generator=gen).numpy(),
                shenjing.multinomial(shenjing.ones(6), 3, generator=gen).numpy()]

    first = draws(shenjing.Generator().manual_seed(7))
    for a, b in zip(first, draws(shenjing.Generator().manual_seed(7))):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], draws(shenjing.Generator().manual_seed(8))[0])
    g = shenjing.Generator().manual_seed(3)
    state = g.get_state()
    once = shenjing.randn(4, generator=g).numpy()
    np.testing.assert_array_equal(once, shenjing.randn(4, generator=g.set_state(state)).numpy())
    seed = g.seed()
    assert g.initial_seed() == seed and 0 <= seed < 2**64
    with pytest.raises(ValueError, match="seed must be in"):
        g.manual_seed(2**64)


def test_multinomial_shapes_and_dtype_as_torch():
    th = require_torch()
    for p, n, replacement in (([0.1, 0.5, 0.4], 1, True), ([0.1, 0.5, 0.4], 2, False),
                              ([[1.0, 2.0], [3.0, 0.0]], 5, True), ([[1.0, 2.0, 3.0]], 3, False)):
        got = shenjing.multinomial(shenjing.tensor(p), n, replacement=replacement)
        expected = th.multinomial(th.tensor(p), n, replacement=replacement)
        assert got.shape == tuple(expected.shape) and got.dtype == np.int64


def test_multinomial_draws_its_distribution():
    g = shenjing.Generator().manual_seed(2147483647)
    p = np.array([0.0, 0.1, 0.6, 0.0, 0.3])
    draws = shenjing.multinomial(shenjing.tensor(p * 7), 20000, replacement=True,
                                 generator=g).numpy()
    np.testing.assert_allclose(np.bincount(draws, minlength=5) / 20000, p, atol=0.015)
    rows = shenjing.multinomial(shenjing.tensor([[0.0, 1.0, 1.0], [5.0, 0.0, 0.0]]), 2,
                                generator=g).numpy()
    assert set(rows[0]) == {1, 2} and rows[1, 0] == 0  # no repeats; weight 0 only when forced
    firsts = [shenjing.multinomial(shenjing.tensor([1.0, 3.0]), 2, generator=g).numpy()[0]
              for _ in range(2000)]
    assert abs(np.mean(firsts) - 0.75) < 0.04  # the first draw without replacement follows p
    # makemore's sampling loop: one index from each row of probabilities, .item() an int
    assert isinstance(shenjing.multinomial(shenjing.tensor([0.2, 0.8]), num_samples=1,
                                           replacement=True, generator=g).item(), int)


@pytest.mark.parametrize("call, message", [
    (lambda: shenjing.multinomial(shenjing.tensor([1.0, -1.0]), 1), "element < 0"),
    (lambda: shenjing.multinomial(shenjing.tensor([1.0, np.nan]), 1), "nan"),
    (lambda: shenjing.multinomial(shenjing.zeros(3), 1), "sum of probabilities"),
    (lambda: shenjing.multinomial(shenjing.ones(3), 4), "without replacement"),
    (lambda: shenjing.multinomial(shenjing.ones(3), 0), "positive"),
    (lambda: shenjing.multinomial(shenjing.ones(1, 1, 3), 1), "1-D or 2-D"),
    (lambda: shenjing.multinomial(shenjing.tensor([1, 2]), 1), "floating-point"),
])
def test_multinomial_refuses_what_torch_refuses(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()
