"""Training a functional model with several outputs: one loss per output (a list or a dict by
output name) weighted by ``loss_weights``, targets as a list or dict, per-output logs and metrics,
misuse errors, and the save/load round trip. Values are checked against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from test_saving import _rewrite

import shenjing as sj
from shenjing.layers import Dense

WEIGHTS = [0.7, 0.3]


def _model() -> sj.Model:
    """A shared Dense trunk, a softmax head 'cls' (3 classes) and a regression head 'reg'."""
    inputs = sj.Input((4,))
    trunk = Dense(16, activation="relu")(inputs)
    return sj.Model(inputs, [Dense(3, activation="softmax", name="cls")(trunk),
                             Dense(1, name="reg")(trunk)])


def _data(n: int = 64, seed: int = 0):
    """A learnable toy problem: the class is the largest of the first three features; the
    regression target is linear in the features."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    return x, x[:, :3].argmax(axis=1), (2 * x[:, 3:] - x[:, :1]).astype(np.float32)


def _compiled(form: str = "dict", **kwargs) -> sj.Model:
    model, adam = _model(), sj.optimizers.Adam(learning_rate=0.01)
    if form == "dict":
        model.compile(adam, loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
                      loss_weights={"cls": WEIGHTS[0], "reg": WEIGHTS[1]}, **kwargs)
    else:
        model.compile(adam, loss=["sparse_categorical_crossentropy", "mse"],
                      loss_weights=WEIGHTS, **kwargs)
    return model


def _numpy_losses(model: sj.Model, x, labels, target, sample_weight=None):
    """Sparse categorical cross-entropy and MSE of the model's predictions, by NumPy."""
    probs, pred = model.predict(x, verbose=0)
    w = np.ones(len(x)) if sample_weight is None else sample_weight
    scce = np.sum(w * -np.log(probs[np.arange(len(x)), labels])) / len(x)
    mse = np.sum(w * ((pred - target) ** 2)[:, 0]) / len(x)
    return scce, mse


def test_output_names_are_the_names_of_the_output_layers():
    assert _model().output_names == ["cls", "reg"]


@pytest.mark.parametrize("form", ["list", "dict"])
def test_evaluate_gives_the_weighted_sum_and_each_unweighted_output_loss(form):
    x, labels, target = _data()
    model = _compiled(form)
    logs = model.evaluate(x, [labels, target], batch_size=len(x), verbose=0, return_dict=True)
    scce, mse = _numpy_losses(model, x, labels, target)
    assert list(logs) == ["loss", "cls_loss", "reg_loss"]
    assert logs["loss"] == pytest.approx(WEIGHTS[0] * scce + WEIGHTS[1] * mse, rel=1e-5)
    # each output's own loss, without its weight: Keras 3's CompileLoss records them so
    assert logs["cls_loss"] == pytest.approx(scce, rel=1e-5)
    assert logs["reg_loss"] == pytest.approx(mse, rel=1e-5)


def test_one_sample_weight_array_weights_every_output():
    x, labels, target = _data()
    sw = np.linspace(0.0, 2.0, len(x)).astype(np.float32)
    model = _compiled()
    loss = model.evaluate(x, {"cls": labels, "reg": target}, sample_weight=sw,
                          batch_size=len(x), verbose=0)[0]
    scce, mse = _numpy_losses(model, x, labels, target, sw)
    assert loss == pytest.approx(WEIGHTS[0] * scce + WEIGHTS[1] * mse, rel=1e-5)


def test_list_and_dict_forms_give_identical_training_and_results():
    x, labels, target = _data()
    runs = []
    for form, y in (("list", [labels, target]), ("dict", {"reg": target, "cls": labels})):
        sj.utils.set_random_seed(3)
        model = _compiled(form, metrics={"cls": "accuracy"})
        history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        runs.append((history.history, model.evaluate(x, y, verbose=0, return_dict=True),
                     model.train_on_batch(x, y, return_dict=True),
                     model.test_on_batch(x, y, return_dict=True)))
    assert runs[0] == runs[1]


def test_fit_lowers_both_output_losses_with_shuffling_and_validation():
    x, labels, target = _data(256)
    model = _compiled(metrics={"cls": "accuracy"})
    history = model.fit(x, [labels, target], epochs=20, batch_size=32, validation_split=0.25,
                        verbose=0).history
    assert set(history) == {"loss", "cls_loss", "reg_loss", "cls_accuracy", "val_loss",
                            "val_cls_loss", "val_reg_loss", "val_cls_accuracy"}
    for key in ("cls_loss", "reg_loss", "val_cls_loss", "val_reg_loss"):
        assert history[key][-1] < 0.5 * history[key][0], key
    assert history["val_cls_accuracy"][-1] > 0.8


def test_accuracy_on_the_classification_head_matches_numpy():
    x, labels, target = _data()
    model = _compiled(metrics=["accuracy", None], weighted_metrics={"reg": ["mae"]})
    model.fit(x, [labels, target], epochs=3, verbose=0)
    logs = model.evaluate(x, [labels, target], batch_size=len(x), verbose=0, return_dict=True)
    probs, pred = model.predict(x, verbose=0)
    # a list gives each output its entry (Keras 3); a dict names the outputs it covers
    assert list(logs) == ["loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae"]
    assert logs["cls_accuracy"] == pytest.approx(np.mean(probs.argmax(axis=1) == labels))
    assert logs["reg_mae"] == pytest.approx(np.mean(np.abs(pred - target)), rel=1e-5)


def test_a_metrics_list_pairs_with_the_outputs_as_keras_3():
    """Keras 3: one entry per output (a metric, a list or None); another length is an
    error, not Keras 2's "every metric on every output"."""
    x, labels, target = _data()
    model = _compiled(metrics=[["accuracy"], ["mae", "mse"]])
    logs = model.evaluate(x, [labels, target], verbose=0, return_dict=True)
    assert list(logs) == ["loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae", "reg_mse"]
    with pytest.raises(ValueError, match=r"2 outputs \['cls', 'reg'\], give a list with one "
                                         r"entry per output.*got a list of 1"):
        _compiled(metrics=["accuracy"])
    inputs = sj.Input((4,))  # outputs a list of one: the whole list is that output's
    single = sj.Model(inputs, [Dense(3, name="out")(inputs)])
    single.compile("sgd", "sparse_categorical_crossentropy",
                   metrics=["accuracy", "sparse_categorical_crossentropy"])
    # (no out_loss: Keras 3's CompileLoss adds per-output losses only for several outputs)
    assert list(single.evaluate(x, labels, verbose=0, return_dict=True)) == [
        "loss", "out_accuracy", "out_sparse_categorical_crossentropy"]


def test_one_loss_applies_to_every_output():
    x, _, target = _data()
    model = _model()
    model.compile("adam", loss="mse")
    y = [np.eye(3, dtype=np.float32)[x[:, :3].argmax(axis=1)], target]
    logs = model.evaluate(x, y, batch_size=len(x), verbose=0, return_dict=True)
    probs, pred = model.predict(x, verbose=0)
    assert logs["cls_loss"] == pytest.approx(np.mean((probs - y[0]) ** 2), rel=1e-5)
    assert logs["loss"] == pytest.approx(logs["cls_loss"] + logs["reg_loss"], rel=1e-6)


def test_a_dataloader_of_list_targets_trains():
    x, labels, target = _data()
    model = _compiled()
    loader = sj.data.DataLoader(x, [labels, target], batch_size=16, shuffle=True, seed=0)
    history = model.fit(loader, epochs=2, verbose=0).history
    assert set(history) == {"loss", "cls_loss", "reg_loss"}


@pytest.mark.parametrize("compile_kwargs, message", [
    ({"loss": ["mse"]}, r"loss must be a list with one entry per output.*got a list of 1, but "
                        r"the model's outputs are \['cls', 'reg'\]"),
    ({"loss": {"cls": "mse", "regression": "mse"}},
     r"loss has unknown output name\(s\) \['regression'\]; the model's outputs are "
     r"\['cls', 'reg'\]"),
    ({"loss": {"cls": "mse"}, "loss_weights": {"cls": 1.0, "rg": 2.0}},
     r"loss_weights has unknown output name\(s\) \['rg'\]"),
    ({"loss": "mse", "loss_weights": [1.0, 2.0, 3.0]}, r"loss_weights must be a list.*list of 3"),
    ({"loss": "mse", "metrics": {"clss": "accuracy"}}, r"metrics has unknown output name"),
])
def test_per_output_arguments_that_do_not_fit_the_outputs_are_refused(compile_kwargs, message):
    with pytest.raises(ValueError, match=message):
        _model().compile("adam", **compile_kwargs)


def test_targets_that_do_not_fit_the_outputs_are_refused():
    x, labels, target = _data()
    model = _compiled()
    with pytest.raises(ValueError, match=r"^y must be a list.*got a ndarray.*\['cls', 'reg'\]"):
        model.fit(x, labels, verbose=0)
    with pytest.raises(ValueError, match=r"^y has unknown output name\(s\) \['rg'\]"):
        model.evaluate(x, {"cls": labels, "rg": target}, verbose=0)
    with pytest.raises(ValueError, match=r"x has 64 samples but y\[1\] has 63"):
        model.fit(x, [labels, target[:-1]], verbose=0)


def test_class_weight_is_refused_for_several_outputs():
    x, labels, target = _data()
    model = _compiled()
    for train in (model.fit, model.train_on_batch):
        with pytest.raises(ValueError, match="class_weight is not supported for a model with 2 "
                                             "outputs"):
            train(x, [labels, target], class_weight={0: 1.0, 1: 2.0, 2: 1.0})


def test_a_single_output_model_takes_one_loss_and_weight_in_a_list_as_keras():
    x, _, target = _data()
    inputs = sj.Input((4,))
    model = sj.Model(inputs, Dense(1, name="out")(inputs))
    with pytest.raises(ValueError, match="got 2 losses, but the model has a single output"):
        model.compile("adam", loss=["mse", "mse"])
    model.compile("adam", loss="mse")
    plain = model.evaluate(x, target, verbose=0)
    for loss, weight in (("mse", 2.0), (["mse"], [2.0]), ({"out": "mse"}, {"out": 2.0})):
        model.compile("adam", loss=loss, loss_weights=weight)  # Keras packs them on the output
        assert model.evaluate(x, target, verbose=0) == pytest.approx(2 * plain)


def test_a_single_output_model_logs_as_before():
    x, labels, _ = _data()
    inputs = sj.Input((4,))
    model = sj.Model(inputs, Dense(3, name="out")(inputs))
    model.compile("adam", sj.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(x, labels, epochs=2, validation_split=0.25, verbose=0).history
    assert list(history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert model.output_names == ["out"]


def test_a_list_of_one_output_takes_a_plain_target():
    """Keras 3 wraps a plain y as [y] when the model's outputs are a list of one: the same
    loss as the target given as that list, in fit and evaluate."""
    x, labels, _ = _data()
    inputs = sj.Input((4,))
    model = sj.Model(inputs, [Dense(3, name="out")(inputs)])
    model.compile("sgd", sj.losses.SparseCategoricalCrossentropy(from_logits=True))
    plain, listed = model.evaluate(x, labels, verbose=0), model.evaluate(x, [labels], verbose=0)
    assert plain == listed
    history = model.fit(x, labels, epochs=1, sample_weight=np.ones(len(x)), verbose=0).history
    assert np.isfinite(history["loss"][0])


def test_save_and_load_keep_per_output_losses_weights_and_metrics(tmp_path):
    x, labels, target = _data()
    model = _compiled(metrics={"cls": ["accuracy"]}, weighted_metrics={"reg": "mse"})
    model.fit(x, [labels, target], epochs=2, verbose=0)
    model.save(tmp_path / "m.shenjing")
    loaded = sj.load_model(tmp_path / "m.shenjing")
    assert loaded.loss_weights == WEIGHTS
    assert [type(fn).__name__ for fn in loaded.loss] == ["SparseCategoricalCrossentropy",
                                                         "MeanSquaredError"]
    expected = model.evaluate(x, [labels, target], verbose=0, return_dict=True)
    assert loaded.evaluate(x, [labels, target], verbose=0, return_dict=True) == expected
    assert list(expected) == ["loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mse"]


def test_a_file_saved_without_per_output_settings_still_loads(tmp_path):
    x, labels, _ = _data()
    inputs = sj.Input((4,))
    model = sj.Model(inputs, Dense(3, name="out")(inputs))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, labels, verbose=0)
    model.save(tmp_path / "m.shenjing")
    old = _rewrite(tmp_path / "m.shenjing", edit=lambda c: c["compile"].pop("loss_weights"))
    loaded = sj.load_model(old)
    assert loaded.loss_weights is None
    assert loaded.evaluate(x, labels, verbose=0) == model.evaluate(x, labels, verbose=0)


# -- outputs given as a dict (Keras 3) -------------------------------------------------------------
def _dict_model() -> sj.Model:
    """_model's heads as a dict keyed apart from the layer names, in unsorted order."""
    inputs = sj.Input((4,))
    trunk = Dense(16, activation="relu")(inputs)
    return sj.Model(inputs, {"regression": Dense(1, name="reg")(trunk),
                             "classes": Dense(3, activation="softmax", name="cls")(trunk)})


def test_dict_outputs_train_and_predict_as_the_list_model_by_key(tmp_path):
    x, labels, target = _data()
    listed, keyed = _model(), _dict_model()
    keyed.set_weights(listed.get_weights())
    assert keyed.output_names == ["classes", "regression"]  # sorted keys: Keras's flat order
    out = keyed.predict(x, verbose=0)
    probs, pred = listed.predict(x, verbose=0)
    assert set(out) == {"classes", "regression"}
    np.testing.assert_array_equal(out["classes"], probs)
    np.testing.assert_array_equal(out["regression"], pred)
    listed.compile(sj.optimizers.SGD(0.1), loss=["sparse_categorical_crossentropy", "mse"],
                   loss_weights=WEIGHTS)
    keyed.compile(sj.optimizers.SGD(0.1),
                  loss={"regression": "mse", "classes": "sparse_categorical_crossentropy"},
                  loss_weights={"classes": WEIGHTS[0], "regression": WEIGHTS[1]})
    h_list = listed.fit(x, [labels, target], epochs=2, shuffle=False, verbose=0).history
    h_dict = keyed.fit(x, {"classes": labels, "regression": target}, epochs=2, shuffle=False,
                       verbose=0).history
    np.testing.assert_allclose(h_dict["loss"], h_list["loss"], rtol=1e-6)
    np.testing.assert_allclose(h_dict["classes_loss"], h_list["cls_loss"], rtol=1e-6)
    keyed.save(tmp_path / "keyed.keras")
    loaded = sj.models.load_model(tmp_path / "keyed.keras")
    assert loaded.output_names == ["classes", "regression"]
    np.testing.assert_array_equal(loaded.predict(x)["regression"], keyed.predict(x)["regression"])
    assert set(loaded(x[:2])) == {"classes", "regression"}


@pytest.mark.parametrize("loss", [[None, "mse"], {"reg": "mse"}])
def test_an_output_without_a_loss_is_for_prediction_only(loss, tmp_path):
    # Keras: loss=[None, ...] or a dict that leaves an output out
    x, labels, target = _data()
    model, only_reg = _model(), _model()
    only_reg.set_weights(model.get_weights())
    model.compile(sj.optimizers.SGD(0.1), loss=loss, loss_weights={"reg": 2.0})
    only_reg.compile(sj.optimizers.SGD(0.1), loss=["sparse_categorical_crossentropy", "mse"],
                     loss_weights=[0.0, 2.0])
    logs = model.evaluate(x, [labels, target], return_dict=True, verbose=0)
    assert set(logs) == {"loss"}  # one output with a loss: the total alone (Keras 3.15's)
    _, mse = _numpy_losses(model, x, labels, target)
    np.testing.assert_allclose(logs["loss"], 2 * mse, rtol=1e-5)
    h = model.fit(x, [labels, target], epochs=2, shuffle=False, verbose=0).history
    h_zero = only_reg.fit(x, [labels, target], epochs=2, shuffle=False, verbose=0).history
    np.testing.assert_allclose(h["loss"], h_zero["loss"], rtol=1e-5)
    model.save(tmp_path / "m.keras")
    loaded = sj.models.load_model(tmp_path / "m.keras")
    assert loaded.evaluate(x, [labels, target], verbose=0) == pytest.approx(
        model.evaluate(x, [labels, target], verbose=0))


@pytest.mark.parametrize("loss", [[None, "mse"], {"reg": "mse"}])
def test_targets_of_outputs_without_a_loss_may_be_left_out(loss):
    # Keras 3: a dict of targets, a list of the targets with a loss, or the one array
    x, labels, target = _data()
    model = _model()
    model.compile(sj.optimizers.SGD(0.1), loss=loss)
    full = model.evaluate(x, [labels, target], return_dict=True, verbose=0)
    _, mse = _numpy_losses(model, x, labels, target)
    for y in ({"reg": target}, [target], target):
        assert model.evaluate(x, y, return_dict=True, verbose=0) == pytest.approx(full)
    assert full["loss"] == pytest.approx(mse, rel=1e-5)
    h = model.fit(x, {"reg": target}, epochs=2, batch_size=16, verbose=0).history
    assert h["loss"][1] < h["loss"][0]
    with pytest.raises(ValueError, match=r"^y has no entry for output\(s\) \['reg'\]"):
        model.evaluate(x, {"cls": labels}, verbose=0)


def test_an_output_with_metrics_needs_its_target():
    x, labels, target = _data()
    model = _model()
    model.compile("adam", loss={"reg": "mse"}, metrics={"cls": ["accuracy"]})
    with pytest.raises(ValueError, match="^output 'cls' has metrics but no target"):
        model.evaluate(x, {"reg": target}, verbose=0)


def test_metric_names_given_twice_are_numbered_as_keras():
    """Keras 3.15 (checked): metrics=['mae', 'mae'] logs mae and mae_1 (one 'mae' was logged,
    the second overwriting the first), per output too (o1_mae_1)."""
    x = np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32)
    y = np.ones((16, 1), np.float32)
    model = sj.Sequential([sj.Input((4,)), sj.layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae", "mae", "mae"], weighted_metrics=["mae"])
    assert sorted(model.fit(x, y, verbose=0).history) == [
        "loss", "mae", "mae_1", "mae_2", "weighted_mae"]
    inputs = sj.Input((4,))
    outputs = [sj.layers.Dense(1, name="o1")(inputs), sj.layers.Dense(1, name="o2")(inputs)]
    model = sj.Model(inputs, outputs)
    model.compile("sgd", ["mse", "mse"], metrics=[["mae", "mae"], ["mae"]])
    assert sorted(model.fit(x, [y, y], verbose=0).history) == [
        "loss", "o1_loss", "o1_mae", "o1_mae_1", "o2_loss", "o2_mae"]


def test_evaluates_list_is_in_keras_order():
    """Keras 3.15 (checked): its list puts the logs that its ``metrics`` names first (loss, the
    compiled metrics by their own unprefixed names, the per-output losses), then the rest
    sorted: for two outputs o2_AUC comes before o2_accuracy (read by position, they were
    swapped); one output keeps the compile order. metrics_names says the same order."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = (rng.random((16, 1)) > 0.5).astype(np.float32)
    inputs = sj.Input((4,))
    outputs = [sj.layers.Dense(1, name="o1")(inputs),
               sj.layers.Dense(1, activation="sigmoid", name="o2")(inputs)]
    model = sj.Model(inputs, outputs)
    model.compile("sgd", ["mse", "binary_crossentropy"],
                  metrics=[["mae"], ["accuracy", "AUC", "mse"]])
    logs = model.evaluate(x, [y, y], verbose=0, return_dict=True)
    order = ["loss", "o1_loss", "o2_loss", "o1_mae", "o2_AUC", "o2_accuracy", "o2_mse"]
    assert model.evaluate(x, [y, y], verbose=0) == [logs[k] for k in order]
    assert model.metrics_names == order
    single = sj.Sequential([sj.Input((4,)), sj.layers.Dense(1, activation="sigmoid")])
    single.compile("sgd", "binary_crossentropy", metrics=["mse", "accuracy", "AUC"])
    logs = single.evaluate(x, y, verbose=0, return_dict=True)
    assert single.evaluate(x, y, verbose=0) == [logs[k] for k in ("loss", "mse", "accuracy",
                                                                  "AUC")]


def test_a_one_output_list_keeps_its_metrics_order_in_evaluate():
    # outputs=[o1]: one output, so the compile order (Keras 3.15's), not the sorted tail
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = (rng.random((16, 1)) > 0.5).astype(np.float32)
    inputs = sj.Input((4,))
    model = sj.Model(inputs, [sj.layers.Dense(1, activation="sigmoid", name="o1")(inputs)])
    model.compile("sgd", "binary_crossentropy", metrics=["mse", "accuracy", "AUC"])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    names = model.metrics_names
    assert [n.removeprefix("o1_") for n in names] == ["loss", "mse", "accuracy", "AUC"]
    assert model.evaluate(x, y, verbose=0) == [logs[n] for n in names]
