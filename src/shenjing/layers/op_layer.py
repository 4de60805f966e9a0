"""Ops on symbolic tensors: ``res = x + inputs``, ``ops.mean(x, axis=1)``, ``x[:, 0]`` in
functional-API code (Keras 3 records such a call as an ``Operation`` node, Keras 2 as a
``TFOpLambda`` layer).

Each call becomes an ``OpLayer``: a layer without weights that holds the op's name (a
``shenjing.ops`` function, or 'getitem' for indexing) and its non-tensor arguments, with the
symbolic tensors among them marked by position. The model runs it on real Tensors through the
differentiable ops, so gradients flow; its config names the op and the arguments as JSON data, so
a model saves and loads without pickling code. An argument that JSON cannot name (an array, a
Tensor) runs, but saving refuses it.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .. import ops
from .input_layer import SymbolicTensor, symbolic_in
from .layer import Layer, _unique_name

_TENSOR = "__tensor__"  # {"__tensor__": i}: the i-th tensor input stands here


def _function(op: str) -> Any:
    if op == "getitem":
        return operator.getitem
    if op.startswith("activations."):  # keras.activations.<name> on a symbolic tensor
        from .. import activations

        name = op.partition(".")[2]
        if name in activations._REGISTRY:
            return getattr(activations, name)
    if op in ops.__all__ and op not in ops._NOT_RECORDED:
        return getattr(ops, op)
    raise ValueError(f"unknown op {op!r} for an OpLayer: it names a function of shenjing.ops "
                     "or 'getitem'")


def _is_marker(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {_TENSOR}


def _map(value: Any, fn: Any) -> Any:
    """``value`` with ``fn`` applied to each leaf; lists, tuples and dicts keep their type (a
    tuple index is not a list index)."""
    if isinstance(value, (list, tuple)):
        return type(value)(_map(v, fn) for v in value)
    if isinstance(value, dict) and not _is_marker(value):
        return {k: _map(v, fn) for k, v in value.items()}
    return fn(value)


def symbolic_op(op: str, args: tuple, kwargs: dict[str, Any]) -> Any:
    """Record ``ops.<op>(*args, **kwargs)``, some arguments symbolic, as a node of the graph
    (an ``OpLayer`` called on those tensors) and return its symbolic output."""
    tensors = list({id(t): t for t in symbolic_in((args, kwargs))}.values())
    slot = {id(t): i for i, t in enumerate(tensors)}

    def mark(v: Any) -> Any:
        return {_TENSOR: slot[id(v)]} if isinstance(v, SymbolicTensor) else v

    return OpLayer(op, _map(args, mark), _map(kwargs, mark))(tensors)


class OpLayer(Layer):
    """One op applied in a functional model: ``ops.<op>(*args, **kwargs)``, where the markers
    ``{"__tensor__": i}`` in ``args``/``kwargs`` stand for the i-th input. Named after the op
    ('add', 'mean_1', ...). As Keras 3's operations, it ends any Keras mask and is listed by
    ``model.summary()`` but not in ``model.layers``.

    >>> x = keras.Input((3,)); OpLayer("multiply", [{"__tensor__": 0}, 2.0])([x]).shape
    (None, 3)
    """

    _keras_operation = True  # Graph keeps these out of model.layers

    def __init__(self, op: str, args: Any = (), kwargs: dict[str, Any] | None = None,
                 name: str | None = None, **base: Any) -> None:
        super().__init__(name=name or _unique_name(op.rpartition(".")[2]), **base)
        self._fn = _function(op)
        self.op, self.args, self.kwargs = op, tuple(args), dict(kwargs or {})

    def call(self, inputs: list[Any]) -> Any:
        def fill(v: Any) -> Any:
            return inputs[v[_TENSOR]] if _is_marker(v) else v

        return self._fn(*_map(self.args, fill), **_map(self.kwargs, fill))

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def get_config(self) -> dict[str, Any]:
        def encode(v: Any) -> Any:
            return _encode(v, self)

        return {"op": self.op, "args": [encode(v) for v in self.args],
                "kwargs": {k: encode(v) for k, v in self.kwargs.items()},
                "name": self.name, "trainable": self.trainable, "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> OpLayer:
        config = dict(config)
        config["args"] = [_decode(v) for v in config.get("args", [])]
        config["kwargs"] = {k: _decode(v) for k, v in config.get("kwargs", {}).items()}
        return cls(**config)


def _encode(value: Any, layer: OpLayer) -> Any:
    """An op argument as JSON data: numbers, strings, None, lists and tensor markers as they are;
    tuples, slices and Ellipsis tagged (indexing needs them back); NumPy scalars and dtypes by
    value and name. Anything else cannot be named: ValueError at save time."""
    if value is None or isinstance(value, (bool, int, float, str)) or _is_marker(value):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.dtype) or isinstance(value, type) and issubclass(value, np.generic):
        return np.dtype(value).name
    if isinstance(value, list):
        return [_encode(v, layer) for v in value]
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, layer) for v in value]}
    if isinstance(value, slice):
        return {"slice": [_encode(v, layer) for v in (value.start, value.stop, value.step)]}
    if value is Ellipsis:
        return {"ellipsis": True}
    shown = repr(value).replace("\n", " ")
    raise ValueError(
        f"cannot save the op {layer.op!r} (layer '{layer.name}') of the functional model: its "
        f"argument {shown[:60]} ({type(value).__name__}) cannot be written in a config (numbers, "
        "strings, None, slices and lists or tuples of them can). Pass the value as a model "
        "Input, hold it as a weight of a layer, or compute it in a layer's call()")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict) and len(value) == 1:
        ((key, v),) = value.items()
        if key == "tuple":
            return tuple(_decode(x) for x in v)
        if key == "slice":
            return slice(*(_decode(x) for x in v))
        if key == "ellipsis":
            return Ellipsis
    return value
