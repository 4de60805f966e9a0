"""keras.io's "Understanding masking & padding" (Keras 3): masks on symbolic tensors while a
functional model is built (the guide's TemporalSoftmax asserts its call gets one), one mask per
output of a layer returning several (TemporalSplit), and Keras 3's rule that a custom layer
passes a mask on only if it sets ``supports_masking`` or defines ``compute_mask``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import shenjing as keras
from shenjing import Tensor, ops
from shenjing import layers as L
from shenjing.layers import SymbolicTensor


class TemporalSoftmax(L.Layer):  # the guide's, word for word but for the imports
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        assert mask is not None
        broadcast_float_mask = ops.expand_dims(ops.cast(mask, "float32"), -1)
        inputs_exp = ops.exp(inputs) * broadcast_float_mask
        inputs_sum = ops.sum(inputs_exp * broadcast_float_mask, axis=-1, keepdims=True)
        return inputs_exp / inputs_sum


class TemporalSplit(L.Layer):  # the guide's: two halves along time, each with its mask
    def call(self, inputs):
        return ops.split(inputs, 2, axis=1)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        return ops.split(mask, 2, axis=1)


class MyActivation(L.Layer):  # the guide's opt-in to mask propagation
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return ops.relu(inputs)


class Plain(L.Layer):  # neither supports_masking nor compute_mask: Keras 3 drops the mask
    def call(self, inputs):
        return inputs * 2.0


def _ids(rng, batch=3, steps=6):
    ids = rng.integers(1, 10, (batch, steps))
    ids[0, 4:] = 0
    ids[1, 2:] = 0
    return ids


# -- masks while a functional model is built ---------------------------------------------------
def test_embedding_gives_a_symbolic_tensor_a_symbolic_mask():
    x = L.Embedding(10, 4, mask_zero=True)(keras.Input((None,), dtype="int32"))
    assert isinstance(x._keras_mask, SymbolicTensor)
    assert x._keras_mask.shape == (None, None) and x._keras_mask.dtype == np.bool_
    assert L.Embedding(10, 4)(keras.Input((None,), dtype="int32"))._keras_mask is None
    fixed = L.Embedding(10, 4, mask_zero=True)(keras.Input((7,), dtype="int32"))
    assert fixed._keras_mask.shape == (None, 7)
    # the mask travels through layers that keep the steps, and ends at one that does not
    h = L.Dense(3)(x)
    assert h._keras_mask.shape == (None, None)
    assert L.LSTM(2)(h)._keras_mask is None


def test_guide_temporal_softmax_gets_a_mask_while_built_and_when_run(rng):
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = L.Embedding(input_dim=10, output_dim=32, mask_zero=True)(inputs)
    x = L.Dense(1)(x)
    outputs = TemporalSoftmax()(x)  # its call asserts a mask: it gets one while built
    assert outputs._keras_mask is not None
    model = keras.Model(inputs, outputs)
    ids = _ids(rng)
    with np.errstate(invalid="ignore"):  # the guide's toy divides 0 by 0 at padded steps
        out = model(ids)
    y, real = out.numpy()[..., 0], ids != 0
    assert np.isnan(y[~real]).all()
    # each real step is its own softmax over one feature, so 1 (the guide's toy)
    np.testing.assert_allclose(y[real], 1.0, rtol=1e-6)
    np.testing.assert_array_equal(out._keras_mask, real)


def test_a_built_model_computes_what_its_layers_compute_eagerly(rng):
    emb, dense, act, lstm = (L.Embedding(10, 4, mask_zero=True), L.Dense(5), MyActivation(),
                             L.LSTM(3, return_sequences=True))
    inputs = keras.Input((None,), dtype="int32")
    model = keras.Model(inputs, lstm(act(dense(emb(inputs)))))
    ids = _ids(rng)
    eager = lstm(act(dense(emb(ids))))
    explicit = lstm(act(dense(emb(ids))), mask=ids != 0)
    np.testing.assert_allclose(model(ids).numpy(), eager.numpy(), rtol=1e-6)
    np.testing.assert_allclose(eager.numpy(), explicit.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(model.predict(ids, verbose=0), eager.numpy())


def test_a_symbolic_mask_passed_explicitly_is_a_tensor_of_the_graph(rng):
    inputs = keras.Input((None,), dtype="int32")
    x = L.Embedding(10, 4, mask_zero=True)(inputs)
    h = L.Dense(4)(x)
    y = L.LSTM(3)(h, mask=x._keras_mask)
    model = keras.Model(inputs, y)
    ids = _ids(rng)
    reference = model.layers[3](model.layers[2](model.layers[1](ids)), mask=ids != 0)
    np.testing.assert_allclose(model(ids).numpy(), reference.numpy(), rtol=1e-6)
    # saved and rebuilt: the mask node comes back
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(ids).numpy(), model(ids).numpy(), rtol=1e-6)
    # and the mask itself may be an output
    masks = keras.Model(inputs, x._keras_mask)
    np.testing.assert_array_equal(masks(ids), ids != 0)
    model.summary(print_fn=lambda *a, **k: None)


# -- layers with several outputs --------------------------------------------------------------
def test_guide_temporal_split_gives_each_half_its_mask(rng):
    ids = _ids(rng)
    masked = L.Embedding(10, 4, mask_zero=True)(ids)
    first_half, second_half = TemporalSplit()(masked)
    np.testing.assert_array_equal(first_half._keras_mask, ids[:, :3] != 0)
    np.testing.assert_array_equal(second_half._keras_mask, ids[:, 3:] != 0)
    # in the functional graph too: a symbolic mask per output, the right one when run
    inputs = keras.Input((6,), dtype="int32")
    a, b = TemporalSplit()(L.Embedding(10, 4, mask_zero=True)(inputs))
    assert a._keras_mask.shape == (None, 3) and b._keras_mask.shape == (None, 3)
    model = keras.Model(inputs, [L.Dense(2)(a), L.Dense(2)(b)])
    ya, yb = model(ids)
    np.testing.assert_array_equal(ya._keras_mask, ids[:, :3] != 0)
    np.testing.assert_array_equal(yb._keras_mask, ids[:, 3:] != 0)


def test_one_mask_for_several_outputs_goes_with_the_first_as_keras_zips_them(rng):
    # Keras 3's _set_mask_metadata zips the flattened outputs with the flattened masks
    class Twice(L.Layer):
        def call(self, inputs):
            return [inputs, inputs * 2.0]

        def compute_mask(self, inputs, mask=None):
            return mask

    ids = _ids(rng)
    a, b = Twice()(L.Embedding(10, 4, mask_zero=True)(ids))
    np.testing.assert_array_equal(a._keras_mask, ids != 0)
    assert getattr(b, "_keras_mask", None) is None


# -- Keras 3's rule for custom layers ---------------------------------------------------------
def test_a_custom_layer_without_masking_support_drops_the_mask_with_a_warning(rng):
    ids = _ids(rng)
    h = L.Embedding(10, 4, mask_zero=True)(ids)
    with pytest.warns(UserWarning, match="does not support masking"):
        y = Plain()(h)
    assert getattr(y, "_keras_mask", None) is None
    np.testing.assert_allclose(y.numpy(), h.numpy() * 2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Plain()(h.numpy())  # no mask, no warning
        assert MyActivation()(h)._keras_mask is not None  # supports_masking = True
        assert TemporalSplit()(h)[0]._keras_mask is not None  # defines compute_mask
        assert L.Dense(2)(h)._keras_mask is not None  # shenjing's own layers: unchanged
    with pytest.warns(UserWarning, match="does not support masking"):  # while built, too
        x = Plain()(L.Embedding(10, 4, mask_zero=True)(keras.Input((None,), dtype="int32")))
    assert x._keras_mask is None


def test_a_custom_layer_still_receives_the_mask_in_call(rng):
    seen = []

    class Sees(L.Layer):
        supports_masking = True

        def call(self, inputs, mask=None):
            seen.append(mask)
            return inputs

    ids = _ids(rng)
    Sees()(L.Embedding(10, 4, mask_zero=True)(ids))
    np.testing.assert_array_equal(seen[-1], ids != 0)


def test_guide_custom_embedding_and_compute_mask_on_arrays(rng):
    class CustomEmbedding(L.Layer):  # the guide's
        def __init__(self, input_dim, output_dim, mask_zero=False, **kwargs):
            super().__init__(**kwargs)
            self.input_dim, self.output_dim, self.mask_zero = input_dim, output_dim, mask_zero

        def build(self, input_shape):
            self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                              initializer="random_normal", dtype="float32")

        def call(self, inputs):
            return ops.take(self.embeddings, ops.cast(inputs, "int32"), axis=0)

        def compute_mask(self, inputs, mask=None):
            return None if not self.mask_zero else ops.not_equal(inputs, 0)

    ids = _ids(rng)
    y = CustomEmbedding(10, 32, mask_zero=True)(ids)
    assert isinstance(y._keras_mask, np.ndarray)  # an ops Tensor is kept as its array
    np.testing.assert_array_equal(y._keras_mask, ids != 0)
    # compute_mask called directly on a NumPy array (the guide's MyLayer)
    np.testing.assert_array_equal(L.Embedding(10, 3, mask_zero=True).compute_mask(ids), ids != 0)
    x = np.zeros((2, 3, 4), np.float32)
    x[0, 1] = 1.0
    np.testing.assert_array_equal(L.Masking().compute_mask(x), x.any(-1))
    np.testing.assert_array_equal(L.Masking().compute_mask(Tensor(x)), x.any(-1))
