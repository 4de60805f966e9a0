"""Calls with inputs, masks or states that do not fit: a ValueError naming the layer and the
shapes, not a broadcasting error from deep inside an op."""

from __future__ import annotations

import numpy as np
import pytest

from shenjing import layers as L


def _t(*shape):
    return np.ones(shape, np.float32)


CASES = {
    "mha_batch": (lambda: L.MultiHeadAttention(2, 3)(_t(2, 4, 5), _t(3, 4, 5)),
                  r"MultiHeadAttention.*one batch size.*value \(3, 4, 5\)"),
    "mha_attention_mask": (lambda: L.MultiHeadAttention(2, 3)(
        _t(2, 4, 5), _t(2, 6, 5), attention_mask=np.ones((2, 4, 5), bool)),
        r"attention_mask of shape \(2, 4, 5\) does not broadcast to .* \(2, 4, 6\)"),
    "attention_batch": (lambda: L.Attention()([_t(2, 4, 5), _t(3, 4, 5)]),
                        r"\(Attention\) needs one batch size"),
    "attention_value_mask": (lambda: L.Attention()([_t(2, 4, 5), _t(2, 3, 5)],
                                                   mask=[None, np.ones((2, 4), bool)]),
                             r"value_mask of shape \(2, 4\) does not match .* \(2, 3\)"),
    "additive_attention_query_mask": (lambda: L.AdditiveAttention()(
        [_t(2, 4, 5), _t(2, 3, 5)], mask=[np.ones((2, 3), bool), None]),
        r"query_mask of shape \(2, 3\) does not match .* \(2, 4\)"),
    "global_average_pooling_mask": (lambda: L.GlobalAveragePooling1D()(
        _t(2, 4, 5), mask=np.ones((2, 3), bool)),
        r"GlobalAveragePooling1D.*mask of shape \(2, 3\) does not match .* \(2, 4\)"),
    "rnn_step_by_step_mask": (lambda: L.SimpleRNN(3, activation="elu")(
        _t(2, 4, 5), mask=np.ones((2, 3), bool)),
        r"\(SimpleRNN\): mask of shape \(2, 3\) does not match the inputs \(2, 4, 5\)"),
    "rnn_step_by_step_state": (lambda: L.SimpleRNN(3, activation="elu")(
        _t(2, 4, 5), initial_state=[_t(2, 4)]),
        r"\(SimpleRNN\) expects 1 initial state\(s\) of shape \(2, 3\), got \[\(2, 4\)\]"),
    "rnn_of_a_cell_mask": (lambda: L.RNN(L.GRUCell(3))(_t(2, 4, 5), mask=np.ones((2, 3), bool)),
                           r"\(RNN\): mask of shape \(2, 3\) does not match .* \(2, 4\)"),
    "mha_mask_of_more_axes": (lambda: L.MultiHeadAttention(2, 3)(
        _t(2, 4, 5), _t(2, 6, 5), attention_mask=np.ones((2, 1, 4, 6), bool)),
        r"attention_mask of shape \(2, 1, 4, 6\) does not broadcast"),
    "lstm_state_count": (lambda: L.LSTM(3)(_t(2, 4, 5), initial_state=[_t(2, 3)]),
                         r"\(LSTM\) expects 2 initial state\(s\)"),
    "conv1d_too_short": (lambda: L.Conv1D(2, 3, dilation_rate=2)(_t(1, 4, 2)),
                         r"\(Conv1D\): 4 steps are fewer than the kernel spans .*: 5\) .* "
                         r"\(1, 4, 2\)"),
}


@pytest.mark.parametrize("name", CASES)
def test_a_call_that_does_not_fit_names_the_layer_and_the_shapes(name):
    call, message = CASES[name]
    with pytest.raises(ValueError, match=message):
        call()
