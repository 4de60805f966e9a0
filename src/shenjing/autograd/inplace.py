"""In-place ops on ``Tensor`` (``+=``, ``add_``, ``copy_``, ``zero_``...) and how they are
recorded in the graph: :class:`InplaceMixin`, which ``Tensor`` inherits.

``Tensor`` is made after this module (it inherits the mixin), so it cannot be imported here:
:mod:`.tensor` binds it to this module's ``Tensor`` once the class exists.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import backend, parallel
from .grad_mode import is_grad_enabled

if TYPE_CHECKING:
    from .tensor import Tensor
else:
    Tensor = None  # bound by tensor.py to the class once it exists


class InplaceMixin:
    """``Tensor``'s in-place operators and methods, and their recording in the graph."""

    # -- in place --------------------------------------------------------------------------
    # Each in-place change bumps ``_version`` (a one-element list, shared with detach()'d
    # tensors over the same memory). Ops record their inputs' versions, and backward refuses
    # to run an op whose input changed since (as PyTorch does): its gradient would be wrong.
    def _inplace(self, other: Any, op: Callable[[Any, Any], Any],
                 recorded: Callable[[Tensor, Any], Tensor] | None = None,
                 keep_old: bool = False) -> Tensor:
        if isinstance(self.data, np.generic):  # a full reduction's NumPy scalar is immutable:
            self.data = np.asarray(self.data)   # without this, `+=` would change nothing
        other_data = other.data if isinstance(other, Tensor) else other
        grad_involved = self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)
        if is_grad_enabled() and grad_involved:
            leaf = self.requires_grad and self._creator is None
            if recorded is not None and not leaf and backend.is_floating(self.dtype):
                return self._record_inplace(other, recorded, keep_old)
            what = ("a leaf tensor that requires grad (PyTorch refuses it too)" if leaf
                    else "a tensor that takes part in autograd")
            raise RuntimeError(f"in-place operation on {what}; write x = x + y, or update "
                               "parameters inside `with no_grad():`")
        op(self.data, other_data)
        self._version[0] += 1
        return self

    def _record_inplace(self, other: Any, recorded: Callable[[Tensor, Any], Tensor],
                        keep_old: bool = False) -> Tensor:
        """An arithmetic in-place op on a tensor in the graph (or one meeting a tensor that
        requires grad), recorded as PyTorch records it: ``loss += criterion(out, y)``.

        The op runs out of place on ``old``, a stand-in for this tensor's previous value that
        keeps its place in the graph, and its result is written into this tensor's memory (or,
        for a view of another array, replaces it: unlike torch, the base keeps its value), which
        then stands for the op's output. The version bump makes an op that saved the previous
        value for its backward refuse to run (as torch: ``y = exp(w); y += 1`` fails at
        backward, ``x += exp(x)`` works), and ``_history`` sends the gradients of the ops that
        used it to the op that made it.
        """
        # Of the operators, only mul's and div's backward read the first input (for the other's
        # gradient), after this memory is overwritten: it gets a copy; add and sub's read none
        # of it. In `x += x` both operands are the old value, which a backward may read as the
        # second. ``keep_old``: the op reads it anyway (abs_, log_: their function's backward).
        itself = other is self
        keep = keep_old or itself or recorded in (_mul, _div) and isinstance(
            other, Tensor) and other.requires_grad
        old = Tensor._wrap(self.data.copy() if keep else self.data)
        old._creator, old._output_index = self._creator, self._output_index
        old._generation, old.requires_grad = self._generation, self.requires_grad
        if itself:
            other = old
        new = recorded(old, other)
        if new.shape != self.shape:
            raise ValueError(f"in-place operation: the result's shape {new.shape} does not fit "
                             f"the tensor's {self.shape}")
        if self._history is None:  # appended to, not rebuilt: `loss += term` in a long loop
            self._history = []     # was quadratic (29 s for 80,000 terms)
        self._history.append((self._version[0], self._creator, self._output_index))
        if getattr(self.data, "base", None) is None:
            self.data[...] = new.data  # in place: detach()ed aliases and views see it, as torch's
            self._version[0] += 1
        else:  # a view (reshape, indexing): writing would change its base behind the graph's
            # back, so it gets the new array (the base keeps its value) and a counter of its own
            self.data, self._version = new.data, [self._version[0] + 1]
        before = self._creator, self._output_index
        self._creator, self._output_index, self._generation = new._creator, 0, new._generation
        self.requires_grad = True
        self._move_retain_hook(*before)
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace(other, _IADD, _add)

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace(other, _ISUB, _sub)

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace(other, _IMUL, _mul)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace(other, _ITRUEDIV, _div)

    # PyTorch's in-place methods, under the operators' rule: plain under no_grad(), or when no
    # tensor involved requires grad; refused for a leaf that requires grad; recorded in the
    # graph for an intermediate tensor (or a tensor that requires none meeting one that does).
    def add_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """In place ``self += alpha * other`` (PyTorch's ``add_``); returns self.

        >>> with shenjing.no_grad():
        ...     w.add_(w.grad, alpha=-0.1)   # an SGD step
        """
        if alpha == 1:
            return self._inplace(other, _IADD, _add)
        return self._inplace(other, _scaled(_IADD, alpha),
                             lambda a, b: a.add(b, alpha=alpha))

    def sub_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """In place ``self -= alpha * other`` (PyTorch's ``sub_``); returns self."""
        if alpha == 1:
            return self._inplace(other, _ISUB, _sub)
        return self._inplace(other, _scaled(_ISUB, alpha),
                             lambda a, b: a.sub(b, alpha=alpha))

    def mul_(self, other: Any) -> Tensor:
        """In place ``self *= other`` (PyTorch's ``mul_``); returns self."""
        return self._inplace(other, _IMUL, _mul)

    def div_(self, other: Any) -> Tensor:
        """In place ``self /= other`` (PyTorch's ``div_``); returns self."""
        return self._inplace(other, _ITRUEDIV, _div)

    def fill_(self, value: Any) -> Tensor:
        """Set every element to ``value`` (a number or a 0-d tensor), in place;
        returns self. In a graph, the old value gets a zero gradient and a tensor ``value``
        the sum of the gradient (torch's FillBackward)."""
        if getattr(value, "ndim", 0):
            raise RuntimeError(f"fill_ takes a number or a 0-d tensor, got shape {value.shape}")
        return self._inplace(value, _fill, _overwritten)

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src`` (a tensor, array or number, broadcast to this shape and cast to this
        dtype, from either device) into this tensor, in place; returns self.

        In a graph, ``src`` gets the gradient (summed back to its shape, cast to its dtype)
        and the old value a zero one (torch's CopyBackwards).

        >>> with shenjing.no_grad():
        ...     target.copy_(online)   # a target network's weights
        """
        return self._inplace(src, _copy, _overwritten)

    def zero_(self) -> Tensor:
        """Set every element to 0, in place; returns self. ``p.grad.zero_()`` clears a gradient
        (``p.grad = None`` does too, and frees it). In a graph, the old value gets a zero
        gradient."""
        return self._inplace(0, _fill, _overwritten)


# The recorded (out-of-place, differentiable) forms of the in-place operators; the operators
# themselves are bound to Tensor by the functional package.
def _add(a: Tensor, b: Any) -> Tensor:
    return a + b


def _sub(a: Tensor, b: Any) -> Tensor:
    return a - b


def _mul(a: Tensor, b: Any) -> Tensor:
    return a * b


def _div(a: Tensor, b: Any) -> Tensor:
    return a / b


# In place a += b (and -=, *=, /=): NumPy's, or the OpenMP team's for big arrays (parallel.arith_).
_IADD, _ISUB = partial(parallel.arith_, parallel.ADD), partial(parallel.arith_, parallel.SUB)
_IMUL, _ITRUEDIV = partial(parallel.arith_, parallel.MUL), partial(parallel.arith_, parallel.DIV)


def _scaled(op: Callable[[Any, Any], Any], alpha: Any) -> Callable[[Any, Any], Any]:
    return lambda a, b: op(a, alpha * b)


def _overwritten(old: Tensor, src: Any) -> Tensor:
    """The recorded form of fill_, zero_ and copy_: ``src`` (in ``old``'s dtype and device,
    broadcast) everywhere. A ``where`` that never picks ``old`` keeps it in the graph with a
    zero gradient, as torch's; ``src``'s is summed back to its shape by the engine."""
    if isinstance(src, Tensor):
        src = src.to(old)  # differentiable: the gradient goes back to src's dtype and device
    return old.where(False, src)


def _fill(a: Any, value: Any) -> None:
    a.fill(value)


def _copy(a: Any, src: Any) -> None:
    xp = backend.get_xp(a)
    a[...] = backend.asnumpy(src) if xp is np else xp.asarray(src)
