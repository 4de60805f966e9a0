"""Initializers: sample statistics on large shapes, Keras's fans for convolution kernels,
seeding (seeded ones repeat; unseeded ones follow ``set_random_seed``), ``get`` by name and by
config, and the serialize round trip."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import shenjing
from shenjing import initializers as I

SHAPE = (400, 600)  # 240,000 samples: the standard error of a std estimate is ~0.15 %
FAN_IN, FAN_OUT = SHAPE
TRUNC_STD = 0.87962566103423978  # std of a unit normal truncated to [-2, 2]


def test_zeros_ones_constant():
    np.testing.assert_array_equal(I.Zeros()((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(I.Ones()((4,)), np.ones(4))
    np.testing.assert_array_equal(I.Constant(2.5)((2, 2)), np.full((2, 2), 2.5))


@pytest.mark.parametrize("dtype", [None, "float32", "float64"])
def test_initializer_returns_the_shape_and_dtype(dtype):
    out = I.GlorotUniform()((3, 4), dtype)
    assert out.shape == (3, 4) and out.dtype == np.dtype(dtype or "float32")
    assert I.Zeros()(5).shape == (5,)


# (initializer, expected mean, expected std, bound on |x - mean| or None)
_GLOROT_LIMIT = math.sqrt(6 / (FAN_IN + FAN_OUT))
STATS = {
    "random_normal": (I.RandomNormal(mean=1.0, stddev=0.5), 1.0, 0.5, None),
    "random_uniform": (I.RandomUniform(-0.2, 0.4), 0.1, 0.6 / math.sqrt(12), 0.3),
    "truncated_normal": (I.TruncatedNormal(mean=0.5, stddev=0.1), 0.5, 0.1 * TRUNC_STD, 0.2),
    "glorot_uniform": (I.GlorotUniform(), 0.0, _GLOROT_LIMIT / math.sqrt(3), _GLOROT_LIMIT),
    "glorot_normal": (I.GlorotNormal(), 0.0, math.sqrt(2 / (FAN_IN + FAN_OUT)),
                      2 * math.sqrt(2 / (FAN_IN + FAN_OUT)) / TRUNC_STD),
    "he_normal": (I.HeNormal(), 0.0, math.sqrt(2 / FAN_IN), 2 * math.sqrt(2 / FAN_IN) / TRUNC_STD),
    "he_uniform": (I.HeUniform(), 0.0, math.sqrt(2 / FAN_IN), math.sqrt(6 / FAN_IN)),
    "lecun_normal": (I.LecunNormal(), 0.0, math.sqrt(1 / FAN_IN),
                     2 * math.sqrt(1 / FAN_IN) / TRUNC_STD),
    "lecun_uniform": (I.LecunUniform(), 0.0, math.sqrt(1 / FAN_IN), math.sqrt(3 / FAN_IN)),
}


@pytest.mark.parametrize("name", sorted(STATS))
def test_random_initializer_sample_statistics(name):
    init, mean, std, bound = STATS[name]
    x = init(SHAPE).astype(np.float64)
    assert abs(x.mean() - mean) < 5 * std / math.sqrt(x.size) + 1e-7
    np.testing.assert_allclose(x.std(), std, rtol=0.01)
    if bound is not None:
        assert np.abs(x - mean).max() <= bound * (1 + 1e-6)
        assert np.abs(x - mean).max() > 0.97 * bound  # the bound is reached, not undershot


def test_truncated_normal_has_nothing_beyond_two_standard_deviations():
    x = I.TruncatedNormal(stddev=1.0)((1000, 1000))
    assert np.abs(x).max() <= 2.0
    assert (np.abs(x) > 1.9).any()


@pytest.mark.parametrize("shape, fans", [((3, 3, 16, 32), (144, 288)), ((5, 4), (5, 4)),
                                         ((7,), (7, 7)), ((), (1, 1)),
                                         ((2, 3, 4, 5, 6), (120, 144))])
def test_fans_multiply_by_the_receptive_field(shape, fans):
    assert I.compute_fans(shape) == fans


@pytest.mark.parametrize("init, std", [
    (I.HeNormal(), math.sqrt(2 / (3 * 3 * 64))),
    (I.GlorotUniform(), math.sqrt(2 / (3 * 3 * 64 + 3 * 3 * 128))),
    (I.LecunNormal(), math.sqrt(1 / (3 * 3 * 64))),
])
def test_conv_kernel_variance_uses_kh_kw_in_fans(init, std):
    x = init((3, 3, 64, 128))
    np.testing.assert_allclose(x.std(), std, rtol=0.02)


@pytest.mark.parametrize("shape", [(64, 32), (32, 64), (48, 48), (3, 3, 8, 16)])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_orthogonal_is_orthogonal_times_gain(shape, gain):
    q = I.Orthogonal(gain=gain)(shape, "float64")
    assert q.shape == shape
    m = q.reshape(-1, shape[-1])
    small = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(small, gain**2 * np.eye(len(small)), atol=1e-10)
    # C order (NumPy's QR returns Fortran order): optimizer state is made zeros_like the weight
    assert q.flags.c_contiguous


def test_orthogonal_needs_a_matrix():
    with pytest.raises(ValueError, match="rank"):
        I.Orthogonal()((5,))


ALL_RANDOM = [I.RandomNormal, I.RandomUniform, I.TruncatedNormal, I.GlorotUniform,
              I.GlorotNormal, I.HeNormal, I.HeUniform, I.LecunNormal, I.LecunUniform,
              I.Orthogonal, I.VarianceScaling]


@pytest.mark.parametrize("cls", ALL_RANDOM, ids=lambda c: c.__name__)
def test_seeded_initializer_repeats(cls):
    a = cls(seed=3)((6, 5))
    np.testing.assert_array_equal(a, cls(seed=3)((6, 5)))
    np.testing.assert_array_equal(a, cls(seed=3)((6, 5)))
    assert not np.array_equal(a, cls(seed=4)((6, 5)))


@pytest.mark.parametrize("cls", ALL_RANDOM, ids=lambda c: c.__name__)
def test_unseeded_initializer_follows_set_random_seed(cls):
    shenjing.utils.set_random_seed(5)
    first, second = cls()((6, 5)), cls()((6, 5))
    assert not np.array_equal(first, second)  # a fresh stream per call
    shenjing.utils.set_random_seed(5)
    np.testing.assert_array_equal(cls()((6, 5)), first)
    np.testing.assert_array_equal(cls()((6, 5)), second)


def test_set_random_seed_makes_layer_weights_repeat():
    def weights():
        shenjing.utils.set_random_seed(9)
        layer = shenjing.layers.Dense(4)
        layer(np.ones((1, 3)))
        return layer.get_weights()[0]

    np.testing.assert_array_equal(weights(), weights())


@pytest.mark.parametrize("name, cls", [
    ("zeros", I.Zeros), ("ones", I.Ones), ("constant", I.Constant),
    ("random_normal", I.RandomNormal), ("random_uniform", I.RandomUniform),
    ("uniform", I.RandomUniform), ("truncated_normal", I.TruncatedNormal),
    ("glorot_uniform", I.GlorotUniform), ("GlorotUniform", I.GlorotUniform),
    ("glorot_normal", I.GlorotNormal), ("he_normal", I.HeNormal), ("HeNormal", I.HeNormal),
    ("he_uniform", I.HeUniform), ("lecun_normal", I.LecunNormal), ("orthogonal", I.Orthogonal),
    ("Orthogonal", I.Orthogonal), ("xavier_uniform", I.GlorotUniform),
    ("variance_scaling", I.VarianceScaling),
])
def test_get_by_name(name, cls):
    assert type(I.get(name)) is cls


@pytest.mark.parametrize("init", [
    I.Zeros(), I.Ones(), I.Constant(0.3), I.RandomNormal(0.1, 0.2, seed=1),
    I.RandomUniform(-1.0, 2.0, seed=2), I.TruncatedNormal(stddev=0.3, seed=3),
    I.GlorotUniform(seed=4), I.GlorotNormal(), I.HeNormal(seed=5), I.HeUniform(),
    I.LecunNormal(seed=6), I.LecunUniform(), I.Orthogonal(gain=1.5, seed=7),
    I.VarianceScaling(scale=0.5, mode="fan_out", distribution="uniform", seed=8),
], ids=lambda i: type(i).__name__)
def test_serialize_round_trip(init):
    config = json.loads(json.dumps(I.serialize(init)))
    assert config["class_name"] == type(init).__name__
    clone = I.get(config)
    assert type(clone) is type(init) and clone.get_config() == init.get_config()
    if getattr(init, "seed", None) is not None or not init.random:
        np.testing.assert_array_equal(clone((4, 3)), init((4, 3)))


def test_get_passes_instances_and_callables_through():
    init = I.HeNormal()
    assert I.get(init) is init

    def custom(shape, dtype=None):
        return np.full(shape, 7.0, dtype or "float32")

    assert I.get(custom) is custom
    layer = shenjing.layers.Dense(2, kernel_initializer=custom)
    layer(np.ones((1, 3)))
    np.testing.assert_array_equal(layer.kernel.numpy(), 7.0)


@pytest.mark.parametrize("identifier, error", [("glorot_uniformm", ValueError),
                                               ({"class_name": "Nope"}, ValueError),
                                               (3, TypeError)])
def test_get_rejects_unknown_identifiers(identifier, error):
    with pytest.raises(error):
        I.get(identifier)


def test_serialize_rejects_a_plain_callable():
    with pytest.raises(ValueError, match="cannot be saved"):
        I.serialize(lambda shape, dtype=None: np.zeros(shape))


@pytest.mark.parametrize("kwargs", [{"mode": "fan_sum"}, {"distribution": "cauchy"}])
def test_variance_scaling_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        I.VarianceScaling(**kwargs)


def test_keras_names_classes_and_checks():
    np.testing.assert_array_equal(I.get("identity")((2, 3)), np.eye(2, 3))
    assert isinstance(I.get("one"), I.Ones) and isinstance(I.get("zero"), I.Zeros)
    assert isinstance(I.get(I.GlorotUniform), I.GlorotUniform) and I.get(None) is None
    assert I.VarianceScaling(distribution="normal").distribution == "truncated_normal"
    assert I.VarianceScaling(distribution="Uniform").distribution == "uniform"
    for scale in (0.0, -1.0):
        with pytest.raises(ValueError, match="scale must be a positive number"):
            I.VarianceScaling(scale=scale)


def test_a_constant_of_numpy_values_saves(tmp_path):
    import json

    bias = shenjing.initializers.Constant(np.log([0.1]))  # the imbalanced-data output bias
    json.dumps(shenjing.layers.Dense(1, bias_initializer=bias).get_config())
    model = shenjing.Sequential([shenjing.layers.Input((2,)), shenjing.layers.Dense(
        1, bias_initializer=shenjing.initializers.Constant(np.float32(0.5)),
        kernel_constraint=shenjing.constraints.MaxNorm(2.0, axis=np.int64(0)))])
    model.save(tmp_path / "m.shenjing")
    again = shenjing.models.load_model(tmp_path / "m.shenjing")
    np.testing.assert_array_equal(again.layers[-1].bias.numpy(), [0.5])
