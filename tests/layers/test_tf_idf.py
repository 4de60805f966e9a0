"""output_mode='tf_idf' of StringLookup, IntegerLookup and TextVectorization: Keras's
documented examples (given idf_weights, the OOV ids weighing their mean or the weight given to
'[UNK]'), Keras's idf formula learned by adapt (computed by hand), and the config round trip."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from shenjing import layers as L

_KERAS_OUT = [[0.0, 0.25, 0.0, 0.6, 0.8], [1.0, 0.0, 0.75, 0.0, 0.4]]


def test_string_lookup_tf_idf_keras_examples():
    # keras.io StringLookup: "TF-IDF output"
    layer = L.StringLookup(output_mode="tf_idf", vocabulary=["a", "b", "c", "d"],
                           idf_weights=[0.25, 0.75, 0.6, 0.4])
    data = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]
    np.testing.assert_allclose(layer(data).numpy(), _KERAS_OUT, rtol=1e-6)  # OOV: mean 0.5
    special = L.StringLookup(output_mode="tf_idf", vocabulary=["[UNK]", "a", "b", "c", "d"],
                             idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    expected = np.array(_KERAS_OUT)
    expected[1, 0] = 1.8
    np.testing.assert_allclose(special(data).numpy(), expected, rtol=1e-6)
    # both round-trip through their JSON config (the '[UNK]' weight kept)
    for lookup in (layer, special):
        clone = L.StringLookup.from_config(json.loads(json.dumps(lookup.get_config())))
        np.testing.assert_array_equal(clone(data).numpy(), lookup(data).numpy())


def test_integer_lookup_tf_idf_keras_example_and_padding():
    # keras.io IntegerLookup: "TF-IDF output"
    layer = L.IntegerLookup(output_mode="tf_idf", vocabulary=[12, 36, 1138, 42],
                            idf_weights=[0.25, 0.75, 0.6, 0.4])
    data = [[12, 1138, 42, 42], [42, 7, 36, 7]]
    np.testing.assert_allclose(layer(data).numpy(), _KERAS_OUT, rtol=1e-6)
    padded = L.IntegerLookup(output_mode="tf_idf", vocabulary=[12, 36, 1138, 42],
                             idf_weights=[0.25, 0.75, 0.6, 0.4], max_tokens=7,
                             pad_to_max_tokens=True)
    np.testing.assert_allclose(padded(data).numpy(), np.pad(_KERAS_OUT, ((0, 0), (0, 2))),
                               rtol=1e-6)


def test_adapt_learns_keras_idf():
    docs = np.array([["a", "b", "a"], ["b", "c", "b"], ["a", "a", "d"]])
    layer = L.StringLookup(output_mode="tf_idf")
    layer.adapt(docs)
    assert layer.get_vocabulary() == ["[UNK]", "a", "b", "d", "c"]  # a 5, b 4; ties descending
    # idf = log(1 + documents / (1 + documents with the token)): a and b in 2 of 3, c, d in 1
    idf = [math.log(1 + 3 / 3), math.log(1 + 3 / 3), math.log(1 + 3 / 2), math.log(1 + 3 / 2)]
    out = layer([["a", "a", "z"], ["c", "b", "c"]]).numpy()
    np.testing.assert_allclose(out, [[np.mean(idf), 2 * idf[0], 0, 0, 0],
                                     [0, 0, idf[1], 0, 2 * idf[3]]], rtol=1e-6)
    config = json.loads(json.dumps(layer.get_config()))
    np.testing.assert_allclose(config["idf_weights"], idf, rtol=1e-6)
    clone = L.StringLookup.from_config(config)
    np.testing.assert_array_equal(clone(docs).numpy(), layer(docs).numpy())
    one_document = L.StringLookup(output_mode="tf_idf")
    one_document.adapt(np.array(["a", "b", "a"]))  # a 1-D batch is one document (Keras)
    np.testing.assert_allclose(one_document(["a", "b", "a"]).numpy(),
                               [0, 2 * math.log(1.5), math.log(1.5)], rtol=1e-6)


def test_text_vectorization_tf_idf():
    texts = ["The cat sat", "the dog sat", "a cat, a dog"]
    layer = L.TextVectorization(output_mode="tf_idf")
    layer.adapt(texts)
    vocab = layer.get_vocabulary()
    assert vocab[0] == "[UNK]"
    documents = [set(t.lower().replace(",", "").split()) for t in texts]
    idf = {w: math.log(1 + 3 / (1 + sum(w in d for d in documents))) for w in vocab[1:]}
    out = layer(["a cat a bird"]).numpy()[0]
    expected = np.zeros(len(vocab))
    expected[0] = np.mean(list(idf.values()))
    expected[vocab.index("a")] = 2 * idf["a"]
    expected[vocab.index("cat")] = idf["cat"]
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    config = json.loads(json.dumps(layer.get_config()))
    assert len(config["idf_weights"]) == len(vocab) - 1
    clone = L.TextVectorization.from_config(config)
    np.testing.assert_array_equal(clone(texts).numpy(), layer(texts).numpy())
    given = L.TextVectorization(output_mode="tf_idf", vocabulary=["cat", "dog"],
                                idf_weights=[0.5, 1.5])
    np.testing.assert_allclose(given(["dog dog fish"]).numpy(), [[1.0, 0.0, 3.0]], rtol=1e-6)
    given.set_vocabulary(["fish"], idf_weights=[2.0])
    np.testing.assert_allclose(given(["dog fish"]).numpy(), [[2.0, 2.0]], rtol=1e-6)
    with pytest.raises(ValueError, match="needs idf_weights"):
        given.set_vocabulary(["fish"])
