"""F1Score and FBetaScore (Keras 3): against scikit-learn's f1_score / fbeta_score for every
average, thresholds and arg-max, sample weights, streaming; Keras's own documented values;
configs, names, fit, save and load; and clear errors for bad arguments and inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

import shenjing
from shenjing import metrics
from shenjing.models import load_model

N, C = 60, 5
BATCHES = [0, 7, 20, 21, 45, 60]  # uneven batches, one of a single sample
AVERAGES = [None, "micro", "macro", "weighted"]


@pytest.fixture
def sk():
    return pytest.importorskip("sklearn.metrics")


def _multilabel(rng):
    """Multi-hot targets and independent scores; class 4 is rare, so some averages meet a
    class without true or predicted positives."""
    y_true = (rng.uniform(size=(N, C)) < [0.5, 0.3, 0.6, 0.2, 0.03]).astype(np.float32)
    y_pred = rng.uniform(size=(N, C)).astype(np.float32)
    return y_true, y_pred


def _multiclass(rng):
    """One-hot targets and softmax scores: with threshold=None each sample predicts its
    arg-max."""
    y_true = np.eye(C, dtype=np.float32)[rng.integers(0, C, N)]
    e = np.exp(2 * rng.standard_normal((N, C)))
    return y_true, (e / e.sum(-1, keepdims=True)).astype(np.float32)


def _stream(metric, y_true, y_pred, w=None):
    for a, b in zip(BATCHES[:-1], BATCHES[1:], strict=True):
        metric.update_state(y_true[a:b], y_pred[a:b], None if w is None else w[a:b])
    return metric.result()


def _reference(sk, y_true, predicted, average, beta, w):
    return sk.fbeta_score(y_true.astype(int), predicted.astype(int), beta=beta, average=average,
                          sample_weight=w, zero_division=0)


@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("threshold", [0.5, 0.3, None])
def test_fbeta_matches_sklearn_one_shot_and_streaming(average, beta, weighted, threshold, rng,
                                                      sk):
    y_true, y_pred = (_multiclass if threshold is None else _multilabel)(rng)
    w = rng.uniform(0, 2, N) if weighted else None
    predicted = (y_pred == y_pred.max(-1, keepdims=True)) if threshold is None else \
        y_pred > threshold
    expected = _reference(sk, y_true, predicted, average, beta, w)

    make = (lambda: metrics.F1Score(average, threshold)) if beta == 1.0 else \
        (lambda: metrics.FBetaScore(average, beta, threshold))
    one_shot = make()
    one_shot.update_state(y_true, y_pred, sample_weight=w)
    streamed = _stream(make(), y_true, y_pred, w)
    for got in (one_shot.result(), streamed):
        if average is None:
            assert isinstance(got, list) and len(got) == C
        else:
            assert type(got) is float
        # Keras adds 1e-7 to each denominator: differences of that order from sklearn
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_f1_is_fbeta_with_beta_one(rng):
    y_true, y_pred = _multilabel(rng)
    for average in AVERAGES:
        a = metrics.F1Score(average, threshold=0.4)(y_true, y_pred)
        b = metrics.FBetaScore(average, beta=1.0, threshold=0.4)(y_true, y_pred)
        assert a == b


def test_keras_documented_values():
    """The examples in Keras 3's docstrings of FBetaScore and F1Score."""
    y_true = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], np.int32)
    y_pred = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]], np.float32)
    np.testing.assert_allclose(metrics.FBetaScore(beta=2.0, threshold=0.5)(y_true, y_pred),
                               [0.3846154, 0.90909094, 0.8333334], rtol=1e-6)
    np.testing.assert_allclose(metrics.F1Score(threshold=0.5)(y_true, y_pred),
                               [0.5, 0.8, 0.6666667], rtol=1e-6)


def test_argmax_of_zeros_predicts_nothing():
    """threshold=None: a row of zeros has no positive (Keras), ties at the maximum all are."""
    y_true = np.array([[1, 0, 0], [0, 1, 0]])
    m = metrics.F1Score(threshold=None)
    m.update_state(y_true, np.array([[0.0, 0.0, 0.0], [0.4, 0.4, 0.2]]))
    np.testing.assert_array_equal(m.true_positives, [0, 1, 0])
    np.testing.assert_array_equal(m.false_positives, [1, 0, 0])
    np.testing.assert_array_equal(m.false_negatives, [1, 0, 0])


def test_reset_state_and_before_any_data(rng, sk):
    y_true, y_pred = _multilabel(rng)
    m = metrics.F1Score(average="macro", threshold=0.5)
    assert m.result() == 0.0
    m.update_state(y_true, 1 - y_pred)
    m.reset_state()
    assert m.result() == 0.0 and m.true_positives.shape == (C,)
    m.update_state(y_true, y_pred)
    expected = _reference(sk, y_true, y_pred > 0.5, "macro", 1.0, None)
    np.testing.assert_allclose(m.result(), expected, rtol=1e-5)
    assert metrics.F1Score()(y_true[:0], y_pred[:0]) == [0.0] * C  # an empty batch counts 0


@pytest.mark.parametrize("metric, config", [
    (metrics.F1Score(), {"name": "f1_score", "dtype": "float32", "average": None,
                         "threshold": None}),
    (metrics.F1Score("weighted", 0.3, name="f1w"),
     {"name": "f1w", "dtype": "float32", "average": "weighted", "threshold": 0.3}),
    (metrics.FBetaScore(), {"name": "fbeta_score", "dtype": "float32", "average": None,
                            "beta": 1.0, "threshold": None}),
    (metrics.FBetaScore("micro", 2, 0.5, "fb", "float64"), {
        "name": "fb", "dtype": "float64", "average": "micro", "beta": 2.0, "threshold": 0.5}),
])
def test_config_round_trips_through_json(metric, config):
    assert metric.get_config() == config
    text = json.loads(json.dumps(metric.get_config()))
    again = metrics.get({"class_name": type(metric).__name__, "config": text})
    assert type(again) is type(metric) and again.get_config() == config


@pytest.mark.parametrize("name, cls", [("f1_score", metrics.F1Score),
                                       ("F1Score", metrics.F1Score),
                                       ("fbeta_score", metrics.FBetaScore),
                                       ("FBetaScore", metrics.FBetaScore)])
def test_get_resolves_names(name, cls):
    m = metrics.get(name)
    assert type(m) is cls and m.name == name and m.average is None and m.threshold is None
    assert {"f1_score", "fbeta_score"} <= set(metrics.KNOWN_NAMES)
    assert {"F1Score", "FBetaScore"} <= set(metrics.__all__)


@pytest.mark.parametrize("make, message", [
    (lambda: metrics.F1Score(average="samples"), "average must be one of"),
    (lambda: metrics.FBetaScore(beta=0.0), "beta must be a number > 0, got 0.0"),
    (lambda: metrics.FBetaScore(beta="2"), "beta must be a number > 0, got '2'"),
    (lambda: metrics.FBetaScore(beta=True), "beta must be a number > 0, got True"),
    (lambda: metrics.F1Score(threshold=0.0), r"threshold must be None or a number in \(0, 1\]"),
    (lambda: metrics.F1Score(threshold=1.5), r"threshold must be None or a number in \(0, 1\]"),
])
def test_bad_arguments_name_what_was_wrong(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_inputs_raise_clear_errors(rng):
    y_true, y_pred = _multilabel(rng)
    with pytest.raises(ValueError, match=r"shape \(batch, classes\).*\(60,\)"):
        metrics.F1Score()(y_true[:, 0], y_pred[:, 0])
    with pytest.raises(ValueError, match=r"y_true has shape \(60, 4\) but y_pred"):
        metrics.F1Score()(y_true[:, :4], y_pred)
    m = metrics.F1Score()
    m.update_state(y_true, y_pred)
    with pytest.raises(ValueError, match="3 classes, earlier batches had 5"):
        m.update_state(y_true[:, :3], y_pred[:, :3])
    with pytest.raises(ValueError, match=r"sample_weight of shape \(60, 5\)"):
        metrics.F1Score()(y_true, y_pred, sample_weight=np.ones((N, C)))


def _classifier(rng):
    x = rng.standard_normal((96, 4)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)
    model = shenjing.Sequential([shenjing.Input((4,)), shenjing.layers.Dense(3,
                                                                          activation="softmax")])
    model.compile(shenjing.optimizers.Adam(0.05), "categorical_crossentropy",
                  metrics=[metrics.F1Score(average="macro", name="f1"),
                           metrics.FBetaScore(beta=2.0, threshold=0.4, name="f2"), "fbeta_score"])
    return model, x, np.eye(3, dtype=np.float32)[labels]


def test_fit_logs_the_scores_of_the_predictions(rng):
    model, x, y = _classifier(rng)
    history = model.fit(x[:64], y[:64], validation_data=(x[64:], y[64:]), batch_size=16,
                        epochs=5, verbose=0).history
    assert history["f1"][-1] > history["f1"][0]
    predicted = model.predict(x[64:], verbose=0)
    assert history["val_f1"][-1] == pytest.approx(
        metrics.F1Score(average="macro")(y[64:], predicted), abs=1e-9)
    np.testing.assert_allclose(history["val_f2"][-1], metrics.FBetaScore(
        beta=2.0, threshold=0.4)(y[64:], predicted), atol=1e-9)
    assert len(history["val_fbeta_score"][-1]) == 3


def test_saved_model_keeps_its_fscore_metrics(tmp_path, rng):
    model, x, y = _classifier(rng)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    model.save(tmp_path / "m.shenjing")
    loaded = load_model(tmp_path / "m.shenjing")
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == \
        model.evaluate(x, y, verbose=0, return_dict=True)
    f2 = next(m for m in loaded.compiled_metrics if m.name == "f2")
    assert type(f2) is metrics.FBetaScore and (f2.beta, f2.threshold) == (2.0, 0.4)
