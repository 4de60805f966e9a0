"""The state that ``stateful=True`` recurrent layers carry from one call to the next, shared by
the fused ``SimpleRNN``/``LSTM``/``GRU`` and the generic ``RNN``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _nest
from ..autograd import Tensor
from .input_layer import tracing


class StatefulMixin:
    """``stateful=True``: the final states of a call are the initial states of the next
    (Keras: sample i of a batch continues sample i of the previous batch), kept in ``states``
    (constants: no gradient flows from one call into the previous one) until
    ``reset_states()``. The batch size must then stay the same from call to call.

    The trial runs on zeros that infer a functional model's shapes leave the states alone.
    """

    states: Any = None
    stateful = False

    def _carried_states(self, batch_size: int, zeros: Any) -> Any:
        """The states to start a call from: ``zeros()`` (the zero structure) on the first call
        and in trial runs, else those the last call ended with."""
        if tracing() is not None:
            return zeros()
        if self.states is None:
            self.states = zeros()
        held = _nest.flatten(self.states)[0].shape[0]
        if held != batch_size:
            raise ValueError(
                f"{self.name}: stateful=True needs a fixed batch size (sample i of a batch "
                f"continues sample i of the previous one): its states are for batches of "
                f"{held}, got a batch of {batch_size}. Give every batch that size (Input("
                f"batch_shape=...), a batch_size that divides the data), or make a new layer")
        return self.states

    def _keep_states(self, states: Any) -> None:
        if self.stateful and tracing() is None:
            self.states = _nest.map_structure(
                lambda s: Tensor(s.xp.array(s.data, copy=True)), states)

    def reset_states(self, states: Any = None) -> None:
        """Zero the carried states (Keras), or set them to ``states`` (arrays or Tensors, in
        the order and shapes of ``layer.states``)."""
        if not self.stateful:
            raise AttributeError(f"{self.name}: reset_states() is for layers made with "
                                 "stateful=True")
        if self.states is None:
            if states is None:
                return
            self.states = [Tensor(np.asarray(s)) for s in _nest.flatten(states)]
        held = _nest.flatten(self.states)
        values = [None] * len(held) if states is None else _nest.flatten(states)
        if len(values) != len(held):
            raise ValueError(f"{self.name}: reset_states got {len(values)} states, the layer "
                             f"has {len(held)}")
        new = []
        for old, value in zip(held, values):
            data = old.xp.zeros_like(old.data) if value is None else old.xp.asarray(
                value.data if isinstance(value, Tensor) else value, dtype=old.dtype)
            if data.shape != old.shape:
                raise ValueError(f"{self.name}: reset_states: a state of shape {old.shape} "
                                 f"was given one of shape {data.shape}")
            new.append(Tensor(data))
        self.states = _nest.pack(self.states, new)

    def reset_state(self) -> None:
        """Keras 3's name for :meth:`reset_states`."""
        self.reset_states()
