"""``TimeDistributed``: one layer applied to every time step of a sequence."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..autograd import Tensor
from .layer import InputSpec, Layer


class TimeDistributed(Layer):
    """Apply ``layer`` to every time step: (batch, time, ...) is folded into a batch of
    batch * time samples, run through ``layer`` in one call, and unfolded again, so every step
    shares the layer's weights (which are the only weights of this wrapper).

    Args:
        layer: a layer instance, e.g. ``Dense(8)`` or ``Conv2D(16, 3)``.

    A mask of shape (batch, time, ...) (``Embedding(mask_zero=True)``, ``Masking``) is given to
    ``layer`` folded the same way, if its ``call`` takes one. The output's mask is the inner
    layer's output mask unfolded; where the inner layer ends the mask (an ``LSTM`` returning its
    last state, a convolution), a time step is real where any of its positions was.

    Input shape: (batch, time, ...). Output shape: (batch, time, ...) with ``layer``'s output
    shape after the time axis.

    >>> frames = np.zeros((4, 10, 28, 28, 1), np.float32)     # 4 clips of 10 frames
    >>> TimeDistributed(Conv2D(8, 3))(frames).shape
    (4, 10, 26, 26, 8)
    """

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(layer, dict):  # from a saved config
            from ..io.saving import deserialize_layer

            layer = deserialize_layer(layer)
        if not isinstance(layer, Layer):
            raise ValueError(f"TimeDistributed wraps a layer instance, e.g. "
                             f"TimeDistributed(Dense(8)); got {layer!r}")
        self.layer = layer
        self.input_spec = InputSpec(min_ndim=3)

    def build(self, input_shape: tuple) -> None:
        if not self.layer.built:
            self.layer.build((None, *input_shape[2:]))

    def call(self, x: Tensor, training: bool | None = None, mask: Any = None) -> Tensor:
        batch, steps = x.shape[:2]
        folded_mask = None
        if mask is not None:
            mask = mask.data if isinstance(mask, Tensor) else mask
            if mask.shape[:2] != (batch, steps):
                raise ValueError(f"Layer '{self.name}' (TimeDistributed) got a mask of shape "
                                 f"{mask.shape} for inputs of shape {x.shape}; expected "
                                 f"({batch}, {steps}, ...)")
            folded_mask = mask.reshape(batch * steps, *mask.shape[2:])
        y = self.layer(F.reshape(x, (batch * steps, *x.shape[2:])), training=training,
                       mask=folded_mask)
        if not isinstance(y, Tensor):
            raise ValueError(f"Layer '{self.name}' (TimeDistributed) needs a layer that returns "
                             f"one tensor; {type(self.layer).__name__} '{self.layer.name}' "
                             f"returned {type(y).__name__}")
        out = F.reshape(y, (batch, steps, *y.shape[1:]))
        # The output's mask: the inner layer's, unfolded (Embedding(mask_zero=True) or an inner
        # sequence layer); if the inner layer ended it, a step is real where any of its
        # positions is (Keras 2's rule: a sentence of padding words is a padding step).
        inner = getattr(y, "_keras_mask", None)
        if inner is not None:
            out._keras_mask = inner.reshape(batch, steps, *inner.shape[1:])
        elif mask is not None:
            out._keras_mask = mask.any(axis=tuple(range(2, mask.ndim))) if mask.ndim > 2 \
                else mask
        return out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None  # call has set the output's mask, which needs the inner layer's output
