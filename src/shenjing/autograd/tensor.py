"""``Tensor``: an array that remembers how it was computed, so gradients can flow back.

The arithmetic operators, reductions and shape methods (``+``, ``@``, ``.sum()``,
``.reshape()``...) are attached by :mod:`shenjing.functional` when it loads: this module never
imports the ops, so imports point down only.
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import backend
from .grad_mode import is_grad_enabled


class Tensor:
    """A multi-dimensional array with automatic differentiation.

    Floating data is stored as float32 unless ``dtype`` says otherwise (float64 is allowed, and
    used by gradient checks); integer and boolean data keep their type (labels, indices, masks).
    The data is copied, as ``torch.tensor`` does.

    Args:
        data: array-like (NumPy/CuPy array, nested lists, scalar, another Tensor).
        dtype: the dtype to store; default float32 for floating data.
        requires_grad: whether backward() should compute a gradient for this tensor.

    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> w.grad
    Tensor([2. 4.])
    """

    __array_ufunc__ = None  # make NumPy defer to our reflected operators (ndarray * Tensor)
    __hash__ = object.__hash__  # == is elementwise, but tensors can still be dict keys
    # register_post_accumulate_grad_hook's list, set on the rare leaf that has one: the engine
    # reads this for every leaf, and a class default spares each tensor the slot
    _post_accumulate_hooks: list[Callable[[Tensor], None]] | None = None

    def __init__(
        self, data: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None
    ) -> None:
        if isinstance(data, Tensor):
            data = data.data
        xp = backend.get_xp(data)
        if dtype is None:
            dtype = data.dtype if hasattr(data, "dtype") else xp.asarray(data).dtype
            if xp.dtype(dtype).kind == "f":
                dtype = backend.DEFAULT_FLOAT
        # Always a copy (as torch.tensor): updating a parameter in place must never change
        # the caller's array behind their back.
        self.data = xp.array(data, dtype=dtype, copy=True)
        self.grad: Tensor | None = None
        self.name = name
        self._creator = None
        self._output_index = 0
        self._generation = 0
        self._hooks: list[Callable[[Tensor], Any]] | None = None
        self._version = [0]
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, arr: Any, version: list[int] | None = None) -> Tensor:
        """A Tensor around an op's output array, without conversion or copy; ``version``: the
        in-place counter of another tensor over the same memory (see :meth:`detach`)."""
        t = Tensor.__new__(Tensor)
        t.data = arr
        t.grad = None
        t.name = None
        t._creator = None
        t._output_index = 0
        t._generation = 0
        t._hooks = None
        t._version = [0] if version is None else version
        t.requires_grad = False
        return t

    # -- array facts -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements: NumPy's ``size``, an int. PyTorch's ``x.size()`` is
        ``x.shape`` here, and its ``x.size(0)`` is ``x.shape[0]``."""
        return int(self.data.size)

    def numel(self) -> int:
        """The number of elements (PyTorch's ``numel()``; ``x.size`` here)."""
        return int(self.data.size)

    def dim(self) -> int:
        """The number of axes (PyTorch's ``dim()``; ``x.ndim``)."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def xp(self):
        """The array module (numpy or cupy) that holds this tensor's data."""
        return backend.get_xp(self.data)

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by a recorded op), whose ``grad`` is kept, and,
        as in PyTorch, for every tensor that does not require grad (``detach_()``)."""
        return self._creator is None or not self.requires_grad

    @property
    def grad_fn(self) -> Any:
        """The op that made this tensor (PyTorch's name; its class is the op's), None for a leaf
        or a tensor that does not require grad."""
        return self._creator if self.requires_grad else None

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shared, not copied, on the CPU)."""
        return backend.asnumpy(self.data)

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.reshape(()).item()

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def astype(self, dtype: Any) -> Tensor:
        """A copy in ``dtype`` (not differentiable; use ``F.cast`` inside a graph)."""
        return Tensor._wrap(self.data.astype(dtype))

    # -- autograd ----------------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (floating tensors only) and return self."""
        if requires_grad and not backend.is_floating(self.dtype):
            raise TypeError(f"only floating tensors can require gradients, got dtype {self.dtype}")
        if not self.is_leaf:
            if not requires_grad:
                raise RuntimeError("requires_grad_(False) on a non-leaf tensor; use detach() "
                                   "instead")
        elif requires_grad:
            self._creator = None  # after detach_(): a leaf of its own from now on
        self.requires_grad = requires_grad
        return self

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory, and so the in-place counter)."""
        return Tensor._wrap(self.data, self._version)

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place (PyTorch's ``detach_``: truncated
        back-propagation through time, ``h.detach_()`` between chunks); returns self.

        It no longer requires grad, so ops that use it from now on record nothing towards the
        graph that made it. Ops already recorded on it still pass their gradient to that
        graph, as in PyTorch: it keeps its creator, which only they follow.
        """
        self.requires_grad = False
        return self

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Compute gradients of this tensor with respect to every leaf that requires grad, and
        add them to the leaves' ``.grad``.

        Args:
            gradient: d(something)/d(self) (a Tensor, array or list), the vector of a
                vector-Jacobian product; omitted for a one-element tensor (it is then 1).
            retain_graph: keep the graph so backward can run through it again.
            create_graph: not supported (see :func:`shenjing.autograd.grad`).
            inputs: accumulate only into these tensors' ``.grad`` (PyTorch's ``inputs=``).
        """
        from .engine import run  # the engine imports Tensor; import it when first needed

        if create_graph or inputs is not None:
            from .gradients import backward

            backward(self, gradient, retain_graph, create_graph, inputs)
            return
        run([self], [gradient], bool(retain_graph))

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> HookHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle: ``handle.remove()`` (or ``handle()``)."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        if self._creator is None:
            hooks = self._hooks = self._hooks or []
        else:
            table = self._creator.hooks = self._creator.hooks or {}
            hooks = table.setdefault(self._output_index, [])
        hooks.append(hook)
        return HookHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep the gradient of this non-leaf tensor in ``.grad`` after backward."""
        if self._creator is None or getattr(self, "_retains_grad", False):
            return  # a leaf keeps its grad anyway; a second call must not add the grad twice
        self._retains_grad = True
        ref = weakref.ref(self)

        def keep(g: Tensor) -> None:
            t = ref()
            if t is not None:
                # a copy, as for leaves: g may be shared with other tensors (see engine._to_leaf)
                t.grad = Tensor._wrap(g.data.copy() if t.grad is None else t.grad.data + g.data)

        self.register_hook(keep)

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf tensor whose ``retain_grad()`` was called."""
        return self._creator is not None and getattr(self, "_retains_grad", False)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> HookHandle:
        """Call ``hook(self)`` after backward has accumulated this leaf's ``.grad`` (PyTorch's;
        an optimizer can step there, in the backward pass). Returns a handle."""
        if not self.requires_grad or self._creator is not None:
            raise RuntimeError("register_post_accumulate_grad_hook needs a leaf tensor that "
                               "requires grad")
        hooks = self._post_accumulate_hooks = self._post_accumulate_hooks or []
        hooks.append(hook)
        return HookHandle(hooks, hook)

    def zero_grad(self) -> None:
        self.grad = None

    # -- in place --------------------------------------------------------------------------
    # Each in-place change bumps ``_version`` (a one-element list, shared with detach()'d
    # tensors over the same memory). Ops record their inputs' versions, and backward refuses
    # to run an op whose input changed since (as PyTorch does): its gradient would be wrong.
    def _inplace(self, other: Any, op: Callable[[Any, Any], Any],
                 recorded: Callable[[Tensor, Any], Tensor] | None = None) -> Tensor:
        if isinstance(self.data, np.generic):  # a full reduction's NumPy scalar is immutable:
            self.data = np.asarray(self.data)   # without this, `+=` would change nothing
        other_data = other.data if isinstance(other, Tensor) else other
        grad_involved = self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)
        if is_grad_enabled() and grad_involved:
            leaf = self.requires_grad and self._creator is None
            if recorded is not None and not leaf and backend.is_floating(self.dtype):
                return self._record_inplace(other, recorded)
            what = ("a leaf tensor that requires grad (PyTorch refuses it too)" if leaf
                    else "a tensor that takes part in autograd")
            raise RuntimeError(f"in-place operation on {what}; write x = x + y, or update "
                               "parameters inside `with no_grad():`")
        op(self.data, other_data)
        self._version[0] += 1
        return self

    def _record_inplace(self, other: Any, recorded: Callable[[Tensor, Any], Tensor]) -> Tensor:
        """An arithmetic in-place op on a tensor in the graph (or one meeting a tensor that
        requires grad), recorded as PyTorch records it: ``loss += criterion(out, y)``.

        The op runs out of place on ``old``, a stand-in for this tensor's previous value that
        keeps its place in the graph, and its result is written into this tensor's memory (or,
        for a view of another array, replaces it: unlike torch, the base keeps its value), which
        then stands for the op's output. The version bump makes any op that used the previous
        value refuse to backward (here every such op, not only those whose backward reads it;
        so ``x += f(x)`` fails at backward: write x = x + f(x); ``x += x`` works).
        """
        # Only mul's backward reads its first input (for the other's gradient), after this
        # memory is overwritten: it gets a copy. add, sub and div's read none of it. In
        # `x += x` both operands are the old value, which a backward may read as the second.
        itself = other is self
        keep = itself or recorded is _mul and isinstance(other, Tensor) and other.requires_grad
        old = Tensor._wrap(self.data.copy() if keep else self.data)
        old._creator, old._output_index = self._creator, self._output_index
        old._generation, old.requires_grad = self._generation, self.requires_grad
        if itself:
            other = old
        new = recorded(old, other)
        if new.shape != self.shape:
            raise ValueError(f"in-place operation: the result's shape {new.shape} does not fit "
                             f"the tensor's {self.shape}")
        if getattr(self.data, "base", None) is None:
            self.data[...] = new.data  # in place: detach()ed aliases and views see it, as torch's
            self._version[0] += 1
        else:  # a view (reshape, indexing): writing would change its base behind the graph's
            # back, so it gets the new array (the base keeps its value) and a counter of its own
            self.data, self._version = new.data, [self._version[0] + 1]
        self._creator, self._output_index, self._generation = new._creator, 0, new._generation
        self.requires_grad = True
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace(other, operator.iadd, _add)

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace(other, operator.isub, _sub)

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace(other, operator.imul, _mul)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace(other, operator.itruediv, _div)

    # PyTorch's in-place methods, under the operators' rule: plain under no_grad(), or when no
    # tensor involved requires grad; refused for a leaf that requires grad; recorded in the
    # graph for an intermediate tensor (or a tensor that requires none meeting one that does).
    def add_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """In place ``self += alpha * other`` (PyTorch's ``add_``); returns self.

        >>> with shenjing.no_grad():
        ...     w.add_(w.grad, alpha=-0.1)   # an SGD step
        """
        if alpha == 1:
            return self._inplace(other, operator.iadd, _add)
        return self._inplace(other, _scaled(operator.iadd, alpha),
                             lambda a, b: a.add(b, alpha=alpha))

    def sub_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """In place ``self -= alpha * other`` (PyTorch's ``sub_``); returns self."""
        if alpha == 1:
            return self._inplace(other, operator.isub, _sub)
        return self._inplace(other, _scaled(operator.isub, alpha),
                             lambda a, b: a.sub(b, alpha=alpha))

    def mul_(self, other: Any) -> Tensor:
        """In place ``self *= other`` (PyTorch's ``mul_``); returns self."""
        return self._inplace(other, operator.imul, _mul)

    def div_(self, other: Any) -> Tensor:
        """In place ``self /= other`` (PyTorch's ``div_``); returns self."""
        return self._inplace(other, operator.itruediv, _div)

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

    # -- Python protocol ---------------------------------------------------------------------
    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        """The rows (differentiable, as ``x[i]``); a 0-d tensor has none (TypeError)."""
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats a one-element tensor's value; other tensors take no spec."""
        if spec and self.size == 1:
            return format(self.item(), spec)
        return format(str(self), spec)

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype)

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=" ", prefix="Tensor(")
        extra = ""
        if self.dtype != backend.DEFAULT_FLOAT and self.dtype.kind == "f":
            extra += f", dtype={self.dtype}"
        if self.requires_grad:
            extra += ", requires_grad=True"
        return f"Tensor({body}{extra})"


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


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Make a Tensor (PyTorch's spelling): ``shenjing.tensor([1., 2.], requires_grad=True)``."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """A Tensor over ``data`` without a copy when it already is an array of the dtype the
    Tensor would get (PyTorch's ``as_tensor``, and what ``torch.from_numpy`` is used for:
    feeding a batch without copying it each step); otherwise a copy, as :func:`tensor`.
    The Tensor and the array then share memory: changing one changes the other.

    >>> x = shenjing.as_tensor(batch)   # batch: a float32 array
    """
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    xp = backend.get_xp(data)
    if isinstance(data, xp.ndarray):
        want = np.dtype(dtype) if dtype is not None else (
            backend.DEFAULT_FLOAT if data.dtype.kind == "f" else data.dtype)
        if data.dtype == want:
            return Tensor._wrap(data)
    return Tensor(data, dtype=dtype)


class HookHandle:
    """Removes a hook: ``handle.remove()`` as in PyTorch, or ``handle()``; twice is harmless."""

    def __init__(self, hooks: list[Any], hook: Any) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    __call__ = remove
