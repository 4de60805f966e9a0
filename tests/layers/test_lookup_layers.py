"""StringLookup, IntegerLookup and CategoryEncoding: Keras 3's documented results, sklearn's
encoders where they agree, OOV and mask ids, max_tokens, invert, saving, and argument errors."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from sklearn.preprocessing import LabelEncoder, OneHotEncoder

import shenjing as keras
from shenjing.layers import CategoryEncoding, IntegerLookup, StringLookup
from shenjing.models import load_model

_DATA = np.array([["a", "c", "d"], ["d", "z", "b"]])
_VOCAB = ["a", "b", "c", "d"]


# -- Keras's docstring examples ------------------------------------------------------------------
def test_string_lookup_adapt_orders_by_count_then_descending_token():
    layer = StringLookup()
    layer.adapt(_DATA)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    assert layer.vocabulary_size() == 6
    out = layer(_DATA)
    assert out.dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), [[5, 3, 1], [1, 2, 4]])


def test_integer_lookup_adapt_orders_by_count_then_descending_value():
    layer = IntegerLookup()
    layer.adapt(np.array([[12, 1138, 42], [42, 1000, 36]]))
    assert layer.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    np.testing.assert_array_equal(layer([[12, 1138, 42], [42, 1000, 36]]).numpy(),
                                  [[5, 2, 1], [1, 3, 4]])


def test_string_lookup_vocabulary_oov_is_zero():
    np.testing.assert_array_equal(StringLookup(vocabulary=_VOCAB)(_DATA).numpy(),
                                  [[1, 3, 4], [4, 0, 2]])


def test_string_lookup_several_oov_indices_and_mask():
    out = StringLookup(vocabulary=_VOCAB, num_oov_indices=2)(_DATA).numpy()
    np.testing.assert_array_equal(out[0], [2, 4, 5])
    assert out[1, 1] in (0, 1)  # hashed (a CRC-32 here, FarmHash in TensorFlow)
    masked = StringLookup(vocabulary=_VOCAB, mask_token="[MASK]")
    np.testing.assert_array_equal(masked(_DATA).numpy(), [[2, 4, 5], [5, 1, 3]])
    assert masked.get_vocabulary() == ["[MASK]", "[UNK]", *_VOCAB]
    np.testing.assert_array_equal(masked([["[MASK]", "b"]]).numpy(), [[0, 3]])


def test_integer_lookup_several_oov_indices_take_value_mod_n():
    layer = IntegerLookup(vocabulary=[12, 36, 1138, 42], num_oov_indices=2)
    np.testing.assert_array_equal(layer([[12, 1138, 42], [42, 1000, 36]]).numpy(),
                                  [[2, 4, 5], [5, 0, 3]])
    np.testing.assert_array_equal(layer([1001, -3]).numpy(), [1, 1])


def test_string_lookup_encodings():
    one_hot = StringLookup(vocabulary=_VOCAB, output_mode="one_hot")(["a", "b", "c", "d", "z"])
    assert one_hot.dtype == np.float32
    np.testing.assert_array_equal(one_hot.numpy(), np.eye(5)[[1, 2, 3, 4, 0]])
    multi = StringLookup(vocabulary=_VOCAB, output_mode="multi_hot")
    np.testing.assert_array_equal(multi([["a", "c", "d", "d"], ["d", "z", "d", "a"]]).numpy(),
                                  [[0, 1, 0, 1, 1], [1, 1, 0, 0, 1]])
    count = StringLookup(vocabulary=_VOCAB, output_mode="count")
    np.testing.assert_array_equal(count([["a", "c", "d", "d"], ["d", "z", "d", "a"]]).numpy(),
                                  [[0, 1, 0, 1, 2], [1, 1, 0, 0, 2]])
    # a last axis of size 1 is the token itself, as in Keras
    assert StringLookup(vocabulary=_VOCAB, output_mode="one_hot")([["a"], ["b"]]).shape == (2, 5)


def test_encodings_drop_the_mask_token_and_pad_to_max_tokens():
    layer = StringLookup(vocabulary=_VOCAB, mask_token="", output_mode="multi_hot")
    assert layer.get_vocabulary() == ["[UNK]", *_VOCAB]  # no mask id outside 'int' mode
    np.testing.assert_array_equal(layer([["a", ""], ["", ""]]).numpy(),
                                  [[0, 1, 0, 0, 0], [0, 0, 0, 0, 0]])
    padded = IntegerLookup(vocabulary=[5, 6], max_tokens=6, pad_to_max_tokens=True,
                           output_mode="count")
    np.testing.assert_array_equal(padded([[5, 5, 9]]).numpy(), [[1, 2, 0, 0, 0, 0]])


def test_invert_round_trip():
    inverse = StringLookup(vocabulary=_VOCAB, invert=True)
    np.testing.assert_array_equal(inverse([[1, 3, 4], [4, 0, 2]]).numpy(),
                                  [["a", "c", "d"], ["d", "[UNK]", "b"]])
    forward = StringLookup()
    forward.adapt(_DATA)
    back = StringLookup(vocabulary=forward.get_vocabulary(), invert=True)
    np.testing.assert_array_equal(back(forward(_DATA)).numpy(), _DATA)
    ints = IntegerLookup(vocabulary=[12, 36], invert=True, mask_token=0)
    out = ints([[0, 1, 2, 3, 7, -2]]).numpy()
    np.testing.assert_array_equal(out, [[0, -1, 12, 36, -1, -1]])  # out of range: oov_token


def test_max_tokens_keeps_the_most_frequent():
    layer = StringLookup(max_tokens=3)
    layer.adapt(np.array(["x", "y", "y", "z", "z", "z", "[UNK]", "[UNK]", "[UNK]", "[UNK]"]))
    assert layer.get_vocabulary() == ["[UNK]", "z", "y"]  # the OOV token itself is not counted
    np.testing.assert_array_equal(layer(["x", "y", "z"]).numpy(), [0, 2, 1])
    masked = IntegerLookup(max_tokens=3, mask_token=0)
    masked.adapt([[1, 2, 2, 0, 0, 0]])
    assert masked.get_vocabulary() == [0, -1, 2]


def test_adapt_takes_batches_and_bytes_and_lists():
    layer = StringLookup()
    layer.adapt(iter([np.array([b"b", b"a"]), np.array([b"b"])]))  # an iterable of batches
    assert layer.get_vocabulary() == ["[UNK]", "b", "a"]
    np.testing.assert_array_equal(layer([b"a", b"q"]).numpy(), [2, 0])
    floats = IntegerLookup(vocabulary=[3, 7])
    np.testing.assert_array_equal(floats(np.array([[7.0], [2.0]])).numpy(), [[2], [0]])


def test_special_tokens_at_the_front_of_a_vocabulary_are_skipped():
    layer = StringLookup(vocabulary=["[UNK]", *_VOCAB])
    assert layer.get_vocabulary() == ["[UNK]", *_VOCAB]
    assert layer.get_vocabulary(include_special_tokens=False) == _VOCAB


# -- sklearn, where the encodings agree ---------------------------------------------------------
def test_matches_sklearn_label_and_one_hot_encoders():
    rng = np.random.default_rng(0)
    words = rng.choice(["cat", "dog", "emu", "yak"], size=50)
    vocab = sorted(set(words))
    lookup = StringLookup(vocabulary=vocab, num_oov_indices=0)
    np.testing.assert_array_equal(lookup(words).numpy(), LabelEncoder().fit(words).transform(words))
    enc = OneHotEncoder(categories=[vocab], handle_unknown="ignore").fit(words[:, None])
    test = np.array(["dog", "owl", "yak"])[:, None]
    ours = StringLookup(vocabulary=vocab, output_mode="one_hot")(test).numpy()
    np.testing.assert_array_equal(ours[:, 1:], enc.transform(test).toarray())  # 0: OOV


# -- CategoryEncoding -----------------------------------------------------------------------------
def test_category_encoding_keras_examples():
    np.testing.assert_array_equal(
        CategoryEncoding(num_tokens=4, output_mode="one_hot")([3, 2, 0, 1]).numpy(),
        np.eye(4)[[3, 2, 0, 1]])
    ids = [[0, 1], [0, 0], [1, 2], [3, 1]]
    multi = CategoryEncoding(num_tokens=4, output_mode="multi_hot")(ids)
    assert multi.dtype == np.float32 and not multi.requires_grad
    np.testing.assert_array_equal(multi.numpy(), [[1, 1, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0],
                                                  [0, 1, 0, 1]])
    weights = np.array([[.1, .2], [.1, .1], [.2, .3], [.4, .2]])
    count = CategoryEncoding(num_tokens=4, output_mode="count")(ids, count_weights=weights)
    np.testing.assert_allclose(count.numpy(), [[.1, .2, 0, 0], [.2, 0, 0, 0], [0, .2, .3, 0],
                                               [0, .2, 0, .4]], rtol=1e-6)
    np.testing.assert_array_equal(CategoryEncoding(3, "count")([[2, 2, 0]]).numpy(), [[1, 0, 2]])


@pytest.mark.parametrize("bad", [np.inf, np.nan, 1.5])
def test_float_ids_that_are_not_whole_numbers_are_refused(bad):
    # inf used to pass the whole-number test and be cast to a garbage int64 id (a cast warning,
    # then a range error for CategoryEncoding and the OOV token for an inverting lookup)
    ids = np.array([1.0, bad])
    with pytest.raises(TypeError, match="integer ids"):
        CategoryEncoding(num_tokens=3)(ids)
    with pytest.raises(TypeError, match="integer ids"):
        IntegerLookup(vocabulary=[3, 7], invert=True)(ids)


def test_category_encoding_errors():
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        CategoryEncoding(4)([1, 4])
    with pytest.raises(ValueError, match="num_tokens"):
        CategoryEncoding()
    with pytest.raises(ValueError, match="output_mode"):
        CategoryEncoding(3, output_mode="int")
    with pytest.raises(ValueError, match="count_weights"):
        CategoryEncoding(3)([1], count_weights=np.ones(1))
    with pytest.raises(NotImplementedError, match="sparse"):
        CategoryEncoding(3, sparse=True)
    with pytest.raises(TypeError, match="integer"):
        CategoryEncoding(3)(["a"])


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, error, match", [
    (dict(max_tokens=1), ValueError, "max_tokens"),
    (dict(num_oov_indices=-1), ValueError, "num_oov_indices"),
    (dict(output_mode="onehot"), ValueError, "output_mode"),
    (dict(output_mode="one_hot", invert=True), ValueError, "invert"),
    (dict(pad_to_max_tokens=True), ValueError, "pad_to_max_tokens"),
    (dict(output_mode="tf_idf", vocabulary=["a"]), ValueError, "needs idf_weights"),
    (dict(output_mode="tf_idf", vocabulary=["a"], idf_weights=[1, 2]), ValueError,
     "2 idf_weights for a vocabulary of 1"),
    (dict(idf_weights=[1.0], vocabulary=["a"]), ValueError, "only with output_mode='tf_idf'"),
    (dict(sparse=True), NotImplementedError, "sparse"),
    (dict(vocabulary=["a", "b", "a"]), ValueError, "repeats"),
    (dict(vocabulary=["a", "[M]"], mask_token="[M]"), ValueError, "mask token"),
    (dict(vocabulary=["a", "b", "c"], max_tokens=3), ValueError, "max_tokens=3"),
])
def test_string_lookup_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        StringLookup(**kwargs)


def test_lookup_bad_inputs_and_calls():
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        StringLookup(vocabulary=_VOCAB, num_oov_indices=0)(["a", "q"])
    with pytest.raises(TypeError, match="IntegerLookup"):
        StringLookup(vocabulary=_VOCAB)(np.array([1, 2]))
    with pytest.raises(TypeError, match="StringLookup"):
        IntegerLookup(vocabulary=[1])(np.array(["a"]))
    with pytest.raises(TypeError, match="integers"):
        IntegerLookup(vocabulary=[1])(np.array([1.5]))
    with pytest.raises(ValueError, match="adapt"):
        StringLookup(vocabulary=_VOCAB).adapt(_DATA)
    with pytest.raises(ValueError, match="vocabulary_dtype"):
        IntegerLookup(vocabulary_dtype="float32")


# Keras 3's constructor arguments, in their positional order
_KERAS_ORDER = {
    "StringLookup": ["max_tokens", "num_oov_indices", "mask_token", "oov_token", "vocabulary",
                     "idf_weights", "invert", "output_mode", "pad_to_max_tokens", "sparse",
                     "encoding", "name"],
    "IntegerLookup": ["max_tokens", "num_oov_indices", "mask_token", "oov_token", "vocabulary",
                      "vocabulary_dtype", "idf_weights", "invert", "output_mode", "sparse",
                      "pad_to_max_tokens", "name"],
    "TextVectorization": ["max_tokens", "standardize", "split", "ngrams", "output_mode",
                          "output_sequence_length", "pad_to_max_tokens", "vocabulary",
                          "idf_weights", "sparse", "ragged", "encoding", "name"],
}


@pytest.mark.parametrize("name", sorted(_KERAS_ORDER))
def test_positional_arguments_in_keras_order(name):
    params = inspect.signature(getattr(keras.layers, name).__init__).parameters
    assert [p for p in params if p not in ("self", "kwargs")] == _KERAS_ORDER[name]


def test_integer_lookup_takes_the_vocabulary_fifth():
    assert IntegerLookup(None, 1, None, -1, [5, 6]).get_vocabulary() == [-1, 5, 6]
    layer = IntegerLookup(None, 1, 0, -1, [5, 6], "int64", None, False, "one_hot", False, False,
                          "ids")
    assert (layer.name, layer.output_mode, layer.mask_token) == ("ids", "one_hot", 0)


# -- vocabulary files (Keras 3: "a string path to a text file", one token per line) --------------
def test_vocabulary_file_is_read_one_token_per_line(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes("cat\r\ndög\nbird\n".encode())  # UTF-8; CRLF or LF ends a line
    layer = StringLookup(vocabulary=str(path))
    assert layer.get_vocabulary() == ["[UNK]", "cat", "dög", "bird"]
    np.testing.assert_array_equal(layer(["dög", "bird", "cow"]).numpy(), [2, 3, 0])
    assert StringLookup(vocabulary=path).get_vocabulary() == layer.get_vocabulary()  # PathLike
    # the config keeps the tokens, so a saved model does not need the file
    config = layer.get_config()
    assert config["vocabulary"] == ["cat", "dög", "bird"]
    path.unlink()
    assert StringLookup.from_config(config).get_vocabulary() == layer.get_vocabulary()
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("12\n7\n")
    ints = IntegerLookup(vocabulary=str(numbers))
    assert ints.get_vocabulary() == [-1, 12, 7]
    np.testing.assert_array_equal(ints([7, 5]).numpy(), [2, 0])
    again = StringLookup()
    again.set_vocabulary(str(numbers))
    assert again.get_vocabulary() == ["[UNK]", "12", "7"]


def test_vocabulary_file_errors_name_the_file(tmp_path):
    missing = str(tmp_path / "nope.txt")
    for make in (StringLookup, IntegerLookup):
        with pytest.raises(ValueError, match=r"vocabulary file '.*nope\.txt' does not exist"):
            make(vocabulary=missing)
    bad = tmp_path / "bad.txt"
    bad.write_text("3\nfour\n")
    with pytest.raises(ValueError, match=r"line 2 of the vocabulary file '.*bad\.txt' is not an "
                                         r"integer: 'four'"):
        IntegerLookup(vocabulary=str(bad))


# -- saving -------------------------------------------------------------------------------------
def test_model_with_lookups_predicts_the_same_after_load(tmp_path):
    rng = np.random.default_rng(1)
    codes = rng.choice([3, 5, 8, 13], size=(40, 1))
    lookup = IntegerLookup(output_mode="one_hot")
    lookup.adapt(codes)
    inputs = keras.Input(shape=(1,), dtype="int64")
    out = keras.layers.Dense(1, activation="sigmoid")(lookup(inputs))
    model = keras.Model(inputs, out)
    model.compile("adam", "binary_crossentropy")
    model.fit(codes, (codes > 5).astype("float32"), epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    test = np.array([[3], [8], [99]])
    np.testing.assert_array_equal(loaded.predict(test, verbose=0), model.predict(test, verbose=0))
    assert loaded.layers[1].get_vocabulary() == lookup.get_vocabulary()


def test_model_with_a_string_input_saves_its_vocabulary(tmp_path):
    lookup = StringLookup(output_mode="multi_hot")
    lookup.adapt(_DATA)
    inputs = keras.Input(shape=(3,), dtype="string")
    model = keras.Model(inputs, keras.layers.Dense(2)(lookup(inputs)))
    model.save(tmp_path / "s.keras")
    loaded = load_model(tmp_path / "s.keras")
    probe = np.array([["a", "b", "q"], ["z", "z", "d"]])
    np.testing.assert_array_equal(loaded(probe).numpy(), model(probe).numpy())
    assert loaded.layers[1].get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    # predict and fit take strings into a string Input (TensorFlow's Keras does); a model
    # without one still refuses them
    np.testing.assert_array_equal(model.predict(probe, verbose=0), model(probe).numpy())
    model.compile(optimizer="sgd", loss="mse")
    model.fit(probe, np.zeros((2, 2)), verbose=0)
    model.train_on_batch(probe, np.zeros((2, 2)))
    numeric = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
    with pytest.raises(TypeError, match="strings"):
        numeric.predict(probe)


def test_former_output_mode_names_binary_and_tf_idf():
    """Keras still accepts output_mode='binary' (multi_hot) and 'tf-idf' (tf_idf): the
    structured-data example builds lookup_class(output_mode='binary')."""
    for cls, vocab, x in ((StringLookup, ["a", "b"], [["b"], ["z"]]),
                          (IntegerLookup, [3, 7], [[7], [9]])):
        layer = cls(vocabulary=vocab, output_mode="binary")
        assert layer.output_mode == "multi_hot"
        np.testing.assert_array_equal(layer(x).numpy(), [[0, 0, 1], [1, 0, 0]])
        assert cls(output_mode="tf-idf").output_mode == "tf_idf"
    encoder = CategoryEncoding(num_tokens=3, output_mode="binary")
    np.testing.assert_array_equal(encoder([[0, 2]]).numpy(), [[1, 0, 1]])
