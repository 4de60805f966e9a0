"""shenjing.random (keras.random): shapes and dtypes, Keras's seed rules, the distributions'
moments, and dropout's mask, scale and gradient."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from shenjing import random as R


@pytest.mark.parametrize("draw", [
    lambda seed: R.normal((500, 40), mean=2.0, stddev=3.0, seed=seed),
    lambda seed: R.uniform((500, 40), minval=-1.0, maxval=3.0, seed=seed),
    lambda seed: R.truncated_normal((500, 40), stddev=0.5, seed=seed),
    lambda seed: R.randint((500, 40), 0, 7, seed=seed),
])
def test_seed_rules_are_keras_rules(draw):
    # an int seed repeats, a SeedGenerator moves on but replays from the same seed
    np.testing.assert_array_equal(draw(3).numpy(), draw(3).numpy())
    gen, again = R.SeedGenerator(5), R.SeedGenerator(5)
    first, second = draw(gen).numpy(), draw(gen).numpy()
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(draw(again).numpy(), first)
    shenjing.utils.set_random_seed(11)
    a = draw(None).numpy()
    shenjing.utils.set_random_seed(11)
    np.testing.assert_array_equal(draw(None).numpy(), a)


def test_distributions_have_their_moments():
    n = R.normal((200_000,), mean=2.0, stddev=3.0, seed=0).numpy()
    u = R.uniform((200_000,), minval=-1.0, maxval=3.0, seed=0).numpy()
    t = R.truncated_normal((200_000,), mean=1.0, stddev=0.5, seed=0).numpy()
    i = R.randint((200_000,), 2, 7, seed=0).numpy()
    assert n.dtype == u.dtype == t.dtype == np.float32 and i.dtype == np.int32
    assert abs(n.mean() - 2.0) < 0.03 and abs(n.std() - 3.0) < 0.03
    assert u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.02
    assert np.abs(t - 1.0).max() <= 1.0
    assert abs(t.std() - 0.5 * 0.8796) < 0.01  # the std of a normal cut at 2 std
    assert set(np.unique(i)) == {2, 3, 4, 5, 6}
    assert R.normal((2, 3), dtype="float64", seed=0).dtype == np.float64


def test_dropout_zeros_a_fraction_and_rescales_the_rest():
    x = shenjing.Tensor(np.ones((400, 50), np.float32), requires_grad=True)
    y = R.dropout(x, rate=0.25, seed=R.SeedGenerator(0))
    kept = y.numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.75, rtol=1e-6)
    shared = R.dropout(np.ones((4, 3, 5)), 0.5, noise_shape=(4, 1, 5), seed=1).numpy()
    assert np.all(shared == shared[:, :1])


def test_shuffle_permutes_along_an_axis():
    x = np.arange(24).reshape(4, 6)
    out = R.shuffle(x, axis=1, seed=2).numpy()
    np.testing.assert_array_equal(out, x[:, out[0]])  # whole columns moved, in a new order
    assert not np.array_equal(out, x)
    np.testing.assert_array_equal(np.sort(R.shuffle(x, seed=2).numpy(), axis=0), x)


def test_keras_random_is_reachable_as_keras_code_writes_it():
    import shenjing as keras

    assert keras.random is R and keras.keras.random.normal is R.normal
    with pytest.raises(ValueError, match="seed must be"):
        R.normal((2,), seed="x")
