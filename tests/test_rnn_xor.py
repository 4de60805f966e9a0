"""examples/rnn_xor.py: a SimpleRNN learns the running parity of bit sequences, and its
exploding-gradient demo shows what ``global_clipnorm`` bounds.

The example is imported by path (examples/ is not a package), as in test_examples.py.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from test_examples import EXAMPLES, load_example

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def rnn_xor():
    return load_example("rnn_xor")


def test_labels_are_the_running_xor(rnn_xor):
    x, y = rnn_xor.make_data(50, 12, np.random.default_rng(3))
    assert x.shape == y.shape == (50, 12, 1)
    assert x.dtype == y.dtype == np.float32
    assert set(np.unique(x)) == {0.0, 1.0}
    for bits, parity in zip(x[..., 0].astype(int), y[..., 0].astype(int), strict=True):
        running = 0
        for bit, target in zip(bits, parity, strict=True):
            running ^= bit
            assert target == running


def test_learns_running_parity_on_held_out_length_20(rnn_xor):
    """Untrained, the model is at chance; trained, every step of 10,000 new sequences is right."""
    x, y = rnn_xor.make_data(1000, 20, np.random.default_rng(1))
    assert 0.3 < rnn_xor.step_accuracy(rnn_xor.build_model(32), x, y) < 0.7
    accuracy, epochs = rnn_xor.train_parity(units=32, epochs=200, seed=0)
    assert accuracy == 1.0
    assert 1 <= epochs <= 200


def test_clipping_bounds_the_update_of_an_exploding_gradient(rnn_xor):
    lr = 0.01
    unclipped = rnn_xor.exploding_steps(None, steps=2, learning_rate=lr)
    clipped = rnn_xor.exploding_steps(1.0, steps=3, learning_rate=lr)
    # Same weights and data: the first raw gradient is the same, and it has exploded.
    assert clipped[0].grad_norm == pytest.approx(unclipped[0].grad_norm, rel=1e-5)
    assert unclipped[0].grad_norm > 1e12
    # Unclipped SGD moves the weights by lr x that norm, and the next forward pass overflows.
    assert unclipped[0].update_norm == pytest.approx(lr * unclipped[0].grad_norm, rel=1e-3)
    assert not math.isfinite(unclipped[1].loss)
    # Clipped, every update is lr x clipnorm long, orders of magnitude less, and training goes on.
    assert unclipped[0].update_norm > 1e9 * clipped[0].update_norm
    for step in clipped:
        assert step.grad_norm > 1e12
        assert step.update_norm == pytest.approx(lr * 1.0, rel=1e-3)
        assert math.isfinite(step.loss)
    assert clipped[-1].loss < clipped[0].loss


def test_a_contracting_recurrent_kernel_does_not_explode(rnn_xor):
    """The explosion comes from the kernel's gain: at 0.9 the same run has a small gradient."""
    (step,) = rnn_xor.exploding_steps(None, steps=1, gain=0.9)
    assert step.grad_norm < 10
    assert math.isfinite(step.loss)


def test_runs_as_a_script():
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "rnn_xor.py"), "--epochs", "1", "--units", "8"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "held-out length-20 sequences right after epoch 1 " in out
    assert "no clipping:" in out and "global_clipnorm=1.0" in out
    assert out.count("gradient norm") == 10
