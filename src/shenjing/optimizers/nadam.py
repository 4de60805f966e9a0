"""Nadam (Keras 3's formulas)."""

from __future__ import annotations

from ..autograd import Tensor
from .adam import _AdamLike, update_moments
from .optimizer import Array

_DECAY = 0.96  # base of Keras 3's momentum schedule


class Nadam(_AdamLike):
    """Nadam (Dozat, 2016): Adam with Nesterov momentum, the first moment looked at one step
    ahead, with Keras 3's momentum schedule.

    Update at step ``t = iterations + 1`` (``m``, ``v`` start at 0)::

        mu(s) = beta_1 * (1 - 0.5 * 0.96 ** s)    # the momentum of step s
        prod = mu(1) * mu(2) * ... * mu(t)
        m = m + (1 - beta_1) * (g - m)
        v = v + (1 - beta_2) * (g * g - v)
        m_hat = mu(t+1) * m / (1 - prod * mu(t+1)) + (1 - mu(t)) * g / (1 - prod)
        v_hat = v / (1 - beta_2 ** t)
        p -= lr * m_hat / (sqrt(v_hat) + epsilon)

    ``prod`` depends on ``t`` alone (Keras keeps it in one variable for all weights), so it
    is recomputed from ``iterations`` rather than saved: resuming gives the same numbers.

    ``torch.optim.NAdam`` is the same algorithm, with the same epsilon placement, but its
    schedule is ``0.96 ** (t * momentum_decay)`` with ``momentum_decay=0.004`` by default;
    Keras 3's is ``torch.optim.NAdam(momentum_decay=1.0)``. Note also Keras's default
    ``epsilon=1e-7`` against torch's 1e-8.

    Args:
        learning_rate: a float or a schedule. Defaults to 0.001.
        beta_1: decay rate of the first-moment average (and scale of the schedule).
        beta_2: decay rate of the second-moment average.
        epsilon: added to ``sqrt(v_hat)`` for stability.
        **kwargs: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``,
            ``params``: see :class:`Optimizer`.

    >>> opt = Nadam(learning_rate=1e-3, params=model.trainable_weights)
    """

    _product = (0, 1.0)  # (t, mu(1) * ... * mu(t)): one step's cache, set per instance

    def _mu(self, s: int) -> float:
        return self.beta_1 * (1.0 - 0.5 * _DECAY**s)

    def _mu_product(self, t: int) -> float:
        """``mu(1) * ... * mu(t)``, multiplied in that order whatever the cache holds, so a
        resumed run gets the same float as an uninterrupted one."""
        s, prod = self._product
        if s > t:
            s, prod = 0, 1.0
        while s < t:
            s += 1
            prod *= self._mu(s)
        self._product = (t, prod)
        return prod

    def init_state(self, p: Tensor) -> dict[str, Array]:
        return {k: p.xp.zeros_like(p.data) for k in ("momentum", "velocity")}

    def update(self, p: Tensor, g: Array, state: dict[str, Array], lr: float) -> None:
        xp = p.xp
        t = self.iterations + 1
        m, v = state["momentum"], state["velocity"]
        mu, mu_next, prod = self._mu(t), self._mu(t + 1), self._mu_product(t)
        tmp = self.scratch(g)
        update_moments(xp, g, m, v, self.beta_1, self.beta_2, tmp)
        step = xp.multiply(m, lr * mu_next / (1.0 - prod * mu_next))
        xp.multiply(g, lr * (1.0 - mu) / (1.0 - prod), out=tmp)
        step += tmp  # lr * m_hat
        xp.divide(v, 1.0 - self.beta_2**t, out=tmp)
        xp.sqrt(tmp, out=tmp)
        tmp += self.epsilon
        step /= tmp
        p.data -= step  # p -= lr m_hat / (sqrt(v_hat) + epsilon)

