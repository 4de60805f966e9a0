"""The article's section 1.2: the perceptron, a single neuron with no hidden layer.

Rosenblatt's learning rule needs no gradients: predict with a step function, and after each
mistake move the weights toward the input, w += lr * (target - prediction) * x (and the bias,
whose input is always 1). The perceptron convergence theorem says this stops making mistakes
after finitely many updates exactly when some line separates the two classes. AND and OR are
separable; XOR is not (no line puts (0,1) and (1,0) on one side and (0,0) and (1,1) on the
other), so on XOR the rule cycles forever, which is why section 1.2 needs hidden layers (the
multilayer perceptron of ``xor_mlp.py``).

Run: ``python examples/perceptron.py``
"""

from __future__ import annotations

import argparse

import numpy as np

import shenjing as sj

# The four inputs of a two-input truth table, and the targets of three gates.
INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
GATES = {
    "AND": np.array([0, 0, 0, 1]),
    "OR": np.array([0, 1, 1, 1]),
    "XOR": np.array([0, 1, 1, 0]),
}
EPOCHS = 100  # far more than AND or OR need; XOR never converges however many are allowed


def predict(X: np.ndarray, w: np.ndarray | sj.Tensor, b: float) -> np.ndarray:
    """Step activation: 1 where w . x + b > 0, else 0, for each row of ``X``."""
    z = sj.tensor(X, dtype="float64") @ sj.tensor(w, dtype="float64") + b
    return (z > 0).numpy().astype(np.int64)


def train_perceptron(
    X: np.ndarray, y: np.ndarray, epochs: int = EPOCHS, lr: float = 1.0
) -> tuple[np.ndarray, float, int | None]:
    """Train a perceptron with Rosenblatt's rule, one sample at a time, from zero weights.

    Args:
        X: inputs, shape (samples, features).
        y: targets in {0, 1}, shape (samples,).
        epochs: the most passes over the data.
        lr: the learning rate (any lr > 0 gives the same decisions from zero weights).

    Returns:
        ``(w, b, converged_epoch)``: the weights, the bias, and the first epoch (1-based) in which
        every sample was classified correctly, or ``None`` if that never happened.
    """
    w = sj.tensor(np.zeros(X.shape[1]), dtype="float64")
    b = 0.0
    for epoch in range(1, epochs + 1):
        mistakes = 0
        for x_i, target in zip(X, y, strict=True):
            error = int(target) - int(predict(x_i[None], w, b)[0])
            if error:
                # No autograd here: tensors that do not require grad may be updated in place.
                w += lr * error * sj.tensor(x_i, dtype="float64")
                b += lr * error
                mistakes += 1
        if mistakes == 0:
            return w.numpy(), b, epoch
    return w.numpy(), b, None


def main() -> None:
    for name, y in GATES.items():
        w, b, epoch = train_perceptron(INPUTS, y)
        wrong = int(np.sum(predict(INPUTS, w, b) != y))
        if epoch is None:
            print(f"{name}: not learned in {EPOCHS} epochs, still {wrong} of {len(y)} wrong "
                  "(not linearly separable)")
        else:
            print(f"{name}: learned, epoch {epoch} made no mistakes; w = {w}, b = {b}, "
                  "accuracy 100%")


if __name__ == "__main__":
    # no options; --help prints what the script shows
    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    main()
