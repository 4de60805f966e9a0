"""RMSprop (Keras 3's formulas)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Tensor
from .arguments import check_number
from .optimizer import Array, Optimizer


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012): divide the gradient by a running root-mean-square of its past.

    Update (``v``, ``a``, ``b`` start at 0)::

        v = rho * v + (1 - rho) * g * g
        centered:  a = rho * a + (1 - rho) * g;   step = lr * g / sqrt(v - a * a + epsilon)
        otherwise:                                 step = lr * g / sqrt(v + epsilon)
        momentum > 0:  b = momentum * b + step;   p -= b
        otherwise:                                 p -= step

    Differences with ``torch.optim.RMSprop``: torch calls ``rho`` ``alpha`` (default 0.99, not
    0.9); torch adds epsilon *outside* the root (``sqrt(v) + eps``, default 1e-8); torch's
    momentum buffer holds ``g / (sqrt(v) + eps)`` and is multiplied by ``lr`` afterwards (the
    same while ``lr`` is constant).

    Args:
        learning_rate: a float or a schedule. Defaults to 0.001.
        rho: decay rate of the running average of ``g * g``.
        momentum: heavy-ball momentum on the steps; 0 for none.
        epsilon: added under the square root, for stability.
        centered: divide by the running variance of ``g`` instead of its second moment.
        **kwargs: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``,
            ``params``: see :class:`Optimizer`.

    >>> opt = RMSprop(learning_rate=1e-3, centered=True, params=model.trainable_weights)
    """

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, **kwargs: Any) -> None:
        check_number("momentum", momentum)
        check_number("rho", rho)
        if rho > 1:
            raise ValueError(f"`rho` must be in [0, 1], got {rho!r}")
        check_number("epsilon", epsilon)
        self.rho = float(rho)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.centered = bool(centered)
        super().__init__(learning_rate, **kwargs)

    def init_state(self, p: Tensor) -> dict[str, Array]:
        names = ["velocity"]
        if self.momentum > 0:
            names.append("momentum")
        if self.centered:
            names.append("average_gradient")
        return {k: p.xp.zeros_like(p.data) for k in names}

    def update(self, p: Tensor, g: Array, state: dict[str, Array], lr: float) -> None:
        xp = p.xp
        v = state["velocity"]
        v *= self.rho
        v += (1.0 - self.rho) * (g * g)
        if self.centered:
            a = state["average_gradient"]
            a *= self.rho
            a += (1.0 - self.rho) * g
            # a*a capped at the largest float: a gradient whose square overflowed leaves
            # v inf, and inf - inf would be NaN (torch's step is then 0)
            spread = v - xp.minimum(a * a, np.finfo(v.dtype).max)
            step = (lr * g) / xp.sqrt(spread + self.epsilon)  # (v inf: the step is 0)
        else:
            step = (lr * g) / xp.sqrt(v + self.epsilon)
        if self.momentum > 0:
            b = state["momentum"]
            b *= self.momentum
            b += step
            step = b
        p.data -= step

    def _hyper_config(self) -> dict[str, Any]:
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}
