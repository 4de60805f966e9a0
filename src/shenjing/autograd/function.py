"""``Function``: one differentiable op, its forward and its backward in one class.

A subclass computes ``forward`` on raw arrays (``xp`` is NumPy or CuPy) and keeps what its
``backward`` needs with :meth:`save_for_backward`; ``backward`` gets the gradient of each output
and returns one gradient per input (``None`` where an input needs none). Gradients may keep the
broadcast shape of the forward: the engine sums them back to each input's shape in one place
(:func:`unbroadcast`), so no op undoes broadcasting by hand.

PyTorch's style works too, for code ported from torch: a subclass whose ``forward`` is a
``@staticmethod`` taking ``ctx`` gets and returns Tensors, keeps values with
``ctx.save_for_backward`` and reads them back from ``ctx.saved_tensors`` (see
:class:`FunctionCtx`). It is detected once, when the class is defined, and given its own
``apply``, so the built-in ops' :meth:`Function.apply` runs exactly as before.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np

from . import anomaly
from .grad_mode import _state as _grad_state
from .grad_mode import is_grad_enabled, no_grad
from .tensor import Tensor


class Function:
    """Base class of every differentiable op.

    Attributes set by :meth:`apply` before ``forward`` runs:
        needs_input_grad: one bool per input; an op may skip saving or computing what no one needs.
    Attributes kept only when the op is recorded in a graph:
        inputs: the input Tensors (the graph's edges); versions: their in-place counters when
        the op ran; out_versions: for an op that ``saves_outputs``, (counter, value, ids of the
        array and its base) of each output (backward checks both, for the values that
        ``saved`` holds); generation: the op's depth, which orders the backward walk; trace:
        where user code called it, kept only in anomaly mode.
    """

    #: True for an op whose saved values include an output or a view of one (exp keeps e**x):
    #: backward then also checks that output was not changed in place. (A test walks every
    #: op's graph to check that no op saving an output leaves this False.)
    saves_outputs = False

    __slots__ = ("inputs", "versions", "out_versions", "needs_input_grad", "saved", "generation",
                 "n_outputs", "hooks", "trace")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if isinstance(inspect.getattr_static(cls, "forward"), staticmethod) or hasattr(
                cls, "setup_context"):
            # PyTorch's style: its own apply and graph node (named as torch names it)
            cls.apply = classmethod(_apply_with_ctx)  # type: ignore[assignment]
            cls._node_type = type(f"{cls.__name__}Backward", (_CtxNode,),
                                  {"__slots__": (), "fn_cls": cls})
            return
        code = getattr(cls.__dict__.get("forward"), "__code__", None)
        if code is not None and "ctx" in code.co_varnames[:min(2, code.co_argcount)]:
            raise TypeError(
                f"{cls.__name__}.forward(self, ctx, ...): a forward taking ctx is PyTorch's "
                "style, which needs @staticmethod on forward and backward. Or write shenjing's "
                "style: forward(self, *arrays) on raw arrays, self.save_for_backward(...), "
                "backward(self, *grads) reading self.saved")

    def forward(self, *arrays: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def backward(self, *grad_outs: Any) -> Any:
        raise NotImplementedError

    def differentiable_backward(self, *grads: Any) -> Any:
        """What ``backward`` returns, computed with recorded ops on Tensors (the inputs are
        ``self.inputs``, ``grads`` Tensors or None) so that it can be differentiated again:
        what ``create_graph=True`` runs, with grad mode on. An element-wise op may define
        ``derivative(x)`` (dy/dx as a Tensor) instead, and gets ``g * derivative(x)``."""
        derivative = getattr(self, "derivative", None)
        if derivative is None:
            raise NotImplementedError(
                f"create_graph=True (gradients of gradients) through {self!r}: this op has no "
                "differentiable backward (every built-in op has one): define "
                "differentiable_backward, or derivative(x) for an element-wise op")
        return grads[0] * derivative(self.inputs[0])

    def save_for_backward(self, *values: Any) -> None:
        self.saved = values

    def __repr__(self) -> str:  # what tensor.grad_fn shows: <MulBackward>, as torch's
        name = type(self).__name__.lstrip("_")
        return f"<{name if name.endswith('Backward') else name + 'Backward'}>"

    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> Any:
        """Run the op on Tensors ``inputs`` (keyword arguments are plain options) and record it."""
        fn = cls()
        # One plain loop, not generator expressions: this runs for every op, and on small
        # tensors its bookkeeping costs as much as the arithmetic.
        arrays, needs, versions, generation = [], [], [], 0
        for t in inputs:
            if not isinstance(t, Tensor):  # an array or a number: a constant (rarely)
                return cls.apply(*_constants(cls, inputs), **kwargs)
            data = t.data
            if isinstance(data, Tensor):  # torch's `w.data = w.data - lr * w.grad`: .data is
                data = t.data = data.data  # the array here, so a Tensor put there gives its own
            arrays.append(data)
            needs.append(t.requires_grad)
            versions.append(t._version[0])
            if t._generation > generation:
                generation = t._generation
        record = True in needs and _grad_state.enabled
        fn.needs_input_grad = tuple(needs) if record else (False,) * len(inputs)
        fn.saved = ()
        out = fn.forward(*arrays, **kwargs)
        if out.__class__ is not np.ndarray and isinstance(out, np.generic):
            out = np.asarray(out)  # a full reduction's NumPy scalar: data is always an array
        multi = isinstance(out, tuple)
        outs = tuple([Tensor._wrap(o) for o in out]) if multi else (Tensor._wrap(out),)
        if anomaly.enabled:
            anomaly.check_forward(fn, inputs, outs, record)
        if record:
            fn.inputs = inputs
            fn.versions = versions
            fn.generation = generation
            fn.n_outputs = len(outs)
            fn.hooks = None
            fn.out_versions = _output_versions(outs) if fn.saves_outputs else ()
            generation += 1
            for i, t in enumerate(outs):
                t.requires_grad = True
                t._creator = fn
                if i:
                    t._output_index = i  # 0 is the class default
                t._generation = generation
        return outs if multi else outs[0]


def _constants(cls: type, inputs: tuple[Any, ...]) -> list[Tensor]:
    """An op's inputs with its arrays and numbers made constant Tensors (as ``Tensor(value)``
    converts them, or in the dtype of a floating Tensor beside them), so that
    ``F.relu(np.array(...))`` works as ``F.add`` always did (and as keras.ops takes arrays);
    anything else is a misuse, named."""
    from ..functional._util import as_tensor  # (autograd loads before functional)

    like = next((t for t in inputs if isinstance(t, Tensor) and t.dtype.kind == "f"), None)
    out = []
    for t in inputs:
        if not isinstance(t, Tensor):
            if not (isinstance(t, (int, float, np.ndarray, np.generic))
                    or hasattr(t, "__cuda_array_interface__")):
                raise TypeError(
                    f"{cls.__name__.lstrip('_')} takes Tensors or arrays as positional arguments "
                    "(pass other values as keyword options), got "
                    f"{', '.join(type(t).__name__ for t in inputs)}")
            # beside a floating Tensor, in its dtype and on its device, as every op's operands
            t = as_tensor(t, like)
        out.append(t)
    return out


def _output_versions(outs: Any) -> list[tuple[list[int], int, tuple[int, int]]]:
    """(counter, value now, (id of the array, id of its base)) for each output: what backward
    needs to tell whether an output that the op saved was changed in place since."""
    return [(t._version, t._version[0], (id(t.data), id(getattr(t.data, "base", None))))
            for t in outs]


class FunctionCtx:
    """The ``ctx`` of a PyTorch-style Function: what its forward keeps for its backward.

    ``ctx.save_for_backward(*tensors)`` / ``ctx.saved_tensors``; ``ctx.needs_input_grad`` (one
    bool per argument of forward); ``ctx.mark_non_differentiable(*outputs)``;
    ``ctx.set_materialize_grads(False)`` (backward then gets None, not zeros, for an output no
    one used); any other attribute (``ctx.scale = 2``) is kept as set. It is freed with the
    graph after backward, unless ``retain_graph=True``.
    """

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple[Any, ...] = ()
        self.materialize_grads = True
        self._non_differentiable: tuple[Any, ...] = ()

    def save_for_backward(self, *tensors: Any) -> None:
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *outputs: Any) -> None:
        self._non_differentiable = outputs

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value

    def mark_dirty(self, *tensors: Any) -> None:
        raise NotImplementedError(
            "ctx.mark_dirty: a Function that changes its input in place is not supported; "
            "return a new tensor (out = x.clone(); change out) instead")


def _apply_with_ctx(cls: Any, *args: Any, **kwargs: Any) -> Any:
    """``apply`` of a PyTorch-style Function: forward(ctx, *args) on Tensors, grad disabled."""
    tensors = tuple([a for a in args if isinstance(a, Tensor)])
    record = is_grad_enabled() and any(t.requires_grad for t in tensors)
    ctx = FunctionCtx(tuple(record and isinstance(a, Tensor) and a.requires_grad for a in args))
    with no_grad():
        if hasattr(cls, "setup_context"):  # torch 2's split: forward(*args) has no ctx
            out = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, out)
        else:
            out = cls.forward(ctx, *args, **kwargs)
    multi = isinstance(out, tuple)
    # New Tensors over the outputs' data: an output may be an input, or a tensor the caller
    # holds, and only the node's own outputs may be given a creator.
    outs = tuple([Tensor._wrap(o.data, o._version) if isinstance(o, Tensor) else o
                  for o in (out if multi else (out,))])
    node = cls._node_type()
    if anomaly.enabled:
        anomaly.check_forward(node, tensors, [o for o in outs if isinstance(o, Tensor)], record)
    if record:
        node.inputs = tensors
        node.versions = [t._version[0] for t in tensors]
        node.needs_input_grad = tuple([t.requires_grad for t in tensors])
        node.saved = ctx  # the engine drops it with the graph
        node.generation = max(t._generation for t in tensors)
        node.n_outputs = len(outs)
        node.hooks = None
        node.out_versions = _output_versions([o for o in outs if isinstance(o, Tensor)])
        ctx._arg_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx._outputs = [(o.shape, o.dtype) if isinstance(o, Tensor) else None for o in outs]
        fixed = [id(o.data) for o in ctx._non_differentiable if isinstance(o, Tensor)]
        for i, t in enumerate(outs):
            if (isinstance(t, Tensor) and t.dtype.kind in "fc" and id(t.data) not in fixed):
                t.requires_grad = True
                t._creator = node
                t._output_index = i
                t._generation = node.generation + 1
    return outs if multi else outs[0]


def _cast(grad: Any, dtype: Any) -> Any:
    """``grad`` in ``dtype``: an array's copy, or under create_graph a Tensor's recorded cast."""
    return grad.to(dtype) if isinstance(grad, Tensor) else grad.astype(dtype)


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes that broadcasting added or stretched, back to ``shape``."""
    if grad.shape == shape:
        return grad
    # float16 adds up in float32, as torch (a bias's gradient over 5,000 rows stalled at 2048)
    half = grad.dtype == np.float16
    if half:
        grad = _cast(grad, np.float32)
    if grad.ndim > len(shape):  # the leading axes broadcasting added: summed away
        grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    if half:
        grad = _cast(grad, np.float16)
    # one op for a bias's gradient (no reshape): under create_graph each is a recorded op
    return grad if grad.shape == shape else grad.reshape(shape)


class _CtxNode(Function):
    """The graph node of a PyTorch-style Function: calls its ``backward(ctx, *grads)`` on
    Tensors and hands the engine the arrays of the Tensor arguments' gradients."""

    __slots__ = ()
    fn_cls: Any = None

    def backward(self, *grads: Any) -> Any:
        results = [None if r is None else r.data for r in self._call_backward(grads)]
        # a gradient that is the memory of a tensor the Function holds (``return x`` for a
        # saved x) is copied: it may become a leaf's .grad, which zero_() then writes over
        held = {id(a) for t in (*self.inputs, *self.saved.saved_tensors) if isinstance(t, Tensor)
                for a in (t.data, getattr(t.data, "base", None)) if a is not None}
        return tuple([r.copy() if r is not None and held.intersection(
            (id(r), id(getattr(r, "base", r)))) else r for r in results])

    def differentiable_backward(self, *grads: Any) -> Any:
        # its backward computes on Tensors: with grad mode on (create_graph), that is recorded
        return self._call_backward(grads)

    def _call_backward(self, grads: Any) -> tuple[Any, ...]:
        """The class's ``backward(ctx, *grads)`` on Tensors, checked: the gradients of the
        Tensor arguments (Tensors or None)."""
        ctx, name = self.saved, self.fn_cls.__name__
        grad_outs = []
        for g, meta in zip(grads, ctx._outputs):
            if g is None and meta is not None and ctx.materialize_grads:
                g = self.inputs[0].xp.zeros(meta[0], meta[1])
            grad_outs.append(g if g is None or isinstance(g, Tensor) else Tensor._wrap(g))
        result = self.fn_cls.backward(ctx, *grad_outs)
        result = result if isinstance(result, tuple) else (result,)
        n = len(ctx.needs_input_grad)
        if len(result) < n or any(r is not None for r in result[n:]):
            raise TypeError(f"{name}.backward returned {len(result)} gradients, expected {n}: "
                            "one per argument of forward (None for those that need none)")
        for k, i in enumerate(ctx._arg_positions):
            r, shape = result[i], self.inputs[k].shape
            if r is not None and not isinstance(r, Tensor):
                raise TypeError(f"{name}.backward returned a {type(r).__name__} for argument {i}"
                                "; return a Tensor (or None)")
            if r is not None and _broadcast_shape(shape, r.shape) != r.shape:
                raise ValueError(f"{name}.backward returned a gradient of shape {r.shape} for "
                                 f"argument {i}, of shape {shape}")
        return tuple([result[i] for i in ctx._arg_positions])


def _broadcast_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        return None


def once_differentiable(fn: Any) -> Any:
    """PyTorch's decorator for a backward that cannot itself be differentiated: it runs as it
    is in a plain backward, and refuses ``create_graph=True`` (whose gradients would silently
    miss its second derivative; torch raises when they are differentiated)."""

    @functools.wraps(fn)
    def backward(ctx: Any, *grads: Any) -> Any:
        if is_grad_enabled():  # the engine records backward only under create_graph=True
            raise RuntimeError(f"{fn.__qualname__} is @once_differentiable: it cannot be "
                               "differentiated twice, so create_graph=True cannot pass it")
        return fn(ctx, *grads)

    return backward
