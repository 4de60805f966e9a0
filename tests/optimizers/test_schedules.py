"""Learning-rate schedules: values at chosen steps against the closed forms and against the
behaviour Keras documents (staircase, boundaries belong to the interval on their left, linear
warm-up then cosine decay, polynomial cycles, warm restarts), against torch's schedulers where
they compute the same thing, configs, and errors."""

from __future__ import annotations

import math
from typing import Any

import pytest

from oracle import require_torch
from shenjing.optimizers import SGD, schedules
from shenjing.optimizers.schedules import (
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    LearningRateSchedule,
    PiecewiseConstantDecay,
    PolynomialDecay,
)


@pytest.mark.parametrize("step", [0, 1, 5, 10, 15, 99, 1000])
@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay_closed_form(step: int, staircase: bool) -> None:
    s = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=staircase)
    exponent = step // 10 if staircase else step / 10
    assert s(step) == pytest.approx(0.1 * 0.5**exponent, rel=1e-12)


def test_exponential_decay_staircase_is_constant_between_drops() -> None:
    s = ExponentialDecay(1.0, decay_steps=4, decay_rate=0.1, staircase=True)
    assert [s(k) for k in range(9)] == pytest.approx([1.0] * 4 + [0.1] * 4 + [0.01])


def test_piecewise_constant_keras_example() -> None:
    # Keras's docstring: 1.0 for the first 100001 steps, 0.5 for the next 10000, then 0.1
    s = PiecewiseConstantDecay([100000, 110000], [1.0, 0.5, 0.1])
    assert [s(0), s(100000), s(100001), s(110000), s(110001), s(10**7)] == [
        1.0, 1.0, 0.5, 0.5, 0.1, 0.1]


@pytest.mark.parametrize("step", [0, 1, 25, 50, 99, 100, 150])
@pytest.mark.parametrize("alpha", [0.0, 0.1])
def test_cosine_decay_closed_form(step: int, alpha: float) -> None:
    s = CosineDecay(0.2, decay_steps=100, alpha=alpha)
    t = min(step, 100) / 100
    assert s(step) == pytest.approx(0.2 * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * t))
                                           + alpha), rel=1e-12, abs=1e-15)


def test_cosine_decay_endpoints() -> None:
    s = CosineDecay(0.2, decay_steps=100, alpha=0.1)
    assert s(0) == pytest.approx(0.2)
    assert s(50) == pytest.approx(0.2 * (0.9 * 0.5 + 0.1))
    assert s(100) == s(10_000) == pytest.approx(0.02)  # clamped at alpha * initial


@pytest.mark.parametrize("step, expected", [
    (0, 0.0), (250, 0.025), (500, 0.05), (999, 0.0999),  # linear warm-up 0 -> 0.1
    (1000, 0.1),                                          # decay starts at the target
    (1500, 0.05),                                         # half way down the cosine
    (2000, 0.0), (5000, 0.0),                             # and stays at alpha * target
])
def test_cosine_decay_warmup_keras_example(step: int, expected: float) -> None:
    # Keras's docstring example: from 0 up to 0.1 in 1000 steps, then cosine over 1000 steps
    s = CosineDecay(0.0, decay_steps=1000, warmup_target=0.1, warmup_steps=1000)
    assert s(step) == pytest.approx(expected, abs=1e-12)


def test_cosine_decay_warmup_from_nonzero_with_alpha() -> None:
    s = CosineDecay(0.01, decay_steps=10, alpha=0.5, warmup_target=0.03, warmup_steps=4)
    assert s(2) == pytest.approx(0.01 + 0.02 * 2 / 4)
    assert s(4 + 5) == pytest.approx(0.03 * (0.5 * 0.5 + 0.5))
    assert s(100) == pytest.approx(0.015)


@pytest.mark.parametrize("schedule", [
    ExponentialDecay(0.1, 10, 0.96, staircase=True),
    PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001]),
    CosineDecay(0.0, 100, alpha=0.1, warmup_target=0.1, warmup_steps=5),
    InverseTimeDecay(0.1, 5, 0.5, staircase=True),
    PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=0.5, cycle=True),
    CosineDecayRestarts(0.1, 7, t_mul=1.5, m_mul=0.8, alpha=0.05),
], ids=lambda s: type(s).__name__)
def test_schedule_config_round_trips(schedule: LearningRateSchedule) -> None:
    again = type(schedule).from_config(schedule.get_config())
    assert again.get_config() == schedule.get_config()
    rebuilt = schedules.deserialize(schedules.serialize(schedule))
    assert type(rebuilt) is type(schedule)
    assert [rebuilt(k) for k in range(0, 40, 3)] == [schedule(k) for k in range(0, 40, 3)]
    assert type(schedule).__name__ in repr(schedule)


def test_schedule_values_are_python_floats() -> None:
    for s in (ExponentialDecay(0.1, 10, 0.5), PiecewiseConstantDecay([1], [1, 2]),
              CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=2),
              InverseTimeDecay(1, 2, 1), PolynomialDecay(1, 4, cycle=True),
              CosineDecayRestarts(1, 3)):
        assert all(type(s(k)) is float for k in range(15))


@pytest.mark.parametrize("make", [
    lambda: ExponentialDecay(0.1, decay_steps=0, decay_rate=0.5),
    lambda: CosineDecay(0.1, decay_steps=-1),
    lambda: PiecewiseConstantDecay([10, 20], [0.1, 0.01]),
    lambda: PiecewiseConstantDecay([20, 10], [0.1, 0.01, 0.001]),
    lambda: InverseTimeDecay(0.1, decay_steps=0, decay_rate=0.5),
    lambda: PolynomialDecay(0.1, decay_steps=0),
    lambda: CosineDecayRestarts(0.1, first_decay_steps=0),
])
def test_schedule_bad_arguments_raise(make: Any) -> None:
    with pytest.raises(ValueError):
        make()


def test_deserialize_unknown_and_custom() -> None:
    class Halving(LearningRateSchedule):
        def __init__(self, initial_learning_rate: float) -> None:
            self.initial_learning_rate = initial_learning_rate

        def __call__(self, step: int) -> float:
            return self.initial_learning_rate / 2**step

        def get_config(self) -> dict[str, Any]:
            return {"initial_learning_rate": self.initial_learning_rate}

    config = schedules.serialize(Halving(1.0))
    with pytest.raises(ValueError, match="unknown learning-rate schedule 'Halving'"):
        schedules.deserialize(config)
    assert schedules.deserialize(config, custom_objects={"Halving": Halving})(3) == 0.125


@pytest.mark.parametrize("step", [0, 1, 4, 5, 9, 10, 100])
@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time_decay_closed_form(step: int, staircase: bool) -> None:
    s = InverseTimeDecay(0.1, decay_steps=5, decay_rate=0.5, staircase=staircase)
    ratio = step // 5 if staircase else step / 5
    assert s(step) == pytest.approx(0.1 / (1 + 0.5 * ratio), rel=1e-12)


@pytest.mark.parametrize("step", [0, 1, 5, 9, 10, 11, 50])
@pytest.mark.parametrize("power", [1.0, 0.5, 2.0])
def test_polynomial_decay_closed_form(step: int, power: float) -> None:
    s = PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.01, power=power)
    t = min(step, 10) / 10
    assert s(step) == pytest.approx(0.09 * (1 - t) ** power + 0.01, rel=1e-12)
    assert PolynomialDecay(0.1, 10).end_learning_rate == 0.0001  # Keras's default


def test_polynomial_decay_cycle_keras_formula() -> None:
    # decay_steps becomes its first multiple >= step: 10 for steps 1..10, 20 for 11..20
    s = PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0, cycle=True)
    assert [s(0), s(5), s(10), s(11), s(15), s(20), s(21)] == pytest.approx(
        [0.1, 0.05, 0.0, 0.1 * 9 / 20, 0.1 * 5 / 20, 0.0, 0.1 * 9 / 30])


def test_cosine_decay_restarts_periods() -> None:
    # t_mul=2: periods of 10, 20, 40 steps starting at 0, 10, 30; m_mul=0.5 halves each start
    s = CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=2.0, m_mul=0.5, alpha=0.1)
    def expected(i: int, t: float) -> float:
        return 0.9 * 0.5**i * 0.5 * (1 + math.cos(math.pi * t)) + 0.1
    for step, i, t in [(0, 0, 0.0), (5, 0, 0.5), (9, 0, 0.9), (10, 1, 0.0), (20, 1, 0.5),
                       (30, 2, 0.0), (50, 2, 0.5)]:
        assert s(step) == pytest.approx(expected(i, t), rel=1e-9), step
    assert CosineDecayRestarts(1.0, 3).name == "SGDRDecay"  # Keras's default name


def test_cosine_decay_restarts_shrinking_periods_end_with_a_clear_error() -> None:
    # t_mul=0.5: periods of 10, 5, 2.5... steps starting at 0, 10, 15, 17.5...: 20 in all;
    # (step, fraction of its period): 19 is 0.4 into the fifth, 18.75 to 19.375
    s = CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=0.5)
    for step, t in [(0, 0.0), (5, 0.5), (10, 0.0), (15, 0.0), (16.25, 0.5), (19, 0.4)]:
        assert s(step) == pytest.approx(0.5 * (1 + math.cos(math.pi * t)), rel=1e-9), step
    for step in (20, 25):
        with pytest.raises(ValueError, match=rf"add up to .* = 20 steps; step {step} is past"):
            s(step)


@pytest.mark.parametrize("t_mul", [1, 2])
def test_cosine_decay_restarts_matches_torch_warm_restarts(t_mul: int) -> None:
    """torch's CosineAnnealingWarmRestarts(T_0, T_mult, eta_min) is Keras's schedule with
    ``m_mul=1`` and ``eta_min = alpha * initial_learning_rate``."""
    torch = require_torch()
    s = CosineDecayRestarts(0.1, first_decay_steps=4, t_mul=float(t_mul), alpha=0.2)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=t_mul,
                                                                 eta_min=0.02)
    for step in range(40):
        assert s(step) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-9, abs=1e-12), step
        opt.step()
        sched.step()


@pytest.mark.parametrize("first, t_mul", [(10, 3.0), (1, 3.0), (1, 10.0), (10, 10.0)])
def test_cosine_decay_restarts_restarts_where_the_logarithms_round(first, t_mul) -> None:
    """Every restart step (period k starts at first * (t_mul**k - 1) / (t_mul - 1)) is at the
    full rate; log(243) / log(3) is 4.999... in float64, which once put step 1210 of
    (10, t_mul=3) at the end of period 4 (rate alpha) instead of the start of period 5."""
    s = CosineDecayRestarts(1.0, first_decay_steps=first, t_mul=t_mul, alpha=0.1)
    for k in range(1, 7):
        step = round(first * (t_mul**k - 1) / (t_mul - 1))
        assert s(step) == pytest.approx(1.0, rel=1e-12), step


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_polynomial_decay_matches_torch_polynomial_lr(power: float) -> None:
    """torch's PolynomialLR(total_iters, power) decays to 0: ``end_learning_rate=0``."""
    torch = require_torch()
    s = PolynomialDecay(0.1, decay_steps=8, end_learning_rate=0.0, power=power)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = torch.optim.lr_scheduler.PolynomialLR(opt, total_iters=8, power=power)
    for step in range(12):
        assert s(step) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-9, abs=1e-12), step
        opt.step()
        sched.step()


def test_new_schedules_drive_an_optimizer_and_survive_its_config() -> None:
    opt = SGD(learning_rate=PolynomialDecay(0.1, 4, end_learning_rate=0.02))
    config = opt.get_config()
    again = SGD.from_config(config)
    assert isinstance(again._learning_rate, PolynomialDecay)
    assert again.learning_rate == opt.learning_rate == 0.1
    again.iterations = 2
    assert again.learning_rate == pytest.approx(0.06)
