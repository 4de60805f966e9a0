"""``LossScaleOptimizer``: dynamic loss scaling around another optimizer (Keras 3's)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import backend
from ..autograd import Tensor
from .arguments import check_number
from .optimizer import Optimizer


class LossScaleOptimizer(Optimizer):
    """Wraps ``inner_optimizer`` with dynamic loss scaling, the guard of float16 training
    against gradients that underflow: ``fit`` back-propagates the loss times ``dynamic_scale``
    (:meth:`scale_loss`), and each step divides the gradients by it again before the inner
    optimizer updates. A step whose gradients hold an inf or NaN is skipped (no update) and
    halves the scale; after ``dynamic_growth_steps`` good steps in a row the scale doubles. In
    float32 the updates are the inner optimizer's; the skipping of non-finite steps remains.

    Args:
        inner_optimizer: the optimizer to wrap (an instance, or anything
            :func:`shenjing.optimizers.get` takes).
        initial_scale: the first loss scale. Defaults to 2 ** 15.
        dynamic_growth_steps: finite steps between doublings. Defaults to 2000.
        name: a name (kept in the config).
        params: the Tensors to optimize, PyTorch style.

    The inner optimizer's own options (clipping, decay, EMA, accumulation) work as usual; the
    wrapper takes none of them (a TypeError here; Keras raises a ValueError), and turns off the
    inner ``loss_scale_factor``. Parameters given to either are stepped by the wrapper.

    >>> opt = LossScaleOptimizer(Adam(1e-3))
    >>> model.compile(optimizer=opt, loss="mse")
    """

    def __init__(self, inner_optimizer: Any, initial_scale: float = 2.0**15,
                 dynamic_growth_steps: int = 2000, name: str | None = None,
                 *, params: Iterable[Tensor] | None = None) -> None:
        from . import get

        inner = get(inner_optimizer)
        if isinstance(inner, LossScaleOptimizer):
            raise ValueError("LossScaleOptimizer wraps a plain optimizer, not another "
                             "LossScaleOptimizer")
        check_number("initial_scale", initial_scale, positive=True)
        if isinstance(dynamic_growth_steps, bool) or not isinstance(
                dynamic_growth_steps, (int, np.integer)) or dynamic_growth_steps < 1:
            raise ValueError(f"`dynamic_growth_steps` must be an integer >= 1, got "
                             f"{dynamic_growth_steps!r}")
        self.inner_optimizer = inner
        inner.loss_scale_factor = None  # the gradients must not be unscaled twice
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = int(dynamic_growth_steps)
        self.dynamic_scale = self.initial_scale
        self.step_counter = 0  # finite steps since the scale last changed
        super().__init__(0.0, name=name or "loss_scale_optimizer")
        # the inner optimizer's parameters first, in its order (they index its state), then
        # those given here: one order for both
        self.build(inner.params)
        if params is not None:
            self.build(params)
        self.iterations = inner.iterations

    @property
    def learning_rate(self) -> float:
        """The inner optimizer's (settable, as there)."""
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        self.inner_optimizer.learning_rate = value

    def _add_param(self, p: Any) -> int:
        """Known to both, in one order: the inner optimizer's state indices follow it."""
        self.inner_optimizer._add_param(p)
        return super()._add_param(p)

    def exclude_from_weight_decay(self, var_list: Iterable[Tensor] | None = None,
                                  var_names: Iterable[str] | None = None) -> None:
        """The inner optimizer's (which decays)."""
        self.inner_optimizer.exclude_from_weight_decay(var_list, var_names)

    def _apply(self, pairs: list[tuple[Any, Tensor]]) -> None:
        if not pairs:
            return
        grads = [backend.get_xp(g).asarray(g) for g, _ in pairs]  # NumPy or CuPy, as given
        if all(bool(backend.get_xp(g).isfinite(g).all()) for g in grads):
            scale = self.dynamic_scale
            self.inner_optimizer._apply([(g / scale, p) for g, (_, p) in zip(grads, pairs)])
            if self.step_counter == self.dynamic_growth_steps - 1:
                self.step_counter, self.dynamic_scale = 0, self.dynamic_scale * 2.0
            else:
                self.step_counter += 1
        else:  # skipped: no update, a smaller scale
            self.step_counter, self.dynamic_scale = 0, self.dynamic_scale / 2.0
        self.iterations = self.inner_optimizer.iterations

    def scale_loss(self, loss: Any) -> Any:
        return loss * self.dynamic_scale

    def finalize_variable_values(self, var_list: Iterable[Tensor] | None = None) -> None:
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self) -> dict[str, Any]:
        from . import serialize

        return {"name": self.name, "inner_optimizer": serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config: dict[str, Any],
                    custom_objects: dict[str, Any] | None = None) -> LossScaleOptimizer:
        config = dict(config)
        from . import get

        return cls(get(config.pop("inner_optimizer")), **config)

    def state_dict(self, params: list[Any] | None = None) -> dict[str, Any]:
        return {"class_name": type(self).__name__, "dynamic_scale": self.dynamic_scale,
                "step_counter": self.step_counter,
                "inner": self.inner_optimizer.state_dict(params)}

    def load_state_dict(self, state_dict: dict[str, Any], params: list[Any] | None = None
                        ) -> None:
        if state_dict.get("class_name") != type(self).__name__:
            raise ValueError(f"cannot load the state of a {state_dict.get('class_name')} into "
                             f"a LossScaleOptimizer")
        self.inner_optimizer.load_state_dict(state_dict["inner"], params)
        self.dynamic_scale = float(state_dict["dynamic_scale"])
        self.step_counter = int(state_dict["step_counter"])
        self.iterations = self.inner_optimizer.iterations

    def __repr__(self) -> str:
        return (f"LossScaleOptimizer({self.inner_optimizer!r}, "
                f"dynamic_scale={self.dynamic_scale:g})")
