"""``Model.fit``: its arguments (batch_size, epochs, verbose, validation_split/data, shuffle,
class_weight, initial_epoch), reproducibility under ``set_random_seed``, stopping on a
non-finite loss, and real small classification tasks from scikit-learn."""

from __future__ import annotations

import re

import numpy as np
import pytest

import shenjing as sj
from shenjing import callbacks, layers, losses, optimizers
from shenjing.layers import Dense

LOGITS_LOSS = losses.SparseCategoricalCrossentropy(from_logits=True)


def _data(n: int = 48, features: int = 4, classes: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    return x, rng.integers(0, classes, n)


def _mlp(features: int = 4, classes: int = 3, dropout: float = 0.0) -> sj.Sequential:
    stack = [sj.Input((features,)), Dense(8, activation="relu")]
    stack += [layers.Dropout(dropout)] if dropout else []
    return sj.Sequential([*stack, Dense(classes)])


class Recorder(layers.Layer):
    """The identity, keeping a copy of each batch it sees, by training flag."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen: dict[bool, list[np.ndarray]] = {True: [], False: []}

    def call(self, x, training=False):
        self.seen[training].append(x.numpy().copy())
        return x


def _recording_model(features: int = 1):
    recorder = Recorder()
    model = sj.Sequential([sj.Input((features,)), recorder, Dense(1)])
    recorder.seen = {True: [], False: []}  # forget the symbolic build
    return model, recorder


def _frozen_zero_model(features: int = 1) -> sj.Sequential:
    """Predicts 0 for every sample and never learns: its losses show which rows it was given."""
    model = sj.Sequential([sj.Input((features,)), Dense(1, kernel_initializer="zeros")])
    model.compile(optimizers.SGD(learning_rate=0.0), "mse")
    return model


# -- the History, epochs and batches ---------------------------------------------------------
def test_fit_returns_history_per_epoch():
    x, y = _data()
    model = _mlp()
    model.compile("adam", LOGITS_LOSS, metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, verbose=0, validation_data=(x[:12], y[:12]))
    assert history is model.history
    assert history.epoch == [0, 1, 2]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in history.history.values())
    # the last epoch's validation is an evaluate() of the trained model
    logs = model.evaluate(x[:12], y[:12], verbose=0, return_dict=True)
    assert history.history["val_loss"][-1] == pytest.approx(logs["loss"], rel=1e-6)
    assert history.history["val_accuracy"][-1] == logs["accuracy"]


@pytest.mark.parametrize("batch_size, steps", [("default", 2), (None, 2), (16, 4), (50, 1),
                                               (7, 8)])
def test_batch_size_sets_the_steps_per_epoch(batch_size, steps):
    x, y = _data(50)
    model = _mlp()
    model.compile("sgd", LOGITS_LOSS)
    sizes: list[int] = []
    model.layers[0].register_forward_hook(lambda layer, i, o: sizes.append(len(i.data)))
    kwargs = {} if batch_size == "default" else {"batch_size": batch_size}  # 32, as None
    model.fit(x, y, epochs=2, verbose=0, **kwargs)
    assert model.optimizer.iterations == 2 * steps
    assert sum(sizes) == 100 and len(sizes) == 2 * steps


def test_batch_size_none_means_32_and_nonsense_is_refused():
    x, y = _data(40)
    model = _mlp()
    model.compile("sgd", LOGITS_LOSS)
    assert model.evaluate(x, y, batch_size=None, verbose=0) == pytest.approx(
        model.evaluate(x, y, batch_size=32, verbose=0))
    np.testing.assert_array_equal(model.predict(x, batch_size=None), model.predict(x))
    for bad in (0, -1, 2.5, "32"):
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            model.fit(x, y, batch_size=bad, verbose=0)
        with pytest.raises(ValueError, match="batch_size"):
            model.evaluate(x, y, batch_size=bad, verbose=0)
        with pytest.raises(ValueError, match="batch_size"):
            model.predict(x, batch_size=bad)


def test_shuffle_false_keeps_order_and_shuffle_true_permutes_each_epoch():
    x = np.arange(20, dtype=np.float32).reshape(20, 1)
    y = np.zeros((20, 1))
    model, recorder = _recording_model()
    model.compile("sgd", "mse")
    model.fit(x, y, batch_size=6, epochs=2, shuffle=False, verbose=0)
    seen = np.concatenate(recorder.seen[True])[:, 0]
    np.testing.assert_array_equal(seen, np.tile(np.arange(20), 2))

    recorder.seen[True].clear()
    model.fit(x, y, batch_size=6, epochs=2, shuffle=True, verbose=0)
    epochs = np.concatenate(recorder.seen[True])[:, 0].reshape(2, 20)
    for order in epochs:
        assert sorted(order) == list(range(20)) and list(order) != list(range(20))
    assert list(epochs[0]) != list(epochs[1])


def test_shuffle_keeps_x_and_y_together():
    """y = 2 x exactly; a model that can fit it reaches ~0 loss only if pairs stay paired."""
    x = np.linspace(-1, 1, 40, dtype=np.float32).reshape(40, 1)
    model = sj.Sequential([sj.Input((1,)), Dense(1)])
    model.compile(optimizers.SGD(learning_rate=0.3), "mse")
    model.fit(x, 2 * x, batch_size=8, epochs=40, shuffle=True, verbose=0)
    assert model.evaluate(x, 2 * x, verbose=0) < 1e-4


# -- validation ------------------------------------------------------------------------------
def test_validation_split_takes_the_last_rows_before_shuffling():
    """Keras: "selected from the last samples in the x and y data provided, before
    shuffling" (the audit's repro: rows 0..9, split 0.2 validates on rows 8 and 9)."""
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    model, recorder = _recording_model()
    model.compile(optimizers.SGD(learning_rate=0.0), "mse")
    for shuffle in (False, True):
        recorder.seen = {True: [], False: []}
        model.fit(x, x, batch_size=64, epochs=1, validation_split=0.2, shuffle=shuffle,
                  verbose=0)
        (train,), (val,) = recorder.seen[True], recorder.seen[False]
        assert list(val[:, 0]) == [8, 9]
        assert sorted(train[:, 0]) == list(range(8))
    # floor(n * (1 - split)) rows train, as Keras's split_at: 7 of 10 for 0.25
    recorder.seen = {True: [], False: []}
    model.fit(x, x, batch_size=64, epochs=1, validation_split=0.25, shuffle=False, verbose=0)
    assert list(recorder.seen[False][0][:, 0]) == [7, 8, 9]


def test_validation_split_loss_is_measured_on_the_held_out_rows():
    x = np.zeros((40, 1), np.float32)
    y = np.repeat(np.arange(4.0), 10).reshape(40, 1)  # the zero model's loss is mean(y**2)
    model = _frozen_zero_model()
    sw = np.arange(40.0)  # the weights are split with the rows
    history = model.fit(x, y, batch_size=40, epochs=1, validation_split=0.5, verbose=0,
                        sample_weight=sw)
    for key, rows in (("loss", slice(0, 20)), ("val_loss", slice(20, 40))):
        assert history.history[key][0] == pytest.approx(
            model.evaluate(x[rows], y[rows], sample_weight=sw[rows], verbose=0))
    assert history.history["val_loss"][0] > 4 * history.history["loss"][0]


def test_validation_split_must_leave_both_sets():
    x, y = _data(10)
    model = _mlp()
    model.compile("sgd", LOGITS_LOSS)
    for split in (1.0, 1.5, -0.1, 0.95):  # 0.95 of 10 leaves floor(0.5) = 0 to train
        with pytest.raises(ValueError, match="validation_split"):
            model.fit(x, y, validation_split=split, verbose=0)


def test_validation_data_with_sample_weights():
    x = np.zeros((4, 1), np.float32)
    y = np.array([[1.0], [1.0], [2.0], [2.0]])
    model = _frozen_zero_model()
    history = model.fit(x, y, epochs=1, verbose=0,
                        validation_data=(x, y, np.array([1.0, 1.0, 0.0, 0.0])))
    assert history.history["val_loss"] == [pytest.approx(0.5)]  # (1 + 1 + 0 + 0) / 4


def test_mismatched_lengths_are_an_error():
    x, y = _data(10)
    model = _mlp()
    model.compile("sgd", LOGITS_LOSS)
    with pytest.raises(ValueError, match="10 samples but y has 9"):
        model.fit(x, y[:9], verbose=0)


# -- class weights, initial epoch ---------------------------------------------------------------
def test_class_weight_weights_each_sample_by_its_class():
    x = np.zeros((8, 1), np.float32)
    y = np.array([0, 0, 0, 0, 0, 0, 1, 1.0]).reshape(8, 1)  # loss of the zero model: y**2
    model = _frozen_zero_model()
    plain = model.fit(x, y, batch_size=8, epochs=1, verbose=0).history["loss"][0]
    weighted = model.fit(x, y, batch_size=8, epochs=1, verbose=0,
                         class_weight={0: 1.0, 1: 3.0}).history["loss"][0]
    assert plain == pytest.approx(2 / 8) and weighted == pytest.approx(6 / 8)


def test_class_weight_changes_what_is_learned():
    """Heavily weighted, the rare class wins more of the predictions."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 2)).astype(np.float32)
    y = (x[:, 0] + 0.8 * rng.standard_normal(60) > 0.9).astype(int)  # ~20% ones, noisy
    predicted_ones = []
    for class_weight in (None, {0: 1.0, 1: 10.0}):
        sj.utils.set_random_seed(0)
        model = _mlp(features=2, classes=2)
        model.compile(optimizers.Adam(learning_rate=0.05), LOGITS_LOSS)
        model.fit(x, y, epochs=30, verbose=0, class_weight=class_weight)
        predicted_ones.append(int(model.predict(x).argmax(1).sum()))
    assert predicted_ones[1] > predicted_ones[0] + 5


def test_initial_epoch_resumes_the_epoch_count():
    x, y = _data(20)
    model = _mlp()
    model.compile("sgd", LOGITS_LOSS)
    seen: list[int] = []
    history = model.fit(x, y, batch_size=10, epochs=5, initial_epoch=3, verbose=0,
                        callbacks=[callbacks.LambdaCallback(
                            on_epoch_begin=lambda epoch, logs: seen.append(epoch))])
    assert seen == history.epoch == [3, 4]
    assert model.optimizer.iterations == 4


# -- progress output ----------------------------------------------------------------------------
def test_verbose_0_prints_nothing(capsys):
    x, y = _data(20)
    model = _mlp()
    model.compile("adam", LOGITS_LOSS, metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.2)
    model.evaluate(x, y, verbose=0)
    model.predict(x)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_verbose_2_prints_one_line_per_epoch(capsys):
    x, y = _data(20)
    model = _mlp()
    model.compile("adam", LOGITS_LOSS, metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=2, validation_split=0.2)
    model.evaluate(x, y, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    pattern = (r"Epoch {}/2 - [\d.]+s - loss: [\d.]+ - accuracy: [\d.]+ - val_loss: [\d.]+ - "
               r"val_accuracy: [\d.]+")
    assert len(lines) == 3
    assert re.fullmatch(pattern.format(1), lines[0]) and re.fullmatch(pattern.format(2), lines[1])
    assert re.fullmatch(r"Evaluate - [\d.]+s - loss: [\d.]+ - accuracy: [\d.]+", lines[2])


def test_verbose_1_shows_a_progress_bar(capsys):
    x, y = _data(40)
    model = _mlp()
    model.compile("adam", LOGITS_LOSS, metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=10, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "4/4" in out and "loss: " in out and "accuracy: " in out


# -- reproducibility ---------------------------------------------------------------------------
def _seeded_run(seed: int):
    sj.utils.set_random_seed(seed)
    x, y = _data(60, seed=1)
    model = _mlp(dropout=0.3)
    model.compile(optimizers.Adam(learning_rate=0.01), LOGITS_LOSS, metrics=["accuracy"])
    history = model.fit(x, y, batch_size=8, epochs=3, shuffle=True, validation_split=0.2,
                        verbose=0)
    return model.get_weights(), history.history


def test_set_random_seed_makes_fit_bitwise_reproducible():
    weights_a, history_a = _seeded_run(7)
    weights_b, history_b = _seeded_run(7)
    assert history_a == history_b
    for a, b in zip(weights_a, weights_b, strict=True):
        np.testing.assert_array_equal(a, b)
    weights_c, _ = _seeded_run(8)
    assert not np.array_equal(weights_a[0], weights_c[0])


# -- a non-finite loss stops training ---------------------------------------------------------
def _weights_at_each_step(model) -> tuple[list[list[np.ndarray]], callbacks.Callback]:
    snapshots: list[list[np.ndarray]] = []
    cb = callbacks.LambdaCallback(
        on_train_batch_begin=lambda batch, logs: snapshots.append(model.get_weights()))
    return snapshots, cb


def test_huge_learning_rate_stops_training_with_a_message(capsys):
    x, y = _data(40)
    model = _mlp()
    model.compile(optimizers.SGD(learning_rate=1e30), LOGITS_LOSS)
    snapshots, cb = _weights_at_each_step(model)
    with np.errstate(over="ignore", invalid="ignore"):  # the overflow is the point here
        history = model.fit(x, y, batch_size=8, epochs=5, shuffle=False, verbose=0,
                            callbacks=[cb])
    message = capsys.readouterr().out
    assert re.search(r"loss became (nan|inf) at epoch 1, step 2; training stopped", message)
    assert "lower learning rate" in message and "clipping" in message
    assert model.stop_training
    assert history.epoch == [0]  # no second epoch
    assert not np.isfinite(history.history["loss"][0])  # the epoch logs the loss it ended on
    assert model.optimizer.iterations == 1  # the non-finite step was not applied
    assert len(snapshots) == 2
    for now, before_bad_step in zip(model.get_weights(), snapshots[-1], strict=True):
        assert np.all(np.isfinite(now))
        np.testing.assert_array_equal(now, before_bad_step)


def test_nan_in_the_data_stops_training_before_it_reaches_the_weights(capsys):
    x, y = _data(40)
    x[19, 2] = np.nan  # in the third batch of 8
    model = _mlp()
    model.compile("adam", LOGITS_LOSS, metrics=["accuracy"])
    snapshots, cb = _weights_at_each_step(model)
    stop = callbacks.TerminateOnNaN()
    model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0, callbacks=[cb, stop])
    message = capsys.readouterr().out
    assert "loss became nan at epoch 1, step 3: that batch's x holds 1 NaN, in batch row(s) 3 " \
        in message and "np.isfinite" in message
    assert stop.stopped_at == (0, 2)  # the user's TerminateOnNaN is used, not a second one
    assert model.optimizer.iterations == 2
    for now, before_bad_step in zip(model.get_weights(), snapshots[-1], strict=True):
        np.testing.assert_array_equal(now, before_bad_step)
    # the model still works on clean data
    assert np.all(np.isfinite(model.predict(np.delete(x, 19, axis=0))))


class PoisonAfter(layers.Layer):
    """The identity, until its n-th training call: from then on it outputs NaN in training."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n, self.calls = n, 0

    def call(self, x, training=False):
        self.calls += bool(training)
        return x * float("nan") if training and self.calls >= self.n else x


def test_nan_stop_mid_run_still_validates_and_callbacks_see_val_loss(tmp_path, capsys):
    """EarlyStopping and ModelCheckpoint monitoring val_loss get it for the stopped epoch too
    (no 'not in the logs' warning, which this suite would turn into an error); the History
    records the non-finite loss; the best weights are restored."""
    x, y = _data(40)
    xv, yv = _data(16, seed=1)
    model = sj.Sequential([sj.Input((4,)), Dense(8, activation="relu"), PoisonAfter(8),
                           Dense(3)])
    model.compile(optimizers.Adam(learning_rate=0.01), LOGITS_LOSS, metrics=["accuracy"])
    stop = callbacks.EarlyStopping(patience=5, restore_best_weights=True)
    checkpoint = callbacks.ModelCheckpoint(tmp_path / "best.safetensors", save_best_only=True,
                                           save_weights_only=True)
    snapshots: list[list[np.ndarray]] = []
    record = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: snapshots.append(model.get_weights()))
    history = model.fit(x, y, batch_size=8, epochs=5, shuffle=False, verbose=0,
                        validation_data=(xv, yv), callbacks=[record, stop, checkpoint])
    assert "loss became nan at epoch 2, step 3" in capsys.readouterr().out
    assert history.epoch == [0, 1]
    assert np.isfinite(history.history["loss"][0]) and np.isnan(history.history["loss"][1])
    val_loss = history.history["val_loss"]
    assert len(val_loss) == 2 and np.all(np.isfinite(val_loss))
    assert len(history.history["accuracy"]) == len(history.history["val_accuracy"]) == 2
    best = int(np.argmin(val_loss))
    for now, then in zip(model.get_weights(), snapshots[best], strict=True):
        np.testing.assert_array_equal(now, then)
    model.set_weights(snapshots[-1])
    model.load_weights(tmp_path / "best.safetensors")
    for now, then in zip(model.get_weights(), snapshots[best], strict=True):
        np.testing.assert_array_equal(now, then)


def test_nan_message_names_epoch_step_and_remedies():
    message = callbacks.nan_message(epoch=2, step=4, loss=float("nan"))
    assert "epoch 3, step 5" in message
    for remedy in ("learning rate", "clip", "NaN/inf", "normaliz", "from_logits"):
        assert remedy in message


# -- the epoch loss weighs batches by their size -----------------------------------------------
def test_epoch_loss_with_a_partial_last_batch_equals_evaluate():
    # 33 samples in batches of 32 and 1; with a learning rate of 0 the weights stay fixed, so
    # fit's epoch loss is evaluate's (each batch weighted by its samples, as Keras 3).
    x, y = _data(n=33)
    model = _mlp()
    model.compile(optimizers.SGD(learning_rate=0.0), LOGITS_LOSS)
    history = model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    loss = model.evaluate(x, y, batch_size=32, verbose=0)
    assert history.history["loss"][0] == pytest.approx(loss, abs=1e-6)


def test_per_output_epoch_losses_with_a_partial_last_batch_equal_evaluate():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((33, 4)).astype(np.float32)
    labels, target = rng.integers(0, 3, 33), rng.standard_normal((33, 1)).astype(np.float32)
    inputs = sj.Input((4,))
    trunk = Dense(8, activation="relu")(inputs)
    model = sj.Model(inputs, [Dense(3, name="cls")(trunk), Dense(1, name="reg")(trunk)])
    model.compile(optimizers.SGD(learning_rate=0.0), loss=[LOGITS_LOSS, "mse"],
                  loss_weights=[0.7, 0.3])
    history = model.fit(x, [labels, target], batch_size=32, epochs=1, verbose=0)
    logs = model.evaluate(x, [labels, target], batch_size=32, verbose=0, return_dict=True)
    for key in ("loss", "cls_loss", "reg_loss"):
        assert history.history[key][0] == pytest.approx(logs[key], abs=1e-6)


# -- padding masks ------------------------------------------------------------------------------
IDS = np.array([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0], [1, 1, 1, 1, 1], [2, 3, 4, 5, 0]])
REAL = IDS != 0  # right-padded with id 0


def _sequence_model(units: int, mask_zero: bool = True) -> sj.Sequential:
    return sj.Sequential([layers.Embedding(6, 3, mask_zero=mask_zero),
                          layers.LSTM(4, return_sequences=True), Dense(units)])


@pytest.mark.parametrize("mask_zero", [True, False])
def test_masked_regression_loss_is_the_mean_over_real_steps(mask_zero):
    rng = np.random.default_rng(0)
    y = rng.standard_normal((*IDS.shape, 1)).astype(np.float32)
    w = np.array([1.0, 0.5, 2.0, 0.0])
    model = _sequence_model(1, mask_zero)
    model.compile("sgd", loss="mse", weighted_metrics=["mse"])
    squared = (model.predict(IDS, verbose=0)[..., 0] - y[..., 0]) ** 2
    real = REAL if mask_zero else np.ones_like(REAL)
    assert model.evaluate(IDS, y, verbose=0)[0] == pytest.approx(squared[real].mean(), rel=1e-5)
    loss, weighted_mse = model.evaluate(IDS, y, sample_weight=w, verbose=0)
    weighted = squared * w[:, None]
    assert loss == pytest.approx(weighted[real].sum() / real.sum(), rel=1e-5)
    assert weighted_mse == pytest.approx(weighted[real].sum() / (real * w[:, None]).sum(),
                                         rel=1e-5)


def test_masked_accuracy_counts_only_real_steps():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, IDS.shape)
    model = _sequence_model(3)
    model.compile("sgd", loss=LOGITS_LOSS, metrics=["accuracy"])
    loss, accuracy = model.evaluate(IDS, labels, verbose=0)
    logits = model.predict(IDS, verbose=0)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -np.take_along_axis(log_probs, labels[..., None], -1)[..., 0]
    assert loss == pytest.approx(nll[REAL].mean(), rel=1e-5)
    assert accuracy == pytest.approx(np.mean((logits.argmax(-1) == labels)[REAL]))


def test_each_output_of_a_functional_model_is_masked():
    inputs = sj.Input((IDS.shape[1],), dtype="int64")
    steps = layers.LSTM(4, return_sequences=True)(layers.Embedding(6, 3, mask_zero=True)(inputs))
    model = sj.Model(inputs, [Dense(1, name="a")(steps), Dense(2, name="b")(steps)])
    model.compile("sgd", loss=["mse", "mae"])
    ya, yb = np.ones((*IDS.shape, 1)), np.zeros((*IDS.shape, 2))
    logs = model.evaluate(IDS, [ya, yb], verbose=0, return_dict=True)
    pa, pb = model.predict(IDS, verbose=0)
    assert logs["a_loss"] == pytest.approx(((pa - ya) ** 2)[REAL].mean(), rel=1e-5)
    assert logs["b_loss"] == pytest.approx(np.abs(pb).mean(-1)[REAL].mean(), rel=1e-5)


def test_targets_at_padded_steps_do_not_change_training():
    rng = np.random.default_rng(2)
    y = rng.standard_normal((*IDS.shape, 1)).astype(np.float32)
    y_other = np.where(REAL[..., None], y, 100.0).astype(np.float32)
    runs = []
    for target in (y, y_other):
        sj.utils.set_random_seed(0)
        model = _sequence_model(1)
        model.compile(optimizers.SGD(learning_rate=0.1), loss="mse")
        history = model.fit(IDS, target, batch_size=2, epochs=2, verbose=0)
        runs.append((history.history["loss"], model.get_weights()))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


# -- real data ---------------------------------------------------------------------------------
def _split_standardized(x, y, seed=0):
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=seed,
                                                        stratify=y)
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_test), y_train, y_test


def test_digits_reach_95_percent_test_accuracy():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits

    x_train, x_test, y_train, y_test = _split_standardized(*load_digits(return_X_y=True))
    model = sj.Sequential([sj.Input((64,)), Dense(64, activation="relu"), layers.Dropout(0.1),
                           Dense(10)])
    model.compile(optimizers.Adam(learning_rate=0.01), LOGITS_LOSS, metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=12, validation_split=0.1, verbose=0)
    assert history.history["val_accuracy"][-1] >= 0.9
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.95
    assert np.mean(model.predict(x_test).argmax(1) == y_test) == pytest.approx(accuracy)


def test_breast_cancer_logistic_unit_matches_scikit_learn():
    """One sigmoid unit trained by fit is logistic regression: >= 95%, like scikit-learn's."""
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    x_train, x_test, y_train, y_test = _split_standardized(*load_breast_cancer(return_X_y=True))
    model = sj.Sequential([sj.Input((30,)), Dense(1, activation="sigmoid")])
    model.compile(optimizers.Adam(learning_rate=0.01), "binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train.reshape(-1, 1), epochs=30, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test.reshape(-1, 1), verbose=0)
    reference = LogisticRegression().fit(x_train, y_train).score(x_test, y_test)
    assert accuracy >= 0.95 and accuracy >= reference - 0.01


# -- steps_per_epoch, validation_steps, steps (Keras's) ------------------------------------------
def _endless(drawn: list[int], features: int = 2, labels: bool = True):
    """Batch i of an endless generator: x (4 rows) filled with i / 10 plus a ramp, y = the row
    sum; appends i to ``drawn`` as it yields it."""
    i = 0
    while True:
        drawn.append(i)
        ramp = np.arange(4 * features, dtype=np.float32).reshape(4, features) / 8
        x = ramp + np.float32(i / 10)
        yield (x, x.sum(1, keepdims=True)) if labels else x
        i += 1


def _linear_model() -> sj.Sequential:
    model = sj.Sequential([sj.Input((2,)), Dense(1)])
    model.compile(optimizers.SGD(learning_rate=0.01), "mse")
    return model


class _CountBatches(callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.train, self.test = 0, 0

    def on_train_batch_end(self, batch, logs=None):
        self.train += 1

    def on_test_batch_end(self, batch, logs=None):
        self.test += 1


def test_steps_per_epoch_continues_an_endless_generator(capsys):
    drawn, count = [], _CountBatches()
    history = _linear_model().fit(_endless(drawn), epochs=2, steps_per_epoch=3, verbose=2,
                                  callbacks=[count])
    assert drawn == [0, 1, 2, 3, 4, 5] and count.train == 6
    assert count.params["steps"] == 3
    assert history.epoch == [0, 1] and len(history.history["loss"]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/2", "Epoch 2/2"]


def test_steps_per_epoch_on_a_short_generator_names_the_need():
    short = (batch for batch, _ in zip(_endless([]), range(4)))
    with pytest.raises(ValueError, match=r"epoch 3: .*used up; it must yield steps_per_epoch "
                                         r"\* epochs batches"):
        _linear_model().fit(short, epochs=3, steps_per_epoch=2, verbose=0)


def test_a_validation_generator_used_up_says_so():
    x = np.ones((16, 2), np.float32)
    y = np.zeros((16, 1), np.float32)
    one_pass = ((x[i:i + 8], y[i:i + 8]) for i in (0, 8))
    with pytest.raises(ValueError, match=r"validation_data has no samples.*an iterator \(a "
                                         r"generator\), used up by an earlier pass"):
        _linear_model().fit(x, y, validation_data=one_pass, epochs=2, verbose=0)


def test_steps_per_epoch_and_validation_steps_limit_arrays_and_generators():
    x, y = _data(48)
    model, count, drawn = _mlp(), _CountBatches(), []
    model.compile("sgd", LOGITS_LOSS)
    val = ((xb, np.zeros(4, np.int64)) for xb in _endless(drawn, features=4, labels=False))
    history = model.fit(x, y, batch_size=8, epochs=3, steps_per_epoch=4,
                        validation_data=val, validation_steps=2, verbose=0, callbacks=[count])
    assert count.train == 12  # 4 of the 6 batches of each epoch
    assert drawn == [0, 1, 2, 3, 4, 5]  # each validation continues the generator
    assert len(history.history["val_loss"]) == 3


def test_evaluate_steps_is_the_loss_of_those_batches():
    model, drawn = _linear_model(), []
    model.predict(np.zeros((1, 2), np.float32))
    kernel, bias = (w.numpy() for w in model.weights)
    batches = [batch for batch, _ in zip(_endless([]), range(2))]
    expected = np.mean([np.mean((xb @ kernel + bias - yb) ** 2) for xb, yb in batches])
    loss = model.evaluate(_endless(drawn), steps=2, verbose=0)
    assert loss == pytest.approx(expected, rel=1e-5)
    assert drawn == [0, 1]


def test_predict_steps_returns_those_batches_rows():
    model, drawn = _linear_model(), []
    out = model.predict(_endless(drawn, labels=False), steps=2)
    kernel, bias = (w.numpy() for w in model.weights)
    x = np.concatenate([xb for xb, _ in zip(_endless([], labels=False), range(2))])
    assert out.shape == (8, 1) and drawn == [0, 1]
    np.testing.assert_allclose(out, x @ kernel + bias, rtol=1e-5)


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_step_counts_must_be_positive_integers(bad):
    x, y = _data(8)
    model = _mlp()
    model.compile("sgd", LOGITS_LOSS)
    def refused(name):
        return pytest.raises(ValueError,
                             match=re.escape(f"{name} must be a positive integer, got {bad!r}"))

    for name in ("steps_per_epoch", "validation_steps"):
        with refused(name):
            model.fit(x, y, verbose=0, validation_data=(x, y), **{name: bad})
    with refused("steps"):
        model.evaluate(x, y, steps=bad, verbose=0)
    with refused("steps"):
        model.predict(x, steps=bad)


# -- losses added by layers (add_loss) ------------------------------------------------------------
class _MeanPenalty(sj.layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * inputs.mean())
        return inputs


@pytest.mark.parametrize("compiled_loss", [None, "mse"])
def test_a_loss_added_by_a_layer_is_trained_on(compiled_loss):
    # one SGD step on loss = [mse(y, out)] + rate * mean(out), out = x W + b: by hand
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 3)).astype(np.float32), rng.standard_normal((8, 2))
    inputs = sj.Input((3,))
    dense = sj.layers.Dense(2)
    model = sj.Model(inputs, _MeanPenalty(0.3)(dense(inputs)))
    model.compile(sj.optimizers.SGD(learning_rate=0.1), loss=compiled_loss)
    w, b = dense.kernel.numpy().copy(), dense.bias.numpy().copy()
    out = x @ w + b
    g_out = np.full_like(out, 0.3 / out.size)
    if compiled_loss:
        g_out += 2 * (out - y) / out.size
    logged = model.train_on_batch(x, y)
    expected = 0.3 * out.mean() + (np.mean((out - y) ** 2) if compiled_loss else 0.0)
    np.testing.assert_allclose(logged, expected, rtol=1e-5)
    np.testing.assert_allclose(dense.kernel.numpy(), w - 0.1 * x.T @ g_out, rtol=1e-5,
                               atol=1e-7)
    np.testing.assert_allclose(dense.bias.numpy(), b - 0.1 * g_out.sum(0), rtol=1e-5, atol=1e-7)
    evaluated = model.evaluate(x, y, verbose=0)
    assert np.isfinite(evaluated) and len(model.losses) == 1


def test_compile_without_a_loss_needs_one_added_by_a_layer():
    model = sj.Sequential([sj.Input((3,)), sj.layers.Dense(2)])
    model.compile("sgd")
    with pytest.raises(RuntimeError, match="no loss: call compile\\(loss=...\\).*add_loss"):
        model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)


def test_a_model_without_weights_trains_on_its_added_loss():
    # Keras's guide: Input -> an add_loss layer, compiled with and without a loss
    inputs = sj.Input((3,))
    model = sj.Model(inputs, _MeanPenalty(1e-2)(inputs))
    model.compile(optimizer="adam")
    x = np.random.default_rng(1).random((2, 3))
    history = model.fit(x, x, verbose=0)
    np.testing.assert_allclose(history.history["loss"], [1e-2 * x.mean()], rtol=1e-5)
