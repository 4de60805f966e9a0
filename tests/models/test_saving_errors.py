"""Saving and loading as a user breaks it: every error names the file, says what is wrong with
it and what to do; a failed save leaves the previous file as it was and no temporary file."""

from __future__ import annotations

import os
import tempfile
import zipfile

import numpy as np
import pytest

import shenjing as sj
from shenjing.io import CorruptFileError, saving
from shenjing.layers import Dense
from shenjing.models import load_model


def _model(units: int = 8, depth: int = 2) -> sj.Sequential:
    model = sj.Sequential([sj.Input((4,))] + [Dense(units, activation="relu")
                                               for _ in range(depth - 1)] + [Dense(3)])
    model.compile("adam", "mse")
    return model


@pytest.fixture
def files(tmp_path):
    model = _model()
    model.fit(np.ones((8, 4), np.float32), np.zeros((8, 3), np.float32), epochs=1, verbose=0)
    model.save(tmp_path / "m.shenjing")
    model.save_weights(tmp_path / "w.safetensors")
    return tmp_path / "m.shenjing", tmp_path / "w.safetensors"


def _load_both(path):
    """The errors of load_model and of load_weights on ``path``."""
    errors = []
    for load in (load_model, lambda p: _model().load_weights(p)):
        with pytest.raises(Exception) as info:
            load(path)
        errors.append(info.value)
    return errors


# -- damaged and wrong files -------------------------------------------------------------------
@pytest.mark.parametrize("which", ["model", "weights"])
@pytest.mark.parametrize("fraction", [0.0, 0.003, 0.05, 0.3, 0.5, 0.9, 0.999])
def test_a_file_cut_anywhere_is_reported_as_cut_or_damaged(files, which, fraction):
    path = files[0] if which == "model" else files[1]
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * fraction)])
    loads = [load_model] if which == "model" else []
    loads.append(lambda p: _model().load_weights(p))
    for load in loads:
        with pytest.raises(CorruptFileError) as info:
            load(path)
        message = str(info.value)
        assert str(path) in message
        assert any(w in message for w in ("truncated", "cut short", "empty")), message
        assert "save it again" in message


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_a_compression_method_flipped_in_the_directory_is_a_damaged_file(files, method):
    """A damaged method byte that names bzip2 or lzma: their decoders fail on deflate's data
    with OSError or LZMAError, which once reached the user bare ("Invalid data stream")."""
    path = files[0]
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")  # the last member's directory entry
    data[central + 10:central + 12] = method.to_bytes(2, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match="damaged") as info:
        load_model(path)
    assert str(path) in str(info.value)


def test_a_model_file_cut_short_is_named_a_damaged_zip_by_load_weights(files):
    """It was read as safetensors before (the zip's directory at its end is gone), and the
    error spoke of a safetensors header."""
    path = files[0]
    path.write_bytes(path.read_bytes()[:-20])
    (error,) = _load_both(path)[1:]
    assert isinstance(error, CorruptFileError)
    assert "truncated or damaged (a zip archive" in str(error)


@pytest.mark.parametrize("member", [saving.CONFIG, saving.WEIGHTS])
def test_a_missing_member_is_named(files, member):
    path = files[0]
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist() if n != member}
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    for error in _load_both(path):
        assert isinstance(error, CorruptFileError)
        assert f"it has no {member};" in str(error)  # was "member config.json" for either


def test_a_missing_optimizer_state_says_how_to_load_without_it(files):
    path = files[0]
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist() if n != saving.OPTIMIZER}
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(CorruptFileError, match="compile=False"):
        load_model(path)
    assert load_model(path, compile=False).optimizer is None


def test_load_model_on_a_weights_file_says_to_use_load_weights(files):
    with pytest.raises(CorruptFileError, match=r"weights only .*load_weights"):
        load_model(files[1])


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
def test_an_hdf5_file_is_named_as_one(tmp_path, suffix):
    path = tmp_path / f"keras{suffix}"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))
    for error in _load_both(path):
        assert isinstance(error, CorruptFileError)
        assert "HDF5" in str(error) and "set_weights" in str(error)


def test_a_keras_dot_keras_zip_is_named_as_one(tmp_path):
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", "{}")
        z.writestr("config.json", "{}")
        z.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n")
    for error in _load_both(path):
        assert isinstance(error, CorruptFileError) and "Keras .keras file" in str(error)


@pytest.mark.parametrize("content", [b"", b"hello", b"not a model at all, just text\n" * 10,
                                     b"PK\x03\x04garbage"])
def test_other_files_with_a_right_suffix_are_refused_by_name(tmp_path, content):
    path = tmp_path / "model.shenjing"
    path.write_bytes(content)
    for error in _load_both(path):
        assert isinstance(error, CorruptFileError) and str(path) in str(error)


# -- weights of another architecture -----------------------------------------------------------
def test_wrong_count_lists_the_files_weights_and_the_models(files):
    with pytest.raises(ValueError) as info:
        _model(depth=3).load_weights(files[1])
    message = str(info.value)
    assert "holds 4 weights but the model has 6" in message
    assert "0000/dense" in message and "kernel (4, 8)" in message  # the file's, the model's
    assert "another architecture" in message


def test_wrong_shape_names_the_models_layer(files):
    model = _model(units=5)
    with pytest.raises(ValueError) as info:
        model.load_weights(files[1])
    assert f"model's {model.layers[0].name}/kernel has shape (4, 5)" in str(info.value)


def test_an_unbuilt_model_is_told_to_build_first(files):
    with pytest.raises(ValueError, match="no weights yet: build it first"):
        sj.Sequential([Dense(8), Dense(3)]).load_weights(files[1])


def test_weights_written_by_another_program_say_so(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "torch.safetensors"
    save_file({"0.weight": np.zeros((8, 4), np.float32), "0.bias": np.zeros(8, np.float32)},
              str(path))
    with pytest.raises(ValueError, match="another program wrote it"):
        _model().load_weights(path)


def test_same_shapes_under_other_layer_names_load_in_order(files):
    """Keras's rule for weight files: the order and shapes must match, not the names."""
    model = sj.Sequential([sj.Input((4,)), Dense(8, activation="relu", name="a"),
                           Dense(3, name="b")])
    model.load_weights(files[1])
    np.testing.assert_array_equal(model.get_weights()[0], load_model(files[0]).get_weights()[0])


# -- where files go ----------------------------------------------------------------------------
def test_an_unwritable_folder_is_named_and_nothing_is_left(tmp_path, monkeypatch, files):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / ".tmp-x"))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    model = load_model(files[0])
    before = sorted(os.listdir(tmp_path))
    for save in (model.save, model.save_weights):
        with pytest.raises(PermissionError) as info:
            save(tmp_path / "new.shenjing")
        message = str(info.value)
        assert f"cannot write {tmp_path / 'new.shenjing'}" in message
        assert "Permission denied" in message and "folder you can write to" in message
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize("what", ["save", "save_weights"])
def test_an_interrupted_save_names_the_target_and_keeps_the_old_file(files, monkeypatch, what):
    path = files[0] if what == "save" else files[1]
    old = path.read_bytes()
    model = load_model(files[0])
    model.fit(np.ones((8, 4), np.float32), np.ones((8, 3), np.float32), epochs=1, verbose=0)
    real_fdopen = os.fdopen

    class HalfWritten:
        """The temporary file gets some bytes, then the disk is full."""

        def __init__(self, fd, *args, **kwargs):
            self.f = real_fdopen(fd, *args, **kwargs)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(data[:len(data) // 2])
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdopen", HalfWritten)
    with pytest.raises(OSError) as info:
        getattr(model, what)(path)
    monkeypatch.undo()
    assert f"saving {path} failed (No space left on device)" in str(info.value)
    assert "the file there before is unchanged" in str(info.value)
    assert info.value.errno == 28
    assert path.read_bytes() == old
    assert not [n for n in os.listdir(path.parent) if n.startswith(".tmp-")]


@pytest.mark.parametrize("name", ["模型/权重 ñ", "dir with spaces/é"])
@pytest.mark.parametrize("as_str", [False, True])
def test_non_ascii_paths_as_path_or_str(tmp_path, name, as_str, files):
    model = load_model(files[0])
    target = tmp_path / name
    file, weights = target / "m.shenjing", target / "w.safetensors"
    if as_str:
        file, weights = str(file), str(weights)
    model.save(file)
    model.save_weights(weights)
    fresh = _model()
    fresh.load_weights(weights)
    for loaded in (load_model(file), fresh):
        for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5", ".safetensors", ".bin", ""])
def test_the_suffix_does_not_choose_the_format(tmp_path, files, suffix):
    """Unlike Keras 3 (.keras for save, .weights.h5 for save_weights), any suffix works: save
    writes shenjing's zip and save_weights safetensors, and loading reads what the file is."""
    model = load_model(files[0])
    model.save(tmp_path / f"model{suffix}")
    model.save_weights(tmp_path / f"weights{suffix}")
    assert zipfile.is_zipfile(tmp_path / f"model{suffix}")
    assert not zipfile.is_zipfile(tmp_path / f"weights{suffix}")
    load_model(tmp_path / f"model{suffix}")
    for source in (f"model{suffix}", f"weights{suffix}"):
        _model().load_weights(tmp_path / source)


@pytest.mark.parametrize("units", [(4, 4), (3, 1)], ids=["same shapes", "other shapes"])
def test_a_layer_frozen_after_compile_saves_and_loads_its_optimizer_state_faithfully(
        tmp_path, units):
    """Freezing a layer after compile and fit, then saving: the file's optimizer state is
    the remaining trainable weights', each its own (the moments of the frozen layer were
    handed to the next one when the shapes matched, and loading failed when they did not);
    training on from the loaded model is training on from the original."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = rng.standard_normal((64, units[1])).astype(np.float32)
    sj.utils.set_random_seed(0)
    model = sj.Sequential([sj.Input((4,)), Dense(units[0]), Dense(units[1])])
    model.compile("adam", "mse")
    model.fit(x, y, epochs=2, verbose=0)
    model.layers[0].trainable = False
    model.save(tmp_path / "m.shenjing")
    loaded = load_model(tmp_path / "m.shenjing")
    for m in (model, loaded):
        m.fit(x, y, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_save_weights_of_an_unbuilt_model_is_an_error_and_keeps_an_earlier_file(tmp_path):
    """An unbuilt model has no weights: saving them would replace an earlier file with an
    empty one; it is the error save() gives."""
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"earlier")
    with pytest.raises(ValueError, match="no weights yet"):
        sj.Sequential([Dense(3)]).save_weights(path)
    assert path.read_bytes() == b"earlier"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_saving_through_a_symbolic_link_keeps_the_link(tmp_path, files):
    """``latest.shenjing -> run3/model.shenjing``: a save replaces the file the link points
    to (atomically), and the link stays a link, as writing through it with open() would."""
    (tmp_path / "run3").mkdir()
    target = tmp_path / "run3" / "model.shenjing"
    target.write_bytes(b"old")
    link = tmp_path / "latest.shenjing"
    os.symlink(os.path.join("run3", "model.shenjing"), link)
    model = load_model(files[0])
    model.save(link)
    assert os.path.islink(link) and os.readlink(link) == os.path.join("run3", "model.shenjing")
    again = load_model(target)
    x = np.ones((2, 4), np.float32)
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    assert sorted(os.listdir(tmp_path / "run3")) == ["model.shenjing"]  # no temporary left
