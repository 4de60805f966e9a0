"""Adagrad (Keras 3's formulas)."""

from __future__ import annotations

from typing import Any

from ..autograd import Tensor
from .arguments import check_number
from .optimizer import Array, Optimizer


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011): each weight's step shrinks with the sum of its past squared
    gradients, so often-updated weights learn more slowly.

    Update (``acc`` starts at ``initial_accumulator_value``)::

        acc += g * g
        p -= lr * g / sqrt(acc + epsilon)

    Differences with ``torch.optim.Adagrad``: torch's accumulator starts at 0 by default
    (``initial_accumulator_value=0``, Keras 0.1), and torch adds its epsilon (default 1e-10)
    outside the root, ``sqrt(acc) + eps``. With a starting value of 0.1 the root is at least
    0.3, so where epsilon goes does not matter in float32.

    Args:
        learning_rate: a float or a schedule. Defaults to 0.001 (the paper's form is 1.0).
        initial_accumulator_value: the starting value of ``acc``; non-negative.
        epsilon: added under the square root, for stability.
        **kwargs: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``,
            ``params``: see :class:`Optimizer`.

    >>> opt = Adagrad(learning_rate=0.01, params=model.trainable_weights)
    """

    def __init__(self, learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, **kwargs: Any) -> None:
        check_number("initial_accumulator_value", initial_accumulator_value)
        check_number("epsilon", epsilon)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)
        super().__init__(learning_rate, **kwargs)

    def init_state(self, p: Tensor) -> dict[str, Array]:
        return {"accumulator": p.xp.full_like(p.data, self.initial_accumulator_value)}

    def update(self, p: Tensor, g: Array, state: dict[str, Array], lr: float) -> None:
        acc = state["accumulator"]
        acc += g * g
        p.data -= (lr * g) / p.xp.sqrt(acc + self.epsilon)

    def _hyper_config(self) -> dict[str, Any]:
        return {"initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
