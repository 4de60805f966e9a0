"""Stochastic gradient descent, with momentum and Nesterov momentum (Keras 3's formulas)."""

from __future__ import annotations

from typing import Any

from ..autograd import Tensor
from .arguments import check_number
from .optimizer import Array, Optimizer


class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum.

    There is no separate ``GD`` class: full-batch gradient descent *is* this optimizer, fed one
    batch that holds the whole training set; "stochastic" only names where the gradient came
    from (a random mini-batch), not the update, which is the same.

    Update (``g`` the gradient, ``v`` the velocity, initially 0)::

        momentum == 0:   p -= lr * g
        momentum > 0:    v = momentum * v - lr * g;  p += v
        nesterov:        v = momentum * v - lr * g;  p += momentum * v - lr * g

    ``torch.optim.SGD`` keeps ``b = momentum * b + g`` and does ``p -= lr * b`` (Nesterov:
    ``p -= lr * (g + momentum * b)``): the same trajectory while ``lr`` is constant (``v = -lr *
    b``), different once a schedule changes ``lr`` (Keras's velocity remembers past rates).

    Args:
        learning_rate: a float or a schedule. Defaults to 0.01.
        momentum: in [0, 1]; 0 is plain gradient descent.
        nesterov: use Nesterov momentum.
        **kwargs: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``,
            ``params``: see :class:`Optimizer`.

    >>> opt = SGD(learning_rate=0.1, momentum=0.9, params=[w])
    >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 **kwargs: Any) -> None:
        check_number("momentum", momentum)
        if momentum > 1:
            raise ValueError(f"`momentum` must be in [0, 1], got {momentum!r}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        super().__init__(learning_rate, **kwargs)

    def init_state(self, p: Tensor) -> dict[str, Array]:
        return {"momentum": p.xp.zeros_like(p.data)} if self.momentum else {}

    def update(self, p: Tensor, g: Array, state: dict[str, Array], lr: float) -> None:
        if not self.momentum:
            p.data -= lr * g
            return
        v = state["momentum"]
        v *= self.momentum
        v -= lr * g
        if self.nesterov:
            p.data += self.momentum * v - lr * g
        else:
            p.data += v

    def _hyper_config(self) -> dict[str, Any]:
        return {"momentum": self.momentum, "nesterov": self.nesterov}
