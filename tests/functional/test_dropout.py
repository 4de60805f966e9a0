"""Inverted dropout: survivors are scaled by 1 / (1 - rate); the mask is seeded and reused by
backward."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from oracle import normal, require_torch
from shenjing import F

RATES = [0.1, 0.5, 0.8]


@pytest.mark.parametrize("rate", RATES)
def test_dropout_gradcheck(rate, rng):
    # gradcheck calls fn many times: a fresh Generator with one seed gives the same mask each time.
    def fn(x):
        return F.dropout(x, rate, generator=np.random.default_rng(7))

    assert shenjing.gradcheck(fn, normal(rng, (4, 5)))


@pytest.mark.parametrize("rate", RATES)
def test_dropout_scales_survivors_and_reuses_the_mask(rate):
    x = shenjing.tensor(np.ones((200, 50)), requires_grad=True)
    y = F.dropout(x, rate)
    assert y.dtype == np.float32
    kept = y.numpy() != 0
    np.testing.assert_allclose(y.numpy()[kept], 1 / (1 - rate), rtol=1e-6)
    # 10,000 Bernoulli draws: the kept fraction is within 5 standard deviations of 1 - rate.
    assert abs(kept.mean() - (1 - rate)) < 5 * np.sqrt(rate * (1 - rate) / kept.size)
    u = normal(np.random.default_rng(1), y.shape).astype(np.float32)
    y.backward(u)
    np.testing.assert_allclose(x.grad.numpy(), u * kept / np.float32(1 - rate), rtol=1e-6)


def test_dropout_keeps_float64():
    y = F.dropout(shenjing.tensor(np.ones(10), dtype=np.float64), 0.5)
    assert y.dtype == np.float64


@pytest.mark.parametrize("training, rate", [(False, 0.5), (True, 0.0)])
def test_dropout_is_identity_when_off(training, rate):
    x = shenjing.tensor([1.0, 2.0, 3.0])
    assert F.dropout(x, rate, training=training) is x


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_dropout_bad_rate_raises(rate):
    with pytest.raises(ValueError, match="rate"):
        F.dropout(shenjing.tensor([1.0]), rate)


def _mask(**kwargs):
    return F.dropout(shenjing.tensor(np.ones(1000)), 0.5, **kwargs).numpy() != 0


def test_dropout_generator_seeds_the_mask():
    same = [_mask(generator=np.random.default_rng(3)) for _ in range(2)]
    np.testing.assert_array_equal(same[0], same[1])
    assert not np.array_equal(same[0], _mask(generator=np.random.default_rng(4)))


def test_dropout_set_random_seed_seeds_the_shared_stream():
    shenjing.utils.set_random_seed(5)
    first = [_mask(), _mask()]
    shenjing.utils.set_random_seed(5)
    again = [_mask(), _mask()]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])  # the stream moves on between calls
    shenjing.utils.set_random_seed(6)
    assert not np.array_equal(first[0], _mask())


@pytest.mark.parametrize("rate", RATES)
def test_dropout_matches_torch_convention(rate):
    # The masks come from different generators, so compare where both kept an element: torch's
    # dropout is inverted too, with the same scale, and its gradient there is the same.
    torch = require_torch()
    torch.manual_seed(0)
    x = np.linspace(0.5, 2.0, 4000).astype(np.float32)
    ours = shenjing.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    y = F.dropout(ours, rate)
    ty = torch.nn.functional.dropout(theirs, rate, training=True)
    y.sum().backward()
    ty.sum().backward()
    both = (y.numpy() != 0) & (ty.detach().numpy() != 0)
    assert both.sum() > 100
    np.testing.assert_allclose(y.numpy()[both], ty.detach().numpy()[both], rtol=1e-6)
    np.testing.assert_allclose(ours.grad.numpy()[both], theirs.grad.numpy()[both], rtol=1e-6)
    np.testing.assert_array_equal(ours.grad.numpy()[y.numpy() == 0], 0.0)  # x > 0 everywhere


def test_torchs_p_names_the_rate_and_p_1_drops_everything():
    x = shenjing.ones(1000, requires_grad=True)
    kept = F.dropout(x, p=0.25, generator=np.random.default_rng(0))
    assert set(np.unique(kept.numpy())) == {0.0, np.float32(1 / 0.75)}
    assert abs((kept.numpy() == 0).mean() - 0.25) < 0.05
    dropped = F.dropout(x, p=1.0)
    dropped.sum().backward()
    assert not dropped.numpy().any() and not x.grad.numpy().any()
    assert F.dropout(x, p=0.5, training=False) is x
    with pytest.raises(TypeError, match="both rate=0.3 and p=0.2"):
        F.dropout(x, 0.3, p=0.2)
    with pytest.raises(ValueError, match=r"in \[0, 1\], got 1.5"):
        F.dropout(x, p=1.5)
