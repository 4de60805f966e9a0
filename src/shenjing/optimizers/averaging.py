"""What the base optimizer adds around an update rule, from Keras 3's options: gradient
accumulation (``gradient_accumulation_steps``), a moving average of the weights (``use_ema``)
and loss scaling (``loss_scale_factor``). Their per-weight arrays live in the weight's state
beside the rule's (``gradient_accumulator``, ``average``), so they are saved and restored
with it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..autograd import Tensor, no_grad

Array = Any


class Averaging:
    """Mixed into :class:`~shenjing.optimizers.Optimizer`, which sets these attributes and
    provides ``init_state``, ``_state_of``, ``_state`` and ``_params``."""

    gradient_accumulation_steps: int | None
    use_ema: bool
    ema_momentum: float
    ema_overwrite_frequency: int | None
    loss_scale_factor: float | None
    iterations: int
    _accumulated: int  # steps whose gradients wait in the accumulators

    def _new_state(self, p: Tensor) -> dict[str, Array]:
        """The update rule's state, with the accumulator and the moving average if used (an
        average starts as the weight: one met after the first step is not pulled to 0)."""
        state = self.init_state(p)
        if self.gradient_accumulation_steps:
            state["gradient_accumulator"] = p.xp.zeros_like(p.data)
        if self.use_ema:
            state["average"] = p.data.copy()
        return state

    def _accumulate(self, params: list[Tensor], grads: list[Array]
                    ) -> tuple[list[Array], bool]:
        """Add ``grads`` to the accumulators; on every k-th step, return the mean of the k
        steps' gradients (and empty the accumulators) and True."""
        k = self.gradient_accumulation_steps
        if self._accumulated + 1 < k:
            for p, g in zip(params, grads):
                self._state_of(p)["gradient_accumulator"] += g
            self._accumulated += 1
            return grads, False
        means = [(g + self._state_of(p)["gradient_accumulator"]) / k
                 for p, g in zip(params, grads)]
        for state in self._state.values():
            state["gradient_accumulator"][...] = 0
        return means, True

    def _average(self) -> None:
        """One EMA step over every known weight (Keras 3: also on steps that only accumulate;
        the momentum is 0 before the first update, so the average starts as the weight)."""
        momentum = self.ema_momentum if self.iterations else 0.0
        for p in self._params:
            average = self._state_of(p)["average"]
            average += (1.0 - momentum) * (p.data - average)
        frequency = self.ema_overwrite_frequency
        if frequency and (self.iterations + 1) % frequency == 0:
            self.finalize_variable_values()

    def finalize_variable_values(self, var_list: Iterable[Tensor] | None = None) -> None:
        """With ``use_ema``, copy the moving averages into the weights (``var_list``, default
        all; ``fit`` calls this when training ends, as Keras 3 does); else nothing."""
        if not self.use_ema:
            return
        with no_grad():
            for p in self._params if var_list is None else var_list:
                p.data[...] = self._state_of(p)["average"]
                p._version[0] += 1

    def scale_loss(self, loss: Any) -> Any:
        """``loss * loss_scale_factor`` (the loss itself when no factor is set): what ``fit``
        back-propagates; the update divides the factor out of the gradients again."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

