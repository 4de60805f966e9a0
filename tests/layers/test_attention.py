"""MultiHeadAttention against Keras 3's formulas (NumPy einsum, as Keras writes them) and
against torch's nn.MultiheadAttention (values and gradients), masks included."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest

import shenjing as sj
from shenjing import Tensor, layers


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _keras_reference(mha, query, value, key, mask, fused=False):
    """Keras 3's MultiHeadAttention in NumPy: its EinsumDense equations and masked softmax, on
    its explicit path (the Softmax layer multiplies by the mask) or, ``fused``, on the path of
    dot_product_attention (JAX, TensorFlow, NumPy: -1e9 only)."""
    w = {n: getattr(mha, n).numpy().astype(np.float64) for n in (
        "query_kernel", "query_bias", "key_kernel", "key_bias", "value_kernel", "value_bias",
        "output_kernel", "output_bias")}
    q = np.einsum("abc,cde->abde", query, w["query_kernel"]) + w["query_bias"]
    k = np.einsum("abc,cde->abde", key, w["key_kernel"]) + w["key_bias"]
    v = np.einsum("abc,cde->abde", value, w["value_kernel"]) + w["value_bias"]
    q = q / np.sqrt(mha.key_dim)
    scores = np.einsum("aecd,abcd->acbe", k, q)
    if mask is not None:
        scores = scores + (1.0 - mask[:, None]) * -1e9
    probs = _softmax(scores)
    if mask is not None and not fused:
        probs = probs * mask[:, None]
    out = np.einsum("acbe,aecd->abcd", probs, v)
    return np.einsum("abcd,cde->abe", out, w["output_kernel"]) + w["output_bias"], probs


def test_multi_head_attention_follows_keras_formulas(rng):
    query = rng.standard_normal((2, 5, 6)).astype(np.float32)
    value = rng.standard_normal((2, 4, 3)).astype(np.float32)
    key = rng.standard_normal((2, 4, 7)).astype(np.float32)
    mha = layers.MultiHeadAttention(num_heads=3, key_dim=4, value_dim=2, output_shape=8,
                                    bias_initializer="random_normal")
    attention_mask = rng.random((2, 5, 4)) < 0.7
    out, probs = mha(query, value, key, attention_mask=attention_mask,
                     return_attention_scores=True)
    assert out.shape == (2, 5, 8) and probs.shape == (2, 3, 5, 4)
    assert [w.shape for w in mha.weights] == [(6, 3, 4), (3, 4), (7, 3, 4), (3, 4), (3, 3, 2),
                                              (3, 2), (3, 2, 8), (8,)]
    want_out, want_probs = _keras_reference(mha, query, value, key,
                                            attention_mask.astype(np.float64))
    np.testing.assert_allclose(out.numpy(), want_out, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(probs.numpy(), want_probs, rtol=1e-4, atol=1e-6)
    # Keras's Glorot fans for a (dim, heads, head_dim) kernel: dim * heads in, dim * head_dim out
    limit = np.sqrt(6.0 / (6 * 3 + 6 * 4))
    assert np.abs(mha.query_kernel.numpy()).max() <= limit


def test_causal_mask_and_embedding_masks(rng):
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    x = rng.standard_normal((2, 5, 4)).astype(np.float32)
    _, probs = mha(x, x, use_causal_mask=True, return_attention_scores=True)
    np.testing.assert_array_equal(np.triu(probs.numpy(), 1), 0.0)  # nothing from the future
    np.testing.assert_allclose(probs.numpy().sum(-1), 1.0, rtol=1e-6)
    # padded steps (id 0) of an Embedding(mask_zero=True) are never attended to
    ids = np.array([[3, 1, 2, 0, 0], [4, 4, 1, 2, 5]])
    emb = layers.Embedding(6, 4, mask_zero=True)
    e = emb(ids)
    out, probs = mha(e, e, return_attention_scores=True)
    assert np.all(probs.numpy()[0, :, :3, 3:] < 1e-8)
    alone = mha(emb(ids[:1, :3]), emb(ids[:1, :3]))  # the first sequence without its padding
    np.testing.assert_allclose(out.numpy()[0, :3], alone.numpy()[0], rtol=1e-5, atol=1e-6)
    mask = mha(e, e)._keras_mask  # the query's mask goes on
    np.testing.assert_array_equal(getattr(mask, "data", mask), ids != 0)


def test_matches_torch_multihead_attention_values_and_gradients(rng):
    from oracle import require_torch

    torch = require_torch()
    heads, head_dim = 2, 3
    dim = heads * head_dim  # torch splits the model width among the heads
    query = rng.standard_normal((2, 4, dim)).astype(np.float32)
    value = rng.standard_normal((2, 5, dim)).astype(np.float32)
    mask = rng.random((2, 4, 5)) < 0.8
    mask[:, :, 0] = True  # every query sees something (torch gives NaN for none)
    mha = layers.MultiHeadAttention(num_heads=heads, key_dim=head_dim,
                                    bias_initializer="random_normal")
    q, v = Tensor(query, requires_grad=True), Tensor(value, requires_grad=True)
    out, probs = mha(q, v, attention_mask=mask, return_attention_scores=True)
    out.sum().backward()

    ref = torch.nn.MultiheadAttention(dim, heads, batch_first=True)
    in_w = [getattr(mha, f"{n}_kernel").numpy().reshape(dim, dim).T for n in ("query", "key",
                                                                              "value")]
    in_b = [getattr(mha, f"{n}_bias").numpy().reshape(dim) for n in ("query", "key", "value")]
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.tensor(np.concatenate(in_w)))
        ref.in_proj_bias.copy_(torch.tensor(np.concatenate(in_b)))
        ref.out_proj.weight.copy_(torch.tensor(mha.output_kernel.numpy().reshape(dim, dim).T))
        ref.out_proj.bias.copy_(torch.tensor(mha.output_bias.numpy()))
    tq = torch.tensor(query, requires_grad=True)
    tv = torch.tensor(value, requires_grad=True)
    torch_mask = torch.tensor(~mask).repeat_interleave(heads, 0)  # True = may not attend
    t_out, t_probs = ref(tq, tv, tv, attn_mask=torch_mask, average_attn_weights=False)
    t_out.sum().backward()
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(probs.numpy(), t_probs.detach().numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(q.grad.numpy(), tq.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(v.grad.numpy(), tv.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mha.output_bias.grad.numpy(), ref.out_proj.bias.grad.numpy(),
                               rtol=1e-4, atol=1e-5)


def test_config_round_trip_and_saving_in_a_model(tmp_path, rng):
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.1, seed=1)
    config = json.loads(json.dumps(mha.get_config()))
    assert {"num_heads": 2, "key_dim": 4, "value_dim": 4, "dropout": 0.1}.items() <= config.items()
    assert layers.MultiHeadAttention.from_config(config).get_config() == config
    inputs = sj.Input(shape=(5, 8))
    outputs = layers.MultiHeadAttention(num_heads=2, key_dim=4)(inputs, inputs)
    model = sj.Model(inputs, outputs)
    x = rng.standard_normal((3, 5, 8)).astype(np.float32)
    model.save(tmp_path / "m.keras")
    again = sj.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


# Keras 3's constructor arguments in their order, and the keys of its get_config
_KERAS_ARGS = ["num_heads", "key_dim", "value_dim", "dropout", "use_bias", "output_shape",
               "attention_axes", "flash_attention", "kernel_initializer", "bias_initializer",
               "kernel_regularizer", "bias_regularizer", "activity_regularizer",
               "kernel_constraint", "bias_constraint", "seed"]


def test_keras_arguments_order_and_a_keras_config_loads():
    params = inspect.signature(layers.MultiHeadAttention.__init__).parameters
    assert [p for p in params if p not in ("self", "kwargs")] == _KERAS_ARGS
    keras_config = {  # as Keras 3's get_config writes it (no flash_attention there)
        "name": "mha", "trainable": True, "dtype": "float32", "num_heads": 2, "key_dim": 3,
        "value_dim": 3, "dropout": 0.0, "use_bias": True, "output_shape": None,
        "attention_axes": None, "kernel_initializer": "glorot_uniform",
        "bias_initializer": "zeros", "kernel_regularizer": None, "bias_regularizer": None,
        "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None,
        "seed": None}
    config = layers.MultiHeadAttention.from_config(keras_config).get_config()
    assert set(keras_config) - {"activity_regularizer"} <= set(config)  # listed when given
    mha = layers.MultiHeadAttention(2, 3, kernel_constraint="max_norm", bias_constraint="non_neg")
    config = json.loads(json.dumps(mha.get_config()))
    assert config["kernel_constraint"] == {"class_name": "MaxNorm",
                                           "config": {"max_value": 2.0, "axis": 0}}
    assert config["bias_constraint"] == {"class_name": "NonNeg", "config": {}}
    assert config["flash_attention"] is None
    assert layers.MultiHeadAttention.from_config(config).get_config() == config


def test_constraints_hold_every_projection_after_an_optimizer_step(rng):
    mha = layers.MultiHeadAttention(2, 3, kernel_constraint=sj.constraints.MaxNorm(0.2),
                                    bias_constraint=sj.constraints.NonNeg(),
                                    bias_initializer="random_normal")
    x = rng.standard_normal((2, 4, 5)).astype(np.float32)
    mha(x, x)
    opt = sj.optimizers.SGD(learning_rate=1.0, params=mha.trainable_weights)
    (mha(x, x) ** 2).mean().backward()
    opt.step()
    kernels = [p for p in mha.weights if p.name.endswith("_kernel")]
    biases = [p for p in mha.weights if p.name.endswith("_bias")]
    assert len(kernels) == len(biases) == 4
    for k in kernels:  # Keras's EinsumDense kernels: each column's norm over axis 0
        assert np.sqrt((k.numpy() ** 2).sum(axis=0)).max() <= 0.2 + 1e-6
    assert all((b.numpy() >= 0).all() for b in biases)


def test_flash_attention_is_a_hint_with_keras_rules(rng):
    x = rng.standard_normal((2, 4, 6)).astype(np.float32)
    plain = layers.MultiHeadAttention(2, 3)
    flash = layers.MultiHeadAttention(2, 3, flash_attention=True)
    plain(x, x)
    flash(x, x)
    flash.set_weights(plain.get_weights())
    np.testing.assert_array_equal(flash(x, x).numpy(), plain(x, x).numpy())
    with pytest.raises(ValueError, match="dropout is not supported with flash_attention"):
        layers.MultiHeadAttention(2, 3, dropout=0.1, flash_attention=True)
    with pytest.raises(ValueError, match="return_attention_scores=True is not supported"):
        flash(x, x, return_attention_scores=True)


def test_compute_output_shape_takes_keras_shapes_and_builds_nothing():
    mha = layers.MultiHeadAttention(2, 3)
    assert mha.compute_output_shape((None, 4, 6), (None, 5, 6)) == (None, 4, 6)
    assert mha.compute_output_shape([None, 4, 6], [None, 5, 2], [None, 5, 7]) == (None, 4, 6)
    assert mha.weights == []
    wide = layers.MultiHeadAttention(2, 3, output_shape=8)
    assert wide.compute_output_shape((None, 4, 6), (None, 5, 6)) == (None, 4, 8)
    q, v = sj.Input((4, 6)), sj.Input((5, 2))
    assert wide(q, v).shape == wide.compute_output_shape(q.shape, v.shape)  # as when called
    with pytest.raises(ValueError, match=r"value_shape=\(None, 5, 6\) and key_shape="
                                         r"\(None, 3, 6\)"):
        mha.compute_output_shape((None, 4, 6), (None, 5, 6), (None, 3, 6))


def test_a_query_that_sees_no_key_gets_what_keras_gives_on_each_path(rng):
    """Keras 3 computes attention scores with its Softmax layer, which multiplies by the mask
    (a fully masked row: zeros, so the output is the output bias); its fused path, taken
    without scores or dropout, leaves such a row uniform (JAX, TensorFlow, NumPy backends)."""
    ids = np.array([[3, 1, 2, 0, 0]])
    e = layers.Embedding(6, 4, mask_zero=True)(ids)
    mha = layers.MultiHeadAttention(2, 3, bias_initializer="random_normal")
    out, probs = mha(e, e, return_attention_scores=True)
    x = e.numpy().astype(np.float64)
    mask = ((ids != 0)[:, :, None] & (ids != 0)[:, None, :]).astype(np.float64)
    want_out, want_probs = _keras_reference(mha, x, x, x, mask)
    np.testing.assert_allclose(probs.numpy(), want_probs, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(probs.numpy()[0, :, 3:], 0.0)  # the padded queries
    np.testing.assert_allclose(out.numpy(), want_out, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out.numpy()[0, 3:], np.tile(mha.output_bias.numpy(), (2, 1)),
                               rtol=1e-6)
    fused_out, fused_probs = _keras_reference(mha, x, x, x, mask, fused=True)
    np.testing.assert_allclose(mha(e, e).numpy(), fused_out, rtol=1e-4, atol=1e-5)
    # uniform: exactly in float32, where -1e9 swamps the scores
    np.testing.assert_allclose(fused_probs[0, :, 3:], 0.2, atol=1e-3)


def test_a_row_masked_whole_in_float16_is_not_nan():
    """Keras's large negative number is -3e4 in float16 (-1e9 is -inf there: NaN rows)."""
    x = sj.tensor(np.array([[1.0, 2.0]], np.float16), dtype=sj.float16)
    out = sj.layers.Softmax(dtype="float16")(x, mask=np.array([[False, False]]))
    np.testing.assert_allclose(out.numpy(), [[0.5, 0.5]])
