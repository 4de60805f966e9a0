"""``compile``/``fit``/``evaluate``/``predict`` contracts: thresholds on logits, empty data,
unweighted ``metrics`` against ``weighted_metrics``, string data, and what
``verbose='auto'`` prints when stdout is not a terminal."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import shenjing as sj
from shenjing import losses, metrics, optimizers
from shenjing.data.loader import DataLoader
from shenjing.layers import Dense


def _identity_logit_model(loss, **compile_args) -> sj.Sequential:
    """Outputs its one input feature unchanged (kernel 1, bias 0) and never learns, so the
    logits are the inputs and every reported value can be computed from them with NumPy."""
    model = sj.Sequential([sj.Input((1,)), Dense(1)])
    model.set_weights([np.ones((1, 1), np.float32), np.zeros(1, np.float32)])
    model.compile(optimizers.SGD(learning_rate=0.0), loss, **compile_args)
    return model


def _logit_data(n: int = 64, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, (n, 1)).astype(np.float32)
    return x, rng.integers(0, 2, (n, 1)).astype(np.float32)


# -- 1. thresholded metrics on logits --------------------------------------------------------
def test_string_binary_metrics_threshold_logits_at_zero():
    x, y = _logit_data()
    names = ["accuracy", "acc", "binary_accuracy", "precision", "recall"]
    model = _identity_logit_model(losses.BinaryCrossentropy(from_logits=True), metrics=names)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)

    predicted, actual = x[:, 0] > 0.0, y[:, 0] == 1
    tp = np.sum(predicted & actual)
    expected_accuracy = np.mean(predicted == actual)
    assert expected_accuracy != np.mean((x[:, 0] > 0.5) == actual)  # the threshold matters here
    for name in ("accuracy", "acc", "binary_accuracy"):
        assert logs[name] == pytest.approx(expected_accuracy)
    assert logs["precision"] == pytest.approx(tp / predicted.sum())
    assert logs["recall"] == pytest.approx(tp / actual.sum())


def test_string_binary_accuracy_on_probabilities_keeps_threshold_half():
    p = np.array([[0.2], [0.4], [0.6], [0.9]])
    y = np.array([[0.0], [1.0], [1.0], [1.0]])
    for loss in ("binary_crossentropy", losses.BinaryCrossentropy()):
        m = metrics.get("accuracy", loss=loss)
        m.update_state(y, p)
        assert m.result() == pytest.approx(0.75)  # 0.4 counts as class 0


# -- 2. empty data ---------------------------------------------------------------------------
def test_evaluate_and_predict_on_empty_data_raise():
    x, y = _logit_data()
    model = _identity_logit_model("mse")
    with pytest.raises(ValueError, match=r"evaluate\(\) has no samples"):
        model.evaluate(x[:0], y[:0], verbose=0)
    with pytest.raises(ValueError, match=r"evaluate\(\) has no samples"):
        model.evaluate(DataLoader(x[:0], y[:0]), verbose=0)
    with pytest.raises(ValueError, match=r"predict\(\) has no samples"):
        model.predict(x[:0])
    with pytest.raises(ValueError, match="validation_data has no samples"):
        model.fit(x, y, verbose=0, validation_data=(x[:0], y[:0]))


# -- 3. metrics are unweighted, weighted_metrics are weighted --------------------------------
def test_sample_weight_weights_the_loss_and_weighted_metrics_only():
    x, y = _logit_data()
    y[32:] = (x[32:] > 0.0)  # the second half is all right, the first half is not
    model = _identity_logit_model(losses.BinaryCrossentropy(from_logits=True),
                                  metrics=["accuracy"], weighted_metrics=["accuracy"])
    w = np.array([1.0] * 32 + [0.0] * 32)
    logs = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)

    correct = (x[:, 0] > 0.0) == (y[:, 0] == 1)
    assert correct[:32].mean() < correct.mean()  # so weighting shows
    assert logs["accuracy"] == pytest.approx(correct.mean())
    assert logs["weighted_accuracy"] == pytest.approx(correct[:32].mean())
    z, t = x[:, 0].astype(np.float64), y[:, 0]
    per_sample = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
    assert logs["loss"] == pytest.approx(np.sum(w * per_sample) / 64, rel=1e-5)


def test_class_weight_does_not_change_plain_metrics():
    x, y = _logit_data()
    class_weight = {0: 5.0, 1: 0.0}
    correct = (x[:, 0] > 0.0) == (y[:, 0] == 1)
    w = np.where(y[:, 0] == 1, 0.0, 5.0)
    model = _identity_logit_model(losses.BinaryCrossentropy(from_logits=True),
                                  metrics=["accuracy"], weighted_metrics=["binary_accuracy"])
    history = model.fit(x, y, batch_size=16, verbose=0, class_weight=class_weight).history

    assert history["accuracy"][0] == pytest.approx(correct.mean())
    assert history["binary_accuracy"][0] == pytest.approx(np.sum(w * correct) / np.sum(w))
    assert history["accuracy"][0] != pytest.approx(history["binary_accuracy"][0])


def test_class_weight_takes_the_nearest_class_of_soft_labels_as_keras():
    """Smoothed or soft binary targets (0.9, 0.1) weigh as their nearest class, as Keras 3's
    np.round; a truncation gave 0.9 class 0's weight. Negative class ids are an error."""
    from shenjing.models.data_adapter import class_sample_weights

    soft = np.array([[0.9], [0.1], [0.6], [1.0], [0.4]], np.float32)
    np.testing.assert_array_equal(class_sample_weights(soft, {0: 1.0, 1: 3.0}),
                                  [3, 1, 3, 3, 1])
    np.testing.assert_array_equal(class_sample_weights(soft[:, 0], {1: 3.0}), [3, 1, 3, 3, 1])
    with pytest.raises(ValueError, match="class ids of 0 or more, got -1"):
        class_sample_weights(np.array([0, -1, 1]), {0: 2.0})


# -- 4. strings ------------------------------------------------------------------------------
def test_string_data_is_a_clear_type_error():
    x, y = _logit_data(8)
    labels = np.array(["cat", "dog"] * 4)
    model = _identity_logit_model("mse")
    with pytest.raises(TypeError, match=r"^y holds strings \(dtype <U3\)"):
        model.fit(x, labels, verbose=0)
    with pytest.raises(TypeError, match=r"^x holds strings \(dtype <U3\)"):
        model.evaluate(labels[:, None], y, verbose=0)
    with pytest.raises(TypeError, match=r"^x holds strings \(dtype object\)"):
        model.predict(labels.astype(object)[:, None])
    with pytest.raises(TypeError, match=r"^y holds strings"):
        model.fit(DataLoader(x, labels), verbose=0)
    with pytest.raises(TypeError, match=r"^x holds strings"):
        model.fit(DataLoader(labels[:, None], y), verbose=0)


def test_none_complex_and_a_dict_for_one_input_are_named(tmp_path):
    """fit(None, y) was len(None)'s TypeError, complex inputs a 'does not require grad' from
    backward, a dict into a Sequential with an Input 'dict has no attribute shape', and
    shenjing.save of strings safetensors' error naming no entry."""
    x, y = _logit_data(8)
    model = _identity_logit_model("mse")
    for call in (lambda: model.fit(None, y, verbose=0), lambda: model.predict(None),
                 lambda: model.evaluate(None, y, verbose=0)):
        with pytest.raises(ValueError, match="^x is None: give the inputs"):
            call()
    with pytest.raises(TypeError, match=r"^x holds complex numbers \(dtype complex128\)"):
        model.fit(x.astype(complex), y, verbose=0)
    with pytest.raises(TypeError, match=r"takes one input of shape \(None, 1\), got a dict"):
        model.fit({"a": x}, y, verbose=0)
    with pytest.raises(TypeError, match=r"save: an array of <U1 \(shape \(1,\)\)"):
        sj.save({"names": np.array(["a"])}, tmp_path / "s.safetensors")
    assert not (tmp_path / "s.safetensors").exists()


# -- 5. one loss per output: see test_multi_output.py ----------------------------------------------


# -- 6. verbose='auto' -----------------------------------------------------------------------
def test_verbose_auto_prints_lines_without_a_bar_when_not_a_terminal(capsys):
    x, y = _logit_data(32)
    model = _identity_logit_model("mse")
    model.fit(x, y, epochs=2, batch_size=8)
    model.evaluate(x, y)
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/2", "Epoch 2/2", "Evaluate"]
    for bar_mark in ("\r", "%|", "█", "step/s", "s/step"):
        assert bar_mark not in captured.out + captured.err


def test_verbose_auto_draws_a_bar_on_a_terminal(capsys, monkeypatch):
    x, y = _logit_data(32)
    model = _identity_logit_model("mse")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    model.fit(x, y, epochs=1, batch_size=8)
    assert "4/4" in capsys.readouterr().out  # tqdm's n/total


def test_a_nan_validation_or_evaluation_loss_says_where_the_data_hold_nan():
    """A NaN val_loss was logged without a word (and EarlyStopping or ModelCheckpoint on it
    then did nothing, silently): a warning names the batch and the rows, or says the data
    are finite."""
    x, y = _logit_data(8)
    bad = x.copy()
    bad[5, 0] = np.nan
    model = _identity_logit_model("mse")
    with pytest.warns(UserWarning, match=r"loss on validation_data became nan at batch 1: "
                                         r"that batch's x holds 1 NaN, in batch row\(s\) 5"):
        model.fit(x, y, validation_data=(bad, y), verbose=0)
    with pytest.warns(UserWarning, match=r"evaluate\(\) became nan .* row\(s\) 5"):
        model.evaluate(bad, y, verbose=0)
