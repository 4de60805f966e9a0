"""pad_sequences (keras.utils.pad_sequences, keras.preprocessing.sequence.pad_sequences): the
padding and truncating sides, value, dtype, steps that are vectors, and bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing.data.sequence import pad_sequences

SEQS = [[1, 2, 3, 4], [5], [], [6, 7]]


@pytest.mark.parametrize("padding, truncating, expected", [
    ("pre", "pre", [[2, 3, 4], [0, 0, 5], [0, 0, 0], [0, 6, 7]]),
    ("post", "pre", [[2, 3, 4], [5, 0, 0], [0, 0, 0], [6, 7, 0]]),
    ("pre", "post", [[1, 2, 3], [0, 0, 5], [0, 0, 0], [0, 6, 7]]),
    ("post", "post", [[1, 2, 3], [5, 0, 0], [0, 0, 0], [6, 7, 0]]),
])
def test_sides_of_padding_and_truncating(padding, truncating, expected):
    out = pad_sequences(SEQS, maxlen=3, padding=padding, truncating=truncating)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, expected)


def test_defaults_value_dtype_and_vector_steps():
    np.testing.assert_array_equal(pad_sequences(SEQS), [[1, 2, 3, 4], [0, 0, 0, 5],
                                                        [0, 0, 0, 0], [0, 0, 6, 7]])
    out = pad_sequences([[0.5], [1.5, 2.5]], dtype="float32", value=-1.0)
    np.testing.assert_array_equal(out, np.array([[-1.0, 0.5], [1.5, 2.5]], np.float32))
    steps = pad_sequences([np.ones((1, 2)), np.full((3, 2), 2.0)], maxlen=2, dtype="float64")
    assert steps.shape == (2, 2, 2)
    np.testing.assert_array_equal(steps[0], [[0, 0], [1, 1]])
    assert pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)
    texts = pad_sequences([["a"], ["b", "c"]], dtype=object, value="<pad>")
    assert texts.tolist() == [["<pad>", "a"], ["b", "c"]]


def test_keras_names_reach_it():
    assert sj.utils.pad_sequences is pad_sequences
    assert sj.preprocessing.sequence.pad_sequences is pad_sequences


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="padding must be 'pre' or 'post'"):
        pad_sequences(SEQS, padding="left")
    with pytest.raises(ValueError, match="truncating must be"):
        pad_sequences(SEQS, truncating="middle")
    with pytest.raises(ValueError, match="list of sequences"):
        pad_sequences([[1], 5])
    with pytest.raises(ValueError, match="string padding value"):
        pad_sequences(SEQS, value="x")
    with pytest.raises(ValueError, match=r"sequence 1 has steps of shape \(3,\)"):
        pad_sequences([np.ones((2, 2)), np.ones((2, 3))])
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match=f"maxlen must be an integer >= 0 or None, got {bad}"):
            pad_sequences(SEQS, maxlen=bad)
    assert pad_sequences(SEQS, maxlen=np.int64(0)).shape == (len(SEQS), 0)
