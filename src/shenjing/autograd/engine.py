"""Back-propagation: walk the recorded graph from a tensor back to its leaves.

The walk is iterative (never recursive), so a chain of 100,000 ops or a 10,000-step recurrence
needs no deep Python stack. Ops are visited in decreasing ``generation`` (the depth at which
they were recorded, as in Chainer): every consumer of a value has a higher generation than its
producer, so by the time an op is visited, the gradients of all its outputs have arrived and
been summed. Gradients accumulate: a tensor used twice, or a sub-tree shared by two parents,
gets the sum of both contributions.
"""

from __future__ import annotations

import bisect
import heapq
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import parallel
from . import anomaly
from .function import Function, FunctionCtx, unbroadcast
from .grad_mode import _set_enabled, is_grad_enabled
from .tensor import Tensor

_FREED = (
    "Trying to backward through the graph a second time (or to read values it already freed). "
    "Pass retain_graph=True to the first backward() if you need to call it again."
)


def _accumulate(old: Any, new: Any) -> Any:
    # Never add in place: the same array may have been handed to several inputs (add's backward).
    return new if old is None else old + new


def run(roots: Sequence[Tensor], grads: Sequence[Any], retain_graph: bool,
        targets: Sequence[Tensor] | None = None, create_graph: bool = False
        ) -> dict[int, Any] | None:
    """Back-propagate from ``roots`` (each seeded with its gradient in ``grads``; None: 1 for a
    one-element root), what ``Tensor.backward`` and :mod:`.gradients` call.

    Gradients are arrays, computed by each op's ``backward`` outside the graph; with
    ``create_graph`` they are Tensors computed by each op's ``differentiable_backward`` with
    grad mode on, so the gradients are recorded and can be differentiated again.

    Without ``targets``, every leaf's gradient is accumulated into its ``.grad``. With them
    (``autograd.grad``), only ops that lead to a target run, no ``.grad`` is touched, and the
    targets' gradients are returned by ``id``: leaves' directly, intermediates' through a
    hook that the caller put on them.
    """
    if not parallel.malloc_tuned:  # training churns big temporaries: keep them on the heap
        parallel.tune_malloc()
    seeds = [_seed(root, g, create_graph) for root, g in zip(roots, grads)]
    needed = None if targets is None else _ops_leading_to(roots, targets)
    made = {t._creator for t in targets or ()}  # the ops whose outputs are targets
    before = is_grad_enabled()
    _set_enabled(create_graph)  # (a `with set_grad_enabled()`: ~1 us more a backward)
    try:
        pending: dict[Function, list[Any]] = {}
        # A leaf's contributions are summed first, so that its hooks see its whole gradient once.
        leaf_grads: dict[int, tuple[Tensor, Any]] = {}
        heap: list[tuple[int, int, Function]] = []
        count = 0
        pop, push = heapq.heappop, heapq.heappush
        for root, grad in zip(roots, seeds):
            if root._creator is None:
                old = leaf_grads.get(id(root), (root, None))[1]
                leaf_grads[id(root)] = (root, _accumulate(old, grad))
                continue
            if root._creator not in pending:
                push(heap, (-root._creator.generation, count, root._creator))
                count += 1
            _deliver(root, grad, pending)
        while heap:
            fn = pop(heap)[2]
            # a freed op may still be met by grad() when it made a target and nothing below
            # it is needed: the target's gradient is caught in its hooks below (torch's
            # grad(f(h), h) after a backward through h)
            if fn.inputs is None and (needed is None or fn in needed or fn not in made):
                raise RuntimeError(_FREED)
            grads_out = pending.pop(fn)
            stale = None  # inputs changed by a recorded in-place op since: id -> old creator
            for t, version in zip(fn.inputs or (), fn.versions):
                if t._version[0] != version:
                    if create_graph:  # its differentiable_backward would read the new values
                        raise RuntimeError(_modified(fn, t.shape, create_graph))
                    if _saved_reads(fn, t.data):
                        raise RuntimeError(_modified(fn, t.shape))
                    if t._history is not None:
                        stale = stale or {}
                        stale[id(t)] = _creator_at(t, version)
            for counter, version, keys in fn.out_versions:
                if counter[0] != version and _saved_reads(fn, None, keys):
                    raise RuntimeError(_modified(fn, None))
            if fn.hooks:
                for i, hooks in fn.hooks.items():
                    for hook in hooks:
                        grads_out[i] = _run_hook(hook, grads_out[i])
            if needed is not None:
                if fn not in needed:
                    continue  # grad(): nothing it asked for lies below; this op keeps its graph
                # only the inputs that lead to a target: a gradient penalty's grad(D(x), x)
                # then skips the weights' gradients (restored after: the graph may be kept)
                full, fn.needs_input_grad = fn.needs_input_grad, needed[fn]
            # An op with several outputs gets None for an output that nobody used.
            try:
                grads_in = (fn.differentiable_backward(*grads_out) if create_graph else
                            fn.backward(*grads_out))
            except Exception as err:
                if anomaly.enabled:
                    anomaly.note_backward_error(err, fn)
                raise
            finally:
                if needed is not None:
                    fn.needs_input_grad = full
            if not isinstance(grads_in, tuple):
                grads_in = (grads_in,)
            if anomaly.enabled:
                anomaly.check_backward(fn, grads_out, grads_in)
            for t, g, need, version in zip(fn.inputs, grads_in, fn.needs_input_grad,
                                           fn.versions):
                if not need or g is None:
                    continue
                if t._view_version is not None and version != t._view_version:
                    _check_view_read(t, fn)
                if g.shape != t.data.shape:
                    g = unbroadcast(g, t.data.shape)
                creator, i = t._creator, t._output_index
                if stale is not None and id(t) in stale:
                    creator, i = stale[id(t)]
                if creator is None:
                    old = leaf_grads.get(id(t), (t, None))[1]
                    leaf_grads[id(t)] = (t, _accumulate(old, g))
                    continue
                # _deliver, inlined: this loop runs once per edge of the graph
                slot = pending.get(creator)
                if slot is None:
                    slot = pending[creator] = [None] * creator.n_outputs
                    push(heap, (-creator.generation, count, creator))
                    count += 1
                slot[i] = _accumulate(slot[i], g)
            if not retain_graph:
                fn.inputs = None
                fn.saved = None
        if targets is not None:
            wanted = {id(t) for t in targets}
            found = {}
            for key, (t, g) in leaf_grads.items():
                if key in wanted:
                    for hook in t._hooks or ():
                        g = _run_hook(hook, g)
                    found[key] = g
            return found
        stored: set[int] = set()
        for t, g in leaf_grads.values():
            _to_leaf(t, g, stored)
        return None
    finally:
        _set_enabled(before)


def _seed(root: Tensor, grad: Any, create_graph: bool) -> Any:
    """The gradient backward starts from at ``root``, checked (ones for a one-element root):
    an array, or with ``create_graph`` a Tensor (a given one as it is, graph included)."""
    if not isinstance(root, Tensor) or not root.requires_grad:
        raise RuntimeError(
            "backward() called on a tensor that does not require grad: none of the tensors it "
            "was computed from has requires_grad=True (or it was computed under no_grad())."
        )
    if grad is None:
        data = root.data
        if data.size != 1:
            raise RuntimeError(
                f"backward() without a gradient needs a scalar output, got shape {root.shape}; "
                "pass gradient= with the same shape (or reduce with .sum() / .mean() first)."
            )
        grad = (np.ones(data.shape, data.dtype) if data.__class__ is np.ndarray
                else root.xp.ones_like(data))  # (np.ones_like: ~1 us more)
    else:
        if not (create_graph and isinstance(grad, Tensor) and grad.dtype == root.dtype):
            # a copy: the caller keeps their array, and it may reach a leaf's .grad unchanged
            grad = root.xp.array(grad.data if isinstance(grad, Tensor) else grad,
                                 dtype=root.dtype)
        if grad.shape != root.shape:
            raise ValueError(f"backward(): gradient has shape {grad.shape}, expected {root.shape}")
    return Tensor._wrap(grad) if create_graph and not isinstance(grad, Tensor) else grad


def _ops_leading_to(roots: Sequence[Tensor], targets: Sequence[Tensor]
                    ) -> dict[Function, tuple[bool, ...]]:
    """The recorded ops below ``roots`` that have a target among their inputs or below them,
    each with which of its inputs do (its ``needs_input_grad`` for this walk)."""
    creators: dict[Function, list[Function | None]] = {}  # each op seen: its inputs' ops
    stack = [r._creator for r in roots if r._creator is not None]
    while stack:
        fn = stack.pop()
        if fn in creators or fn.inputs is None:
            continue
        below = creators[fn] = _input_creators(fn)
        stack.extend([c for c in below if c is not None])
    wanted = {id(t) for t in targets}
    needed: dict[Function, tuple[bool, ...]] = {}
    for fn in sorted(creators, key=_generation):  # inputs' ops come first
        mask = tuple([need and (id(t) in wanted or creator in needed) for t, creator, need in
                      zip(fn.inputs, creators[fn], fn.needs_input_grad)])
        if True in mask:
            needed[fn] = mask
    return needed


_generation = operator.attrgetter("generation")


def _creator_at(t: Tensor, version: int) -> tuple[Function | None, int]:
    """(op, output index) that made ``t``'s value at ``version``: an in-place op recorded since
    (``x += f(x)``) made ``t`` its own output, and ``t._history`` keeps what it was before,
    in increasing versions (a binary search: a loop of ``loss += term`` makes it long)."""
    history = t._history or ()
    k = bisect.bisect_left(history, version, key=_version_before)
    if k < len(history):
        return history[k][1], history[k][2]
    return t._creator, t._output_index


_version_before = operator.itemgetter(0)


def _input_creators(fn: Function) -> list[Function | None]:
    return [t._creator if t._history is None else _creator_at(t, v)[0]
            for t, v in zip(fn.inputs, fn.versions)]


def _saved_reads(fn: Function, array: Any, ids: tuple[int, int] | None = None) -> bool:
    """Whether ``fn``'s backward reads ``array`` (or the array whose ids, its own and its
    base's, are ``ids``): what it saved holds it or a view of its memory. Only such an input or
    output, changed in place since the forward, makes the gradient wrong: ``x += f(x)`` is fine
    when f keeps its output (exp, tanh), as in PyTorch. Runs only after a version changed."""
    keys = set(ids or (id(array), id(getattr(array, "base", None))))
    keys.discard(id(None))
    saved = fn.saved
    if isinstance(saved, FunctionCtx):  # PyTorch's style: what ctx.save_for_backward kept
        saved = [t.data if isinstance(t, Tensor) else t for t in saved.saved_tensors]
    stack = list(saved or ())
    while stack:
        s = stack.pop()
        if isinstance(s, (list, tuple)):
            stack.extend(s)
        elif isinstance(s, dict):
            stack.extend(s.values())
        elif id(s) in keys or id(getattr(s, "base", None)) in keys:
            return True
    return False


def _check_view_read(view: Tensor, fn: Function) -> None:
    """``fn`` read ``view`` after the memory it shares with its base was changed: an error if
    a recorded in-place op on the base (or a base further up) did it since the view was made,
    as the gradient would follow the values from before (torch remakes such a view's graph;
    a change under no_grad is not followed, by torch either)."""
    t = view
    while t._view_version is not None and t._creator is not None and t._creator.inputs:
        t = t._creator.inputs[0]
        if t._history and t._history[-1][0] >= view._view_version:
            name = type(fn).__name__.lstrip("_")
            raise RuntimeError(
                f"{name} used a view (shape {view.shape}) of a tensor (shape {t.shape}) that was "
                "changed in place after the view was made: its gradient would follow the old "
                "values. Take the view after the change, or clone() it before")


def _modified(fn: Function, shape: tuple[int, ...] | None, create_graph: bool = False) -> str:
    name = type(fn).__name__.lstrip("_")
    if create_graph:
        return (f"create_graph=True: a tensor of shape {shape} that {name} used was modified in "
                "place afterwards, and the recorded gradient would be computed from its new "
                "values; compute with a copy (x = x + y)")
    what = (f"the output of {name}, which it saved for its backward," if shape is None else
            f"a tensor of shape {shape} that {name} saved for its backward")
    return (f"{what} was modified in place afterwards, so its gradient would be wrong; compute "
            "with a copy (x = x + y), or change it after backward()")


def _deliver(t: Tensor, g: Any, pending: dict[Function, list[Any]]) -> None:
    slot = pending.setdefault(t._creator, [None] * t._creator.n_outputs)
    slot[t._output_index] = _accumulate(slot[t._output_index], g)


def _to_leaf(t: Tensor, g: Any, stored: set[int]) -> None:
    """Add ``g`` to leaf ``t``'s ``.grad`` (after its hooks), then run its post-accumulate
    hooks. ``stored``: the ids of the arrays already given to a ``.grad`` in this backward."""
    for hook in t._hooks or ():
        g = _run_hook(hook, g)
        stored.add(id(g))  # a hook may keep what it was given: .grad gets a copy of it
    if isinstance(g, Tensor):  # create_graph: .grad keeps the gradient's graph, as torch's
        if t.grad is not None:
            g = t.grad + g
        elif id(g) in stored or g.dtype != t.dtype:
            g = g.to(t.dtype) if g.dtype != t.dtype else g.clone()
        stored.add(id(g))
        t.grad = g
    elif t._grad is not None:
        add_into_grad(t, g)
    else:
        # .grad must be the leaf's own array, safe to modify in place (clipping, zeroing):
        # copy g if it may be shared (add hands one array to both inputs; a view shares its
        # base) or has another dtype (an op promoted). Fresh GEMM outputs, the common case,
        # are kept as they are: copying every weight gradient costs a memory pass. (CuPy's
        # flags have no 'writeable': its arrays always are.)
        if (g.base is not None or not getattr(g.flags, "writeable", True) or id(g) in stored
                or g.dtype != t.dtype):
            g = t.xp.array(g, dtype=t.dtype)  # a copy (a NumPy scalar becomes a 0-d array)
        stored.add(id(g))
        t._grad = Tensor._wrap(g)  # (not the checking setter: g has t's shape and dtype)
    if t._post_accumulate_hooks:
        for hook in t._post_accumulate_hooks:
            hook(t)


def add_into_grad(t: Tensor, g: Any) -> None:
    """``t.grad += g`` in place, as torch accumulates (a reference taken to ``t.grad`` sees the
    sum); a new array where ``.grad`` cannot be written (a read-only or 0-d NumPy scalar)."""
    acc = t.grad.data
    if isinstance(acc, t.xp.ndarray) and getattr(acc.flags, "writeable", True):
        acc += g
        t.grad._version[0] += 1
    else:
        t.grad = Tensor._wrap(t.xp.asarray(acc + g, dtype=t.dtype))


def _run_hook(hook: Any, g: Any) -> Any:
    """``hook(grad)``; a returned value replaces the gradient (an array, or a Tensor when the
    gradients are Tensors: create_graph), of the same shape (torch's rule). (A leaf's hooks'
    results are copied before they become its ``.grad``: see ``_to_leaf``.)"""
    graph = isinstance(g, Tensor)
    out = hook(g if graph else Tensor._wrap(g))
    if out is None:
        return g
    if tuple(out.shape) != tuple(g.shape):
        raise RuntimeError(f"hook {getattr(hook, '__name__', hook)!r} changed the gradient's "
                           f"shape from {tuple(g.shape)} to {tuple(out.shape)}")
    if graph:
        return out if isinstance(out, Tensor) else Tensor._wrap(out)
    return out.data if isinstance(out, Tensor) else out
