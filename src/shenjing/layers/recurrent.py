"""Recurrent layers (Keras's SimpleRNN, LSTM, GRU, Bidirectional) and their cells.

A cell (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell``) owns the weights and computes one step with
autograd ops, for hand-written loops and ``layers.RNN`` (rnn.py): ``h, states = cell(x_t,
states)``. The layers wrap a cell and run the whole sequence through the fused kernel of
``F.recurrence`` (one GEMM for the input projection of every step, hand-written BPTT, one graph
node for the whole sequence), honouring masks from ``Embedding(mask_zero=True)`` or
``Masking``. What the kernels lack (other activations, a user's callable, ``GRU(reset_after=
False)``) runs the cell's autograd step at each time step instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import activations
from .. import functional as F
from ..autograd import Tensor
from ..backend import asnumpy, new_generator
from ..functional.recurrent import ACTIVATIONS
from . import constraints
from .layer import InputSpec, Layer, serialize_layer
from .stateful import StatefulMixin


def _activation(value: Any) -> Any:
    """The activation's name (None is 'linear'; the library's functions, as
    ``activations.tanh``, are named too), so the fused kernels run it when it is one of theirs;
    else the user's callable, which the layer runs step by step."""
    if value is None:
        return "linear"
    fn = activations.get(value)  # a clear error for an unknown name or what is no callable
    return activations.name_of(fn) or fn


def _apply(activation: Any, x: Tensor) -> Tensor:
    return activations.get(activation)(x)


def lstm_step(z: Tensor, c: Tensor, activation: Any, recurrent_activation: Any
              ) -> tuple[Tensor, Tensor]:
    """(h_t, c_t) from the gates' pre-activations z (i, f, g, o on the last axis) and c_{t-1}:
    c_t = f c_{t-1} + i g, h_t = o activation(c_t) (LSTMCell's and ConvLSTM's step)."""
    i, f, g, o = F.split(z, 4, axis=-1)
    rec = recurrent_activation
    c = _apply(rec, f) * c + _apply(rec, i) * _apply(activation, g)
    return _apply(rec, o) * _apply(activation, c), c


# The arguments a recurrent cell keeps for its three weights (ConvLSTM's cell too).
WEIGHT_OPTIONS = ("kernel_initializer", "recurrent_initializer", "bias_initializer",
                  "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                  "kernel_constraint", "recurrent_constraint", "bias_constraint")
# The Layer's own arguments among a recurrent layer's, the rest being its cell's.
LAYER_ARGUMENTS = ("name", "trainable", "dtype", "input_shape", "batch_input_shape",
                   "activity_regularizer")


def dropout_mask(cell: Layer, like: Tensor, rate: float) -> Tensor:
    """An inverted-dropout mask shaped as ``like`` (1 / (1 - rate) where kept) from the cell's
    dropout stream, made (seeded by its ``seed``) at its first mask."""
    if cell._generator is None:
        cell._generator = (np.random.default_rng(cell.seed) if cell.seed is not None
                           else new_generator())
    keep = cell._generator.random(like.shape) >= rate
    return Tensor(like.xp.asarray(keep.astype(like.dtype) / like.dtype.type(1 - rate)))


def keep_cell_options(cell: Layer, arguments: dict[str, Any]) -> None:
    """What a recurrent cell keeps of its ``arguments`` (its ``__init__``'s): its weights'
    initializers, regularizers and constraints, and its dropout rates (checked) and seed; its
    dropout stream is made at the first mask (``_lazy_streams``)."""
    for name in WEIGHT_OPTIONS:
        value = arguments[name]
        setattr(cell, name, constraints.get(value) if name.endswith("_constraint") else value)
    rates = {name: arguments[name] for name in ("dropout", "recurrent_dropout")}
    for name, rate in rates.items():
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {rate}")
    cell.dropout, cell.recurrent_dropout = (float(rate) for rate in rates.values())
    cell.seed = arguments["seed"]
    cell._generator = None


class _Cell(Layer):
    """Weights and one step of a recurrent cell; ``gates`` blocks of ``units`` per kernel."""

    gates = 1
    cell_name = "simple_rnn"
    _lazy_streams = ("_generator",)  # made at the first mask; a loaded file may make it

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"units must be a positive integer, got {units!r}")
        keep_cell_options(self, locals())
        self._dropout_mask: Tensor | None = None
        self._recurrent_dropout_mask: Tensor | None = None
        self.units = int(units)
        self.activation = _activation(activation)
        self.use_bias = use_bias

    @property
    def state_size(self) -> Any:
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    @property
    def n_states(self) -> int:
        return len(self.state_size) if isinstance(self.state_size, list) else 1

    def get_initial_state(self, batch_size: int | None = None) -> list[Tensor]:
        """Zeros, one (batch_size, units) array per state (Keras)."""
        return [Tensor._wrap(np.zeros((batch_size, self.units), dtype=self.dtype))
                for _ in range(self.n_states)]

    def build(self, input_shape: tuple) -> None:
        width = self.gates * self.units
        self.kernel = self.add_weight((input_shape[-1], width), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.recurrent_kernel = self.add_weight((self.units, width),
                                                self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint,
                                                name="recurrent_kernel")
        self.bias = (self.add_weight(self.bias_shape(), self.bias_initializer,
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint, name="bias")
                     if self.use_bias else None)

    def bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    # -- dropout (Keras's DropoutRNNCell): one mask per sequence, drawn at its first step ------
    def get_dropout_mask(self, step_input: Tensor) -> Tensor | None:
        """The inputs' dropout mask (1 / (1 - dropout) where kept), the same until
        ``reset_dropout_mask()`` (``RNN`` resets it for each sequence)."""
        if self._dropout_mask is None and self.dropout > 0:
            self._dropout_mask = dropout_mask(self, step_input, self.dropout)
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, step_state: Tensor) -> Tensor | None:
        """The mask of h_{t-1} before the recurrent kernel, as :meth:`get_dropout_mask`."""
        if self._recurrent_dropout_mask is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = dropout_mask(self, step_state,
                                                        self.recurrent_dropout)
        return self._recurrent_dropout_mask

    def reset_dropout_mask(self) -> None:
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self) -> None:
        self._recurrent_dropout_mask = None

    def _dropped(self, inputs: Tensor, h: Tensor, training: bool | None) -> tuple[Tensor, Tensor]:
        """``inputs`` and h_{t-1} under their dropout masks in training (Keras 3's cells)."""
        if training and self.dropout > 0:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and self.recurrent_dropout > 0:
            h = h * self.get_recurrent_dropout_mask(h)
        return inputs, h

    def call(self, inputs: Tensor, states: Any,
             training: bool | None = None) -> tuple[Tensor, list[Tensor]]:
        h = states[0] if isinstance(states, (list, tuple)) else states
        inputs, h = self._dropped(inputs, h, training)
        h = _apply(self.activation, F.linear(inputs, self.kernel, self.bias)
                   + h @ self.recurrent_kernel)
        return h, [h]


class SimpleRNNCell(_Cell):
    """h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias) (Elman's RNN)."""


class LSTMCell(_Cell):
    """Long short-term memory (Hochreiter & Schmidhuber), Keras's gate order i, f, c, o:
    c_t = f c_{t-1} + i g,  h_t = o activation(c_t), with i, f, o = recurrent_activation(...)
    and g = activation(...). ``unit_forget_bias`` starts the forget gate's bias at 1."""

    gates = 4
    cell_name = "lstm"

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 unit_forget_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation, **kwargs)
        self.recurrent_activation = _activation(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias

    @property
    def state_size(self) -> list[int]:
        return [self.units, self.units]

    def build(self, input_shape: tuple) -> None:
        super().build(input_shape)
        if self.bias is not None and self.unit_forget_bias:
            self.bias.data[self.units:2 * self.units] = 1.0

    def call(self, inputs: Tensor, states: Any,
             training: bool | None = None) -> tuple[Tensor, list[Tensor]]:
        h, c = states
        inputs, h = self._dropped(inputs, h, training)  # c is not dropped (Keras)
        z = F.linear(inputs, self.kernel, self.bias) + h @ self.recurrent_kernel
        h, c = lstm_step(z, c, self.activation, self.recurrent_activation)
        return h, [h, c]


class GRUCell(_Cell):
    """Gated recurrent unit (Cho et al.), Keras's gate order z, r, h. With ``reset_after=True``
    (the default; the form of cuDNN and torch; bias (2, 3 * units): input and recurrent biases):
    h_t = z h_{t-1} + (1 - z) activation(x W_h + b_h + r (h_{t-1} U_h + b'_h)).
    With ``reset_after=False`` (the original GRU; one bias (3 * units,)) the reset gate acts
    before the recurrent product: activation(x W_h + b_h + (r h_{t-1}) U_h); the layer then
    runs it step by step (the fused kernel is reset_after's)."""

    gates = 3
    cell_name = "gru"

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 reset_after: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation, **kwargs)
        self.recurrent_activation = _activation(recurrent_activation)
        self.reset_after = bool(reset_after)

    def bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs: Tensor, states: Any,
             training: bool | None = None) -> tuple[Tensor, list[Tensor]]:
        h = states[0] if isinstance(states, (list, tuple)) else states
        # recurrent dropout drops h_{t-1} where the recurrent kernel reads it; the update gate
        # mixes the whole h_{t-1} into the new state (Keras 3's GRUCell, as the fused layer)
        inputs, dropped = self._dropped(inputs, h, training)
        rec = self.recurrent_activation
        if not self.reset_after:
            a_z, a_r, a_h = F.split(F.linear(inputs, self.kernel, self.bias), 3, axis=-1)
            u = self.recurrent_kernel
            q_z, q_r = F.split(dropped @ u[:, :2 * self.units], 2, axis=-1)
            z, r = _apply(rec, a_z + q_z), _apply(rec, a_r + q_r)
            hh = _apply(self.activation, a_h + (r * dropped) @ u[:, 2 * self.units:])
            h = z * h + (1 - z) * hh
            return h, [h]
        a = inputs @ self.kernel
        q = dropped @ self.recurrent_kernel
        if self.bias is not None:
            a, q = a + self.bias[0], q + self.bias[1]
        a_z, a_r, a_h = F.split(a, 3, axis=-1)
        q_z, q_r, q_h = F.split(q, 3, axis=-1)
        z, r = _apply(rec, a_z + q_z), _apply(rec, a_r + q_r)
        hh = _apply(self.activation, a_h + r * q_h)
        h = z * h + (1 - z) * hh
        return h, [h]


def _repeat_last_output(seq: Tensor, real: Any) -> Tensor:
    """Keras's outputs at masked steps: the output of the last real step before (zeros before
    the first), where ``seq`` (the kernels') has zeros; ``real`` (batch, time) in seq's step
    order. One gather, so a repeated output's gradient reaches the step that made it."""
    real = asnumpy(real)
    steps = np.arange(1, real.shape[1] + 1)
    source = np.maximum.accumulate(np.where(real, steps, 0), axis=1)  # 0: the zeros in front
    if (source == steps).all():
        return seq
    padded = F.pad(seq, ((0, 0), (1, 0), (0, 0)))
    return F.take_along_axis(padded, seq.xp.asarray(source[:, :, None]), 1)


class _RNN(StatefulMixin, Layer):
    """A recurrent layer: its cell run over whole sequences by the fused kernel.

    Args (Keras's): the cell's arguments, and
        dropout: fraction of the inputs dropped in training (one mask per sequence, the same at
            every step); recurrent_dropout: the same for h_{t-1} before the recurrent kernel.
        return_sequences: output every step (batch, time, units) instead of the last.
        return_state: also return the final states ([output, h] or [output, h, c]).
        go_backwards: process each sequence from its end (outputs in that order, as Keras).
        zero_output_for_mask: with a mask and ``return_sequences``, a masked step outputs
            zeros; by default it repeats the last real step's output (zeros before the first),
            as Keras's RNN and ``RNN(cell)`` (the final states are the last real step's either
            way).
        stateful: the final states of a batch are the initial states of the next, kept in
            ``states`` until ``reset_states()``; the batch size must stay fixed.
        unroll: accepted for Keras code (the same result: the kernel loops either way).
        seed: the dropout masks' random stream.

    Call: ``layer(x, mask=None, initial_state=None, training=False)``; x is (batch, time,
    features); ``mask`` (batch, time) booleans (True at real steps) usually arrives from an
    ``Embedding(mask_zero=True)`` or ``Masking`` layer before it.
    """

    cell_class: type[_Cell] = SimpleRNNCell

    def __init__(self, units: int, *, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 seed: int | None = None, zero_output_for_mask: bool = False,
                 **cell_kwargs: Any) -> None:
        layer_kwargs = {k: cell_kwargs.pop(k) for k in LAYER_ARGUMENTS if k in cell_kwargs}
        super().__init__(**layer_kwargs)
        # the cell checks and holds the rates too (its config is the layer's), for RNN(cell)
        # and hand-written loops; the layer applies them itself, one mask per sequence. It
        # gets the layer's dtype and trainable, as Keras's (a float64 layer's weights are)
        shared = {k: layer_kwargs[k] for k in ("dtype", "trainable") if k in layer_kwargs}
        self.cell = self.cell_class(units, dropout=dropout, recurrent_dropout=recurrent_dropout,
                                    seed=seed, **shared, **cell_kwargs)
        self.units = self.cell.units
        self.dropout, self.recurrent_dropout = dropout, recurrent_dropout
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards, self.seed = go_backwards, seed
        self.stateful, self.unroll = stateful, unroll
        self.zero_output_for_mask = zero_output_for_mask
        self.states = None
        self._generator = np.random.default_rng(seed) if seed is not None else new_generator()
        self.input_spec = InputSpec(ndim=3)

    def get_config(self) -> dict[str, Any]:
        """Keras's flat config: the cell's options (activation, initializers, ...), which
        ``__init__`` passes through to the cell, then the layer's own."""
        cell = {k: v for k, v in self.cell.get_config().items()
                if k not in ("name", "trainable", "dtype")}
        return {**cell, **{k: v for k, v in super().get_config().items() if k not in cell}}

    def build(self, input_shape: tuple) -> None:
        self.cell.build(input_shape)
        self.input_spec = InputSpec(ndim=3, axes={-1: input_shape[-1]})

    def call(self, x: Tensor, training: bool = False, mask: Any = None,
             initial_state: Any = None) -> Any:
        cell = self.cell
        n = x.shape[0]
        xp = x.xp
        def zeros() -> list[Tensor]:
            return [Tensor(xp.zeros((n, cell.units), dtype=x.dtype)) for _ in range(cell.n_states)]

        if initial_state is None:
            states = self._carried_states(n, zeros) if self.stateful else zeros()
        else:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [
                initial_state]
            states = [s if isinstance(s, Tensor) else Tensor(s, dtype=x.dtype) for s in states]
        rec_mask = None
        if training and self.dropout:
            keep = self._generator.random((n, 1, x.shape[-1])) >= self.dropout
            x = x * Tensor(keep.astype(x.dtype) / (1 - self.dropout))
        if training and self.recurrent_dropout:
            keep = self._generator.random((n, self.units)) >= self.recurrent_dropout
            rec_mask = keep.astype(x.dtype) / x.dtype.type(1 - self.recurrent_dropout)
        if mask is not None:
            mask = xp.asarray(mask.data if isinstance(mask, Tensor) else mask, dtype=bool)
        self._check_call(x, states, mask)
        acts = (cell.activation, getattr(cell, "recurrent_activation", "sigmoid"))
        if all(isinstance(a, str) and a in ACTIVATIONS for a in acts) and getattr(
                cell, "reset_after", True):
            seq, *final = F.recurrence(cell.cell_name, x, cell.kernel, cell.recurrent_kernel,
                                       cell.bias, states, mask=mask, reverse=self.go_backwards,
                                       recurrent_mask=rec_mask, activation=acts[0],
                                       recurrent_activation=acts[1])
        elif rec_mask is not None:
            raise ValueError(f"{self.name}: recurrent_dropout needs activations the fused "
                             f"kernels implement ({', '.join(ACTIVATIONS)}), got {acts}, "
                             "and GRU's reset_after=True")
        else:
            seq, *final = self._step_by_step(x, states, mask)
        self._keep_states(final)
        if mask is not None and self.return_sequences and not self.zero_output_for_mask:
            seq = _repeat_last_output(seq, mask[:, ::-1] if self.go_backwards else mask)
        out = seq if self.return_sequences else final[0]
        return [out, *final] if self.return_state else out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return sequence_mask(self, mask)

    def _check_call(self, x: Tensor, states: list[Tensor], mask: Any) -> None:
        """The mask and initial states fit x, named by the layer (on either path: the fused
        kernel's checks, or the step-by-step loop's bare broadcasting errors, came later)."""
        n, steps = x.shape[:2]
        kind = f"Layer '{self.name}' ({type(self).__name__})"
        if mask is not None and tuple(mask.shape) != (n, steps):
            raise ValueError(f"{kind}: mask of shape {tuple(mask.shape)} does not match the "
                             f"inputs {x.shape} (expected (batch, steps) = {(n, steps)})")
        want = (n, self.cell.units)
        if len(states) != self.cell.n_states or any(s.shape != want for s in states):
            raise ValueError(f"{kind} expects {self.cell.n_states} initial state(s) of shape "
                             f"{want}, got {[tuple(s.shape) for s in states]}")

    def _step_by_step(self, x: Tensor, states: list[Tensor], mask: Any) -> list[Tensor]:
        """[sequence, *final states] as ``F.recurrence`` gives them, by the cell's autograd step
        at each time step: for activations the fused kernels lack."""
        steps = range(x.shape[1])
        outputs = []
        for t in reversed(steps) if self.go_backwards else steps:
            # training=False: the layer applied the input dropout to x already
            h, new_states = self.cell(x[:, t], states, training=False)
            if mask is not None:  # a padded step: zero output, the states carried over
                real = mask[:, t:t + 1]
                h = F.where(real, h, 0.0)
                new_states = [F.where(real, s, old) for s, old in zip(new_states, states)]
            outputs.append(h)
            states = new_states
        return [F.stack(outputs, axis=1), *states]


class SimpleRNN(_RNN):
    """A fully connected RNN whose output is fed back (Elman): see :class:`SimpleRNNCell`."""

    cell_class = SimpleRNNCell


class LSTM(_RNN):
    """Long short-term memory layer: see :class:`LSTMCell` (Keras defaults: tanh, sigmoid,
    orthogonal recurrent kernel, unit_forget_bias=True)."""

    cell_class = LSTMCell


class GRU(_RNN):
    """Gated recurrent unit layer (``reset_after=True`` by default): see :class:`GRUCell`."""

    cell_class = GRUCell


class Bidirectional(Layer):
    """Run a recurrent layer and another in the opposite direction (``go_backwards`` flipped)
    over each sequence and merge the two outputs. The backward sequence outputs are put back in time
    order, so step t of both halves describes the same input step; with a mask, the backward
    half starts at each sequence's last real step.

    Args:
        layer: a SimpleRNN, LSTM or GRU, or an ``RNN(cell)`` (any cell, run step by step).
        merge_mode: 'concat' (default), 'sum', 'mul', 'ave', or None (a list of both).
        backward_layer: the backward layer, with ``go_backwards`` opposite to ``layer``'s and the
            same ``return_sequences`` and ``return_state`` (default: a copy of ``layer`` with
            fresh weights and ``go_backwards`` flipped, as Keras).
    """

    _MERGES = ("concat", "sum", "mul", "ave", None)

    def __init__(self, layer: Any, merge_mode: str | None = "concat",
                 backward_layer: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(layer, dict):  # from a saved config
            from ..io.saving import deserialize_layer

            layer = deserialize_layer(layer)
            backward_layer = backward_layer and deserialize_layer(backward_layer)
        if not _is_recurrent(layer):
            raise ValueError(f"Bidirectional wraps a recurrent layer (SimpleRNN, LSTM, GRU or "
                             f"RNN(cell)), got {type(layer).__name__}")
        if merge_mode not in self._MERGES:
            raise ValueError(f"merge_mode must be one of {self._MERGES}, got {merge_mode!r}")
        self.forward_layer = layer
        if backward_layer is None:
            config = layer.get_config()
            config["name"] = "backward_" + layer.name
            config["go_backwards"] = not layer.go_backwards
            backward_layer = type(layer).from_config(config)
        _check_backward_layer(layer, backward_layer)
        # as Keras: with sequences, a masked step of either half outputs zeros (not its last
        # real output), so the merged sequence is 0 there
        for half in (layer, backward_layer):
            half.zero_output_for_mask = layer.return_sequences
        self.backward_layer = backward_layer
        self.merge_mode = merge_mode
        spec = getattr(layer, "input_spec", None)  # (batch, time, features), or ConvLSTM2D's
        self.input_spec = InputSpec(ndim=spec.ndim) if spec is not None and spec.ndim else None

    def get_config(self) -> dict[str, Any]:
        """As Keras 3: ``layer`` is the forward layer, ``backward_layer`` the one in use (a
        copy of ``layer`` with go_backwards flipped, where none was given)."""
        return {**super().get_config(), "layer": serialize_layer(self.forward_layer),
                "backward_layer": serialize_layer(self.backward_layer)}

    def call(self, x: Tensor, training: bool | None = None, mask: Any = None) -> Any:
        mask_data = mask.data if isinstance(mask, Tensor) else mask
        fwd = self.forward_layer(x, training=training, mask=mask_data)
        bwd = self.backward_layer(x, training=training, mask=mask_data)
        f_out, f_states = (fwd[0], fwd[1:]) if self.forward_layer.return_state else (fwd, [])
        b_out, b_states = (bwd[0], bwd[1:]) if self.backward_layer.return_state else (bwd, [])
        if self.backward_layer.return_sequences:  # processing order back to time order
            b_out = b_out[:, ::-1]
        if self.merge_mode is None:
            merged = [f_out, b_out]
        elif self.merge_mode == "concat":
            merged = F.concatenate([f_out, b_out], axis=-1)
        elif self.merge_mode == "sum":
            merged = f_out + b_out
        elif self.merge_mode == "mul":
            merged = f_out * b_out
        else:
            merged = (f_out + b_out) * 0.5
        if self.forward_layer.return_state:
            head = merged if isinstance(merged, list) else [merged]
            return [*head, *f_states, *b_states]
        return merged

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """Keras 3's: the input's mask on the merged sequence (on both halves when
        ``merge_mode`` is None), None on the states."""
        if not self.forward_layer.return_sequences:
            return None
        masks = [mask, mask] if self.merge_mode is None else [mask]
        return masks if self.forward_layer.return_state or self.merge_mode is None else mask


def sequence_mask(layer: Any, mask: Any) -> Any:
    """The output mask of a recurrent layer, as Keras 3's: the input's mask on the sequence
    output, unchanged (with ``go_backwards`` too, though that output runs backwards), and
    None on the states (a list of one: only the first output is paired)."""
    out = mask if layer.return_sequences else None
    return [out] if layer.return_state else out


def _is_recurrent(layer: Any) -> bool:
    """A SimpleRNN, LSTM or GRU, or the generic ``RNN(cell)`` (rnn.py, imported only here)."""
    if isinstance(layer, _RNN):
        return True
    from .rnn import RNN

    return isinstance(layer, RNN)


def _check_backward_layer(forward: _RNN, backward: Any) -> None:
    """Keras's rules for a given ``backward_layer``: a recurrent layer that runs the other way
    and returns the same things."""
    if not _is_recurrent(backward):
        raise ValueError(f"Bidirectional: backward_layer must be a recurrent layer (SimpleRNN, "
                         f"LSTM, GRU or RNN(cell)), got {type(backward).__name__}")
    if backward.go_backwards == forward.go_backwards:
        raise ValueError(f"Bidirectional: backward_layer must have go_backwards different from "
                         f"the forward layer's (both are {forward.go_backwards}); pass "
                         f"backward_layer=...(go_backwards={not forward.go_backwards})")
    for attr in ("return_sequences", "return_state"):
        if getattr(backward, attr) != getattr(forward, attr):
            raise ValueError(f"Bidirectional: backward_layer must have the same {attr} as the "
                             f"forward layer ({getattr(forward, attr)}), got "
                             f"{getattr(backward, attr)}")
