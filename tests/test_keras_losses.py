"""Keras 3's losses beyond the cross-entropies and MSE/MAE/Huber/MAPE, as losses and as metrics:
KLDivergence, CosineSimilarity, MeanSquaredLogarithmicError, Hinge, SquaredHinge,
CategoricalHinge, Poisson, LogCosh (LogCoshError as a metric). Checked against Keras 3's formulas
written in NumPy (float64), against torch where torch has the same loss, by gradcheck, through
reductions, weights and masks, configs and names, and by training a tiny model with each."""

from __future__ import annotations

import json

import numpy as np
import pytest

import shenjing
from oracle import assert_same_as_torch, torch
from shenjing import Tensor, losses, metrics

EPS = 1e-7  # Keras's backend.epsilon()
N, C = 6, 4


# -- Keras 3's definitions, transcribed to NumPy (per sample, over the last axis) ------------------
def np_msle(t, p):
    d = np.log(np.maximum(p, EPS) + 1.0) - np.log(np.maximum(t, EPS) + 1.0)
    return np.mean(d * d, axis=-1)


def np_kl(t, p):
    t, p = np.clip(t, EPS, 1.0), np.clip(p, EPS, 1.0)
    return np.sum(t * np.log(t / p), axis=-1)


def np_poisson(t, p):
    return np.mean(p - t * np.log(p + EPS), axis=-1)


def np_log_cosh(t, p):
    return np.mean(np.log(np.cosh(p - t)), axis=-1)


def np_cosine(t, p, axis=-1):
    def unit(x):
        return x / np.maximum(np.sqrt(np.sum(x * x, axis=axis, keepdims=True)), EPS)

    return -np.sum(unit(t) * unit(p), axis=axis)


def _signed(t):
    """Keras's convert_binary_labels_to_hinge: 0/1 labels (all of them) become -1/1."""
    return 2.0 * t - 1.0 if np.all((t == 0) | (t == 1)) else t


def np_hinge(t, p):
    return np.mean(np.maximum(1.0 - _signed(t) * p, 0.0), axis=-1)


def np_squared_hinge(t, p):
    return np.mean(np.maximum(1.0 - _signed(t) * p, 0.0) ** 2, axis=-1)


def np_categorical_hinge(t, p):
    pos = np.sum(t * p, axis=-1)
    neg = np.max((1.0 - t) * p, axis=-1)
    return np.maximum(neg - pos + 1.0, 0.0)


# -- data: rng -> (y_true, y_pred), float64, away from kinks and clip bounds -----------------------
def _probs(rng, shape=(N, C)):
    e = np.exp(rng.standard_normal(shape))
    return e / e.sum(-1, keepdims=True)


def _distributions(rng):
    return _probs(rng), _probs(rng)


def _positive(rng):
    return rng.uniform(0.1, 3.0, (N, C)), rng.uniform(0.1, 3.0, (N, C))


def _counts(rng):
    return rng.integers(0, 5, (N, C)).astype(np.float64), rng.uniform(0.2, 4.0, (N, C))


def _regression(rng):
    return rng.standard_normal((N, C)), rng.standard_normal((N, C)) * 2


def _margins(rng, labels):
    """Scores whose margins 1 - t p stay at least 0.1 from the kink at 0."""
    t = labels(rng)
    m = rng.choice([-1.0, 1.0], t.shape) * rng.uniform(0.1, 1.5, t.shape)
    return t, (1.0 - m) * _signed(t)


def _binary_margins(rng):
    return _margins(rng, lambda r: r.integers(0, 2, (N, C)).astype(np.float64))


def _signed_margins(rng):
    return _margins(rng, lambda r: r.choice([-1.0, 1.0], (N, C)))


def _onehot_scores(rng):
    """One-hot targets and scores without ties, with neg - pos + 1 away from 0."""
    t = np.eye(C)[rng.integers(0, C, N)]
    for _ in range(100):
        p = rng.permutation(N * C).reshape(N, C) * 0.3 / C + rng.uniform(0, 0.01, (N, C))
        z = np.max((1 - t) * p, -1) - np.sum(t * p, -1) + 1
        if np.all(np.abs(z) > 0.05):
            return t, p
    raise AssertionError("no kink-free sample")


# name: (loss class, loss function, Keras formula, data, metric class)
CASES = {
    "msle": (losses.MeanSquaredLogarithmicError, losses.mean_squared_logarithmic_error, np_msle,
             _positive, metrics.MeanSquaredLogarithmicError),
    "kl_divergence": (losses.KLDivergence, losses.kl_divergence, np_kl, _distributions,
                      metrics.KLDivergence),
    "poisson": (losses.Poisson, losses.poisson, np_poisson, _counts, metrics.Poisson),
    "log_cosh": (losses.LogCosh, losses.log_cosh, np_log_cosh, _regression,
                 metrics.LogCoshError),
    "cosine_similarity": (losses.CosineSimilarity, losses.cosine_similarity, np_cosine,
                          _regression, None),
    "hinge": (losses.Hinge, losses.hinge, np_hinge, _binary_margins, metrics.Hinge),
    "hinge_signed": (losses.Hinge, losses.hinge, np_hinge, _signed_margins, metrics.Hinge),
    "squared_hinge": (losses.SquaredHinge, losses.squared_hinge, np_squared_hinge,
                      _binary_margins, metrics.SquaredHinge),
    "categorical_hinge": (losses.CategoricalHinge, losses.categorical_hinge,
                          np_categorical_hinge, _onehot_scores, metrics.CategoricalHinge),
}


@pytest.mark.parametrize("case", list(CASES))
def test_function_is_keras_formula(case, rng):
    _, fn, reference, data, _ = CASES[case]
    y_true, y_pred = data(rng)
    got = fn(y_true, y_pred)
    assert got.dtype == np.float32 and got.shape == (N,)
    np.testing.assert_allclose(got.numpy(), reference(y_true, y_pred.astype(np.float32)),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("case", list(CASES))
def test_loss_object_reduces_and_weights_as_keras(case, reduction, rng):
    cls, _, reference, data, _ = CASES[case]
    y_true, y_pred = data(rng)
    w = rng.uniform(0, 2, N)
    per = reference(y_true, y_pred.astype(np.float32)) * w
    expected = {"sum_over_batch_size": per.sum() / N, "sum": per.sum(), "none": per}[reduction]
    got = cls(reduction=reduction)(y_true, y_pred, sample_weight=w)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", list(CASES))
def test_gradcheck(case, rng):
    _, fn, _, data, _ = CASES[case]
    y_true, y_pred = data(rng)
    assert shenjing.gradcheck(lambda p: fn(y_true, p), y_pred)
    assert shenjing.gradcheck(lambda p: fn(y_true[0], p).sum(), y_pred[0])  # 1-D inputs


# -- torch, where it has the same loss -------------------------------------------------------------
TORCH = {
    # kl_div takes log-probabilities as input: t (log t - input)
    "kl_divergence": lambda t, p: torch.nn.functional.kl_div(p.log(), t, reduction="none").sum(-1),
    "cosine_similarity": lambda t, p: -torch.nn.functional.cosine_similarity(t, p, dim=-1),
    "poisson": lambda t, p: torch.nn.functional.poisson_nll_loss(
        p, t, log_input=False, eps=EPS, reduction="none").mean(-1),
}


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("case", list(TORCH))
def test_matches_torch(case, reduction, rng):
    cls, _, _, data, _ = CASES[case]
    loss = cls(reduction=reduction)

    def theirs(t, p, w):
        per = TORCH[case](t, p) * w
        return per if reduction == "none" else per.sum() / (N if reduction != "sum" else 1)

    assert_same_as_torch(lambda t, p, w: loss(t, p, sample_weight=w),
                         [*data(rng), rng.uniform(0, 2, N)], theirs, wrt=[1])


# -- Keras's clipping, epsilons and label conversion -----------------------------------------------
def test_kl_divergence_clips_both_distributions_to_eps_and_one():
    y_true = np.array([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])
    y_pred = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])  # zeros: log(t / 0) without the clip
    got = losses.kl_divergence(y_true, y_pred).numpy()
    np.testing.assert_allclose(got, np_kl(y_true, y_pred), rtol=1e-5)
    assert np.all(np.isfinite(got)) and got[0] == pytest.approx(0.0, abs=1e-5)


def test_msle_floors_negative_values_at_eps_and_poisson_adds_eps():
    y_true, y_pred = np.array([[-2.0, 0.0, 1.0]]), np.array([[-5.0, 3.0, 0.0]])
    np.testing.assert_allclose(losses.mean_squared_logarithmic_error(y_true, y_pred).numpy(),
                               np_msle(y_true, y_pred), rtol=1e-5)
    p = Tensor([[-5.0, 3.0, 0.5]], requires_grad=True)
    losses.MeanSquaredLogarithmicError()(y_true, p).backward()
    assert p.grad.numpy()[0, 0] == 0.0  # below the floor: constant
    counts, rates = np.array([[2.0, 0.0]]), np.array([[0.0, 1.0]])  # a zero rate: log(1e-7)
    np.testing.assert_allclose(losses.poisson(counts, rates).numpy(), np_poisson(counts, rates),
                               rtol=1e-5)


def test_log_cosh_cannot_overflow():
    x = np.array([[1e4, -1e4, 0.0, 50.0]], np.float32)
    got = losses.log_cosh(np.zeros_like(x), x).numpy()
    np.testing.assert_allclose(got, [np.mean([1e4 - np.log(2), 1e4 - np.log(2), 0.0,
                                              50 - np.log(2)])], rtol=1e-6)


def test_cosine_similarity_sign_axis_and_zero_vector():
    y_true = np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    y_pred = np.array([[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0], [1.0, 2.0]])
    got = losses.cosine_similarity(y_true, y_pred).numpy()
    np.testing.assert_allclose(got, [0.0, -1.0, 1.0, 0.0], atol=1e-6)  # Keras's example + zero
    along_0 = losses.CosineSimilarity(axis=0, reduction="none")(y_true, y_pred)
    np.testing.assert_allclose(along_0.numpy(), np_cosine(y_true, y_pred, axis=0), rtol=1e-5)
    assert along_0.shape == (2,)


def test_hinge_maps_binary_labels_but_keeps_signed_and_other_labels(rng):
    scores = rng.standard_normal((N, C))
    binary = rng.integers(0, 2, (N, C)).astype(np.float64)
    for fn in (losses.hinge, losses.squared_hinge):
        assert np.array_equal(fn(binary, scores).numpy(), fn(2 * binary - 1, scores).numpy())
    mixed = np.array([[0.0, 1.0, -1.0, 1.0]])  # not all 0/1: unchanged (Keras)
    np.testing.assert_allclose(losses.hinge(mixed, scores[:1]).numpy(),
                               np.mean(np.maximum(1 - mixed * scores[:1].astype(np.float32), 0),
                                       -1), rtol=1e-6)
    # categorical hinge takes one-hot (or -1/1) targets as they are
    t, p = _onehot_scores(rng)
    np.testing.assert_allclose(losses.categorical_hinge(t, p).numpy(),
                               np_categorical_hinge(t, p.astype(np.float32)), rtol=1e-5)


# -- shapes, masks ---------------------------------------------------------------------------------
MEAN_KIND = ["msle", "poisson", "log_cosh", "hinge", "squared_hinge"]  # mean over the last axis
SUM_KIND = ["kl_divergence", "cosine_similarity", "categorical_hinge"]  # reduce the last axis


@pytest.mark.parametrize("case", MEAN_KIND + SUM_KIND)
def test_shapes_sequences_1d_trailing_one_and_mismatch(case, rng):
    cls, fn, reference, data, _ = CASES[case]
    y_true, y_pred = data(rng)
    seq_t, seq_p = y_true.reshape(2, 3, C), y_pred.reshape(2, 3, C)
    np.testing.assert_allclose(fn(seq_t, seq_p).numpy(),
                               reference(seq_t, seq_p.astype(np.float32)), rtol=1e-5, atol=1e-6)
    one_d = fn(y_true[0], y_pred[0])
    assert one_d.shape == ((C,) if case in MEAN_KIND else ())
    column_t, column_p = y_true[:, :1], y_pred[:, :1]
    assert cls()(column_t[:, 0], column_p).item() == cls()(column_t, column_p).item()
    with pytest.raises(ValueError, match="shape"):
        fn(y_true[:, :3], y_pred)
    with pytest.raises(ValueError, match="shape"):
        fn(y_true[:1], y_pred)  # (1, C) would broadcast against (N, C)


@pytest.mark.parametrize("case", MEAN_KIND + SUM_KIND)
def test_padding_mask_drops_masked_steps(case, rng):
    cls, _, reference, data, _ = CASES[case]
    y_true, y_pred = (a.reshape(2, 3, C) for a in data(rng))
    mask = np.array([[True, True, False], [True, False, False]])
    pred = Tensor(y_pred, requires_grad=True)
    pred._keras_mask = mask
    loss = cls()(y_true, pred)
    per = reference(y_true, y_pred.astype(np.float32))
    np.testing.assert_allclose(loss.item(), per[mask].mean(), rtol=1e-5)
    loss.backward()
    assert np.all(pred.grad.numpy()[~mask] == 0)


# -- names, configs --------------------------------------------------------------------------------
@pytest.mark.parametrize("name, cls", [
    ("kl_divergence", losses.KLDivergence), ("kld", losses.KLDivergence),
    ("KLD", losses.KLDivergence), ("KLDivergence", losses.KLDivergence),
    ("kullback_leibler_divergence", losses.KLDivergence),
    ("msle", losses.MeanSquaredLogarithmicError),
    ("mean_squared_logarithmic_error", losses.MeanSquaredLogarithmicError),
    ("hinge", losses.Hinge), ("squared_hinge", losses.SquaredHinge),
    ("categorical_hinge", losses.CategoricalHinge), ("CategoricalHinge", losses.CategoricalHinge),
    ("poisson", losses.Poisson), ("Poisson", losses.Poisson),
    ("log_cosh", losses.LogCosh), ("logcosh", losses.LogCosh), ("LogCosh", losses.LogCosh),
    ("cosine_similarity", losses.CosineSimilarity),
    ("CosineSimilarity", losses.CosineSimilarity),
])
def test_get_resolves_keras_names(name, cls):
    assert type(losses.get(name)) is cls


@pytest.mark.parametrize("loss", [
    losses.KLDivergence(), losses.MeanSquaredLogarithmicError(reduction="sum"),
    losses.Poisson(name="rate"), losses.LogCosh(), losses.CosineSimilarity(axis=0),
    losses.Hinge(), losses.SquaredHinge(reduction="none"), losses.CategoricalHinge(),
    losses.LossFunctionWrapper(losses.cosine_similarity, axis=1),
], ids=lambda loss: type(loss).__name__ + "_" + loss.name)
def test_config_round_trips_through_json(loss):
    again = losses.get(json.loads(json.dumps(losses.serialize(loss))))
    assert type(again) is type(loss) and again.get_config() == loss.get_config()
    assert again.fn is loss.fn


def test_functions_resolve_to_their_classes_and_aliases():
    assert losses.msle is losses.mean_squared_logarithmic_error
    assert losses.kld is losses.kl_divergence
    for fn, cls in [(losses.kl_divergence, losses.KLDivergence), (losses.poisson, losses.Poisson),
                    (losses.cosine_similarity, losses.CosineSimilarity),
                    (losses.log_cosh, losses.LogCosh), (losses.hinge, losses.Hinge)]:
        assert type(losses.get(fn)) is cls
    assert losses.CosineSimilarity().name == "cosine_similarity"
    assert losses.LogCosh().name == "log_cosh" and losses.CosineSimilarity(axis=0).axis == 0


# -- metrics ---------------------------------------------------------------------------------------
METRICS = {
    "mean_squared_logarithmic_error": (metrics.MeanSquaredLogarithmicError, np_msle, _positive),
    "kl_divergence": (metrics.KLDivergence, np_kl, _distributions),
    "poisson": (metrics.Poisson, np_poisson, _counts),
    "logcosh": (metrics.LogCoshError, np_log_cosh, _regression),
    "cosine_similarity": (metrics.CosineSimilarity, lambda t, p: -np_cosine(t, p), _regression),
    "hinge": (metrics.Hinge, np_hinge, _binary_margins),
    "squared_hinge": (metrics.SquaredHinge, np_squared_hinge, _binary_margins),
    "categorical_hinge": (metrics.CategoricalHinge, np_categorical_hinge, _onehot_scores),
}


@pytest.mark.parametrize("case", list(METRICS))
def test_metric_is_the_weighted_mean_of_the_keras_formula(case, rng):
    cls, reference, data = METRICS[case]
    y_true, y_pred = data(rng)
    w = rng.uniform(0, 2, N)
    per = reference(y_true, y_pred)
    expected = (per * w).sum() / w.sum()
    one_shot = cls()
    assert one_shot.name == case  # Keras's default names
    one_shot.update_state(y_true, y_pred, sample_weight=w)
    assert type(one_shot.result()) is float
    np.testing.assert_allclose(one_shot.result(), expected, rtol=1e-10)  # computed in float64
    streamed = cls()
    streamed.update_state(y_true[:2], y_pred[:2], sample_weight=w[:2])
    streamed.update_state(Tensor(y_true[2:]), Tensor(y_pred[2:]), sample_weight=w[2:])
    np.testing.assert_allclose(streamed.result(), expected, rtol=1e-5)  # float32 Tensors
    streamed.reset_state()
    assert streamed.result() == 0.0


def test_cosine_similarity_metric_is_positive_along_its_axis():
    y_true = np.array([[0.0, 1.0], [1.0, 1.0]])
    y_pred = np.array([[0.0, 3.0], [-1.0, -1.0]])
    assert metrics.CosineSimilarity()(y_true, y_pred) == pytest.approx(0.0)
    assert metrics.CosineSimilarity()(y_true[:1], y_pred[:1]) == pytest.approx(1.0)
    m = metrics.CosineSimilarity(axis=0)
    np.testing.assert_allclose(m(y_true, y_pred), np.mean(-np_cosine(y_true, y_pred, axis=0)))


@pytest.mark.parametrize("name, cls", [
    ("kl_divergence", metrics.KLDivergence), ("kld", metrics.KLDivergence),
    ("msle", metrics.MeanSquaredLogarithmicError), ("poisson", metrics.Poisson),
    ("logcosh", metrics.LogCoshError), ("log_cosh", metrics.LogCoshError),
    ("LogCoshError", metrics.LogCoshError), ("cosine_similarity", metrics.CosineSimilarity),
    ("hinge", metrics.Hinge), ("squared_hinge", metrics.SquaredHinge),
    ("categorical_hinge", metrics.CategoricalHinge),
])
def test_metric_names_and_configs(name, cls):
    m = metrics.get(name)
    assert type(m) is cls and m.name == name
    again = metrics.get(json.loads(json.dumps({"class_name": cls.__name__,
                                               "config": m.get_config()})))
    assert type(again) is cls and again.get_config() == m.get_config()


# -- training with compile(loss=name) --------------------------------------------------------------
def _task(kind, rng):
    x = rng.standard_normal((64, 3)).astype(np.float32)
    score = x @ np.array([1.0, -2.0, 0.5])
    if kind == "classes":  # one-hot targets of 3 classes, softmax outputs
        return x, np.eye(3)[np.digitize(score, [-1.0, 1.0])], "softmax", 3
    if kind == "binary":  # 0/1 labels, raw scores
        return x, (score > 0).astype(np.float64)[:, None], None, 1
    if kind == "signs":  # -1/1 labels of 3 outputs, raw scores
        return x, np.sign(x * [1.0, -1.0, 2.0] + 0.1), None, 3
    return x, np.exp(0.3 * score)[:, None], "softplus", 1  # positive rates / values


@pytest.mark.parametrize("name, kind", [
    ("kl_divergence", "classes"), ("kld", "classes"), ("categorical_hinge", "classes"),
    ("cosine_similarity", "signs"), ("hinge", "binary"), ("squared_hinge", "binary"),
    ("msle", "positive"), ("poisson", "positive"), ("log_cosh", "positive"),
])
def test_tiny_model_trains_with_the_loss_by_name(name, kind, rng):
    x, y, activation, units = _task(kind, rng)
    model = shenjing.Sequential([shenjing.Input((3,)), shenjing.layers.Dense(8, activation="tanh"),
                                 shenjing.layers.Dense(units, activation=activation)])
    model.compile(optimizer=shenjing.optimizers.Adam(0.05), loss=name, metrics=[name])
    history = model.fit(x, y, batch_size=16, epochs=15, verbose=0).history
    perfect = 2 * y - 1 if kind == "binary" else y  # hinge: scores of margin 1
    best = losses.get(name)(y, perfect).item()  # 0, or -1 for cosine, t - t log t for Poisson
    first, last = history["loss"][0], history["loss"][-1]
    assert last - best < 0.5 * (first - best), (best, history["loss"])
    assert np.isfinite(history[name]).all()


def test_compiled_losses_and_metrics_are_saved_and_loaded(tmp_path, rng):
    x, y, activation, units = _task("classes", rng)
    model = shenjing.Sequential([shenjing.Input((3,)),
                                 shenjing.layers.Dense(units, activation=activation)])
    model.compile(optimizer="adam", loss=losses.CosineSimilarity(axis=-1),
                  metrics=["kld", metrics.categorical_hinge, metrics.LogCoshError()])
    before = model.evaluate(x, y, verbose=0, return_dict=True)
    model.save(tmp_path / "m.shenjing")
    loaded = shenjing.models.load_model(tmp_path / "m.shenjing")
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == pytest.approx(before)
    assert set(before) == {"loss", "kld", "categorical_hinge", "logcosh"}
