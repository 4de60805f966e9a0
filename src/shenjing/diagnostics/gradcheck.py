"""``gradcheck``: compare autograd's gradients with central finite differences;
``gradgradcheck``: the same for second derivatives (double backward).

For a function f of tensors, autograd gives the vector-Jacobian product u^T J for a random
upstream gradient u. Finite differences give, per input element i, (L(x + eps e_i) -
L(x - eps e_i)) / 2 eps with L(x) = <u, f(x)>. Both are computed in float64. For large inputs,
checking every element is slow, so (as Chainer does) we compare one directional derivative along
a random direction d instead: <grad, d> against (L(x + eps d) - L(x - eps d)) / 2 eps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import Tensor, no_grad


class GradcheckError(AssertionError):
    """Raised when analytic and numerical gradients disagree."""


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    max_elements: int = 2048,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check ``fn``'s gradients with respect to every floating input against finite differences.

    Args:
        fn: takes Tensors (in the order given) and returns a Tensor.
        inputs: arrays or Tensors (or one tuple of them, as PyTorch's gradcheck takes);
            floating ones are checked (they are copied to float64), others (labels, indices)
            are passed as they are.
        eps: the finite-difference step.
        atol, rtol: tolerances, as in ``numpy.allclose``.
        max_elements: inputs with more elements are checked along one random direction.
        seed: seeds the random upstream gradient and directions.
        raise_exception: False to return False on a mismatch instead of raising (torch's).

    Returns:
        True; raises :class:`GradcheckError` naming the input and the worst element otherwise
        (or returns False, with ``raise_exception=False``).

    >>> gradcheck(lambda x: (x * x).sum(), np.array([1.0, 2.0]))
    True
    """
    try:
        return _gradcheck(fn, inputs, eps, atol, rtol, max_elements, seed)
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _gradcheck(fn: Callable[..., Tensor], inputs: tuple[Any, ...], eps: float, atol: float,
               rtol: float, max_elements: int, seed: int) -> bool:
    rng = np.random.default_rng(seed)
    if len(inputs) == 1 and isinstance(inputs[0], tuple) and all(
            isinstance(a, (Tensor, np.ndarray)) for a in inputs[0]):
        inputs = inputs[0]  # PyTorch's spelling, gradcheck(fn, (a, b))
    args = []
    for x in inputs:
        data = x.data if isinstance(x, Tensor) else np.asarray(x)
        if data.dtype.kind == "f":
            args.append(Tensor(np.array(data, dtype=np.float64), dtype=np.float64,
                               requires_grad=True))
        else:
            args.append(x if isinstance(x, Tensor) else Tensor(data))
    out = fn(*args)
    u = rng.standard_normal(out.shape)

    def objective() -> float:
        with no_grad():
            return float(np.sum(u * np.asarray(fn(*args).data, dtype=np.float64)))

    if out.requires_grad:  # else nothing depends on the inputs: the gradients are zeros
        out.backward(u)
    for k, t in enumerate(args):
        if not t.requires_grad:
            continue
        analytic = np.zeros(t.shape) if t.grad is None else np.asarray(t.grad.data)
        x = t.data
        if x.size <= max_elements:
            numeric = np.zeros(x.shape)
            for i in np.ndindex(x.shape):
                old = x[i]
                x[i] = old + eps
                hi = objective()
                x[i] = old - eps
                lo = objective()
                x[i] = old
                numeric[i] = (hi - lo) / (2 * eps)
            if not np.allclose(analytic, numeric, atol=atol, rtol=rtol):
                err = np.abs(analytic - numeric)
                worst = np.unravel_index(np.argmax(err), x.shape) if x.ndim else ()
                raise GradcheckError(
                    f"input {k}: gradient mismatch at index {worst}: autograd "
                    f"{analytic[worst]:.8g}, finite differences {numeric[worst]:.8g} "
                    f"(max abs error {err.max():.3g})")
        else:
            d = rng.standard_normal(x.shape)
            x0 = x.copy()
            x[...] = x0 + eps * d
            hi = objective()
            x[...] = x0 - eps * d
            lo = objective()
            x[...] = x0
            numeric = (hi - lo) / (2 * eps)
            directional = float(np.sum(analytic * d))
            if not np.isclose(directional, numeric, atol=atol, rtol=rtol):
                raise GradcheckError(
                    f"input {k}: directional derivative mismatch: autograd {directional:.8g}, "
                    f"finite differences {numeric:.8g}")
    return True


def gradgradcheck(fn: Callable[..., Tensor], *inputs: Any, seed: int = 0, **options: Any) -> bool:
    """Check ``fn``'s second derivatives against finite differences (PyTorch's
    ``gradgradcheck``): :func:`gradcheck` of the function that returns ``fn``'s gradients for a
    fixed random upstream gradient, computed with ``create_graph=True``. The same arguments
    (``eps``, ``atol``, ``rtol``, ``max_elements``, ``seed``).

    >>> gradgradcheck(lambda x: (x ** 3).sum(), np.array([1.0, 2.0]))
    True
    """
    from ..autograd import enable_grad, grad
    from ..functional import concatenate

    rng = np.random.default_rng(seed + 1)
    upstream: dict[tuple[int, ...], Tensor] = {}

    def gradients(*args: Tensor) -> Tensor:
        wrt = [a for a in args if a.requires_grad]
        with enable_grad():
            out = fn(*args)
            if out.shape not in upstream:
                upstream[out.shape] = Tensor(rng.standard_normal(out.shape), dtype=np.float64)
            grads = grad(out, wrt, upstream[out.shape], create_graph=True,
                         materialize_grads=True)
            return concatenate([g.reshape(-1) for g in grads])

    return gradcheck(gradients, *inputs, seed=seed, **options)
