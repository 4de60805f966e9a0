"""Keras 3 metrics beyond accuracy/MSE/AUC basics: Precision/Recall with top_k and class_id,
TruePositives..., AUC multi_label, Sum, RootMeanSquaredError, R2Score, the cross-entropies
as metrics, IoU and its kin, the rates at a constraint (SensitivityAtSpecificity...), the
Pearson and concordance correlations, and Keras 3's constructor signatures. Each is checked
against scikit-learn, SciPy, torch, a NumPy transcription of Keras or a hand computation, one
shot and streamed over uneven batches, with and without weights."""

from __future__ import annotations

import json

import numpy as np
import pytest

from oracle import require_torch
from shenjing import metrics

sk = pytest.importorskip("sklearn.metrics")
stats = pytest.importorskip("scipy.stats")

N, C = 60, 5
BATCHES = [0, 7, 20, 21, 45, 60]


def _stream(metric, y_true, y_pred, sample_weight=None):
    for a, b in zip(BATCHES[:-1], BATCHES[1:], strict=True):
        w = None if sample_weight is None else sample_weight[a:b]
        metric.update_state(y_true[a:b], y_pred[a:b], sample_weight=w)
    return metric.result()


def _both(make, y_true, y_pred, w=None):
    """(one-shot result, streamed result) of fresh metrics."""
    one = make()
    one.update_state(y_true, y_pred, sample_weight=w)
    return one.result(), _stream(make(), y_true, y_pred, w)


def _weights(rng, weighted):
    return rng.uniform(0, 2, N) if weighted else None


def _multilabel(rng):
    """Multi-hot targets and scores that rank positives higher, not always."""
    y = rng.integers(0, 2, (N, C))
    return y, 1.0 / (1.0 + np.exp(-(rng.standard_normal((N, C)) + 1.5 * y - 0.75)))


WEIGHTED = pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])


# -- Precision / Recall: thresholds=None, top_k, class_id ------------------------------------------
@WEIGHTED
def test_precision_recall_default_threshold_is_one_half(weighted, rng):
    y, p = rng.integers(0, 2, N), rng.uniform(0, 1, N)
    w = _weights(rng, weighted)
    for cls, ref in ((metrics.Precision, sk.precision_score), (metrics.Recall, sk.recall_score)):
        for got in _both(lambda c=cls: c(thresholds=None), y, p, w):
            assert got == pytest.approx(ref(y, p > 0.5, sample_weight=w))


@WEIGHTED
@pytest.mark.parametrize("class_id", [0, 3])
def test_precision_recall_of_one_class(class_id, weighted, rng):
    y, p = _multilabel(rng)
    w = _weights(rng, weighted)
    t, s = y[:, class_id], p[:, class_id] > 0.5
    for cls, ref in ((metrics.Precision, sk.precision_score), (metrics.Recall, sk.recall_score)):
        for got in _both(lambda c=cls: c(class_id=class_id), y, p, w):
            assert got == pytest.approx(ref(t, s, sample_weight=w))


@WEIGHTED
@pytest.mark.parametrize("k, threshold", [(1, None), (2, None), (2, 0.6)])
def test_precision_recall_top_k(k, threshold, weighted, rng):
    """The k best scores of each row are the positives (those above threshold, if given)."""
    y, p = _multilabel(rng)
    w = np.ones(N) if not weighted else _weights(rng, True)
    top = np.argsort(-p, axis=-1)[:, :k]
    predicted = np.zeros(p.shape, bool)
    np.put_along_axis(predicted, top, True, axis=-1)
    if threshold is not None:
        predicted &= p > threshold
    ww = w[:, None]
    tp = np.sum((predicted & (y == 1)) * ww)
    precision = tp / np.sum(predicted * ww)
    recall = tp / np.sum((y == 1) * ww)
    for got in _both(lambda: metrics.Precision(threshold, top_k=k), y, p, w):
        assert got == pytest.approx(precision)
    for got in _both(lambda: metrics.Recall(threshold, top_k=k), y, p, w):
        assert got == pytest.approx(recall)


def test_precision_top_k_with_one_class_is_sklearn_on_the_arg_max(rng):
    labels, p = rng.integers(0, C, N), rng.uniform(0, 1, (N, C))
    y = np.eye(C)[labels]
    hits = sk.accuracy_score(labels, p.argmax(-1))  # k=1: one positive per row
    assert metrics.Precision(top_k=1)(y, p) == pytest.approx(hits)
    cid = 2
    picked = (p.argmax(-1) == cid)
    expected = sk.precision_score(labels == cid, picked)
    assert metrics.Precision(top_k=1, class_id=cid)(y, p) == pytest.approx(expected)


def test_one_threshold_in_a_list_gives_a_number_as_keras():
    y, p = np.array([0, 1, 1]), np.array([0.9, 0.8, 0.1])
    assert metrics.Precision([0.5])(y, p) == 0.5 and metrics.Recall([0.5])(y, p) == 0.5
    assert metrics.Precision([0.5, 0.95])(y, p) == [0.5, 0.0]


@pytest.mark.parametrize("make", [
    lambda: metrics.Precision(top_k=2, class_id=1), lambda: metrics.Recall([0.2, 0.7]),
    lambda: metrics.FalseNegatives([0.3, 0.6]), lambda: metrics.TruePositives(),
    lambda: metrics.AUC(multi_label=True, num_labels=C, label_weights=[1, 2, 0, 1, 1]),
])
def test_confusion_configs_round_trip_through_json(make):
    m = make()
    config = json.loads(json.dumps(m.get_config()))
    again = metrics.get({"class_name": type(m).__name__, "config": config})
    assert type(again) is type(m) and again.get_config() == m.get_config()


# -- TruePositives, FalsePositives, TrueNegatives, FalseNegatives ----------------------------------
@WEIGHTED
@pytest.mark.parametrize("threshold", [None, 0.3])
def test_condition_counts_match_sklearn_confusion_matrix(threshold, weighted, rng):
    y, p = rng.integers(0, 2, N), rng.uniform(0, 1, N)
    w = _weights(rng, weighted)
    (tn, fp), (fn, tp) = sk.confusion_matrix(y, p > (0.5 if threshold is None else threshold),
                                             sample_weight=w)
    for cls, expected in ((metrics.TruePositives, tp), (metrics.FalsePositives, fp),
                          (metrics.TrueNegatives, tn), (metrics.FalseNegatives, fn)):
        for got in _both(lambda c=cls: c(threshold), y, p, w):
            assert type(got) is float and got == pytest.approx(expected)


def test_condition_counts_at_several_thresholds_and_every_element(rng):
    y, p = _multilabel(rng)
    thresholds = [0.2, 0.5, 0.9]
    got = metrics.FalsePositives(thresholds)(y, p)
    assert got == [float(np.sum((p > t) & (y == 0))) for t in thresholds]


# -- AUC multi_label -------------------------------------------------------------------------------
@WEIGHTED
def test_auc_multi_label_is_the_mean_of_per_label_roc_aucs(weighted, rng):
    """Keras's 200-threshold trapezoid is within ~1e-3 of the exact area here."""
    y, p = _multilabel(rng)
    w = _weights(rng, weighted)
    expected = sk.roc_auc_score(y, p, average="macro", sample_weight=w)
    for got in _both(lambda: metrics.AUC(multi_label=True), y, p, w):
        assert got == pytest.approx(expected, abs=2e-3)
    label_weights = [1.0, 2.0, 0.0, 1.0, 0.5]
    per_label = [sk.roc_auc_score(y[:, i], p[:, i], sample_weight=w) for i in range(C)]
    got = metrics.AUC(multi_label=True, label_weights=label_weights)(y, p, sample_weight=w)
    assert got == pytest.approx(np.average(per_label, weights=label_weights), abs=2e-3)


def test_auc_multi_label_pr_and_flattened_label_weights(rng):
    y, p = _multilabel(rng)
    pr = metrics.AUC(curve="PR", multi_label=True)(y, p)
    assert pr == pytest.approx(sk.average_precision_score(y, p, average="macro"), abs=2e-2)
    # without multi_label, label weights weigh each column's elements in the one curve
    lw = np.array([1.0, 0.0, 2.0, 1.0, 1.0])
    got = metrics.AUC(label_weights=lw)(y, p)
    expected = sk.roc_auc_score(y.ravel(), p.ravel(), sample_weight=np.tile(lw, N))
    assert got == pytest.approx(expected, abs=2e-3)


def test_auc_multi_label_needs_one_label_count(rng):
    y, p = _multilabel(rng)
    m = metrics.AUC(multi_label=True)
    m.update_state(y, p)
    with pytest.raises(ValueError, match="labels"):
        m.update_state(y[:, :2], p[:, :2])
    assert metrics.AUC(multi_label=True).result() == 0.0


# -- Sum, RootMeanSquaredError ---------------------------------------------------------------------
def test_sum_weights_values_or_samples():
    values = np.array([[1.0, 2.0], [3.0, 4.0]])
    m = metrics.Sum()
    m.update_state(values)
    m.update_state(values, sample_weight=np.array([0.5, 2.0]))  # per sample: 0.5*3 + 2*7
    m.update_state(values, sample_weight=np.array([[1.0, 0.0], [0.0, 1.0]]))  # 1 + 4
    assert m.result() == 10.0 + 15.5 + 5.0
    m.reset_state()
    assert m.result() == 0.0


@WEIGHTED
def test_root_mean_squared_error_matches_sklearn(weighted, rng):
    y, p = rng.standard_normal((N, 3)), rng.standard_normal((N, 3))
    w = _weights(rng, weighted)
    expected = np.sqrt(sk.mean_squared_error(y, p, sample_weight=w))
    for got in _both(metrics.RootMeanSquaredError, y, p, w):
        assert type(got) is float and got == pytest.approx(expected)


# -- R2Score ---------------------------------------------------------------------------------------
@WEIGHTED
@pytest.mark.parametrize("aggregation, multioutput", [
    ("uniform_average", "uniform_average"), ("variance_weighted_average", "variance_weighted"),
    (None, "raw_values")])
def test_r2_score_matches_sklearn(aggregation, multioutput, weighted, rng):
    y = rng.standard_normal((N, 3)) * [1.0, 3.0, 0.5]
    p = y + rng.standard_normal((N, 3))
    w = _weights(rng, weighted)
    expected = sk.r2_score(y, p, sample_weight=w, multioutput=multioutput)
    for got in _both(lambda: metrics.R2Score(class_aggregation=aggregation), y, p, w):
        np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_r2_score_one_output_adjusted_and_keras_example(rng):
    y = rng.standard_normal(N)
    p = y + rng.standard_normal(N) * 0.5
    r2 = sk.r2_score(y, p)
    assert metrics.R2Score()(y, p) == pytest.approx(r2)
    adjusted = 1 - (1 - r2) * (N - 1) / (N - 3 - 1)
    assert metrics.R2Score(num_regressors=3)(y[:, None], p[:, None]) == pytest.approx(adjusted)
    # 1 - SS_res / SS_tot = 1 - 3 / 7 (Keras's documented example)
    example = metrics.R2Score()(np.array([[1.0], [4.0], [3.0]]), np.array([[2.0], [4.0], [4.0]]))
    assert example == pytest.approx(1 - 3 / 7)
    assert metrics.R2Score().result() == 0.0


# -- cross-entropies as metrics --------------------------------------------------------------------
def _torch_weighted_mean(per_sample, w):
    per_sample = per_sample.detach().numpy().astype(np.float64)
    return np.average(per_sample, weights=w)


@WEIGHTED
def test_binary_crossentropy_metric_matches_torch(weighted, rng):
    torch = require_torch()
    y, p = _multilabel(rng)
    w = _weights(rng, weighted)
    ref = torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(y * 1.0),
                                                   reduction="none").mean(-1)
    for got in _both(metrics.BinaryCrossentropy, y, p, w):
        assert got == pytest.approx(_torch_weighted_mean(ref, w), rel=1e-6)
    logits = np.log(p / (1 - p))
    for got in _both(lambda: metrics.BinaryCrossentropy(from_logits=True), y, logits, w):
        assert got == pytest.approx(_torch_weighted_mean(ref, w), rel=1e-6)


@WEIGHTED
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_categorical_crossentropies_match_torch(smoothing, weighted, rng):
    torch = require_torch()
    labels = rng.integers(0, C, N)
    logits = rng.standard_normal((N, C)) * 2
    w = _weights(rng, weighted)
    ref = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(labels),
                                            label_smoothing=smoothing, reduction="none")
    expected = _torch_weighted_mean(ref, w)
    make = lambda: metrics.CategoricalCrossentropy(from_logits=True,  # noqa: E731
                                                   label_smoothing=smoothing)
    for got in _both(make, np.eye(C)[labels], logits, w):
        assert got == pytest.approx(expected, rel=1e-6)
    if not smoothing:
        probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
        assert sk.log_loss(labels, probs, sample_weight=w) == pytest.approx(expected, rel=1e-6)
        for got in _both(metrics.SparseCategoricalCrossentropy, labels, probs, w):
            assert got == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("name, cls", [
    ("binary_crossentropy", metrics.BinaryCrossentropy), ("bce", metrics.BinaryCrossentropy),
    ("categorical_crossentropy", metrics.CategoricalCrossentropy),
    ("SparseCategoricalCrossentropy", metrics.SparseCategoricalCrossentropy),
    ("rmse", metrics.RootMeanSquaredError),
    ("root_mean_squared_error", metrics.RootMeanSquaredError), ("r2_score", metrics.R2Score),
    ("sum", metrics.Sum), ("true_positives", metrics.TruePositives),
    ("FalseNegatives", metrics.FalseNegatives), ("binary_io_u", metrics.BinaryIoU),
])
def test_get_resolves_the_new_names(name, cls):
    m = metrics.get(name)
    assert type(m) is cls and m.name == name


def test_binary_crossentropy_by_name_reads_logits_of_a_logits_loss():
    from shenjing import losses
    m = metrics.get("binary_crossentropy", loss=losses.BinaryCrossentropy(from_logits=True))
    assert m.from_logits is True
    assert metrics.get("binary_crossentropy", loss="binary_crossentropy").from_logits is False


# -- IoU -------------------------------------------------------------------------------------------
@WEIGHTED
def test_mean_iou_matches_sklearn_jaccard(weighted, rng):
    y, p = rng.integers(0, C, N), rng.integers(0, C - 1, N)  # class C-1 never predicted
    w = _weights(rng, weighted)
    per_class = sk.jaccard_score(y, p, average=None, labels=range(C), sample_weight=w,
                                 zero_division=0)
    for got in _both(lambda: metrics.MeanIoU(num_classes=C), y, p, w):
        assert got == pytest.approx(per_class.mean(), rel=1e-6)
    for got in _both(lambda: metrics.IoU(C, target_class_ids=[1, 3]), y, p, w):
        assert got == pytest.approx(per_class[[1, 3]].mean(), rel=1e-6)


def test_mean_iou_leaves_out_absent_classes_and_the_ignored_one(rng):
    y, p = rng.integers(0, 3, N), rng.integers(0, 3, N)  # classes 3, 4 never occur
    expected = sk.jaccard_score(y, p, average="macro")
    assert metrics.MeanIoU(num_classes=C)(y, p) == pytest.approx(expected, rel=1e-6)
    keep = y != 1
    expected = sk.jaccard_score(y[keep], p[keep], average="macro")
    assert metrics.MeanIoU(C, ignore_class=1)(y, p) == pytest.approx(expected, rel=1e-6)


def test_one_hot_iou_and_segmentation_maps(rng):
    y = rng.integers(0, C, (4, 6, 6))
    scores = rng.standard_normal((4, 6, 6, C)) + 2 * np.eye(C)[y]
    pred = scores.argmax(-1)
    w = rng.uniform(0, 1, 4)  # per image, over its pixels
    pixel_w = np.broadcast_to(w[:, None, None], y.shape).ravel()
    expected = sk.jaccard_score(y.ravel(), pred.ravel(), average=None, sample_weight=pixel_w)
    got = metrics.OneHotMeanIoU(C)(np.eye(C)[y], scores, sample_weight=w)
    assert got == pytest.approx(expected.mean(), rel=1e-6)
    got = metrics.OneHotIoU(C, target_class_ids=[2])(np.eye(C)[y], scores, sample_weight=w)
    assert got == pytest.approx(expected[2], rel=1e-6)
    got = metrics.MeanIoU(C, sparse_y_pred=False)(y, scores)
    assert got == pytest.approx(sk.jaccard_score(y.ravel(), pred.ravel(), average="macro"))


def test_binary_iou_thresholds_at_or_above(rng):
    y, p = rng.integers(0, 2, N), rng.uniform(0, 1, N)
    p[:5] = 0.3  # on the threshold: class 1
    expected = sk.jaccard_score(y, p >= 0.3, average=None)
    assert metrics.BinaryIoU(threshold=0.3)(y, p) == pytest.approx(expected.mean(), rel=1e-6)
    assert metrics.BinaryIoU([1], threshold=0.3)(y, p) == pytest.approx(expected[1], rel=1e-6)


@pytest.mark.parametrize("make", [
    lambda: metrics.IoU(4, [0, 2], ignore_class=3), lambda: metrics.MeanIoU(3, name="miou"),
    lambda: metrics.BinaryIoU([0], 0.4), lambda: metrics.OneHotIoU(3, [1]),
    lambda: metrics.OneHotMeanIoU(3), metrics.R2Score, metrics.Sum,
    lambda: metrics.CategoricalCrossentropy(label_smoothing=0.2, axis=1),
])
def test_new_configs_round_trip_through_json(make):
    m = make()
    config = json.loads(json.dumps(m.get_config()))
    again = metrics.get({"class_name": type(m).__name__, "config": config})
    assert type(again) is type(m) and again.get_config() == m.get_config()


def test_iou_bad_inputs_raise():
    with pytest.raises(ValueError, match="target_class_ids"):
        metrics.IoU(3, [3])
    with pytest.raises(ValueError, match="labels must lie in"):
        metrics.MeanIoU(3)(np.array([0, 3]), np.array([0, 1]))
    with pytest.raises(ValueError, match="elements"):
        metrics.MeanIoU(3)(np.array([0, 1, 2]), np.array([0, 1]))


# -- Keras 3's constructor signatures: positional order, dtype, arguments of the wrong type ------
_NAMED = ["name", "dtype"]
KERAS_3_SIGNATURES = {  # each class's arguments in Keras 3's order, and its default name
    metrics.Accuracy: (_NAMED, "accuracy"),
    metrics.BinaryAccuracy: ([*_NAMED, "threshold"], "binary_accuracy"),
    metrics.CategoricalAccuracy: (_NAMED, "categorical_accuracy"),
    metrics.SparseCategoricalAccuracy: (_NAMED, "sparse_categorical_accuracy"),
    metrics.TopKCategoricalAccuracy: (["k", *_NAMED], "top_k_categorical_accuracy"),
    metrics.SparseTopKCategoricalAccuracy: (["k", *_NAMED], "sparse_top_k_categorical_accuracy"),
    metrics.MeanSquaredError: (_NAMED, "mean_squared_error"),
    metrics.MeanAbsoluteError: (_NAMED, "mean_absolute_error"),
    metrics.MeanAbsolutePercentageError: (_NAMED, "mean_absolute_percentage_error"),
    metrics.MeanSquaredLogarithmicError: (_NAMED, "mean_squared_logarithmic_error"),
    metrics.RootMeanSquaredError: (_NAMED, "root_mean_squared_error"),
    metrics.LogCoshError: (_NAMED, "logcosh"),
    metrics.CosineSimilarity: ([*_NAMED, "axis"], "cosine_similarity"),
    metrics.R2Score: (["class_aggregation", "num_regressors", *_NAMED], "r2_score"),
    metrics.KLDivergence: (_NAMED, "kl_divergence"),
    metrics.Poisson: (_NAMED, "poisson"),
    metrics.Hinge: (_NAMED, "hinge"),
    metrics.SquaredHinge: (_NAMED, "squared_hinge"),
    metrics.CategoricalHinge: (_NAMED, "categorical_hinge"),
    metrics.BinaryCrossentropy: ([*_NAMED, "from_logits", "label_smoothing"],
                                 "binary_crossentropy"),
    metrics.CategoricalCrossentropy: ([*_NAMED, "from_logits", "label_smoothing", "axis"],
                                      "categorical_crossentropy"),
    metrics.SparseCategoricalCrossentropy: ([*_NAMED, "from_logits", "axis"],
                                            "sparse_categorical_crossentropy"),
    metrics.Precision: (["thresholds", "top_k", "class_id", *_NAMED], "precision"),
    metrics.Recall: (["thresholds", "top_k", "class_id", *_NAMED], "recall"),
    metrics.TruePositives: (["thresholds", *_NAMED], "true_positives"),
    metrics.FalsePositives: (["thresholds", *_NAMED], "false_positives"),
    metrics.TrueNegatives: (["thresholds", *_NAMED], "true_negatives"),
    metrics.FalseNegatives: (["thresholds", *_NAMED], "false_negatives"),
    metrics.AUC: (["num_thresholds", "curve", "summation_method", *_NAMED, "thresholds",
                   "multi_label", "num_labels", "label_weights", "from_logits"], "auc"),
    metrics.FBetaScore: (["average", "beta", "threshold", *_NAMED], "fbeta_score"),
    metrics.F1Score: (["average", "threshold", *_NAMED], "f1_score"),
    metrics.Mean: (_NAMED, "mean"),
    metrics.Sum: (_NAMED, "sum"),
    metrics.IoU: (["num_classes", "target_class_ids", *_NAMED, "ignore_class", "sparse_y_true",
                   "sparse_y_pred", "axis"], None),
    metrics.MeanIoU: (["num_classes", *_NAMED, "ignore_class", "sparse_y_true",
                       "sparse_y_pred", "axis"], None),
    metrics.BinaryIoU: (["target_class_ids", "threshold", *_NAMED], "binary_io_u"),
    metrics.OneHotIoU: (["num_classes", "target_class_ids", *_NAMED, "ignore_class",
                         "sparse_y_pred", "axis"], None),
    metrics.OneHotMeanIoU: (["num_classes", *_NAMED, "ignore_class", "sparse_y_pred", "axis"],
                            None),
    metrics.SensitivityAtSpecificity: (["specificity", "num_thresholds", "class_id", *_NAMED],
                                       None),
    metrics.SpecificityAtSensitivity: (["sensitivity", "num_thresholds", "class_id", *_NAMED],
                                       None),
    metrics.PrecisionAtRecall: (["recall", "num_thresholds", "class_id", *_NAMED], None),
    metrics.RecallAtPrecision: (["precision", "num_thresholds", "class_id", *_NAMED], None),
    metrics.PearsonCorrelation: ([*_NAMED, "axis"], "pearson_correlation"),
    metrics.ConcordanceCorrelation: ([*_NAMED, "axis"], "concordance_correlation"),
}


def test_every_metric_class_takes_keras_3_arguments_in_keras_order():
    import inspect

    assert set(KERAS_3_SIGNATURES) == set(metrics._CLASSES) - {metrics.MeanMetricWrapper}
    for cls, (names, default_name) in KERAS_3_SIGNATURES.items():
        assert list(inspect.signature(cls).parameters) == names, cls.__name__
        if default_name is not None:
            m = cls()
            assert m.name == default_name and m.get_config()["dtype"] == "float32"
    assert list(inspect.signature(metrics.MeanMetricWrapper).parameters) == [
        "fn", *_NAMED, "kwargs"]
    assert list(inspect.signature(metrics.Metric).parameters) == ["dtype", "name"]


def test_keras_3_positional_calls_mean_what_they_mean_in_keras(rng):
    """Real Keras 3 calls, written positionally and with dtype=None."""
    t, x = rng.integers(0, 2, (N, 1)).astype(np.float64), rng.standard_normal((N, 1))
    bce = metrics.BinaryCrossentropy("bce", None, True)  # name, dtype, from_logits
    assert bce(t, x) == pytest.approx(metrics.BinaryCrossentropy(from_logits=True)(t, x))
    assert bce.get_config() == {"name": "bce", "dtype": "float32", "from_logits": True,
                                "label_smoothing": 0.0}
    acc = metrics.BinaryAccuracy(name="binary_accuracy", dtype=None, threshold=0.0)
    assert acc(t, x) == pytest.approx(np.mean((x > 0) == t))
    assert metrics.BinaryAccuracy("acc", None, 0.3).get_config()["threshold"] == 0.3
    p = metrics.Precision(thresholds=0.5, top_k=1, class_id=None, name="precision", dtype=None)
    assert p.get_config()["top_k"] == 1
    miou = metrics.MeanIoU(3, "miou", None, 255)  # num_classes, name, dtype, ignore_class
    assert miou.ignore_class == 255 and miou.sparse_y_true is True
    assert metrics.AUC(200, "PR", "interpolation", "auc", "float64", [0.5]).thresholds == [
        -1e-7, 0.5, 1 + 1e-7]
    cosine = metrics.CosineSimilarity("cos", None, 0)  # name, dtype, axis
    assert cosine.axis == 0
    for cls in (metrics.Mean, metrics.Sum, metrics.AUC, metrics.RootMeanSquaredError):
        assert cls(dtype="float64").get_config()["dtype"] == "float64"


@pytest.mark.parametrize("make, match", [
    (lambda: metrics.BinaryAccuracy("acc", None, "0.5"), "threshold must be a number"),
    (lambda: metrics.BinaryAccuracy(0.7), "name must be a string"),  # shenjing's old order
    (lambda: metrics.BinaryCrossentropy("bce", True), "dtype=True is not a number type"),
    (lambda: metrics.BinaryCrossentropy("bce", None, "yes"), "from_logits must be True or"),
    (lambda: metrics.CategoricalCrossentropy(label_smoothing="0.1"), "label_smoothing must be"),
    (lambda: metrics.SparseCategoricalCrossentropy(axis=1.0), "axis must be an integer"),
    (lambda: metrics.TopKCategoricalAccuracy("top3"), "k must be an integer"),
    (lambda: metrics.MeanIoU(3, "miou", 255), "dtype=255 is not a number type"),
    (lambda: metrics.MeanIoU(3, ignore_class="void"), "ignore_class must be an integer"),
    (lambda: metrics.IoU("3", [0]), "num_classes must be an integer"),
    (lambda: metrics.OneHotIoU(3, [0], sparse_y_pred=1), "sparse_y_pred must be True or"),
    (lambda: metrics.Precision("0.5"), "thresholds must be a number"),
    (lambda: metrics.Recall([0.3, "x"]), "thresholds must be a number"),
    (lambda: metrics.Precision(class_id=1.5), "class_id must be an integer"),
    (lambda: metrics.AUC("auc"), "num_thresholds must be an integer"),
    (lambda: metrics.AUC(multi_label="yes"), "multi_label must be True or False"),
    (lambda: metrics.BinaryIoU([0, 1], "half"), "threshold must be a number"),
    (lambda: metrics.R2Score("uniform_average", "r2"), "num_regressors must be an integer"),
    (lambda: metrics.Mean("m", "m"), "not a number type"),
])
def test_an_argument_of_the_wrong_type_is_a_clear_error_at_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# -- the rates at a constraint: SensitivityAtSpecificity and its kin -----------------------------
def keras_rate_at_constraint(given, reported, value, y, p, w, num_thresholds):
    """Keras 3's SensitivitySpecificityBase, transcribed: counts at evenly spaced thresholds by
    its bucket path (predictions clipped to [0, 1], bucket ceil(p (n - 1)) - 1, reversed
    cumulative sums; 2 thresholds or more: they are evenly spaced), else (one threshold, 0.5,
    not "evenly spaced") by comparing p > threshold; then the largest
    reported rate where the given one is >= value (divide_no_nan, max with initial 0)."""
    n = num_thresholds
    y, w = y.reshape(-1).astype(bool).astype(float), w.reshape(-1)
    p = p.reshape(-1)
    if n >= 2:
        bucket = np.ceil(np.clip(p, 0, 1) * (n - 1)) - 1
        kept = bucket >= 0  # segment_sum drops the negative ids

        def counts(labels):
            b = np.bincount(bucket[kept].astype(int), weights=labels[kept], minlength=n)
            return np.cumsum(b[::-1])[::-1]
    else:
        positive = p[None] > 0.5

        def counts(labels):
            return positive @ labels
    tp, fp = counts(y * w), counts((1 - y) * w)
    fn, tn = np.sum(y * w) - tp, np.sum((1 - y) * w) - fp
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = {"sensitivity": np.nan_to_num(tp / (tp + fn)),
                 "specificity": np.nan_to_num(tn / (tn + fp)),
                 "precision": np.nan_to_num(tp / (tp + fp))}
    rates["recall"] = rates["sensitivity"]
    feasible = rates[given] >= value
    return rates[reported][feasible].max(initial=0.0)


AT_CONSTRAINT = {
    metrics.SensitivityAtSpecificity: ("specificity", "sensitivity"),
    metrics.SpecificityAtSensitivity: ("sensitivity", "specificity"),
    metrics.PrecisionAtRecall: ("recall", "precision"),
    metrics.RecallAtPrecision: ("precision", "recall"),
}


@pytest.mark.parametrize("num_thresholds", [200, 7, 2, 1])
@pytest.mark.parametrize("value", [0.0, 0.6, 0.95])
@pytest.mark.parametrize("cls", list(AT_CONSTRAINT), ids=lambda cls: cls.__name__)
def test_rate_at_constraint_is_keras_algorithm(cls, value, num_thresholds, rng):
    y = rng.integers(0, 2, N)
    p = np.clip(0.3 * y + rng.uniform(-0.1, 0.9, N), -0.05, 1.05)  # a few outside [0, 1]
    w = rng.uniform(0, 2, N)
    given, reported = AT_CONSTRAINT[cls]
    for weights in (None, w):
        expected = keras_rate_at_constraint(given, reported, value, y, p,
                                            np.ones(N) if weights is None else weights,
                                            num_thresholds)
        one, streamed = _both(lambda: cls(value, num_thresholds), y, p, weights)
        assert one == pytest.approx(expected, abs=1e-12)
        assert streamed == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("cls", list(AT_CONSTRAINT), ids=lambda cls: cls.__name__)
def test_rate_at_constraint_class_id_scores_one_column(cls, rng):
    y = np.eye(C)[rng.integers(0, C, N)]
    p = rng.dirichlet(np.ones(C), N)
    given, reported = AT_CONSTRAINT[cls]
    expected = keras_rate_at_constraint(given, reported, 0.5, y[:, 2], p[:, 2], np.ones(N), 50)
    assert cls(0.5, 50, class_id=2)(y, p) == pytest.approx(expected, abs=1e-12)
    assert cls(0.5, 50, 2, "m", "float64").get_config() == {
        "name": "m", "dtype": "float64", "class_id": 2, "num_thresholds": 50, given: 0.5}


@pytest.mark.parametrize("make, y, p, w, expected", [  # Keras 3's documented examples
    (lambda: metrics.SensitivityAtSpecificity(0.5), [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8],
     None, 0.5),
    (lambda: metrics.SensitivityAtSpecificity(0.5), [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8],
     [1, 1, 2, 2, 1], 1 / 3),
    (lambda: metrics.SpecificityAtSensitivity(0.5), [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8],
     None, 2 / 3),
    (lambda: metrics.SpecificityAtSensitivity(0.5), [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8],
     [1, 1, 2, 2, 2], 0.5),
    (lambda: metrics.PrecisionAtRecall(0.5), [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8], None,
     0.5),
    (lambda: metrics.PrecisionAtRecall(0.5), [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8],
     [2, 2, 2, 1, 1], 1 / 3),
    (lambda: metrics.RecallAtPrecision(0.8), [0, 0, 1, 1], [0, 0.5, 0.3, 0.9], None, 0.5),
    (lambda: metrics.RecallAtPrecision(0.8), [0, 0, 1, 1], [0, 0.5, 0.3, 0.9], [1, 0, 0, 1],
     1.0),
])
def test_rate_at_constraint_keras_documented_examples(make, y, p, w, expected):
    assert make()(y, p, sample_weight=w) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("cls", list(AT_CONSTRAINT), ids=lambda cls: cls.__name__)
def test_rate_at_constraint_config_and_bad_arguments(cls):
    m = cls(0.3, num_thresholds=20, name="at")
    again = metrics.get({"class_name": cls.__name__,
                         "config": json.loads(json.dumps(m.get_config()))})
    assert type(again) is cls and again.get_config() == m.get_config()
    assert m.direction == "up" and cls(0.3).name == metrics.base._snake(cls.__name__)
    given = AT_CONSTRAINT[cls][0]
    with pytest.raises(ValueError, match=f"{given} must lie in"):
        cls(1.5)
    with pytest.raises(ValueError, match=f"{given} must be a number"):
        cls("0.5")
    with pytest.raises(ValueError, match="num_thresholds must be an integer > 0"):
        cls(0.5, 0)
    with pytest.raises(ValueError, match="unknown metric"):
        metrics.get(metrics.base._snake(cls.__name__))  # needs its value: not by a bare name


# -- PearsonCorrelation, ConcordanceCorrelation -------------------------------------------------
def np_concordance(t, p):
    """Lin's concordance correlation of two vectors, population moments."""
    return 2 * np.cov(t, p, bias=True)[0, 1] / (t.var() + p.var() + (t.mean() - p.mean()) ** 2)


CORRELATIONS = {
    "pearson": (metrics.PearsonCorrelation, lambda t, p: stats.pearsonr(t, p)[0]),
    "concordance": (metrics.ConcordanceCorrelation, np_concordance),
}


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kind", list(CORRELATIONS))
def test_correlation_is_the_mean_of_each_samples_as_keras(kind, weighted, rng):
    """Keras 3 correlates each sample's values (axis=-1), then averages over samples."""
    cls, reference = CORRELATIONS[kind]
    t = rng.standard_normal((N, 6))
    p = 0.7 * t + 0.5 * rng.standard_normal((N, 6)) + rng.uniform(-0.3, 0.3, (N, 1))
    per_sample = np.array([reference(a, b) for a, b in zip(t, p, strict=True)])
    w = _weights(rng, weighted)
    expected = np.average(per_sample, weights=w)
    for got in _both(cls, t, p, w):
        assert got == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("kind", list(CORRELATIONS))
def test_correlation_axes_and_one_output_per_sample(kind, rng):
    cls, reference = CORRELATIONS[kind]
    t = rng.standard_normal((N, 3, 4))
    p = t + rng.standard_normal((N, 3, 4))
    expected = np.mean([reference(a.ravel(), b.ravel()) for a, b in zip(t, p, strict=True)])
    m = cls(axis=(1, 2))
    assert m(t, p) == pytest.approx(expected, rel=1e-5)
    again = metrics.get({"class_name": cls.__name__,
                         "config": json.loads(json.dumps(m.get_config()))})
    assert again.get_config() == m.get_config() == {"name": m.name, "dtype": "float32",
                                                     "axis": [1, 2]}
    # one output per sample: axis=0 correlates over the batch, once per batch
    column_t, column_p = t[:, :1, 0], p[:, :1, 0]
    assert cls(axis=0)(column_t, column_p) == pytest.approx(
        reference(column_t[:, 0], column_p[:, 0]), rel=1e-5)


def test_correlations_keras_documented_examples_and_names():
    t, p = [[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]
    assert metrics.PearsonCorrelation()(t, p) == pytest.approx(0.9966996338993913, rel=1e-6)
    assert metrics.ConcordanceCorrelation()(t, p) == pytest.approx(0.9816320385426076,
                                                                  rel=1e-6)
    shifted = np.array(t) + 1.0  # perfectly correlated, not concordant
    assert metrics.pearson_correlation(t, shifted) == pytest.approx([1.0, 1.0], rel=1e-6)
    variance = np.var(t, axis=-1)  # 2 cov / (2 var + 1**2)
    np.testing.assert_allclose(metrics.concordance_correlation(t, shifted),
                               2 * variance / (2 * variance + 1), rtol=1e-6)
    for name, cls in [("pearson_correlation", metrics.PearsonCorrelation),
                      ("concordance_correlation", metrics.ConcordanceCorrelation)]:
        m = metrics.get(name)
        assert type(m) is cls and m.name == name and m.direction == "up"
    with pytest.raises(ValueError, match="axis must be an integer"):
        metrics.PearsonCorrelation(axis=[1, "2"])


@pytest.mark.parametrize("make, expected", [
    (lambda: metrics.AUC(), 1.0),
    (lambda: metrics.AUC(curve="PR"), 1.0),
    (lambda: metrics.AUC(thresholds=[0.25, 0.5, 0.75]), 1.0),  # evenly spaced: clipped too
    (lambda: metrics.AUC(multi_label=True), 1.0),
])
def test_auc_clips_scores_outside_zero_one_as_keras(make, expected):
    """Keras's evenly spaced thresholds clip predictions to [0, 1]: a linear output's
    perfectly separated scores (-2 and 3, -0.5 and 1.5) give the full area, not 0."""
    y = np.array([[0], [0], [1], [1]])
    p = np.array([[-2.0], [0.2], [0.8], [3.0]])
    assert make()(y, p) == pytest.approx(expected)
    assert make()(y, np.clip(p, 0, 1)) == pytest.approx(expected)


def test_auc_with_uneven_thresholds_does_not_clip():
    # Keras's plain path: a score above 1 + 1e-7 stays positive at every threshold
    auc = metrics.AUC(thresholds=[0.1, 0.5])
    assert auc(np.array([0, 1]), np.array([-2.0, 3.0])) == pytest.approx(0.0)


def test_constrained_metrics_with_two_thresholds_clip():
    # num_thresholds=2 (thresholds 0 and 1) is Keras's evenly spaced path too: 1.5 counts as 1,
    # not above the threshold 1, so only threshold 0 reaches the recall (precision 2/3)
    m = metrics.PrecisionAtRecall(0.5, num_thresholds=2)
    assert m(np.array([0, 1, 1]), np.array([0.2, 1.5, 0.9])) == pytest.approx(2 / 3)
