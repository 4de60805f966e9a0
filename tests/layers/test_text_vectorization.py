import json

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer

import shenjing as keras
from shenjing.data import DataLoader
from shenjing.io import register_keras_serializable
from shenjing.layers import TextVectorization
from shenjing.models import load_model


# -- Keras's docstring examples and a recorded Keras run ---------------------------------------
def test_int_ids_match_keras_docstring_after_adapt():
    layer = TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    # bar and baz twice, ties in descending order; then foo, boom, bada once
    assert layer.get_vocabulary() == ["", "[UNK]", "baz", "bar", "foo", "boom", "bada"]
    ids = layer([["foo qux bar"], ["qux baz"]]).numpy()
    np.testing.assert_array_equal(ids, [[4, 1, 3, 0], [1, 2, 0, 0]])
    assert ids.dtype == np.int64


def test_int_ids_match_keras_docstring_with_a_vocabulary():
    layer = TextVectorization(max_tokens=5000, output_sequence_length=4,
                              vocabulary=["earth", "wind", "and", "fire"])
    ids = layer([["earth wind and also fire"], ["fire and earth michigan"]]).numpy()
    np.testing.assert_array_equal(ids, [[2, 3, 4, 1], [5, 4, 2, 1]])
    assert layer.vocabulary_size() == 6
    assert layer.get_vocabulary(include_special_tokens=False) == ["earth", "wind", "and", "fire"]


def test_adapted_vocabulary_matches_a_keras_run():
    layer = TextVectorization()
    layer.adapt(["I write, erase, rewrite", "Erase again, and then", "A poppy blooms"])
    assert layer.get_vocabulary() == ["", "[UNK]", "erase", "write", "then", "rewrite", "poppy",
                                      "i", "blooms", "and", "again", "a"]


# -- standardize, split, ngrams -----------------------------------------------------------------
@pytest.mark.parametrize("standardize, expected", [
    ("lower_and_strip_punctuation", ["hello", "worlds", "stateoftheart"]),
    ("lower", ["hello,", "world's!", "state-of-the-art"]),
    ("strip_punctuation", ["Hello", "Worlds", "StateOfTheArt"]),
    (None, ["Hello,", "World's!", "State-Of-The-Art"]),
    (lambda s: s.replace("-", " "), ["Hello,", "World's!", "State", "Of", "The", "Art"]),
])
def test_standardize_modes(standardize, expected):
    layer = TextVectorization(standardize=standardize)
    layer.adapt(["Hello, World's! State-Of-The-Art"])
    assert sorted(layer.get_vocabulary()[2:]) == sorted(expected)


@pytest.mark.parametrize("standardize, expected", [
    ("lower", ["über", "École", "Über", "¿qué?"]),
    ("lower_and_strip_punctuation", ["über", "École", "Über", "¿qué"]),
])
def test_standardize_is_ascii_only_as_keras(standardize, expected):
    # Keras: tf.strings.lower (encoding '', ASCII) and an ASCII punctuation regex
    layer = TextVectorization(standardize=standardize)
    layer.adapt(["Über ÉCOLE über ¿Qué?"])
    assert sorted(layer.get_vocabulary()[2:]) == sorted(expected)


def test_split_modes():
    chars = TextVectorization(split="character", standardize=None)
    chars.adapt(["ab a"])
    assert chars.get_vocabulary() == ["", "[UNK]", "a", "b", " "]
    np.testing.assert_array_equal(chars(["ba "]).numpy(), [[3, 2, 4]])
    whole = TextVectorization(split=None)  # each string is one token, standardized
    whole.adapt(np.array(["New York", "new york", "Paris"]))
    assert whole.get_vocabulary() == ["", "[UNK]", "new york", "paris"]
    np.testing.assert_array_equal(whole(np.array([["NEW YORK"], ["Rome"]])).numpy(), [[2], [1]])
    comma = TextVectorization(split=lambda s: s.split(","), standardize="lower")
    comma.adapt(["a b,c", "c"])
    assert comma.get_vocabulary() == ["", "[UNK]", "c", "a b"]


def test_ngrams_are_joined_by_a_space_widths_in_order():
    layer = TextVectorization(ngrams=2, vocabulary=["a", "b", "c", "a b", "b c"])
    np.testing.assert_array_equal(layer(["a b c"]).numpy(), [[2, 3, 4, 5, 6]])
    only = TextVectorization(ngrams=(3, 1), vocabulary=["a b c", "a", "b", "c"])
    np.testing.assert_array_equal(only(["a b c d"]).numpy(), [[2, 1, 3, 4, 5, 1]])
    assert TextVectorization(ngrams=3)(["x"]).shape == (1, 1)  # too short for 2- and 3-grams


# -- sequence length, OOV, max_tokens ----------------------------------------------------------
def test_output_sequence_length_pads_and_truncates():
    vocab = ["a", "b", "c", "d"]
    layer = TextVectorization(vocabulary=vocab, output_sequence_length=3)
    np.testing.assert_array_equal(layer(["a", "a b c d", ""]).numpy(),
                                  [[2, 0, 0], [2, 3, 4], [0, 0, 0]])
    ragged = TextVectorization(vocabulary=vocab)  # None: the batch's longest
    np.testing.assert_array_equal(ragged(["d c", "a b c zz", "b"]).numpy(),
                                  [[5, 4, 0, 0], [2, 3, 4, 1], [3, 0, 0, 0]])
    assert ragged("a b").numpy().tolist() == [2, 3]  # one text, one sequence


def test_max_tokens_keeps_the_most_frequent_and_the_rest_is_oov():
    layer = TextVectorization(max_tokens=4)  # '', '[UNK]' and two tokens
    layer.adapt(["x x x y y z", "y x w"])
    assert layer.get_vocabulary() == ["", "[UNK]", "x", "y"]
    np.testing.assert_array_equal(layer(["z x unknown y"]).numpy(), [[1, 2, 1, 3]])
    counts = TextVectorization(max_tokens=3, output_mode="count")  # '[UNK]' and two tokens
    counts.adapt(["x x x y y z", "y x w"])
    assert counts.get_vocabulary() == ["[UNK]", "x", "y"]


# -- encodings against scikit-learn -------------------------------------------------------------
_TEXTS = ["the cat sat on the mat", "the dog ate my homework", "a cat and a dog",
          "my cat my dog my mat"]


@pytest.mark.parametrize("mode, binary", [("multi_hot", True), ("count", False)])
@pytest.mark.parametrize("ngrams, ngram_range", [(None, (1, 1)), (2, (1, 2))])
def test_multi_hot_and_count_match_sklearn(mode, binary, ngrams, ngram_range):
    layer = TextVectorization(output_mode=mode, ngrams=ngrams)
    layer.adapt(_TEXTS)
    vocab = layer.get_vocabulary()
    assert vocab[0] == "[UNK]" and "" not in vocab
    cv = CountVectorizer(binary=binary, ngram_range=ngram_range, token_pattern=r"\S+",
                         vocabulary={t: i for i, t in enumerate(vocab[1:])})
    probe = _TEXTS + ["the bird sat on my cat"]  # 'bird' and its bigrams are OOV
    out = layer(probe).numpy()
    assert out.dtype == np.float32 and out.shape == (5, len(vocab))
    np.testing.assert_array_equal(out[:, 1:], cv.transform(probe).toarray())
    np.testing.assert_array_equal(out[:4, 0], 0)
    # bird; with bigrams also "the bird", "bird sat" and "on my"
    assert out[4, 0] == (1 if binary or ngrams is None else 4)


def test_pad_to_max_tokens_widens_the_vectors():
    layer = TextVectorization(max_tokens=10, output_mode="multi_hot", pad_to_max_tokens=True)
    layer.adapt(["a b b"])
    np.testing.assert_array_equal(layer(["b q"]).numpy(), [[1, 1, 0] + [0] * 7])


# -- adapt ---------------------------------------------------------------------------------------
def test_adapt_on_batches_equals_adapt_on_all():
    texts = np.array(_TEXTS * 3 + ["one more text", "and the last one"])
    whole = TextVectorization()
    whole.adapt(texts)
    for data in ([texts[:5], texts[5:9], texts[9:]],
                 ((texts[i:i + 4], np.zeros(4)) for i in range(0, len(texts), 4)),
                 DataLoader(texts, np.zeros(len(texts)), batch_size=3, shuffle=True, seed=0)):
        layer = TextVectorization()
        layer.adapt(data if not isinstance(data, list) else iter(data))
        assert layer.get_vocabulary() == whole.get_vocabulary()


def test_set_vocabulary_and_bytes_inputs():
    layer = TextVectorization()
    layer.set_vocabulary(["", "[UNK]", "hi", "there"])  # special tokens first are dropped
    assert layer.get_vocabulary() == ["", "[UNK]", "hi", "there"]
    np.testing.assert_array_equal(layer(np.array([b"Hi there!", b"bye"])).numpy(),
                                  [[2, 3], [1, 0]])
    with pytest.raises(ValueError, match="was given a vocabulary"):
        TextVectorization(vocabulary=["a"]).adapt(["a b"])


def test_vocabulary_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("earth\nwind\nand\nfire\n", encoding="utf-8")
    layer = TextVectorization(vocabulary=str(path), output_sequence_length=4)
    assert layer.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]
    np.testing.assert_array_equal(layer(["Earth, wind and water"]).numpy(), [[2, 3, 4, 1]])
    with pytest.raises(ValueError, match="vocabulary file '.*missing.txt' does not exist"):
        TextVectorization(vocabulary=str(tmp_path / "missing.txt"))


# -- config and saving ---------------------------------------------------------------------------
def test_config_round_trip_gives_the_same_ids():
    layer = TextVectorization(max_tokens=50, ngrams=(1, 2), output_sequence_length=6)
    layer.adapt(_TEXTS)
    config = json.loads(json.dumps(layer.get_config()))
    assert config["vocabulary"] == layer.get_vocabulary(include_special_tokens=False)
    clone = TextVectorization.from_config(config)
    probe = ["my cat ate the mat", "a new dog"]
    np.testing.assert_array_equal(clone(probe).numpy(), layer(probe).numpy())
    assert clone.get_config() == config


def test_a_registered_standardize_is_saved_by_name():
    @register_keras_serializable(package="TextTest")
    def strip_html(text):
        return text.lower().replace("<br />", " ")

    layer = TextVectorization(standardize=strip_html, vocabulary=["good", "film"])
    config = layer.get_config()
    assert config["standardize"] == "strip_html"
    clone = TextVectorization.from_config(config)
    np.testing.assert_array_equal(clone(["Good<br />FILM"]).numpy(), [[2, 3]])

    with pytest.raises(ValueError, match="register_keras_serializable"):
        TextVectorization(standardize=lambda s: s).get_config()


def test_model_on_the_ids_saves_and_loads(tmp_path):
    vectorize = TextVectorization(max_tokens=30, output_sequence_length=6)
    vectorize.adapt(_TEXTS)
    x = vectorize(_TEXTS).numpy()  # outside the model: fit takes numbers
    model = keras.Sequential([keras.Input((6,), dtype="int64"),
                              keras.layers.Embedding(30, 4),
                              keras.layers.GlobalAveragePooling1D(),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    model.fit(x, np.array([1, 0, 1, 0], "float32"), epochs=2, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    again = TextVectorization.from_config(json.loads(json.dumps(vectorize.get_config())))
    probe = ["the cat ate my mat", "an unseen text"]
    np.testing.assert_array_equal(loaded.predict(again(probe).numpy(), verbose=0),
                                  model.predict(vectorize(probe).numpy(), verbose=0))


def test_model_with_a_string_input_saves_its_vectorizer(tmp_path):
    vectorize = TextVectorization(output_sequence_length=5)
    vectorize.adapt(_TEXTS)
    inputs = keras.Input(shape=(1,), dtype="string")
    x = keras.layers.Embedding(vectorize.vocabulary_size(), 3)(vectorize(inputs))
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling1D()(x))
    model.save(tmp_path / "s.keras")
    loaded = load_model(tmp_path / "s.keras")
    probe = np.array([["the cat"], ["my dog ate a bird"]])
    np.testing.assert_array_equal(loaded(probe).numpy(), model(probe).numpy())
    assert loaded.layers[1].get_vocabulary() == vectorize.get_vocabulary()


# -- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, error, match", [
    ({"standardize": "upper"}, ValueError, "standardize must be"),
    ({"split": "comma"}, ValueError, "split must be"),
    ({"ngrams": 0}, ValueError, "ngrams must be"),
    ({"ngrams": (1, "2")}, ValueError, "ngrams must be"),
    ({"ngrams": 2, "split": None}, ValueError, "set split"),
    ({"output_mode": "one_hot"}, ValueError, "output_mode must be"),
    ({"output_mode": "count", "output_sequence_length": 4}, ValueError, "for output_mode='int'"),
    ({"output_sequence_length": 0}, ValueError, "positive int"),
    ({"max_tokens": 1}, ValueError, "max_tokens"),
    ({"output_mode": "multi_hot", "pad_to_max_tokens": True}, ValueError, "needs max_tokens"),
    ({"output_mode": "tf_idf", "vocabulary": ["a"]}, ValueError, "needs idf_weights"),
    ({"ragged": True}, NotImplementedError, "ragged"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        TextVectorization(**kwargs)


def test_bad_inputs():
    layer = TextVectorization(vocabulary=["a"])
    with pytest.raises(TypeError, match="takes strings"):
        layer(np.array([1, 2]))
    with pytest.raises(ValueError, match=r"\(batch, 1\)"):
        layer(np.array([["a", "b"]]))


def test_adapt_counts_every_token_beyond_the_output_length_as_keras():
    layer = TextVectorization(output_sequence_length=2)
    layer.adapt(["a b c d", "a b e"])
    assert layer.get_vocabulary() == ["", "[UNK]", "b", "a", "e", "d", "c"]
    np.testing.assert_array_equal(layer(np.array(["a e c"])).numpy(), [[3, 4]])


def test_an_int_sequence_of_unknown_length_is_unknown_in_the_graph():
    inputs = keras.layers.Input((1,), dtype="string")
    ids = TextVectorization(vocabulary=["a", "b"])(inputs)
    assert ids.shape == (None, None)  # it was (None, 0): an LSTM after it failed to build
    model = keras.Model(inputs, keras.layers.LSTM(3)(keras.layers.Embedding(10, 4)(ids)))
    assert model(np.array([["a b a"], ["b"]])).shape == (2, 3)


def test_unsplit_strings_are_padded_or_cut_to_the_output_length():
    layer = TextVectorization(split=None, output_sequence_length=3, vocabulary=["a b", "c"])
    np.testing.assert_array_equal(layer(np.array([["a b"], ["c"]])).numpy(),
                                  [[2, 0, 0], [3, 0, 0]])
    short = TextVectorization(split=None, output_sequence_length=1, vocabulary=["a", "b"])
    np.testing.assert_array_equal(short(np.array([["a", "b", "a"]])).numpy(), [[2]])


def test_whitespace_is_ascii_whitespace_as_tf_strings_split():
    layer = TextVectorization()
    layer.adapt(["a\u00a0b c\x1cd", "  x\ty\n"])
    assert sorted(layer.get_vocabulary()[2:]) == ["a\u00a0b", "c\x1cd", "x", "y"]
