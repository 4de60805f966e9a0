"""Symbolic inputs for the functional API: ``x = Input((32, 32, 3)); y = Dense(10)(x)``.

A ``SymbolicTensor`` is a shape and a record of which layer made it from which inputs. Calling a
layer on one builds the layer and finds the output shape by running it once on small zeros (no
shape rules to write per layer); ``Model(inputs, outputs)`` replays the recorded graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import no_grad


class SymbolicTensor:
    """A placeholder with a shape (batch axis None) and the layer call that produced it."""

    def __init__(self, shape: tuple[int | None, ...], dtype: Any = "float32",
                 layer: Any = None, inputs: Any = None, args: tuple = (),
                 kwargs: dict | None = None, name: str | None = None) -> None:
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.layer, self.inputs, self.args, self.kwargs = layer, inputs, args, kwargs or {}
        self.name = name
        self.input_layer: Any = None  # the InputLayer of a tensor made by Input()

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<SymbolicTensor shape={self.shape} dtype={self.dtype.name}>"


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


def _dummy(t: SymbolicTensor, trial: int) -> np.ndarray:
    shape = [n if n is not None else (_BATCH_FILLS if axis == 0 else _AXIS_FILLS)[trial]
             for axis, n in enumerate(t.shape)]
    return np.zeros(shape, dtype=t.dtype)


def _map(fn, inputs: Any) -> Any:
    return [fn(x) for x in inputs] if isinstance(inputs, (list, tuple)) else fn(inputs)


def symbolic_call(layer: Any, inputs: Any, *args: Any, **kwargs: Any) -> SymbolicTensor:
    """Record ``layer(inputs)`` and infer its output shape by running it on zeros twice, with
    unknown sizes set to 2 then 3 (batch) and 32 then 53 (other axes): axes whose size changes
    are unknown in the output too. A ``training=`` given here stays in the node's kwargs: the
    call then runs in that mode whatever the model's (Keras's ``base(x, training=False)``)."""
    call_kwargs = {k: v for k, v in kwargs.items() if k != "training"}
    with no_grad():
        outs = [layer(_map(lambda t, k=k: _dummy(t, k), inputs), *args, training=False,
                      **call_kwargs) for k in (0, 1)]
    layer._clear_added_losses()  # the trial runs' add_loss values belong to no real pass
    a, b = (o.shape for o in outs)
    shape = tuple(None if n != m else n for n, m in zip(a, b))
    out = SymbolicTensor(shape, dtype=outs[0].dtype, layer=layer, inputs=inputs, args=args,
                         kwargs=kwargs)
    if layer._first_node is None:  # Keras's layer.input and layer.output: the first call's
        object.__setattr__(layer, "_first_node", out)
    return out
