"""``Function``: one differentiable op, its forward and its backward in one class.

A subclass computes ``forward`` on raw arrays (``xp`` is NumPy or CuPy) and keeps what its
``backward`` needs with :meth:`save_for_backward`; ``backward`` gets the gradient of each output
and returns one gradient per input (``None`` where an input needs none). Gradients may keep the
broadcast shape of the forward: the engine sums them back to each input's shape in one place
(:func:`unbroadcast`), so no op undoes broadcasting by hand.
"""

from __future__ import annotations

from typing import Any

from . import anomaly
from .grad_mode import is_grad_enabled
from .tensor import Tensor


class Function:
    """Base class of every differentiable op.

    Attributes set by :meth:`apply` before ``forward`` runs:
        needs_input_grad: one bool per input; an op may skip saving or computing what no one needs.
    Attributes kept only when the op is recorded in a graph:
        inputs: the input Tensors (the graph's edges); versions: their in-place counters when
        the op ran (backward checks them); generation: the op's depth, which orders
        the backward walk; trace: where user code called it, kept only in anomaly mode.
    """

    __slots__ = ("inputs", "versions", "needs_input_grad", "saved", "generation", "n_outputs",
                 "hooks", "trace")

    def forward(self, *arrays: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def backward(self, *grad_outs: Any) -> Any:
        raise NotImplementedError

    def save_for_backward(self, *values: Any) -> None:
        self.saved = values

    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> Any:
        """Run the op on Tensors ``inputs`` (keyword arguments are plain options) and record it."""
        fn = cls()
        # Plain loops, not generator expressions: this runs for every op, and on small tensors
        # its bookkeeping costs as much as the arithmetic.
        grad_mode, record = is_grad_enabled(), False
        for t in inputs:
            if not isinstance(t, Tensor):
                raise TypeError(f"{cls.__name__}.apply() takes Tensors as positional arguments "
                                "(pass other values as keyword options), got "
                                f"{', '.join(type(t).__name__ for t in inputs)}")
            if isinstance(t.data, Tensor):  # PyTorch's `w.data = w.data - lr * w.grad` idiom
                raise TypeError(f"a tensor of shape {t.data.shape} holds a Tensor in .data, "
                                "which must be an array: update it in place under no_grad() "
                                "(w -= lr * w.grad), or assign w.data = new.data")
            if grad_mode and t.requires_grad:
                record = True
        fn.needs_input_grad = tuple([t.requires_grad for t in inputs]) if record else (
            (False,) * len(inputs))
        fn.saved = ()
        out = fn.forward(*[t.data for t in inputs], **kwargs)
        multi = isinstance(out, tuple)
        wrap = Tensor._wrap
        outs = tuple([wrap(o) for o in out]) if multi else (wrap(out),)
        if anomaly.enabled:
            anomaly.check_forward(fn, inputs, outs, record)
        if record:
            fn.inputs = inputs
            fn.versions = [t._version[0] for t in inputs]
            generation = 0
            for t in inputs:
                if t._generation > generation:
                    generation = t._generation
            fn.generation = generation
            fn.n_outputs = len(outs)
            fn.hooks = None
            for i, t in enumerate(outs):
                t.requires_grad = True
                t._creator = fn
                t._output_index = i
                t._generation = generation + 1
        return outs if multi else outs[0]


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes that broadcasting added or stretched, back to ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
    )
    grad = grad.sum(axis=axes, keepdims=True) if axes else grad
    return grad.reshape(shape)
