"""``shenjing train``: build, fit, evaluate and write the run folder."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .common import PROG, CLIError
from .models import (
    _check_shape,
    _compile,
    _fmt_shape,
    _for_model,
    _load_model_file,
    _make_optimizer,
    build_model,
)
from .predict import _check_fits, _load_data_for


def _test_scores(model: Any, x: Any, y: Any, batch_size: int) -> tuple[float, float]:
    """The test loss and accuracy of a trained model, whatever metrics it was compiled with
    (a model file may carry none, or several): its own accuracy where it has one, else the
    share of argmax predictions that match."""
    with warnings.catch_warnings():  # images are finite: a NaN loss is the model's, which
        warnings.simplefilter("ignore", UserWarning)  # the diverged-run message explains
        scores = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
    if "accuracy" in scores:
        return scores["loss"], scores["accuracy"]
    predicted = np.asarray(model.predict(x, batch_size=batch_size, verbose=0)).argmax(axis=-1)
    return scores["loss"], float(np.mean(predicted == np.asarray(y).reshape(predicted.shape)))


def _run_dir(out: str | None, data: str, model: str) -> Path:
    if out is not None:
        path = Path(out)
    else:
        stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{data}-{model}"
        path, k = Path("runs") / stem, 2
        while path.exists():
            path, k = Path("runs") / f"{stem}-{k}", k + 1
    return _out_folder(path)


@contextlib.contextmanager
def _run_folder(out: str | None, data: str, model: str) -> Iterator[tuple[Path, Path]]:
    """(where to write, the run folder) for the block that fills it. A new folder is written
    in place, and removed if the block fails, so that no half-written run passes for a
    finished one. Into a folder that was there before (``--out`` again), the run writes
    beside it and its files replace the old ones only once it has finished: a run that fails
    leaves the previous run's files as they were. (The run is written in a hidden folder
    inside it, not beside it: a mount point's parent is another file system, where the files
    could not be moved in.) The previous run's files that this one did not write (a plot,
    without matplotlib now) are removed: the folder holds one run."""
    fresh = out is None or not Path(out).exists()
    path = _run_dir(out, data, model)
    work = path if fresh else Path(tempfile.mkdtemp(prefix=".shenjing-run-", dir=path))
    try:
        yield work, path
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        if not fresh:
            print(f"{PROG} train: the run failed; {path} keeps the files it had",
                  file=sys.stderr)
        raise
    if not fresh:
        new = {f.name for f in work.iterdir()}
        for name in new:
            os.replace(work / name, path / name)
        work.rmdir()
        from ..io.formats import RUN_MODEL  # (the saving code: not at the CLI's start)

        for name in {"curves.png", "history.csv", "metrics.json", RUN_MODEL, "summary.txt"} - new:
            with contextlib.suppress(FileNotFoundError):
                (path / name).unlink()


def _out_folder(path: Path) -> Path:
    """``path`` made a folder (with its parents), or a one-line error if a file is there."""
    if path.exists() and not path.is_dir():
        raise CLIError(f"--out {path} exists and is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


def plot_curves(history: dict[str, list[float]], path: Path) -> bool:
    """``shenjing.plot.learning_curves`` (loss and accuracy, train and validation, per epoch) to
    ``path`` (PNG). False, and one printed line, when matplotlib is not installed."""
    from ..plot import learning_curves

    try:
        learning_curves(history, path)
    except ImportError:
        print(f"{path.name} skipped: matplotlib is not installed (pip install 'shenjing[plot]')")
        return False
    return True


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(float(v)) else None


def cmd_train(args: argparse.Namespace) -> int:
    from .. import __version__, parallel, utils
    from ..callbacks import CSVLogger
    from ..io.formats import RUN_MODEL
    from ..io.saving import atomic_write, save_model

    utils.set_random_seed(args.seed)
    saved = None if args.model in ("mlp", "cnn") else _load_model_file(args.model)
    data, classes = _load_data_for(saved, args)
    num_classes = max(len(data.class_names), int(max(data.y_train.max(), data.y_test.max())) + 1)
    if saved is None:
        model_name = args.model
        model = build_model(args.model, data.image_shape, num_classes, data.pixel_max)
        _compile(model, _make_optimizer(args.optimizer or "adam", args.lr))
        how = "the article's CNN" if args.model == "cnn" else "an MLP"
        if args.model == "cnn":
            padding = model.layers[1].padding
            how += (f" (padding='{padding}'" + (f": {_fmt_shape(data.image_shape[:2])} images "
                    "are too small for 'valid'" if padding == "same" else "") + ")")
    else:
        model, model_name = saved, Path(args.model).stem
        _check_shape(model, data.image_shape, f"--data {data.name}")
        if args.optimizer is not None or args.lr is not None or model.optimizer is None:
            _compile(model, _make_optimizer(args.optimizer or "adam", args.lr))
            how = f"{args.model} (new optimizer)"
        else:
            how = f"{args.model} (continuing with its saved optimizer state)"
        _check_fits(model, data, classes)
    verbose = args.verbose if args.verbose is not None else (1 if sys.stdout.isatty() else 2)
    x_test = _for_model(model, data.x_test, data.pixel_max)
    x_train = _for_model(model, data.x_train, data.pixel_max)
    if verbose:
        print(f"{PROG} train: {how} on {data.name} ({len(x_train)} train and {len(x_test)} test "
              f"images of {_fmt_shape(data.image_shape)}, {num_classes} classes), seed "
              f"{args.seed}")
        model.summary()
    with _run_folder(args.out, data.name, model_name) as (out, final):
        with open(out / "summary.txt", "w", encoding="utf-8") as f:
            model.summary(print_fn=lambda line: print(line, file=f))

        start = time.perf_counter()
        with _stop_on_interrupt(model) as interrupted:
            history = model.fit(x_train, data.y_train, epochs=args.epochs,
                                batch_size=args.batch_size,
                                validation_data=(x_test, data.y_test), verbose=verbose,
                                callbacks=[CSVLogger(out / "history.csv")])
        seconds = time.perf_counter() - start
        test_loss, test_accuracy = _test_scores(model, x_test, data.y_test, args.batch_size)
        # the class names travel with the model: evaluate and predict read them from the file
        save_model(model, str(out / RUN_MODEL), metadata={"class_names": data.class_names})
        plot_curves(history.history, out / "curves.png")
        optimizer = model.optimizer
        metrics = {
            "test_loss": _finite(test_loss), "test_accuracy": _finite(test_accuracy),
            "epochs": len(history.epoch), "seconds": round(seconds, 3), "seed": args.seed,
            "data": data.name, "model": model_name, "shenjing_version": __version__,
            "batch_size": args.batch_size, "optimizer": type(optimizer).__name__,
            "learning_rate": float(optimizer.learning_rate),
            "train_samples": len(x_train), "test_samples": len(x_test),
            "input_shape": list(data.image_shape), "class_names": data.class_names,
            "threads": args.threads or parallel.threads(),
            "interrupted": interrupted[0],
        }
        atomic_write(str(out / "metrics.json"),
                     (json.dumps(metrics, indent=2) + "\n").encode())
        correct = round(float(test_accuracy) * len(x_test))
        print(f"test accuracy {float(test_accuracy):.4f} ({correct}/{len(x_test)}) - test loss "
              f"{float(test_loss):.4f} - {len(history.epoch)} epoch"
              f"{'' if len(history.epoch) == 1 else 's'} in {seconds:.1f}s")
        written = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    print(f"wrote {final}{os.sep}: {', '.join(written)}")  # (once they are in the folder)
    if not all(math.isfinite(v) for v in history.history.get("loss", [])):
        print(f"{PROG} train: training diverged (the loss became NaN or infinite) and stopped; "
              f"the run folder keeps that model for inspection: try a lower --lr",
              file=sys.stderr)
        return 1
    return 0


@contextlib.contextmanager
def _stop_on_interrupt(model: Any) -> Iterator[list[bool]]:
    """During ``fit``: the first Ctrl-C ends training after the current batch, so the run
    folder is still written (the model as trained so far, metrics.json saying "interrupted");
    a second one aborts. Yields a one-item list, set to True on interrupt."""
    import signal
    import threading

    interrupted = [False]
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return
    previous = signal.getsignal(signal.SIGINT)

    def stop(signum: int, frame: Any) -> None:
        interrupted[0] = model.stop_training = True
        signal.signal(signal.SIGINT, previous)
        print(f"\n{PROG} train: stopping after this batch (Ctrl-C again to abort)",
              file=sys.stderr, flush=True)

    signal.signal(signal.SIGINT, stop)
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)
