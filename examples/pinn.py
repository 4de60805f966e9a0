"""A physics-informed network: a small MLP learns u(x) = sin(x) from the equation alone.

Nothing tells the network the answer. Its loss is the differential equation u'' + u = 0 on
[0, pi], evaluated at collocation points, plus the initial conditions u(0) = 0 and u'(0) = 1,
whose only solution is sin(x). The derivatives u' and u'' of the network's output with respect
to its input come from autograd with ``create_graph=True`` (the gradient is itself recorded, so
it can be differentiated again), and the loss built from them is differentiated once more, by
the weights, for the update: back-propagation through back-propagation.

Run: ``python examples/pinn.py [--steps 1500] [--seed 0]``
"""

from __future__ import annotations

import argparse
import math

import _seeds  # examples/_seeds.py, beside this file
import numpy as np

import shenjing as sj
from shenjing import layers


def derivative(u: sj.Tensor, x: sj.Tensor) -> sj.Tensor:
    """du/dx at every point (u holds one value per row of x), kept in the graph."""
    (du,) = sj.autograd.grad(u.sum(), x, create_graph=True)
    return du


def solve(steps: int = 1500, seed: int = 0, points: int = 64,
          log_every: int = 0) -> tuple[float, float]:
    """Train u = MLP(x) on the residual of u'' + u = 0 with u(0) = 0, u'(0) = 1.

    Returns:
        ``(max_error, final_loss)``: the largest |u(x) - sin(x)| on a fine grid of [0, pi], and
        the last loss.
    """
    sj.utils.set_random_seed(seed)
    u = sj.Sequential([layers.Input((1,)), layers.Dense(32, activation="tanh"),
                       layers.Dense(32, activation="tanh"), layers.Dense(1)])
    # Adam at 1e-2, halved every 300 steps: the late loss spikes of a constant rate die out
    rate = sj.optimizers.schedules.ExponentialDecay(1e-2, decay_steps=300, decay_rate=0.5)
    opt = sj.optimizers.Adam(learning_rate=rate, params=u.trainable_weights)
    x = sj.tensor(np.linspace(0, math.pi, points).reshape(-1, 1), requires_grad=True)
    x0 = sj.tensor([[0.0]], requires_grad=True)
    for step in range(1, steps + 1):
        u_x = u(x)
        residual = derivative(derivative(u_x, x), x) + u_x  # u'' + u
        u_0 = u(x0)
        loss = (residual ** 2).mean() + (u_0 ** 2).sum() + ((derivative(u_0, x0) - 1) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if log_every and step % log_every == 0:
            print(f"step {step:5d}  loss {loss.item():.6f}")
    grid = np.linspace(0, math.pi, 201).reshape(-1, 1).astype(np.float32)
    with sj.no_grad():
        error = np.abs(u(sj.tensor(grid)).numpy() - np.sin(grid)).max()
    return float(error), loss.item()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=_seeds.positive, default=1500,
                    help="Adam steps (default: 1500)")
    ap.add_argument("--seed", type=int, default=0, help="weight initialization (default: 0)")
    args = ap.parse_args()
    error, loss = solve(args.steps, args.seed, log_every=max(args.steps // 10, 1))
    print(f"max |u(x) - sin(x)| on [0, pi]: {error:.4f}, final loss {loss:.6f}")


if __name__ == "__main__":
    main()
