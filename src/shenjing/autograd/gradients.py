"""PyTorch's ``torch.autograd.backward`` and ``torch.autograd.grad``.

``grad(outputs, inputs)`` returns the gradients instead of accumulating them into ``.grad``, and
runs only the ops that lead to ``inputs``: what a training loop uses to look at one gradient
without disturbing the parameters' ``.grad``, or to differentiate with respect to an
intermediate tensor. With ``create_graph=True`` the backward pass is itself recorded (each op's
``differentiable_backward``), so the gradients can be differentiated again: gradient
penalties, Hessian-vector products, derivatives of a network's output in its loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import engine
from .tensor import Tensor


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
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: record the backward, so the ``.grad`` it stores can be differentiated.
        inputs: accumulate only into these tensors' ``.grad`` (leaves or intermediates) and run
            only the ops that lead to them; a leaf's post-accumulate hooks run after its
            ``.grad`` is stored, as in a plain backward.

    >>> shenjing.autograd.backward([loss_a, loss_b])   # the same as (loss_a + loss_b).backward()
    """
    outputs = _as_list(tensors)
    seeds = _grads_for(outputs, grad_tensors)
    keep = bool(create_graph if retain_graph is None else retain_graph)
    if inputs is None:
        engine.run(outputs, seeds, keep, create_graph=create_graph)
        return
    targets = list({id(t): t for t in _as_list(inputs)}.values())  # a repeat counts once (torch)
    given: set[int] = set()
    for t, g in zip(targets, _capture(outputs, seeds, targets, keep, create_graph)):
        if g is not None:
            g = _own(g, t, given)
            if t.grad is None:
                t.grad = g
            elif g.requires_grad:  # create_graph: the sum keeps the graph
                t.grad = t.grad + g
            else:
                engine.add_into_grad(t, g.data)  # in place, as a plain backward
            for hook in t._post_accumulate_hooks or ():  # as a plain backward's (engine._to_leaf)
                hook(t)


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True,
         allow_unused: bool | None = None, is_grads_batched: bool = False,
         materialize_grads: bool = False) -> tuple[Tensor | None, ...]:
    """The gradients of the sum of ``outputs`` with respect to each of ``inputs``, returned
    (as a tuple, one per input) and not accumulated into any ``.grad``.

    Args:
        outputs: a Tensor or a sequence of them; grad_outputs: their seeds (as in backward).
        inputs: Tensors that require grad, leaves or intermediate results.
        retain_graph: keep the graph for another backward (default: ``create_graph``, as torch).
        create_graph: record the backward, so the gradients returned can be differentiated
            again (``grad(grad(y, x, create_graph=True)[0].sum(), x)`` is a second derivative).
        only_inputs: torch's deprecated flag, ignored as there (True; the WGAN-GP gradient
            penalty still passes it).
        allow_unused: return None for an input the outputs do not depend on (else an error);
            materialize_grads: zeros instead of None (implies allow_unused).
        is_grads_batched: torch's vmap over a batch of seeds; only False is supported.

    >>> x = shenjing.tensor([1.0, 2.0], requires_grad=True)
    >>> shenjing.autograd.grad((x ** 3).sum(), x)
    (Tensor([ 3. 12.]),)
    """
    if is_grads_batched:
        raise NotImplementedError("grad(is_grads_batched=True) is not supported: call grad once "
                                  "per seed (retain_graph=True)")
    outs, targets = _as_list(outputs), _as_list(inputs)
    for t in targets:
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError("grad(): one of the inputs does not require grad")
    keep = bool(create_graph if retain_graph is None else retain_graph)
    found = _capture(outs, _grads_for(outs, grad_outputs), targets, keep, create_graph)
    result: list[Tensor | None] = []
    given: set[int] = set()
    for i, (t, g) in enumerate(zip(targets, found)):
        if g is None:
            if not (allow_unused or materialize_grads):
                raise RuntimeError(
                    f"grad(): input {i} (shape {t.shape}) is not used to compute the outputs "
                    "(or the graph between them was freed by an earlier backward: pass it "
                    "retain_graph=True); pass allow_unused=True to get None for it")
            result.append(Tensor._wrap(t.xp.zeros_like(t.data)) if materialize_grads else None)
        else:
            result.append(_own(g, t, given))
    return tuple(result)


def _own(g: Any, t: Tensor, given: set[int]) -> Tensor:
    """``t``'s gradient in its dtype: a fresh array, or (create_graph) the Tensor in the graph
    itself, copied only if ``given`` (the ids handed out in this call) holds it already, as
    add's backward hands one gradient to both inputs: a copy is a recorded op there."""
    if isinstance(g, Tensor):
        g = g.to(t.dtype) if g.dtype != t.dtype else g
        if not g.requires_grad:  # a constant derivative (abs, relu): still in t's graph, with
            g = t.where(False, g)  # a zero gradient, as torch's (its Hessian is zeros)
        elif id(g) in given:
            g = g.clone()
        given.add(id(g))
        return g
    return Tensor._wrap(g.astype(t.dtype) if g.dtype != t.dtype else g.copy())


def _capture(outputs: list[Tensor], seeds: list[Any], targets: list[Tensor],
             retain_graph: bool, create_graph: bool) -> list[Any]:
    """Each target's gradient (None if it got none), touching no ``.grad``: an array, or a
    Tensor in the graph with ``create_graph``."""
    caught: dict[int, Any] = {}
    handles = []
    for t in {id(t): t for t in targets}.values():
        if t._creator is not None:  # an intermediate: catch its summed gradient on the way
            def catch(g: Tensor, key: int = id(t)) -> None:
                caught[key] = g if create_graph else g.data
            handles.append(t.register_hook(catch))
    try:
        caught.update(engine.run(outputs, seeds, retain_graph, targets, create_graph) or {})
    finally:
        for h in handles:
            h.remove()
    return [caught.get(id(t)) for t in targets]
