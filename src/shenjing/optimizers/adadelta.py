"""Adadelta (Keras 3's formulas)."""

from __future__ import annotations

from typing import Any

from ..autograd import Tensor
from .arguments import check_number
from .optimizer import Array, Optimizer


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012): the step is the gradient scaled by the ratio of two running
    root-mean-squares, of past steps over past gradients, so it carries the weights' units and
    needs no hand-tuned global rate (the paper's form is ``learning_rate=1.0``).

    Update (``acc_g``, ``acc_d`` start at 0; ``rms(a) = sqrt(a + epsilon)``)::

        acc_g = rho * acc_g + (1 - rho) * g * g
        delta = rms(acc_d) / rms(acc_g) * g
        acc_d = rho * acc_d + (1 - rho) * delta * delta
        p -= lr * delta

    ``torch.optim.Adadelta`` computes the same, epsilon under both roots included; only its
    defaults differ (``lr=1.0, rho=0.9, eps=1e-6``) and its ``weight_decay`` is an L2 term
    added to the gradient, where Keras's (and ours) is decoupled.

    Args:
        learning_rate: a float or a schedule. Defaults to 0.001 (Keras's); Adadelta usually
            wants much more, 1.0 in the paper.
        rho: decay rate of both running averages, in [0, 1].
        epsilon: added under both square roots; it also sizes the very first steps, since
            ``rms(acc_d)`` starts at ``sqrt(epsilon)``.
        **kwargs: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``,
            ``params``: see :class:`Optimizer`.

    >>> opt = Adadelta(learning_rate=1.0, params=model.trainable_weights)
    """

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.95, epsilon: float = 1e-7,
                 **kwargs: Any) -> None:
        check_number("rho", rho)
        if rho > 1:
            raise ValueError(f"`rho` must be in [0, 1], got {rho!r}")
        check_number("epsilon", epsilon)
        self.rho = float(rho)
        self.epsilon = float(epsilon)
        super().__init__(learning_rate, **kwargs)

    def init_state(self, p: Tensor) -> dict[str, Array]:
        return {k: p.xp.zeros_like(p.data) for k in ("accumulated_grad", "accumulated_delta_var")}

    def update(self, p: Tensor, g: Array, state: dict[str, Array], lr: float) -> None:
        xp, rho, eps = p.xp, self.rho, self.epsilon
        acc_g, acc_d = state["accumulated_grad"], state["accumulated_delta_var"]
        delta = self.scratch(g)
        acc_g *= rho
        acc_g += (1.0 - rho) * (g * g)
        # delta = sqrt(acc_d + eps) / sqrt(acc_g + eps) * g, in the scratch buffer
        xp.add(acc_d, eps, out=delta)
        xp.sqrt(delta, out=delta)
        delta *= g
        delta /= xp.sqrt(acc_g + eps)
        acc_d *= rho
        acc_d += (1.0 - rho) * (delta * delta)
        delta *= lr
        p.data -= delta

    def _hyper_config(self) -> dict[str, Any]:
        return {"rho": self.rho, "epsilon": self.epsilon}
