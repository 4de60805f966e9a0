"""More keras.io example programs (Keras 3 versions), ported as in test_keras_io_examples.py:
imports changed only, small synthetic data of the right shapes instead of downloads, and what
each prints or plots checked as values. Where an example calls TensorFlow itself (tf.strings,
tf.io, tf.function), the docstring says what replaced it. Each runs in a few seconds at most."""

from __future__ import annotations

import os
import re
import string

import numpy as np
import pytest

import shenjing as keras
import shenjing as tf
from shenjing import layers, ops


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write their checkpoints to the working folder


# -- keras.io/examples/vision/oxford_pets_image_segmentation ----------------------------------
class OxfordPets(keras.utils.Sequence):
    """Helper to iterate over the data (as Numpy arrays)."""

    def __init__(self, batch_size, img_size, input_img_paths, target_img_paths):
        self.batch_size = batch_size
        self.img_size = img_size
        self.input_img_paths = input_img_paths
        self.target_img_paths = target_img_paths

    def __len__(self):
        return len(self.target_img_paths) // self.batch_size

    def __getitem__(self, idx):
        """Returns tuple (input, target) correspond to batch #idx."""
        i = idx * self.batch_size
        batch_input_img_paths = self.input_img_paths[i : i + self.batch_size]
        batch_target_img_paths = self.target_img_paths[i : i + self.batch_size]
        x = np.zeros((self.batch_size,) + self.img_size + (3,), dtype="float32")
        for j, path in enumerate(batch_input_img_paths):
            img = keras.utils.load_img(path, target_size=self.img_size)
            x[j] = img
        y = np.zeros((self.batch_size,) + self.img_size + (1,), dtype="uint8")
        for j, path in enumerate(batch_target_img_paths):
            img = keras.utils.load_img(path, target_size=self.img_size, color_mode="grayscale")
            y[j] = np.expand_dims(img, 2)
            # Ground truth labels are 1, 2, 3. Subtract one to make them 0, 1, 2:
            y[j] -= 1
        return x, y


def get_unet_model(img_size, num_classes):
    inputs = keras.Input(shape=img_size + (3,))

    ### [First half of the network: downsampling inputs] ###

    # Entry block
    x = layers.Conv2D(32, 3, strides=2, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)

    previous_block_activation = x  # Set aside residual

    # Blocks 1, 2, 3 are identical apart from the feature depth.
    for filters in [64, 128, 256]:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)

        # Project residual
        residual = layers.Conv2D(filters, 1, strides=2, padding="same")(
            previous_block_activation
        )
        x = layers.add([x, residual])  # Add back residual
        previous_block_activation = x  # Set aside next residual

    ### [Second half of the network: upsampling inputs] ###

    for filters in [256, 128, 64, 32]:
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.UpSampling2D(2)(x)

        # Project residual
        residual = layers.UpSampling2D(2)(previous_block_activation)
        residual = layers.Conv2D(filters, 1, padding="same")(residual)
        x = layers.add([x, residual])  # Add back residual
        previous_block_activation = x  # Set aside next residual

    # Add a per-pixel classification layer
    outputs = layers.Conv2D(num_classes, 3, activation="softmax", padding="same")(x)

    # Define the model
    model = keras.Model(inputs, outputs)
    return model


def test_image_segmentation_with_a_unet(rng):
    """Oxford Pets' layout (images/*.jpg, annotations/trimaps/*.png with labels 1, 2, 3) with
    8 random 32x32 images instead of 160x160 photos; the Keras 2 version's Sequence loader
    (the Keras 3 one reads files with tf.io and tf.image)."""
    from PIL import Image, ImageOps

    os.makedirs("images")
    os.makedirs("annotations/trimaps")
    for i in range(8):
        Image.fromarray(rng.integers(0, 256, (40, 40, 3)).astype("uint8")).save(
            f"images/pet_{i}.jpg")
        Image.fromarray(rng.integers(1, 4, (40, 40)).astype("uint8")).save(
            f"annotations/trimaps/pet_{i}.png")

    input_dir = "images/"
    target_dir = "annotations/trimaps/"
    img_size = (32, 32)
    num_classes = 3
    batch_size = 2

    input_img_paths = sorted(
        [
            os.path.join(input_dir, fname)
            for fname in os.listdir(input_dir)
            if fname.endswith(".jpg")
        ]
    )
    target_img_paths = sorted(
        [
            os.path.join(target_dir, fname)
            for fname in os.listdir(target_dir)
            if fname.endswith(".png") and not fname.startswith(".")
        ]
    )
    img = ImageOps.autocontrast(keras.utils.load_img(target_img_paths[3]))

    model = get_unet_model(img_size, num_classes)
    summary = []
    model.summary(print_fn=summary.append)

    # Split our img paths into a training and a validation set
    val_samples = 2
    random_state = np.random.RandomState(1337)
    random_state.shuffle(input_img_paths)
    random_state = np.random.RandomState(1337)
    random_state.shuffle(target_img_paths)
    train_input_img_paths = input_img_paths[:-val_samples]
    train_target_img_paths = target_img_paths[:-val_samples]
    val_input_img_paths = input_img_paths[-val_samples:]
    val_target_img_paths = target_img_paths[-val_samples:]

    # Instantiate data Sequences for each split
    train_gen = OxfordPets(batch_size, img_size, train_input_img_paths, train_target_img_paths)
    val_gen = OxfordPets(batch_size, img_size, val_input_img_paths, val_target_img_paths)

    # Configure the model for training.
    # We use the "sparse" version of categorical_crossentropy
    # because our target data is integers.
    model.compile(optimizer=keras.optimizers.Adam(1e-4),
                  loss="sparse_categorical_crossentropy")

    callbacks = [
        keras.callbacks.ModelCheckpoint("oxford_segmentation.keras", save_best_only=True)
    ]

    # Train the model, doing validation at the end of each epoch.
    epochs = 2
    history = model.fit(train_gen, epochs=epochs, validation_data=val_gen,
                        callbacks=callbacks, verbose=0)

    val_preds = model.predict(val_gen, verbose=0)

    def display_mask(i):
        """Quick utility to display a model's prediction."""
        mask = np.argmax(val_preds[i], axis=-1)
        mask = np.expand_dims(mask, axis=-1)
        return ImageOps.autocontrast(keras.utils.array_to_img(mask))

    mask = display_mask(1)

    assert img.size == (40, 40) and mask.size == (32, 32)
    assert "separable_conv2d" in "\n".join(summary)
    assert len(history.history["loss"]) == len(history.history["val_loss"]) == epochs
    assert np.isfinite(history.history["loss"]).all()
    assert val_preds.shape == (2, 32, 32, 3)
    np.testing.assert_allclose(val_preds.sum(-1), 1.0, rtol=1e-5)
    # the checkpoint holds the epoch with the best val_loss
    reloaded = keras.models.load_model("oxford_segmentation.keras")
    assert reloaded.evaluate(val_gen, verbose=0) == pytest.approx(
        min(history.history["val_loss"]), rel=1e-4)


# -- keras.io/examples/nlp/addition_rnn ------------------------------------------------------
class CharacterTable:
    """Given a set of characters:
    + Encode them to a one-hot integer representation
    + Decode the one-hot or integer representation to their character output
    + Decode a vector of probabilities to their character output
    """

    def __init__(self, chars):
        self.chars = sorted(set(chars))
        self.char_indices = dict((c, i) for i, c in enumerate(self.chars))
        self.indices_char = dict((i, c) for i, c in enumerate(self.chars))

    def encode(self, C, num_rows):
        x = np.zeros((num_rows, len(self.chars)))
        for i, c in enumerate(C):
            x[i, self.char_indices[c]] = 1
        return x

    def decode(self, x, calc_argmax=True):
        if calc_argmax:
            x = x.argmax(axis=-1)
        return "".join(self.indices_char[x] for x in x)


@pytest.mark.parametrize("time_distributed", [False, True])
def test_sequence_to_sequence_number_addition(time_distributed):
    """300 questions instead of 50,000 and 2 iterations instead of 29; the Keras 2 version's
    TimeDistributed(Dense) as a second case (Keras 3's is a plain Dense on the sequence)."""
    TRAINING_SIZE = 300
    DIGITS = 3
    REVERSE = True
    MAXLEN = DIGITS + 1 + DIGITS

    chars = "0123456789+ "
    ctable = CharacterTable(chars)

    questions = []
    expected = []
    seen = set()
    while len(questions) < TRAINING_SIZE:
        f = lambda: int(  # noqa: E731 - as written
            "".join(
                np.random.choice(list("0123456789"))
                for i in range(np.random.randint(1, DIGITS + 1))
            )
        )
        a, b = f(), f()
        # Skip any addition questions we've already seen
        # Also skip any such that x+Y == Y+x (hence the sorting).
        key = tuple(sorted((a, b)))
        if key in seen:
            continue
        seen.add(key)
        # Pad the data with spaces such that it is always MAXLEN.
        q = "{}+{}".format(a, b)  # noqa: UP032 - as written
        query = q + " " * (MAXLEN - len(q))
        ans = str(a + b)
        # Answers can be of maximum size DIGITS + 1.
        ans += " " * (DIGITS + 1 - len(ans))
        if REVERSE:
            query = query[::-1]
        questions.append(query)
        expected.append(ans)

    x = np.zeros((len(questions), MAXLEN, len(chars)), dtype=bool)
    y = np.zeros((len(questions), DIGITS + 1, len(chars)), dtype=bool)
    for i, sentence in enumerate(questions):
        x[i] = ctable.encode(sentence, MAXLEN)
    for i, sentence in enumerate(expected):
        y[i] = ctable.encode(sentence, DIGITS + 1)

    indices = np.arange(len(y))
    np.random.shuffle(indices)
    x = x[indices]
    y = y[indices]

    # Explicitly set apart 10% for validation data that we never train over.
    split_at = len(x) - len(x) // 10
    (x_train, x_val) = x[:split_at], x[split_at:]
    (y_train, y_val) = y[:split_at], y[split_at:]

    num_layers = 1  # Try to add more LSTM layers!

    model = keras.Sequential()
    model.add(layers.Input((MAXLEN, len(chars))))
    model.add(layers.LSTM(128))
    model.add(layers.RepeatVector(DIGITS + 1))
    for _ in range(num_layers):
        model.add(layers.LSTM(128, return_sequences=True))
    if time_distributed:
        model.add(layers.TimeDistributed(layers.Dense(len(chars), activation="softmax")))
    else:
        model.add(layers.Dense(len(chars), activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.summary(print_fn=lambda *a, **k: None)

    epochs = 3
    batch_size = 32
    shown, histories = [], []
    for epoch in range(1, epochs):  # noqa: B007 - the example prints it
        histories.append(model.fit(
            x_train,
            y_train,
            batch_size=batch_size,
            epochs=1,
            validation_data=(x_val, y_val),
            verbose=0,
        ).history)
        for i in range(10):  # noqa: B007 - as written
            ind = np.random.randint(0, len(x_val))
            rowx, rowy = x_val[np.array([ind])], y_val[np.array([ind])]
            preds = np.argmax(model.predict(rowx, verbose=0), axis=-1)
            q = ctable.decode(rowx[0])
            correct = ctable.decode(rowy[0])
            guess = ctable.decode(preds[0], calc_argmax=False)
            shown.append((q[::-1] if REVERSE else q, correct, guess))

    assert model.output_shape == (None, DIGITS + 1, len(chars))
    assert len(shown) == 20
    assert all(re.fullmatch(r"\d+\+\d+ *", q) and len(t) == len(g) == DIGITS + 1
               for q, t, g in shown)
    assert all(str(eval(q)).ljust(DIGITS + 1) == t for q, t, _ in shown)
    # the loss starts near the uniform guess's log(12) and falls
    assert histories[0]["loss"][0] < np.log(len(chars)) + 0.1
    assert histories[1]["loss"][0] < histories[0]["loss"][0]
    assert 0.0 <= histories[1]["val_accuracy"][0] <= 1.0


# -- keras.io/examples/generative/text_generation_with_miniature_gpt --------------------------
def causal_attention_mask(batch_size, n_dest, n_src, dtype):
    """
    Mask the upper half of the dot product matrix in self attention.
    This prevents flow of information from future tokens to current token.
    1's in the lower triangle, counting from the lower right corner.
    """
    i = ops.arange(n_dest)[:, None]
    j = ops.arange(n_src)
    m = i >= j - n_src + n_dest
    mask = ops.cast(m, dtype)
    mask = ops.reshape(mask, [1, n_dest, n_src])
    mult = ops.concatenate(
        [ops.expand_dims(batch_size, -1), ops.convert_to_tensor([1, 1])], 0
    )
    return ops.tile(mask, mult)


class GPTTransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads, embed_dim)
        self.ffn = keras.Sequential(
            [
                layers.Dense(ff_dim, activation="relu"),
                layers.Dense(embed_dim),
            ]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs):
        input_shape = ops.shape(inputs)
        batch_size = input_shape[0]
        seq_len = input_shape[1]
        causal_mask = causal_attention_mask(batch_size, seq_len, seq_len, "bool")
        attention_output = self.att(inputs, inputs, attention_mask=causal_mask)
        attention_output = self.dropout1(attention_output)
        out1 = self.layernorm1(inputs + attention_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        maxlen = ops.shape(x)[-1]
        positions = ops.arange(0, maxlen, 1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


def test_text_generation_with_a_miniature_gpt(rng):
    """Forty made-up reviews in aclImdb's four folders; tf_data.TextLineDataset is a
    tf.data.Dataset of the files' lines, and custom_standardization uses Python's str and re
    for tf_strings.lower and regex_replace; a smaller model, 2 epochs of 6 tokens."""
    words = "this movie is a good bad film the plot actors were great !".split() + ["<br />"]
    words += [f"word{i}" for i in range(40)]  # more words than the vocabulary holds
    directories = [
        "aclImdb/train/pos",
        "aclImdb/train/neg",
        "aclImdb/test/pos",
        "aclImdb/test/neg",
    ]
    for dir in directories:
        os.makedirs(dir)
        for i in range(10):
            with open(os.path.join(dir, f"{i}_7.txt"), "w") as f:
                f.write("this movie is " + " ".join(rng.choice(words, size=rng.integers(5, 30))))

    vocab_size = 40  # Only consider the top 20k words
    maxlen = 16  # Max sequence size
    embed_dim = 32  # Embedding size for each token
    num_heads = 2  # Number of attention heads
    feed_forward_dim = 32  # Hidden layer size in feed forward network inside transformer

    def create_model():
        inputs = layers.Input(shape=(maxlen,), dtype="int32")
        embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
        x = embedding_layer(inputs)
        transformer_block = GPTTransformerBlock(embed_dim, num_heads, feed_forward_dim)
        x = transformer_block(x)
        outputs = layers.Dense(vocab_size)(x)
        model = keras.Model(inputs=inputs, outputs=[outputs, x])
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model.compile(
            "adam",
            loss=[loss_fn, None],
        )  # No loss and optimization based on word embeddings from transformer block
        return model

    batch_size = 16

    filenames = []
    for dir in directories:
        for f in os.listdir(dir):
            filenames.append(os.path.join(dir, f))

    # Create a dataset from text files
    np.random.shuffle(filenames)
    lines = []
    for name in filenames:
        with open(name) as f:
            lines += f.read().splitlines()
    text_ds = tf.data.Dataset.from_tensor_slices(lines)  # tf_data.TextLineDataset(filenames)
    text_ds = text_ds.shuffle(buffer_size=256)
    text_ds = text_ds.batch(batch_size)

    def custom_standardization(input_string):
        """Remove html line-break tags and handle punctuation"""
        lowercased = input_string.lower()
        stripped_html = lowercased.replace("<br />", " ")
        return re.sub(f"([{re.escape(string.punctuation)}])", r" \1", stripped_html)

    # Create a vectorization layer and adapt it to the text
    vectorize_layer = layers.TextVectorization(
        standardize=custom_standardization,
        max_tokens=vocab_size - 1,
        output_mode="int",
        output_sequence_length=maxlen + 1,
    )
    vectorize_layer.adapt(text_ds)
    vocab = vectorize_layer.get_vocabulary()  # To get words back from token indices

    def prepare_lm_inputs_labels(text):
        """
        Shift word sequences by 1 position so that the target for position (i) is
        word at position (i+1). The model will use all words up till position (i)
        to predict the next word.
        """
        text = tf.expand_dims(text, -1)
        tokenized_sentences = vectorize_layer(text)
        x = tokenized_sentences[:, :-1]
        y = tokenized_sentences[:, 1:]
        return x, y

    text_ds = text_ds.map(prepare_lm_inputs_labels, num_parallel_calls=tf.data.AUTOTUNE)
    text_ds = text_ds.prefetch(tf.data.AUTOTUNE)

    generated = []

    class TextGenerator(keras.callbacks.Callback):
        """A callback to generate text from a trained model."""

        def __init__(
            self, max_tokens, start_tokens, index_to_word, top_k=10, print_every=1
        ):
            self.max_tokens = max_tokens
            self.start_tokens = start_tokens
            self.index_to_word = index_to_word
            self.print_every = print_every
            self.k = top_k

        def sample_from(self, logits):
            logits, indices = ops.top_k(logits, k=self.k, sorted=True)
            indices = np.asarray(indices).astype("int32")
            preds = keras.activations.softmax(ops.expand_dims(logits, 0))[0]
            preds = np.asarray(preds).astype("float32")
            return np.random.choice(indices, p=preds)

        def detokenize(self, number):
            return self.index_to_word[number]

        def on_epoch_end(self, epoch, logs=None):
            start_tokens = [_ for _ in self.start_tokens]
            if (epoch + 1) % self.print_every != 0:
                return
            num_tokens_generated = 0
            tokens_generated = []
            while num_tokens_generated <= self.max_tokens:
                pad_len = maxlen - len(start_tokens)
                sample_index = len(start_tokens) - 1
                if pad_len < 0:
                    x = start_tokens[:maxlen]
                    sample_index = maxlen - 1
                elif pad_len > 0:
                    x = start_tokens + [0] * pad_len
                else:
                    x = start_tokens
                x = np.array([x])
                y, _ = self.model.predict(x, verbose=0)
                sample_token = self.sample_from(y[0][sample_index])
                tokens_generated.append(sample_token)
                start_tokens.append(sample_token)
                num_tokens_generated = len(tokens_generated)
            txt = " ".join(
                [self.detokenize(_) for _ in self.start_tokens + tokens_generated]
            )
            generated.append(txt)  # print(f"generated text:\n{txt}\n")

    # Tokenize starting prompt
    word_to_index = {}
    for index, word in enumerate(vocab):
        word_to_index[word] = index

    start_prompt = "this movie is"
    start_tokens = [word_to_index.get(_, 1) for _ in start_prompt.split()]
    num_tokens_generated = 6
    text_gen_callback = TextGenerator(num_tokens_generated, start_tokens, vocab)

    model = create_model()

    history = model.fit(text_ds, verbose=0, epochs=2, callbacks=[text_gen_callback])

    assert vocab[:2] == ["", "[UNK]"] and "movie" in vocab and "!" in vocab
    assert "<br" not in vocab
    assert len(generated) == 2
    for txt in generated:
        tokens = txt.split(" ")
        assert tokens[:3] == ["this", "movie", "is"] and len(tokens) == 3 + 7
        assert set(tokens) <= set(vocab)
    losses = history.history["loss"]
    assert len(losses) == 2 and losses[0] < np.log(vocab_size) + 0.5


# -- keras.io/examples/structured_data/collaborative_filtering_movielens ----------------------
class RecommenderNet(keras.Model):
    def __init__(self, num_users, num_movies, embedding_size, **kwargs):
        super().__init__(**kwargs)
        self.num_users = num_users
        self.num_movies = num_movies
        self.embedding_size = embedding_size
        self.user_embedding = layers.Embedding(
            num_users,
            embedding_size,
            embeddings_initializer="he_normal",
            embeddings_regularizer=keras.regularizers.l2(1e-6),
        )
        self.user_bias = layers.Embedding(num_users, 1)
        self.movie_embedding = layers.Embedding(
            num_movies,
            embedding_size,
            embeddings_initializer="he_normal",
            embeddings_regularizer=keras.regularizers.l2(1e-6),
        )
        self.movie_bias = layers.Embedding(num_movies, 1)

    def call(self, inputs):
        user_vector = self.user_embedding(inputs[:, 0])
        user_bias = self.user_bias(inputs[:, 0])
        movie_vector = self.movie_embedding(inputs[:, 1])
        movie_bias = self.movie_bias(inputs[:, 1])
        dot_user_movie = ops.tensordot(user_vector, movie_vector, 2)
        # Add all the components (including bias)
        x = dot_user_movie + user_bias + movie_bias
        # The sigmoid activation forces the rating to between 0 and 1
        return ops.nn.sigmoid(x)


def test_collaborative_filtering_for_movie_recommendations(rng):
    """MovieLens' ratings.csv columns as NumPy arrays (no pandas here): 30 users, 40 movies,
    600 ratings; the example's pandas steps are written with NumPy."""
    user_col = rng.integers(1, 31, 600) * 7
    movie_col = rng.integers(1, 41, 600) * 11
    rating_col = rng.integers(1, 11, 600) / 2.0

    user_ids = list(dict.fromkeys(user_col.tolist()))  # df["userId"].unique().tolist()
    user2user_encoded = {x: i for i, x in enumerate(user_ids)}
    movie_ids = list(dict.fromkeys(movie_col.tolist()))
    movie2movie_encoded = {x: i for i, x in enumerate(movie_ids)}
    movie_encoded2movie = {i: x for i, x in enumerate(movie_ids)}
    user = np.array([user2user_encoded[u] for u in user_col])
    movie = np.array([movie2movie_encoded[m] for m in movie_col])

    num_users = len(user2user_encoded)
    num_movies = len(movie_encoded2movie)
    rating = rating_col.astype(np.float32)
    min_rating = min(rating)
    max_rating = max(rating)

    order = np.random.RandomState(42).permutation(600)  # df.sample(frac=1, random_state=42)
    x = np.stack([user, movie], axis=1)[order]
    y = ((rating - min_rating) / (max_rating - min_rating))[order]
    train_indices = int(0.9 * 600)
    x_train, x_val, y_train, y_val = (
        x[:train_indices],
        x[train_indices:],
        y[:train_indices],
        y[train_indices:],
    )

    EMBEDDING_SIZE = 50

    model = RecommenderNet(num_users, num_movies, EMBEDDING_SIZE)
    model.compile(
        loss=keras.losses.BinaryCrossentropy(),
        optimizer=keras.optimizers.Adam(learning_rate=0.001),
    )
    history = model.fit(
        x=x_train,
        y=y_train,
        batch_size=64,
        epochs=3,
        verbose=0,
        validation_data=(x_val, y_val),
    )

    user_id = user_col[0]
    movies_watched_by_user = set(movie_col[user_col == user_id].tolist())
    movies_not_watched = [m for m in movie_ids if m not in movies_watched_by_user]
    movies_not_watched = [[movie2movie_encoded.get(x)] for x in movies_not_watched]
    user_encoder = user2user_encoded.get(user_id)
    user_movie_array = np.hstack(
        ([[user_encoder]] * len(movies_not_watched), movies_not_watched)
    )
    ratings = model.predict(user_movie_array, verbose=0).flatten()
    top_ratings_indices = ratings.argsort()[-10:][::-1]
    recommended_movie_ids = [
        movie_encoded2movie.get(movies_not_watched[x][0]) for x in top_ratings_indices
    ]

    assert len(history.history["loss"]) == len(history.history["val_loss"]) == 3
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert ratings.shape == (len(movies_not_watched),) and ((ratings > 0) & (ratings < 1)).all()
    assert len(set(recommended_movie_ids)) == 10
    assert not set(recommended_movie_ids) & movies_watched_by_user
    # tensordot(u, m, 2) sums over the whole batch (as in Keras): one number shared by all rows
    u, m = model.user_embedding(x_val[:, 0]), model.movie_embedding(x_val[:, 1])
    logits = (float(np.sum(u.numpy() * m.numpy())) + model.user_bias(x_val[:, 0]).numpy()
              + model.movie_bias(x_val[:, 1]).numpy())
    np.testing.assert_allclose(model.predict(x_val, verbose=0, batch_size=len(x_val)),
                               1 / (1 + np.exp(-logits)), rtol=1e-4)
    # two l2 penalties, each 1e-6 * sum(w ** 2)
    assert len(model.losses) == 2
    expected = 1e-6 * (np.sum(model.user_embedding.embeddings.numpy() ** 2))
    assert float(model.losses[0]) == pytest.approx(expected, rel=1e-4)


# -- keras.io/examples/timeseries/timeseries_weather_forecasting ------------------------------
def test_timeseries_forecasting_for_weather_prediction(rng):
    """Jena climate's 14 features as 3,000 random-walk rows (no pandas here: the frame's
    columns and .loc/.iloc are array slices), past 120 and future 12 instead of 720 and 72."""
    raw = np.cumsum(rng.normal(size=(3000, 14)), axis=0)
    split_fraction = 0.715
    train_split = int(split_fraction * int(raw.shape[0]))
    step = 6

    past = 120
    future = 12
    learning_rate = 0.001
    batch_size = 256
    epochs = 10

    def normalize(data, train_split):
        data_mean = data[:train_split].mean(axis=0)
        data_std = data[:train_split].std(axis=0)
        return (data - data_mean) / data_std

    features = raw[:, [0, 1, 5, 7, 8, 10, 11]]
    features = normalize(features, train_split)

    train_data = features[0:train_split]
    val_data = features[train_split:]

    start = past + future
    end = start + train_split

    x_train = train_data[:, [i for i in range(7)]]
    y_train = features[start:end][:, [1]]

    sequence_length = int(past / step)

    dataset_train = keras.preprocessing.timeseries_dataset_from_array(
        x_train,
        y_train,
        sequence_length=sequence_length,
        sampling_rate=step,
        batch_size=batch_size,
    )

    x_end = len(val_data) - past - future

    label_start = train_split + past + future

    x_val = val_data[:x_end][:, [i for i in range(7)]]
    y_val = features[label_start:][:, [1]]

    dataset_val = keras.preprocessing.timeseries_dataset_from_array(
        x_val,
        y_val,
        sequence_length=sequence_length,
        sampling_rate=step,
        batch_size=batch_size,
    )

    for batch in dataset_train.take(1):
        inputs, targets = batch

    assert inputs.numpy().shape == (256, 20, 7) and targets.numpy().shape == (256, 1)
    np.testing.assert_allclose(inputs[3], x_train[3:3 + 120:6], rtol=1e-6)
    np.testing.assert_allclose(targets[3], y_train[3], rtol=1e-6)

    inputs = keras.layers.Input(shape=(inputs.shape[1], inputs.shape[2]))
    lstm_out = keras.layers.LSTM(32)(inputs)
    outputs = keras.layers.Dense(1)(lstm_out)

    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")

    path_checkpoint = "model_checkpoint.weights.h5"
    es_callback = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=5)

    modelckpt_callback = keras.callbacks.ModelCheckpoint(
        monitor="val_loss",
        filepath=path_checkpoint,
        verbose=1,
        save_weights_only=True,
        save_best_only=True,
    )

    history = model.fit(
        dataset_train,
        epochs=epochs,
        validation_data=dataset_val,
        callbacks=[es_callback, modelckpt_callback],
        verbose=0,
    )

    loss = history.history["loss"]
    val_loss = history.history["val_loss"]
    assert 1 <= len(loss) == len(val_loss) <= epochs
    assert loss[-1] < loss[0]
    assert os.path.exists(path_checkpoint)

    shown = []
    for x, y in dataset_val.take(5):
        shown.append([x[0][:, 1], y[0], model.predict(x, verbose=0)[0]])  # .numpy()
    assert len(shown) == 3  # 3,000 rows give 3 validation batches
    assert shown[0][0].shape == (20,) and shown[0][1].shape == shown[0][2].shape == (1,)

    model.load_weights(path_checkpoint)
    best = model.evaluate(dataset_val, verbose=0)
    assert best == pytest.approx(min(val_loss), rel=1e-4)


def test_timeseries_dataset_batches_have_numpy():
    dataset = keras.utils.timeseries_dataset_from_array(np.zeros((10, 2)), np.zeros(10), 3)
    for inputs, targets in dataset.take(1):
        assert inputs.numpy().shape == (8, 3, 2) and targets.numpy().shape == (8,)


# -- keras.io/examples/vision/knowledge_distillation ------------------------------------------
class Distiller(keras.Model):
    def __init__(self, student, teacher):
        super().__init__()
        self.teacher = teacher
        self.student = student

    def compile(
        self,
        optimizer,
        metrics,
        student_loss_fn,
        distillation_loss_fn,
        alpha=0.1,
        temperature=3,
    ):
        super().compile(optimizer=optimizer, metrics=metrics)
        self.student_loss_fn = student_loss_fn
        self.distillation_loss_fn = distillation_loss_fn
        self.alpha = alpha
        self.temperature = temperature

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, allow_empty=False
    ):
        teacher_pred = self.teacher(x, training=False)
        student_loss = self.student_loss_fn(y, y_pred)

        distillation_loss = self.distillation_loss_fn(
            ops.softmax(teacher_pred / self.temperature, axis=1),
            ops.softmax(y_pred / self.temperature, axis=1),
        ) * (self.temperature**2)

        loss = self.alpha * student_loss + (1 - self.alpha) * distillation_loss
        return loss

    def call(self, x):
        return self.student(x)


def test_knowledge_distillation(rng):
    """MNIST's shapes, 64 random training and 32 test digits, the teacher's widths divided by
    8 and one epoch each instead of 5 and 3."""
    teacher = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.MaxPooling2D(pool_size=(2, 2), strides=(1, 1), padding="same"),
            layers.Conv2D(64, (3, 3), strides=(2, 2), padding="same"),
            layers.Flatten(),
            layers.Dense(10),
        ],
        name="teacher",
    )

    student = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(16, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.MaxPooling2D(pool_size=(2, 2), strides=(1, 1), padding="same"),
            layers.Conv2D(32, (3, 3), strides=(2, 2), padding="same"),
            layers.Flatten(),
            layers.Dense(10),
        ],
        name="student",
    )

    # Clone student for later comparison
    student_scratch = keras.models.clone_model(student)

    x_train = rng.integers(0, 256, (64, 28, 28)).astype("uint8")
    y_train = rng.integers(0, 10, 64)
    x_test = rng.integers(0, 256, (32, 28, 28)).astype("uint8")
    y_test = rng.integers(0, 10, 32)

    x_train = x_train.astype("float32") / 255.0
    x_train = np.reshape(x_train, (-1, 28, 28, 1))

    x_test = x_test.astype("float32") / 255.0
    x_test = np.reshape(x_test, (-1, 28, 28, 1))

    # Train teacher as usual
    teacher.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    teacher.fit(x_train, y_train, epochs=1, verbose=0)
    teacher.evaluate(x_test, y_test, verbose=0)

    distiller = Distiller(student=student, teacher=teacher)
    distiller.compile(
        optimizer=keras.optimizers.Adam(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
        student_loss_fn=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        distillation_loss_fn=keras.losses.KLDivergence(),
        alpha=0.1,
        temperature=10,
    )

    before = [w.numpy().copy() for w in student.weights]
    history = distiller.fit(x_train, y_train, epochs=1, verbose=0)
    results = distiller.evaluate(x_test, y_test, verbose=0)

    student_scratch.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    student_scratch.fit(x_train, y_train, epochs=1, verbose=0)
    student_scratch.evaluate(x_test, y_test, verbose=0)

    assert set(history.history) == {"loss", "sparse_categorical_accuracy"}
    assert all(not np.array_equal(b, w.numpy()) for b, w in zip(before, student.weights))
    # clone_model: the same architecture with fresh weights
    assert [w.shape for w in student_scratch.weights] == [w.shape for w in student.weights]
    assert student_scratch.layers[0] is not student.layers[0]
    # evaluate's loss is compute_loss's: alpha * CE + (1 - alpha) * T^2 * KL(teacher || student)
    loss, acc = results
    logits_s = student.predict(x_test, verbose=0)
    logits_t = teacher.predict(x_test, verbose=0)

    def softmax(z):
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    ce = -np.mean(np.log(softmax(logits_s)[np.arange(32), y_test]))
    p, q = np.clip(softmax(logits_t / 10), 1e-7, 1), np.clip(softmax(logits_s / 10), 1e-7, 1)
    kl = np.mean(np.sum(p * np.log(p / q), axis=1))
    assert loss == pytest.approx(0.1 * ce + 0.9 * 100 * kl, rel=1e-4)
    assert acc == pytest.approx(np.mean(logits_s.argmax(1) == y_test))


# -- keras.io/guides/writing_a_training_loop_from_scratch (TensorFlow) ------------------------
def test_training_loop_from_scratch_end_to_end_gan(rng):
    """The guide's GAN on 64 random 28x28 digits, batch 16, the convolutions' widths divided
    by 4 (tf.function is left out: shenjing has none)."""
    discriminator = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(16, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(32, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )
    summary = []
    discriminator.summary(print_fn=summary.append)

    latent_dim = 128

    generator = keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            # We want to generate 128 coefficients to reshape into a 7x7x128 map
            layers.Dense(7 * 7 * 32),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Reshape((7, 7, 32)),
            layers.Conv2DTranspose(32, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(32, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
        ],
        name="generator",
    )

    d_optimizer = keras.optimizers.Adam(learning_rate=0.0003)
    g_optimizer = keras.optimizers.Adam(learning_rate=0.0004)
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    def train_step(real_images):
        # Sample random points in the latent space
        random_latent_vectors = tf.random.normal(shape=(batch_size, latent_dim))
        # Decode them to fake images
        generated_images = generator(random_latent_vectors)
        # Combine them with real images
        combined_images = tf.concat([generated_images, real_images], axis=0)

        # Assemble labels discriminating real from fake images
        labels = tf.concat(
            [tf.ones((batch_size, 1)), tf.zeros((real_images.shape[0], 1))], axis=0
        )
        # Add random noise to the labels - important trick!
        labels += 0.05 * tf.random.uniform(labels.shape)

        # Train the discriminator
        with tf.GradientTape() as tape:
            predictions = discriminator(combined_images)
            d_loss = loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, discriminator.trainable_weights)
        d_optimizer.apply(grads, discriminator.trainable_weights)

        # Sample random points in the latent space
        random_latent_vectors = tf.random.normal(shape=(batch_size, latent_dim))
        # Assemble labels that say "all real images"
        misleading_labels = tf.zeros((batch_size, 1))

        # Train the generator (note that we should *not* update the weights
        # of the discriminator)!
        with tf.GradientTape() as tape:
            predictions = discriminator(generator(random_latent_vectors))
            g_loss = loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, generator.trainable_weights)
        g_optimizer.apply(grads, generator.trainable_weights)
        return d_loss, g_loss, generated_images

    batch_size = 16
    x_train = rng.integers(0, 256, (48, 28, 28)).astype("uint8")
    x_test = rng.integers(0, 256, (16, 28, 28)).astype("uint8")
    all_digits = np.concatenate([x_train, x_test])
    all_digits = all_digits.astype("float32") / 255.0
    all_digits = np.reshape(all_digits, (-1, 28, 28, 1))
    dataset = tf.data.Dataset.from_tensor_slices(all_digits)
    dataset = dataset.shuffle(buffer_size=1024).batch(batch_size)

    epochs = 1
    save_dir = "./"
    printed = []
    d_before = [w.numpy().copy() for w in discriminator.trainable_weights]
    g_before = [w.numpy().copy() for w in generator.trainable_weights]

    for epoch in range(epochs):  # noqa: B007 - the example prints it
        for step, real_images in enumerate(dataset):
            d_loss, g_loss, generated_images = train_step(real_images)

            if step % 2 == 0:
                printed.append(f"discriminator loss at step {step}: {d_loss:.2f}")
                printed.append(f"adversarial loss at step {step}: {g_loss:.2f}")

                img = keras.utils.array_to_img(generated_images[0] * 255.0, scale=False)
                img.save(os.path.join(save_dir, "generated_img" + str(step) + ".png"))

            if step > 10:
                break

    assert "global_max_pooling2d" in "\n".join(summary)
    assert len(printed) == 4 and re.fullmatch(r"discriminator loss at step 0: \d+\.\d\d",
                                              printed[0])
    assert os.path.exists("generated_img0.png") and os.path.exists("generated_img2.png")
    assert generated_images.shape == (16, 28, 28, 1)
    assert all(not np.array_equal(b, w.numpy())
               for b, w in zip(d_before + g_before,
                               discriminator.trainable_weights + generator.trainable_weights))


def test_training_loop_from_scratch_with_metrics_and_losses(rng):
    """The guide's first part: a custom loop with a metric, a validation loop and a layer's
    add_loss, on 256 random MNIST-shaped rows."""
    inputs = keras.Input(shape=(784,), name="digits")
    x1 = keras.layers.Dense(64, activation="relu")(inputs)
    x2 = keras.layers.Dense(64, activation="relu")(x1)
    outputs = keras.layers.Dense(10, name="predictions")(x2)
    model = keras.Model(inputs=inputs, outputs=outputs)

    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    val_acc_metric = keras.metrics.SparseCategoricalAccuracy()

    batch_size = 32
    x_train = rng.random((256, 784)).astype("float32")
    y_train = rng.integers(0, 10, 256)
    x_val = x_train[-64:]
    y_val = y_train[-64:]
    x_train = x_train[:-64]
    y_train = y_train[:-64]

    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(batch_size)
    val_dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val))
    val_dataset = val_dataset.batch(batch_size)

    class ActivityRegularizationLayer(keras.layers.Layer):
        def call(self, inputs):
            self.add_loss(1e-2 * ops.sum(inputs))
            return inputs

    reg_inputs = keras.Input(shape=(784,), name="digits")
    x = keras.layers.Dense(64, activation="relu")(reg_inputs)
    # Insert activity regularization as a layer
    x = ActivityRegularizationLayer()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    reg_outputs = keras.layers.Dense(10, name="predictions")(x)
    reg_model = keras.Model(inputs=reg_inputs, outputs=reg_outputs)

    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = reg_model(x, training=True)
            loss_value = loss_fn(y, logits)
            # Add any extra losses created during the forward pass.
            loss_value += sum(reg_model.losses)
        grads = tape.gradient(loss_value, reg_model.trainable_weights)
        optimizer.apply(grads, reg_model.trainable_weights)
        train_acc_metric.update_state(y, logits)
        return loss_value

    def test_step(x, y):
        val_logits = reg_model(x, training=False)
        val_acc_metric.update_state(y, val_logits)

    losses, accs = [], []
    for epoch in range(2):  # noqa: B007 - the example prints it
        for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):  # noqa: B007
            loss_value = train_step(x_batch_train, y_batch_train)
            losses.append(float(loss_value))
        train_acc = train_acc_metric.result()
        train_acc_metric.reset_state()
        for x_batch_val, y_batch_val in val_dataset:
            test_step(x_batch_val, y_batch_val)
        val_acc = val_acc_metric.result()
        val_acc_metric.reset_state()
        accs.append((float(train_acc), float(val_acc)))

    assert model.count_params() == 784 * 64 + 64 + 64 * 64 + 64 + 650
    assert len(losses) == 12 and all(np.isfinite(losses))
    assert len(reg_model.losses) == 1
    h = reg_model.layers[1](x_val[:4])
    assert float(reg_model(x_val[:4]) is not None and reg_model.losses[0]) == pytest.approx(
        1e-2 * float(np.sum(h.numpy())), rel=1e-4)
    assert all(0 <= a <= 1 and 0 <= b <= 1 for a, b in accs)


# -- keras.io/guides/making_new_layers_and_models_via_subclassing ------------------------------
def test_custom_layers_of_the_subclassing_guide():
    """The guide's weight, non-trainable weight, add_loss and training-flag patterns, and a
    running mean kept in a non-trainable weight updated in call (BatchNormalization's way)."""

    class Linear(keras.layers.Layer):
        def __init__(self, units=32, input_dim=32):
            super().__init__()
            self.w = self.add_weight(
                shape=(input_dim, units),
                initializer="random_normal",
                trainable=True,
            )
            self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

    x = ops.ones((2, 2))
    linear_layer = Linear(4, 2)
    y = linear_layer(x)
    assert y.shape == (2, 4)
    assert linear_layer.weights == [linear_layer.w, linear_layer.b]

    class ComputeSum(keras.layers.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(
                initializer="zeros", shape=(input_dim,), trainable=False
            )

        def call(self, inputs):
            self.total.assign_add(ops.sum(inputs, axis=0))
            return self.total

    x = ops.ones((2, 2))
    my_sum = ComputeSum(2)
    y = my_sum(x)
    np.testing.assert_array_equal(y.numpy(), [2.0, 2.0])
    y = my_sum(x)
    np.testing.assert_array_equal(y.numpy(), [4.0, 4.0])
    assert len(my_sum.weights) == 1
    assert len(my_sum.non_trainable_weights) == 1
    assert my_sum.trainable_weights == []

    class RunningMean(keras.layers.Layer):
        def __init__(self, momentum=0.9, **kwargs):
            super().__init__(**kwargs)
            self.momentum = momentum

        def build(self, input_shape):
            self.mean = self.add_weight(shape=(input_shape[-1],), initializer="zeros",
                                        trainable=False, name="mean")
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones",
                                         name="scale")

        def call(self, inputs, training=False):
            if training:
                batch_mean = ops.mean(inputs, axis=0)
                self.mean.assign(self.momentum * self.mean + (1 - self.momentum) * batch_mean)
                return (inputs - batch_mean) * self.scale
            return (inputs - self.mean) * self.scale

    inputs = keras.Input(shape=(3,))
    outputs = RunningMean()(inputs)
    model = keras.Model(inputs, outputs)
    layer = model.layers[1]
    model.compile(optimizer="sgd", loss="mse")
    data = np.arange(12, dtype="float32").reshape(4, 3) + 1
    model.fit(data, np.zeros((4, 3)), batch_size=4, epochs=2, verbose=0)
    # two training batches: the mean moved twice towards the batch mean, with no gradient step
    batch_mean = data.mean(0)
    np.testing.assert_allclose(layer.mean.numpy(), (1 - 0.9**2) * batch_mean, rtol=1e-5)
    assert [w.name for w in layer.trainable_weights] == ["scale"]
    scale = layer.scale.numpy()
    assert not np.allclose(scale, 1.0)
    np.testing.assert_allclose(model.predict(data, verbose=0),
                               (data - layer.mean.numpy()) * scale, rtol=1e-5)
    np.testing.assert_allclose(model(data, training=True).numpy(), (data - batch_mean) * scale,
                               rtol=1e-5)

    class ActivityRegularizationLayer(keras.layers.Layer):
        def __init__(self, rate=1e-2):
            super().__init__()
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * ops.mean(inputs))
            return inputs

    class OuterLayer(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.activity_reg = ActivityRegularizationLayer(1e-2)

        def call(self, inputs):
            return self.activity_reg(inputs)

    layer = OuterLayer()
    assert len(layer.losses) == 0  # No losses yet since the layer has never been called
    _ = layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1  # We created one loss value
    # `layer.losses` gets reset at the start of each __call__
    _ = layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1  # This is the loss created during the call above

    class OuterLayerWithKernelRegularizer(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(
                32, kernel_regularizer=keras.regularizers.l2(1e-3)
            )

        def call(self, inputs):
            return self.dense(inputs)

    layer = OuterLayerWithKernelRegularizer()
    _ = layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1
    assert float(layer.losses[0]) == pytest.approx(
        1e-3 * float(np.sum(layer.dense.kernel.numpy() ** 2)), rel=1e-5)

    inputs = keras.Input(shape=(3,))
    outputs = ActivityRegularizationLayer()(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    x, y = np.random.random((2, 3)), np.random.random((2, 3))
    logs = model.fit(x, y, verbose=0).history
    expected = np.mean((x - y) ** 2) + 1e-2 * np.mean(x)
    assert logs["loss"][0] == pytest.approx(expected, rel=1e-4)
    model.compile(optimizer="adam")
    logs = model.fit(x, y, verbose=0).history
    assert logs["loss"][0] == pytest.approx(1e-2 * np.mean(x), rel=1e-4)

    class LinearWithConfig(keras.layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units),
                initializer="random_normal",
                trainable=True,
            )
            self.b = self.add_weight(
                shape=(self.units,), initializer="random_normal", trainable=True
            )

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            config = super().get_config()
            config.update({"units": self.units})
            return config

    layer = LinearWithConfig(64)
    config = layer.get_config()
    new_layer = LinearWithConfig.from_config(config)
    assert config["units"] == 64 and new_layer.units == 64

    class CustomDropout(keras.layers.Layer):
        def __init__(self, rate, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, inputs, training=None):
            if training:
                return keras.random.dropout(
                    inputs, rate=self.rate, seed=self.seed_generator
                )
            return inputs

    drop = CustomDropout(0.5)
    x = np.ones((4, 100), dtype="float32")
    np.testing.assert_array_equal(drop(x).numpy(), x)
    y = drop(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 0 < (y == 0).mean() < 1
    inputs = keras.Input(shape=(100,))
    model = keras.Model(inputs, CustomDropout(0.5)(inputs))
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)  # inference in predict
    model.compile(optimizer="sgd", loss="mse")
    seen = []

    class Recorder(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(logs["loss"])

    model.fit(x, np.full_like(x, 1.0), verbose=0, callbacks=[Recorder()])
    assert seen[0] == pytest.approx(1.0, abs=0.5)  # dropout on in fit: (0 or 2) vs 1
