"""detect_anomaly(): the first op to make a NaN or inf raises, naming the op, forward or backward,
the index, the counts, the input shapes and the user line that called it; off, nothing is checked.

NumPy warns where it makes a NaN or inf, and this suite turns warnings into errors, so every test
here runs under np.errstate."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing import F, Function, Tensor
from shenjing.debug import detect_anomaly, is_anomaly_enabled
from shenjing.layers import Dense


@pytest.fixture(autouse=True)
def _quiet():
    with np.errstate(all="ignore"):
        yield


def _call(op, x):
    return op(x)  # the user line every error below must name


CALL_LINE = f'{__file__}", line {_call.__code__.co_firstlineno + 1}, in _call'


class _TwoOut(Function):
    """(x, 1/x): a second output that is inf where x is 0; backward returns inf on request."""

    def forward(self, x):
        return x, 1 / x

    def backward(self, g0, g1):
        return np.full_like(g0, np.inf)


class _Boom(Function):
    def forward(self, x):
        return x

    def backward(self, g):
        raise ValueError("boom")


@pytest.mark.parametrize("op, name", [(F.log, "Log"), (F.sqrt, "Sqrt")])
def test_forward_nan_names_op_and_user_line(op, name):
    x = Tensor([1.0, -1.0, 4.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(FloatingPointError) as err:
        _call(op, x)
    msg = str(err.value)
    assert msg.startswith(f"{name} returned 1 non-finite value (1 nan, 0 inf) in forward output "
                          "0 of shape (3,) float32, from finite inputs. Inputs: (3,) float32.")
    assert CALL_LINE in msg and "return op(x)" in msg


def test_backward_inf_blames_sqrt_backward():
    """sqrt(0) = 0 is finite; its gradient 1 / (2 sqrt(0)) is not, and Sum's was."""
    x = Tensor([0.0, 1.0, 4.0], requires_grad=True)
    with detect_anomaly():
        y = _call(F.sqrt, x).sum()
        with pytest.raises(FloatingPointError) as err:
            y.backward()
    msg = str(err.value)
    assert msg.startswith("Sqrt backward returned 1 non-finite value (0 nan, 1 inf) in the "
                          "gradient for input 0 of shape (3,) float32, from a finite output "
                          "gradient.")
    assert CALL_LINE in msg


def test_backward_non_finite_incoming_gradient_is_not_blamed_on_the_op():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        y = x * 2
        with pytest.raises(FloatingPointError, match=r"Mul backward received 1 non-finite value "
                           r"\(1 nan, 0 inf\) in the gradient of its output 0.*grad="):
            y.backward(np.array([1.0, np.nan]))


def test_forward_with_non_finite_input_says_it_came_from_outside():
    x = Tensor([1.0, np.inf])
    with detect_anomaly(), pytest.raises(FloatingPointError,
                                         match="but input 0 was already non-finite"):
        F.exp(x)


def test_several_outputs_name_the_index():
    x = Tensor([0.0, 1.0], requires_grad=True)
    with detect_anomaly():
        with pytest.raises(FloatingPointError, match="TwoOut returned .* in forward output 1 "):
            _TwoOut.apply(x)
        with detect_anomaly(check_nan=False):
            a, b = _TwoOut.apply(x)
        with pytest.raises(FloatingPointError, match="TwoOut backward returned 2 non-finite"):
            a.sum().backward()


def test_integer_outputs_are_not_checked():
    with detect_anomaly():
        assert (Tensor([1, 2]) + Tensor([3, 4])).data.tolist() == [4, 6]


def test_model_whose_loss_goes_nan_names_the_op():
    """A sigmoid saturated to exactly 1.0 in float32 makes log(1 - p) = -inf in a hand-written
    cross-entropy; fit alone would only report the non-finite loss."""

    def bce(y, p):
        return -(y * F.log(p) + (1 - y) * F.log(1 - p)).mean(axis=-1)

    model = sj.Sequential([sj.Input((2,)), Dense(1, activation="sigmoid",
                                                 kernel_initializer="ones")])
    model.compile("sgd", bce)
    x, y = np.full((4, 2), 50.0, np.float32), np.zeros((4, 1), np.float32)
    with detect_anomaly(), pytest.raises(FloatingPointError) as err:
        model.fit(x, y, epochs=1, verbose=0)
    msg = str(err.value)
    assert msg.startswith("Log returned 4 non-finite values (0 nan, 4 inf) in forward output 0")
    assert "return -(y * F.log(p) + (1 - y) * F.log(1 - p)).mean(axis=-1)" in msg


def test_outside_the_mode_nothing_is_checked_or_kept():
    x = Tensor([0.0, -1.0], requires_grad=True)
    assert not is_anomaly_enabled()
    y = F.sqrt(x)
    y.sum().backward()
    assert np.isnan(y.data[1]) and np.isinf(x.grad.data[0])
    with pytest.raises(AttributeError):
        y._creator.trace  # noqa: B018  (no creation trace is captured outside the mode)


def test_graph_made_outside_the_mode_says_so():
    x = Tensor([0.0], requires_grad=True)
    y = F.sqrt(x).sum()
    with detect_anomaly(), pytest.raises(FloatingPointError,
                                                match="created outside anomaly mode"):
        y.backward()


def test_nesting_and_restore_even_after_an_exception():
    x = Tensor([-1.0])
    with detect_anomaly():
        with detect_anomaly(check_nan=False):
            assert is_anomaly_enabled()
            F.log(x)  # traces only: no check
        with pytest.raises(FloatingPointError):
            F.log(x)
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()
    with pytest.raises(ZeroDivisionError), detect_anomaly():
        1 / 0  # noqa: B018
    assert not is_anomaly_enabled()
    F.log(x)


def test_decorator_forms_and_recursion():
    seen = []

    @detect_anomaly()
    def nested(n):
        seen.append(is_anomaly_enabled())
        return nested(n - 1) if n else F.log(Tensor([-1.0]))

    @detect_anomaly
    def bare():
        return is_anomaly_enabled()

    with pytest.raises(FloatingPointError, match="^Log returned"):
        nested(2)
    assert seen == [True] * 3 and not is_anomaly_enabled()
    assert bare() and not is_anomaly_enabled()


def test_check_nan_false_notes_where_a_failing_backward_was_created():
    x = Tensor([1.0], requires_grad=True)
    with detect_anomaly(check_nan=False):
        y = _call(_Boom.apply, x)
        with pytest.raises(ValueError, match="boom") as err:
            y.sum().backward()
    assert CALL_LINE in "".join(err.value.__notes__)
