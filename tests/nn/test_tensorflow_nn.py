"""TensorFlow's ``tf.nn`` functions in ``shenjing.nn`` (``import shenjing as tf``), beside
torch's ``nn.functional``: values and gradients against torch's equivalents."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as tf
from oracle import require_torch

rng = np.random.default_rng(0)
LOGITS = rng.standard_normal((3, 4)).astype(np.float32) * 3
PROBS = np.abs(rng.standard_normal((3, 4))).astype(np.float32)
PROBS /= PROBS.sum(-1, keepdims=True)
BITS = (rng.random((3, 4)) > 0.5).astype(np.float32)
IDS = np.array([0, 3, 1])

CASES = {
    "softmax": (lambda m, x: m.nn.softmax(x), lambda t, x: t.softmax(x, -1)),
    "softmax_axis0": (lambda m, x: m.nn.softmax(x, axis=0), lambda t, x: t.softmax(x, 0)),
    "log_softmax": (lambda m, x: m.nn.log_softmax(x), lambda t, x: t.log_softmax(x, -1)),
    "gelu_exact": (lambda m, x: m.nn.gelu(x), lambda t, x: t.nn.functional.gelu(x)),
    "leaky_relu": (lambda m, x: m.nn.leaky_relu(x),
                   lambda t, x: t.nn.functional.leaky_relu(x, 0.2)),
    "relu6_softsign": (lambda m, x: m.nn.relu6(x) + m.nn.softsign(x),
                       lambda t, x: t.nn.functional.relu6(x) + t.nn.functional.softsign(x)),
    "swish": (lambda m, x: m.nn.swish(x), lambda t, x: t.nn.functional.silu(x)),
    "l2_normalize": (lambda m, x: m.nn.l2_normalize(x, axis=-1),
                     lambda t, x: t.nn.functional.normalize(x, dim=-1)),
    "l2_loss": (lambda m, x: m.nn.l2_loss(x), lambda t, x: (x * x).sum() / 2),
    "sigmoid_ce": (lambda m, x: m.nn.sigmoid_cross_entropy_with_logits(labels=BITS, logits=x),
                   lambda t, x: t.nn.functional.binary_cross_entropy_with_logits(
                       x, t.tensor(BITS), reduction="none")),
    "softmax_ce": (lambda m, x: m.nn.softmax_cross_entropy_with_logits(PROBS, x),
                   lambda t, x: t.nn.functional.cross_entropy(x, t.tensor(PROBS),
                                                              reduction="none")),
    "sparse_softmax_ce": (
        lambda m, x: m.nn.sparse_softmax_cross_entropy_with_logits(labels=IDS, logits=x),
        lambda t, x: t.nn.functional.cross_entropy(x, t.tensor(IDS), reduction="none")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_tf_nn_function_matches_torch(name):
    torch = require_torch()
    ours_fn, theirs_fn = CASES[name]
    x, tx = tf.tensor(LOGITS, requires_grad=True), torch.tensor(LOGITS, requires_grad=True)
    ours, theirs = ours_fn(tf, x), theirs_fn(torch, tx)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    weights = rng.standard_normal(theirs.shape).astype(np.float32)
    (ours * tf.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_moments_bias_add_dropout_and_unknown_names():
    x = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    mean, variance = tf.nn.moments(x, axes=[0, 1])
    np.testing.assert_allclose(mean.numpy(), x.mean((0, 1)))
    np.testing.assert_allclose(variance.numpy(), x.var((0, 1)))
    nchw = tf.nn.bias_add(np.zeros((1, 2, 2, 2)), np.array([1.0, 2.0]), data_format="NCHW")
    assert nchw.numpy()[0, :, 0, 0].tolist() == [1.0, 2.0]
    kept = tf.nn.dropout(np.ones(1000), rate=0.25, seed=1).numpy()
    assert set(np.unique(kept)) == {0.0, np.float32(1 / 0.75)}
    assert tf.nn.functional.relu is not None  # torch's namespace stays
    with pytest.raises(AttributeError, match="no attribute 'softmax_v9'"):
        tf.nn.softmax_v9  # noqa: B018 - the lookup is the test
    with pytest.raises(ValueError, match="same shape"):
        tf.nn.sigmoid_cross_entropy_with_logits(labels=np.ones(3), logits=np.ones(4))


def test_relu6_gradient_is_zero_at_both_bounds_as_tensorflows():
    x = tf.tensor([-1.0, 0.0, 3.0, 6.0, 7.0], requires_grad=True)
    tf.nn.relu6(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]


def test_sparse_softmax_cross_entropy_takes_any_rank_as_tf():
    torch = require_torch()
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((2, 3, 4)).astype(np.float32)
    labels = np.array([[0, 1, 2], [3, 0, 1]])
    got = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    want = torch.nn.functional.cross_entropy(torch.tensor(logits).reshape(-1, 4),
                                             torch.tensor(labels).reshape(-1), reduction="none")
    np.testing.assert_allclose(got.numpy(), want.reshape(2, 3).numpy(), rtol=1e-5, atol=1e-6)
    one = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=np.array(2), logits=logits[0, 0])
    z = logits[0, 0].astype(np.float64)
    assert one.shape == () and one.item() == pytest.approx(
        np.log(np.exp(z).sum()) - z[2], rel=1e-5)
    with pytest.raises(ValueError, match="without its last"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels[:, :2], logits=logits)
