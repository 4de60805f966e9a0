"""shenjing.nn.functional against torch.nn.functional, called the same way on the same float32
values: activations, linear/bilinear, convolutions, pooling, adaptive pooling, interpolation.
Forward values and the gradients of every floating input (tests/oracle.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from torch_pair import same

import shenjing
import shenjing.nn.functional as SF
from oracle import distinct, normal, require_torch

# -- activations ----------------------------------------------------------------------------------
ACTIVATIONS = [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.1}),
    ("elu", {}), ("elu", {"alpha": 0.5}), ("selu", {}), ("celu", {"alpha": 2.0}), ("gelu", {}),
    ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}), ("softplus", {}),
    ("softplus", {"beta": 2.0, "threshold": 3.0}), ("sigmoid", {}), ("tanh", {}),
    ("hardtanh", {}), ("hardtanh", {"min_val": -2.0, "max_val": 3.0}), ("logsigmoid", {}),
    ("hardsigmoid", {}), ("hardswish", {}), ("softsign", {}), ("tanhshrink", {}),
    ("threshold", {"threshold": 0.5, "value": -1.0}), ("glu", {}), ("glu", {"dim": 0}),
]


@pytest.mark.parametrize(("name", "kwargs"), ACTIVATIONS)
def test_activation_matches_torch(name, kwargs, rng):
    x = distinct(rng, (4, 10))  # -8..8, no ties, away from the kinks at 0 and multiples of 0.4
    same(lambda F, t: getattr(F, name)(t, **kwargs), x)


@pytest.mark.parametrize("name", ["relu", "relu6", "hardtanh", "hardsigmoid", "leaky_relu"])
def test_activation_kinks_follow_torch(name):
    # the gradient exactly at the kinks (0, 6, -1, 1, -3, 3): hardtanh's is 0 at its bounds
    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0, 6.0, -7.0, 7.0])
    same(lambda F, t: getattr(F, name)(t), x)


def test_inplace_flag_is_accepted(rng):
    x = normal(rng, (3, 4))
    same(lambda F, t: F.relu(t, inplace=False) + F.leaky_relu(t, 0.2, inplace=False), x)


def test_inplace_true_writes_into_the_input_as_torch(rng):
    # the in-place result inside a graph (the input is not a leaf): values and gradients
    x = normal(rng, (3, 4))
    same(lambda F, t: F.relu(t * 2, inplace=True) + F.hardtanh(t * 1, -0.5, 0.5, True), x)
    h = shenjing.tensor(x) * 1
    out = SF.hardtanh(h, -0.5, 0.5, inplace=True)
    assert out is h and float(h.numpy().max()) <= 0.5
    leaf = shenjing.tensor(x, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place operation on a leaf"):
        SF.relu(leaf, inplace=True)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family_matches_torch(fn, dim, rng):
    same(lambda F, t: getattr(F, fn)(t, dim=dim), normal(rng, (3, 4, 5)))


def test_softmax_dtype_and_implicit_dim(rng):
    th = require_torch()
    x = normal(rng, (3, 4)).astype(np.float32)
    y = SF.softmax(shenjing.tensor(x), dim=1, dtype=np.float64)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), th.softmax(th.tensor(x), 1, dtype=th.float64).numpy())
    with pytest.warns(UserWarning, match="Implicit dimension"):
        implicit = SF.softmax(shenjing.tensor(x))  # 2-D: torch's legacy choice is dim 1
    np.testing.assert_allclose(implicit.numpy(), SF.softmax(shenjing.tensor(x), 1).numpy())


# -- linear ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape", [(5, 6), (2, 3, 6)])
def test_linear_takes_torch_weight_layout(bias, x_shape, rng):
    # a square (out, in) weight is the audit's silent case: shenjing.F.linear would use w, not w.T
    inputs = [normal(rng, x_shape), normal(rng, (6, 6))] + ([normal(rng, (6,))] if bias else [])
    same(lambda F, *t: F.linear(*t), *inputs)


def test_linear_with_a_one_d_weight_gives_one_output_without_its_axis(rng):
    same(lambda F, *t: F.linear(*t), normal(rng, (5, 6)), normal(rng, (6,)))


def test_linear_differs_from_keras_kernel_on_a_square_weight(rng):
    x, w = (shenjing.tensor(normal(rng, s).astype(np.float32)) for s in [(3, 4), (4, 4)])
    assert not np.allclose(SF.linear(x, w).numpy(), shenjing.F.linear(x, w).numpy())
    np.testing.assert_allclose(SF.linear(x, w).numpy(), (x.numpy() @ w.numpy().T), rtol=1e-5)


def test_bilinear_matches_torch(rng):
    inputs = [normal(rng, (5, 3)), normal(rng, (5, 4)), normal(rng, (2, 3, 4)), normal(rng, (2,))]
    same(lambda F, *t: F.bilinear(*t), *inputs)


# -- convolutions ---------------------------------------------------------------------------------
CONV2D = [  # (in channels, weight shape, keyword arguments)
    (3, (4, 3, 3, 3), {}),
    (3, (4, 3, 3, 3), {"stride": 2, "padding": 1}),
    pytest.param(3, (4, 3, 4, 2), {"padding": "same"},  # even kernel: torch's odd pixel after
                 marks=pytest.mark.filterwarnings("ignore:Using padding='same'")),
    (3, (4, 3, 3, 3), {"padding": "same", "dilation": 2}),
    (3, (4, 3, 3, 3), {"padding": "valid"}),
    (3, (4, 3, 3, 2), {"stride": (2, 1), "padding": (1, 2), "dilation": (2, 1)}),
    (4, (6, 2, 3, 3), {"padding": 1, "groups": 2}),
    (4, (8, 1, 3, 3), {"stride": 2, "padding": 1, "groups": 4}),  # depthwise, multiplier 2
]


@pytest.mark.parametrize(("channels", "w_shape", "kwargs"), CONV2D)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_torch(channels, w_shape, kwargs, bias, rng):
    inputs = [normal(rng, (2, channels, 9, 8)), normal(rng, w_shape)]
    inputs += [normal(rng, (w_shape[0],))] if bias else []
    same(lambda F, *t: F.conv2d(*t, **kwargs), *inputs, atol=1e-4)


def test_conv2d_unbatched_and_positional_arguments(rng):
    inputs = [normal(rng, (3, 7, 7)), normal(rng, (2, 3, 3, 3)), normal(rng, (2,))]
    same(lambda F, x, w, b: F.conv2d(x, w, b, 2, 1, 1, 1), *inputs, atol=1e-4)


def test_conv2d_errors_on_strided_same_and_bad_groups(rng):
    x = shenjing.randn(1, 4, 6, 6)
    with pytest.raises(ValueError, match="strided"):
        SF.conv2d(x, shenjing.randn(2, 4, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match="groups"):
        SF.conv2d(x, shenjing.randn(3, 2, 3, 3), groups=2)


@pytest.mark.parametrize("kwargs", [{}, {"stride": 2, "padding": 1}, {"padding": "same"},
                                    {"dilation": 2, "padding": 2}, {"groups": 2, "padding": 1}])
def test_conv1d_matches_torch(kwargs, rng):
    inputs = [normal(rng, (2, 4, 11)), normal(rng, (6, 4 // kwargs.get("groups", 1), 4)),
              normal(rng, (6,))]
    with warnings.catch_warnings():  # torch's note on an even kernel with padding='same'
        warnings.filterwarnings("ignore", "Using padding='same'")
        same(lambda F, *t: F.conv1d(*t, **kwargs), *inputs, atol=1e-4)


CONV_TRANSPOSE2D = [  # (input shape, weight shape (in, out / groups, kh, kw), keyword arguments)
    ((2, 4, 5, 6), (4, 3, 3, 3), {}),
    ((2, 4, 5, 6), (4, 3, 4, 4), {"stride": 2, "padding": 1}),  # DCGAN's upsampling
    ((2, 4, 5, 5), (4, 2, 3, 2), {"stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2),
                                  "dilation": (1, 2)}),
    ((2, 4, 5, 5), (4, 3, 3, 3), {"groups": 2, "stride": 2}),
    ((4, 5, 5), (4, 2, 3, 3), {"dilation": 2, "padding": 2}),  # unbatched
    ((2, 4, 3, 3), (4, 3, 1, 1), {"stride": 3, "output_padding": 2}),  # rows no window reaches
]


@pytest.mark.parametrize(("x_shape", "w_shape", "kwargs"), CONV_TRANSPOSE2D)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose2d_matches_torch(x_shape, w_shape, kwargs, bias, rng):
    inputs = [normal(rng, x_shape), normal(rng, w_shape)]
    inputs += [normal(rng, (w_shape[1] * kwargs.get("groups", 1),))] if bias else []
    same(lambda F, *t: F.conv_transpose2d(*t, **kwargs), *inputs, atol=1e-4)


@pytest.mark.parametrize("kwargs", [{}, {"stride": 2, "padding": 1, "output_padding": 1},
                                    {"dilation": 2, "groups": 2}])
def test_conv_transpose1d_matches_torch(kwargs, rng):
    inputs = [normal(rng, (2, 4, 7)), normal(rng, (4, 3, 3)),
              normal(rng, (3 * kwargs.get("groups", 1),))]
    same(lambda F, *t: F.conv_transpose1d(*t, **kwargs), *inputs, atol=1e-4)


def test_conv_transpose_errors_name_torchs_shapes():
    x = shenjing.randn(1, 4, 5, 5)
    with pytest.raises(ValueError, match="groups=3 must be a positive divisor"):
        SF.conv_transpose2d(x, shenjing.randn(4, 2, 3, 3), groups=3)
    with pytest.raises(ValueError, match="has 4 channels, but the weight .* takes 3"):
        SF.conv_transpose2d(x, shenjing.randn(3, 2, 3, 3))
    with pytest.raises(ValueError, match="output_padding .* smaller than"):
        SF.conv_transpose2d(x, shenjing.randn(4, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ValueError, match="leaves no output"):
        SF.conv_transpose2d(x, shenjing.randn(4, 2, 1, 1), padding=3)


# -- pooling --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2,
                                                         "padding": 1},
                                    {"kernel_size": (2, 3), "stride": 1}, {"kernel_size": 3}])
def test_max_pool2d_matches_torch(kwargs, rng):
    same(lambda F, t: F.max_pool2d(t, **kwargs), distinct(rng, (2, 3, 7, 8)))


@pytest.mark.parametrize("kwargs", [
    {"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
    {"kernel_size": 3, "stride": 1, "padding": 1, "divisor_override": 4},
    {"kernel_size": (2, 3), "stride": (1, 2)}])
def test_avg_pool2d_matches_torch(kwargs, rng):
    same(lambda F, t: F.avg_pool2d(t, **kwargs), normal(rng, (2, 3, 7, 8)))


def test_pool1d_and_unbatched_match_torch(rng):
    same(lambda F, t: F.max_pool1d(t, 3, 2, 1), distinct(rng, (2, 3, 9)))
    same(lambda F, t: F.avg_pool1d(t, 2), normal(rng, (2, 3, 9)))
    same(lambda F, t: F.max_pool2d(t, 2), distinct(rng, (3, 6, 6)))


@pytest.mark.parametrize("size", [1, (1, 1), (2, 3), (3, 3), (None, 2)])
def test_adaptive_avg_pool2d_matches_torch(size, rng):
    same(lambda F, t: F.adaptive_avg_pool2d(t, size), normal(rng, (2, 3, 7, 6)))


def test_adaptive_pools_1d_and_max_match_torch(rng):
    same(lambda F, t: F.adaptive_avg_pool1d(t, 4), normal(rng, (2, 3, 10)))
    same(lambda F, t: F.adaptive_max_pool2d(t, (2, 1)), distinct(rng, (2, 3, 4, 6)))


@pytest.mark.parametrize("size", [(3, 3), (3, 2), (4, None), (5, 4)])
def test_adaptive_max_pool2d_of_sizes_that_do_not_divide_matches_torch(size, rng):
    # torch's overlapping windows (a maximum in two of them gets both gradients); it raised
    same(lambda F, t: F.adaptive_max_pool2d(t, size), distinct(rng, (2, 3, 9, 7)))


# -- interpolate ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {"size": (5, 7)}, {"scale_factor": 2}, {"scale_factor": 1.5}, {"size": (3, 2)},
    {"scale_factor": 2, "mode": "nearest-exact"},
    {"scale_factor": 2, "mode": "bilinear", "align_corners": False},
    {"scale_factor": 2, "mode": "bilinear", "align_corners": True},
    {"size": (5, 9), "mode": "bilinear", "align_corners": False},
    {"size": (3, 2), "mode": "bilinear", "align_corners": True},
    {"size": (1, 5), "mode": "bilinear", "align_corners": True},
    {"scale_factor": 1.7, "mode": "bilinear"},
])
def test_interpolate_2d_matches_torch(kwargs, rng):
    same(lambda F, t: F.interpolate(t, **kwargs), normal(rng, (2, 3, 4, 6)))


@pytest.mark.parametrize("kwargs", [{"scale_factor": 3}, {"size": 7, "mode": "linear"},
                                    {"size": 4, "mode": "linear", "align_corners": True}])
def test_interpolate_1d_matches_torch(kwargs, rng):
    same(lambda F, t: F.interpolate(t, **kwargs), normal(rng, (2, 3, 5)))


def _ones(*shape):
    return shenjing.ones(*shape)


@pytest.mark.parametrize("call, match", [
    # named in torch's layout and names: the channels-last shapes, conv1d's extra axis and
    # Keras's names (moving_mean, kernel) named what the caller never passed
    (lambda: SF.conv2d(_ones(2, 3, 8, 8), _ones(4, 1, 3, 3), groups=3),
     r"groups=3 must be a positive divisor of the weight's out channels \(dim 0 of its "
     r"shape \(4, 1, 3, 3\)\)"),
    (lambda: SF.conv1d(_ones(2, 3, 10), _ones(4, 5, 3)),
     r"conv1d: weight of shape \(4, 5, 3\) .* got input of shape \(2, 3, 10\) \(3 channels\)"),
    (lambda: SF.conv2d(_ones(2, 3, 8, 8), _ones(4, 3, 3, 3), _ones(3)),
     r"conv2d: bias of shape \(3,\), expected \(4,\)"),
    (lambda: SF.batch_norm(_ones(2, 3, 8, 8), shenjing.zeros(4), _ones(4)),
     r"batch_norm: running_mean of shape \(4,\), expected \(3,\) for input of shape "
     r"\(2, 3, 8, 8\)"),
    (lambda: SF.batch_norm(_ones(2, 3), shenjing.zeros(3), None, training=True),
     "give both running_mean and running_var"),
    (lambda: SF.group_norm(_ones(2, 6, 4, 4), 3, weight=_ones(4)),
     r"group_norm: weight of shape \(4,\), expected \(6,\)"),
    (lambda: SF.scaled_dot_product_attention(_ones(2, 4, 8), _ones(2, 5, 6), _ones(2, 5, 6)),
     r"must share E and S, got query \(2, 4, 8\), key \(2, 5, 6\)"),
    (lambda: SF.linear(_ones(2, 4), _ones(5, 3)),
     r"input of shape \(2, 4\) does not match weight of shape \(5, 3\)"),
    (lambda: SF.embedding(shenjing.tensor([1, 2]), _ones(10, 3), padding_idx=10),
     r"padding_idx=10 must index a row of the weight \(10 rows\)"),
])
def test_shape_errors_name_what_the_caller_passed(call, match):
    with pytest.raises(ValueError, match=match):
        call()
