"""PyTorch's ``torch.autograd.backward`` and ``torch.autograd.grad``, first order.

``grad(outputs, inputs)`` returns the gradients instead of accumulating them into ``.grad``, and
runs only the ops that lead to ``inputs``: what a training loop uses to look at one gradient
without disturbing the parameters' ``.grad``, or to differentiate with respect to an
intermediate tensor. ``create_graph=True`` (gradients that can themselves be differentiated,
for double backward and gradient penalties) is not supported: every op's backward computes on
raw arrays, outside the graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import engine
from .tensor import Tensor

_NO_CREATE_GRAPH = (
    "create_graph=True (higher-order gradients) is not supported: shenjing's backward passes "
    "compute on raw arrays and record nothing, so a gradient cannot be differentiated again. "
    "For a gradient penalty, differentiate the penalty by hand or use finite differences")


def _as_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _grads_for(outputs: list[Tensor], grad_outputs: Any) -> list[Any]:
    if grad_outputs is None:
        return [None] * len(outputs)
    grads = _as_list(grad_outputs)
    if len(grads) != len(outputs):
        raise ValueError(f"{len(grads)} gradients given for {len(outputs)} outputs")
    return grads


def backward(tensors: Tensor | Sequence[Tensor], grad_tensors: Any = None,
             retain_graph: bool | None = None, create_graph: bool = False,
             inputs: Tensor | Sequence[Tensor] | None = None) -> None:
    """Accumulate the gradients of the sum of ``tensors`` into the leaves' ``.grad``.

    Args:
        tensors: a Tensor or a sequence of them, each seeded with its entry of ``grad_tensors``
            (None for a one-element tensor: 1).
        retain_graph: keep the graph for another backward.
        inputs: accumulate only into these tensors' ``.grad`` (leaves or intermediates) and run
            only the ops that lead to them; a leaf's post-accumulate hooks run after its
            ``.grad`` is stored, as in a plain backward.

    >>> shenjing.autograd.backward([loss_a, loss_b])   # the same as (loss_a + loss_b).backward()
    """
    if create_graph:
        raise NotImplementedError(_NO_CREATE_GRAPH)
    outputs = _as_list(tensors)
    seeds = _grads_for(outputs, grad_tensors)
    if inputs is None:
        engine.run(outputs, seeds, bool(retain_graph))
        return
    targets = list({id(t): t for t in _as_list(inputs)}.values())  # a repeat counts once (torch)
    for t, g in zip(targets, _capture(outputs, seeds, targets, bool(retain_graph))):
        if g is not None:
            g = g.astype(t.dtype) if g.dtype != t.dtype else g.copy()
            t.grad = Tensor._wrap(g if t.grad is None else t.grad.data + g)
            for hook in t._post_accumulate_hooks or ():  # as a plain backward's (engine._to_leaf)
                hook(t)


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool | None = None,
         materialize_grads: bool = False) -> tuple[Tensor | None, ...]:
    """The gradients of the sum of ``outputs`` with respect to each of ``inputs``, returned
    (as a tuple, one per input) and not accumulated into any ``.grad``.

    Args:
        outputs: a Tensor or a sequence of them; grad_outputs: their seeds (as in backward).
        inputs: Tensors that require grad, leaves or intermediate results.
        retain_graph: keep the graph for another backward (default False, as torch's).
        allow_unused: return None for an input the outputs do not depend on (else an error);
            materialize_grads: zeros instead of None (implies allow_unused).

    >>> x = shenjing.tensor([1.0, 2.0], requires_grad=True)
    >>> shenjing.autograd.grad((x ** 3).sum(), x)
    (Tensor([ 3. 12.]),)
    """
    if create_graph:
        raise NotImplementedError(_NO_CREATE_GRAPH)
    outs, targets = _as_list(outputs), _as_list(inputs)
    for t in targets:
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError("grad(): one of the inputs does not require grad")
    found = _capture(outs, _grads_for(outs, grad_outputs), targets, bool(retain_graph))
    result: list[Tensor | None] = []
    for i, (t, g) in enumerate(zip(targets, found)):
        if g is None:
            if not (allow_unused or materialize_grads):
                raise RuntimeError(
                    f"grad(): input {i} (shape {t.shape}) is not used to compute the outputs; "
                    "pass allow_unused=True to get None for it")
            result.append(Tensor._wrap(t.xp.zeros_like(t.data)) if materialize_grads else None)
        else:
            result.append(Tensor._wrap(g.astype(t.dtype) if g.dtype != t.dtype else g.copy()))
    return tuple(result)


def _capture(outputs: list[Tensor], seeds: list[Any], targets: list[Tensor],
             retain_graph: bool) -> list[Any]:
    """Each target's gradient array (None if it got none), touching no ``.grad``."""
    caught: dict[int, Any] = {}
    handles = []
    for t in {id(t): t for t in targets}.values():
        if t._creator is not None:  # an intermediate: catch its summed gradient on the way
            def catch(g: Tensor, key: int = id(t)) -> None:
                caught[key] = g.data
            handles.append(t.register_hook(catch))
    try:
        caught.update(engine.run(outputs, seeds, retain_graph, targets) or {})
    finally:
        for h in handles:
            h.remove()
    return [caught.get(id(t)) for t in targets]
