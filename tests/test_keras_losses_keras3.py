"""Keras 3 losses and options added after the first set: the 'mean_with_sample_weight'
reduction, SparseCategoricalCrossentropy(ignore_class), BinaryFocalCrossentropy,
CategoricalFocalCrossentropy, Dice, Tversky and Circle. Checked against torch (values and
gradients), against Keras 3's formulas written in NumPy and its documented examples, by
gradcheck, and through names and configs."""

from __future__ import annotations

import json

import numpy as np
import pytest

import shenjing
from oracle import assert_same_as_torch, torch
from shenjing import losses

EPS = 1e-7
N, C = 8, 4
TF = torch.nn.functional if torch is not None else None


# -- reduction='mean_with_sample_weight' ---------------------------------------------------------
@pytest.mark.parametrize("cls", [losses.MeanSquaredError, losses.BinaryCrossentropy])
def test_mean_with_sample_weight_divides_by_the_weights(cls, rng):
    y, p = rng.integers(0, 2, (N, C)).astype(np.float32), rng.uniform(0.05, 0.95, (N, C))
    per = cls(reduction="none")(y, p).numpy().astype(np.float64)
    w = rng.uniform(0, 2, N)
    got = cls(reduction="mean_with_sample_weight")(y, p, sample_weight=w).item()
    assert got == pytest.approx(np.sum(per * w) / np.sum(w), rel=1e-5)
    unweighted = cls(reduction="mean_with_sample_weight")(y, p).item()
    assert unweighted == pytest.approx(per.mean(), rel=1e-5)  # no weights: the plain mean
    assert cls(reduction="mean_with_sample_weight")(y, p, sample_weight=np.zeros(N)).item() == 0


# -- SparseCategoricalCrossentropy(ignore_class) --------------------------------------------------
@pytest.mark.parametrize("shape", [(N,), (N, 5)], ids=["samples", "sequences"])
@pytest.mark.parametrize("ignore", [-1, 2])
def test_ignore_class_is_torch_ignore_index(shape, ignore, rng):
    labels = rng.integers(0, C, shape)
    labels[rng.uniform(size=shape) < 0.3] = ignore
    logits = rng.standard_normal((*shape, C))
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=ignore)

    def theirs(p, t):  # torch wants the class axis second
        p = p if p.ndim == 2 else p.permute(0, 2, 1)
        return TF.cross_entropy(p, t, ignore_index=ignore)

    assert_same_as_torch(lambda p, t: loss(t, p), [logits, labels], theirs)


def test_ignore_class_with_weights_reductions_and_probabilities(rng):
    labels = np.array([0, 3, 1, 3, 2, 0])
    probs = rng.dirichlet(np.ones(C), len(labels))
    w = rng.uniform(0.5, 2, len(labels))
    valid = labels != 3
    per = -np.log(np.clip(probs[np.arange(len(labels)), np.where(valid, labels, 0)], EPS, 1))
    per = np.where(valid, per, 0.0)
    for reduction, expected in [("sum_over_batch_size", np.sum(per * w) / valid.sum()),
                                ("sum", np.sum(per * w)), ("none", per * w),
                                ("mean_with_sample_weight", np.sum(per * w) / np.sum(w * valid))]:
        loss = losses.SparseCategoricalCrossentropy(ignore_class=3, reduction=reduction)
        np.testing.assert_allclose(loss(labels, probs, sample_weight=w).numpy(), expected,
                                   rtol=1e-5)
    values = losses.sparse_categorical_crossentropy(labels, probs, ignore_class=3)
    np.testing.assert_array_equal(values._keras_mask, valid)
    empty = losses.SparseCategoricalCrossentropy(ignore_class=3)(labels[:0], probs[:0])
    assert empty.item() == 0.0  # an empty batch is 0, not NaN
    only_ignored = losses.SparseCategoricalCrossentropy(ignore_class=3)(labels * 0 + 3, probs)
    assert only_ignored.item() == 0.0


# -- Keras 3's axis on the binary and sparse cross-entropies ---------------------------------------
def np_binary_crossentropy(t, p, axis=-1, smoothing=0.0):
    """Keras 3's binary_crossentropy on probabilities, transcribed."""
    t = t * (1 - smoothing) + 0.5 * smoothing
    q = np.clip(p, EPS, 1 - EPS)
    return np.mean(-(t * np.log(q) + (1 - t) * np.log(1 - q)), axis=axis)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_binary_crossentropies_average_over_keras_axis(axis, rng):
    t, p = rng.integers(0, 2, (N, 3, C)).astype(np.float64), rng.uniform(0.02, 0.98, (N, 3, C))
    expected = np_binary_crossentropy(t, p, axis, smoothing=0.2)
    got = losses.binary_crossentropy(t, p, label_smoothing=0.2, axis=axis)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)
    # Keras 3's positional order: from_logits, label_smoothing, axis, reduction, name
    loss = losses.BinaryCrossentropy(False, 0.2, axis, "none", "bce")
    np.testing.assert_allclose(loss(t, p).numpy(), expected, rtol=1e-6)
    assert loss.get_config()["axis"] == axis and loss.name == "bce"
    focal = np.moveaxis(t, axis, -1), np.moveaxis(p, axis, -1)
    got = losses.BinaryFocalCrossentropy(True, 0.3, 1.5, False, 0.1, axis, "none")(t, p)
    np.testing.assert_allclose(got.numpy(), np_binary_focal(*focal, True, 0.3, 1.5, 0.1),
                               rtol=1e-6)
    assert shenjing.gradcheck(lambda q: losses.binary_focal_crossentropy(t, q, axis=axis), p)


def test_sparse_categorical_crossentropy_classes_along_keras_axis(rng):
    """Classes on axis 1 (a (N, C, H, W) score map): torch's cross_entropy layout."""
    labels, logits = rng.integers(0, C, (2, 3, 5)), rng.standard_normal((2, C, 3, 5))
    assert_same_as_torch(
        lambda p, t: losses.sparse_categorical_crossentropy(t, p, from_logits=True, axis=1),
        [logits, labels], lambda p, t: TF.cross_entropy(p, t, reduction="none"))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    got = losses.sparse_categorical_crossentropy(labels[..., None], probs, axis=-3)
    expected = -np.log(np.take_along_axis(probs, labels[:, None], 1)[:, 0])
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("make", [
    lambda: losses.BinaryCrossentropy(False, 0.0, "sum_over_batch_size"),
    lambda: losses.BinaryFocalCrossentropy(axis=1.5),
    lambda: losses.CategoricalCrossentropy(axis=True),
    lambda: losses.sparse_categorical_crossentropy([0], [[1.0, 0.0]], axis="last"),
])
def test_axis_that_is_not_an_integer_is_a_clear_error(make):
    with pytest.raises(ValueError, match="axis must be an integer"):
        make()


# -- focal cross-entropies -------------------------------------------------------------------------
def np_binary_focal(t, p, balancing=False, alpha=0.25, gamma=2.0, smoothing=0.0):
    """Keras 3's binary_focal_crossentropy on probabilities, transcribed."""
    t = t * (1 - smoothing) + 0.5 * smoothing
    q = np.clip(p, EPS, 1 - EPS)
    bce = -(t * np.log(q) + (1 - t) * np.log(1 - q))
    p_t = t * p + (1 - t) * (1 - p)
    focal = (1 - p_t) ** gamma * bce
    if balancing:
        focal = (t * alpha + (1 - t) * (1 - alpha)) * focal
    return focal.mean(-1)


def test_binary_focal_keras_documented_example():
    got = losses.binary_focal_crossentropy(np.array([[0, 1], [0, 0]]),
                                           np.array([[0.6, 0.4], [0.4, 0.6]]), gamma=2.0)
    np.testing.assert_allclose(got.numpy(), [0.330, 0.206], atol=5e-4)


@pytest.mark.parametrize("balancing, alpha, gamma, smoothing", [
    (False, 0.25, 2.0, 0.0), (True, 0.25, 2.0, 0.0), (True, 0.7, 0.5, 0.1), (False, 0.25, 0, 0)])
def test_binary_focal_is_keras_formula(balancing, alpha, gamma, smoothing, rng):
    t, p = rng.integers(0, 2, (N, C)).astype(np.float64), rng.uniform(0.02, 0.98, (N, C))
    got = losses.BinaryFocalCrossentropy(balancing, alpha, gamma, label_smoothing=smoothing,
                                         reduction="none")(t, p)
    np.testing.assert_allclose(got.numpy(), np_binary_focal(t, p, balancing, alpha, gamma,
                                                            smoothing), rtol=1e-5)
    if gamma == 0 and not balancing:  # no focusing: binary cross-entropy
        np.testing.assert_allclose(got.numpy(), losses.binary_crossentropy(t, p).numpy(),
                                   rtol=1e-6)
    assert shenjing.gradcheck(
        lambda q: losses.binary_focal_crossentropy(t, q, balancing, alpha, gamma,
                                                   label_smoothing=smoothing), p)


@pytest.mark.parametrize("balancing", [False, True])
def test_binary_focal_from_logits_matches_torch(balancing, rng):
    """torchvision's sigmoid_focal_loss formula, written in torch, on moderate logits."""
    t, x = rng.integers(0, 2, (N, C)).astype(np.float64), rng.standard_normal((N, C)) * 2
    w = rng.uniform(0, 2, N)
    loss = losses.BinaryFocalCrossentropy(balancing, alpha=0.3, gamma=1.5, from_logits=True)

    def theirs(t, x, w):
        p = torch.sigmoid(x)
        ce = TF.binary_cross_entropy_with_logits(x, t, reduction="none")
        p_t = p * t + (1 - p) * (1 - t)
        focal = ce * (1 - p_t) ** 1.5
        if balancing:
            focal = (0.3 * t + 0.7 * (1 - t)) * focal
        return (focal.mean(-1) * w).sum() / N

    assert_same_as_torch(lambda t, x, w: loss(t, x, sample_weight=w), [t, x, w], theirs, wrt=[1])


@pytest.mark.parametrize("alpha, gamma, smoothing", [(0.25, 2.0, 0.0), (1.0, 0.5, 0.1)])
def test_categorical_focal_matches_torch(alpha, gamma, smoothing, rng):
    t = np.eye(C)[rng.integers(0, C, N)]
    x = rng.standard_normal((N, C)) * 2
    loss = losses.CategoricalFocalCrossentropy(alpha, gamma, from_logits=True,
                                               label_smoothing=smoothing)

    def theirs(t, x):
        t = t * (1 - smoothing) + smoothing / C
        p = torch.softmax(x, -1)
        return (-alpha * (1 - p) ** gamma * t * torch.log(p)).sum(-1).mean()

    assert_same_as_torch(lambda t, x: loss(t, x), [t, x], theirs, wrt=[1])
    # from probabilities: renormalized and clipped; gamma 0, alpha 1: categorical cross-entropy
    p = rng.dirichlet(np.ones(C), N)
    plain = losses.categorical_focal_crossentropy(t, p, alpha=1.0, gamma=0.0)
    np.testing.assert_allclose(plain.numpy(), losses.categorical_crossentropy(t, p).numpy(),
                               rtol=1e-6)
    assert shenjing.gradcheck(lambda q: losses.categorical_focal_crossentropy(t, q), p)


# -- CategoricalGeneralizedCrossEntropy ----------------------------------------------------------
@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("shape", [(N,), (N, 3)], ids=["samples", "sequences"])
def test_generalized_cross_entropy_matches_torch(shape, q, rng):
    """Keras 3's (1 - p**q) / q of the true class's probability, written in torch."""
    labels, probs = rng.integers(0, C, shape), rng.dirichlet(np.ones(C), shape)
    w = rng.uniform(0, 2, N)
    loss = losses.CategoricalGeneralizedCrossEntropy(q)

    def theirs(p, t, w):
        per = (1 - torch.gather(p, -1, t[..., None])[..., 0] ** q) / q
        return (per * (w if per.ndim == 1 else w[:, None])).mean()

    assert_same_as_torch(lambda p, t, w: loss(t, p, sample_weight=w), [probs, labels, w], theirs,
                         wrt=[0])
    per = losses.categorical_generalized_cross_entropy(labels[..., None], probs, q)  # (..., 1)
    np.testing.assert_allclose(per.numpy(), (1 - np.take_along_axis(
        probs, labels[..., None], -1)[..., 0] ** q) / q, rtol=1e-6)
    assert shenjing.gradcheck(
        lambda p: losses.categorical_generalized_cross_entropy(labels, p, q), probs)


def test_generalized_cross_entropy_keras_example_and_bad_q():
    y_true = np.array([0, 1, 0, 1])
    y_pred = np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]])
    got = losses.CategoricalGeneralizedCrossEntropy(q=0.1)(y_true, y_pred).item()
    assert got == pytest.approx(np.mean((1 - np.array([0.7, 0.8, 0.6, 0.6]) ** 0.1) / 0.1))
    for q in (0, 1, 1.5, "0.5"):
        with pytest.raises(ValueError, match="q must lie in the interval"):
            losses.CategoricalGeneralizedCrossEntropy(q)
    with pytest.raises(ValueError, match="labels must lie in"):
        losses.categorical_generalized_cross_entropy(np.array([2]), y_pred[:1], 0.5)


# -- Dice, Tversky ---------------------------------------------------------------------------------
# Keras 3's documented Dice example: two 2x2 one-channel masks
DICE_TRUE = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
DICE_PRED = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])


def test_dice_keras_documented_example():
    per_image = losses.dice(DICE_TRUE, DICE_PRED, axis=(1, 2, 3))
    np.testing.assert_allclose(per_image.numpy(), [0.5, 0.75757575], rtol=1e-6)
    np.testing.assert_allclose(losses.dice(DICE_TRUE, DICE_PRED).item(), 0.6164384, rtol=1e-6)
    loss = losses.Dice(axis=[1, 2, 3], reduction=None)
    np.testing.assert_allclose(loss(DICE_TRUE, DICE_PRED).numpy(), [0.5, 0.75757575],
                               rtol=1e-6)
    w = np.array([1.0, 3.0])
    got = losses.Dice(axis=(1, 2, 3))(DICE_TRUE, DICE_PRED, sample_weight=w).item()
    assert got == pytest.approx((0.5 * 1 + 0.75757575 * 3) / 2, rel=1e-6)


def test_dice_and_tversky_match_torch_by_hand(rng):
    t = rng.integers(0, 2, (N, 3, 3, 1)).astype(np.float64)
    p = rng.uniform(0, 1, (N, 3, 3, 1))
    axis = (1, 2, 3)

    def torch_dice(t, p):
        inter = (t * p).sum(dim=axis)
        return (1 - 2 * inter / (t.sum(dim=axis) + p.sum(dim=axis) + EPS)).mean()

    def torch_tversky(t, p):
        tp = (t * p).sum(dim=axis)
        return (1 - tp / (tp + 0.7 * (t * (1 - p)).sum(dim=axis)
                          + 0.3 * ((1 - t) * p).sum(dim=axis) + EPS)).mean()

    assert_same_as_torch(lambda t, p: losses.Dice(axis=axis)(t, p), [t, p], torch_dice, wrt=[1])
    assert_same_as_torch(lambda t, p: losses.Tversky(0.7, 0.3, axis=axis)(t, p), [t, p],
                         torch_tversky, wrt=[1])
    # alpha = beta = 0.5 is Dice; the default axis sums everything
    np.testing.assert_allclose(losses.Tversky()(t, p).item(), losses.Dice()(t, p).item(),
                               rtol=1e-6)
    assert shenjing.gradcheck(lambda q: losses.tversky(t, q, 0.2, 0.8), p)


def test_tversky_alpha_weighs_missed_positives_as_keras():
    """Keras 3 multiplies alpha with sum(t (1 - p)): one positive missed half, no false alarm."""
    t, p = np.array([1.0, 0.0]), np.array([0.5, 0.0])
    assert losses.tversky(t, p, alpha=1.0, beta=0.0).item() == pytest.approx(
        1 - 0.5 / (0.5 + 1.0 * 0.5 + EPS), rel=1e-6)
    assert losses.tversky(t, p, alpha=0.0, beta=1.0).item() == pytest.approx(0.0, abs=1e-6)


def test_shapes_must_match(rng):
    with pytest.raises(ValueError, match="shape"):
        losses.Dice()(np.ones((N, 3)), rng.uniform(0, 1, (N, 4)))
    with pytest.raises(ValueError, match="shape"):
        losses.BinaryFocalCrossentropy()(np.ones((N, 3)), rng.uniform(0, 1, (3, N)))


# -- names and configs -----------------------------------------------------------------------------
@pytest.mark.parametrize("name, cls", [
    ("binary_focal_crossentropy", losses.BinaryFocalCrossentropy),
    ("BinaryFocalCrossentropy", losses.BinaryFocalCrossentropy),
    ("categorical_focal_crossentropy", losses.CategoricalFocalCrossentropy),
    ("dice", losses.Dice), ("Tversky", losses.Tversky),
    ("categorical_generalized_cross_entropy", losses.CategoricalGeneralizedCrossEntropy),
])
def test_get_resolves_the_new_names(name, cls):
    assert type(losses.get(name)) is cls
    fn = getattr(losses, cls(name="x").fn.__name__)
    assert type(losses.get(fn)) is cls


@pytest.mark.parametrize("loss", [
    losses.BinaryFocalCrossentropy(True, 0.4, 1.0, from_logits=True, label_smoothing=0.1),
    losses.CategoricalFocalCrossentropy(gamma=3.0, axis=1, reduction="sum"),
    losses.Dice(axis=(1, 2)), losses.Tversky(0.3, 0.7, name="tv"),
    losses.SparseCategoricalCrossentropy(ignore_class=255, reduction="mean_with_sample_weight"),
], ids=lambda loss: type(loss).__name__)
def test_config_round_trips_through_json(loss):
    again = losses.get(json.loads(json.dumps(losses.serialize(loss))))
    assert type(again) is type(loss) and again.get_config() == loss.get_config()


def test_a_tiny_segmenter_trains_with_dice(rng):
    x = rng.uniform(-1, 1, (64, 4, 4, 1)).astype(np.float32)
    y = (x > 0).astype(np.float32)
    model = shenjing.Sequential([shenjing.Input((4, 4, 1)),
                                 shenjing.layers.Dense(1, activation="sigmoid")])
    model.compile(shenjing.optimizers.Adam(0.05), losses.Dice(axis=(1, 2, 3)))
    history = model.fit(x, y, batch_size=16, epochs=20, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert np.mean((model.predict(x, verbose=0) > 0.5) == y) > 0.9  # chance is 0.5


# -- Circle (metric learning) ----------------------------------------------------------------------
def _circle_numpy(labels, emb, ref_labels, ref, remove_diagonal=True, gamma=80.0, margin=0.4):
    """Keras 3's circle formula, written out in float64 NumPy, a row at a time."""
    out = []
    for i in range(len(emb)):
        d = np.maximum(1 - ref @ emb[i], 0.0)
        pos = ref_labels == labels[i]
        if remove_diagonal and i < len(ref):
            pos[i] = False
        neg = ref_labels != labels[i]
        p_terms = -gamma * np.maximum(margin + d[pos], 0) * (margin - d[pos])
        n_terms = gamma * np.maximum(1 + margin - d[neg], 0) * (1 - margin - d[neg])
        lse = [np.log(np.sum(np.exp(t))) if t.size else -np.inf for t in (p_terms, n_terms)]
        out.append(np.logaddexp(0, lse[0] + lse[1]))
    return np.array(out)


def _unit_rows(rng, n, d=5):
    e = rng.standard_normal((n, d))
    return e / np.linalg.norm(e, axis=1, keepdims=True)


@pytest.mark.parametrize("remove_diagonal", [True, False])
def test_circle_is_keras_formula_with_its_mask(remove_diagonal, rng):
    emb, labels = _unit_rows(rng, N), np.array([0, 0, 1, 1, 1, 2, 3, 2])  # label 3: no positive
    expected = _circle_numpy(labels, emb, labels, emb, remove_diagonal, gamma=8.0)
    per = losses.circle(labels, emb.astype(np.float32), remove_diagonal=remove_diagonal,
                        gamma=8.0)
    np.testing.assert_allclose(per.numpy(), expected, rtol=1e-4, atol=1e-6)
    valid = expected > 0
    assert (per._keras_mask == valid).all() and valid.sum() == (N - 1 if remove_diagonal else N)
    got = losses.Circle(gamma=8.0, remove_diagonal=remove_diagonal)(labels, emb.astype(
        np.float32)).item()
    assert got == pytest.approx(expected[valid].mean(), rel=1e-4)  # the mean over valid rows


def test_circle_against_references_and_its_gradient(rng):
    emb, ref = _unit_rows(rng, 4), _unit_rows(rng, 6)
    labels, ref_labels = np.array([0, 1, 2, 1]), np.array([1, 0, 2, 2, 0, 1])
    expected = _circle_numpy(labels, emb, ref_labels, ref, remove_diagonal=False, gamma=5.0)
    per = losses.circle(labels, emb, ref_labels, ref, remove_diagonal=False, gamma=5.0)
    np.testing.assert_allclose(per.numpy(), expected, rtol=1e-6)  # (NumPy input: float32)
    assert shenjing.gradcheck(lambda e, r: losses.circle(labels, e, ref_labels, r, False,
                                                         gamma=5.0).sum(), emb, ref)


def test_circle_by_name_config_and_bad_shapes(rng):
    loss = losses.get("circle")
    assert isinstance(loss, losses.Circle) and loss.get_config()["gamma"] == 80.0
    again = losses.Circle.from_config(json.loads(json.dumps(
        losses.Circle(gamma=16.0, margin=0.25).get_config())))
    emb, labels = _unit_rows(rng, N), np.arange(N) % 3
    assert again(labels, emb).item() == pytest.approx(losses.Circle(gamma=16.0, margin=0.25)(
        labels, emb).item())
    with pytest.raises(ValueError, match="one label each"):
        losses.circle(labels[:3], emb)
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        losses.circle(labels, emb[:, :, None])
