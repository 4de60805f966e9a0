"""Keras's "Customizing what happens in fit()": a model overriding ``train_step(self, data)``,
``test_step`` or ``predict_step``. The guide's programs (TensorFlow and PyTorch backends) and
keras.io's GAN and WGAN-GP run here with their imports changed only, on small synthetic data."""
# ruff: noqa: UP008, B007 - the ported programs keep keras.io's super(WGAN, self) and loop variable

import numpy as np
import pytest

import shenjing as keras
import shenjing as tf
import shenjing as torch
from shenjing import layers
from shenjing.utils import set_random_seed


def _regression(n=256, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 32)).astype("float32"), rng.random((n, 1)).astype("float32")


# -- the guide's models (TensorFlow backend) --------------------------------------------------
class TapeModel(keras.Model):
    """The guide's first CustomModel: GradientTape, compute_loss, self.metrics."""

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)  # Forward pass
            loss = self.compute_loss(y=y, y_pred=y_pred)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


class LowerLevelModel(keras.Model):
    """The guide's "going lower-level" model: its own loss and trackers, compiled with an
    optimizer only, its trackers listed by an overridden ``metrics``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.loss_fn(y, y_pred)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


class WeightedModel(keras.Model):
    """The guide's sample_weight version."""

    def train_step(self, data):
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {m.name: m.result() for m in self.metrics}


class EvalStepModel(keras.Model):
    """The guide's custom test_step."""

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


class TorchStyleModel(keras.Model):
    """The PyTorch-backend guide's first CustomModel: zero_grad, backward, v.value.grad."""

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def _linear(cls, seed=0):
    set_random_seed(seed)
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    return cls(inputs, outputs)


def _fit_weights(cls, x, y, **fit_kwargs):
    """The weights after training a fresh ``cls`` model (Adam, mse, mae) two epochs."""
    model = _linear(cls)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    set_random_seed(1)  # the same shuffling for every model
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0, **fit_kwargs)
    return model, history, model.get_weights()


@pytest.mark.parametrize("cls", [TapeModel, TorchStyleModel])
def test_guide_custom_train_step_trains_as_the_built_in_step(cls):
    x, y = _regression()
    _, _, expected = _fit_weights(keras.Model, x, y)
    model, history, weights = _fit_weights(cls, x, y)
    for w, e in zip(weights, expected):
        np.testing.assert_allclose(w, e, rtol=1e-5, atol=1e-6)
    assert list(history.history) == ["loss", "mae"]
    assert all(isinstance(v, float) for v in history.history["loss"])
    assert history.history["loss"][1] < history.history["loss"][0]
    # the "loss" tracker counts batches (the guide's update_state(loss)); reset every epoch
    assert model.metrics[0].name == "loss" and model.metrics[0].count == len(x) // 32


def test_guide_lower_level_model_compiles_without_a_loss_and_resets_its_trackers():
    x, y = _regression()
    model = _linear(LowerLevelModel)
    model.compile(optimizer="adam")
    seen = []
    cb = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.append(model.loss_tracker.count))
    history = model.fit(x, y, epochs=3, batch_size=64, verbose=0, callbacks=[cb])
    assert seen == [0, 0, 0]  # fit reset the metrics the property lists, each epoch
    assert model.loss_tracker.count == 4
    assert list(history.history) == ["loss", "mae"] and len(history.history["loss"]) == 3
    assert history.history["mae"][-1] == pytest.approx(model.mae_metric.result())
    # evaluate resets them too, then runs the built-in test step with the model's own loss
    with pytest.raises(RuntimeError, match="no loss"):
        model.evaluate(x, y, verbose=0)


def test_guide_sample_weight_model_receives_and_uses_the_weights():
    x, y = _regression()
    sw = np.random.default_rng(2).random((len(x), 1)).astype("float32")
    _, _, expected = _fit_weights(keras.Model, x, y, sample_weight=sw)
    batches = []

    class Recording(WeightedModel):
        def train_step(self, data):
            batches.append(len(data))
            return super().train_step(data)

    _, history, weights = _fit_weights(Recording, x, y, sample_weight=sw)
    assert set(batches) == {3}
    for w, e in zip(weights, expected):
        np.testing.assert_allclose(w, e, rtol=1e-5, atol=1e-6)
    _, _, unweighted = _fit_weights(WeightedModel, x, y)
    assert not np.allclose(unweighted[0], weights[0])
    assert list(history.history) == ["loss", "mae"]


def test_guide_custom_test_step_evaluates_as_the_built_in_one():
    x, y = _regression()  # 256 rows: whole batches, so batch means and sample means agree
    model = _linear(EvalStepModel)
    model.compile(loss="mse", metrics=["mae"])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    plain = _linear(keras.Model)
    plain.compile(loss="mse", metrics=["mae"])
    expected = plain.evaluate(x, y, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "mae"]
    assert logs["loss"] == pytest.approx(expected["loss"], rel=1e-6)
    assert logs["mae"] == pytest.approx(expected["mae"], rel=1e-6)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(list(logs.values()))  # reset first
    # and as fit's validation
    history = model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0)
    assert list(history.history) == ["loss", "mae", "val_loss", "val_mae"]


# -- the protocol's details --------------------------------------------------------------------
def test_data_is_packed_as_keras_packs_it():
    seen = []

    class Probe(keras.Model):
        def train_step(self, data):
            seen.append(data)
            x, y, sw = keras.utils.unpack_x_y_sample_weight(data)
            return {"rows": x.shape[0]}

    model = _linear(Probe)
    model.compile()
    x, y = _regression(64)
    model.fit(x, batch_size=32, verbose=0)
    model.fit(x, y, batch_size=32, verbose=0)
    history = model.fit(x, y, sample_weight=np.ones(64), batch_size=32, verbose=0)
    assert isinstance(seen[0], keras.Tensor) and seen[0].shape == (32, 32)
    assert isinstance(seen[2], tuple) and len(seen[2]) == 2
    assert isinstance(seen[4], tuple) and len(seen[4]) == 3
    assert history.history == {"rows": [32]}
    assert keras.utils.unpack_x_y_sample_weight((1,)) == (1, None, None)
    assert keras.utils.pack_x_y_sample_weight([1, 2]) == ([1, 2],)


def test_logs_may_hold_tensors_floats_and_nested_dicts():
    class Logs(TapeModel):
        def train_step(self, data):
            logs = super().train_step(data)  # {"loss": float, "compile_metrics": {...}}
            return {**logs, "tensor": tf.ones(()), "array": np.float32(2.0)}

    model = _linear(Logs)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x, y = _regression(64)
    history = model.fit(x, y, epochs=1, verbose=0)
    assert list(history.history) == ["loss", "mae", "tensor", "array"]
    assert history.history["tensor"] == [1.0] and history.history["array"] == [2.0]
    assert model.train_on_batch(x, y, return_dict=True)["tensor"] == 1.0

    class Wrong(keras.Model):
        def train_step(self, data):
            return 1.0

    wrong = _linear(Wrong)
    wrong.compile()
    with pytest.raises(TypeError, match="must return a dict"):
        wrong.fit(x, y, verbose=0)

    class Former(keras.Model):
        def train_step(self, x, y, sample_weight=None):
            return {}

    former = _linear(Former)
    former.compile()
    with pytest.raises(TypeError, match=r"must take one batch.*unpack_x_y_sample_weight"):
        former.fit(x, y, verbose=0)


def test_super_train_step_and_compute_metrics_give_the_built_in_logs():
    x, y = _regression()

    class Super(keras.Model):
        def train_step(self, data):
            return super().train_step(data)

    _, expected, _ = _fit_weights(keras.Model, x, y)
    _, history, _ = _fit_weights(Super, x, y)
    assert history.history == expected.history

    model = _linear(keras.Model)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    y_pred = model(x)
    logs = model.compute_metrics(x, y, y_pred)
    assert list(logs) == ["loss", "mae"] and logs["loss"] == 0.0
    assert logs["mae"] == pytest.approx(float(np.abs(y - y_pred.numpy()).mean()), rel=1e-6)
    assert [m.name for m in model.compiled_metrics] == ["mae"]


def test_keras_2_compiled_loss_and_compiled_metrics():
    class Keras2(keras.Model):
        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
            gradients = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
            self.compiled_metrics.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    x, y = _regression()
    _, expected, _ = _fit_weights(keras.Model, x, y)
    _, history, _ = _fit_weights(Keras2, x, y)
    assert list(history.history) == ["loss", "mae"]
    np.testing.assert_allclose(history.history["loss"], expected.history["loss"], rtol=1e-5)


def test_metric_attributes_are_in_metrics_and_reset_each_epoch():
    class Tracked(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.batches = keras.metrics.Mean(name="batches")

        def train_step(self, data):
            self.batches.update_state(1.0)
            return super().train_step(data)

    x, y = _regression(64)
    model = _linear(Tracked)
    model.compile(optimizer="sgd", loss="mse")
    assert [m.name for m in model.metrics] == ["loss", "compile_metrics", "batches"]
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert history.history["batches"] == [1.0, 1.0] and model.batches.count == 4
    assert model.metrics_names == ["loss", "batches"]


def test_predict_step_override():
    class Doubled(keras.Model):
        def predict_step(self, data):
            x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
            return self(x, training=False) * 2.0

    x, _ = _regression(40)
    model = _linear(Doubled)
    np.testing.assert_allclose(model.predict(x, batch_size=16), 2 * model(x).numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x), 2 * model(x).numpy(), rtol=1e-6)


def test_a_step_of_yours_gets_named_inputs_and_targets_as_dicts():
    """Keras 3 hands a train/test/predict step the batch as the user structured it: the
    dicts keyed by input and output name stay dicts (only the built-in steps reorder them)."""
    seen = []

    class Keyed(keras.Model):
        def train_step(self, data):
            x, y = data
            seen.append((sorted(x), sorted(y)))
            return super().train_step(({"a": x["a"], "b": x["b"]}, [y["out"]]))

        def test_step(self, data):
            x, y = data
            seen.append((sorted(x), sorted(y)))
            return super().test_step(data)

    rng = np.random.default_rng(0)
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    model = Keyed([a, b], [layers.Dense(1, name="out")(layers.Concatenate()([a, b]))])
    model.compile(optimizer="sgd", loss="mse")
    x = {"a": rng.random((8, 3), dtype=np.float32), "b": rng.random((8, 2), dtype=np.float32)}
    y = {"out": rng.random((8, 1), dtype=np.float32)}
    model.fit(x, y, batch_size=4, epochs=1, validation_data=(x, y), verbose=0)
    model.train_on_batch(x, y)
    assert seen == [(["a", "b"], ["out"])] * 5


def test_batch_methods_without_targets_for_a_loss_of_its_own():
    """Keras 3's train_on_batch / test_on_batch take y=None: a model whose loss is its own
    (add_loss) needs none."""

    class Shrink(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            y = self.dense(x)
            self.add_loss(keras.ops.mean(y ** 2))
            return y

    x, _ = _regression(16)
    model = Shrink()
    model.compile(optimizer="sgd")
    first = model.test_on_batch(x)
    assert first == pytest.approx(float(np.mean(model.predict(x) ** 2)), rel=1e-5)
    model.train_on_batch(x)
    assert model.test_on_batch(x) < first


def test_metrics_of_sublayers_are_the_models_and_building_leaves_them_alone():
    """Keras 3: a metric a layer holds is in model.metrics (logged, reset each epoch); the
    functional API's trial runs on zeros do not count in it."""

    class Probe(layers.Layer):
        def __init__(self):
            super().__init__()
            self.seen = keras.metrics.Sum(name="seen")

        def call(self, x):
            self.seen.update_state(keras.ops.ones((x.shape[0],)))
            return x

    probe = Probe()
    probe(np.ones((2, 3), np.float32))  # a real call counts; the model's trial runs do not
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1), probe])
    assert float(probe.seen.result()) == 2.0
    assert probe.compute_output_shape((None, 3)) == (None, 3)
    assert float(probe.seen.result()) == 2.0
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((10, 3), np.float32), np.zeros((10, 1), np.float32)
    history = model.fit(x, y, batch_size=5, epochs=2, verbose=0)
    assert history.history["seen"] == [10.0, 10.0]
    assert model.evaluate(x, y, verbose=0, return_dict=True)["seen"] == 10.0


def test_compute_loss_takes_keras_keywords_and_the_former_positional_order():
    x, y = _regression(8)
    model = _linear(keras.Model)
    model.compile(loss="mse")
    y_pred = model(x)
    by_keyword = model.compute_loss(x=x, y=y, y_pred=y_pred, training=False)
    assert float(model.compute_loss(y, y_pred).data) == pytest.approx(float(by_keyword.data))
    with pytest.raises(TypeError, match="y_pred"):
        model.compute_loss(y=y)


def test_an_overridden_compute_loss_is_the_loss_of_fit_and_evaluate():
    """Keras 3's built-in steps call compute_loss (keras.io's knowledge distillation overrides
    only it), positionally, with training= where the override takes it (Keras 3.0's had none)."""
    calls = []

    class Scaled(keras.Model):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                         allow_empty=False):
            calls.append((type(x).__name__, sample_weight is None))
            return 3.0 * keras.ops.mean(keras.ops.abs(y - y_pred))

    class WithTraining(keras.Model):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            calls.append(training)
            return super().compute_loss(x, y, y_pred, sample_weight, training) * 0.0 + 1.0

    x, y = _regression(32)
    model = _linear(Scaled)
    model.compile(optimizer="sgd", metrics=["mae"])  # no compiled loss: the override is one
    logs = model.fit(x, y, batch_size=32, verbose=0).history
    assert logs["loss"][0] == pytest.approx(3 * logs["mae"][0], rel=1e-5)
    loss, mae = model.evaluate(x, y, verbose=0)
    assert loss == pytest.approx(3 * mae, rel=1e-5) and calls == [("ndarray", True)] * 2
    calls.clear()
    model = _linear(WithTraining)
    model.compile(optimizer="sgd", loss="mse")
    assert model.fit(x, y, batch_size=32, verbose=0).history["loss"] == [1.0]
    assert model.evaluate(x, y, verbose=0) == 1.0 and calls == [True, False]

    class NotATensor(keras.Model):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
            return 1.0

    model = _linear(NotATensor)
    model.compile(optimizer="sgd")
    with pytest.raises(TypeError, match="must return the loss as a scalar Tensor"):
        model.fit(x, y, verbose=0)


# -- two models in one step: the guide's GAN and keras.io's WGAN-GP ---------------------------
class GAN(keras.Model):
    """The guide's end-to-end GAN (TensorFlow version)."""

    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.seed_generator = keras.random.SeedGenerator(1337)

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def train_step(self, real_images):
        if isinstance(real_images, tuple):
            real_images = real_images[0]
        batch_size = tf.shape(real_images)[0]
        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator)
        generated_images = self.generator(random_latent_vectors)
        combined_images = tf.concat([generated_images, real_images], axis=0)
        labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
        labels += 0.05 * keras.random.uniform(tf.shape(labels), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            predictions = self.discriminator(combined_images)
            d_loss = self.loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply(grads, self.discriminator.trainable_weights)
        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator)
        misleading_labels = tf.zeros((batch_size, 1))
        with tf.GradientTape() as tape:
            predictions = self.discriminator(self.generator(random_latent_vectors))
            g_loss = self.loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply(grads, self.generator.trainable_weights)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


def test_guide_gan_trains_two_models_in_one_step():
    set_random_seed(0)
    latent_dim = 8
    discriminator = keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        layers.Conv2D(8, (3, 3), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(8, (3, 3), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.GlobalMaxPooling2D(),
        layers.Dense(1),
    ], name="discriminator")
    generator = keras.Sequential([
        keras.Input(shape=(latent_dim,)),
        layers.Dense(2 * 2 * 8),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Reshape((2, 2, 8)),
        layers.Conv2DTranspose(8, (4, 4), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2DTranspose(8, (4, 4), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(1, (3, 3), padding="same", activation="sigmoid"),
    ], name="generator")
    images = np.random.default_rng(0).random((48, 8, 8, 1)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices(images).shuffle(buffer_size=64).batch(16)

    gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
    gan.compile(d_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
                g_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
                loss_fn=keras.losses.BinaryCrossentropy(from_logits=True))
    d_before, g_before = discriminator.get_weights(), generator.get_weights()
    history = gan.fit(dataset.take(2), epochs=2, verbose=0)
    assert list(history.history) == ["d_loss", "g_loss"]
    assert all(np.isfinite(history.history["d_loss"] + history.history["g_loss"]))
    assert gan.d_optimizer.iterations == gan.g_optimizer.iterations == 4
    assert gan.d_loss_tracker.count == 2  # reset at each epoch
    assert all(not np.array_equal(a, b) for a, b in zip(d_before, discriminator.get_weights()))
    assert all(not np.array_equal(a, b) for a, b in zip(g_before, generator.get_weights()))


IMG_SHAPE = (6, 6, 1)
NOISE_DIM = 8


def conv_block(x, filters, activation, kernel_size=(3, 3), strides=(1, 1), padding="same",
               use_bias=True, use_bn=False, use_dropout=False, drop_value=0.5):
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                      use_bias=use_bias)(x)
    if use_bn:
        x = layers.BatchNormalization()(x)
    x = activation(x)
    if use_dropout:
        x = layers.Dropout(drop_value)(x)
    return x


def get_discriminator_model():
    img_input = layers.Input(shape=IMG_SHAPE)
    x = layers.ZeroPadding2D((1, 1))(img_input)  # 8x8, as the example pads 28 to 32
    x = conv_block(x, 4, kernel_size=(3, 3), strides=(2, 2), use_bn=False, use_bias=True,
                   activation=layers.LeakyReLU(0.2), use_dropout=False, drop_value=0.3)
    x = conv_block(x, 8, kernel_size=(3, 3), strides=(2, 2), use_bn=False,
                   activation=layers.LeakyReLU(0.2), use_bias=True, use_dropout=True,
                   drop_value=0.3)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Dense(1)(x)
    return keras.models.Model(img_input, x, name="discriminator")


def upsample_block(x, filters, activation, kernel_size=(3, 3), strides=(1, 1), up_size=(2, 2),
                   padding="same", use_bn=False, use_bias=True, use_dropout=False,
                   drop_value=0.3):
    x = layers.UpSampling2D(up_size)(x)
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                      use_bias=use_bias)(x)
    if use_bn:
        x = layers.BatchNormalization()(x)
    if activation:
        x = activation(x)
    if use_dropout:
        x = layers.Dropout(drop_value)(x)
    return x


def get_generator_model():
    noise = layers.Input(shape=(NOISE_DIM,))
    x = layers.Dense(2 * 2 * 8, use_bias=False)(noise)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((2, 2, 8))(x)
    x = upsample_block(x, 8, layers.LeakyReLU(0.2), strides=(1, 1), use_bias=False,
                       use_bn=True, padding="same", use_dropout=False)
    x = upsample_block(x, 1, layers.Activation("tanh"), strides=(1, 1), use_bias=False,
                       use_bn=True)
    x = layers.Cropping2D((1, 1))(x)  # 8x8 to 6x6, as the example crops 32 to 28
    return keras.models.Model(noise, x, name="generator")


class WGAN(keras.Model):
    """keras.io's "WGAN-GP overriding Model.train_step"."""

    def __init__(self, discriminator, generator, latent_dim, discriminator_extra_steps=3,
                 gp_weight=10.0):
        super(WGAN, self).__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_steps = discriminator_extra_steps
        self.gp_weight = gp_weight

    def compile(self, d_optimizer, g_optimizer, d_loss_fn, g_loss_fn):
        super(WGAN, self).compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.d_loss_fn = d_loss_fn
        self.g_loss_fn = g_loss_fn

    def gradient_penalty(self, batch_size, real_images, fake_images):
        alpha = tf.random.normal([batch_size, 1, 1, 1], 0.0, 1.0)
        diff = fake_images - real_images
        interpolated = real_images + alpha * diff
        with tf.GradientTape() as gp_tape:
            gp_tape.watch(interpolated)
            pred = self.discriminator(interpolated, training=True)
        grads = gp_tape.gradient(pred, [interpolated])[0]
        norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]))
        gp = tf.reduce_mean((norm - 1.0) ** 2)
        return gp

    def train_step(self, real_images):
        if isinstance(real_images, tuple):
            real_images = real_images[0]
        batch_size = tf.shape(real_images)[0]
        for i in range(self.d_steps):
            random_latent_vectors = tf.random.normal(shape=(batch_size, self.latent_dim))
            with tf.GradientTape() as tape:
                fake_images = self.generator(random_latent_vectors, training=True)
                fake_logits = self.discriminator(fake_images, training=True)
                real_logits = self.discriminator(real_images, training=True)
                d_cost = self.d_loss_fn(real_img=real_logits, fake_img=fake_logits)
                gp = self.gradient_penalty(batch_size, real_images, fake_images)
                d_loss = d_cost + gp * self.gp_weight
            d_gradient = tape.gradient(d_loss, self.discriminator.trainable_variables)
            self.d_optimizer.apply_gradients(
                zip(d_gradient, self.discriminator.trainable_variables))
        random_latent_vectors = tf.random.normal(shape=(batch_size, self.latent_dim))
        with tf.GradientTape() as tape:
            generated_images = self.generator(random_latent_vectors, training=True)
            gen_img_logits = self.discriminator(generated_images, training=True)
            g_loss = self.g_loss_fn(gen_img_logits)
        gen_gradient = tape.gradient(g_loss, self.generator.trainable_variables)
        self.g_optimizer.apply_gradients(zip(gen_gradient, self.generator.trainable_variables))
        return {"d_loss": d_loss, "g_loss": g_loss}


def discriminator_loss(real_img, fake_img):
    real_loss = tf.reduce_mean(real_img)
    fake_loss = tf.reduce_mean(fake_img)
    return fake_loss - real_loss


def generator_loss(fake_img):
    return -tf.reduce_mean(fake_img)


def _wgan():
    set_random_seed(0)
    wgan = WGAN(discriminator=get_discriminator_model(), generator=get_generator_model(),
                latent_dim=NOISE_DIM, discriminator_extra_steps=2)
    wgan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate=0.0002, beta_1=0.5, beta_2=0.9),
        g_optimizer=keras.optimizers.Adam(learning_rate=0.0002, beta_1=0.5, beta_2=0.9),
        g_loss_fn=generator_loss, d_loss_fn=discriminator_loss)
    images = np.random.default_rng(0).uniform(-1, 1, (32, *IMG_SHAPE)).astype("float32")
    return wgan, images


def test_wgan_gp_fits():
    wgan, images = _wgan()
    d_before = wgan.discriminator.get_weights()
    history = wgan.fit(images, batch_size=16, epochs=1, verbose=0)
    assert list(history.history) == ["d_loss", "g_loss"]
    assert all(isinstance(v, float) and np.isfinite(v)
               for v in history.history["d_loss"] + history.history["g_loss"])
    assert wgan.d_optimizer.iterations == 4 and wgan.g_optimizer.iterations == 2
    # every critic weight moved but the last bias, which the Wasserstein loss cancels out
    moved = [not np.array_equal(a, b) for a, b in zip(d_before, wgan.discriminator.get_weights())]
    assert moved == [True] * (len(moved) - 1) + [False]


def _penalty_by_autograd(critic, real, fake, alpha):
    """The gradient penalty written with shenjing's autograd directly (create_graph)."""
    interpolated = keras.tensor(real + alpha * (fake - real), requires_grad=True)
    pred = critic(interpolated, training=True)
    (grads,) = keras.autograd.grad(pred.sum(), [interpolated], create_graph=True)
    norm = ((grads ** 2).sum(axis=(1, 2, 3))) ** 0.5
    return ((norm - 1.0) ** 2).mean()


def _replay_dropout(model):
    """A function that puts the model's Dropout streams back where they are now, so that a
    second pass draws the same masks."""
    dropouts = [layer for layer in model.layers if isinstance(layer, layers.Dropout)]
    states = [d._generator.bit_generator.state for d in dropouts]

    def replay():
        for d, state in zip(dropouts, states):
            d._generator.bit_generator.state = state

    return replay


def test_wgan_gp_penalty_gradient_reaches_the_critic_weights():
    wgan, images = _wgan()
    critic = wgan.discriminator
    real = images[:4]
    fake = np.random.default_rng(1).uniform(-1, 1, real.shape).astype("float32")
    weights = critic.trainable_variables
    replay = _replay_dropout(critic)

    set_random_seed(5)  # the same alpha in both computations
    with tf.GradientTape() as tape:
        gp = wgan.gradient_penalty(4, real, keras.tensor(fake))
    by_tape = tape.gradient(gp, weights)

    set_random_seed(5)
    alpha = tf.random.normal([4, 1, 1, 1], 0.0, 1.0).numpy()
    replay()
    critic.zero_grad()
    direct = _penalty_by_autograd(critic, real, fake, alpha)
    direct.backward()
    assert float(gp.data) == pytest.approx(float(direct.data), rel=1e-5)
    # The penalty reaches every kernel; a bias moves d pred / d input only through the
    # LeakyReLU kinks, whose derivative is zero: no gradient (shenjing says None, TF zeros).
    kernels = [i for i, w in enumerate(weights) if w.ndim > 1]
    assert len(kernels) == 3
    assert all((g is None) == (i not in kernels) for i, g in enumerate(by_tape))
    assert all(w.grad is None for i, w in enumerate(weights) if i not in kernels)
    by_tape, weights = [by_tape[i] for i in kernels], [weights[i] for i in kernels]
    for g, w in zip(by_tape, weights):
        assert np.abs(g.numpy()).max() > 0
        np.testing.assert_allclose(g.numpy(), w.grad.numpy(), rtol=1e-4, atol=1e-6)

    # and central differences along one random direction of all the critic's weights
    rng = np.random.default_rng(3)
    directions = [rng.standard_normal(w.shape).astype("float32") for w in weights]
    originals = [w.numpy().copy() for w in weights]

    def penalty_at(step):
        for w, w0, d in zip(weights, originals, directions):
            w.assign(w0 + step * d)
        replay()
        return float(_penalty_by_autograd(critic, real, fake, alpha).data)

    eps = 1e-3
    numeric = (penalty_at(eps) - penalty_at(-eps)) / (2 * eps)
    analytic = sum(float((g.numpy() * d).sum()) for g, d in zip(by_tape, directions))
    assert numeric == pytest.approx(analytic, rel=2e-2)
