"""An RNN trained on XOR (the running parity of bit sequences); exploding gradients made visible.

The article's (broken) Java listing trains "an RNN on XOR pairs". The task that needs a
recurrent network is the running parity: at step t the target is x_1 XOR ... XOR x_t, so the
hidden state must carry one bit and flip it at every 1. Part 1 trains a SimpleRNN (tanh,
``return_sequences=True``) with a Dense logit per step on random sequences of mixed lengths
2..20 (a curriculum: the short sequences make the flip easy to pick up) until every step of
every held-out length-20 sequence is right.

Part 2 shows why plain RNNs need gradient clipping. Backpropagation through time multiplies the
gradient by the recurrent kernel U once per step; with a linear activation (tanh would saturate
and hide it) and U orthogonal times 1.2 (spectral radius 1.2), 200 steps scale it by about
1.2**200 ~ 7e15. One SGD step on such a gradient throws the weights so far that the next forward
pass overflows; with ``global_clipnorm`` the optimizer rescales the gradient first, so each
update is at most learning_rate x clipnorm long. SGD, not Adam: Adam divides each gradient by
its own running magnitude, which would hide the scale this demo is about.

Run: ``python examples/rnn_xor.py [--units 32] [--epochs 200] [--seed 0] [--threads 1]``
"""

from __future__ import annotations

import argparse
import math
import time
from typing import NamedTuple

import _seeds  # examples/_seeds.py, beside this file
import numpy as np

import shenjing as sj

LENGTHS = range(2, 21)  # the training curriculum: one batch of each length per epoch
TEST_LENGTH = 20
TEST_SEQUENCES = 10_000
MARGIN = 6.0  # stop once every validation step is right by a logit of 6 (probability > 0.997)


def make_data(n: int, length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random bit sequences and their running parity, both (n, length, 1) float32: the
    bits as one input feature per step, the XOR of the bits so far as the target of each step."""
    bits = rng.integers(0, 2, size=(n, length))
    parity = np.bitwise_xor.accumulate(bits, axis=1)
    return bits[..., None].astype(np.float32), parity[..., None].astype(np.float32)


def build_model(units: int, activation: str = "tanh",
                recurrent_initializer: object = "orthogonal") -> sj.Sequential:
    """SimpleRNN over the sequence, then one Dense logit per step (sequences of any length)."""
    layers = sj.layers
    return sj.Sequential([
        layers.SimpleRNN(units, activation=activation, return_sequences=True,
                         recurrent_initializer=recurrent_initializer, input_shape=(None, 1)),
        layers.Dense(1),
    ])


def margins(model: sj.Model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The logit of every step, signed so that it is positive where the model is right (logit
    > 0 means parity 1): its size is the model's confidence."""
    return (2 * y - 1) * model.predict(x, batch_size=len(x))


def step_accuracy(model: sj.Model, x: np.ndarray, y: np.ndarray) -> float:
    """The fraction of steps, over all sequences, whose parity the model gets right."""
    return float(np.mean(margins(model, x, y) > 0))


def train_parity(units: int = 32, epochs: int = 200, seed: int = 0, batch_size: int = 64,
                 log_every: int = 0) -> tuple[float, int]:
    """Train on fresh random batches of every length in ``LENGTHS`` each epoch (Adam, lr 1e-2,
    ``global_clipnorm=1``, binary cross-entropy on the logits of every step), stopping early
    once every step of 1000 validation sequences of length 20 is right by a margin of
    ``MARGIN``. (Stopping at the first 100 % is too early: the barely-right model then often
    misses a few steps in 100,000 on new sequences.)

    Returns:
        ``(accuracy, epochs_run)``: the step accuracy on ``TEST_SEQUENCES`` held-out length-20
        sequences (drawn from a stream of their own, apart from the training and validation
        data), and the number of epochs trained.
    """
    sj.utils.set_random_seed(seed)
    train_rng, val_rng, test_rng = (np.random.default_rng(s)
                                    for s in np.random.SeedSequence(seed).spawn(3))
    x_val, y_val = make_data(1000, TEST_LENGTH, val_rng)
    model = build_model(units)
    model.compile(optimizer=sj.optimizers.Adam(learning_rate=1e-2, global_clipnorm=1.0),
                  loss=sj.losses.BinaryCrossentropy(from_logits=True))
    epoch = 0
    for epoch in range(1, epochs + 1):
        losses = [model.train_on_batch(*make_data(batch_size, length, train_rng))
                  for length in train_rng.permutation(LENGTHS)]
        val = margins(model, x_val, y_val)
        done = val.min() > MARGIN
        if log_every and (epoch % log_every == 0 or done):
            print(f"epoch {epoch:3d}  loss {np.mean(losses):.4f}  validation step accuracy "
                  f"{np.mean(val > 0):.2%}, smallest margin {val.min():.2f}", flush=True)
        if done:
            break
    return step_accuracy(model, *make_data(TEST_SEQUENCES, TEST_LENGTH, test_rng)), epoch


class Step(NamedTuple):
    """One training step of the exploding-gradient demo."""

    loss: float
    grad_norm: float  # the global norm of the raw gradient, before any clipping
    update_norm: float  # the norm of the change the optimizer made to the weights


def global_norm(arrays: list[np.ndarray]) -> float:
    """sqrt of the sum of squares of all ``arrays`` together, in float64 (float32 squares of
    exploded gradients would overflow)."""
    return math.sqrt(sum(float(np.sum(np.square(a, dtype=np.float64))) for a in arrays))


def exploding_steps(clipnorm: float | None, steps: int = 5, length: int = 200,
                    gain: float = 1.2, learning_rate: float = 0.01, units: int = 16,
                    seed: int = 0) -> list[Step]:
    """SGD steps on the parity task at ``length`` with a linear SimpleRNN whose recurrent
    kernel is orthogonal x ``gain``, with ``global_clipnorm=clipnorm`` (None: no clipping).
    The same seed gives the same weights and data, so runs differ only in the clipping."""
    sj.utils.set_random_seed(seed)
    x, y = make_data(32, length, np.random.default_rng(seed))
    model = build_model(units, activation="linear",
                        recurrent_initializer=sj.initializers.Orthogonal(gain=gain))
    weights = model.trainable_weights
    optimizer = sj.optimizers.SGD(learning_rate=learning_rate, global_clipnorm=clipnorm,
                                  params=weights)
    loss_fn = sj.losses.BinaryCrossentropy(from_logits=True)
    records = []
    with np.errstate(over="ignore", invalid="ignore"):  # the unclipped run overflows, on purpose
        for _ in range(steps):
            loss = loss_fn(y, model(x, training=True))
            optimizer.zero_grad()
            loss.backward()
            grad_norm = global_norm([w.grad.numpy() for w in weights])
            before = [w.numpy().copy() for w in weights]
            optimizer.step()
            update_norm = global_norm([w.numpy() - b for w, b in zip(weights, before)])
            records.append(Step(loss.item(), grad_norm, update_norm))
    return records


def explode_demo(steps: int = 5, length: int = 200, gain: float = 1.2,
                 learning_rate: float = 0.01, clipnorm: float = 1.0) -> None:
    """Print the loss, gradient norm and update norm of each step, without and with
    ``global_clipnorm``."""
    print(f"\nExploding gradients: the same task at length {length}, with a linear SimpleRNN "
          f"whose\nrecurrent kernel is orthogonal x {gain} (every eigenvalue of modulus {gain}). "
          f"The hidden state grows\nabout {gain}x per step, and backpropagation through time "
          f"multiplies the gradient by the kernel\n{length} times: {gain}**{length} = "
          f"{gain ** length:.1e}, hence the huge losses and gradients.")
    for clip in (None, clipnorm):
        if clip is None:
            print(f"SGD(learning_rate={learning_rate}), no clipping:")
        else:
            print(f"SGD(learning_rate={learning_rate}, global_clipnorm={clip}): each update at "
                  f"most {learning_rate * clip:g} (learning_rate x clipnorm) long:")
        for i, s in enumerate(exploding_steps(clip, steps, length, gain, learning_rate), 1):
            print(f"  step {i}: loss {s.loss:9.3g}   gradient norm {s.grad_norm:9.3g}   "
                  f"weight update norm {s.update_norm:9.3g}")
    print("Without clipping, the first update throws the weights so far that the next forward "
          "pass overflows\n(nan). With clipping the gradient is as huge, but each update is "
          "bounded, so the loss stays finite\nand falls step by step.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", type=_seeds.positive, default=32,
                    help="SimpleRNN units (default: %(default)s)")
    ap.add_argument("--epochs", type=_seeds.positive, default=200,
                    help="most epochs (stops earlier once the validation margin is reached) "
                    "(default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    ap.add_argument("--threads", type=_seeds.positive, default=1,
                    help="CPU threads (default: %(default)s)")
    args = ap.parse_args()
    sj.utils.set_num_threads(args.threads)
    t0 = time.perf_counter()
    accuracy, epochs = train_parity(args.units, args.epochs, args.seed, log_every=10)
    print(f"running parity, SimpleRNN({args.units}): {accuracy:.2%} of the steps of "
          f"{TEST_SEQUENCES} held-out length-{TEST_LENGTH} sequences right after epoch {epochs} "
          f"({time.perf_counter() - t0:.1f} s)")
    explode_demo()


if __name__ == "__main__":
    main()
