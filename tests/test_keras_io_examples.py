"""keras.io example programs, ported by changing only their imports (``import keras`` ->
``import shenjing as keras``, ``from keras import layers`` -> ``from shenjing import layers``),
run on small synthetic data of the right shapes; what each example prints or plots is checked
as values instead. Each runs in a few seconds at most."""

from __future__ import annotations

import io
import os
import random

import numpy as np
import pytest

import shenjing as keras
import shenjing as tf
from shenjing import layers, ops


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write their checkpoints to the working folder


def _sequences(rng, n, vocab, maxlen):
    seqs = [list(rng.integers(1, vocab, size=rng.integers(3, 2 * maxlen))) for _ in range(n)]
    return keras.utils.pad_sequences(seqs, maxlen=maxlen), rng.integers(0, 2, size=n)


def test_timeseries_classification_from_scratch(rng, tmp_path):
    """keras.io/examples/timeseries/timeseries_classification_from_scratch (FordA's shapes)."""
    t = np.linspace(0, 6, 50)
    y_train, y_test = rng.choice([-1, 1], 96), rng.choice([-1, 1], 32)
    x_train = rng.normal(size=(96, 50)) + (y_train[:, None] == 1) * np.sin(t)
    x_test = rng.normal(size=(32, 50)) + (y_test[:, None] == 1) * np.sin(t)

    x_train = x_train.reshape((x_train.shape[0], x_train.shape[1], 1))
    x_test = x_test.reshape((x_test.shape[0], x_test.shape[1], 1))
    num_classes = len(np.unique(y_train))
    idx = np.random.permutation(len(x_train))
    x_train = x_train[idx]
    y_train = y_train[idx]
    y_train[y_train == -1] = 0
    y_test[y_test == -1] = 0

    def make_model(input_shape):
        input_layer = keras.layers.Input(input_shape)

        conv1 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(input_layer)
        conv1 = keras.layers.BatchNormalization()(conv1)
        conv1 = keras.layers.ReLU()(conv1)

        conv2 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv1)
        conv2 = keras.layers.BatchNormalization()(conv2)
        conv2 = keras.layers.ReLU()(conv2)

        conv3 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv2)
        conv3 = keras.layers.BatchNormalization()(conv3)
        conv3 = keras.layers.ReLU()(conv3)

        gap = keras.layers.GlobalAveragePooling1D()(conv3)

        output_layer = keras.layers.Dense(num_classes, activation="softmax")(gap)

        return keras.models.Model(inputs=input_layer, outputs=output_layer)

    model = make_model(input_shape=x_train.shape[1:])
    epochs = 4
    batch_size = 32
    callbacks = [
        keras.callbacks.ModelCheckpoint(
            "best_model.keras", save_best_only=True, monitor="val_loss"
        ),
        keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=0.5, patience=20, min_lr=0.0001
        ),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=50, verbose=1),
    ]
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        callbacks=callbacks,
        validation_split=0.2,
        verbose=0,
    )
    model = keras.models.load_model("best_model.keras")
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)

    metric = "sparse_categorical_accuracy"
    assert len(history.history[metric]) == len(history.history["val_" + metric]) == epochs
    assert (tmp_path / "best_model.keras").exists()
    assert np.isfinite(test_loss) and 0.0 <= test_acc <= 1.0


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential(
            [layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim),]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs):
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output)
        out1 = self.layernorm1(inputs + attn_output)
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
        positions = ops.arange(start=0, stop=maxlen, step=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


def test_text_classification_with_transformer(rng):
    """keras.io/examples/nlp/text_classification_with_transformer (IMDB's shapes, smaller)."""
    vocab_size = 200
    maxlen = 20
    x_train, y_train = _sequences(rng, 64, vocab_size, maxlen)
    x_val, y_val = _sequences(rng, 32, vocab_size, maxlen)

    embed_dim = 32  # Embedding size for each token
    num_heads = 2  # Number of attention heads
    ff_dim = 32  # Hidden layer size in feed forward network inside transformer

    inputs = layers.Input(shape=(maxlen,))
    embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
    x = embedding_layer(inputs)
    transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim)
    x = transformer_block(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)

    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(
        x_train, y_train, batch_size=32, epochs=2, validation_data=(x_val, y_val), verbose=0
    )
    assert set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    # token and position embeddings, attention (4 kernels + 4 biases), ffn, two layer norms
    assert len(transformer_block.trainable_weights) == 8 + 4 + 4
    assert model.predict(x_val, verbose=0).shape == (32, 2)


def test_bidirectional_lstm_on_imdb(rng):
    """keras.io/examples/nlp/bidirectional_lstm_imdb (smaller vocabulary and length)."""
    max_features = 200
    maxlen = 12
    # Input for variable-length sequences of integers
    inputs = keras.Input(shape=(None,), dtype="int32")
    # Embed each integer in a 128-dimensional vector
    x = layers.Embedding(max_features, 128)(inputs)
    # Add 2 bidirectional LSTMs
    x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(64))(x)
    # Add a classifier
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)

    x_train, y_train = _sequences(rng, 32, max_features, maxlen)
    x_val, y_val = _sequences(rng, 16, max_features, maxlen)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=1, validation_data=(x_val, y_val),
              verbose=0)
    assert model.count_params() == 200 * 128 + 2 * 4 * 64 * (128 + 64 + 1) + 2 * 4 * 64 * (
        128 + 64 + 1) + 129


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class Encoder(layers.Layer):
    """Maps MNIST digits to a triplet (z_mean, z_log_var, z)."""

    def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_mean = layers.Dense(latent_dim)
        self.dense_log_var = layers.Dense(latent_dim)
        self.sampling = Sampling()

    def call(self, inputs):
        x = self.dense_proj(inputs)
        z_mean = self.dense_mean(x)
        z_log_var = self.dense_log_var(x)
        z = self.sampling((z_mean, z_log_var))
        return z_mean, z_log_var, z


class Decoder(layers.Layer):
    """Converts z, the encoded digit vector, back into a readable digit."""

    def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_output = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        x = self.dense_proj(inputs)
        return self.dense_output(x)


class VariationalAutoEncoder(keras.Model):
    """Combines the encoder and decoder into an end-to-end model for training."""

    def __init__(self, original_dim, intermediate_dim=64, latent_dim=32, name="autoencoder",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
        self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        # Add KL divergence regularization loss.
        kl_loss = -0.5 * ops.mean(
            z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1
        )
        self.add_loss(kl_loss)
        return reconstructed


def test_variational_autoencoder_of_the_subclassing_guide(rng):
    """keras.io/guides/making_new_layers_and_models_via_subclassing: the end-to-end VAE."""
    x_train = rng.random((128, 784)).astype("float32")
    vae = VariationalAutoEncoder(784, 64, 32)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    vae.compile(optimizer, loss=keras.losses.MeanSquaredError())
    history = vae.fit(x_train, x_train, epochs=2, batch_size=64, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert len(vae.losses) == 1  # the KL term of the last forward pass


def test_simple_mnist_convnet(rng):
    """keras.io/examples/vision/mnist_convnet (200 random 28x28 digits)."""
    num_classes = 10
    input_shape = (28, 28, 1)
    x_train = rng.integers(0, 256, (200, 28, 28)).astype("uint8")
    y_train = rng.integers(0, 10, 200)
    x_test, y_test = x_train[:50], y_train[:50]
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)
    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    batch_size = 128
    epochs = 1
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1,
              verbose=0)
    score = model.evaluate(x_test, y_test, verbose=0)
    assert model.count_params() == 34826  # the example's printed summary
    assert len(score) == 2 and 0.0 <= score[1] <= 1.0


def test_image_classification_from_scratch(rng):
    """keras.io/examples/vision/image_classification_from_scratch: augmentation mapped over the
    training batches, the Xception-style residual network, save_at_{epoch} checkpoints, and a
    prediction on one image file (8 random 16x16 images for the Cats vs Dogs folders)."""
    from PIL import Image

    image_size = (16, 16)
    images = rng.integers(0, 256, (8, 16, 16, 3)).astype("float32")
    train_ds = keras.data.DataLoader(images, rng.integers(0, 2, 8), batch_size=4, shuffle=True)
    val_ds = keras.data.DataLoader(images[:4], rng.integers(0, 2, 4), batch_size=4)
    Image.fromarray(images[0].astype("uint8")).save("6779.jpg")

    data_augmentation_layers = [
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.1),
    ]

    def data_augmentation(images):
        for layer in data_augmentation_layers:
            images = layer(images)
        return images

    seen = []
    train_ds = train_ds.map(
        lambda img, label: (data_augmentation(img), label),
    ).map(lambda img, label: (seen.append(img) or img, label))
    train_ds = train_ds.prefetch(2)

    def make_model(input_shape, num_classes):
        inputs = keras.Input(shape=input_shape)

        # Entry block
        x = layers.Rescaling(1.0 / 255)(inputs)
        x = layers.Conv2D(128, 3, strides=2, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)

        previous_block_activation = x  # Set aside residual

        for size in [256, 512, 728]:
            x = layers.Activation("relu")(x)
            x = layers.SeparableConv2D(size, 3, padding="same")(x)
            x = layers.BatchNormalization()(x)

            x = layers.Activation("relu")(x)
            x = layers.SeparableConv2D(size, 3, padding="same")(x)
            x = layers.BatchNormalization()(x)

            x = layers.MaxPooling2D(3, strides=2, padding="same")(x)

            # Project residual
            residual = layers.Conv2D(size, 1, strides=2, padding="same")(
                previous_block_activation
            )
            x = layers.add([x, residual])  # Add back residual
            previous_block_activation = x  # Set aside next residual

        x = layers.SeparableConv2D(1024, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)

        x = layers.GlobalAveragePooling2D()(x)
        if num_classes == 2:
            units = 1
        else:
            units = num_classes

        x = layers.Dropout(0.25)(x)
        # We specify activation=None so as to return logits
        outputs = layers.Dense(units, activation=None)(x)
        return keras.Model(inputs, outputs)

    model = make_model(input_shape=image_size + (3,), num_classes=2)
    epochs = 1
    callbacks = [
        keras.callbacks.ModelCheckpoint("save_at_{epoch}.keras"),
    ]
    model.compile(
        optimizer=keras.optimizers.Adam(3e-4),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(name="acc")],
    )
    history = model.fit(train_ds, epochs=epochs, callbacks=callbacks, validation_data=val_ds,
                        verbose=0)

    img = keras.utils.load_img("6779.jpg", target_size=image_size)
    img_array = keras.utils.img_to_array(img)
    img_array = keras.ops.expand_dims(img_array, 0)  # Create batch axis
    predictions = model.predict(img_array, verbose=0)
    score = float(keras.ops.sigmoid(predictions[0][0]))

    assert set(history.history) >= {"loss", "acc", "val_loss", "val_acc"}
    assert 0.0 < score < 1.0
    assert keras.models.load_model("save_at_1.keras").count_params() == model.count_params()
    # the mapped augmentation changed the training images (Keras 3: training=True by default)
    augmented = np.concatenate([np.asarray(getattr(b, "data", b)) for b in seen])
    assert not any(np.array_equal(a, x) for a in augmented for x in images)


# -- keras.io/examples/generative/dcgan_overriding_train_step (Keras 3, TensorFlow) ------------
class GAN(keras.Model):
    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(1337)

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def train_step(self, real_images):
        # Sample random points in the latent space
        batch_size = ops.shape(real_images)[0]
        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator
        )

        # Decode them to fake images
        generated_images = self.generator(random_latent_vectors)

        # Combine them with real images
        combined_images = ops.concatenate([generated_images, real_images], axis=0)

        # Assemble labels discriminating real from fake images
        labels = ops.concatenate(
            [ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))], axis=0
        )
        # Add random noise to the labels - important trick!
        labels += 0.05 * tf.random.uniform(tf.shape(labels))

        # Train the discriminator
        with tf.GradientTape() as tape:
            predictions = self.discriminator(combined_images)
            d_loss = self.loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(
            zip(grads, self.discriminator.trainable_weights)
        )

        # Sample random points in the latent space
        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator
        )

        # Assemble labels that say "all real images"
        misleading_labels = ops.zeros((batch_size, 1))

        # Train the generator (note that we should *not* update the weights
        # of the discriminator)!
        with tf.GradientTape() as tape:
            predictions = self.discriminator(self.generator(random_latent_vectors))
            g_loss = self.loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        # Update metrics
        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {
            "d_loss": self.d_loss_metric.result(),
            "g_loss": self.g_loss_metric.result(),
        }


class GANMonitor(keras.callbacks.Callback):
    def __init__(self, num_img=3, latent_dim=128):
        self.num_img = num_img
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(42)

    def on_epoch_end(self, epoch, logs=None):
        random_latent_vectors = keras.random.normal(
            shape=(self.num_img, self.latent_dim), seed=self.seed_generator
        )
        generated_images = self.model.generator(random_latent_vectors)
        generated_images *= 255
        generated_images.numpy()
        for i in range(self.num_img):
            img = keras.utils.array_to_img(generated_images[i])
            img.save("generated_img_%03d_%d.png" % (epoch, i))  # noqa: UP031 - as written


def test_dcgan_to_generate_face_images(rng):
    """keras.io/examples/generative/dcgan_overriding_train_step: 8 random 16x16 "faces" in a
    CelebA-style folder instead of 64x64 CelebA, and the models' widths divided by 8."""
    from PIL import Image

    os.makedirs("celeba_gan/img_align_celeba")
    for i in range(8):
        Image.fromarray(rng.integers(0, 256, (20, 20, 3)).astype("uint8")).save(
            f"celeba_gan/img_align_celeba/{i:06d}.jpg")

    dataset = keras.utils.image_dataset_from_directory(
        "celeba_gan", label_mode=None, image_size=(16, 16), batch_size=4
    )
    dataset = dataset.map(lambda x: x / 255.0)
    for x in dataset:
        sample = (x.numpy() * 255).astype("int32")[0]  # plt.imshow(...)
        break

    discriminator = keras.Sequential(
        [
            keras.Input(shape=(16, 16, 3)),
            layers.Conv2D(8, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(16, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(16, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Flatten(),
            layers.Dropout(0.2),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="discriminator",
    )
    latent_dim = 16
    generator = keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            layers.Dense(2 * 2 * 16),
            layers.Reshape((2, 2, 16)),
            layers.Conv2DTranspose(16, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(32, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(64, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(3, kernel_size=5, padding="same", activation="sigmoid"),
        ],
        name="generator",
    )

    epochs = 2  # In practice, use ~100 epochs
    gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate=0.0001),
        g_optimizer=keras.optimizers.Adam(learning_rate=0.0001),
        loss_fn=keras.losses.BinaryCrossentropy(),
    )
    history = gan.fit(
        dataset, epochs=epochs, callbacks=[GANMonitor(num_img=3, latent_dim=latent_dim)],
        verbose=0,
    )

    assert sample.shape == (16, 16, 3) and 0 <= sample.min() and sample.max() <= 255
    assert list(history.history) == ["d_loss", "g_loss"]
    assert all(np.isfinite(history.history["d_loss"] + history.history["g_loss"]))
    assert gan.d_optimizer.iterations == gan.g_optimizer.iterations == 2 * epochs
    # Keras's summary counts for these widths: 4*4*3*8+8, 4*4*8*16+16, 4*4*16*16+16, 64+1
    assert discriminator.count_params() == 392 + 2064 + 4112 + 65
    with Image.open("generated_img_001_2.png") as saved:
        assert saved.size == (16, 16) and saved.mode == "RGB"


# -- keras.io/examples/generative/vae (Keras 3, TensorFlow backend) ------------------------------
class VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(
            name="reconstruction_loss"
        )
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [
            self.total_loss_tracker,
            self.reconstruction_loss_tracker,
            self.kl_loss_tracker,
        ]

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = ops.mean(
                ops.sum(
                    keras.losses.binary_crossentropy(data, reconstruction),
                    axis=(1, 2),
                )
            )
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {
            "loss": self.total_loss_tracker.result(),
            "reconstruction_loss": self.reconstruction_loss_tracker.result(),
            "kl_loss": self.kl_loss_tracker.result(),
        }


def test_variational_autoencoder(rng):
    """keras.io/examples/generative/vae: the convolutional VAE as written (its Sampling layer is
    the one above), on 64 random 28x28 "digits"; the plots' predict calls as values."""
    latent_dim = 2

    encoder_inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")

    latent_inputs = keras.Input(shape=(latent_dim,))
    x = layers.Dense(7 * 7 * 64, activation="relu")(latent_inputs)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    decoder_outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
    decoder = keras.Model(latent_inputs, decoder_outputs, name="decoder")

    x_train = rng.integers(0, 256, (48, 28, 28)).astype("uint8")
    x_test = rng.integers(0, 256, (16, 28, 28)).astype("uint8")
    mnist_digits = np.concatenate([x_train, x_test], axis=0)
    mnist_digits = np.expand_dims(mnist_digits, -1).astype("float32") / 255

    vae = VAE(encoder, decoder)
    vae.compile(optimizer=keras.optimizers.Adam())
    history = vae.fit(mnist_digits, epochs=2, batch_size=32, verbose=0)

    z_sample = np.array([[0.5, -0.5]])  # plot_latent_space
    x_decoded = vae.decoder.predict(z_sample, verbose=0)
    digit = x_decoded[0].reshape(28, 28)
    z_mean, _, _ = vae.encoder.predict(mnist_digits, verbose=0)  # plot_label_clusters

    assert encoder.count_params() == 69076 and decoder.count_params() == 65089  # summaries
    assert list(history.history) == ["loss", "reconstruction_loss", "kl_loss"]
    logs = {k: v[-1] for k, v in history.history.items()}
    assert logs["loss"] == pytest.approx(logs["reconstruction_loss"] + logs["kl_loss"], rel=1e-5)
    assert 0.0 < logs["reconstruction_loss"] < 28 * 28 * 2 and logs["kl_loss"] >= 0.0
    assert vae.optimizer.iterations == 4
    assert digit.shape == (28, 28) and 0.0 < digit.min() and digit.max() < 1.0
    assert z_mean.shape == (64, 2)


# -- keras.io/examples/structured_data/structured_data_classification_from_scratch -------------
def dataframe_to_dataset(dataframe):
    dataframe = dataframe.copy()
    labels = dataframe.pop("target")
    ds = tf.data.Dataset.from_tensor_slices((dict(dataframe), labels))
    ds = ds.shuffle(buffer_size=len(dataframe))
    return ds


def encode_numerical_feature(feature, name, dataset):
    # Create a Normalization layer for our feature
    normalizer = layers.Normalization()

    # Prepare a Dataset that only yields our feature
    feature_ds = dataset.map(lambda x, y: x[name])
    feature_ds = feature_ds.map(lambda x: tf.expand_dims(x, -1))

    # Learn the statistics of the data
    normalizer.adapt(feature_ds)

    # Normalize the input feature
    encoded_feature = normalizer(feature)
    return encoded_feature


def encode_categorical_feature(feature, name, dataset, is_string):
    lookup_class = layers.StringLookup if is_string else layers.IntegerLookup
    # Create a lookup layer which will turn strings into integer indices
    lookup = lookup_class(output_mode="binary")

    # Prepare a Dataset that only yields our feature
    feature_ds = dataset.map(lambda x, y: x[name])
    feature_ds = feature_ds.map(lambda x: tf.expand_dims(x, -1))

    # Learn the set of possible string values and assign them a fixed integer index
    lookup.adapt(feature_ds)

    # Turn the string input into integer indices
    encoded_feature = lookup(feature)
    return encoded_feature


def test_structured_data_classification_from_scratch(rng):
    """keras.io's structured-data example (Keras 3, TensorFlow backend) on 60 random rows of the
    heart-disease columns, a dict of NumPy columns standing in for the pandas DataFrame
    (``dataframe.copy()``, ``pop``, ``dict(dataframe)`` and ``len`` work on a dict alike).
    FeatureSpace, the other version's API, does not exist in shenjing."""
    n = 60
    dataframe = {
        "age": rng.integers(29, 78, n), "sex": rng.integers(0, 2, n),
        "cp": rng.integers(0, 5, n), "trestbps": rng.integers(94, 201, n),
        "chol": rng.integers(126, 565, n), "fbs": rng.integers(0, 2, n),
        "restecg": rng.integers(0, 3, n), "thalach": rng.integers(71, 203, n),
        "exang": rng.integers(0, 2, n), "oldpeak": rng.integers(0, 63, n) / 10,
        "slope": rng.integers(1, 4, n), "ca": rng.integers(0, 4, n),
        "thal": rng.choice(["fixed", "normal", "reversible"], n),
        "target": rng.integers(0, 2, n),
    }
    val_rows = rng.permutation(n)[:12]  # dataframe.sample(frac=0.2, random_state=1337)
    val_dataframe = {k: v[val_rows] for k, v in dataframe.items()}
    train_dataframe = {k: np.delete(v, val_rows) for k, v in dataframe.items()}

    train_ds = dataframe_to_dataset(train_dataframe)
    val_ds = dataframe_to_dataset(val_dataframe)
    for x, y in train_ds.take(1):
        first = (x, y)  # print("Input:", x); print("Target:", y)
    train_ds = train_ds.batch(32)
    val_ds = val_ds.batch(32)

    # Categorical features encoded as integers
    sex = keras.Input(shape=(1,), name="sex", dtype="int64")
    cp = keras.Input(shape=(1,), name="cp", dtype="int64")
    fbs = keras.Input(shape=(1,), name="fbs", dtype="int64")
    restecg = keras.Input(shape=(1,), name="restecg", dtype="int64")
    exang = keras.Input(shape=(1,), name="exang", dtype="int64")
    ca = keras.Input(shape=(1,), name="ca", dtype="int64")

    # Categorical feature encoded as string
    thal = keras.Input(shape=(1,), name="thal", dtype="string")

    # Numerical features
    age = keras.Input(shape=(1,), name="age")
    trestbps = keras.Input(shape=(1,), name="trestbps")
    chol = keras.Input(shape=(1,), name="chol")
    thalach = keras.Input(shape=(1,), name="thalach")
    oldpeak = keras.Input(shape=(1,), name="oldpeak")
    slope = keras.Input(shape=(1,), name="slope")

    all_inputs = [sex, cp, fbs, restecg, exang, ca, thal, age, trestbps, chol, thalach,
                  oldpeak, slope]

    # Integer categorical features
    sex_encoded = encode_categorical_feature(sex, "sex", train_ds, False)
    cp_encoded = encode_categorical_feature(cp, "cp", train_ds, False)
    fbs_encoded = encode_categorical_feature(fbs, "fbs", train_ds, False)
    restecg_encoded = encode_categorical_feature(restecg, "restecg", train_ds, False)
    exang_encoded = encode_categorical_feature(exang, "exang", train_ds, False)
    ca_encoded = encode_categorical_feature(ca, "ca", train_ds, False)

    # String categorical features
    thal_encoded = encode_categorical_feature(thal, "thal", train_ds, True)

    # Numerical features
    age_encoded = encode_numerical_feature(age, "age", train_ds)
    trestbps_encoded = encode_numerical_feature(trestbps, "trestbps", train_ds)
    chol_encoded = encode_numerical_feature(chol, "chol", train_ds)
    thalach_encoded = encode_numerical_feature(thalach, "thalach", train_ds)
    oldpeak_encoded = encode_numerical_feature(oldpeak, "oldpeak", train_ds)
    slope_encoded = encode_numerical_feature(slope, "slope", train_ds)

    all_features = layers.concatenate(
        [
            sex_encoded,
            cp_encoded,
            fbs_encoded,
            restecg_encoded,
            exang_encoded,
            slope_encoded,
            ca_encoded,
            thal_encoded,
            age_encoded,
            trestbps_encoded,
            chol_encoded,
            thalach_encoded,
            oldpeak_encoded,
        ]
    )
    x = layers.Dense(32, activation="relu")(all_features)
    x = layers.Dropout(0.5)(x)
    output = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(all_inputs, output)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])

    # `rankdir='LR'` is to make the graph horizontal.
    keras.utils.plot_model(model, show_shapes=True, rankdir="LR")

    history = model.fit(train_ds, epochs=3, validation_data=val_ds, verbose=0)

    sample = {
        "age": 60,
        "sex": 1,
        "cp": 1,
        "trestbps": 145,
        "chol": 233,
        "fbs": 1,
        "restecg": 2,
        "thalach": 150,
        "exang": 0,
        "oldpeak": 2.3,
        "slope": 3,
        "ca": 0,
        "thal": "fixed",
    }
    input_dict = {name: tf.convert_to_tensor([value]) for name, value in sample.items()}
    predictions = model.predict(input_dict, verbose=0)

    assert set(first[0]) == set(sample) and first[1].numpy() in (0, 1)
    # one-hot widths: the values seen plus one out-of-vocabulary slot ("binary" = multi_hot)
    assert all_features.shape[-1] == (2 + 5 + 2 + 3 + 2 + 4 + 3) + 7 + 6
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert os.path.exists("model.png")
    assert predictions.shape == (1, 1) and 0.0 < predictions[0][0] < 1.0


# -- keras.io/examples/generative/lstm_character_level_text_generation (Keras 3) ---------------
def test_character_level_text_generation_with_lstm():
    """A few sentences written to nietzsche.txt instead of get_file's download; 2 epochs of 20
    generated characters instead of 40 of 400."""
    with open("nietzsche.txt", "w", encoding="utf-8") as f:
        f.write(3 * "Supposing that Truth is a woman--what then? Is there not ground\n"
                    "for suspecting that all philosophers, in so far as they have been\n"
                    "dogmatists, have failed to understand women.\n")
    path = "nietzsche.txt"
    with io.open(path, encoding="utf-8") as f:  # noqa: UP020 - as written
        text = f.read().lower()
    text = text.replace("\n", " ")  # We remove newlines chars for nicer display

    chars = sorted(list(set(text)))
    char_indices = dict((c, i) for i, c in enumerate(chars))
    indices_char = dict((i, c) for i, c in enumerate(chars))

    # cut the text in semi-redundant sequences of maxlen characters
    maxlen = 40
    step = 3
    sentences = []
    next_chars = []
    for i in range(0, len(text) - maxlen, step):
        sentences.append(text[i : i + maxlen])
        next_chars.append(text[i + maxlen])

    x = np.zeros((len(sentences), maxlen, len(chars)), dtype="bool")
    y = np.zeros((len(sentences), len(chars)), dtype="bool")
    for i, sentence in enumerate(sentences):
        for t, char in enumerate(sentence):
            x[i, t, char_indices[char]] = 1
        y[i, char_indices[next_chars[i]]] = 1

    model = keras.Sequential(
        [
            keras.Input(shape=(maxlen, len(chars))),
            layers.LSTM(128),
            layers.Dense(len(chars), activation="softmax"),
        ]
    )
    optimizer = keras.optimizers.RMSprop(learning_rate=0.01)
    model.compile(loss="categorical_crossentropy", optimizer=optimizer)

    def sample(preds, temperature=1.0):
        # helper function to sample an index from a probability array
        preds = np.asarray(preds).astype("float64")
        preds = np.log(preds) / temperature
        exp_preds = np.exp(preds)
        preds = exp_preds / np.sum(exp_preds)
        probas = np.random.multinomial(1, preds, 1)
        return np.argmax(probas)

    epochs = 2
    batch_size = 128
    losses, texts = [], []
    for epoch in range(epochs):  # noqa: B007 - the example prints it
        losses += model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0).history["loss"]

        start_index = random.randint(0, len(text) - maxlen - 1)
        for diversity in [0.2, 0.5, 1.0, 1.2]:
            generated = ""
            sentence = text[start_index : start_index + maxlen]

            for i in range(20):  # noqa: B007 - as written
                x_pred = np.zeros((1, maxlen, len(chars)))
                for t, char in enumerate(sentence):
                    x_pred[0, t, char_indices[char]] = 1.0
                preds = model.predict(x_pred, verbose=0)[0]
                next_index = sample(preds, diversity)
                next_char = indices_char[next_index]
                sentence = sentence[1:] + next_char
                generated += next_char
            texts.append(generated)

    assert model.count_params() == 4 * 128 * (len(chars) + 128 + 1) + 129 * len(chars)
    # one RMSprop step per epoch (fewer sequences than a batch) from the uniform guess
    assert losses[0] == pytest.approx(np.log(len(chars)), rel=0.05) and np.isfinite(losses[1])
    assert len(texts) == 8 and all(len(t) == 20 and set(t) <= set(chars) for t in texts)


# -- keras.io/examples/vision/autoencoder (Keras 3) ----------------------------------------------
def test_convolutional_autoencoder_for_image_denoising():
    """The denoising autoencoder on 64 + 16 random 28x28 images instead of MNIST's 70,000,
    one epoch of each fit instead of 50 and 100 (``from keras.models import Model`` became
    ``from shenjing.models import Model``)."""
    from shenjing.models import Model

    def preprocess(array):
        """Normalizes the supplied array and reshapes it."""
        array = array.astype("float32") / 255.0
        array = np.reshape(array, (len(array), 28, 28, 1))
        return array

    def noise(array):
        """Adds random noise to each image in the supplied array."""
        noise_factor = 0.4
        noisy_array = array + noise_factor * np.random.normal(
            loc=0.0, scale=1.0, size=array.shape
        )

        return np.clip(noisy_array, 0.0, 1.0)

    rng = np.random.default_rng(0)
    train_data = rng.integers(0, 256, (64, 28, 28)).astype("uint8")
    test_data = rng.integers(0, 256, (16, 28, 28)).astype("uint8")

    # Normalize and reshape the data
    train_data = preprocess(train_data)
    test_data = preprocess(test_data)

    # Create a copy of the data with added noise
    noisy_train_data = noise(train_data)
    noisy_test_data = noise(test_data)

    input = layers.Input(shape=(28, 28, 1))

    # Encoder
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(input)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)

    # Decoder
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)

    # Autoencoder
    autoencoder = Model(input, x)
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")

    first = autoencoder.fit(
        x=train_data,
        y=train_data,
        epochs=1,
        batch_size=32,
        shuffle=True,
        validation_data=(test_data, test_data),
        verbose=0,
    )
    predictions = autoencoder.predict(test_data, verbose=0)
    second = autoencoder.fit(
        x=noisy_train_data,
        y=train_data,
        epochs=1,
        batch_size=32,
        shuffle=True,
        validation_data=(noisy_test_data, test_data),
        verbose=0,
    )
    denoised = autoencoder.predict(noisy_test_data, verbose=0)

    assert autoencoder.count_params() == 28353  # the example's summary
    assert [layer.output.shape for layer in autoencoder.layers[1:]] == [
        (None, 28, 28, 32), (None, 14, 14, 32), (None, 14, 14, 32), (None, 7, 7, 32),
        (None, 14, 14, 32), (None, 28, 28, 32), (None, 28, 28, 1)]
    for history in (first, second):
        assert set(history.history) == {"loss", "val_loss"}
        assert all(0.0 < v < 1.0 for v in history.history["val_loss"])
    for out in (predictions, denoised):
        assert out.shape == (16, 28, 28, 1) and out.dtype == np.float32
        assert 0.0 < out.min() and out.max() < 1.0
