"""Symbolic inputs for the functional API: ``x = Input((32, 32, 3)); y = Dense(10)(x)``.

A ``SymbolicTensor`` is a shape and a record of which layer made it from which inputs. Calling a
layer on one builds the layer and finds the output shape by running it twice on small zeros,
with unknown sizes at two values (no shape rules to write per layer); ``Model(inputs, outputs)``
replays the recorded graph. ``Input()`` is the output of an ``InputLayer`` (in ``core.py``, which
may import ``Layer``: this module may not, since ``Layer`` imports it).
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import Tensor, as_tensor, no_grad


class SymbolicTensor:
    """A placeholder with a shape (batch axis None) and the layer call that produced it.

    A call whose layer returns several tensors (an LSTM with ``return_state``) is one
    SymbolicTensor holding the call, with ``children``; each output is a child, made by
    taking item ``index`` of its ``source``'s value."""

    def __init__(self, shape: tuple[int | None, ...], dtype: Any = "float32",
                 layer: Any = None, inputs: Any = None, args: tuple = (),
                 kwargs: dict | None = None, name: str | None = None) -> None:
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.layer, self.inputs, self.args, self.kwargs = layer, inputs, args, kwargs or {}
        self.name = name
        self.input_layer: Any = None  # the InputLayer of a tensor made by Input()
        self.children: list[SymbolicTensor] | None = None  # a call with several outputs
        self.source: SymbolicTensor | None = None  # for an output of such a call: the call
        self.index = 0  # and which of its outputs
        # Keras's symbolic mask: the (batch, time) bool tensor of a call whose output has a
        # mask; it is itself a tensor of the graph, the mask of `mask_of` when the model runs
        self._keras_mask: SymbolicTensor | None = None
        self.mask_of: SymbolicTensor | None = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<SymbolicTensor shape={self.shape} dtype={self.dtype.name}>"

    # Operators record an op node (layers/op_layer.py), as Keras 3's KerasTensor; `==` stays
    # identity (Keras's too), so tensors can be found in lists and dicts.
    __array_ufunc__ = None  # NumPy defers to the reflected operators: np.float32(2) * x

    def __iter__(self) -> Any:  # else Python would iterate by x[0], x[1], ... without end
        raise TypeError(f"a symbolic tensor cannot be iterated ({self}): index it, or use "
                        "keras.ops (ops.unstack is not in shenjing.ops; x[:, i] is)")

    def __array__(self, *args: Any, **kwargs: Any) -> Any:  # a Tensor's operator asks for one
        raise TypeError(f"a symbolic tensor has no values until the model runs ({self}): "
                        "with a Tensor constant, write the symbolic tensor first (x + t) or "
                        "use keras.ops (ops.add(t, x)), which record the op in the model")

    def __bool__(self) -> bool:
        raise TypeError(f"a symbolic tensor has no truth value ({self}): it has no values "
                        "until the model runs; use ops.where for a choice per element")


def _operator(op: str, reflected: bool = False) -> Any:
    def method(self: SymbolicTensor, *other: Any) -> Any:
        from .op_layer import symbolic_op

        return symbolic_op(op, (*other, self) if reflected else (self, *other), {})

    return method


for _name, _op in (("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                   ("truediv", "divide"), ("pow", "power"), ("matmul", "matmul")):
    setattr(SymbolicTensor, f"__{_name}__", _operator(_op))
    setattr(SymbolicTensor, f"__r{_name}__", _operator(_op, reflected=True))
for _name, _op in (("neg", "negative"), ("abs", "abs"), ("getitem", "getitem"),
                   ("lt", "less"), ("le", "less_equal"), ("gt", "greater"),
                   ("ge", "greater_equal"), ("ne", "not_equal")):
    setattr(SymbolicTensor, f"__{_name}__", _operator(_op))


def Input(shape: tuple[int | None, ...] | None = None, batch_size: int | None = None,
          dtype: Any = "float32", name: str | None = None,
          batch_shape: tuple[int | None, ...] | None = None) -> SymbolicTensor:  # noqa: N802
    """A symbolic model input of ``shape`` per sample (Keras's ``keras.Input``): the output of
    a new ``InputLayer``, named ``name`` (by default 'input_layer', numbered), as is the tensor.

    >>> x = Input((784,)); y = Dense(10)(x); model = Model(x, y)
    """
    from .core import InputLayer

    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape,
                      name=name).output


# The sizes given to unknown axes in the two trial runs: the batch axis small (it only costs
# time), the others (time, height, width) large and far apart, so that a 3x3 'valid' convolution
# fits and strides or pooling (down to a factor of 21) still give two different output sizes.
_BATCH_FILLS, _AXIS_FILLS = (2, 3), (32, 53)
# Tried when those fail (a kernel or pool longer than 32, a Reshape((-1, 160)) that needs a
# multiple of 160): large and highly composite (both multiples of 2^5 3 5), slower to run.
_LARGE_AXIS_FILLS = (960, 1440)
_LARGE_TRIAL_LIMIT = 1 << 24  # elements per input (and one unknown axis: see below)


def _dummy(t: SymbolicTensor, trial: int, fills: tuple[int, int] = _AXIS_FILLS) -> Any:
    """Zeros standing for ``t`` in a trial run (a boolean tensor, a mask, all True: no step is
    padding). A tensor with a mask is a Tensor carrying an all-True mask, so the layer's call
    gets a mask and its compute_mask runs, as when the model runs."""
    shape = [n if n is not None else (_BATCH_FILLS if axis == 0 else fills)[trial]
             for axis, n in enumerate(t.shape)]
    if t.dtype == np.bool_:
        return np.ones(shape, dtype=bool)
    if t.dtype.kind in "USO":  # texts of one and two words: a length that follows the text's
        return np.full(shape, "x" if trial == 0 else "x x")  # is then unknown, not 0
    value = np.zeros(shape, dtype=t.dtype)
    if t._keras_mask is None:
        return value
    value = Tensor._wrap(value)
    value._keras_mask = np.ones(shape[:t._keras_mask.ndim], dtype=bool)
    return value


def conform(value: Any, t: SymbolicTensor) -> Any:
    """``value`` fitted to the model input ``t`` as Keras's functional models fit their inputs:
    booleans and integers take a floating Input's dtype (a bool one-hot array into an LSTM;
    floats are cast by each layer, integer ids kept for an integer Input), and a rank one
    short of an Input whose last axis is 1 gets that axis ((batch,) columns of a tf.data dict
    into Input(shape=(1,))), one more, of size 1, loses it."""
    data = value.data if isinstance(value, Tensor) else value
    if not hasattr(data, "dtype"):
        if not isinstance(data, (list, bool, int)):
            return value  # a structure a layer takes as it is
        data = value = np.asarray(data)
    if t.dtype.kind == "f" and data.dtype.kind in "biu":
        value = Tensor._wrap(data.astype(t.dtype))
    if data.ndim == t.ndim - 1 and t.shape[-1] == 1:
        return F.expand_dims(as_tensor(value), -1)
    if data.ndim == t.ndim + 1 and data.shape[-1] == 1:
        return F.squeeze(as_tensor(value), -1)
    return value


def symbolic_in(value: Any) -> list[SymbolicTensor]:
    """The symbolic tensors in ``value``: itself, or those in its (nested) lists, tuples and
    dicts, in order."""
    if isinstance(value, SymbolicTensor):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(
        value, (list, tuple)) else ()
    return [t for item in items for t in symbolic_in(item)]


def is_symbolic_call(inputs: Any, args: tuple, kwargs: dict[str, Any]) -> bool:
    """Whether a layer call has a symbolic tensor among its arguments (the functional API). The
    eager call's common case, one array or Tensor and nothing else, is answered without a walk:
    ``Layer.__call__`` asks this on every call."""
    if not args and not kwargs and not isinstance(inputs, (SymbolicTensor, list, tuple, dict)):
        return False
    return bool(symbolic_in((inputs, args, kwargs)))


def map_symbolic(value: Any, fn: Any) -> Any:
    """``value`` with each symbolic tensor ``t`` in it replaced by ``fn(t)`` (tuples become
    lists, as layers take them)."""
    if isinstance(value, SymbolicTensor):
        return fn(value)
    if isinstance(value, dict):
        return {k: map_symbolic(v, fn) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [map_symbolic(v, fn) for v in value]
    return value


_trace = threading.local()


def tracing() -> Any:
    """The symbolic inputs of the layer call whose trial runs on zeros are running, else None:
    a layer with state across calls (a stateful RNN) leaves its state alone in them."""
    return getattr(_trace, "inputs", None)


def _trials(layer: Any, inputs: Any, args: tuple, kwargs: dict) -> list[Any]:
    """The layer's outputs on zeros standing for the symbolic tensors, in two trial runs
    (unknown sizes 2 and 3 for the batch, 32 and 53 for other axes, or, where those fail and
    some axis is unknown, 960 and 1440), in inference mode."""
    call_kwargs = {k: v for k, v in kwargs.items() if k != "training"}
    outer = tracing()
    _trace.inputs = inputs
    try:
        with no_grad(), np.errstate(all="ignore"):  # zeros may meet log or a division
            try:
                outs = _trial_pair(layer, inputs, args, call_kwargs, _AXIS_FILLS)
            except Exception as first:
                tensors = symbolic_in((inputs, args, kwargs))
                if not any(None in t.shape[1:] for t in tensors) or not all(
                        _large_trial_fits(t) for t in tensors):
                    raise
                try:
                    outs = _trial_pair(layer, inputs, args, call_kwargs, _LARGE_AXIS_FILLS)
                except Exception:
                    raise first from None  # the error of the usual sizes, not of these
    finally:
        _trace.inputs = outer
    layer._clear_added_losses()  # the trial runs' add_loss values belong to no real pass
    return outs


def _large_trial_fits(t: SymbolicTensor) -> bool:
    """Whether ``t`` may take the large trial: one unknown axis beside the batch (a sequence;
    an image of unknown height and width would be 1440 x 1440, and a convolution over it
    tens of GB), its larger stand-in (the batch axis at 3) within the limit."""
    if sum(n is None for n in t.shape[1:]) > 1:
        return False
    return math.prod(n if n is not None else _BATCH_FILLS[1] if axis == 0 else
                     _LARGE_AXIS_FILLS[1] for axis, n in enumerate(t.shape)) <= _LARGE_TRIAL_LIMIT


def _trial_pair(layer: Any, inputs: Any, args: tuple, kwargs: dict,
                fills: tuple[int, int]) -> list[Any]:
    outs = []
    for k in (0, 1):
        def zeros(t: SymbolicTensor, k: int = k) -> np.ndarray:
            return _dummy(t, k, fills)

        outs.append(layer(map_symbolic(inputs, zeros), *map_symbolic(args, zeros),
                          training=False, **map_symbolic(kwargs, zeros)))
    return outs


def _agreed_shape(a: Any, b: Any) -> tuple[int | None, ...]:
    """The shape two trial outputs agree on: None where their sizes differ."""
    return tuple(None if n != m else n for n, m in zip(a.shape, b.shape))


def output_shapes(layer: Any, input_shape: Any) -> Any:
    """``layer.compute_output_shape(input_shape)`` found by two trial runs, recording nothing:
    ``input_shape`` is one shape (the batch axis first, None for unknown sizes) or a list of
    them (a layer of several inputs); several outputs give a list of shapes."""
    several_in = isinstance(input_shape, (list, tuple)) and bool(input_shape) and all(
        isinstance(s, (list, tuple)) for s in input_shape)
    inputs = [SymbolicTensor(s) for s in input_shape] if several_in \
        else SymbolicTensor(input_shape)
    outs = _trials(layer, inputs, (), {})
    if isinstance(outs[0], (list, tuple)):
        return [_agreed_shape(a, b) for a, b in zip(*outs)]
    return _agreed_shape(*outs)


def symbolic_call(layer: Any, inputs: Any, *args: Any, **kwargs: Any) -> SymbolicTensor:
    """Record ``layer(inputs, *args, **kwargs)`` and infer its output shape by running it on
    zeros twice, with unknown sizes set to 2 then 3 (batch) and 32 then 53 (other axes): axes
    whose size changes are unknown in the output too. Symbolic tensors may also come as more
    positional or keyword arguments (Keras's ``layer(targets, logits)``). A ``training=``
    given here stays in the node's kwargs: the call then runs in that mode whatever the
    model's (Keras's ``base(x, training=False)``)."""
    outs = _trials(layer, inputs, args, kwargs)

    def with_mask(t: SymbolicTensor, a: Any, b: Any) -> SymbolicTensor:
        # the output's mask in both trials: a symbolic mask, computed as the model runs
        ma, mb = getattr(a, "_keras_mask", None), getattr(b, "_keras_mask", None)
        if ma is not None and mb is not None:
            t._keras_mask = SymbolicTensor(_agreed_shape(ma, mb), dtype=ma.dtype,
                                           name=f"{t.name or layer.name}_mask")
            t._keras_mask.mask_of = t
        return t

    several = isinstance(outs[0], (list, tuple))
    first = outs[0][0] if several else outs[0]
    out = SymbolicTensor(() if several else _agreed_shape(*outs), dtype=first.dtype,
                         layer=layer, inputs=inputs, args=args, kwargs=kwargs)
    if several:
        out.children = []
        for i, (a, b) in enumerate(zip(*outs)):
            child = SymbolicTensor(_agreed_shape(a, b), dtype=a.dtype, name=f"{layer.name}_{i}")
            child.source, child.index = out, i
            out.children.append(with_mask(child, a, b))
    else:
        with_mask(out, *outs)
    if layer._first_node is None:  # Keras's layer.input and layer.output: the first call's
        object.__setattr__(layer, "_first_node", out)
    return list(out.children) if several else out
