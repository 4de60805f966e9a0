"""Learning-rate schedules: plain callables of the step number (Keras's names and arguments).

A schedule is any callable ``lr = schedule(step)``; an optimizer given one as ``learning_rate``
calls it with its ``iterations`` (the number of updates already applied) before each update, so
the first update uses ``schedule(0)``. The classes here also have ``get_config`` /
``from_config``, so an optimizer's config (and ``state_dict``) can carry them as plain data.

Values are Python floats, computed in float64; the optimizer applies them to float32 weights
without promoting anything.
"""

from __future__ import annotations

import bisect
import math
from typing import Any


class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step) -> float`` and ``get_config()``.

    >>> class InverseTime(LearningRateSchedule):
    ...     def __init__(self, initial_learning_rate):
    ...         self.initial_learning_rate = initial_learning_rate
    ...     def __call__(self, step):
    ...         return self.initial_learning_rate / (step + 1)
    ...     def get_config(self):
    ...         return {"initial_learning_rate": self.initial_learning_rate}
    """

    def __call__(self, step: int) -> float:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(step)")

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement get_config()")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _check_positive(name: str, value: Any) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"`{name}` must be a positive number, got {value!r}")


class _RateDecay(LearningRateSchedule):
    """What exponential and inverse-time decay share: their arguments, their config, and the
    progress ``step / decay_steps`` (floored with ``staircase``)."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str | None = None) -> None:
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = type(self).__name__ if name is None else name

    def _progress(self, step: int) -> float:
        p = float(step) / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_RateDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    With ``staircase=True`` the exponent is ``floor(step / decay_steps)``: the rate drops by a
    factor ``decay_rate`` once every ``decay_steps`` steps and is constant in between.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: positive; the number of steps over which the rate is multiplied by
            ``decay_rate``.
        decay_rate: the factor per ``decay_steps`` steps.
        staircase: decay at discrete intervals.
        name: the schedule's name (kept in the config, as Keras does).

    >>> ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)(20)
    0.025
    """

    def __call__(self, step: int) -> float:
        return float(self.initial_learning_rate) * float(self.decay_rate) ** self._progress(step)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[1]`` while
    ``boundaries[0] < step <= boundaries[1]``, ..., ``values[-1]`` after ``boundaries[-1]``.

    Args:
        boundaries: strictly increasing step numbers.
        values: one more value than boundaries.
        name: the schedule's name.

    >>> s = PiecewiseConstantDecay([100, 110], [1.0, 0.5, 0.1])
    >>> s(100), s(101), s(111)
    (1.0, 0.5, 0.1)
    """

    def __init__(self, boundaries: list[int], values: list[float],
                 name: str = "PiecewiseConstant") -> None:
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "`values` must have one more element than `boundaries`; got "
                f"boundaries={boundaries} ({len(boundaries)}) and values={values} ({len(values)})")
        if any(b >= c for b, c in zip(boundaries, boundaries[1:], strict=False)):
            raise ValueError(f"`boundaries` must be strictly increasing, got {boundaries}")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step: int) -> float:
        # bisect_left counts the boundaries strictly below `step`: the index of its interval,
        # with a boundary itself belonging to the interval on its left (Keras: step <= b).
        return float(self.values[bisect.bisect_left(self.boundaries, step)])

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay (Loshchilov & Hutter, SGDR), with Keras 3's optional linear warm-up.

    Without warm-up (``warmup_target=None``) the rate goes from ``initial_learning_rate`` down
    to ``alpha * initial_learning_rate`` over ``decay_steps`` steps and then stays there::

        t = min(step, decay_steps) / decay_steps
        lr = initial_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * t)) + alpha)

    With warm-up, it first rises linearly from ``initial_learning_rate`` to ``warmup_target``
    over ``warmup_steps`` steps (``lr = initial + (target - initial) * step / warmup_steps``),
    then decays as above from ``warmup_target`` over the next ``decay_steps`` steps.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: positive; the length of the decay.
        alpha: the final rate as a fraction of the rate the decay starts from.
        warmup_target: the rate reached at the end of the warm-up, or None for no warm-up.
        warmup_steps: the length of the warm-up.
        name: the schedule's name.

    >>> CosineDecay(0.1, decay_steps=100)(50)
    0.05
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target: float | None = None,
                 warmup_steps: int = 0) -> None:
        _check_positive("decay_steps", decay_steps)
        if warmup_target is not None and warmup_steps < 0:
            raise ValueError(f"`warmup_steps` must be >= 0, got {warmup_steps!r}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step: float, start: float) -> float:
        t = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * t))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: int) -> float:
        k = float(step)
        initial = float(self.initial_learning_rate)
        if self.warmup_target is None:
            return self._decay(k, initial)
        if k < self.warmup_steps:
            fraction = k / self.warmup_steps
            return initial + (float(self.warmup_target) - initial) * fraction
        return self._decay(k - self.warmup_steps, float(self.warmup_target))

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class InverseTimeDecay(_RateDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

    With ``staircase=True`` the ratio is ``floor(step / decay_steps)``.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: positive; how often the decay applies.
        decay_rate: the decay rate.
        staircase: decay at discrete intervals.
        name: the schedule's name.

    >>> InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5)(2)
    0.05
    """

    def __call__(self, step: int) -> float:
        return float(self.initial_learning_rate) / (
            1.0 + float(self.decay_rate) * self._progress(step))


class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` to ``end_learning_rate`` in ``decay_steps`` steps along
    ``(1 - t) ** power``, then constant::

        t = min(step, decay_steps) / decay_steps
        lr = (initial_learning_rate - end_learning_rate) * (1 - t) ** power + end_learning_rate

    With ``cycle=True`` the decay restarts instead: ``decay_steps`` is replaced by its first
    multiple that is at least ``step`` (``decay_steps`` itself at step 0), so the rate jumps
    back up after each period (Keras's formula).

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: positive; the length of the decay.
        end_learning_rate: the rate at the end of the decay.
        power: the power of the polynomial (1.0: linear).
        cycle: restart the decay after ``decay_steps``.
        name: the schedule's name.

    >>> PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0)(5)
    0.05
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int,
                 end_learning_rate: float = 0.0001, power: float = 1.0, cycle: bool = False,
                 name: str = "PolynomialDecay") -> None:
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step: int) -> float:
        k, decay_steps = float(step), float(self.decay_steps)
        if self.cycle:
            decay_steps *= 1.0 if k == 0 else math.ceil(k / decay_steps)
        else:
            k = min(k, decay_steps)
        end = float(self.end_learning_rate)
        return (float(self.initial_learning_rate) - end) * (1.0 - k / decay_steps) ** float(
            self.power) + end

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (Loshchilov & Hutter, SGDR): the rate follows a cosine
    from ``initial_learning_rate`` down to ``alpha`` times it over ``first_decay_steps`` steps,
    then restarts; period ``i`` (from 0) lasts ``first_decay_steps * t_mul ** i`` steps and
    starts from ``initial_learning_rate * m_mul ** i``.

    Within a period, at the fraction ``t`` of it: ``lr = initial_learning_rate *
    ((1 - alpha) * m_mul ** i * 0.5 * (1 + cos(pi * t)) + alpha)`` (Keras's formula: ``alpha``
    is not scaled by ``m_mul ** i``).

    Args:
        initial_learning_rate: the rate at step 0.
        first_decay_steps: positive; the length of the first period.
        t_mul: the factor by which each period is longer than the one before; below 1 the
            periods add up to ``first_decay_steps / (1 - t_mul)`` steps, past which a step is
            an error (Keras gives NaN).
        m_mul: the factor by which each period starts lower than the one before.
        alpha: the rate at the end of each period, as a fraction of ``initial_learning_rate``.
        name: the schedule's name.

    >>> CosineDecayRestarts(0.1, first_decay_steps=10)(10)  # the first restart
    0.1
    """

    def __init__(self, initial_learning_rate: float, first_decay_steps: int, t_mul: float = 2.0,
                 m_mul: float = 1.0, alpha: float = 0.0, name: str = "SGDRDecay") -> None:
        _check_positive("first_decay_steps", first_decay_steps)
        _check_positive("t_mul", t_mul)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self.t_mul = t_mul
        self.m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step: int) -> float:
        fraction = float(step) / self.first_decay_steps  # in units of the first period
        t_mul = float(self.t_mul)
        if t_mul == 1.0:
            i = math.floor(fraction)
            fraction -= i
        else:
            # periods 0..i-1 last (1 - t_mul ** i) / (1 - t_mul) first periods in all
            if fraction * (1.0 - t_mul) >= 1.0:  # t_mul < 1: infinitely many, finitely long
                raise ValueError(
                    f"CosineDecayRestarts: with t_mul={self.t_mul} < 1 the periods add up to "
                    f"first_decay_steps / (1 - t_mul) = {self.first_decay_steps / (1 - t_mul):g}"
                    f" steps; step {step} is past that limit")
            i = math.floor(math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))

            def start(k: int) -> float:  # where period k starts, in first periods
                return (1.0 - t_mul**k) / (1.0 - t_mul)

            # the logarithms round (log(243) / log(3) = 4.999...): at a restart step i came
            # out one short and the rate fell to alpha instead of restarting
            i += (start(i + 1) <= fraction) - (start(i) > fraction)
            fraction = (fraction - start(i)) / t_mul**i
        cosine = 0.5 * float(self.m_mul) ** i * (1.0 + math.cos(math.pi * fraction))
        alpha = float(self.alpha)
        return float(self.initial_learning_rate) * ((1.0 - alpha) * cosine + alpha)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self.t_mul,
                "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


_SCHEDULES: dict[str, type[LearningRateSchedule]] = {
    cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay, CosineDecay,
                                  InverseTimeDecay, PolynomialDecay, CosineDecayRestarts)
}


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """``{"class_name": ..., "config": ...}``: plain data that :func:`deserialize` rebuilds."""
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict[str, Any],
                custom_objects: dict[str, Any] | None = None) -> LearningRateSchedule:
    """The schedule that :func:`serialize` described. Schedules of your own are found in
    ``custom_objects`` (name -> class), the enclosing ``custom_object_scope`` (load_model's
    ``custom_objects``) or ``register_keras_serializable``'s registry, as Keras finds them."""
    from ..io.registry import get_registered_object

    name = config.get("class_name")
    cls = get_registered_object(name, custom_objects) or _SCHEDULES.get(name)
    if cls is None:
        raise ValueError(f"unknown learning-rate schedule {name!r}; known: "
                         f"{sorted(_SCHEDULES)} (pass your own classes in custom_objects, or "
                         "register them with @register_keras_serializable())")
    return cls.from_config(dict(config.get("config", {})))


__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "deserialize",
    "serialize",
]
