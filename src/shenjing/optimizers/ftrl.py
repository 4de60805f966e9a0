"""FTRL-Proximal (Keras 3's formulas)."""

from __future__ import annotations

from typing import Any

from ..autograd import Tensor
from .arguments import check_non_positive, check_number
from .optimizer import Array, Optimizer


class Ftrl(Optimizer):
    """FTRL-Proximal ("Follow The Regularized Leader", McMahan et al., 2013), the optimizer of
    click-through-rate models: each weight is solved for in closed form from a running sum of
    its gradients, so an L1 penalty sets weights exactly to zero (sparse models), with a
    per-coordinate learning rate that shrinks like Adagrad's.

    Update (``n`` starts at ``initial_accumulator_value``, ``z`` at 0), with
    ``l2 = l2_regularization_strength + beta / (2 lr)``::

        g_s = g + 2 * l2_shrinkage_regularization_strength * p
        n_new = n + g ** 2
        z += g_s - (n_new ** -lr_power - n ** -lr_power) / lr * p
        p = (clip(z, -l1, l1) - z) / (n_new ** -lr_power / lr + 2 * l2);   n = n_new

    so ``p`` is 0 wherever ``|z| <= l1``. Each weight is solved for from ``z``, which starts
    at 0: the first step replaces a model's initial weights by small values (Keras and
    TensorFlow do the same), which suits the linear models FTRL is for, not deep networks.

    Args:
        learning_rate: a float or a schedule. Defaults to 0.001.
        learning_rate_power: how the per-coordinate rate falls with ``n``, <= 0 (0: fixed).
        initial_accumulator_value: the start of ``n``, >= 0.
        l1_regularization_strength, l2_regularization_strength: the penalties, >= 0.
        l2_shrinkage_regularization_strength: an L2 penalty added to the gradient, >= 0.
        beta: the paper's beta, added to the rate's denominator. Defaults to 0.
        **kwargs: the base options, see :class:`Optimizer`.

    >>> opt = Ftrl(learning_rate=0.1, l1_regularization_strength=0.01)
    """

    def __init__(self, learning_rate: Any = 0.001, learning_rate_power: float = -0.5,
                 initial_accumulator_value: float = 0.1, l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0,
                 l2_shrinkage_regularization_strength: float = 0.0, beta: float = 0.0,
                 name: str | None = "ftrl", **kwargs: Any) -> None:
        check_non_positive("learning_rate_power", learning_rate_power)
        if not callable(learning_rate) and learning_rate == 0:
            raise ValueError("Ftrl needs a positive learning rate (it divides by it), got 0")
        for key, value in (("initial_accumulator_value", initial_accumulator_value),
                           ("l1_regularization_strength", l1_regularization_strength),
                           ("l2_regularization_strength", l2_regularization_strength),
                           ("l2_shrinkage_regularization_strength",
                            l2_shrinkage_regularization_strength), ("beta", beta)):
            check_number(key, value)
        self.learning_rate_power = float(learning_rate_power)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.l1_regularization_strength = float(l1_regularization_strength)
        self.l2_regularization_strength = float(l2_regularization_strength)
        self.l2_shrinkage_regularization_strength = float(l2_shrinkage_regularization_strength)
        self.beta = float(beta)
        super().__init__(learning_rate, name=name, **kwargs)

    def init_state(self, p: Tensor) -> dict[str, Array]:
        xp = p.xp
        return {"accumulator": xp.full_like(p.data, self.initial_accumulator_value),
                "linear": xp.zeros_like(p.data)}

    def update(self, p: Tensor, g: Array, state: dict[str, Array], lr: float) -> None:
        if not lr > 0:  # a schedule that reaches 0
            raise ValueError(f"Ftrl needs a positive learning rate (it divides by it), got "
                             f"{lr} at step {self.steps}")
        xp, n, z = p.xp, state["accumulator"], state["linear"]
        power, l1 = -self.learning_rate_power, self.l1_regularization_strength
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        n_new = n + g * g
        rate_new = n_new**power
        z += g + (2.0 * self.l2_shrinkage_regularization_strength) * p.data
        z -= (rate_new - n**power) / lr * p.data
        p.data[...] = (xp.clip(z, -l1, l1) - z) / (rate_new / lr + 2.0 * l2)
        n[...] = n_new

    def _hyper_config(self) -> dict[str, Any]:
        return {"learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength":
                    self.l2_shrinkage_regularization_strength,
                "beta": self.beta}
