"""SpatialDropout1D / SpatialDropout2D (Keras 3): in training whole channels are dropped (one
draw per sample and channel, inverted scaling), the gradient is the same mask, seeded as
Dropout; the identity at inference; F.dropout's noise_shape under them; a fit, save and load;
and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing import F, Tensor
from shenjing import layers as L
from shenjing.models import load_model

CASES = [  # layer class, input shape, the axes one draw covers
    (L.SpatialDropout1D, (40, 7, 30), (1,)),
    (L.SpatialDropout2D, (40, 4, 5, 30), (1, 2)),
]


@pytest.mark.parametrize("cls, shape, shared", CASES)
@pytest.mark.parametrize("rate", [0.2, 0.5, 0.8])
def test_training_drops_whole_channels(cls, shape, shared, rate, rng):
    x = Tensor(rng.uniform(1, 2, shape), requires_grad=True)
    y = cls(rate, seed=3)(x, training=True)
    mask = y.numpy() / x.numpy()
    first = mask[(slice(None), *([0] * len(shared)))]  # (batch, channels)
    # one value per sample and channel, shared over the steps or pixels
    np.testing.assert_allclose(mask, np.broadcast_to(np.expand_dims(first, shared), shape),
                               rtol=1e-6)
    assert set(np.round(np.unique(first), 5)) <= {0.0, round(1 / (1 - rate), 5)}
    n = first.size  # 1,200 Bernoulli draws: within 5 standard deviations of the rate
    assert abs((first == 0).mean() - rate) < 5 * np.sqrt(rate * (1 - rate) / n)
    upstream = rng.standard_normal(shape).astype(np.float32)
    y.backward(upstream)
    np.testing.assert_allclose(x.grad.numpy(), upstream * mask, rtol=1e-6)


@pytest.mark.parametrize("cls, shape, _", CASES)
def test_identity_at_inference_and_rate_zero(cls, shape, _, rng):
    x = Tensor(rng.standard_normal(shape))
    assert cls(0.5)(x) is x
    assert cls(0.5)(x, training=False) is x
    assert cls(0.0)(x, training=True) is x


@pytest.mark.parametrize("cls, shape, _", CASES)
def test_rate_one_drops_everything(cls, shape, _):
    y = cls(1.0)(np.ones(shape, np.float32), training=True)
    np.testing.assert_array_equal(y.numpy(), np.zeros(shape))


@pytest.mark.parametrize("cls, shape, _", CASES)
def test_seeded_as_dropout(cls, shape, _):
    x = np.ones(shape, np.float32)
    a, b = cls(0.5, seed=7), cls(0.5, seed=7)
    first = a(x, training=True).numpy()
    np.testing.assert_array_equal(first, b(x, training=True).numpy())
    assert not np.array_equal(first, a(x, training=True).numpy())  # a new draw each call
    assert not np.array_equal(first, cls(0.5, seed=8)(x, training=True).numpy())
    sj.utils.set_random_seed(11)
    unseeded = cls(0.5)(x, training=True).numpy()
    sj.utils.set_random_seed(11)
    np.testing.assert_array_equal(cls(0.5)(x, training=True).numpy(), unseeded)


def test_noise_shape_of_functional_dropout(rng):
    x = Tensor(np.ones((6, 3, 8), np.float32))
    y = F.dropout(x, 0.5, generator=np.random.default_rng(0), noise_shape=(None, 1, None))
    kept = y.numpy() != 0
    np.testing.assert_array_equal(kept, np.broadcast_to(kept[:, :1], kept.shape))
    with pytest.raises(ValueError, match=r"noise_shape must have one entry per axis of x, each "
                                         r"1, None or that axis's size; got \(6, 2, 8\)"):
        F.dropout(x, 0.5, noise_shape=(6, 2, 8))
    with pytest.raises(ValueError, match=r"got \(6, 1\) for x of shape \(6, 3, 8\)"):
        F.dropout(x, 0.5, noise_shape=(6, 1))


@pytest.mark.parametrize("make, error, message", [
    (lambda: L.SpatialDropout1D(1.5), ValueError, r"rate must be in \[0, 1\], got 1.5"),
    (lambda: L.SpatialDropout2D(-0.1), ValueError, r"rate must be in \[0, 1\], got -0.1"),
    (lambda: L.SpatialDropout2D(0.5, data_format="channels_first"), ValueError,
     "only data_format='channels_last' is supported"),
])
def test_bad_arguments_name_what_was_wrong(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("cls, ndim", [(L.SpatialDropout1D, 3), (L.SpatialDropout2D, 4)])
def test_wrong_rank_names_the_layer(cls, ndim, rng):
    with pytest.raises(ValueError, match=rf"\({cls.__name__}\) expected input with {ndim} axes, "
                                         r"got input of shape \(2, 3\)"):
        cls(0.5)(rng.standard_normal((2, 3)), training=True)


def test_fit_with_spatial_dropout_then_save_and_load(tmp_path, rng):
    x = rng.standard_normal((64, 6, 6, 2)).astype(np.float32)
    y = (x[..., 0].mean(axis=(1, 2)) > 0).astype(np.float32)[:, None]
    sj.utils.set_random_seed(0)
    model = sj.Sequential([
        sj.Input((6, 6, 2)),
        L.Conv2D(8, 3, activation="relu"),
        L.SpatialDropout2D(0.25, seed=2),
        L.GlobalAveragePooling2D(),
        L.Reshape((1, 8)),
        L.SpatialDropout1D(0.1),
        L.Flatten(),
        L.Dense(1),
    ])
    model.compile(sj.optimizers.Adam(0.02), sj.losses.BinaryCrossentropy(from_logits=True))
    history = model.fit(x, y, batch_size=16, epochs=15, verbose=0).history
    assert history["loss"][-1] < 0.7 * history["loss"][0]
    model.save(tmp_path / "m.shenjing")
    loaded = load_model(tmp_path / "m.shenjing")
    assert type(loaded.layers[1]) is L.SpatialDropout2D
    assert (loaded.layers[1].rate, loaded.layers[1].seed) == (0.25, 2)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
