"""The ``shenjing`` command as a user meets it: ``shenjing train`` at its defaults reaches 97% on
the built-in digits and writes its run folder; evaluate, predict and info work; help is clear;
and every mistake ends in one line on stderr with exit status 2, never a traceback."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import shenjing as sj
from shenjing.cli import MIN_VALID_SIZE, build_model, main

ROOT = Path(__file__).resolve().parents[2]
RUN_FILES = {"history.csv", "curves.png", "model.shenjing", "summary.txt", "metrics.json"}


def run_main(argv: list[str]) -> tuple[int, str]:
    """``main(argv)`` in-process, with its stdout captured (for module-scoped fixtures)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory) -> tuple[Path, str]:
    """``shenjing train`` at its defaults (the adapted CNN on the digits), run once."""
    out = tmp_path_factory.mktemp("digits-cnn")
    code, stdout = run_main(["train", "--out", str(out)])
    assert code == 0, stdout
    return out, stdout


# -- train -----------------------------------------------------------------------------------------
def test_train_defaults_reach_97_percent_on_digits(digits_run):
    out, _ = digits_run
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= 0.97, metrics
    assert metrics["data"] == "digits" and metrics["model"] == "cnn" and metrics["seed"] == 0
    assert metrics["epochs"] == 20 and metrics["test_samples"] == 359
    assert metrics["shenjing_version"] == sj.__version__
    assert metrics["test_loss"] > 0 and metrics["seconds"] > 0


def test_train_writes_the_run_folder(digits_run):
    out, stdout = digits_run
    assert {p.name for p in out.iterdir()} == RUN_FILES
    with open(out / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 20
    assert set(rows[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = (out / "summary.txt").read_text()
    assert "Conv2D" in summary and "(None, 2, 2, 64)" in summary  # 8 -> 4 -> 2 with 'same'
    # one line per epoch (stdout is not a terminal, so verbose=2), then the result
    assert sum(line.startswith("Epoch ") for line in stdout.splitlines()) == 20
    assert "test accuracy 0.9" in stdout and str(out) in stdout


def test_saved_model_gives_the_reported_metrics(digits_run):
    out, _ = digits_run
    metrics = json.loads((out / "metrics.json").read_text())
    model = sj.models.load_model(str(out / "model.shenjing"))
    (_, _), (x_test, y_test) = sj.datasets.digits.load_data()
    loss, accuracy = model.evaluate(x_test[..., None], y_test, verbose=0)  # raw 0..16 pixels
    assert accuracy == pytest.approx(metrics["test_accuracy"])
    assert loss == pytest.approx(metrics["test_loss"], rel=1e-5)


@pytest.mark.parametrize("shape, padding, flat", [
    ((8, 8, 1), "same", 2 * 2 * 64),       # the digits: 8 -> 4 -> 2
    ((28, 28, 1), "valid", 3 * 3 * 64),    # MNIST: the listing as written
    ((32, 32, 3), "valid", 4 * 4 * 64),    # CIFAR-10: the article's own input
])
def test_cnn_is_adapted_to_the_image_size(shape, padding, flat):
    model = build_model("cnn", shape, 10, 255.0)
    convs = [layer for layer in model.layers if isinstance(layer, sj.layers.Conv2D)]
    assert [c.filters for c in convs] == [32, 64, 64]
    assert {c.padding for c in convs} == {padding}
    assert isinstance(model.layers[0], sj.layers.Rescaling)
    assert model.output_shapes[-3] == (None, flat)
    last = model.layers[-1]
    assert last.units == 10 and last.activation is not sj.F.softmax  # logits
    assert (min(shape[:2]) >= MIN_VALID_SIZE) == (padding == "valid")


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_layers_are_numbered_in_the_order_they_run(kind):
    """summary.txt lists dense, dense_1, dense_2 top to bottom (the MLP's first Dense was
    numbered after the head's two, which were made first)."""
    model = build_model(kind, (8, 8, 1), 10, 16.0)
    dense = [layer.name for layer in model.layers if isinstance(layer, sj.layers.Dense)]
    numbers = [int(name.rpartition("_")[2]) if "_" in name else 0 for name in dense]
    assert numbers == sorted(numbers), dense


def test_train_mlp_then_continue_from_the_model_file(tmp_path):
    first, again = tmp_path / "first", tmp_path / "again"
    assert run_main(["train", "--model", "mlp", "--epochs", "2", "--out", str(first),
                     "--verbose", "0"])[0] == 0
    assert run_main(["train", "--model", str(first / "model.shenjing"), "--epochs", "1",
                     "--out", str(again), "--verbose", "0"])[0] == 0
    metrics = json.loads((again / "metrics.json").read_text())
    assert metrics["model"] == "model" and metrics["epochs"] == 1
    model = sj.models.load_model(str(again / "model.shenjing"))
    steps = -(-1438 // 32)
    assert model.optimizer.iterations == 3 * steps  # Adam's state carried on, not restarted


@pytest.mark.parametrize("metrics", [[], ["accuracy", "sparse_top_k_categorical_accuracy"]],
                         ids=["no metrics", "two metrics"])
def test_train_a_model_file_compiled_with_any_metrics(tmp_path, metrics):
    """A model file compiled with no metrics, or with several, trains and reports its test
    accuracy (the run once ended in an unpacking error after training, its folder removed)."""
    model = sj.Sequential([sj.Input((8, 8, 1)), sj.layers.Flatten(), sj.layers.Dense(10)])
    model.compile(optimizer="adam", metrics=metrics,
                  loss=sj.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.save(str(tmp_path / "m.shenjing"))
    code, out = run_main(["train", "--model", str(tmp_path / "m.shenjing"), "--epochs", "1",
                          "--out", str(tmp_path / "run"), "--verbose", "0"])
    assert code == 0 and "test accuracy" in out
    reported = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert 0.0 <= reported["test_accuracy"] <= 1.0
    assert (tmp_path / "run" / "model.shenjing").exists()


def test_train_offers_adadelta(tmp_path):
    assert run_main(["train", "--model", "mlp", "--epochs", "1", "--optimizer", "adadelta",
                     "--lr", "1.0", "--out", str(tmp_path), "--verbose", "0"])[0] == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["optimizer"] == "Adadelta" and metrics["learning_rate"] == 1.0
    assert type(sj.models.load_model(str(tmp_path / "model.shenjing")).optimizer) is \
        sj.optimizers.Adadelta


def test_a_diverged_run_keeps_its_folder_and_exits_1(tmp_path, capsys):
    """A learning rate that blows the loss up to NaN: the run folder is written (the model
    to inspect), and the exit status says the run failed, with what to try."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's overflow in the products
        code, _ = run_main(["train", "--model", "mlp", "--epochs", "2", "--optimizer", "sgd",
                            "--lr", "1e30", "--out", str(tmp_path), "--verbose", "0"])
    assert code == 1 and RUN_FILES <= {p.name for p in tmp_path.iterdir()}
    assert "training diverged" in capsys.readouterr().err


def test_train_skips_the_plot_without_matplotlib(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib... -> ImportError
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert main(["train", "--model", "mlp", "--epochs", "1", "--out", str(tmp_path),
                 "--verbose", "0"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "matplotlib" in line]
    assert lines == ["curves.png skipped: matplotlib is not installed "
                     "(pip install 'shenjing[plot]')"]
    assert {p.name for p in tmp_path.iterdir()} == RUN_FILES - {"curves.png"}


def _write_image_folder(root: Path, count: int, offset: int = 0) -> None:
    """Digits as PNG files in class folders (root/<digit>/<i>.png), 32x32 RGB."""
    from PIL import Image

    (x, y), _ = sj.datasets.digits.load_data()
    for i in range(offset, offset + count):
        folder = root / str(int(y[i]))
        folder.mkdir(parents=True, exist_ok=True)
        pixels = np.repeat((x[i] * 15).astype(np.uint8), 4, axis=0).repeat(4, axis=1)
        Image.fromarray(pixels).convert("RGB").save(folder / f"{i}.png")


def test_train_and_evaluate_on_an_image_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SHENJING_CACHE", str(tmp_path / "cache"))
    _write_image_folder(tmp_path / "photos", 60)
    out = tmp_path / "run"
    assert main(["train", "--data", str(tmp_path / "photos"), "--image-size", "16",
                 "--epochs", "2", "--out", str(out), "--verbose", "0"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["data"] == "photos" and metrics["input_shape"] == [16, 16, 3]
    assert metrics["train_samples"] + metrics["test_samples"] == 60
    assert metrics["test_samples"] == 12  # 20% held out
    assert main(["evaluate", str(out / "model.shenjing"), "--data",
                 str(tmp_path / "photos")]) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    assert "(12 test images)" in line
    assert f"accuracy: {metrics['test_accuracy']:.4f}" in line


def test_train_on_a_zip_with_train_and_test_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("SHENJING_CACHE", str(tmp_path / "cache"))
    _write_image_folder(tmp_path / "d" / "train", 40)
    _write_image_folder(tmp_path / "d" / "test", 20, offset=40)
    archive = tmp_path / "digits.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((tmp_path / "d").rglob("*.png")):
            zf.write(path, path.relative_to(tmp_path / "d").as_posix())
    out = tmp_path / "run"
    code, _ = run_main(["train", "--data", str(archive), "--image-size", "8", "--color-mode",
                        "grayscale", "--epochs", "1", "--out", str(out), "--verbose", "0"])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["train_samples"], metrics["test_samples"]) == (40, 20)
    assert metrics["input_shape"] == [8, 8, 1]


@pytest.mark.parametrize("splits", [False, True])
def test_a_zip_made_with_its_folder_around_the_classes_is_looked_into(tmp_path, monkeypatch,
                                                                       splits, capsys):
    """zip -r photos.zip photos/ puts one folder around the class folders (or train/ and
    test/): that is not one class (a 100% 'classifier' of it), it is the data."""
    monkeypatch.setenv("SHENJING_CACHE", str(tmp_path / "cache"))
    if splits:
        _write_image_folder(tmp_path / "photos" / "train", 40)
        _write_image_folder(tmp_path / "photos" / "test", 20, offset=40)
    else:
        _write_image_folder(tmp_path / "photos", 60)
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((tmp_path / "photos").rglob("*.png")):
            zf.write(path, path.relative_to(tmp_path).as_posix())  # photos/<...>/<i>.png
    out = tmp_path / "run"
    code, _ = run_main(["train", "--data", str(archive), "--image-size", "8", "--epochs", "1",
                        "--out", str(out), "--verbose", "0"])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["class_names"]) > 2 and "photos" not in metrics["class_names"]
    assert metrics["test_samples"] == (20 if splits else 12)
    # evaluate takes the --data that train took (it once refused 'photos' as a class)
    code, text = run_main(["evaluate", str(out), "--data", str(archive)])
    assert code == 0 and "accuracy:" in text
    # a folder of one unknown class of images is that, not a wrapper: the error says so
    (tmp_path / "zebras" / "zebra").mkdir(parents=True)
    for png in sorted((tmp_path / "photos").rglob("*.png"))[:3]:
        (tmp_path / "zebras" / "zebra" / png.name).write_bytes(png.read_bytes())
    err = _one_line_error(["evaluate", str(out), "--data", str(tmp_path / "zebras"), "--all"],
                          capsys)
    assert "classes ['zebra'] that the model was not trained on" in err


def test_training_on_one_class_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SHENJING_CACHE", str(tmp_path / "cache"))
    _write_image_folder(tmp_path / "all", 60)
    only = tmp_path / "one"
    (only / "seven").mkdir(parents=True)
    for png in sorted((tmp_path / "all" / "7").glob("*.png")):
        (only / "seven" / png.name).write_bytes(png.read_bytes())
    assert main(["train", "--data", str(only), "--epochs", "1", "--verbose", "0",
                 "--out", str(tmp_path / "run")]) == 2
    assert "has 1 class folder (seven): training a classifier needs at least two" in \
        capsys.readouterr().err


def test_a_saved_models_image_size_is_not_overridden_silently(digits_run, tmp_path, monkeypatch,
                                                              capsys):
    monkeypatch.setenv("SHENJING_CACHE", str(tmp_path / "cache"))
    _write_image_folder(tmp_path / "photos", 30)
    first = tmp_path / "first"
    assert main(["train", "--data", str(tmp_path / "photos"), "--image-size", "8",
                 "--color-mode", "grayscale", "--epochs", "1", "--out", str(first),
                 "--verbose", "0"]) == 0
    capsys.readouterr()
    assert main(["train", "--model", str(first / "model.shenjing"), "--data",
                 str(tmp_path / "photos"), "--image-size", "64", "--epochs", "1",
                 "--out", str(tmp_path / "second"), "--verbose", "0"]) == 2
    assert "--image-size 64 does not fit the model, which takes 8x8 grayscale images" in \
        capsys.readouterr().err
    assert main(["train", "--model", str(tmp_path), "--data", "digits"]) == 2
    assert "is a folder without a model file" in capsys.readouterr().err


# -- evaluate, predict, info -----------------------------------------------------------------------
def test_evaluate_prints_loss_and_accuracy(digits_run, capsys):
    out, _ = digits_run
    metrics = json.loads((out / "metrics.json").read_text())
    assert main(["evaluate", str(out), "--data", "digits"]) == 0  # the run folder will do
    line = capsys.readouterr().out.strip()
    assert "digits (359 test images)" in line
    assert f"loss: {metrics['test_loss']:.4f}" in line
    assert f"accuracy: {metrics['test_accuracy']:.4f}" in line


def test_predict_images_and_npy_arrays(digits_run, tmp_path, capsys):
    from PIL import Image

    out, _ = digits_run
    model_path = str(out / "model.shenjing")
    model = sj.models.load_model(model_path)
    (_, _), (x_test, y_test) = sj.datasets.digits.load_data()
    expected = model.predict(x_test[:4, ..., None]).argmax(axis=1)
    np.save(tmp_path / "batch.npy", x_test[:3])        # (3, 8, 8): raw pixels, no channel axis
    np.save(tmp_path / "one.npy", x_test[3])           # (8, 8): a single image
    # An image file of x_test[0], 4x larger: pixels 0..16 as 0..255; resized back to 8x8
    pixels = np.round(x_test[0].astype(np.float64) * 255 / 16).astype(np.uint8)
    Image.fromarray(pixels.repeat(4, axis=0).repeat(4, axis=1)).save(tmp_path / "digit.png")
    assert main(["predict", model_path, str(tmp_path / "batch.npy"), str(tmp_path / "one.npy"),
                 str(tmp_path / "digit.png")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    classes = [int(line.split("class ")[1].split()[0]) for line in lines]
    probabilities = [float(line.split("probability ")[1]) for line in lines]
    assert classes == [*expected.tolist(), int(expected[0])]
    assert all(0.1 <= p <= 1.0 for p in probabilities)
    assert lines[0].startswith(f"{tmp_path / 'batch.npy'}[0]")


def test_info_reports_versions_blas_and_extras(capsys):
    assert main(["info"]) == 0
    text = capsys.readouterr().out
    package = Path(sj.__file__).resolve().parent
    assert text.startswith(f"shenjing {sj.__version__} ({package})\n")
    assert f"NumPy {np.__version__}" in text
    assert "Python 3." in text and "BLAS:" in text and "threads" in text
    assert "matplotlib" in text and "Pillow" in text
    assert f"im2col, losses): {sj.native.status()}" in text and "C kernels (" in text
    assert f"float32 GEMMs: {sj.native.onednn.status()}" in text


# -- help and errors -------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, wanted", [
    (["--help"], ["train", "evaluate", "predict", "info", "examples:"]),
    (["train", "--help"], ["--epochs", "--batch-size", "--optimizer", "--lr", "--seed", "--out",
                           "--verbose", "--data", "padding='same'", "8 -> 4 -> 2",
                           "from_logits=True", "examples:"]),
    (["evaluate", "--help"], ["MODEL", "--data", "examples:"]),
    (["predict", "--help"], ["MODEL", "FILE", ".npy", "examples:"]),
    (["info", "--help"], ["BLAS", "extras"]),
])
def test_help_is_clear(argv, wanted, capsys):
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: shenjing")
    for word in wanted:
        assert word in text, word


@pytest.mark.parametrize("argv, message", [
    ([], "required: COMMAND"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["train", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["train", "--epochs", "0"], "argument --epochs: expected a positive integer"),
    (["train", "--epochs", "ten"], "argument --epochs: expected a positive integer"),
    (["train", "--lr", "-1"], "argument --lr: expected a positive number"),
    (["train", "--optimizer", "sophia"], "argument --optimizer: invalid choice"),
    (["train", "--model", "resnet"], "argument --model: expected mlp, cnn or a saved"),
    (["train", "--data", "imagenet"], "unknown data set 'imagenet'"),
    (["train", "--data", "no/such/folder"], "no such folder or zip file: no/such/folder"),
    (["train", "--model", "missing.shenjing"], "no such model file: missing.shenjing"),
    (["evaluate", "missing.shenjing"], "no such model file: missing.shenjing"),
    (["predict", "missing.shenjing", "x.png"], "no such model file: missing.shenjing"),
])
def test_mistakes_give_one_line_and_status_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("shenjing: error: "), captured.err
    assert message in lines[0]


def test_missing_and_corrupt_files_give_one_line(digits_run, tmp_path, monkeypatch, capsys):
    out, _ = digits_run
    monkeypatch.setenv("SHENJING_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("SHENJING_OFFLINE", "1")  # never download in a test
    corrupt = tmp_path / "corrupt.shenjing"
    corrupt.write_bytes(b"not a model")
    (tmp_path / "notes.txt").write_text("hello")
    cases = [
        (["train", "--data", "mnist", "--out", str(tmp_path / "r")], "mnist"),
        (["evaluate", str(corrupt)], "cannot load the model"),
        (["predict", str(out / "model.shenjing"), str(tmp_path / "none.png")], "no such file"),
        (["predict", str(out / "model.shenjing"), str(tmp_path / "notes.txt")],
         "give images"),
        (["predict", str(out / "model.shenjing"), str(corrupt.with_suffix(".png"))],
         "no such file"),
    ]
    for argv, message in cases:
        capsys.readouterr()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and err.startswith("shenjing: error: "), err
        assert message.lower() in err.lower(), err


def test_unreadable_inputs_to_predict(digits_run, tmp_path, capsys):
    out, _ = digits_run
    (tmp_path / "fake.png").write_bytes(b"not an image")
    np.save(tmp_path / "wrong.npy", np.zeros((2, 5, 5)))
    for path, message in (("fake.png", "not an image"), ("wrong.npy", "shape 2x5x5")):
        assert main(["predict", str(out / "model.shenjing"), str(tmp_path / path)]) == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and message in err, err


def test_python_dash_m_shenjing_in_a_subprocess(tmp_path):
    """What a user's shell sees: `python -m shenjing` (the same main as the `shenjing` script)."""
    ok = subprocess.run([sys.executable, "-m", "shenjing", "--help"], capture_output=True,
                        text=True, timeout=120, check=False)
    assert ok.returncode == 0 and ok.stdout.startswith("usage: shenjing")
    bad = subprocess.run([sys.executable, "-m", "shenjing", "train", "--data", "nosuch"],
                         capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("shenjing: error: unknown data set 'nosuch'")
    assert "Traceback" not in bad.stderr and len(bad.stderr.splitlines()) == 1


def test_the_shenjing_script_is_declared():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the project supports 3.10
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["project"]["scripts"] == {"shenjing": "shenjing.cli:main"}
    extras = config["project"]["optional-dependencies"]
    assert any(r.startswith("matplotlib") for r in extras["plot"])
    assert any(r.startswith("matplotlib") for r in extras["test"])


def test_import_shenjing_does_not_import_the_cli():
    code = ("import sys, shenjing; "
            "print(sorted(m for m in ('shenjing.cli', 'matplotlib', 'PIL') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.strip() == "[]"


def test_ctrl_c_ends_training_and_still_writes_the_run_folder(tmp_path):
    """The first Ctrl-C stops after the current batch: the model as trained so far is saved,
    metrics.json says so; the exit status is 0."""
    import signal
    import time

    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "shenjing", "train", "--model", "mlp",
                             "--epochs", "10000", "--out", str(out), "--verbose", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    history = out / "history.csv"
    deadline = time.monotonic() + 120
    while not (history.exists() and len(history.read_text().splitlines()) >= 3):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "stopping after this batch" in stderr
    assert RUN_FILES <= {p.name for p in out.iterdir()}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["interrupted"] is True and 2 <= metrics["epochs"] < 10000
    assert 0.5 < metrics["test_accuracy"] <= 1.0  # the epochs that ran did train it
    model = sj.models.load_model(out)  # and the saved file loads
    assert model.count_params() > 0 and model.optimizer is not None


# -- class names: kept in the model file; data that does not fit the model ----------------------
def _write_shades(root: Path, classes: str) -> None:
    """8x8 RGB images whose class is their shade: a dark, b mid-grey, c light (20 each)."""
    from PIL import Image

    for c in classes:
        (root / c).mkdir(parents=True, exist_ok=True)
        for k in range(20):
            value = {"a": 20, "b": 128, "c": 235}[c] + k % 5
            Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(root / c / f"{k}.png")


@pytest.fixture(scope="module")
def shades_run(tmp_path_factory) -> Path:
    """A CNN trained on the classes a, b, c; the folders abc/ and bc/ beside its run folder."""
    root = tmp_path_factory.mktemp("shades")
    _write_shades(root / "abc", "abc")
    _write_shades(root / "bc", "bc")
    code, stdout = run_main(["train", "--data", str(root / "abc"), "--image-size", "8",
                             "--epochs", "30", "--out", str(root / "run"), "--verbose", "0"])
    assert code == 0, stdout
    return root


def _evaluate_line(argv: list[str], capsys) -> str:
    assert main(argv) == 0, capsys.readouterr().err
    return capsys.readouterr().out.splitlines()[-1].split(" on ", 1)[1]


def test_class_names_travel_with_the_model_file(shades_run, tmp_path, capsys):
    """Evaluated on b and c only, the labels are the model's classes 1 and 2, wherever the
    file is and whatever became of its run folder's metrics.json."""
    from shenjing.io.saving import load_metadata

    run = shades_run / "run"
    assert load_metadata(run / "model.shenjing") == {"class_names": ["a", "b", "c"]}
    argv = ["--data", str(shades_run / "bc"), "--all"]
    in_place = _evaluate_line(["evaluate", str(run / "model.shenjing"), *argv], capsys)
    assert "accuracy: 1.0000" in in_place
    moved = tmp_path / "model.shenjing"
    moved.write_bytes((run / "model.shenjing").read_bytes())
    assert _evaluate_line(["evaluate", str(moved), *argv], capsys) == in_place
    (tmp_path / "metrics.json").write_text((run / "metrics.json").read_text()[:200])  # cut
    assert _evaluate_line(["evaluate", str(moved), *argv], capsys) == in_place
    np.save(tmp_path / "b.npy", np.full((8, 8, 3), 128.0))
    assert main(["predict", str(moved), str(tmp_path / "b.npy")]) == 0
    assert "class 1 (b)" in capsys.readouterr().out


def _one_line_error(argv: list[str], capsys) -> str:
    capsys.readouterr()
    assert main(argv) == 2, argv
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("shenjing: error: "), err
    return err


def test_data_whose_classes_do_not_fit_the_model_is_refused(shades_run, tmp_path, capsys):
    run = shades_run / "run"
    # classes the model was not trained on
    err = _one_line_error(["evaluate", str(run), "--data", "digits"], capsys)
    assert "digits has classes ['0', '1'," in err and "(its classes: a, b, c)" in err
    err = _one_line_error(["train", "--model", str(run), "--data", "digits", "--epochs", "1",
                           "--out", str(tmp_path / "r")], capsys)
    assert "not trained on" in err and not (tmp_path / "r").exists()
    # a model saved without class names: numbering b, c as 0, 1 would be a guess
    bare = tmp_path / "bare" / "model.shenjing"
    sj.models.load_model(run).save(str(bare))
    err = _one_line_error(["evaluate", str(bare), "--data", str(shades_run / "bc"), "--all"],
                          capsys)
    assert "does not record its class names and has 3 outputs" in err and "2 classes" in err
    assert _evaluate_line(["evaluate", str(bare), "--data", str(shades_run / "abc"), "--all"],
                          capsys).endswith("accuracy: 1.0000")
    # more classes than outputs
    three = sj.Sequential([sj.Input((8, 8, 1)), sj.layers.Flatten(), sj.layers.Dense(3)])
    three.save(str(tmp_path / "three.shenjing"))
    err = _one_line_error(["evaluate", str(tmp_path / "three.shenjing")], capsys)
    assert "--data digits has 10 classes but the model has 3 outputs" in err


def test_a_damaged_metrics_json_of_an_older_run_is_reported(shades_run, tmp_path, capsys):
    """A model file saved before class names were kept in it takes them from its run folder's
    metrics.json; a damaged one is an error that names it, not a silent renumbering."""
    older = tmp_path / "older"
    sj.models.load_model(shades_run / "run").save(str(older / "model.shenjing"))
    metrics = (shades_run / "run" / "metrics.json").read_text()
    (older / "metrics.json").write_text(metrics)
    argv = ["evaluate", str(older), "--data", str(shades_run / "bc"), "--all"]
    assert _evaluate_line(argv, capsys).endswith("accuracy: 1.0000")
    (older / "metrics.json").write_text(metrics[:200])
    err = _one_line_error(argv, capsys)
    assert f"{older / 'metrics.json'} is damaged" in err


@pytest.mark.parametrize("loss", ["categorical_crossentropy", "mse"])
def test_a_model_compiled_for_other_targets_is_refused(loss, tmp_path, capsys):
    """A saved model whose loss wants one-hot rows or values, not class ids: one line, and no
    run folder left behind by train."""
    model = sj.Sequential([sj.Input((8, 8, 1)), sj.layers.Flatten(),
                           sj.layers.Dense(10, activation="softmax")])
    model.compile("adam", loss, metrics=["accuracy"])
    model.save(str(tmp_path / "m.shenjing"))
    for argv in (["evaluate", str(tmp_path / "m.shenjing")],
                 ["train", "--model", str(tmp_path / "m.shenjing"), "--epochs", "1", "--out",
                  str(tmp_path / "run")]):
        err = _one_line_error(argv, capsys)
        assert "loss or metrics do not take integer class labels" in err
        assert "y_true has shape (2,) but y_pred has shape (2, 10)" in err
    assert not (tmp_path / "run").exists()


def test_predict_refuses_strings_and_nan(digits_run, tmp_path, capsys):
    out, _ = digits_run
    for name, value, message in (("s.npy", "a", "holds <U1 values, not numbers"),
                                 ("nan.npy", np.nan, "holds NaN or infinite values"),
                                 ("inf.npy", np.inf, "holds NaN or infinite values")):
        np.save(tmp_path / name, np.full((8, 8, 1), value))
        err = _one_line_error(["predict", str(out), str(tmp_path / name)], capsys)
        assert f"{tmp_path / name} {message}" in err


def test_a_failed_train_leaves_no_half_written_run_folder(tmp_path, monkeypatch, capsys):
    """A failure mid-run (a bug, a second Ctrl-C) removes the folder the run made; a folder
    that was there before keeps its files, an earlier run's included (a rerun with the same
    --out rewrote its summary and history before failing), and a line says so."""
    argv = ["train", "--model", "mlp", "--verbose", "0", "--epochs", "1", "--out"]
    assert main([*argv, str(tmp_path / "old")]) == 0
    (tmp_path / "old" / "notes.txt").write_text("mine")
    before = {p.name: p.read_bytes() for p in (tmp_path / "old").iterdir()}
    capsys.readouterr()

    def fail(self, *args, callbacks=(), **kwargs):  # dies after an epoch was logged
        for c in callbacks:
            c.set_model(self)
            c.on_train_begin()
            c.on_epoch_end(0, {"loss": 9.0})
            c.on_train_end()  # as fit's does when it fails
        raise RuntimeError("boom")

    monkeypatch.setattr(sj.Model, "fit", fail)
    with pytest.raises(RuntimeError, match="boom"):
        main([*argv, str(tmp_path / "new")])
    assert not (tmp_path / "new").exists()
    with pytest.raises(RuntimeError, match="boom"):
        main([*argv, str(tmp_path / "old")])
    assert {p.name: p.read_bytes() for p in (tmp_path / "old").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]  # no staging folder left
    assert (f"the run failed; {tmp_path / 'old'} keeps the files it had"
            in capsys.readouterr().err)


def test_a_rerun_into_a_folder_stages_inside_it_and_leaves_one_run(tmp_path, monkeypatch,
                                                                  capsys):
    """--out an existing folder: the run is staged inside it (beside it lay another file
    system where --out is a mount point: the move failed after training, and the run was
    lost); the earlier run's files that this run did not write go, the user's stay; "wrote"
    comes once the files are there."""
    out = tmp_path / "run"
    argv = ["train", "--model", "mlp", "--verbose", "0", "--epochs", "1", "--out", str(out)]
    assert main(argv) == 0
    (out / "notes.txt").write_text("mine")
    (out / "curves.png").write_bytes(b"an earlier run's plot")
    from shenjing.cli import train as train_cli
    monkeypatch.setattr(train_cli, "plot_curves", lambda history, path: False)
    moves = []
    real_replace = os.replace

    def replace(src, dst):  # (os's own: the run's atomic saves use it too)
        if Path(dst).parent == out:
            moves.append(Path(src).parent.parent)
        real_replace(src, dst)

    monkeypatch.setattr(train_cli.os, "replace", replace)
    capsys.readouterr()
    assert main(argv) == 0
    assert moves and set(moves) == {out}  # each file came from a folder inside --out
    assert sorted(p.name for p in out.iterdir()) == [
        "history.csv", "metrics.json", "model.shenjing", "notes.txt", "summary.txt"]
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith(f"wrote {out}")
