"""Adam and AdamW (Keras 3's formulas)."""

from __future__ import annotations

import math
from typing import Any

from .. import native
from ..autograd import Tensor
from ..native import address
from .arguments import check_number
from .optimizer import Array, Optimizer


def moving_average(xp: Any, avg: Array, x: Array, beta: float, tmp: Array) -> None:
    """``avg = beta * avg + (1 - beta) * x`` in place, written ``avg += (1 - beta) (x - avg)``,
    through the scratch array ``tmp`` (which may be ``x`` itself)."""
    xp.subtract(x, avg, out=tmp)
    tmp *= 1.0 - beta
    avg += tmp


def update_moments(xp: Any, g: Array, m: Array, v: Array, beta_1: float, beta_2: float,
                   tmp: Array) -> None:
    """Adam's two averages in place: ``m`` of the gradient, ``v`` of its square. ``v`` is
    ``beta_2 * v + (1 - beta_2) * g * g`` (torch's form): a gradient whose square overflows
    makes it inf, and the difference form ``v += (1 - beta_2) (g * g - v)`` then took
    inf - inf = NaN into every later step."""
    moving_average(xp, m, g, beta_1, tmp)
    xp.multiply(g, 1.0 - beta_2, out=tmp)  # (1 - beta_2) g first, then times g: as torch's
    tmp *= g  # addcmul, finite up to |g| ~ 6e20 in float32 where g * g overflows at 1.8e19
    v *= beta_2
    v += tmp


class _AdamLike(Optimizer):
    """The hyper-parameters that Adam, Adamax and Nadam share (Keras's names and defaults)."""

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs: Any) -> None:
        for name, beta in (("beta_1", beta_1), ("beta_2", beta_2)):
            check_number(name, beta)
            if beta >= 1:  # 1 - beta ** t would be 0: a division by zero at the first step
                raise ValueError(f"`{name}` must be in [0, 1), got {beta!r}")
        check_number("epsilon", epsilon)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        super().__init__(learning_rate, **kwargs)

    def _hyper_config(self) -> dict[str, Any]:
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Adam(_AdamLike):
    """Adam (Kingma & Ba, 2014), optionally AMSGrad (Reddi et al., 2018).

    Update at step ``t = iterations + 1`` (``m``, ``v`` start at 0)::

        m = m + (1 - beta_1) * (g - m)            # = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g      # (this form: a huge g makes v inf, not NaN)
        v_max = max(v_max, v)                      # amsgrad only; then v_max replaces v below
        alpha = lr * sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        p -= alpha * m / (sqrt(v) + epsilon)

    The bias corrections are folded into ``alpha``, so ``epsilon`` is added to ``sqrt(v)``:
    this is the paper's "epsilon hat" (the formula before its section 2.1). ``torch.optim.Adam``
    adds its epsilon to the corrected ``sqrt(v / (1 - beta_2 ** t))`` instead; the two agree
    when ``epsilon_torch = epsilon / sqrt(1 - beta_2 ** t)``, which changes with ``t``, so they
    differ noticeably only where ``sqrt(v)`` is not much larger than epsilon. Note also Keras's
    default ``epsilon=1e-7`` against torch's 1e-8.

    Args:
        learning_rate: a float or a schedule. Defaults to 0.001.
        beta_1: decay rate of the first-moment average.
        beta_2: decay rate of the second-moment average.
        epsilon: added to ``sqrt(v)`` for stability (see above).
        amsgrad: use the maximum of past ``v`` (AMSGrad).
        **kwargs: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``,
            ``params``: see :class:`Optimizer`.

    >>> opt = Adam(learning_rate=1e-3, params=model.trainable_weights)
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, **kwargs: Any) -> None:
        self.amsgrad = bool(amsgrad)
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)

    def init_state(self, p: Tensor) -> dict[str, Array]:
        names = ("momentum", "velocity", "velocity_hat") if self.amsgrad else ("momentum",
                                                                               "velocity")
        return {k: p.xp.zeros_like(p.data) for k in names}

    def update(self, p: Tensor, g: Array, state: dict[str, Array], lr: float) -> None:
        xp = p.xp
        t = self.iterations + 1
        m, v = state["momentum"], state["velocity"]
        alpha = lr * math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
        v_hat = state.get("velocity_hat")
        kernels = native.kernels_for(p.data, g, m, v, *([] if v_hat is None else [v_hat]))
        if kernels is not None:  # the same formulas below, in one pass (native/adam.c)
            kernels.sj_adam(p.data.size, address(p.data), address(g), address(m),
                            address(v), address(v_hat), alpha,
                            1.0 - self.beta_1, self.beta_2, 1.0 - self.beta_2, self.epsilon)
            return
        tmp = self.scratch(g)  # every step below writes in place: no temporaries
        update_moments(xp, g, m, v, self.beta_1, self.beta_2, tmp)
        if self.amsgrad:
            xp.maximum(state["velocity_hat"], v, out=state["velocity_hat"])
            v = state["velocity_hat"]
        xp.sqrt(v, out=tmp)
        tmp += self.epsilon
        xp.divide(m, tmp, out=tmp)
        tmp *= alpha
        p.data -= tmp  # p -= alpha m / (sqrt(v) + epsilon)

    def _hyper_config(self) -> dict[str, Any]:
        return {**super()._hyper_config(), "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): before each Adam update,
    ``p -= p * weight_decay * lr``. This is ``Adam(weight_decay=...)`` with a default decay of
    0.004 (Keras 3), and the same decay as ``torch.optim.AdamW`` (``p *= 1 - lr * weight_decay``,
    whose default is 0.01).

    Args:
        learning_rate: a float or a schedule. Defaults to 0.001.
        weight_decay: the decay rate; must be a number.
        beta_1, beta_2, epsilon, amsgrad: as for :class:`Adam`.
        **kwargs: ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``, ``params``.
    """

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False, **kwargs: Any) -> None:
        if weight_decay is None:
            raise ValueError("AdamW needs a number for `weight_decay`, got None "
                             "(use Adam for no weight decay)")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad,
                         weight_decay=weight_decay, **kwargs)
