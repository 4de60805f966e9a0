"""Lion (Keras 3's formulas)."""

from __future__ import annotations

from typing import Any

from ..autograd import Tensor
from .arguments import check_number
from .optimizer import Array, Optimizer


class Lion(Optimizer):
    """Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms"): every weight
    moves by exactly ``lr`` per step, in the direction of the sign of an interpolation between
    the momentum and the gradient; only the momentum is kept.

    Update (``m`` starts at 0)::

        p -= lr * sign(beta_1 * m + (1 - beta_1) * g)
        m = beta_2 * m + (1 - beta_2) * g

    The sign makes each step as large as ``lr`` in every coordinate, so Lion wants a learning
    rate 3-10x smaller than AdamW's, and a weight decay 3-10x larger for the same ``lr * wd``
    (the decay is decoupled, ``p -= p * weight_decay * lr``, as in the paper). torch has no
    Lion; the tests compare with Keras's ``update_step`` written out in NumPy.

    Args:
        learning_rate: a float or a schedule. Defaults to 0.001.
        beta_1: the weight of the momentum in the update's direction, in (0, 1] (at 0 Lion
            would be signSGD).
        beta_2: decay rate of the momentum, in [0, 1].
        **kwargs: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``,
            ``params``: see :class:`Optimizer`.

    >>> opt = Lion(learning_rate=1e-4, weight_decay=0.1, params=model.trainable_weights)
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.99,
                 **kwargs: Any) -> None:
        check_number("beta_1", beta_1)
        check_number("beta_2", beta_2)
        if not 0 < beta_1 <= 1:
            raise ValueError(f"`beta_1` must be in (0, 1] (at 0 Lion degenerates to signSGD), "
                             f"got {beta_1!r}")
        if beta_2 > 1:
            raise ValueError(f"`beta_2` must be in [0, 1], got {beta_2!r}")
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        super().__init__(learning_rate, **kwargs)

    def init_state(self, p: Tensor) -> dict[str, Array]:
        return {"momentum": p.xp.zeros_like(p.data)}

    def update(self, p: Tensor, g: Array, state: dict[str, Array], lr: float) -> None:
        xp, m, tmp = p.xp, state["momentum"], self.scratch(g)
        xp.multiply(m, self.beta_1, out=tmp)
        tmp += (1.0 - self.beta_1) * g
        xp.sign(tmp, out=tmp)
        tmp *= lr
        p.data -= tmp  # p -= lr sign(beta_1 m + (1 - beta_1) g)
        m *= self.beta_2
        m += (1.0 - self.beta_2) * g

    def _hyper_config(self) -> dict[str, Any]:
        return {"beta_1": self.beta_1, "beta_2": self.beta_2}
