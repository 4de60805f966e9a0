"""ZeroPadding2D, Cropping2D and UpSampling2D (nearest and bilinear): values and gradients
against torch (F.pad, slicing, F.interpolate) on NHWC images, Keras's argument forms, shapes
in the functional API, a fit through them, save and load, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from oracle import assert_same_as_torch, require_torch
from shenjing import layers as L
from shenjing.models import load_model


def _nchw(t):
    return t.permute(0, 3, 1, 2)


def _nhwc(t):
    return t.permute(0, 2, 3, 1)


# -- ZeroPadding2D -------------------------------------------------------------------------------
@pytest.mark.parametrize("padding, sides", [
    (1, ((1, 1), (1, 1))),
    ((2, 0), ((2, 2), (0, 0))),
    (((1, 0), (2, 3)), ((1, 0), (2, 3))),
    ([[0, 2], 1], ((0, 2), (1, 1))),
])
def test_zero_padding2d_matches_torch_pad(padding, sides, rng):
    th = require_torch()
    (top, bottom), (left, right) = sides
    layer = L.ZeroPadding2D(padding)
    assert layer.padding == sides
    assert_same_as_torch(lambda t: layer(t), [rng.standard_normal((2, 3, 4, 5))],
                         lambda t: th.nn.functional.pad(t, (0, 0, left, right, top, bottom)))


def test_zero_padding2d_default_is_one_pixel_of_zeros():
    y = L.ZeroPadding2D()(np.ones((1, 2, 2, 1), np.float32)).numpy()[0, ..., 0]
    np.testing.assert_array_equal(y, [[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]])


# -- Cropping2D ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cropping, sides", [
    (1, ((1, 1), (1, 1))),
    ((0, 2), ((0, 0), (2, 2))),
    (((1, 2), (0, 3)), ((1, 2), (0, 3))),
])
def test_cropping2d_matches_torch_slicing(cropping, sides, rng):
    (top, bottom), (left, right) = sides
    layer = L.Cropping2D(cropping)
    assert layer.cropping == sides
    assert_same_as_torch(lambda t: layer(t), [rng.standard_normal((2, 6, 7, 3))],
                         lambda t: t[:, top:6 - bottom, left:7 - right])


def test_cropping2d_undoes_zero_padding2d(rng):
    x = rng.standard_normal((2, 3, 4, 2)).astype(np.float32)
    sides = ((1, 2), (3, 0))
    y = L.Cropping2D(sides)(L.ZeroPadding2D(sides)(x))
    np.testing.assert_array_equal(y.numpy(), x)
    assert L.Cropping2D()(x).numpy().shape == x.shape  # Keras's default crops nothing


# -- UpSampling2D --------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [2, (1, 3), (3, 2)])
def test_up_sampling2d_nearest_matches_torch_and_keras_repeat(size, rng):
    th = require_torch()
    sh, sw = (size, size) if isinstance(size, int) else size
    x = rng.standard_normal((2, 3, 4, 5))
    layer = L.UpSampling2D(size)
    np.testing.assert_array_equal(layer(x).numpy(),
                                  np.repeat(np.repeat(x, sh, 1), sw, 2).astype(np.float32))
    assert_same_as_torch(lambda t: layer(t), [x], lambda t: _nhwc(th.nn.functional.interpolate(
        _nchw(t), scale_factor=(sh, sw), mode="nearest")))


@pytest.mark.parametrize("size, shape", [(2, (2, 3, 4, 5)), ((3, 2), (1, 4, 3, 2)),
                                         ((1, 4), (2, 1, 5, 3))])
def test_up_sampling2d_bilinear_matches_torch(size, shape, rng):
    th = require_torch()
    layer = L.UpSampling2D(size, interpolation="Bilinear")
    assert layer.interpolation == "bilinear"
    assert_same_as_torch(
        lambda t: layer(t), [rng.standard_normal(shape)],
        lambda t: _nhwc(th.nn.functional.interpolate(_nchw(t), scale_factor=layer.size,
                                                     mode="bilinear", align_corners=False)))


def test_up_sampling2d_bilinear_keeps_constants_and_dtype():
    x = np.full((1, 3, 2, 2), 7.0)
    y = L.UpSampling2D(3, interpolation="bilinear", dtype="float64")(x)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), np.full((1, 9, 6, 2), 7.0), rtol=1e-12)


# -- in models -----------------------------------------------------------------------------------
def test_shapes_in_the_functional_api():
    inputs = sj.Input((5, 6, 3))
    padded = L.ZeroPadding2D(((1, 0), (2, 2)))(inputs)
    assert padded.shape == (None, 6, 10, 3)
    assert L.Cropping2D((1, 2))(padded).shape == (None, 4, 6, 3)
    assert L.UpSampling2D((2, 3))(padded).shape == (None, 12, 30, 3)


def _model(interpolation="nearest"):
    return sj.Sequential([
        sj.Input((4, 4, 1)),
        L.ZeroPadding2D(1),
        L.Conv2D(4, 3, activation="relu"),
        L.UpSampling2D(2, interpolation=interpolation),
        L.Cropping2D(((1, 1), (2, 0))),
        L.Conv2D(2, 3, strides=2),
        L.Flatten(),
        L.Dense(1),
    ])


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_fit_through_the_layers_then_save_and_load(tmp_path, rng, interpolation):
    x = rng.standard_normal((48, 4, 4, 1)).astype(np.float32)
    y = x[:, 1:3, 1:3, 0].sum(axis=(1, 2))[:, None]
    sj.utils.set_random_seed(0)
    model = _model(interpolation)
    model.compile(sj.optimizers.Adam(0.01), "mse")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, batch_size=16, epochs=15, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.3 * before
    model.save(tmp_path / "m.shenjing")
    loaded = load_model(tmp_path / "m.shenjing")
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert loaded.layers[2].interpolation == interpolation
    assert loaded.layers[3].cropping == ((1, 1), (2, 0))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


# -- bad arguments ---------------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, message", [
    (lambda: L.ZeroPadding2D(-1), ValueError, "padding must be a non-negative int, got -1"),
    (lambda: L.ZeroPadding2D(1.5), ValueError, r"padding must be an int, a tuple of 2 ints"),
    (lambda: L.ZeroPadding2D((1, 2, 3)), ValueError, r"padding must be an int, a tuple of 2"),
    (lambda: L.ZeroPadding2D(((1, 2), (3, -1))), ValueError,
     r"padding\[1\] must be a non-negative int or a pair of non-negative ints, got \(3, -1\)"),
    (lambda: L.ZeroPadding2D(data_format="channels_first"), ValueError, "channels_last"),
    (lambda: L.Cropping2D((1, (2, 3, 4))), ValueError, r"cropping\[1\] must be a non-negative"),
    (lambda: L.UpSampling2D(0), ValueError, "size must be a positive int or a pair"),
    (lambda: L.UpSampling2D((2, 2.0)), ValueError, "size must be a positive int or a pair"),
    (lambda: L.UpSampling2D(interpolation="bicubic"), NotImplementedError,
     "'bicubic' is not implemented; use one of"),
    (lambda: L.UpSampling2D(interpolation="cubic"), ValueError,
     "interpolation must be one of .*'nearest', 'bilinear'.*got 'cubic'"),
])
def test_bad_arguments_name_what_was_wrong(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_bad_inputs_name_the_layer(rng):
    with pytest.raises(ValueError, match=r"Layer 'crop' \(Cropping2D\) cannot crop .* height 3"):
        L.Cropping2D(((1, 2), (0, 0)), name="crop")(rng.standard_normal((1, 3, 5, 1)))
    for layer in (L.ZeroPadding2D(), L.Cropping2D(), L.UpSampling2D()):
        with pytest.raises(ValueError, match=rf"\({type(layer).__name__}\) expected input with "
                                             r"4 axes, got input of shape \(2, 3, 4\)"):
            layer(rng.standard_normal((2, 3, 4)))
