"""PyTorch's ``torch.autograd.functional``, first order: ``vjp`` and ``jacobian`` of a function
of Tensors, computed by reverse mode (one backward per output element for the Jacobian, as
torch's default ``vectorize=False``). ``jvp``, ``hvp``, ``vhp`` and ``hessian`` need
gradients of gradients (``create_graph=True``), which shenjing's backward does not record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .grad_mode import enable_grad
from .gradients import _NO_CREATE_GRAPH, grad
from .tensor import Tensor


def _as_tuple(x: Any) -> tuple[bool, tuple[Any, ...]]:
    return (True, tuple(x)) if isinstance(x, (tuple, list)) else (False, (x,))


def _leaves(inputs: Any) -> tuple[bool, tuple[Tensor, ...]]:
    """Fresh leaves over the inputs' data (torch's ``inp.detach().requires_grad_()``)."""
    is_tuple, ins = _as_tuple(inputs)
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor):
            raise TypeError(f"input {i} is a {type(t).__name__}; pass Tensors")
    return is_tuple, tuple(t.detach().requires_grad_() for t in ins)


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), v^T J)``: the outputs (detached) and the vector-Jacobian product, shaped
    as ``inputs`` (a Tensor or a tuple of them). ``v`` may be left out for a one-element output.

    >>> out, (gx,) = vjp(lambda x: (x ** 2).sum(), (shenjing.tensor([1.0, 2.0]),))   # gx = 2x
    """
    if create_graph:
        raise NotImplementedError(_NO_CREATE_GRAPH)
    is_tuple, ins = _leaves(inputs)
    with enable_grad():
        out_is_tuple, outs = _as_tuple(func(*ins))
    vs = _as_tuple(v)[1] if v is not None else (None,) * len(outs)
    used = [(o, g) for o, g in zip(outs, vs) if o.requires_grad]
    grads = grad([o for o, _ in used], ins, [g for _, g in used],
                 allow_unused=True) if used else (None,) * len(ins)
    result = _zeros_for_unused(grads, ins, strict)
    detached = tuple(o.detach() for o in outs)
    return (detached if out_is_tuple else detached[0]), (result if is_tuple else result[0])


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Any:
    """d func(*inputs) / d inputs: for one output and one input, a Tensor of shape
    ``output.shape + input.shape``; a tuple over the inputs (if ``inputs`` is a tuple), inside
    a tuple over the outputs (if ``func`` returns one), as torch's.

    >>> jacobian(lambda x: x.exp(), shenjing.tensor([0.0, 1.0]))   # diag(exp(x))
    """
    if create_graph:
        raise NotImplementedError(_NO_CREATE_GRAPH)
    if strategy != "reverse-mode":
        raise NotImplementedError("jacobian: only strategy='reverse-mode' (no forward mode)")
    is_tuple, ins = _leaves(inputs)
    with enable_grad():
        out_is_tuple, outs = _as_tuple(func(*ins))
    rows = []
    for out in outs:
        blocks = [out.xp.zeros((out.size,) + t.shape, t.dtype) for t in ins]
        for k in range(out.size if out.requires_grad else 0):
            seed = out.xp.zeros(out.size, out.dtype)
            seed[k] = 1
            grads = grad(out, ins, seed.reshape(out.shape), retain_graph=True, allow_unused=True)
            for block, g in zip(blocks, grads):
                if g is not None:
                    block[k] = g.data
        if strict and not out.requires_grad:
            raise RuntimeError("jacobian(strict=True): an output does not depend on the inputs")
        row = tuple(Tensor._wrap(b.reshape(out.shape + t.shape)) for b, t in zip(blocks, ins))
        rows.append(row if is_tuple else row[0])
    return tuple(rows) if out_is_tuple else rows[0]


def _zeros_for_unused(grads: Any, ins: tuple[Tensor, ...], strict: bool) -> tuple[Tensor, ...]:
    if strict and any(g is None for g in grads):
        raise RuntimeError("vjp(strict=True): an input is not used to compute the outputs")
    return tuple(Tensor._wrap(t.xp.zeros_like(t.data)) if g is None else g
                 for g, t in zip(grads, ins))


def _needs_higher_order(name: str) -> Callable[..., Any]:
    def unsupported(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"autograd.functional.{name}: {_NO_CREATE_GRAPH}")

    unsupported.__name__ = name
    return unsupported


jvp, hvp, vhp, hessian = (_needs_higher_order(n) for n in ("jvp", "hvp", "vhp", "hessian"))
