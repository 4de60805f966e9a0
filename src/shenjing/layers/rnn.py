"""Keras's generic ``RNN`` layer (any cell, run by a Python loop over the time steps),
and ``StackedRNNCells`` (loaded on first use: ``layers.RNN``).

``RNN(cell)`` runs a cell with ``state_size`` and ``call(inputs, states[, training])`` returning
``(output, new_states)``: the library's cells or one of yours, with several states or states of
any shape, and nested inputs and outputs (a tuple of sequences in, a tuple of outputs out), as
the Keras guide's custom cells. Each step is the cell's own autograd ops, so gradients flow
through the loop with no gradient code here. The built-in ``SimpleRNN``/``LSTM``/``GRU`` keep
their fused whole-sequence kernels; ``RNN(LSTMCell(n))`` computes the same values, step by step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _nest
from .. import functional as F
from ..autograd import Tensor
from .layer import Layer
from .recurrent import sequence_mask
from .stateful import StatefulMixin


def _deserialize(value: Any) -> Any:
    if isinstance(value, dict):  # from a saved config
        from ..io.saving import deserialize_layer

        return deserialize_layer(value)
    return value


def _check_cell(cell: Any, where: str) -> None:
    if not callable(cell) or not hasattr(cell, "state_size"):
        raise ValueError(f"{where}: a cell needs a `state_size` attribute and a "
                         f"`call(inputs, states)` method, got {type(cell).__name__}")


def _shape(size: Any) -> tuple[int, ...]:
    """One state's shape without the batch axis: an int, or a shape (list, tuple, or an object
    with ``as_list`` as TensorFlow's TensorShape)."""
    if hasattr(size, "as_list"):
        size = size.as_list()
    return (int(size),) if isinstance(size, (int, np.integer)) else tuple(int(s) for s in size)


def zero_states(cell: Any, batch_size: int, dtype: Any = "float32") -> list[Any]:
    """The cell's initial states: its ``get_initial_state(batch_size)`` where it has one, else
    zeros of (batch, *size) for each entry of its ``state_size`` (an int is one state)."""
    get = getattr(cell, "get_initial_state", None)
    if get is not None:
        states = get(batch_size=batch_size)
        return list(states) if isinstance(states, (list, tuple)) else [states]
    sizes = cell.state_size
    sizes = [sizes] if isinstance(sizes, (int, np.integer)) else list(sizes)
    return [Tensor(np.zeros((batch_size, *_shape(s)), dtype=dtype)) for s in sizes]


def _given_states(initial_state: Any, structure: Any, name: str, dtype: Any) -> Any:
    """``initial_state`` (nested as the states, or flat) in the states' nesting, as Tensors."""
    given = [s if isinstance(s, Tensor) else Tensor(np.asarray(s), dtype=dtype)
             for s in _nest.flatten(initial_state)]
    expected = _nest.flatten(structure)
    if len(given) != len(expected):
        raise ValueError(f"{name}: initial_state has {len(given)} states, the cell takes "
                         f"{len(expected)}")
    for g, e in zip(given, expected):
        if tuple(g.shape) != tuple(e.shape):
            raise ValueError(f"{name}: an initial state of shape {tuple(g.shape)} was given "
                             f"where the cell's has shape {tuple(e.shape)}")
    return _nest.pack(structure, given)


class RNN(StatefulMixin, Layer):
    """Run a cell over every time step of its input (Keras's base recurrent layer).

    Args (Keras 3's):
        cell: a cell (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell``, or your ``Layer`` with a
            ``state_size`` — an int, or a list with one entry, an int or a shape, per state —
            and ``call(inputs, states)`` returning ``(output, new_states)``), or a list of
            cells, stacked (:class:`StackedRNNCells`).
        return_sequences: output every step (batch, time, ...) instead of the last.
        return_state: also return the final states, flattened: ``[output, *states]``.
        go_backwards: process each sequence from its end (outputs in that order, as Keras).
        stateful: the final states of a batch are the initial states of the next
            (``reset_states()`` zeroes them); the batch size must stay fixed.
        unroll: accepted for Keras code; the loop is a Python loop either way.
        zero_output_for_mask: with ``return_sequences``, a masked step outputs zeros; by
            default it repeats the previous step's output, as Keras.

    Call: ``layer(x, mask=None, initial_state=None, training=None)``; x is (batch, time, ...)
    or a list/tuple of such (the cell then gets a list per step). At a masked step (``mask``
    False) the states are carried over unchanged.

    >>> layer = RNN(LSTMCell(8), return_sequences=True)   # LSTM(8)'s values, step by step
    """

    def __init__(self, cell: Any, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        cell = _deserialize(cell)
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        _check_cell(cell, f"RNN '{self.name}'")
        self.cell = cell
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards, self.stateful, self.unroll = go_backwards, stateful, unroll
        self.zero_output_for_mask = zero_output_for_mask
        self.states = None

    @property
    def state_size(self) -> Any:
        return self.cell.state_size

    def build(self, input_shape: Any) -> None:
        nested = isinstance(input_shape, list) and input_shape and isinstance(
            input_shape[0], (list, tuple))
        step = ([(s[0], *s[2:]) for s in input_shape] if nested
                else (input_shape[0], *input_shape[2:]))
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build(step)

    def get_initial_state(self, batch_size: int) -> list[Any]:
        return zero_states(self.cell, batch_size, self.dtype)

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None,
             initial_state: Any = None) -> Any:
        sequences = _nest.flatten(inputs)
        n, t_len = sequences[0].shape[:2]
        xp = sequences[0].xp
        if isinstance(mask, (list, tuple)):  # one mask per input: Keras takes the first
            mask = next((m for m in mask if m is not None), None)
        if mask is not None:
            mask = xp.asarray(mask.data if isinstance(mask, Tensor) else mask, dtype=bool)
            if tuple(mask.shape) != (n, t_len):  # (as the fused layers check it)
                raise ValueError(f"Layer '{self.name}' (RNN): mask of shape "
                                 f"{tuple(mask.shape)} does not match the inputs' (batch, "
                                 f"steps) = {(n, t_len)}")

        def zeros() -> Any:
            return self.get_initial_state(n)

        if initial_state is not None:
            states = _given_states(initial_state, zeros(), self.name, self.dtype)
        else:
            states = self._carried_states(n, zeros) if self.stateful else zeros()
        kwargs = {"training": training} if isinstance(self.cell, Layer) else {}
        zero_out = self.zero_output_for_mask and self.return_sequences
        _reset_dropout_masks(self.cell)  # Keras: the cells draw one mask per sequence
        outputs: list[Any] = []
        for t in reversed(range(t_len)) if self.go_backwards else range(t_len):
            step = _nest.pack(inputs, [x[:, t] for x in sequences]) if isinstance(
                inputs, (list, tuple)) else inputs[:, t]
            out, new_states = self.cell(step, states, **kwargs)
            if not isinstance(new_states, (list, tuple)):
                new_states = [new_states]
            if mask is not None:  # a masked step: the states carried over, as Keras
                real = mask[:, t]
                new_states = _where(real, new_states, states)
                out = _where(real, out, None if zero_out or not outputs else outputs[-1])
            outputs.append(out)
            states = new_states
        self._keep_states(states)
        _reset_dropout_masks(self.cell)
        if self.return_sequences:
            leaves = [F.stack(list(step), axis=1)
                      for step in zip(*(_nest.flatten(o) for o in outputs))]
            output = _nest.pack(outputs[0], leaves)
        else:
            output = outputs[-1]
        return [output, *_nest.flatten(states)] if self.return_state else output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, (list, tuple)):
            mask = next((m for m in mask if m is not None), None)
        return sequence_mask(self, mask)


def _reset_dropout_masks(cell: Any) -> None:
    """Forget the dropout masks of ``cell`` (and of the cells it stacks), as Keras's RNN does
    before and after each call."""
    for c in getattr(cell, "cells", [cell]):
        for reset in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
            getattr(c, reset, lambda: None)()


def _where(real: Any, new: Any, old: Any) -> Any:
    """``new`` at the samples where ``real`` (batch,) is True, else ``old`` (zeros if None),
    leaf by leaf through nested structures."""
    leaves = _nest.flatten(new)
    olds = [None] * len(leaves) if old is None else _nest.flatten(old)
    picked = [F.where(real.reshape((-1,) + (1,) * (leaf.ndim - 1)), leaf,
                      0.0 if prev is None else prev) for leaf, prev in zip(leaves, olds)]
    return _nest.pack(new, picked)


class StackedRNNCells(Layer):
    """Cells run one after the other at each time step, as one cell (Keras's): the output of
    each is the input of the next; the states are one entry per cell, each that cell's states.

    >>> layer = RNN(StackedRNNCells([LSTMCell(8), LSTMCell(8)]))  # or RNN([cell, cell])
    """

    def __init__(self, cells: list[Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        cells = [_deserialize(c) for c in cells]
        for cell in cells:
            _check_cell(cell, f"StackedRNNCells '{self.name}'")
        self.cells = cells

    @property
    def state_size(self) -> list[Any]:
        return [c.state_size for c in self.cells]

    @property
    def output_size(self) -> Any:
        last = self.cells[-1]
        size = getattr(last, "output_size", None)
        if size is not None:
            return size
        return last.state_size[0] if isinstance(last.state_size, (list, tuple)) else (
            last.state_size)

    def get_initial_state(self, batch_size: int | None = None) -> list[Any]:
        return [zero_states(c, batch_size, self.dtype) for c in self.cells]

    def build(self, input_shape: Any) -> None:
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(input_shape)
            size = getattr(cell, "output_size", None)
            if size is None:
                size = cell.state_size
                size = size[0] if isinstance(size, (list, tuple)) else size
            input_shape = (input_shape[0], *_shape(size))

    def call(self, inputs: Any, states: Any, training: bool | None = None) -> Any:
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            nested = isinstance(cell_states, (list, tuple))
            kwargs = {"training": training} if isinstance(cell, Layer) else {}
            inputs, cell_states = cell(inputs, list(cell_states) if nested else [cell_states],
                                       **kwargs)
            if not isinstance(cell_states, (list, tuple)):
                cell_states = [cell_states]
            new_states.append(cell_states if nested or len(cell_states) != 1
                              else cell_states[0])
        return inputs, new_states
