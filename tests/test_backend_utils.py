"""keras.backend.clear_session and keras.utils.split_dataset."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing.layers import Dense


def test_clear_session_restarts_the_layer_names_as_keras(monkeypatch):
    from shenjing.layers import layer

    monkeypatch.setattr(layer, "_name_counts", dict(layer._name_counts))  # restored after:
    Dense(2), Dense(2)  # later tests' auto-generated names must not depend on this one
    sj.backend.clear_session()
    assert [Dense(2).name, Dense(2).name, sj.layers.Dropout(0.1).name] == [
        "dense", "dense_1", "dropout"]
    sj.backend.clear_session(free_memory=False)
    assert sj.Sequential([sj.Input((3,)), Dense(1)]).layers[0].name == "dense"


def test_split_dataset_takes_the_first_rows_left_and_the_next_right():
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    left, right = sj.utils.split_dataset((x, y), left_size=0.8)
    assert [int(b) for _, b in left] == list(range(8))
    assert [int(b) for _, b in right] == [8, 9]
    np.testing.assert_array_equal(next(iter(right))[0], [16.0, 17.0])  # rows stay paired
    left, right = sj.utils.split_dataset([x, y], left_size=3, right_size=2)
    assert [int(b) for _, b in right] == [3, 4]
    left, right = sj.utils.split_dataset({"y": y}, right_size=4, shuffle=True, seed=7)
    rows = [int(e["y"]) for e in left] + [int(e["y"]) for e in right]
    assert len(rows) == 10 and sorted(rows) == list(range(10)) and rows != list(range(10))
    again = sj.utils.split_dataset({"y": y}, right_size=4, shuffle=True, seed=7)[1]
    assert [int(e["y"]) for e in again] == rows[6:]  # the seed fixes the order


@pytest.mark.parametrize("sizes, match", [({}, "left_size or right_size"),
                                          ({"left_size": 1.5}, "left_size must be"),
                                          ({"right_size": 11}, "right_size must be"),
                                          ({"left_size": 6, "right_size": 5}, "do not split"),
                                          ({"left_size": 10}, "do not split")])
def test_split_dataset_sizes_must_leave_two_parts(sizes, match):
    with pytest.raises(ValueError, match=match):
        sj.utils.split_dataset(np.arange(10), **sizes)
