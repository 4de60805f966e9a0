"""Attention (Luong) and AdditiveAttention (Bahdanau) against Keras 3's formulas written out in
NumPy, against torch (scaled_dot_product_attention, and the additive score in torch ops) for
values and gradients, gradcheck, masks, dropout, configs and errors."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest

import shenjing as sj
from oracle import require_torch
from shenjing import Tensor, layers


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _keras_reference(layer, query, value, key, query_mask=None, value_mask=None, causal=False):
    """Keras 3's Attention._calculate_scores (or AdditiveAttention's), _calculate_score_mask
    and _apply_scores, in NumPy float64."""
    weights = {p.name: p.numpy().astype(np.float64) for p in layer.weights}
    pairs = query[:, :, None, :] + key[:, None, :, :]
    if isinstance(layer, layers.AdditiveAttention):
        scores = (weights.get("scale", 1.0) * np.tanh(pairs)).sum(-1)
    elif layer.score_mode == "dot":
        scores = query @ key.transpose(0, 2, 1) * weights.get("scale", 1.0)
    else:
        scores = weights["concat_score_weight"] * np.tanh(weights.get("scale", 1.0) * pairs).sum(-1)
    mask = None if value_mask is None else value_mask[:, None, :]
    if causal:
        tri = np.tril(np.ones(scores.shape[1:], bool))[None]
        mask = tri if mask is None else mask & tri
    if mask is not None:
        scores = scores - 1e9 * (~mask)
    probs = _softmax(scores)
    out = probs @ value
    if query_mask is not None:
        out = out * query_mask[..., None]
    return out, probs


LAYERS = {
    "dot": lambda **kw: layers.Attention(**kw),
    "dot_scaled": lambda **kw: layers.Attention(use_scale=True, **kw),
    "concat": lambda **kw: layers.Attention(score_mode="concat", **kw),
    "concat_scaled": lambda **kw: layers.Attention(use_scale=True, score_mode="concat", **kw),
    "additive": lambda **kw: layers.AdditiveAttention(**kw),
    "additive_unscaled": lambda **kw: layers.AdditiveAttention(use_scale=False, **kw),
}


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("with_key", [False, True])
def test_follows_keras_formulas_with_masks(rng, name, with_key):
    layer = LAYERS[name]()
    query = rng.standard_normal((2, 4, 3))
    value = rng.standard_normal((2, 5, 6 if with_key else 3))
    key = rng.standard_normal((2, 5, 3)) if with_key else value
    inputs = [query, value, key] if with_key else [query, value]
    layer([x.astype(np.float32) for x in inputs])  # build, then give the scalars other values
    for p in layer.weights:
        p.assign(rng.uniform(0.5, 1.5, p.shape).astype(np.float32))
    query_mask = np.array([[1, 1, 1, 0], [1, 0, 1, 1]], bool)
    value_mask = np.array([[1, 1, 0, 1, 0], [1, 1, 1, 1, 1]], bool)
    for masks, causal in (((None, None), False), ((query_mask, value_mask), False),
                          ((None, value_mask), True)):
        out, probs = layer([x.astype(np.float32) for x in inputs],
                           mask=None if masks[0] is None and masks[1] is None else list(masks),
                           return_attention_scores=True, use_causal_mask=causal)
        want_out, want_probs = _keras_reference(layer, query, value, key, *masks, causal=causal)
        np.testing.assert_allclose(out.numpy(), want_out, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(probs.numpy(), want_probs, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", list(LAYERS))
def test_gradients_match_finite_differences(rng, name):
    layer = LAYERS[name](dtype="float64")
    query, value, key = (rng.standard_normal(s) for s in ((2, 3, 4), (2, 5, 2), (2, 5, 4)))
    mask = [np.array([[1, 1, 0], [1, 1, 1]], bool), np.array([[1, 0, 1, 1, 1]] * 2, bool)]
    assert sj.gradcheck(lambda q, v, k: layer([q, v, k], mask=mask, use_causal_mask=True),
                        query, value, key)


def test_attention_matches_torch_scaled_dot_product_attention(rng):
    torch = require_torch()
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in ((2, 4, 3), (2, 5, 3),
                                                                   (2, 5, 6)))
    value_mask = rng.random((2, 5)) < 0.7
    value_mask[:, 0] = True  # every query sees a key (torch gives NaN for none)
    layer = layers.Attention(use_scale=True)
    tensors = [Tensor(x, requires_grad=True) for x in (q, v, k)]
    layer(tensors)
    layer.scale.assign(np.float32(0.6))
    out = layer(tensors, mask=[None, value_mask], use_causal_mask=False)
    out.sum().backward()
    tq, tk, tv = (torch.tensor(x, requires_grad=True) for x in (q, k, v))
    want = torch.nn.functional.scaled_dot_product_attention(
        tq, tk, tv, attn_mask=torch.tensor(value_mask[:, None, :]), scale=0.6)
    want.sum().backward()
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-6)
    for mine, theirs in zip(tensors, (tq, tv, tk)):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-4, atol=1e-5)
    causal = layer([q, v, k], use_causal_mask=True)  # torch's is_causal: tril(ones(Tq, Tv))
    want = torch.nn.functional.scaled_dot_product_attention(
        torch.tensor(q), torch.tensor(k), torch.tensor(v), is_causal=True, scale=0.6)
    np.testing.assert_allclose(causal.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


def test_additive_attention_scale_gradient_matches_torch(rng):
    torch = require_torch()
    q, v = rng.standard_normal((2, 3, 4)).astype(np.float32), rng.standard_normal(
        (2, 5, 4)).astype(np.float32)
    layer = layers.AdditiveAttention()
    out = layer([q, v])
    out.sum().backward()
    tq, tv = torch.tensor(q), torch.tensor(v)
    scale = torch.tensor(layer.scale.numpy(), requires_grad=True)
    scores = (scale * torch.tanh(tq[:, :, None] + tv[:, None])).sum(-1)
    want = torch.softmax(scores, -1) @ tv
    want.sum().backward()
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.scale.grad.numpy(), scale.grad.numpy(), rtol=1e-4,
                               atol=1e-6)
    limit = np.sqrt(6.0 / (4 + 4))  # Keras's Glorot fans of a (dim,) weight
    assert np.abs(layer.scale.numpy()).max() <= limit


def test_embedding_masks_flow_in_and_the_query_mask_out(rng):
    ids_q = np.array([[3, 1, 0], [2, 0, 0]])
    ids_v = np.array([[4, 4, 2, 0], [1, 3, 0, 0]])
    emb = layers.Embedding(6, 4, mask_zero=True)
    layer = layers.Attention()
    out, probs = layer([emb(ids_q), emb(ids_v)], return_attention_scores=True)
    np.testing.assert_array_equal(probs.numpy()[ids_v[:, None, :].repeat(3, 1) == 0], 0.0)
    np.testing.assert_array_equal(out.numpy()[ids_q == 0], 0.0)  # masked queries output zeros
    np.testing.assert_array_equal(out._keras_mask, ids_q != 0)
    inputs = [sj.Input((3,), dtype="int64"), sj.Input((4,), dtype="int64")]
    embedded = [emb(x) for x in inputs]
    model = sj.Model(inputs, layers.Attention()(embedded))
    np.testing.assert_allclose(model.predict([ids_q, ids_v], verbose=0),
                               layers.Attention()([emb(ids_q), emb(ids_v)]).numpy(), rtol=1e-6)


def test_dropout_only_in_training(rng):
    q, v = rng.standard_normal((2, 3, 4)).astype(np.float32), rng.standard_normal(
        (2, 6, 4)).astype(np.float32)
    layer = layers.Attention(dropout=0.5, seed=1)
    _, plain = layer([q, v], return_attention_scores=True)
    _, dropped = layer([q, v], return_attention_scores=True, training=True)
    kept = dropped.numpy() != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(dropped.numpy()[kept], 2 * plain.numpy()[kept], rtol=1e-6)


# Keras 3's constructor arguments, in order
_KERAS_ARGS = {"Attention": ["use_scale", "score_mode", "dropout", "seed"],
               "AdditiveAttention": ["use_scale", "dropout"]}


@pytest.mark.parametrize("name", list(_KERAS_ARGS))
def test_keras_arguments_configs_and_saving(tmp_path, rng, name):
    cls = getattr(layers, name)
    params = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "kwargs")]
    assert params == _KERAS_ARGS[name]
    layer = cls(use_scale=True, dropout=0.25, seed=3)
    config = json.loads(json.dumps(layer.get_config()))
    keras_keys = {"use_scale", "dropout", "name", "trainable", "dtype"} | (
        {"score_mode"} if name == "Attention" else set())
    assert set(config) == keras_keys | {"seed"}
    assert cls.from_config(config).get_config() == config
    q, v = sj.Input((3, 4)), sj.Input((5, 4))
    model = sj.Model([q, v], cls(use_scale=True)([q, v]))
    x = [rng.standard_normal((2, 3, 4)).astype(np.float32),
         rng.standard_normal((2, 5, 4)).astype(np.float32)]
    model.save(tmp_path / "m.keras")
    again = sj.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_errors_name_what_was_wrong():
    q, v = np.ones((2, 3, 4), np.float32), np.ones((2, 5, 4), np.float32)
    with pytest.raises(ValueError, match="score_mode must be 'dot' or 'concat', got 'add'"):
        layers.Attention(score_mode="add")
    with pytest.raises(ValueError, match=r"'att' \(Attention\) takes inputs as \[query, value\] "
                                         r"or \[query, value, key\], got one tensor"):
        layers.Attention(name="att")(q)
    with pytest.raises(ValueError, match="got a list of 4"):
        layers.AdditiveAttention()([q, v, v, v])
    with pytest.raises(ValueError, match=r"key with the value's steps and the query's features"):
        layers.Attention()([q, v, np.ones((2, 5, 3), np.float32)])
    with pytest.raises(ValueError, match=r"takes mask as \[query_mask, value_mask\]"):
        layers.Attention()([q, v], mask=np.ones((2, 5), bool))
    with pytest.raises(ValueError, match=r"query of shape \(batch, steps, features\)"):
        layers.Attention()([np.ones((2, 4), np.float32), v])
