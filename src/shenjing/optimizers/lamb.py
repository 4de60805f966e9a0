"""Lamb (Keras 3's formulas)."""

from __future__ import annotations

import math
from typing import Any

from ..autograd import Tensor
from .adam import _AdamLike, update_moments
from .optimizer import Array


class Lamb(_AdamLike):
    """Lamb (You et al., 2019, "Large Batch Optimization for Deep Learning"): Adam's step,
    rescaled for each weight tensor so that its size is the learning rate times the weight's
    own norm: the layer-wise trust ratio that keeps very large batches stable.

    Update at step ``t = iterations + 1`` (``m``, ``v`` start at 0)::

        m = m + (1 - beta_1) * (g - m);   v = v + (1 - beta_2) * (g * g - v)
        u = (m / (1 - beta_1 ** t)) / (sqrt(v / (1 - beta_2 ** t)) + epsilon)
        p -= lr * (||p|| / ||u||) * u      # the ratio is 1 where either norm is 0

    Args:
        learning_rate: a float or a schedule. Defaults to 0.001.
        beta_1, beta_2, epsilon: as for :class:`Adam` (epsilon here is added to the corrected
            ``sqrt(v)``, as Keras's Lamb does).
        **kwargs: the base options, see :class:`Optimizer`.

    >>> opt = Lamb(learning_rate=1e-3, weight_decay=0.01, params=model.trainable_weights)
    """

    def init_state(self, p: Tensor) -> dict[str, Array]:
        return {"momentum": p.xp.zeros_like(p.data), "velocity": p.xp.zeros_like(p.data)}

    def update(self, p: Tensor, g: Array, state: dict[str, Array], lr: float) -> None:
        xp, t, tmp = p.xp, self.iterations + 1, self.scratch(g)
        m, v = state["momentum"], state["velocity"]
        update_moments(xp, g, m, v, self.beta_1, self.beta_2, tmp)
        xp.divide(v, 1.0 - self.beta_2**t, out=tmp)
        xp.sqrt(tmp, out=tmp)
        tmp += self.epsilon
        xp.divide(m, tmp, out=tmp)
        tmp *= 1.0 / (1.0 - self.beta_1**t)  # tmp = u
        w_norm, u_norm = _norm(xp, p.data), _norm(xp, tmp)
        ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
        tmp *= ratio * lr
        p.data -= tmp


def _norm(xp: Any, a: Array) -> float:
    flat = a.reshape(-1)
    return math.sqrt(float(xp.dot(flat, flat)))
