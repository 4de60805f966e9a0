"""PyTorch's ``torch.autograd.functional``: ``vjp``, ``jacobian``, and, through double backward
(``create_graph=True``), ``hessian``, ``hvp``, ``vhp`` and ``jvp``, for a function of Tensors.
All are reverse mode: the Jacobian takes one backward per output element (torch's default
``vectorize=False``), ``jvp`` the double-vjp trick (a vjp is linear in its seed ``u``, so
differentiating ``<vjp(u), v>`` with respect to ``u`` gives ``J v``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .grad_mode import enable_grad
from .gradients import grad
from .tensor import Tensor


def _as_tuple(x: Any) -> tuple[bool, tuple[Any, ...]]:
    return (True, tuple(x)) if isinstance(x, (tuple, list)) else (False, (x,))


def _leaves(inputs: Any, create_graph: bool) -> tuple[bool, tuple[Tensor, ...]]:
    """The inputs as tensors to differentiate by: fresh leaves over their data (torch's
    ``inp.detach().requires_grad_()``), or, with ``create_graph``, copies in the graph of the
    inputs that require grad, so the results can be differentiated with respect to them."""
    is_tuple, ins = _as_tuple(inputs)
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor):
            raise TypeError(f"input {i} is a {type(t).__name__}; pass Tensors")
    return is_tuple, tuple(t.clone() if create_graph and t.requires_grad else
                           t.detach().requires_grad_() for t in ins)


def _single(out: Any, name: str) -> Tensor:
    if not isinstance(out, Tensor) or out.size != 1:
        raise RuntimeError(f"{name}: the function must return a single-element Tensor, got "
                           f"{getattr(out, 'shape', type(out).__name__)}")
    return out


def _gradients(outs: tuple[Tensor, ...], ins: tuple[Tensor, ...], seeds: Any,
               create_graph: bool, strict: bool, name: str,
               retain_graph: bool | None = None) -> tuple[Tensor, ...]:
    """``sum_k seeds[k]^T d outs[k] / d ins``, one Tensor per input (zeros where unused)."""
    used = [(o, g) for o, g in zip(outs, seeds) if o.requires_grad]
    grads = grad([o for o, _ in used], ins, [g for _, g in used], retain_graph,
                 create_graph, allow_unused=True) if used else (None,) * len(ins)
    if strict and any(g is None for g in grads):
        raise RuntimeError(f"{name}(strict=True): an input is not used to compute the outputs")
    return tuple(Tensor._wrap(t.xp.zeros_like(t.data)) if g is None else g
                 for g, t in zip(grads, ins))


def _outputs(outs: tuple[Tensor, ...], is_tuple: bool, create_graph: bool) -> Any:
    kept = outs if create_graph else tuple(o.detach() for o in outs)
    return kept if is_tuple else kept[0]


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), v^T J)``: the outputs and the vector-Jacobian product, shaped as
    ``inputs`` (a Tensor or a tuple of them). ``v`` may be left out for a one-element output.

    >>> out, (gx,) = vjp(lambda x: (x ** 2).sum(), (shenjing.tensor([1.0, 2.0]),))   # gx = 2x
    """
    is_tuple, ins = _leaves(inputs, create_graph)
    with enable_grad():
        out_is_tuple, outs = _as_tuple(func(*ins))
        vs = _as_tuple(v)[1] if v is not None else (None,) * len(outs)
        result = _gradients(outs, ins, vs, create_graph, strict, "vjp")
    return _outputs(outs, out_is_tuple, create_graph), (result if is_tuple else result[0])


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Any:
    """d func(*inputs) / d inputs: for one output and one input, a Tensor of shape
    ``output.shape + input.shape``; a tuple over the inputs (if ``inputs`` is a tuple), inside
    a tuple over the outputs (if ``func`` returns one), as torch's. With ``create_graph`` the
    Jacobian is itself differentiable.

    >>> jacobian(lambda x: x.exp(), shenjing.tensor([0.0, 1.0]))   # diag(exp(x))
    """
    if strategy != "reverse-mode":
        raise NotImplementedError("jacobian: only strategy='reverse-mode' (no forward mode)")
    is_tuple, ins = _leaves(inputs, create_graph)
    rows = []
    with enable_grad():
        out_is_tuple, outs = _as_tuple(func(*ins))
        for out in outs:
            if strict and not out.requires_grad:
                raise RuntimeError("jacobian(strict=True): an output does not depend on the "
                                   "inputs")
            # one row per output element (item assignment: recorded when create_graph)
            blocks = [Tensor._wrap(t.xp.zeros((out.size,) + t.shape, t.dtype)) for t in ins]
            for k in range(out.size):
                seed = out.xp.zeros(out.size, out.dtype)
                seed[k] = 1
                grads = _gradients((out,), ins, (seed.reshape(out.shape),), create_graph,
                                   strict, "jacobian", retain_graph=True)
                for block, g in zip(blocks, grads):
                    block[k] = g
            row = tuple(b.reshape(out.shape + t.shape) for b, t in zip(blocks, ins))
            rows.append(row if is_tuple else row[0])
    return tuple(rows) if out_is_tuple else rows[0]


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The second derivatives of a function returning one element: for one input a Tensor of
    shape ``input.shape + input.shape``; for a tuple of inputs, ``H[i][j]`` (a tuple of
    tuples) of shape ``inputs[i].shape + inputs[j].shape``, as torch's.

    >>> hessian(lambda x: (x ** 3).sum(), shenjing.tensor([1.0, 2.0]))   # diag(6x)
    """
    is_tuple, ins = _as_tuple(inputs)

    def gradients(*xs: Tensor) -> Any:
        out = _single(func(*xs), "hessian")
        g = _gradients((out,), xs, (None,), True, strict, "hessian")
        return g if is_tuple else g[0]

    return jacobian(gradients, ins if is_tuple else ins[0], create_graph, strict,
                    strategy=outer_jacobian_strategy)


def vhp(func: Callable[..., Any], inputs: Any, v: Any, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), v^T H)`` for a function returning one element, without forming H:
    two backward passes (the gradient, recorded, then the gradient of ``<gradient, v>``).

    >>> out, hv = vhp(lambda x: (x ** 3).sum(), x, v)   # 6 x v
    """
    is_tuple, ins = _leaves(inputs, create_graph)
    vs = _as_tuple(v)[1]
    if len(vs) != len(ins):
        raise ValueError(f"vhp: {len(vs)} vectors v for {len(ins)} inputs")
    with enable_grad():
        out = _single(func(*ins), "vhp")
        grads = _gradients((out,), ins, (None,), True, strict, "vhp")
        dot = _dot(grads, vs)
        result = (_gradients((dot,), ins, (None,), create_graph, strict, "vhp") if dot is not None
                  else tuple(Tensor._wrap(t.xp.zeros_like(t.data)) for t in ins))
    return _outputs((out,), False, create_graph), (result if is_tuple else result[0])


def _dot(grads: tuple[Tensor, ...], vs: tuple[Any, ...]) -> Tensor | None:
    """sum_i <grads[i], vs[i]> over the gradients in the graph (None if none is); a missing v
    is 1 (a one-element input)."""
    terms = [(g * v).sum() if v is not None else g.sum() for g, v in zip(grads, vs)
             if g.requires_grad]
    return sum(terms[1:], start=terms[0]) if terms else None


def hvp(func: Callable[..., Any], inputs: Any, v: Any, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), H v)``: the Hessian is symmetric (for a function with continuous
    second derivatives), so this is :func:`vhp`."""
    return vhp(func, inputs, v, create_graph, strict)


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), J v)``, the Jacobian-vector product (forward-mode's result) by the
    double-vjp trick; ``v`` may be left out for a one-element input.

    >>> out, jv = jvp(lambda x: x.exp(), x, v)   # exp(x) * v
    """
    is_tuple, ins = _leaves(inputs, create_graph)
    vs = _as_tuple(v)[1] if v is not None else (None,) * len(ins)
    with enable_grad():
        out_is_tuple, outs = _as_tuple(func(*ins))
        us = tuple(Tensor._wrap(o.xp.zeros_like(o.data)).requires_grad_() for o in outs)
        dot = _dot(_gradients(outs, ins, us, True, strict, "jvp"), vs)
        result = (_gradients((dot,), us, (None,), create_graph, strict, "jvp")
                  if dot is not None else tuple(Tensor._wrap(u.xp.zeros_like(u.data)) for u in us))
    return (_outputs(outs, out_is_tuple, create_graph),
            result if out_is_tuple else result[0])
