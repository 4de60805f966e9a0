"""Training as a user breaks it: bad data, bad arguments and a diverging loss get a message
that says where and what to do, and lose nothing (no update from a non-finite loss)."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing import callbacks, layers, optimizers
from shenjing.callbacks import TerminateOnNaN
from shenjing.models import data_adapter as da


def _data(n: int = 20):
    rng = np.random.default_rng(0)
    return rng.random((n, 4)).astype(np.float32), rng.integers(0, 3, n)


def _model(loss="sparse_categorical_crossentropy", learning_rate=0.01, units=3):
    sj.utils.set_random_seed(0)
    model = sj.Sequential([sj.Input((4,)), layers.Dense(8, activation="relu"),
                           layers.Dense(units)])
    model.compile(optimizers.SGD(learning_rate=learning_rate), loss)
    return model


# -- NaN and inf ---------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf * 0 in the forward pass
@pytest.mark.parametrize("where", ["x", "y", "sample_weight"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_in_the_data_names_the_batch_the_array_and_the_row(capsys, where, bad):
    x, y = _data()
    y = np.eye(3, dtype=np.float32)[y]
    sw = np.ones(20, np.float32)
    array = {"x": x, "y": y, "sample_weight": sw}[where]
    array[(13,) + (0,) * (array.ndim - 1)] = bad  # in batch 4 (rows 12-15), its row 1
    model = _model(loss="mse")
    before = model.get_weights()
    terminate = TerminateOnNaN()
    history = model.fit(x, y, sample_weight=sw, batch_size=4, epochs=3, shuffle=False, verbose=0,
                        callbacks=[terminate])
    out = capsys.readouterr().out
    kind = "NaN" if np.isnan(bad) else "inf"
    assert f"epoch 1, step 4: that batch's {where} holds 1 {kind}, in batch row(s) 1 " in out
    assert "np.isfinite" in out and "without updating the weights" in out
    assert terminate.stopped_at == (0, 3) and history.epoch == [0]
    assert not np.isfinite(history.history["loss"][0])
    # the three good batches trained; the bad one changed nothing after them
    assert not np.array_equal(model.get_weights()[0], before[0])
    assert all(np.isfinite(w).all() for w in model.get_weights())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow that makes the inf
def test_a_diverging_loss_on_clean_data_suggests_the_training_fixes(capsys):
    x, _ = _data()
    y = np.full((20, 3), 1e3, np.float32)
    model = _model(loss="mse", learning_rate=1e6)
    history = model.fit(x * 100, y, batch_size=4, epochs=3, verbose=0)
    out = capsys.readouterr().out
    assert "the loss became" in out and "that batch's" not in out
    for advice in ("lower learning rate", "global_clipnorm"):
        assert advice in out
    assert history.epoch == [0]
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_nonfinite_report_reads_lists_dicts_and_tensors():
    a = np.zeros((3, 2), np.float32)
    b = np.zeros((3, 5), np.float32)
    b[2, 4] = np.nan
    assert da.nonfinite_report([a, sj.Tensor(b)], np.zeros(3, np.int64)) == \
        "x[1] holds 1 NaN, in batch row(s) 2 (from 0, of 3)"
    assert da.nonfinite_report({"image": a}, {"out": a}, None) == ""
    assert da.nonfinite_report(a, {"out": np.array([[np.inf]] * 3)}) == \
        "y['out'] holds 3 inf, in batch row(s) 0, 1, 2 (from 0, of 3)"


# -- arguments -----------------------------------------------------------------------------------
def test_validation_data_as_a_list_is_read_as_the_tuple_as_keras_3_does():
    x, y = _data()
    a = _model().fit(x, y, validation_data=(x, y), shuffle=False, verbose=0)
    b = _model().fit(x, y, validation_data=[x, y], shuffle=False, verbose=0)
    assert a.history == b.history


@pytest.mark.parametrize("value, got", [
    ("x", "a ndarray of shape (20, 4) (the targets are missing?)"),
    ("dict", "a dict of 2 item(s)"),
    ("one", "a tuple of 1 item(s)"),
])
def test_wrong_validation_data_says_what_it_got(value, got):
    x, y = _data()
    data = {"x": x, "dict": {"x": x, "y": y}, "one": (x,)}[value]
    with pytest.raises(ValueError, match="validation_data must be a tuple") as info:
        _model().fit(x, y, validation_data=data, verbose=0)
    assert f"got {got}" in str(info.value)


@pytest.mark.parametrize("class_weight, error", [
    ({"0": 1.0, "1": 2.0}, "key '0'"),
    ({-1: 1.0}, "key -1"),
    ({1.5: 1.0}, "key 1.5"),
    ({True: 2.0}, "key True"),
    ({0: float("nan")}, r"class_weight\[0\] is nan"),
    ({0: -1.0}, r"class_weight\[0\] is -1.0"),
    ([1.0, 2.0], "must be a dict"),
])
def test_class_weight_with_keys_that_are_not_class_ids_is_refused(class_weight, error):
    x, y = _data()
    with pytest.raises((ValueError, TypeError), match=error):
        _model().fit(x, y, class_weight=class_weight, verbose=0)
    with pytest.raises((ValueError, TypeError), match=error):
        _model().train_on_batch(x, y, class_weight=class_weight)


def test_class_weight_keys_may_be_integral_floats_or_absent_classes():
    """Keras 3: a class left out weighs 1, a key no label has is unused, 1.0 is class 1."""
    x, y = _data()
    a = _model().fit(x, y, class_weight={0: 1.0, 1: 3.0, 2: 1.0}, shuffle=False, verbose=0)
    b = _model().fit(x, y, class_weight={1.0: 3.0, 7: 9.0}, shuffle=False, verbose=0)
    assert a.history == b.history


@pytest.mark.parametrize("kwargs, error", [
    ({"epochs": -1}, "epochs must be an integer >= 0, got -1"),
    ({"epochs": 2.5}, "epochs must be an integer"),
    ({"initial_epoch": -1}, "initial_epoch must be"),
    ({"initial_epoch": 5, "epochs": 3}, "initial_epoch=5 is past epochs=3.*pass epochs=8"),
])
def test_epochs_that_train_nothing_by_mistake_are_refused(kwargs, error):
    x, y = _data()
    with pytest.raises(ValueError, match=error):
        _model().fit(x, y, verbose=0, **kwargs)


def test_epochs_equal_to_initial_epoch_is_a_finished_run():
    x, y = _data()
    assert _model().fit(x, y, initial_epoch=2, epochs=2, verbose=0).epoch == []


def test_fit_without_targets_for_a_compiled_loss_says_so():
    x, _ = _data()
    with pytest.raises(ValueError, match="fit\\(\\) got x but no y"):
        _model().fit(x, verbose=0)


def test_integer_images_train_without_scaling():
    x = np.random.default_rng(0).integers(0, 256, (20, 4)).astype(np.uint8)
    history = _model().fit(x, _data()[1], epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


# -- predict -------------------------------------------------------------------------------------
def test_predict_on_one_sample_without_the_batch_axis_says_to_add_it():
    x, y = _data()
    model = _model()
    with pytest.raises(ValueError, match=r"one sample of shape \(4,\).*x\[None\]"):
        model.predict(x[0])
    assert model.predict(x[0][None]).shape == (1, 3)
    conv = sj.Sequential([sj.Input((8, 8, 1)), layers.Conv2D(2, 3), layers.Flatten(),
                          layers.Dense(2)])
    with pytest.raises(ValueError, match=r"one sample of shape \(8, 8, 1\) without the batch"):
        conv.predict(np.zeros((8, 8, 1), np.float32))


def test_predict_on_a_scalar_is_a_clear_error():
    with pytest.raises(ValueError, match="predict\\(\\) got a scalar"):
        _model().predict(np.float32(1.0))


def test_wrong_feature_size_names_the_layer_and_both_shapes():
    model = _model()
    with pytest.raises(ValueError, match=r"Layer 'dense\w*' \(Dense\) expected input with size 4 "
                                         r"on axis -1, got input of shape \(2, 5\)"):
        model.predict(np.zeros((2, 5), np.float32))


def test_a_checkpoint_callback_still_sees_the_stopped_epoch(tmp_path):
    """A NaN stops training; ModelCheckpoint at the epoch's end saves the last good weights."""
    x, y = _data()
    x[13] = np.nan
    model = _model()
    checkpoint = callbacks.ModelCheckpoint(tmp_path / "m.shenjing", monitor="loss")
    model.fit(x, y, batch_size=4, shuffle=False, verbose=0, callbacks=[checkpoint])
    loaded = sj.models.load_model(tmp_path / "m.shenjing")
    assert all(np.isfinite(w).all() for w in loaded.get_weights())
