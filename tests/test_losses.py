"""Loss objects (shenjing.losses): against the functional ops, against PyTorch (values and the
gradient w.r.t. y_pred, with sample weights and every reduction), shapes, configs and get()."""

from __future__ import annotations

import inspect
import json
from functools import partial

import numpy as np
import pytest

import shenjing
import shenjing.functional as F
from oracle import assert_same_as_torch, require_torch, torch
from shenjing import Tensor, losses
from shenjing.io.serialization import deserialize_keras_object, serialize_keras_object

N, C = 6, 4


# -- data: (rng) -> (y_true, y_pred) as NumPy ------------------------------------------------------
def _regression(rng):
    return rng.standard_normal((N, C)), rng.standard_normal((N, C)) * 2


def _binary_probs(rng):
    return rng.integers(0, 2, (N, C)).astype(np.float64), rng.uniform(0.05, 0.95, (N, C))


def _binary_logits(rng):
    return rng.integers(0, 2, (N, C)).astype(np.float64), rng.standard_normal((N, C)) * 3


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _onehot_probs(rng):
    return np.eye(C)[rng.integers(0, C, N)], _softmax(rng.standard_normal((N, C)))


def _soft_logits(rng):
    return _softmax(rng.standard_normal((N, C))), rng.standard_normal((N, C)) * 2


def _labels_probs(rng, label_shape=(N,)):
    return rng.integers(0, C, label_shape), _softmax(rng.standard_normal((N, C)))


def _labels_logits(rng, label_shape=(N,)):
    return rng.integers(0, C, label_shape), rng.standard_normal((N, C)) * 2


# -- the same per-sample losses written for torch --------------------------------------------------
def _tf():
    return require_torch().nn.functional


def _log_normalized(p):
    """Keras renormalizes probabilities over the class axis before the log (so the gradient has
    a normalization term)."""
    return torch.log(p / p.sum(-1, keepdim=True))


def _smooth_binary(t, s):
    return t * (1 - s) + 0.5 * s


CASES = {
    # name: (loss object, data, torch per-sample loss of (t, p), functional op on (t, p))
    "mse": (losses.MeanSquaredError(), _regression,
            lambda t, p: _tf().mse_loss(p, t, reduction="none").mean(-1),
            F.mean_squared_error),
    "mae": (losses.MeanAbsoluteError(), _regression,
            lambda t, p: _tf().l1_loss(p, t, reduction="none").mean(-1),
            F.mean_absolute_error),
    "huber": (losses.Huber(delta=0.7), _regression,
              lambda t, p: _tf().huber_loss(p, t, reduction="none", delta=0.7).mean(-1),
              partial(F.huber, delta=0.7)),
    "bce": (losses.BinaryCrossentropy(), _binary_probs,
            lambda t, p: _tf().binary_cross_entropy(p, t, reduction="none").mean(-1),
            F.binary_crossentropy),
    "bce_logits": (losses.BinaryCrossentropy(from_logits=True), _binary_logits,
                   lambda t, p: _tf().binary_cross_entropy_with_logits(
                       p, t, reduction="none").mean(-1),
                   partial(F.binary_crossentropy, from_logits=True)),
    "bce_smoothed": (losses.BinaryCrossentropy(label_smoothing=0.2), _binary_probs,
                     lambda t, p: _tf().binary_cross_entropy(
                         p, _smooth_binary(t, 0.2), reduction="none").mean(-1),
                     lambda t, p, **kw: F.binary_crossentropy(_smooth_binary(t, 0.2), p, **kw)),
    "cce": (losses.CategoricalCrossentropy(), _onehot_probs,
            lambda t, p: -(t * _log_normalized(p)).sum(-1),
            F.categorical_crossentropy),
    "cce_logits": (losses.CategoricalCrossentropy(from_logits=True), _soft_logits,
                   lambda t, p: _tf().cross_entropy(p, t, reduction="none"),
                   partial(F.categorical_crossentropy, from_logits=True)),
    # Keras smooths y_true as t (1 - s) + s / K; torch's label_smoothing is the same mixture
    "cce_logits_smoothed": (
        losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), _soft_logits,
        lambda t, p: _tf().cross_entropy(p, t, reduction="none", label_smoothing=0.1),
        partial(F.categorical_crossentropy, from_logits=True, label_smoothing=0.1)),
    "cce_smoothed": (
        losses.CategoricalCrossentropy(label_smoothing=0.1), _onehot_probs,
        lambda t, p: -((t * 0.9 + 0.1 / C) * _log_normalized(p)).sum(-1),
        partial(F.categorical_crossentropy, label_smoothing=0.1)),
    "scce": (losses.SparseCategoricalCrossentropy(), _labels_probs,
             lambda t, p: _tf().nll_loss(_log_normalized(p), t, reduction="none"),
             F.sparse_categorical_crossentropy),
    "scce_logits": (losses.SparseCategoricalCrossentropy(from_logits=True), _labels_logits,
                    lambda t, p: _tf().cross_entropy(p, t, reduction="none"),
                    partial(F.sparse_categorical_crossentropy, from_logits=True)),
    "scce_logits_n1": (
        losses.SparseCategoricalCrossentropy(from_logits=True),
        lambda rng: _labels_logits(rng, (N, 1)),
        lambda t, p: _tf().cross_entropy(p, t[:, 0], reduction="none"),
        partial(F.sparse_categorical_crossentropy, from_logits=True)),
}


def _torch_reduce(per, w, reduction):
    """Keras's reduction written out: weight, then sum, or sum / number of values."""
    if w is not None:
        per = per * w
    if reduction == "none":
        return per
    return per.sum() if reduction == "sum" else per.sum() / per.numel()


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("case", list(CASES))
def test_loss_matches_torch(case, weighted, reduction, rng):
    loss, data, torch_per, _ = CASES[case]
    loss = type(loss).from_config({**loss.get_config(), "reduction": reduction})
    y_true, y_pred = data(rng)
    inputs = [y_true, y_pred] + ([rng.uniform(0, 2, N)] if weighted else [])

    def ours(t, p, w=None):
        return loss(t, p, sample_weight=w)

    def theirs(t, p, w=None):
        return _torch_reduce(torch_per(t, p), w, reduction)

    assert_same_as_torch(ours, inputs, theirs, wrt=[1])


@pytest.mark.parametrize("case", list(CASES))
def test_loss_matches_functional(case, rng):
    loss, data, _, functional = CASES[case]
    y_true, y_pred = (Tensor(a) for a in data(rng))
    np.testing.assert_allclose(loss(y_true, y_pred).numpy(), functional(y_true, y_pred).numpy(),
                               rtol=1e-6)
    per = losses.LossFunctionWrapper(loss.fn, reduction="none", **loss._fn_kwargs())
    np.testing.assert_allclose(per(y_true, y_pred).numpy(),
                               functional(y_true, y_pred, reduction="none").numpy(), rtol=1e-6)


def test_label_smoothing_equals_torch_with_class_indices(rng):
    th = require_torch()
    labels, logits = _labels_logits(rng)
    ours = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)(
        np.eye(C)[labels], logits)
    theirs = th.nn.functional.cross_entropy(th.tensor(logits), th.tensor(labels),
                                            label_smoothing=0.2)
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-5)


def test_sparse_sequence_labels_match_torch(rng):
    """(batch, time, classes) logits with (batch, time) labels and per-sample weights."""
    labels, logits, w = rng.integers(0, C, (3, 5)), rng.standard_normal((3, 5, C)), rng.uniform(
        0, 2, 3)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)

    def theirs(t, p, w):
        per = torch.nn.functional.cross_entropy(p.reshape(-1, C), t.reshape(-1), reduction="none")
        return (per.reshape(3, 5) * w[:, None]).mean()

    assert_same_as_torch(lambda t, p, w: loss(t, p, sample_weight=w), [labels, logits, w],
                         theirs, wrt=[1])
    assert losses.SparseCategoricalCrossentropy(reduction="none")(
        labels[..., None], _softmax(logits)).shape == (3, 5)


# -- targets, shapes and weights -------------------------------------------------------------------
def test_y_true_never_gets_a_gradient(rng):
    y_true = Tensor(rng.standard_normal((N, C)), requires_grad=True)
    y_pred = Tensor(rng.standard_normal((N, C)), requires_grad=True)
    losses.MeanSquaredError()(y_true, y_pred).backward()
    assert y_true.grad is None and y_pred.grad is not None


def test_integer_or_float64_targets_keep_the_loss_float32(rng):
    y_pred = Tensor(rng.standard_normal((N, C)), requires_grad=True)
    onehot = np.eye(C, dtype=np.int64)[rng.integers(0, C, N)]
    for y_true in (Tensor(onehot), Tensor(onehot, dtype=np.float64), onehot.astype(bool)):
        for loss in (losses.MeanSquaredError(), losses.CategoricalCrossentropy(from_logits=True),
                     losses.BinaryCrossentropy(from_logits=True)):
            out = loss(y_true, y_pred)
            out.backward()
            assert out.dtype == np.float32 and y_pred.grad.dtype == np.float32


def test_targets_as_array_or_tensor_agree(rng):
    y_true, y_pred = _regression(rng)
    loss = losses.Huber()
    assert loss(y_true, y_pred).item() == loss(Tensor(y_true), Tensor(y_pred)).item()


@pytest.mark.parametrize("true_shape, pred_shape", [((N,), (N, 1)), ((N, 1), (N,))])
def test_trailing_axis_of_one_is_aligned_as_keras(true_shape, pred_shape, rng):
    y_true, y_pred = rng.standard_normal(N), rng.standard_normal(N)
    expected = np.mean((y_true - y_pred) ** 2)
    got = losses.MeanSquaredError()(y_true.reshape(true_shape), y_pred.reshape(pred_shape))
    np.testing.assert_allclose(got.item(), expected, rtol=1e-5)


def test_mismatched_shapes_raise_not_broadcast(rng):
    with pytest.raises(ValueError, match="shape"):
        losses.MeanSquaredError()(rng.standard_normal((N, 2)), rng.standard_normal((N, 3)))


def test_sparse_labels_n_and_n1_agree_and_bad_shapes_raise(rng):
    labels, logits = _labels_logits(rng)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    assert loss(labels, logits).item() == loss(labels[:, None], logits).item()
    assert loss(Tensor(labels), logits).item() == loss(labels, logits).item()
    with pytest.raises(ValueError, match="labels of shape"):
        loss(labels[:3], logits)


def test_sample_weight_shapes(rng):
    y_true, y_pred = _regression(rng)
    w = rng.uniform(0, 2, N)
    loss = losses.MeanSquaredError()
    expected = loss(y_true, y_pred, sample_weight=w).item()
    assert loss(y_true, y_pred, sample_weight=w[:, None]).item() == expected
    assert loss(y_true, y_pred, sample_weight=Tensor(w)).item() == expected
    np.testing.assert_allclose(loss(y_true, y_pred, sample_weight=2.0).item(),
                               2 * loss(y_true, y_pred).item(), rtol=1e-6)
    with pytest.raises(ValueError, match="sample_weight of shape"):
        loss(y_true, y_pred, sample_weight=np.ones(N + 1))


def test_sum_over_batch_size_divides_by_count_not_weights(rng):
    """Keras 3: zero weights still count in the divisor."""
    y_true, y_pred = _regression(rng)
    per = losses.mean_squared_error(y_true, y_pred).numpy()
    w = np.r_[np.ones(2), np.zeros(N - 2)]
    got = losses.MeanSquaredError()(y_true, y_pred, sample_weight=w).item()
    np.testing.assert_allclose(got, per[:2].sum() / N, rtol=1e-6)


def test_reductions_and_their_aliases(rng):
    y_true, y_pred = _regression(rng)
    per = losses.mean_squared_error(y_true, y_pred).numpy()
    assert per.shape == (N,)
    for reduction, expected in [("sum_over_batch_size", per.mean()), ("mean", per.mean()),
                                ("sum", per.sum()), ("none", per), (None, per)]:
        got = losses.MeanSquaredError(reduction=reduction)(y_true, y_pred)
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)
        assert got.dtype == np.float32
    with pytest.raises(ValueError, match="reduction must be one of"):
        losses.MeanSquaredError(reduction="avg")


def test_empty_batch_gives_zero():
    got = losses.MeanSquaredError()(np.zeros((0, C)), np.zeros((0, C)))
    assert got.item() == 0.0



# -- padding masks (y_pred._keras_mask) ------------------------------------------------------------
T = 5
MASK = np.arange(T) < np.array([5, 3, 1, 4, 2, 0])[:, None]  # (N, T), right-padded, one empty


def _masked_pred(rng):
    """Targets and predictions (N, T, C) whose prediction carries the mask MASK, as a layer
    after Embedding(mask_zero=True) leaves it."""
    y_pred = Tensor(rng.standard_normal((N, T, C)), requires_grad=True)
    y_pred._keras_mask = MASK
    return rng.standard_normal((N, T, C)), y_pred


def test_mask_mean_is_over_unmasked_steps_and_sum_and_none_drop_masked_ones(rng):
    y_true, y_pred = _masked_pred(rng)
    per = np.mean((y_pred.numpy() - y_true) ** 2, axis=-1)  # (N, T)
    w = rng.uniform(0, 2, N)
    weighted = per * w[:, None]
    for sample_weight, values in [(None, per), (w, weighted)]:
        for reduction, expected in [("mean", values[MASK].sum() / MASK.sum()),
                                    ("sum", values[MASK].sum()), ("none", values * MASK)]:
            got = losses.MeanSquaredError(reduction=reduction)(y_true, y_pred, sample_weight)
            np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5)


def test_mask_stops_the_gradient_of_padded_steps(rng):
    y_true, y_pred = _masked_pred(rng)
    losses.MeanAbsoluteError()(y_true, y_pred).backward()
    assert np.all(y_pred.grad[~MASK] == 0) and np.all(y_pred.grad[MASK] != 0)


def test_mask_applies_to_sparse_labels_and_wrapped_functions(rng):
    labels = rng.integers(0, C, (N, T))
    _, logits = _masked_pred(rng)
    z = logits.numpy()
    log_probs = z - z.max(-1, keepdims=True)
    log_probs -= np.log(np.exp(log_probs).sum(-1, keepdims=True))
    per = -np.take_along_axis(log_probs, labels[..., None], -1)[..., 0]
    got = losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
    np.testing.assert_allclose(got.item(), per[MASK].mean(), rtol=1e-5)
    y_true, y_pred = _masked_pred(rng)
    cubed = losses.get(lambda t, p: ((p - Tensor(t)) ** 3).mean(axis=-1))(y_true, y_pred)
    np.testing.assert_allclose(cubed.item(),
                               np.mean((y_pred.numpy() - y_true) ** 3, -1)[MASK].mean(),
                               rtol=1e-5)


def test_all_masked_gives_zero_and_a_mask_that_does_not_fit_raises(rng):
    y_true, y_pred = _masked_pred(rng)
    y_pred._keras_mask = np.zeros((N, T), bool)
    assert losses.MeanSquaredError()(y_true, y_pred).item() == 0.0
    y_pred._keras_mask = np.ones((N, T + 1), bool)
    with pytest.raises(ValueError, match=r"the mask of y_pred \(_keras_mask\) of shape"):
        losses.MeanSquaredError()(y_true, y_pred)


# -- custom Loss subclasses -----------------------------------------------------------------------
class KerasGuideMSE(losses.Loss):
    """The subclass of Keras 3's Loss docstring, verbatim but for its imports; it records what
    call() was given."""

    def call(self, y_true, y_pred):
        self.given = (y_true, y_pred)
        return shenjing.ops.mean(shenjing.ops.square(y_pred - y_true), axis=-1)


def test_custom_loss_call_gets_tensors_as_keras_3():
    loss = KerasGuideMSE()
    assert loss([[0.0, 1.0]], [[0.5, 1.0]]).item() == pytest.approx(0.125)  # lists
    assert all(isinstance(t, Tensor) for t in loss.given)
    y_pred = Tensor(np.array([[0.5, 1.0]], np.float32), requires_grad=True)
    loss(np.array([[0.0, 1.0]]), y_pred).backward()  # a float64 target: in y_pred's dtype
    assert loss.given[0].dtype == np.float32 and loss.given[1] is y_pred
    np.testing.assert_allclose(y_pred.grad.numpy(), [[0.5, 0.0]])
    loss(np.array([[0, 1]]), np.array([[2, 1]]))  # integer predictions become floats
    assert loss.given[0].dtype.kind == "i" and loss.given[1].dtype == np.float32


# -- Keras 3's signatures and dtype ---------------------------------------------------------------
_PLAIN = ["reduction", "name", "dtype"]
KERAS_3_SIGNATURES = {  # each class's arguments in Keras 3's order, and its default name
    losses.MeanSquaredError: (_PLAIN, "mean_squared_error"),
    losses.MeanAbsoluteError: (_PLAIN, "mean_absolute_error"),
    losses.MeanAbsolutePercentageError: (_PLAIN, "mean_absolute_percentage_error"),
    losses.MeanSquaredLogarithmicError: (_PLAIN, "mean_squared_logarithmic_error"),
    losses.CosineSimilarity: (["axis", *_PLAIN], "cosine_similarity"),
    losses.Huber: (["delta", *_PLAIN], "huber_loss"),
    losses.LogCosh: (_PLAIN, "log_cosh"),
    losses.Hinge: (_PLAIN, "hinge"),
    losses.SquaredHinge: (_PLAIN, "squared_hinge"),
    losses.CategoricalHinge: (_PLAIN, "categorical_hinge"),
    losses.KLDivergence: (_PLAIN, "kl_divergence"),
    losses.Poisson: (_PLAIN, "poisson"),
    losses.BinaryCrossentropy: (["from_logits", "label_smoothing", "axis", *_PLAIN],
                                "binary_crossentropy"),
    losses.BinaryFocalCrossentropy: (["apply_class_balancing", "alpha", "gamma", "from_logits",
                                      "label_smoothing", "axis", *_PLAIN],
                                     "binary_focal_crossentropy"),
    losses.CategoricalCrossentropy: (["from_logits", "label_smoothing", "axis", *_PLAIN],
                                     "categorical_crossentropy"),
    losses.CategoricalFocalCrossentropy: (["alpha", "gamma", "from_logits", "label_smoothing",
                                           "axis", *_PLAIN], "categorical_focal_crossentropy"),
    losses.SparseCategoricalCrossentropy: (["from_logits", "ignore_class", *_PLAIN],
                                           "sparse_categorical_crossentropy"),
    losses.CTC: (_PLAIN, "ctc"),
    losses.Dice: (["reduction", "name", "axis", "dtype"], "dice"),
    losses.Tversky: (["alpha", "beta", "reduction", "name", "axis", "dtype"], "tversky"),
    losses.CategoricalGeneralizedCrossEntropy: (["q", *_PLAIN],
                                                "categorical_generalized_cross_entropy"),
    losses.Circle: (["gamma", "margin", "remove_diagonal", *_PLAIN], "circle"),
}


def test_every_loss_class_takes_keras_3_arguments_in_keras_order():
    assert set(KERAS_3_SIGNATURES) == set(losses._CLASSES)
    for cls, (names, default_name) in KERAS_3_SIGNATURES.items():
        assert list(inspect.signature(cls).parameters) == names, cls.__name__
        assert cls().name == default_name and cls().get_config()["dtype"] is None
    assert list(inspect.signature(losses.Loss).parameters) == ["name", "reduction", "dtype"]
    assert list(inspect.signature(losses.LossFunctionWrapper).parameters) == [
        "fn", "reduction", "name", "dtype", "kwargs"]


def test_dtype_sets_the_dtype_computed_in(rng):
    y, p = rng.uniform(0, 1, (N, C)), Tensor(rng.uniform(0, 1, (N, C)).astype(np.float32),
                                             requires_grad=True)
    loss = losses.BinaryCrossentropy(dtype="float64")
    value = loss(y, p)
    assert value.dtype == np.float64
    np.testing.assert_allclose(value.item(), np.mean(-(y * np.log(p.numpy().astype(np.float64))
                               + (1 - y) * np.log(1 - p.numpy().astype(np.float64)))), rtol=1e-12)
    value.backward()
    assert p.grad.dtype == np.float32  # the gradient is cast back to the prediction's dtype
    assert losses.get(json.loads(json.dumps(losses.serialize(loss)))).dtype == np.float64
    assert losses.MeanSquaredError()(y, p).dtype == np.float32  # None: the prediction's own
    keras_written = {"name": "mse", "reduction": "sum_over_batch_size"}  # no dtype in Keras's
    assert losses.MeanSquaredError.from_config(keras_written).dtype is None


def test_float16_predictions_are_scored_in_float32_as_keras():
    """0.9999 is 1.0 in float16, where Keras's clip to 1 - 1e-7 is 1.0 again: the
    cross-entropy was inf. Keras's losses compute in float32 (their dtype's default), so the
    value is the float32 one, finite, and the gradient comes back float16."""
    p16 = np.array([0.9999, 0.5, 1e-5], np.float16)
    y = np.array([0.0, 1.0, 1.0], np.float32)
    p = Tensor(p16, dtype=np.float16, requires_grad=True)
    value = losses.BinaryCrossentropy()(y, p)
    assert value.dtype == np.float32
    clipped = np.clip(p16.astype(np.float32), np.float32(1e-7), np.float32(1 - 1e-7))
    expected = np.mean(-(y * np.log(clipped) + (1 - y) * np.log(1 - clipped)))
    np.testing.assert_allclose(value.item(), expected, rtol=1e-6)
    value.backward()
    assert p.grad.dtype == np.float16 and np.isfinite(p.grad.numpy()).all()
    with np.errstate(divide="ignore"):  # asked for float16 it is float16's inf, as in Keras
        assert losses.BinaryCrossentropy(dtype="float16")(y, p).item() == np.inf


@pytest.mark.parametrize("make, match", [
    (lambda: losses.MeanSquaredError(dtype="int32"), "dtype must be a floating type"),
    (lambda: losses.Huber(1.0, "sum", "huber", "mixed"), "dtype must be a floating type"),
    (lambda: losses.MeanSquaredError("sum", 3), "name must be a string"),
])
def test_bad_dtype_or_name_is_a_clear_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# -- functions, attributes, configs, get() ---------------------------------------------------------
def test_function_aliases_return_per_sample_losses(rng):
    y_true, y_pred = _regression(rng)
    assert losses.mse is losses.mean_squared_error and losses.mae is losses.mean_absolute_error
    for fn in (losses.mse, losses.mae, losses.huber, losses.binary_crossentropy,
               losses.categorical_crossentropy):
        assert fn(np.abs(y_true) > 1, _softmax(y_pred)).shape == (N,)
    assert losses.sparse_categorical_crossentropy(*_labels_probs(rng)).shape == (N,)


def test_options_are_plain_attributes():
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    assert loss.from_logits is True and loss.reduction == "sum_over_batch_size"
    loss.from_logits = False
    assert loss.get_config()["from_logits"] is False


@pytest.mark.parametrize("loss", [case[0] for case in CASES.values()], ids=list(CASES))
def test_config_round_trips_through_json(loss):
    config = json.loads(json.dumps(losses.serialize(loss)))
    again = losses.get(config)
    assert type(again) is type(loss) and again.get_config() == loss.get_config()
    assert type(loss).from_config(loss.get_config()).get_config() == loss.get_config()


def test_wrapped_function_config_round_trips():
    loss = losses.LossFunctionWrapper(losses.huber, delta=2.0, reduction="sum")
    again = losses.get(json.loads(json.dumps(losses.serialize(loss))))
    assert again.fn is losses.huber and again.delta == 2.0 and again.reduction == "sum"


@pytest.mark.parametrize("cls", losses._CLASSES, ids=lambda cls: cls.__name__)
def test_saved_loss_names_its_file_and_pre_split_files_load(cls):
    # a saved loss names its file's module (shenjing.losses.regression); files saved before
    # losses.py was split name shenjing.losses: both load the loss, not the metric of that name
    config = serialize_keras_object(cls())
    assert config["module"] == cls.__module__ != "shenjing.losses"
    for module in (cls.__module__, "shenjing.losses"):
        again = deserialize_keras_object({**config, "module": module})
        assert type(again) is cls and again.get_config() == config["config"]


@pytest.mark.parametrize("name, cls", [
    ("mse", losses.MeanSquaredError), ("MSE", losses.MeanSquaredError),
    ("mean_squared_error", losses.MeanSquaredError), ("MeanSquaredError", losses.MeanSquaredError),
    ("mae", losses.MeanAbsoluteError), ("mean_absolute_error", losses.MeanAbsoluteError),
    ("huber", losses.Huber), ("huber_loss", losses.Huber), ("Huber", losses.Huber),
    ("binary_crossentropy", losses.BinaryCrossentropy), ("bce", losses.BinaryCrossentropy),
    ("BinaryCrossentropy", losses.BinaryCrossentropy),
    ("categorical_crossentropy", losses.CategoricalCrossentropy),
    ("CategoricalCrossentropy", losses.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
    ("SparseCategoricalCrossentropy", losses.SparseCategoricalCrossentropy),
    ("Sparse_Categorical_Crossentropy", losses.SparseCategoricalCrossentropy),
])
def test_get_resolves_names(name, cls):
    loss = losses.get(name)
    assert type(loss) is cls
    assert getattr(loss, "from_logits", False) is False  # Keras's default


def test_get_resolves_objects_classes_and_callables(rng):
    obj = losses.Huber(delta=3.0)
    assert losses.get(obj) is obj and losses.get(None) is None
    assert type(losses.get(losses.Huber)) is losses.Huber
    assert type(losses.get(losses.mse)) is losses.MeanSquaredError
    assert type(losses.get(F.sparse_categorical_crossentropy)) is (
        losses.SparseCategoricalCrossentropy)

    def cubic(y_true, y_pred):
        return ((y_pred - Tensor(y_true)) ** 2 * (y_pred - Tensor(y_true))).mean(axis=-1)

    custom = losses.get(cubic)
    assert isinstance(custom, losses.LossFunctionWrapper) and custom.name == "cubic"
    y_true, y_pred = _regression(rng)
    np.testing.assert_allclose(custom(y_true, y_pred).item(), np.mean((y_pred - y_true) ** 3),
                               rtol=1e-4)


def test_get_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="known losses: .*sparse_categorical_crossentropy"):
        losses.get("hinge_squared")
    with pytest.raises(ValueError, match="cannot interpret"):
        losses.get(3)


def test_public_module():
    assert shenjing.losses is losses
    assert all(hasattr(losses, name) for name in losses.__all__)


def test_mean_absolute_percentage_error_is_keras_formula_and_differentiates_as_torch(rng):
    require_torch()
    y_true = rng.standard_normal((4, 3)).astype(np.float32)
    y_true[0, 0] = 0.0  # |y_true| floored at 1e-7, as Keras
    y_pred = rng.standard_normal((4, 3)).astype(np.float32)
    expected = 100 * np.mean(np.abs(y_true - y_pred) / np.maximum(np.abs(y_true), 1e-7), -1)
    np.testing.assert_allclose(losses.mean_absolute_percentage_error(y_true, y_pred).numpy(),
                               expected, rtol=1e-5)
    assert losses.get("mape").name == "mean_absolute_percentage_error"
    safe = y_true + np.where(y_true >= 0, 0.5, -0.5).astype(np.float32)  # away from the floor
    assert_same_as_torch(
        lambda t, p: losses.MeanAbsolutePercentageError()(t, p), [safe, y_pred],
        lambda t, p: 100 * ((t - p).abs() / t.abs()).mean(), wrt=[1])
