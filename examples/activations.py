"""The article's section 2: Sigmoid, ReLU and Tanh on x = [-1, 0, 1], computed with shenjing.

It prints the same three lines as the article's NumPy program, then checks the identity of
section 2.1, sigma'(x) = sigma(x) (1 - sigma(x)), by asking autograd for the derivative.

Run: ``python examples/activations.py``
"""

from __future__ import annotations

import argparse

import numpy as np

import shenjing as sj

F = sj.F

# The article's input is an integer array: np.array([-1, 0, 1]).
ARTICLE_X = np.array([-1, 0, 1])


def activations(x: np.ndarray) -> dict[str, np.ndarray]:
    """Sigmoid, ReLU and Tanh of ``x`` as the article's NumPy code computes them.

    NumPy promotes integers to float64 in ``np.exp``, so the article's sigmoid and tanh digits are
    float64 ones; shenjing would store floats as float32, so the tensor is made float64 explicitly.
    ``np.maximum(0, x)`` keeps the integer dtype, so ReLU is computed on the same float64 tensor
    and cast back to ``x``'s dtype: ReLU of an integer is that integer or 0, exactly representable.
    """
    t = sj.tensor(x, dtype="float64")
    return {
        "Sigmoid": F.sigmoid(t).numpy(),
        "ReLU": F.relu(t).numpy().astype(x.dtype),
        "Tanh": F.tanh(t).numpy(),
    }


def sigmoid_derivative(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The derivative of sigmoid at ``x`` two ways: by autograd, and by s (1 - s) (section 2.1).

    d/dx_i of sum_j sigmoid(x_j) is sigmoid'(x_i), so backward of ``sigmoid(x).sum()`` leaves the
    element-wise derivative in ``x.grad``.
    """
    t = sj.tensor(x, dtype="float64", requires_grad=True)
    s = F.sigmoid(t)
    s.sum().backward()
    s = s.numpy()
    return t.grad.numpy(), s * (1 - s)


def main() -> None:
    for name, y in activations(ARTICLE_X).items():
        print(f"{name}函数的输出:", y)
    grad, identity = sigmoid_derivative(ARTICLE_X)
    print("Sigmoid导数(自动求导):", grad)
    print("σ'(x) = σ(x)(1-σ(x)) 成立:", bool(np.allclose(grad, identity, rtol=1e-12, atol=0)))


if __name__ == "__main__":
    # no options; --help prints what the script shows
    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    main()
