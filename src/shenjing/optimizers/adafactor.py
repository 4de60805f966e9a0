"""Adafactor (Keras 3's formulas)."""

from __future__ import annotations

import math
from typing import Any

from ..autograd import Tensor
from .arguments import check_non_positive, check_number
from .optimizer import Array, Optimizer


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern, 2018): Adam-like steps whose second-moment estimate, for a
    weight of two or more axes, is kept factored as a row average ``r`` and a column average
    ``c`` over its last two axes (their outer product / the mean of ``r`` stands for ``v``):
    state linear in the sides instead of their product, what made it the optimizer of T5
    (Keras also keeps a full-size ``v``; here it is a scratch array shared by the steps).
    There is no first moment; each step is clipped by its RMS and sized relative to the
    weight's own RMS.

    Update at step ``t = iterations + 1``, ``g2 = g * g + epsilon_1``::

        rho = min(lr, 1 / sqrt(t));  beta = 1 - t ** beta_2_decay
        alpha = max(epsilon_2, rms(p)) * rho
        r = beta r + (1 - beta) mean(g2, -1);  c = beta c + (1 - beta) mean(g2, -2)
        v = (r / mean(r, -1))[..., None] * c[..., None, :]    (weights of >= 2 axes)
        v = beta v + (1 - beta) g2                              (vectors and scalars)
        u = g / sqrt(v);  p -= alpha * u / max(1, rms(u) / clip_threshold)

    ``relative_step`` (with a constant learning rate, cap ``lr`` at ``1 / sqrt(t)``) is kept for
    Keras's signature; as in Keras, ``rho`` applies that cap in any case, so it changes nothing.

    Args:
        learning_rate: a float or a schedule. Defaults to 0.001.
        beta_2_decay: how fast the second-moment decay grows to 1, <= 0. Defaults to -0.8.
        epsilon_1: added to the squared gradients. Defaults to 1e-30.
        epsilon_2: the smallest weight RMS a step is sized by. Defaults to 1e-3.
        clip_threshold: the RMS a step is clipped to. Defaults to 1.0.
        relative_step: Keras's option (see above).
        **kwargs: the base options, see :class:`Optimizer`.

    >>> opt = Adafactor(learning_rate=1e-2, params=model.trainable_weights)
    """

    def __init__(self, learning_rate: Any = 0.001, beta_2_decay: float = -0.8,
                 epsilon_1: float = 1e-30, epsilon_2: float = 1e-3, clip_threshold: float = 1.0,
                 relative_step: bool = True, name: str | None = "adafactor",
                 **kwargs: Any) -> None:
        check_non_positive("beta_2_decay", beta_2_decay)  # 0: v is the last g ** 2 alone
        check_number("epsilon_1", epsilon_1)
        check_number("epsilon_2", epsilon_2)
        check_number("clip_threshold", clip_threshold, positive=True)
        self.beta_2_decay = float(beta_2_decay)
        self.epsilon_1 = float(epsilon_1)
        self.epsilon_2 = float(epsilon_2)
        self.clip_threshold = float(clip_threshold)
        self.relative_step = bool(relative_step)
        super().__init__(learning_rate, name=name, **kwargs)

    def init_state(self, p: Tensor) -> dict[str, Array]:
        xp, shape = p.xp, p.data.shape
        if len(shape) < 2:
            return {"velocity": xp.zeros_like(p.data)}
        return {"row": xp.zeros(shape[:-1], p.data.dtype),
                "column": xp.zeros(shape[:-2] + shape[-1:], p.data.dtype)}

    def update(self, p: Tensor, g: Array, state: dict[str, Array], lr: float) -> None:
        if p.data.size == 0:  # nothing to update (and no mean of an empty axis)
            return
        xp, t = p.xp, self.iterations + 1
        if not callable(self._learning_rate) and self.relative_step:
            lr = min(lr, 1.0 / math.sqrt(t))
        rho = min(lr, 1.0 / math.sqrt(t))
        alpha = max(self.epsilon_2, _rms(xp, p.data)) * rho
        beta = 1.0 - t ** self.beta_2_decay
        g2 = g * g + self.epsilon_1
        if p.data.ndim >= 2:
            r, c, v = state["row"], state["column"], self.scratch(g)
            r *= beta
            r += (1.0 - beta) * g2.mean(axis=-1)
            c *= beta
            c += (1.0 - beta) * g2.mean(axis=-2)
            xp.multiply((r / r.mean(axis=-1, keepdims=True))[..., None], c[..., None, :], out=v)
            # floored at epsilon_1: for a row and a column that got no gradient (blank pixels,
            # dead units) the product of two tiny factors underflows float32 to 0, and Keras's
            # rule then divides 0 by 0
            xp.maximum(v, self.epsilon_1, out=v)
        else:
            v = state["velocity"]
            v *= beta
            v += (1.0 - beta) * g2
        u = g / xp.sqrt(v)
        u *= alpha / max(1.0, _rms(xp, u) / self.clip_threshold)
        p.data -= u

    def _hyper_config(self) -> dict[str, Any]:
        return {"beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step}


def _rms(xp: Any, a: Array) -> float:
    flat = a.reshape(-1)
    return math.sqrt(float(xp.dot(flat, flat)) / max(flat.size, 1))
