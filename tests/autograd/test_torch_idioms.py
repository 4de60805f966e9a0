"""PyTorch autograd idioms from its tutorials and "Autograd mechanics" note: ``grad_fn``,
``retains_grad``, ``register_post_accumulate_grad_hook``, ``set_grad_enabled`` (as a function and
as a context manager), ``inference_mode``, and torch's dtype names at package level."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import shenjing
from oracle import require_torch


def test_grad_fn_and_is_leaf_as_torch():
    th = require_torch()
    for lib in (shenjing, th):
        x = lib.ones(5)
        w = lib.randn(5, 3, requires_grad=True)
        b = lib.randn(3, requires_grad=True)
        z = x @ w + b
        assert w.grad_fn is None and w.is_leaf
        assert z.grad_fn is not None and not z.is_leaf
        assert "AddBackward" in repr(z.grad_fn)
        with lib.no_grad():
            assert (x @ w).grad_fn is None
        assert z.detach().grad_fn is None
        z.detach_()
        assert z.grad_fn is None and z.is_leaf


def test_retains_grad_as_torch(rng):
    th = require_torch()
    x0 = rng.standard_normal(3).astype(np.float32)
    results = []
    for lib in (shenjing, th):
        x = lib.tensor(x0, requires_grad=True)
        y = x * 3
        assert not y.retains_grad and not x.retains_grad
        y.retain_grad()
        assert y.retains_grad and not x.retains_grad
        (y * y).sum().backward()
        results.append(y.grad.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


def test_post_accumulate_grad_hook_as_torch(rng):
    # the optimizer-in-backward idiom: step each parameter as soon as its grad is ready
    th = require_torch()
    w0, x0 = rng.standard_normal((2, 3, 3)).astype(np.float32)
    finals = []
    for lib in (shenjing, th):
        w = lib.tensor(w0, requires_grad=True)
        seen = []

        def step(p, seen=seen, lib=lib):
            seen.append(p.grad.numpy().copy())
            with lib.no_grad():
                p -= 0.1 * p.grad
            p.grad = None

        handle = w.register_post_accumulate_grad_hook(step)
        for _ in range(3):
            ((lib.tensor(x0) @ w).tanh() ** 2).sum().backward()
        handle.remove()
        ((lib.tensor(x0) @ w) ** 2).sum().backward()  # removed: the grad stays
        assert len(seen) == 3 and w.grad is not None
        finals.append(w.detach().numpy())
    np.testing.assert_allclose(finals[0], finals[1], rtol=1e-5)
    with pytest.raises(RuntimeError, match="leaf"):
        (shenjing.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(print)


@pytest.mark.parametrize("is_train", [True, False])
def test_set_grad_enabled_as_context_and_function(is_train):
    th = require_torch()
    for lib in (shenjing, th):
        x = lib.ones(2, requires_grad=True)
        with lib.set_grad_enabled(is_train):
            assert (x * 2).requires_grad is is_train
        assert lib.is_grad_enabled()
        lib.set_grad_enabled(False)
        try:
            assert not (x * 2).requires_grad
        finally:
            lib.set_grad_enabled(True)
        assert (x * 2).requires_grad


def test_inference_mode_as_torch():
    th = require_torch()
    for lib in (shenjing, th):
        x = lib.ones(2, requires_grad=True)
        with lib.inference_mode():
            assert not (x * 2).requires_grad
        with lib.inference_mode(False):
            assert (x * 2).requires_grad

        @lib.inference_mode()
        def predict(t):
            return t * 2

        assert not predict(x).requires_grad
        assert (x * 2).requires_grad


@pytest.mark.parametrize("name", ["float", "float32", "float64", "double", "half", "float16",
                                  "long", "int64", "int", "int32", "int8", "uint8", "bool"])
def test_dtype_names_as_torch(name):
    th = require_torch()
    ours = shenjing.zeros(2, dtype=getattr(shenjing, name))
    theirs = th.zeros(2, dtype=getattr(th, name))
    assert ours.dtype == theirs.numpy().dtype
    assert shenjing.ones(2).to(getattr(shenjing, name)).dtype == ours.dtype


# The decorator spellings torch allows: with and without parentheses for the context managers,
# with the mode for set_grad_enabled (whose call switches the mode at once; as a decorator it
# only applies inside each call) and inference_mode.
DECORATORS = {
    "no_grad": (lambda lib: lib.no_grad, False),
    "no_grad()": (lambda lib: lib.no_grad(), False),
    "enable_grad": (lambda lib: lib.enable_grad, True),
    "enable_grad()": (lambda lib: lib.enable_grad(), True),
    "inference_mode": (lambda lib: lib.inference_mode, False),
    "inference_mode()": (lambda lib: lib.inference_mode(), False),
    "inference_mode(False)": (lambda lib: lib.inference_mode(False), True),
    "set_grad_enabled(False)": (lambda lib: lib.set_grad_enabled(False), False),
    "set_grad_enabled(True)": (lambda lib: lib.set_grad_enabled(True), True),
}


@pytest.mark.parametrize("outside", [True, False], ids=["enabled", "disabled"])
@pytest.mark.parametrize("name", DECORATORS)
def test_grad_mode_decorators_as_torch(name, outside):
    th = require_torch()
    make, inside = DECORATORS[name]
    for lib in (shenjing, th):
        lib.set_grad_enabled(outside)
        try:
            @make(lib)
            def forward(x, lib=lib):
                return x * 2, lib.is_grad_enabled()

            @make(lib)
            def steps(x, lib=lib):  # a generator: the mode holds in its body, not between yields
                for _ in range(2):
                    got = yield lib.is_grad_enabled()
                    assert got == "sent" and lib.is_grad_enabled() is inside

            assert lib.is_grad_enabled() is outside  # decorating changed nothing
            x = lib.ones(2, requires_grad=True)
            y, mode = forward(x)
            assert mode is inside and y.requires_grad is inside
            assert lib.is_grad_enabled() is outside
            gen = steps(x)
            assert next(gen) is inside and lib.is_grad_enabled() is outside
            assert gen.send("sent") is inside and lib.is_grad_enabled() is outside
            with pytest.raises(StopIteration):
                gen.send("sent")
            assert lib.is_grad_enabled() is outside
        finally:
            lib.set_grad_enabled(True)


def test_grad_mode_decorated_generator_takes_throw_and_close():
    seen = []

    @shenjing.no_grad()
    def steps():
        try:
            yield 1
        except KeyError:
            seen.append(shenjing.is_grad_enabled())
            yield 2
        finally:
            seen.append("closed")

    gen = steps()
    assert next(gen) == 1
    assert gen.throw(KeyError("k")) == 2
    gen.close()
    assert seen == [False, "closed"] and shenjing.is_grad_enabled()


def test_cuda_checks_as_torch(monkeypatch):
    # device = "cuda" if torch.cuda.is_available() else "cpu", then x.to(device)
    monkeypatch.setitem(sys.modules, "cupy", None)  # no CuPy: no GPU, whatever the machine
    assert shenjing.cuda.is_available() is False and shenjing.cuda.device_count() == 0
    device = "cuda" if shenjing.cuda.is_available() else "cpu"
    x = shenjing.ones(2, requires_grad=True).to(device)
    assert x.device == "cpu"
    with pytest.raises(RuntimeError, match="no GPU.*CuPy"):
        shenjing.cuda.synchronize()
    with pytest.raises(RuntimeError, match="is_available"):
        shenjing.cuda.current_device()
