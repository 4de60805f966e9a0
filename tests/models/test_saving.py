"""Saving and loading: one zip (JSON config + safetensors weights + optimizer state), written
atomically; ``load_model`` rebuilds through a closed registry and never unpickles or imports;
damaged files raise CorruptFileError; a run resumed from a checkpoint ends where an
uninterrupted one does."""

from __future__ import annotations

import builtins
import importlib
import json
import os
import pickle
import stat
import zipfile

import numpy as np
import pytest

import shenjing as sj
from shenjing import callbacks, layers, losses, metrics, optimizers
from shenjing.io import CorruptFileError, saving
from shenjing.layers import Dense
from shenjing.models import load_model

LOGITS_LOSS = losses.SparseCategoricalCrossentropy(from_logits=True)


def _data(n: int = 40, features: int = 4, classes: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    return x, rng.integers(0, classes, n)


def _sequential() -> sj.Sequential:
    return sj.Sequential([sj.Input((4,)), Dense(8, activation="relu"),
                          layers.BatchNormalization(), layers.Dropout(0.2), Dense(3)])


def _residual() -> sj.Model:
    inputs = sj.Input((4,))
    h = Dense(8, activation="relu")(inputs)
    h = layers.Add()([h, Dense(8, activation="tanh")(h)])
    return sj.Model(inputs, Dense(3)(h), name="residual")


def _two_inputs() -> sj.Model:
    a, b = sj.Input((4,)), sj.Input((2,))
    joined = layers.Concatenate()([Dense(5, activation="relu")(a), b])
    return sj.Model([a, b], Dense(3)(joined))


def _trained(model, x, y):
    model.compile(optimizers.Adam(learning_rate=0.01), LOGITS_LOSS, metrics=["accuracy"])
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    return model


def _assert_same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    for u, v in zip(wa, wb, strict=True):
        assert u.dtype == v.dtype
        np.testing.assert_array_equal(u, v)


# -- the file ----------------------------------------------------------------------------------
def test_save_writes_one_zip_with_config_weights_and_optimizer(tmp_path):
    x, y = _data()
    model = _trained(_sequential(), x, y)
    path = tmp_path / "model.shenjing"
    model.save(path)
    assert os.listdir(tmp_path) == ["model.shenjing"]
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == sorted([saving.CONFIG, saving.WEIGHTS, saving.OPTIMIZER])
        config = json.loads(z.read(saving.CONFIG))
        from safetensors.numpy import load

        weights = load(z.read(saving.WEIGHTS))
        state = load(z.read(saving.OPTIMIZER))
    assert config["format"] == "shenjing.model" and config["version"] == 1
    assert config["model"]["class_name"] == "Sequential"
    assert [c["class_name"] for c in config["model"]["config"]["layers"]] == [
        "Dense", "BatchNormalization", "Dropout", "Dense"]
    assert config["compile"]["optimizer"]["class_name"] == "Adam"
    assert config["compile"]["optimizer_state"]["iterations"] == 10
    assert len(weights) == len(model.weights) == 8
    assert all(w.dtype == np.float32 for w in weights.values())
    assert len(state) == 2 * len(model.trainable_weights)  # Adam's momentum and velocity


@pytest.mark.parametrize("make, inputs", [
    (_sequential, lambda x: x),
    (_residual, lambda x: x),
    (_two_inputs, lambda x: [x, x[:, :2] ** 2]),
])
def test_loaded_model_predicts_exactly_what_the_saved_one_did(tmp_path, make, inputs):
    x, y = _data()
    model = _trained(make(), inputs(x), y)
    model.optimizer.learning_rate = 0.005  # as ReduceLROnPlateau would
    path = tmp_path / "m.shenjing"
    model.save(path)
    loaded = load_model(path)
    assert type(loaded) is type(model) and loaded is not model
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    _assert_same_weights(model, loaded)
    np.testing.assert_array_equal(loaded.predict(inputs(x)), model.predict(inputs(x)))
    assert loaded.predict(inputs(x)).dtype == np.float32
    # compiled as it was, with the optimizer state
    assert isinstance(loaded.optimizer, optimizers.Adam)
    assert loaded.optimizer.learning_rate == 0.005
    assert loaded.optimizer.iterations == model.optimizer.iterations
    assert isinstance(loaded.loss, losses.SparseCategoricalCrossentropy) and loaded.loss.from_logits
    assert loaded.evaluate(inputs(x), y, verbose=0, return_dict=True) == \
        model.evaluate(inputs(x), y, verbose=0, return_dict=True)


def test_metadata_is_kept_with_the_model(tmp_path):
    """The caller's metadata (shenjing train's class names) is read back; a file saved without
    any has {}; anything but a dict is refused when saving."""
    model = _sequential()
    saving.save_model(model, tmp_path / "m.shenjing", metadata={"class_names": ["a", "b"]})
    assert saving.load_metadata(tmp_path / "m.shenjing") == {"class_names": ["a", "b"]}
    model.save(tmp_path / "plain.shenjing")
    assert saving.load_metadata(tmp_path / "plain.shenjing") == {}
    with pytest.raises(TypeError, match="metadata must be a dict, not list"):
        saving.save_model(model, tmp_path / "x.shenjing", metadata=["a"])


def test_load_model_with_compile_false_and_an_uncompiled_model(tmp_path):
    x, y = _data()
    model = _trained(_residual(), x, y)
    model.save(tmp_path / "a.shenjing")
    loaded = load_model(tmp_path / "a.shenjing", compile=False)
    assert loaded.optimizer is None and loaded.loss is None
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))

    fresh = _sequential()
    fresh.save(tmp_path / "b.shenjing")
    with zipfile.ZipFile(tmp_path / "b.shenjing") as z:
        assert saving.OPTIMIZER not in z.namelist()
    assert load_model(tmp_path / "b.shenjing").optimizer is None


def test_metric_objects_and_other_losses_round_trip(tmp_path):
    x, y = _data()
    model = sj.Sequential([sj.Input((4,)), Dense(3, activation="softmax")])
    model.compile(optimizers.SGD(learning_rate=0.1, momentum=0.9),
                  losses.SparseCategoricalCrossentropy(),
                  metrics=[metrics.SparseTopKCategoricalAccuracy(k=2, name="top2"), "accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.shenjing")
    loaded = load_model(tmp_path / "m.shenjing")
    assert isinstance(loaded.optimizer, optimizers.SGD) and loaded.optimizer.momentum == 0.9
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == \
        model.evaluate(x, y, verbose=0, return_dict=True)


def test_unbuilt_model_cannot_be_saved(tmp_path):
    with pytest.raises(ValueError, match="no weights yet"):
        sj.Sequential([Dense(2)]).save(tmp_path / "m.shenjing")
    assert os.listdir(tmp_path) == []


# -- atomic writes -----------------------------------------------------------------------------
@pytest.mark.parametrize("failing", ["fsync", "replace"])
@pytest.mark.parametrize("what", ["save", "save_weights"])
def test_crash_mid_save_leaves_the_old_file_intact(tmp_path, monkeypatch, failing, what):
    x, y = _data()
    model = _trained(_sequential(), x, y)
    path = tmp_path / "checkpoint.shenjing"
    getattr(model, what)(path)
    old_bytes = path.read_bytes()
    old_prediction = model.predict(x)

    model.fit(x, y, epochs=1, verbose=0)  # new weights that the crash must not half-write
    opened: list[int] = []
    real_fdopen = os.fdopen

    def spy_fdopen(fd, *args, **kwargs):
        opened.append(fd)
        return real_fdopen(fd, *args, **kwargs)

    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdopen", spy_fdopen)
    monkeypatch.setattr(os, failing, crash)
    with pytest.raises(OSError, match="No space left"):
        getattr(model, what)(path)
    monkeypatch.undo()

    assert opened, "the temporary file was never opened"
    assert os.listdir(tmp_path) == ["checkpoint.shenjing"]  # no temporary file left behind
    assert path.read_bytes() == old_bytes
    restored = _sequential()
    restored.load_weights(path)
    np.testing.assert_array_equal(restored.predict(x), old_prediction)


def test_save_overwrites_through_a_temporary_file_in_the_same_folder(tmp_path, monkeypatch):
    x, y = _data()
    model = _trained(_sequential(), x, y)
    path = tmp_path / "m.shenjing"
    model.save(path)
    renames: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy_replace(src, dst):
        renames.append((os.fspath(src), os.fspath(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy_replace)
    model.save(path)
    ((src, dst),) = renames
    assert os.path.dirname(src) == str(tmp_path) and dst == str(path) and src != dst
    assert os.listdir(tmp_path) == ["m.shenjing"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_saved_files_get_the_mode_open_would_give(tmp_path):
    """Not the private 0o600 of the temporary file: 0o666 less the umask for a new file, and
    the old file's mode when overwriting."""
    model = _sequential()
    old_umask = os.umask(0o027)
    try:
        model.save(tmp_path / "m.shenjing")
        model.save_weights(tmp_path / "w.safetensors")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(os.stat(tmp_path / "m.shenjing").st_mode) == 0o640
    assert stat.S_IMODE(os.stat(tmp_path / "w.safetensors").st_mode) == 0o640
    os.chmod(tmp_path / "m.shenjing", 0o604)
    model.save(tmp_path / "m.shenjing")
    assert stat.S_IMODE(os.stat(tmp_path / "m.shenjing").st_mode) == 0o604


# -- the closed registry -------------------------------------------------------------------------
def _rewrite(path, edit=None, replace=None, drop=()):
    """A copy of the saved zip at ``path`` with its config edited by ``edit(config)``, members
    replaced by ``replace`` or dropped."""
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    if edit is not None:
        config = json.loads(members[saving.CONFIG])
        edit(config)
        members[saving.CONFIG] = json.dumps(config).encode()
    members.update(replace or {})
    out = path.with_name("edited.shenjing")
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            if name not in drop:
                z.writestr(name, data)
    return out


@pytest.fixture
def saved(tmp_path):
    x, y = _data()
    model = _trained(_sequential(), x, y)
    model.save(tmp_path / "m.shenjing")
    return tmp_path / "m.shenjing"


def _set_model_class(name):
    return lambda c: c["model"].update(class_name=name)


def _set_layer_class(name):
    return lambda c: c["model"]["config"]["layers"][0].update(class_name=name)


def _set_compile(key, name):
    def edit(config):
        if key == "metrics":
            config["compile"]["metrics"] = [{"class_name": name, "config": {}}]
        else:
            config["compile"][key]["class_name"] = name
    return edit


REFUSED = {
    "model os.system": _set_model_class("os.system"),
    "model Evil": _set_model_class("Evil"),
    "model builtins.eval": _set_model_class("builtins.eval"),
    "model from another package": _set_model_class("evil_package.Model"),
    "layer subprocess.Popen": _set_layer_class("subprocess.Popen"),
    "layer base class": _set_layer_class("Layer"),
    "layer Parameter": _set_layer_class("Parameter"),
    "layer InputSpec": _set_layer_class("InputSpec"),
    "optimizer os.system": _set_compile("optimizer", "os.system"),
    "optimizer base class": _set_compile("optimizer", "Optimizer"),
    "loss Tensor": _set_compile("loss", "Tensor"),
    "loss from another package": _set_compile("loss", "evil_package.Loss"),
    "metric Sequence": _set_compile("metrics", "Sequence"),
    "metric os.system": _set_compile("metrics", "os.system"),
}


@pytest.mark.parametrize("edit", REFUSED.values(), ids=REFUSED.keys())
def test_unknown_classes_in_the_file_are_refused(saved, monkeypatch, edit):
    path = _rewrite(saved, edit, replace={"payload.pkl": pickle.dumps({"a": 1})})
    imported: list[str] = []
    real_import = builtins.__import__

    def spy_import(name, *args, **kwargs):
        imported.append(name)
        return real_import(name, *args, **kwargs)

    def no_unpickling(*args, **kwargs):
        raise AssertionError("load_model unpickled something")

    monkeypatch.setattr(builtins, "__import__", spy_import)
    monkeypatch.setattr(importlib, "import_module", no_unpickling)
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, no_unpickling)
    with pytest.raises(ValueError, match="unknown") as info:
        load_model(path)
    monkeypatch.undo()
    assert not isinstance(info.value, CorruptFileError)
    named = {"os", "builtins", "subprocess", "evil_package"}
    assert not named.intersection(n.split(".")[0] for n in imported)


def test_unknown_activation_or_initializer_is_refused(saved):
    def activation(config):
        config["model"]["config"]["layers"][0]["config"]["activation"] = "os.system"

    def initializer(config):
        config["model"]["config"]["layers"][0]["config"]["kernel_initializer"] = {
            "class_name": "os.system", "config": {}}

    for edit in (activation, initializer):
        with pytest.raises(ValueError, match="unknown"):
            load_model(_rewrite(saved, edit))


def test_subclassed_models_save_weights_and_load_weights(tmp_path):
    class Net(sj.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.hidden, self.out = Dense(6, activation="relu"), Dense(2)

        def call(self, x, training=False):
            return self.out(self.hidden(x))

    x, _ = _data()
    model, other = Net(), Net()
    model(x[:1])
    other(x[:1])
    model.save_weights(tmp_path / "net.safetensors")
    other.load_weights(tmp_path / "net.safetensors")
    np.testing.assert_array_equal(other.predict(x), model.predict(x))
    # the whole model is saved, but its class is the user's code: load_model will not run it
    model.save(tmp_path / "net.shenjing")
    with pytest.raises(ValueError, match="unknown layer class 'Net'.*load_weights"):
        load_model(tmp_path / "net.shenjing")


# -- damaged files -----------------------------------------------------------------------------
def _truncate(fraction):
    def damage(path):
        data = path.read_bytes()
        path.write_bytes(data[:int(len(data) * fraction)])
    return damage


def _flip_bytes_in(member):
    def damage(path):
        data = bytearray(path.read_bytes())
        with zipfile.ZipFile(path) as z:
            info = z.getinfo(member)
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        for i in range(start + 2, start + min(info.compress_size, 40), 3):
            data[i] ^= 0x5A
        path.write_bytes(bytes(data))
    return damage


def _member(name, data=None, drop=False):
    def damage(path):
        edited = _rewrite(path, replace={} if drop else {name: data},
                          drop=(name,) if drop else ())
        os.replace(edited, path)
    return damage


def _config(edit):
    def damage(path):
        os.replace(_rewrite(path, edit), path)
    return damage


DAMAGES = {
    "empty": lambda p: p.write_bytes(b""),
    "random bytes": lambda p: p.write_bytes(np.random.default_rng(0).bytes(2000)),
    "truncated to 1%": _truncate(0.01),
    "truncated to half": _truncate(0.5),
    "truncated by one byte": _truncate(0.9999),
    "flipped bytes in the weights": _flip_bytes_in(saving.WEIGHTS),
    "flipped bytes in the config": _flip_bytes_in(saving.CONFIG),
    "config not JSON": _member(saving.CONFIG, b"{'model': "),
    "config a list": _member(saving.CONFIG, b"[1, 2]"),
    "another format": _config(lambda c: c.update(format="keras")),
    "no model entry": _config(lambda c: c.pop("model")),
    "no config": _member(saving.CONFIG, drop=True),
    "no weights": _member(saving.WEIGHTS, drop=True),
    "no optimizer state": _member(saving.OPTIMIZER, drop=True),
    "weights not safetensors": _member(saving.WEIGHTS, b"\x08\x00\x00\x00\x00\x00\x00\x00{}"),
    "optimizer state not safetensors": _member(saving.OPTIMIZER, b"garbage"),
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_damaged_files_raise_corrupt_file_error(saved, damage):
    damage(saved)
    with pytest.raises(CorruptFileError):
        load_model(saved)


def test_every_single_byte_flip_is_caught_or_harmless(saved):
    """Flip each byte of a small saved model in turn: load_model either reports
    CorruptFileError or (for bytes the zip does not check, such as timestamps) loads the same
    model; never another exception, never different weights."""
    model = load_model(saved)
    data = saved.read_bytes()
    outcomes = {"corrupt": 0, "same": 0}
    for i in range(0, len(data), 7):
        damaged = bytearray(data)
        damaged[i] ^= 0xFF
        saved.write_bytes(bytes(damaged))
        try:
            loaded = load_model(saved)
        except CorruptFileError:
            outcomes["corrupt"] += 1
        else:
            _assert_same_weights(model, loaded)
            outcomes["same"] += 1
    assert outcomes["corrupt"] > outcomes["same"] > 0


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "nothing.shenjing")
    with pytest.raises(FileNotFoundError):
        _sequential().load_weights(tmp_path / "nothing.safetensors")


# -- weights only -------------------------------------------------------------------------------
def test_save_weights_and_load_weights(tmp_path):
    x, y = _data()
    model = _trained(_sequential(), x, y)
    model.save_weights(tmp_path / "w.safetensors")
    model.save(tmp_path / "m.shenjing")
    from safetensors.numpy import load_file

    assert len(load_file(tmp_path / "w.safetensors")) == 8  # a plain safetensors file
    for source in ("w.safetensors", "m.shenjing"):
        fresh = _sequential()
        fresh.load_weights(tmp_path / source)
        _assert_same_weights(model, fresh)
        np.testing.assert_array_equal(fresh.predict(x), model.predict(x))


def test_load_weights_checks_the_architecture(tmp_path):
    _sequential().save_weights(tmp_path / "w.safetensors")
    smaller = sj.Sequential([sj.Input((4,)), Dense(8), Dense(3)])
    with pytest.raises(ValueError, match="holds 8 weights but the model has 4"):
        smaller.load_weights(tmp_path / "w.safetensors")
    wider = sj.Sequential([sj.Input((4,)), Dense(9, activation="relu"),
                           layers.BatchNormalization(), layers.Dropout(0.2), Dense(3)])
    with pytest.raises(ValueError, match="shape"):
        wider.load_weights(tmp_path / "w.safetensors")


def test_truncated_weights_file_is_corrupt(tmp_path):
    path = tmp_path / "w.safetensors"
    _sequential().save_weights(path)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(CorruptFileError):
        _sequential().load_weights(path)


def _flip_every_data_bit(path, load):
    """Flip each bit of the file's data section in turn: ``load`` must refuse every one."""
    data = path.read_bytes()
    start = 8 + int.from_bytes(data[:8], "little")
    for at in range(start, len(data)):
        for bit in range(8):
            flipped = bytearray(data)
            flipped[at] ^= 1 << bit
            path.write_bytes(bytes(flipped))
            with pytest.raises(CorruptFileError, match="corrupt: its contents do not match"):
                load(path)


def test_a_flipped_bit_in_a_weights_file_is_reported(tmp_path):
    """save_weights and ModelCheckpoint(save_weights_only=True) store a SHA-256 of the
    weights; load_weights checks it, for every bit of the data and for the header's names."""
    model = sj.Sequential([sj.Input((4,)), Dense(3)])
    path = tmp_path / "w.safetensors"
    model.save_weights(path)
    _flip_every_data_bit(path, sj.Sequential([sj.Input((4,)), Dense(3)]).load_weights)
    model.save_weights(path)
    data = path.read_bytes()
    assert data.count(b"/kernel") == 1
    path.write_bytes(data.replace(b"/kernel", b"/kernek"))  # same length, still valid JSON
    with pytest.raises(CorruptFileError, match=f"{path} is corrupt"):
        sj.Sequential([sj.Input((4,)), Dense(3)]).load_weights(path)
    x, y = _data()
    model.compile("sgd", LOGITS_LOSS)
    check = callbacks.ModelCheckpoint(str(tmp_path / "ck.weights.h5"), save_weights_only=True)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[check])
    _flip_every_data_bit(tmp_path / "ck.weights.h5",
                         sj.Sequential([sj.Input((4,)), Dense(3)]).load_weights)


def test_weights_files_without_a_checksum_still_load(tmp_path):
    """Files written before the checksum, or by another program, load as before."""
    from safetensors.numpy import save_file

    model = sj.Sequential([sj.Input((4,)), Dense(3)])
    save_file({"0000/dense/kernel": np.ones((4, 3), np.float32),
               "0001/dense/bias": np.arange(3, dtype=np.float32)}, tmp_path / "old.safetensors",
              metadata={"format": "shenjing.model"})
    model.load_weights(tmp_path / "old.safetensors")
    np.testing.assert_array_equal(model.weights[1].numpy(), [0, 1, 2])


# -- resuming ----------------------------------------------------------------------------------
def _resumable():
    sj.utils.set_random_seed(11)
    model = sj.Sequential([sj.Input((4,)), Dense(16, activation="relu"),
                           layers.BatchNormalization(), Dense(3)])
    model.compile(optimizers.Adam(learning_rate=0.01), LOGITS_LOSS, metrics=["accuracy"])
    return model


def test_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path):
    """Save after each epoch (ModelCheckpoint); load epoch 2's file and continue to epoch 5:
    weights, BN statistics and optimizer state match the run that never stopped, bit for
    bit (shuffle=False, so both runs see the same batches)."""
    x, y = _data(50)
    uninterrupted = _resumable()
    checkpoint = callbacks.ModelCheckpoint(tmp_path / "epoch{epoch}.shenjing", monitor="loss")
    full = uninterrupted.fit(x, y, batch_size=16, epochs=5, shuffle=False, verbose=0,
                             callbacks=[checkpoint])
    assert sorted(os.listdir(tmp_path)) == [f"epoch{k}.shenjing" for k in range(1, 6)]

    resumed = load_model(tmp_path / "epoch2.shenjing")
    assert resumed.optimizer.iterations == 2 * 4
    rest = resumed.fit(x, y, batch_size=16, initial_epoch=2, epochs=5, shuffle=False, verbose=0)
    assert rest.epoch == [2, 3, 4]
    assert rest.history["loss"] == full.history["loss"][2:]
    _assert_same_weights(uninterrupted, resumed)
    assert resumed.optimizer.iterations == uninterrupted.optimizer.iterations == 5 * 4
    for i, state in uninterrupted.optimizer.state_dict()["state"].items():
        for key, value in state.items():
            np.testing.assert_array_equal(resumed.optimizer.state_dict()["state"][i][key], value)


def test_resuming_without_the_optimizer_state_would_differ(tmp_path):
    """The control for the test above: fresh Adam moments after epoch 2 change the result."""
    x, y = _data(50)
    uninterrupted = _resumable()
    uninterrupted.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0)
    partial = _resumable()
    partial.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    partial.save(tmp_path / "m.shenjing")
    restarted = load_model(tmp_path / "m.shenjing", compile=False)
    restarted.compile(optimizers.Adam(learning_rate=0.01), LOGITS_LOSS)
    restarted.fit(x, y, batch_size=16, initial_epoch=2, epochs=4, shuffle=False, verbose=0)
    assert not np.array_equal(restarted.get_weights()[0], uninterrupted.get_weights()[0])


def test_resumed_run_with_dropout_is_bit_exact(tmp_path):
    x, y = _data(50)

    def build():
        sj.utils.set_random_seed(11)
        model = sj.Sequential([sj.Input((4,)), Dense(16, activation="relu"),
                               layers.Dropout(0.3), Dense(3)])
        model.compile(optimizers.Adam(learning_rate=0.01), LOGITS_LOSS)
        return model

    uninterrupted = build()
    uninterrupted.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0)
    partial = build()
    partial.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    partial.save(tmp_path / "m.shenjing")
    resumed = load_model(tmp_path / "m.shenjing")
    resumed.fit(x, y, batch_size=16, initial_epoch=2, epochs=4, shuffle=False, verbose=0)
    _assert_same_weights(uninterrupted, resumed)


def test_load_weights_orders_other_programs_names_by_their_numbers(tmp_path):
    """A list saved with shenjing.save (torch.save's habit) is named '0' ... '11': read as
    text, '10' came before '2', and twelve kernels of one shape loaded scrambled, silently."""
    def deep():
        sj.utils.set_random_seed(3)
        return sj.Sequential([sj.Input((4,)), *[Dense(4, use_bias=False) for _ in range(12)]])

    model, x = deep(), np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    sj.save(model.get_weights(), tmp_path / "w.safetensors")
    other = deep()
    other.set_weights([w * 0 for w in other.get_weights()])
    other.load_weights(tmp_path / "w.safetensors")
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
