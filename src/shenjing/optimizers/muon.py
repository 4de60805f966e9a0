"""Muon (Keras 3's formulas)."""

from __future__ import annotations

import math
import re
from typing import Any

from ..autograd import Tensor
from .adam import update_moments
from .arguments import check_number
from .optimizer import Array, Optimizer


class Muon(Optimizer):
    """Muon (Jordan et al., 2024; Liu et al., 2025): momentum SGD whose step for a weight matrix
    is orthogonalized, every singular value pushed towards 1 by a few Newton-Schulz iterations,
    so that no direction of the matrix dominates the update. Vectors, 4-D convolution kernels,
    embeddings and the layers named in ``exclude_layers`` take an AdamW step instead, with
    ``adam_lr_ratio`` times the learning rate (Keras's rules).

    Muon step for a weight of 2 or 3 axes, shape ``(d0, d1, ...)``::

        m = momentum * m + g;   u = g + momentum * m  (nesterov)  or  u = m
        p -= lr * NS(u) * sqrt(max(1, d0 / d1))

    ``NS`` normalizes ``u`` (over its last two axes, transposed to wide if tall) by its
    Frobenius norm + 1e-7, then ``ns_steps`` times ``A = X X^T; X = a X + (b A + c A A) X``.
    The AdamW step is :class:`Adam`'s (``epsilon`` added to ``sqrt(v)``). ``weight_decay``
    (decoupled, default 0.1) applies to every weight with the main learning rate.

    Args:
        learning_rate: a float or a schedule. Defaults to 0.001.
        adam_beta_1, adam_beta_2, epsilon: the AdamW step's.
        weight_decay: defaults to 0.1, as Keras's Muon.
        exclude_layers: regular expressions; a weight whose path (``layer_name/weight_name``,
            e.g. ``output_dense/kernel``) matches one takes the AdamW step.
        exclude_embeddings: weights whose path holds "embedding" take the AdamW step.
        muon_a, muon_b, muon_c: the Newton-Schulz polynomial.
        adam_lr_ratio: the AdamW step's share of the learning rate. Defaults to 0.1.
        momentum: the Muon step's momentum. Defaults to 0.95.
        ns_steps: Newton-Schulz iterations. Defaults to 6.
        nesterov: Nesterov momentum. Defaults to True.
        **kwargs: the other base options, see :class:`Optimizer`.

    >>> opt = Muon(learning_rate=0.02, params=model.trainable_weights)
    """

    def __init__(self, learning_rate: Any = 0.001, adam_beta_1: float = 0.9,
                 adam_beta_2: float = 0.999, epsilon: float = 1e-7, weight_decay: Any = 0.1,
                 exclude_layers: list[str] | None = None, exclude_embeddings: bool = True,
                 muon_a: float = 3.4445, muon_b: float = -4.7750, muon_c: float = 2.0315,
                 adam_lr_ratio: float = 0.1, momentum: float = 0.95, ns_steps: int = 6,
                 nesterov: bool = True, name: str | None = "muon", **kwargs: Any) -> None:
        for key, beta in (("adam_beta_1", adam_beta_1), ("adam_beta_2", adam_beta_2)):
            check_number(key, beta)
            if beta >= 1:
                raise ValueError(f"`{key}` must be in [0, 1), got {beta!r}")
        check_number("epsilon", epsilon)
        check_number("adam_lr_ratio", adam_lr_ratio)
        check_number("momentum", momentum)
        if isinstance(ns_steps, bool) or not isinstance(ns_steps, int) or ns_steps < 0:
            raise ValueError(f"`ns_steps` must be a non-negative integer, got {ns_steps!r}")
        for coefficient in (muon_a, muon_b, muon_c):
            if not isinstance(coefficient, (int, float)) or not math.isfinite(coefficient):
                raise ValueError(f"`muon_a`, `muon_b` and `muon_c` must be finite numbers, "
                                 f"got {coefficient!r}")
        self.adam_beta_1, self.adam_beta_2 = float(adam_beta_1), float(adam_beta_2)
        self.epsilon = float(epsilon)
        self.exclude_layers = list(exclude_layers or [])
        self._excluded = [re.compile(pattern) for pattern in self.exclude_layers]
        self.exclude_embeddings = bool(exclude_embeddings)
        self.muon_a, self.muon_b, self.muon_c = float(muon_a), float(muon_b), float(muon_c)
        self.adam_lr_ratio, self.momentum = float(adam_lr_ratio), float(momentum)
        self.ns_steps, self.nesterov = ns_steps, bool(nesterov)
        super().__init__(learning_rate, weight_decay=weight_decay, name=name, **kwargs)

    def uses_adamw(self, p: Tensor) -> bool:
        """Whether ``p`` takes the AdamW step (Keras's rules: not 2 or 3 axes, an embedding,
        or a path ``exclude_layers`` matches)."""
        path = getattr(p, "path", None) or getattr(p, "name", None) or ""
        return (not 1 < p.ndim < 4 or (self.exclude_embeddings and "embedding" in path.lower())
                or any(pattern.search(path) for pattern in self._excluded))

    def init_state(self, p: Tensor) -> dict[str, Array]:
        xp = p.xp
        state = {"momentum": xp.zeros_like(p.data)}
        if self.uses_adamw(p):
            state["velocity"] = xp.zeros_like(p.data)
        return state

    def update(self, p: Tensor, g: Array, state: dict[str, Array], lr: float) -> None:
        if p.data.size == 0:  # nothing to update (and no d0 / d1 with d1 = 0)
            return
        xp, m = p.xp, state["momentum"]
        if "velocity" in state:  # AdamW, with a share of the learning rate
            t, tmp = self.iterations + 1, self.scratch(g)
            update_moments(xp, g, m, state["velocity"], self.adam_beta_1, self.adam_beta_2, tmp)
            alpha = (lr * self.adam_lr_ratio * math.sqrt(1.0 - self.adam_beta_2**t)
                     / (1.0 - self.adam_beta_1**t))
            xp.sqrt(state["velocity"], out=tmp)
            tmp += self.epsilon
            p.data -= alpha * m / tmp
            return
        m *= self.momentum
        m += g
        u = g + self.momentum * m if self.nesterov else m
        scale = math.sqrt(max(1.0, p.shape[0] / p.shape[1]))
        p.data -= (lr * scale) * self._orthogonalized(xp, u)

    def _orthogonalized(self, xp: Any, u: Array) -> Array:
        """The Newton-Schulz iteration over the last two axes (a wide matrix; a tall one is
        transposed there and back)."""
        tall = u.shape[-2] > u.shape[-1]
        x = u.swapaxes(-1, -2) if tall else u
        norm = xp.sqrt((x * x).sum(axis=(-2, -1), keepdims=True))
        x = x / (norm + 1e-7)
        for _ in range(self.ns_steps):
            a = x @ x.swapaxes(-1, -2)
            x = self.muon_a * x + (self.muon_b * a + self.muon_c * (a @ a)) @ x
        return x.swapaxes(-1, -2) if tall else x

    def _hyper_config(self) -> dict[str, Any]:
        return {"adam_beta_1": self.adam_beta_1, "adam_beta_2": self.adam_beta_2,
                "epsilon": self.epsilon, "exclude_layers": list(self.exclude_layers),
                "exclude_embeddings": self.exclude_embeddings, "muon_a": self.muon_a,
                "muon_b": self.muon_b, "muon_c": self.muon_c,
                "adam_lr_ratio": self.adam_lr_ratio, "momentum": self.momentum,
                "ns_steps": self.ns_steps, "nesterov": self.nesterov}
