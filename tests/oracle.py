"""PyTorch as a test-only oracle, and the input samplers the op tests share.

``assert_same_as_torch`` runs one computation on shenjing and on torch in float32 and compares
the forward values and the gradients of every floating input (tinygrad's ``helper_test_op``).

torch is optional. Without it, the parity tests are skipped, unless the environment sets
``SHENJING_REQUIRE_TORCH=1`` (CI), in which case they fail. torch is imported only under tests/.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

import shenjing

try:  # module-level name for torch lambdas in the tests; they run only after require_torch()
    import torch
except ImportError:
    torch = None

ATOL, RTOL = 1e-5, 1e-4


def require_torch() -> Any:
    """The torch module. A missing torch skips the calling test, or fails it when the
    environment variable SHENJING_REQUIRE_TORCH is 1."""
    if os.environ.get("SHENJING_REQUIRE_TORCH") == "1":
        import torch as required  # an ImportError here fails the test, as CI wants

        return required
    return pytest.importorskip("torch")


def assert_same_as_torch(
    fn: Callable[..., Any],
    inputs: Sequence[np.ndarray],
    torch_fn: Callable[..., Any] | None = None,
    *,
    wrt: Sequence[int] | None = None,
    atol: float = ATOL,
    rtol: float = RTOL,
    seed: int = 0,
) -> None:
    """Check that ``fn`` on shenjing Tensors matches ``torch_fn`` (default: ``fn`` itself) on
    torch tensors, in float32: forward values, and the gradients for a random upstream gradient.

    Args:
        fn: takes one Tensor per input; returns a Tensor or a list/tuple of Tensors.
        inputs: NumPy arrays. Floating ones become float32 leaves; others (labels, masks,
            indices) are passed as integer/boolean tensors without gradients.
        torch_fn: the same computation written for torch, where the spelling differs.
        wrt: indices of the inputs whose gradients are compared (default: every floating one);
            the other floating inputs are constants in both frameworks.
        atol, rtol: tolerances for values and gradients.
        seed: seeds the upstream gradient.
    """
    th = require_torch()
    torch_fn = fn if torch_fn is None else torch_fn
    arrays = [np.asarray(a) for a in inputs]
    floating = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    wrt = floating if wrt is None else list(wrt)
    arrays = [a.astype(np.float32) if i in floating else a for i, a in enumerate(arrays)]

    ours = [shenjing.Tensor(a.copy(), requires_grad=i in wrt) for i, a in enumerate(arrays)]
    theirs = [th.tensor(a.copy(), requires_grad=i in wrt) for i, a in enumerate(arrays)]
    outs = _as_list(fn(*ours))
    touts = _as_list(torch_fn(*theirs))
    assert len(outs) == len(touts), f"{len(outs)} outputs, torch gives {len(touts)}"

    rng = np.random.default_rng(seed)
    upstream = []
    for k, (o, t) in enumerate(zip(outs, touts, strict=True)):
        assert o.dtype == np.float32, f"output {k} is {o.dtype}, expected float32"
        expected = t.detach().numpy()
        assert o.shape == expected.shape, f"output {k}: shape {o.shape}, torch {expected.shape}"
        np.testing.assert_allclose(o.numpy(), expected, atol=atol, rtol=rtol,
                                   err_msg=f"forward value of output {k}")
        upstream.append(rng.standard_normal(o.shape).astype(np.float32))

    for o, u in zip(outs, upstream, strict=True):
        if o.requires_grad:
            o.backward(u, retain_graph=True)
    pairs = [(t, u) for t, u in zip(touts, upstream, strict=True) if t.requires_grad]
    if pairs:
        th.autograd.backward([t for t, _ in pairs], [th.from_numpy(u) for _, u in pairs])

    for i in wrt:
        g = ours[i].grad
        tg = theirs[i].grad
        assert g is None or g.dtype == np.float32, f"grad of input {i} is {g.dtype}"
        ours_g = np.zeros(arrays[i].shape, np.float32) if g is None else g.numpy()
        torch_g = np.zeros(arrays[i].shape, np.float32) if tg is None else tg.numpy()
        assert ours_g.shape == arrays[i].shape, f"grad of input {i} has shape {ours_g.shape}"
        np.testing.assert_allclose(ours_g, torch_g, atol=atol, rtol=rtol,
                                   err_msg=f"gradient of input {i}")


def _as_list(out: Any) -> list[Any]:
    return list(out) if isinstance(out, (list, tuple)) else [out]


# -- input samplers: (rng, shape) -> float64 array ------------------------------------------------
# Gradchecks compare with central differences of step 1e-6, so inputs stay away from kinks
# (0 for relu/abs, ties for max/maximum, the bounds of clip) and from the edges of the domain.


def normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape)


def positive(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """In [0.5, 2]: inside the domain of log, sqrt and a real power."""
    return rng.uniform(0.5, 2.0, shape)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """|x| in [0.1, 2] with a random sign."""
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 2.0, shape)


def distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Shuffled values near 0.4 k + 0.2 (k an integer) with jitter of at most 0.1: any two are
    at least 0.2 apart, and each is at least 0.1 from 0 and from every 0.4 k. Safe for ties
    (max, maximum), the kink at 0, and clip bounds at multiples of 0.4."""
    n = int(np.prod(shape))
    grid = (np.arange(n) - n // 2) * 0.4 + 0.2
    return rng.permutation(grid + rng.uniform(-0.1, 0.1, n)).reshape(shape)
