"""Adamax (Keras 3's formulas)."""

from __future__ import annotations

from ..autograd import Tensor
from .adam import _AdamLike, moving_average
from .optimizer import Array


class Adamax(_AdamLike):
    """Adamax (Kingma & Ba, 2014, section 7.1): Adam with the infinity norm in place of the
    root mean square, so the step no longer depends on the gradient's scale.

    Update at step ``t = iterations + 1`` (``m``, ``u`` start at 0)::

        m = m + (1 - beta_1) * (g - m)             # = beta_1 * m + (1 - beta_1) * g
        u = max(beta_2 * u, |g|)
        p -= lr / (1 - beta_1 ** t) * m / (u + epsilon)

    ``torch.optim.Adamax`` puts its epsilon inside the maximum, ``u = max(beta_2 * u,
    |g| + eps)``, and divides by ``u`` alone; the two agree where ``|g|`` is much larger than
    epsilon. Keras's default ``epsilon=1e-7`` against torch's 1e-8.

    Args:
        learning_rate: a float or a schedule. Defaults to 0.001.
        beta_1: decay rate of the first-moment average.
        beta_2: decay rate of the infinity norm.
        epsilon: added to ``u`` for stability (see above).
        **kwargs: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``,
            ``params``: see :class:`Optimizer`.

    >>> opt = Adamax(learning_rate=2e-3, params=model.trainable_weights)
    """

    def init_state(self, p: Tensor) -> dict[str, Array]:
        return {k: p.xp.zeros_like(p.data) for k in ("momentum", "norm")}

    def update(self, p: Tensor, g: Array, state: dict[str, Array], lr: float) -> None:
        xp, m, u, tmp = p.xp, state["momentum"], state["norm"], self.scratch(g)
        moving_average(xp, m, g, self.beta_1, tmp)
        u *= self.beta_2
        xp.abs(g, out=tmp)
        xp.maximum(u, tmp, out=u)  # u = max(beta_2 u, |g|)
        xp.add(u, self.epsilon, out=tmp)
        xp.divide(m, tmp, out=tmp)
        tmp *= lr / (1.0 - self.beta_1 ** (self.iterations + 1))
        p.data -= tmp  # p -= lr / (1 - beta_1^t) m / (u + epsilon), t = iterations + 1

