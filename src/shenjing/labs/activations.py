"""Lab ``activations``: sigmoid, tanh and ReLU, their values and derivatives (article ch. 2).

The values at [-1, 0, 1] are the article's printed ones; the derivatives come from shenjing's
autograd on a fine grid, so the lab checks what training actually back-propagates.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .. import tensor
from .report import Report

ARTICLE = {  # the article's printed outputs for the inputs [-1, 0, 1]
    "sigmoid": [0.26894142, 0.5, 0.73105858],
    "relu": [0.0, 0.0, 1.0],
    "tanh": [-0.76159416, 0.0, 0.76159416],
}


def _value_and_derivative(name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = tensor(x, requires_grad=True)
    y = getattr(F, name)(t)
    y.sum().backward()
    return y.numpy(), t.grad.numpy()


def run(quick: bool = False, seed: int = 0) -> Report:
    from .. import plot

    grid = np.linspace(-8, 8, 161 if quick else 16001)
    rows = [["activation", "f(-1), f(0), f(1)", "article", "max f' (autograd)", "at x",
             "f'(x) at x = 5", "gradient left after 10 layers at best"]]
    numbers: dict[str, float] = {}
    matches = True
    for name in ("sigmoid", "tanh", "relu"):
        y, _ = _value_and_derivative(name, np.array([-1.0, 0.0, 1.0]))
        matches &= bool(np.allclose(y, ARTICLE[name], atol=1e-6))
        _, d = _value_and_derivative(name, grid)
        peak = float(d.max())
        _, d5 = _value_and_derivative(name, np.array([5.0]))
        numbers[f"{name}_max_derivative"] = peak
        numbers[f"{name}_derivative_at_5"] = float(d5[0])
        rows.append([name, ", ".join(f"{v:.8g}" for v in y),
                     ", ".join(f"{v:.8g}" for v in ARTICLE[name]), peak,
                     float(grid[int(d.argmax())]), float(d5[0]), peak ** 10])
    held = (matches and numbers["sigmoid_max_derivative"] <= 0.25 + 1e-7
            and numbers["tanh_max_derivative"] <= 1 + 1e-7
            and numbers["relu_derivative_at_5"] == 1.0)
    verdict = (f"The values at -1, 0, 1 {'match' if matches else 'do NOT match'} the article's "
               f"to 1e-6. sigma'(x) = sigma(x)(1 - sigma(x)) peaks at "
               f"{numbers['sigmoid_max_derivative']:.4f} (x = 0), so a gradient passing 10 "
               f"sigmoid layers keeps at most 0.25^10 = {0.25 ** 10:.2g} of itself; tanh' peaks "
               f"at {numbers['tanh_max_derivative']:.4f} but is "
               f"{numbers['tanh_derivative_at_5']:.2g} at x = 5 (saturation); ReLU' is exactly 1 "
               "for every positive input, so it passes gradients undiminished.")

    def make() -> dict:
        return {"activations.png": plot.activation_functions(("sigmoid", "tanh", "relu"))}

    return Report(
        name="activations", title="sigmoid, tanh and ReLU and their derivatives",
        claim=("Sigmoid maps into (0, 1) with sigma' = sigma (1 - sigma), tanh into (-1, 1), "
               "ReLU keeps positive inputs and zeroes negative ones; sigmoid and tanh "
               "saturate (their gradients vanish for large |x|), ReLU does not for x > 0."),
        held=held, verdict=verdict, numbers=numbers, table=rows,
        setup=(f"Values at the article's inputs [-1, 0, 1]; derivatives by autograd "
               f"(backward of the sum) on {grid.size} points of [-8, 8]."),
        figures=make)
