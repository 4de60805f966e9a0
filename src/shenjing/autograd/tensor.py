"""``Tensor``: an array that remembers how it was computed, so gradients can flow back.

The arithmetic operators, reductions and shape methods (``+``, ``@``, ``.sum()``,
``.reshape()``...) are attached by :mod:`shenjing.functional` when it loads: this module never
imports the ops, so imports point down only. The in-place ops (``+=``, ``add_``, ``copy_``...)
come from :class:`.inplace.InplaceMixin`.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import backend
from . import inplace
from .inplace import InplaceMixin

_run: Any = None  # engine.run, imported at the first backward()

# NumPy's binary ufuncs and the Tensor operators they stand for, (x op y, y's reflected op)
_OPERATORS = {
    np.add: ("__add__", "__radd__"), np.subtract: ("__sub__", "__rsub__"),
    np.multiply: ("__mul__", "__rmul__"), np.true_divide: ("__truediv__", "__rtruediv__"),
    np.power: ("__pow__", "__rpow__"), np.matmul: ("__matmul__", "__rmatmul__"),
    np.equal: ("__eq__", "__eq__"), np.not_equal: ("__ne__", "__ne__"),
    np.less: ("__lt__", "__gt__"), np.less_equal: ("__le__", "__ge__"),
    np.greater: ("__gt__", "__lt__"), np.greater_equal: ("__ge__", "__le__"),
}


def _array_ufunc(self: Tensor, ufunc: Any, method: str, *inputs: Any, out: Any = None,
                 **kwargs: Any) -> Any:
    """NumPy meeting a Tensor. An array operator with a Tensor, ``a * t``, is the Tensor's
    reflected operator (a Tensor, in the graph), as if NumPy had deferred. An in-place one into
    an array, ``a += t``, writes into the array: ``p.data += -lr * p.grad``, torch's update that
    bypasses autograd, where ``p.data`` is the array itself here (no version bump, as torch's
    ``.data``). Other NumPy functions refuse Tensors: shenjing's ops are F's and the methods'."""
    if method == "__call__" and out is not None:
        if not any(isinstance(o, Tensor) for o in out):
            return ufunc(*(x.data if isinstance(x, Tensor) else x for x in inputs), out=out,
                         **kwargs)
    elif method == "__call__" and not kwargs and len(inputs) == 2 and ufunc in _OPERATORS:
        op, reflected = _OPERATORS[ufunc]
        a, b = inputs
        return getattr(a, op)(b) if isinstance(a, Tensor) else getattr(b, reflected)(a)
    raise TypeError(f"NumPy's {ufunc.__name__} ({method}) does not take Tensors: use shenjing's "
                    "ops (F, the Tensor methods) or t.numpy()")


class _ArrayUfunc:
    """``Tensor.__array_ufunc__``: :func:`_array_ufunc` for NumPy, which looks it up on the class,
    and None on a tensor over a CuPy array, so that CuPy's operators defer to the Tensor's
    reflected ones (it reads the attribute of the instance)."""

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return _array_ufunc
        if not isinstance(obj.data, np.ndarray):
            return None
        return _array_ufunc.__get__(obj, owner)


# NumPy array2string options set by torch's ``set_printoptions`` (``_torch_functions``); empty,
# the repr is NumPy's default one
PRINT_OPTIONS: dict[str, Any] = {}


class Numel(int):
    """``Tensor.size``: the number of elements (an int, NumPy's ``size``) that, called, is
    PyTorch's ``size()``: the shape, or with ``dim`` one length (``B, T, C = x.size()``).
    Copied or pickled, it is the plain int."""

    def __new__(cls, shape: tuple[int, ...]) -> Numel:
        size = super().__new__(cls, math.prod(shape))
        size.shape = shape
        return size

    def __call__(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[dim]

    def __reduce__(self) -> tuple[type, tuple[int]]:
        return int, (int(self),)


def _described(data: Any) -> str:
    """What a value that cannot be a Tensor is, for the error: its type, or the types of a
    list's items."""
    if isinstance(data, (list, tuple)):
        kinds = sorted({type(v).__name__ for v in data})
        return f"a {type(data).__name__} of {', '.join(kinds)}"
    return type(data).__name__


class Tensor(InplaceMixin):
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

    __array_ufunc__ = _ArrayUfunc()  # ndarray * Tensor -> Tensor.__rmul__; array += Tensor
    __hash__ = object.__hash__  # == is elementwise, but tensors can still be dict keys
    # register_post_accumulate_grad_hook's list, set on the rare leaf that has one: the engine
    # reads this for every leaf, and a class default spares each tensor the slot
    _post_accumulate_hooks: list[Callable[[Tensor], None]] | None = None
    # (version before, creator, output index) for each recorded in-place op that made this
    # tensor its output (see InplaceMixin._record_inplace): ops that used the older value still
    # send their gradient there. Set on the rare tensor that has one, as above.
    _history: list[tuple[int, Any, int]] | None = None
    # For a view of another tensor's memory (reshape, basic indexing...; sharing its in-place
    # counter): the counter's value when the view was made. Set on views only, as above.
    _view_version: int | None = None
    # Class defaults of the per-tensor fields: an op's output (``_wrap``, once per op) sets only
    # ``data`` and ``_version``; the others are set on the tensor when they change.
    _grad: Tensor | None = None
    name: str | None = None
    requires_grad = False
    _creator: Any = None
    _output_index = 0
    _generation = 0
    _hooks: list[Callable[[Tensor], Any]] | None = None

    def __init__(
        self, data: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None
    ) -> None:
        if isinstance(data, Tensor):
            data = data.data
        xp = backend.get_xp(data)
        given = dtype is not None  # (else the dtype found below already says "O" for objects)
        if not given:
            dtype = data.dtype if hasattr(data, "dtype") else xp.asarray(data).dtype
            if xp.dtype(dtype).kind == "f":
                dtype = backend.DEFAULT_FLOAT
        # Always a copy (as torch.tensor): updating a parameter in place must never change
        # the caller's array behind their back.
        self.data = xp.array(data, dtype=dtype, copy=True)
        if self.data.dtype.kind == "O" or given and (data is None or not hasattr(
                data, "dtype") and xp.asarray(data).dtype.kind == "O"):  # None: NaN in float32
            raise TypeError("Tensor() takes numbers, arrays or nested lists of numbers, got "
                            f"{_described(data)}")
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
        t._version = [0] if version is None else version
        return t

    # -- array facts -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> Numel:
        """The number of elements: NumPy's ``size``, an int, which called is PyTorch's
        ``size()``: ``x.size()`` is the shape, ``x.size(0)`` its first length."""
        return Numel(self.data.shape)

    def numel(self) -> int:
        """The number of elements (PyTorch's ``numel()``; ``x.size`` here)."""
        return int(self.data.size)

    nelement = numel  # torch's older name: sum(p.nelement() for p in parameters)

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
    def grad(self) -> Tensor | None:
        """The gradient backward() accumulated here (a leaf's, or a tensor's that called
        ``retain_grad()``), None before any. Assignable, as torch's: a Tensor of this shape
        and dtype, or None."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad must be a Tensor or None, got "
                                f"{type(value).__name__}")
            if value.shape != self.shape or value.dtype != self.dtype:
                raise RuntimeError(f"assigned grad of shape {value.shape} and dtype "
                                   f"{value.dtype} does not fit a tensor of shape {self.shape} "
                                   f"and dtype {self.dtype}")
        self._grad = value

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
        if self.data.size != 1:
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
            create_graph: record the backward pass, so that the gradients stored in ``.grad``
                can be differentiated again (double backward; keeps the graph unless
                ``retain_graph=False``).
            inputs: accumulate only into these tensors' ``.grad`` (PyTorch's ``inputs=``).
        """
        global _run
        if _run is None:  # (the engine imports Tensor, so it is imported here, once)
            from .engine import run as _run
        if inputs is not None:
            from .gradients import backward

            backward(self, gradient, retain_graph, create_graph, inputs)
            return
        keep = create_graph if retain_graph is None else retain_graph
        _run([self], [gradient], bool(keep), create_graph=create_graph)

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
        if hooks and hooks[-1] is getattr(self, "_retain_hook", None):
            hooks.insert(len(hooks) - 1, hook)  # retain_grad's stays last, as torch's
        else:
            hooks.append(hook)
        return HookHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep the gradient of this non-leaf tensor in ``.grad`` after backward: the gradient
        after its other hooks (registered before or after), and, after an in-place change, the
        gradient of its new value (torch's rules)."""
        if self._creator is None or getattr(self, "_retains_grad", False):
            return  # a leaf keeps its grad anyway; a second call must not add the grad twice
        self._retains_grad = True
        ref = weakref.ref(self)

        def keep(g: Tensor) -> None:
            t = ref()
            if t is None:
                return
            if g.dtype != t.dtype:  # an op promoted (float16 times float32 weights)
                g = g.to(t.dtype)
            if g.requires_grad:  # create_graph: keep its graph, as a leaf's .grad does
                t.grad = g if t.grad is None else t.grad + g
            else:  # a copy, as for leaves: g may be shared with others (see engine._to_leaf)
                t.grad = Tensor._wrap(g.data.copy() if t.grad is None else t.grad.data + g.data)

        self._retain_hook = keep
        self.register_hook(keep)

    def _move_retain_hook(self, old_creator: Any, old_index: int) -> None:
        """After an in-place op made this tensor another op's output: retain_grad's hook
        follows it there (``.grad`` is the new value's gradient, as torch's)."""
        keep = getattr(self, "_retain_hook", None)
        hooks = (old_creator.hooks or {}).get(old_index) if old_creator is not None else None
        if keep is None or not hooks or keep not in hooks:
            return
        hooks.remove(keep)
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

    def __contains__(self, value: Any) -> bool:
        """``v in x``: whether any element equals ``v`` (a number, or a tensor broadcast
        against x), as torch's; Python would otherwise compare the rows one by one."""
        other = value.data if isinstance(value, Tensor) else value
        return bool((self.data == other).any())

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats a one-element tensor's value, and ``f"{target}"`` a 0-d
        tensor's as torch does (``19``, not ``Tensor(19)``); other tensors take no spec."""
        if self.ndim == 0 or spec and self.data.size == 1:
            return format(self.item(), spec)
        return format(str(self), spec)

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __index__(self) -> int:
        """A 0-d integer tensor as an index (``data[i:i + 8]``, ``range(n)``), as in torch.
        (Only 0-d: NumPy indexes with a one-element array as an array.)"""
        if self.ndim != 0 or self.dtype.kind not in "iub":
            raise TypeError(f"only 0-d integer tensors can be used as an index, got a "
                            f"{self.dtype} tensor of shape {self.shape}")
        return int(self.data)

    def __int__(self) -> int:
        return int(self.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype)

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=" ", prefix="Tensor(", **PRINT_OPTIONS)
        extra = ""
        if self.dtype != backend.DEFAULT_FLOAT and self.dtype.kind == "f":
            extra += f", dtype={self.dtype}"
        if self.requires_grad:
            extra += ", requires_grad=True"
        return f"Tensor({body}{extra})"


inplace.Tensor = Tensor  # the in-place methods' isinstance tests and _wrap (see inplace.py)


def array_of(x: Any) -> Any:
    """A Tensor's array, anything else as it is. Not ``getattr(x, "data", x)``: a CuPy array
    has a ``data`` attribute too (its memory pointer)."""
    return x.data if isinstance(x, Tensor) else x


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, *, device: Any = None
           ) -> Tensor:
    """Make a Tensor (PyTorch's spelling): ``shenjing.tensor([1., 2.], requires_grad=True)``;
    ``device`` ("cpu", "cuda", ``shenjing.device("cpu")``) places it, as torch's."""
    if device is not None:
        from ..functional.device import array_on

        data = array_on(Tensor(data, dtype=dtype).data, device)
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
