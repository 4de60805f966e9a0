"""Saving and loading models: one zip file holding a JSON config, safetensors weights and the
optimizer state. Never pickle: loading rebuilds layers through a closed registry of shenjing's
own classes and of the classes the caller's code names (``custom_objects``,
``custom_object_scope``, ``register_keras_serializable``), and never imports or runs anything
named in the file. Every write goes to a temporary file that is renamed over the target only
when complete, so a crash mid-save leaves the previous file intact.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import threading
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

# zipfile and tempfile (with pathlib, shutil, bz2, lzma behind them: ~8 ms) are imported where
# a file is written or read, not with ``import shenjing``.
if TYPE_CHECKING:
    import zipfile

FORMAT = "shenjing.model"
VERSION = 1
CONFIG, WEIGHTS, OPTIMIZER = "config.json", "model.weights.safetensors", "optimizer.safetensors"
RUN_MODEL = "model.shenjing"  # the model file in a run folder of ``shenjing train``


class CorruptFileError(ValueError):
    """The file is not a shenjing file, or it is truncated or damaged."""


_REGISTERED: dict[str, Any] = {}  # register_keras_serializable: the user's own classes
_scope = threading.local()  # .objects: the custom objects of the enclosing custom_object_scope


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Any:
    """Decorator (Keras's): let ``load_model`` and ``from_config`` rebuild this class (a
    custom layer or model) by the name its config is saved under, the class's own, without
    custom_objects. ``package`` and ``name`` key it in ``get_custom_objects()`` as Keras's."""
    def register(cls: Any) -> Any:
        key = name or cls.__name__
        _REGISTERED[key] = _REGISTERED[f"{package}>{key}"] = _REGISTERED[cls.__name__] = cls
        return cls

    return register


def get_custom_objects() -> dict[str, Any]:
    """The classes registered by ``register_keras_serializable`` (a live dict, as Keras's)."""
    return _REGISTERED


def get_registered_object(name: str, custom_objects: dict[str, Any] | None = None) -> Any:
    """The object (class or function) known by ``name`` (Keras's): in ``custom_objects``, the
    enclosing ``custom_object_scope``, then the registered ones; None if none is."""
    for table in (custom_objects or {}, getattr(_scope, "objects", {}), _REGISTERED):
        if name in table:
            return table[name]
    return None


@contextlib.contextmanager
def custom_object_scope(custom_objects: dict[str, Any] | None) -> Iterator[None]:
    """Within it, loading and ``from_config`` also know these classes by name (Keras's
    ``custom_object_scope``); scopes nest."""
    outer = getattr(_scope, "objects", {})
    _scope.objects = {**outer, **(custom_objects or {})}
    try:
        yield
    finally:
        _scope.objects = outer


def _registry() -> dict[str, type]:
    from .. import layers, models

    classes = {name: getattr(layers, name) for name in layers.__all__}
    classes.update({"Model": models.Model, "Sequential": models.Sequential})
    # the user's classes, named by their code (never by the file), may stand for built-in names
    classes.update({**_REGISTERED, **getattr(_scope, "objects", {})})
    # concrete layers only: not the Layer base, nor the helpers layers exports (Parameter...)
    return {k: v for k, v in classes.items()
            if isinstance(v, type) and issubclass(v, layers.Layer) and v is not layers.Layer}


def deserialize_layer(config: dict[str, Any]) -> Any:
    """Rebuild a layer from ``{'class_name': ..., 'config': ...}``, known classes only."""
    registry = _registry()
    name = config.get("class_name")
    if name not in registry:
        raise ValueError(f"unknown layer class {name!r} in the saved config; shenjing loads its "
                         f"own layer classes and those your code names: pass "
                         f"custom_objects={{{name!r}: {name}}} to load_model or from_config, "
                         "decorate the class with @register_keras_serializable(), or build the "
                         "model in code and read its weights with load_weights")
    return registry[name].from_config(dict(config.get("config", {})))


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename. An OSError names
    ``path`` (not the temporary file) and says that the previous file is unchanged."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write to {path}: it is a folder (give a file name in "
                                "it, e.g. model.shenjing)")
    folder = os.path.dirname(os.path.abspath(path))
    import tempfile

    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    except OSError as e:
        raise type(e)(e.errno, f"cannot write {path}: cannot create a file in {folder} "
                      f"({e.strerror or e}); save to a folder you can write to, or change "
                      "its permissions") from e
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private (0o600); give it the mode a plain open() would: the
        # old file's when overwriting, else 0o666 less the umask
        os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode) if os.path.exists(path)
                 else 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        if isinstance(e, OSError):
            before = "the file there before is unchanged" if os.path.exists(path) else \
                "nothing was written"
            raise type(e)(e.errno, f"saving {path} failed ({e.strerror or e}); {before}") \
                from e
        raise


def _weight_names(model: Any) -> list[str]:
    """'0003/layer_name/weight_name' for each weight, in ``model.weights`` order: the index
    keeps the order; the names are for people reading the file."""
    owner: dict[int, str] = {}

    def walk(layer: Any, prefix: str) -> None:
        for p in layer._params.values():
            owner.setdefault(id(p), f"{prefix}{layer.name}/{p.name}")
        for child in layer._sublayers():
            walk(child, f"{prefix}{layer.name}/" if layer is not model else "")

    walk(model, "")
    return [f"{i:04d}/{owner.get(id(p), p.name)}" for i, p in enumerate(model.weights)]


def _weights_bytes(model: Any) -> bytes:
    from safetensors.numpy import save

    # asarray(order="C"), not ascontiguousarray, which would make a 0-d weight (1,)
    arrays = {k: np.asarray(p.numpy(), order="C") for k, p in zip(_weight_names(model),
                                                                   model.weights)}
    return save(arrays, metadata={"format": FORMAT})


def _read_safetensors(data: bytes, what: str) -> dict[str, np.ndarray]:
    from safetensors.numpy import load

    try:
        return load(data)
    except Exception as e:  # safetensors raises its own error types for damaged headers
        raise CorruptFileError(f"{what} is corrupt or truncated ({e}); {_RESAVE}") from None


def _listing(names: list[str], shapes: list[tuple[int, ...]], limit: int = 6) -> str:
    """'kernel (4, 8), bias (8,), ...': the first ``limit`` weights, for an error message."""
    items = [f"{n} {tuple(s)}" for n, s in zip(names[:limit], shapes[:limit])]
    return ", ".join(items) + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _assign_weights(model: Any, arrays: dict[str, np.ndarray], what: str) -> None:
    """Assign by name when the file's weights are the model's (a model that load_model
    rebuilt, whatever order the file was written in), else in the file's order."""
    weights = model.weights
    names = [k.split("/", 1)[1] for k in _weight_names(model)]
    if len(arrays) != len(weights):
        if not weights:
            hint = ("the model has no weights yet: build it first (call it on a batch, or give "
                    "its first layer input_shape=), then load_weights")
        else:
            ordered = sorted(arrays)
            hint = (f"it was saved from another architecture. The file: "
                    f"{_listing(ordered, [arrays[k].shape for k in ordered])}; the model: "
                    f"{_listing(names, [p.shape for p in weights])}. Build the model as the one "
                    "that saved it (same layers, sizes and order), or use load_model")
        raise ValueError(f"{what} holds {len(arrays)} weights but the model has "
                         f"{len(weights)}: {hint}{_foreign_note(arrays)}")
    by_name = {k.split("/", 1)[-1]: k for k in arrays}
    keys = [by_name[n] for n in names] if (
        len(set(names)) == len(names) and set(names) == set(by_name)) else sorted(arrays)
    for key, p, name in zip(keys, weights, names):
        if arrays[key].shape != p.shape:
            raise ValueError(f"{what}: weight {key} has shape {arrays[key].shape}, but the "
                             f"model's {name} has shape {p.shape}: the file was saved from "
                             "another architecture; build the model as the one that saved it "
                             f"(same layers, sizes and order), or use load_model"
                             f"{_foreign_note(arrays)}")
    for key, p in zip(keys, weights):
        p.assign(arrays[key].astype(p.dtype, copy=False))


def _foreign_note(arrays: dict[str, np.ndarray]) -> str:
    """A note for weights whose names are not shenjing's ('0003/layer/weight')."""
    if all(k[:4].isdigit() and k[4:5] == "/" for k in arrays):
        return ""
    return (". (Its names are not shenjing's, so another program wrote it: convert the arrays "
            "and use model.set_weights, e.g. a torch Linear's weight is a Dense kernel "
            "transposed)")


def _flatten_state(tree: Any, arrays: dict[str, np.ndarray], prefix: str = "") -> Any:
    """Split nested state into JSON and arrays: each array is replaced by {'__array__': key}."""
    if isinstance(tree, dict):
        return {str(k): _flatten_state(v, arrays, f"{prefix}{k}/") for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_flatten_state(v, arrays, f"{prefix}{i}/") for i, v in enumerate(tree)]
    if isinstance(tree, np.ndarray):
        key = prefix.rstrip("/")
        arrays[key] = np.asarray(tree, order="C")
        return {"__array__": key}
    if isinstance(tree, np.generic):
        return tree.item()
    return tree


def _unflatten_state(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(tree, dict):
        if set(tree) == {"__array__"}:
            return arrays[tree["__array__"]]
        return {k: _unflatten_state(v, arrays) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_unflatten_state(v, arrays) for v in tree]
    return tree


def save_model(model: Any, path: str) -> None:
    """Write ``model`` (config, weights, compile settings, optimizer state, random streams) to
    one zip file."""
    atomic_write(path, model_bytes(model))


def model_bytes(model: Any, fit_rng_state: dict[str, Any] | None = None,
                training: dict[str, Any] | None = None) -> bytes:
    """The bytes of ``save``'s zip. ``fit_rng_state`` stands for the shuffling stream's
    current state (a backup made mid-epoch saves the state the epoch began with);
    ``training`` is stored as the config's ``"training"`` entry (BackupAndRestore's epoch and
    step)."""
    from safetensors.numpy import save

    from .serialization import serialize_keras_object

    if not model.built:
        raise ValueError("the model has no weights yet: build it (call it on data, or give the "
                         "first layer input_shape=) before saving")
    config: dict[str, Any] = {"format": FORMAT, "version": VERSION,
                              "model": serialize_keras_object(model)}
    rng = getattr(model, "_fit_rng", None)
    if fit_rng_state is not None:
        config["fit_rng"] = _json_state(fit_rng_state)
    elif rng is not None:  # where fit's shuffling stands, so that a resumed run shuffles the same
        config["fit_rng"] = _json_state(rng.bit_generator.state)
    # where each layer's random stream stands (Dropout's masks...): a file without this entry
    # (written before it existed) loads with fresh streams
    config["random_streams"] = [{"layer": key, "state": _json_state(g.bit_generator.state)}
                                for key, _, _, g in _random_streams(model)]
    if training is not None:
        config["training"] = training
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(WEIGHTS, _weights_bytes(model))
        if model.optimizer is not None:
            arrays: dict[str, np.ndarray] = {}
            config["compile"] = {
                "optimizer": serialize_keras_object(model.optimizer),
                "optimizer_state": _flatten_state(model.optimizer.state_dict(), arrays),
                "loss": [serialize_keras_object(fn) for fn in model.loss]
                if isinstance(model.loss, list) else serialize_keras_object(model.loss),
                "loss_weights": model.loss_weights,
                "metrics": _metrics_config(model._metric_ids),
                "weighted_metrics": _metrics_config(model._weighted_metric_ids),
            }
            z.writestr(OPTIMIZER, save(arrays) if arrays else b"")
        z.writestr(CONFIG, json.dumps(config, indent=1))
    return buf.getvalue()


def _random_streams(model: Any) -> list[tuple[str, Any, str, np.random.Generator]]:
    """(key, layer, attribute, Generator) for each random stream of the model's layers
    (``Layer._random_generators``), walked as the weights are: 'dropout/_generator'. A layer
    or a Generator met twice (shared) is listed once."""
    found: list[tuple[str, Any, str, np.random.Generator]] = []
    seen_layers: set[int] = set()
    seen_streams: set[int] = set()

    def walk(layer: Any, prefix: str) -> None:
        if id(layer) in seen_layers:
            return
        seen_layers.add(id(layer))
        for attr, g in layer._random_generators().items():
            if id(g) not in seen_streams:
                seen_streams.add(id(g))
                found.append((f"{prefix}{layer.name}/{attr}", layer, attr, g))
        for child in layer._sublayers():
            walk(child, f"{prefix}{layer.name}/" if layer is not model else "")

    walk(model, "")
    return found


def _restore_streams(model: Any, saved: Any, path: str) -> None:
    """Put the saved states into the model's random streams: by key when the keys are the
    model's (a model load_model rebuilt), else in order (a model the same code built, whose
    layers got other numbers in their names)."""
    streams = _random_streams(model)
    if not isinstance(saved, list) or not all(
            isinstance(s, dict) and isinstance(s.get("layer"), str) for s in saved):
        raise CorruptFileError(f"{path} is damaged: its random streams are not a list of "
                               f"states; {_RESAVE}")
    if len(saved) != len(streams):
        raise ValueError(f"{path} holds {len(saved)} random streams (of "
                         f"{', '.join(s['layer'] for s in saved) or 'no layer'}) but the model "
                         f"has {len(streams)} (of "
                         f"{', '.join(k for k, *_ in streams) or 'no layer'}): it was saved from "
                         "another architecture; build the model as the one that saved it")
    by_key = {s["layer"]: s for s in saved}
    keys = [k for k, *_ in streams]
    if set(keys) == set(by_key) and len(by_key) == len(saved):
        saved = [by_key[k] for k in keys]
    for (key, layer, attr, g), s in zip(streams, saved):
        restored = _generator(s.get("state"), path, f"the random stream of {key}", g)
        if restored is not g:  # another kind of bit generator: the layer gets the new one
            holder = getattr(layer, attr)
            if isinstance(holder, np.random.Generator):
                object.__setattr__(layer, attr, restored)
            else:  # a keras.random.SeedGenerator
                holder.generator = restored


def _metrics_config(ids: Any) -> Any:
    """Compiled metrics as saved (a list, or a dict of lists by output name): names as they
    are, objects as configs (a plain function as the MeanMetricWrapper compile makes of it)."""
    from .. import metrics
    from .serialization import serialize_keras_object

    if isinstance(ids, dict):
        return {name: _metrics_config(v) for name, v in ids.items()}
    return [m if isinstance(m, str) else serialize_keras_object(metrics.get(m)) for m in ids]


# What a file is, from its first bytes, so that a wrong file is named for what it is.
_ZIP_MAGIC, _HDF5_MAGIC = (b"PK\x03\x04", b"PK\x05\x06"), b"\x89HDF\r\n\x1a\n"
_RESAVE = "save it again from the model, or load an earlier copy (another checkpoint)"


def _kind(data: bytes) -> str:
    """'zip', 'safetensors' (an 8-byte header length, then its JSON), 'hdf5', 'empty' or
    'unknown'."""
    if not data:
        return "empty"
    if data.startswith(_ZIP_MAGIC):
        return "zip"
    if data.startswith(_HDF5_MAGIC):
        return "hdf5"
    return "safetensors" if len(data) > 8 and data[8:9] == b"{" else "unknown"


def _read(path: str, what: str) -> tuple[bytes, str]:
    """The file's bytes and kind; FileNotFoundError, or CorruptFileError for an empty file or
    an HDF5 one (Keras's .h5 and .weights.h5, which shenjing does not read)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no {what} file at {path}")
    with open(path, "rb") as f:
        data = f.read()
    kind = _kind(data)
    if kind == "empty":
        raise CorruptFileError(f"{path} is empty (0 bytes): a save that never finished or the "
                               f"wrong file; {_RESAVE}")
    if kind == "hdf5":
        raise CorruptFileError(f"{path} is an HDF5 file (Keras's .h5 or .weights.h5), which "
                               "shenjing does not read: shenjing writes its own formats whatever "
                               "the suffix (model.save: a zip of JSON and safetensors; "
                               "save_weights: safetensors). Read the arrays with h5py and give "
                               "them to model.set_weights")
    return data, kind


def _open_zip(path: str, data: bytes | None = None) -> zipfile.ZipFile:
    """The archive, read into memory and checked member by member (CRC); CorruptFileError if
    it is damaged or is not a shenjing model. Read first, so that an error reading the disk is
    not called corruption."""
    import zipfile

    if data is None:
        data, kind = _read(path, "model")
        if kind == "safetensors":
            raise CorruptFileError(f"{path} holds weights only (written by save_weights), not a "
                                   "whole model: build the model in code, then call "
                                   "model.load_weights(path)")
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        bad = z.testzip()
    # A damaged archive fails in many ways: a bad structure (BadZipFile, EOFError), damaged
    # compressed data (zlib.error), offsets out of range (ValueError), flags or methods that
    # it never used (RuntimeError: "encrypted", NotImplementedError: compression method).
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, RuntimeError,
            NotImplementedError):
        what = "it is truncated or damaged (a zip archive that cannot be read)" \
            if _kind(data) == "zip" else \
            "it is not a shenjing model file (not a zip archive), or it is cut short"
        raise CorruptFileError(f"{path}: {what}; {_RESAVE}") from None
    names = z.namelist()
    if bad is not None:
        raise CorruptFileError(f"{path} is damaged: its member {bad} fails its checksum; "
                               f"{_RESAVE}")
    missing = [m for m in (CONFIG, WEIGHTS) if m not in names]
    if missing:
        if "metadata.json" in names and "model.weights.h5" in names:
            raise CorruptFileError(f"{path} is a Keras .keras file, which shenjing does not read "
                                   "(it holds HDF5 weights): build the model in shenjing and "
                                   "give it the weights with model.set_weights")
        raise CorruptFileError(f"{path} is damaged or is not a shenjing model file: it has no "
                               f"{' and no '.join(missing)}; {_RESAVE}")
    return z


def _resolve(module: Any, spec: Any, custom_objects: dict[str, Any]) -> Any:
    """An optimizer, loss or metric from its saved ``{'class_name', 'config'}``: a class named
    in ``custom_objects`` (through its ``from_config``), else the module's own ``get``, which
    knows only shenjing's classes; a function saved by name (``'fn'``) is looked up in
    ``custom_objects`` first."""
    if spec is None or isinstance(spec, str):
        return spec
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
        raise ValueError(f"unknown object {spec!r} in the saved file")
    name, config = spec["class_name"], dict(spec.get("config") or {})
    if name in custom_objects:
        return custom_objects[name].from_config(config)
    fn = config.get("fn")
    if isinstance(fn, str) and fn in custom_objects:
        config["fn"] = custom_objects[fn]
    try:
        return module.get({"class_name": name, "config": config})
    except ValueError as e:
        # the class is shenjing's (LossFunctionWrapper...): the unknown name is its function's
        own = fn if isinstance(fn, str) and isinstance(getattr(module, name, None), type) \
            else name
        lambda_note = ". A lambda is saved as '<lambda>': define the function with def to " \
            "save it under its name" if own == "<lambda>" else ""
        raise ValueError(f"{e}. If {own!r} is your own function or class, pass load_model(..., "
                         f"custom_objects={{{own!r}: ...}}); or pass compile=False to load the "
                         f"model without its optimizer, loss and metrics{lambda_note}") from None


def _resolve_all(module: Any, spec: Any, custom_objects: dict[str, Any]) -> Any:
    """``_resolve`` over what compile saved: one object, a list (one per output or metric), or
    a dict of them by output name."""
    if isinstance(spec, list):
        return [_resolve_all(module, s, custom_objects) for s in spec]
    if isinstance(spec, dict) and "class_name" not in spec:
        return {k: _resolve_all(module, v, custom_objects) for k, v in spec.items()}
    return _resolve(module, spec, custom_objects)


def _model_file(path: str) -> str:
    """``path``, or the model file in it when it is a run folder."""
    if not os.path.isdir(path):
        return path
    if os.path.isfile(os.path.join(path, RUN_MODEL)):
        return os.path.join(path, RUN_MODEL)
    raise FileNotFoundError(f"{path} is a folder with no model file in it (a run folder of "
                            f"'shenjing train' holds {RUN_MODEL})")


def load_model(path: str, custom_objects: dict[str, Any] | None = None,
               compile: bool = True, safe_mode: bool = True) -> Any:
    """Rebuild a model saved by ``Model.save``: architecture, weights, and (with ``compile``)
    its optimizer, loss, metrics and optimizer state, so ``fit(initial_epoch=k)`` continues.

    Args:
        path: the file, or a run folder that holds one (``model.shenjing``).
        custom_objects: your own layer and model classes, and the loss or metric functions
            and loss, metric or optimizer classes the model was compiled with, by the name they
            were saved under (``{"CustomDense": CustomDense, "my_loss": my_loss}``).
        compile: False to skip the optimizer, loss and metrics (to predict, or compile anew).
        safe_mode: accepted for Keras code: loading never runs code from the file, whatever
            its value.

    A subclassed model is built from the input shape it was first called on (its
    ``build_config``, through ``build_from_config``) before its weights are read.
    """
    from .. import losses, metrics, optimizers
    from .serialization import built_layer

    path = _model_file(os.fspath(path))
    custom_objects = custom_objects or {}
    with _open_zip(path) as z:
        try:
            config = json.loads(z.read(CONFIG))
        except ValueError:
            raise CorruptFileError(f"{path}: the config is not valid JSON") from None
        if not isinstance(config, dict) or config.get("format") != FORMAT \
                or not isinstance(config.get("model"), dict):
            raise CorruptFileError(f"{path} is not a shenjing model file")
        with custom_object_scope(custom_objects):
            model = built_layer(config["model"])
        _assign_weights(model, _read_safetensors(z.read(WEIGHTS), f"{path} weights"), path)
        if config.get("fit_rng") is not None:
            model._fit_rng = _generator(config["fit_rng"], path)
        if config.get("random_streams") is not None:
            _restore_streams(model, config["random_streams"], path)
        comp = config.get("compile")
        if compile and comp is not None:
            model.compile(optimizer=_resolve(optimizers, comp["optimizer"], custom_objects),
                          loss=_resolve_all(losses, comp["loss"], custom_objects),
                          loss_weights=comp.get("loss_weights"),
                          metrics=_resolve_all(metrics, comp["metrics"], custom_objects),
                          weighted_metrics=_resolve_all(metrics, comp.get("weighted_metrics", []),
                                                        custom_objects))
            if OPTIMIZER not in z.namelist():
                raise CorruptFileError(f"{path} is damaged: it has compile settings but no "
                                       f"{OPTIMIZER}; load_model(path, compile=False) gives "
                                       "the model and its weights without the optimizer")
            raw = z.read(OPTIMIZER)
            arrays = _read_safetensors(raw, f"{path} optimizer state") if raw else {}
            model.optimizer.build(model.trainable_weights)
            model.optimizer.load_state_dict(_unflatten_state(comp["optimizer_state"], arrays))
    return model


def restore_training(model: Any, path: str) -> dict[str, Any]:
    """Read a backup written with ``model_bytes(..., training=...)`` (BackupAndRestore's) into
    ``model`` itself, built and compiled as the run that wrote it: weights, optimizer state,
    fit's shuffling stream and the layers' random streams. Returns the backup's ``training``
    entry. Everything is read and checked before the model is changed, so a damaged backup
    leaves the model as it was."""
    path = os.fspath(path)
    with _open_zip(path) as z:
        try:
            config = json.loads(z.read(CONFIG))
        except ValueError:
            raise CorruptFileError(f"{path}: the config is not valid JSON") from None
        training = config.get("training") if isinstance(config, dict) else None
        if config.get("format") != FORMAT or not isinstance(training, dict) or not all(
                isinstance(training.get(k), int) and training[k] >= 0 for k in ("epoch", "step")):
            raise CorruptFileError(f"{path} is not a backup of BackupAndRestore (no training "
                                   f"epoch and step in it); {_RESAVE}")
        weights = _read_safetensors(z.read(WEIGHTS), f"{path} weights")
        comp = config.get("compile")
        if not isinstance(comp, dict) or OPTIMIZER not in z.namelist():
            raise CorruptFileError(f"{path} is damaged: it has no optimizer state; {_RESAVE}")
        raw = z.read(OPTIMIZER)
        state = _unflatten_state(comp.get("optimizer_state"),
                                 _read_safetensors(raw, f"{path} optimizer state") if raw else {})
    if not isinstance(state, dict) or state.get("class_name") != type(model.optimizer).__name__:
        saved = state.get("class_name") if isinstance(state, dict) else None
        raise ValueError(f"{path} was saved with a {saved} optimizer but the model is compiled "
                         f"with a {type(model.optimizer).__name__}: compile it as the run that "
                         "wrote the backup")
    fit_rng = None if config.get("fit_rng") is None else _generator(config["fit_rng"], path)
    streams = config.get("random_streams")
    if streams is not None:  # check every state, and their number, before changing the model
        for s in streams if isinstance(streams, list) else [None]:
            _generator(s.get("state") if isinstance(s, dict) else None, path,
                       "a layer's random stream")
        if len(streams) != len(_random_streams(model)):
            _restore_streams(model, streams, path)  # raises, naming both lists of streams
    _assign_weights(model, weights, path)
    model.optimizer.build(model.trainable_weights)
    model.optimizer.load_state_dict(state)
    if fit_rng is not None:  # in place: fit's loader already holds the model's stream
        _generator(config["fit_rng"], path, into=model._shuffle_rng())
    if streams is not None:
        _restore_streams(model, streams, path)
    return training


# The bit generators a saved stream may name: a closed table, so a file names a class but
# never makes one run that is not NumPy's own.
_BIT_GENERATORS = {name: getattr(np.random, name)
                   for name in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")}


def _json_state(state: Any) -> Any:
    """``bit_generator.state`` as JSON: dicts and ints as they are (PCG64's 128-bit ints
    too), arrays (MT19937's key, Philox's counter) as ``{"__ndarray__": [...], "dtype"}``."""
    if isinstance(state, dict):
        return {k: _json_state(v) for k, v in state.items()}
    if isinstance(state, np.ndarray):
        return {"__ndarray__": state.tolist(), "dtype": state.dtype.str}
    if isinstance(state, np.generic):
        return state.item()
    return state


def _state_from_json(state: Any) -> Any:
    if isinstance(state, dict):
        if set(state) == {"__ndarray__", "dtype"}:
            dtype = np.dtype(state["dtype"])
            if dtype.kind not in "ui":
                raise ValueError(dtype)
            return np.array(state["__ndarray__"], dtype=dtype)
        return {k: _state_from_json(v) for k, v in state.items()}
    return state


def _generator(state: Any, path: str, what: str = "its shuffling state",
               into: np.random.Generator | None = None) -> np.random.Generator:
    """A Generator in the saved ``bit_generator.state`` (numbers only, nothing to run): ``into``
    itself, set in place, when its bit generator is of the saved kind (so that a loader that
    holds it sees the restored stream), else a new one."""
    try:
        kind = _BIT_GENERATORS[state["bit_generator"]]
        state = _state_from_json(state)
        if into is not None and type(into.bit_generator) is kind:
            into.bit_generator.state = state
            return into
        rng = np.random.Generator(kind())
        rng.bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError):
        raise CorruptFileError(f"{path} is damaged: {what} is not a state of one of NumPy's "
                               f"bit generators ({', '.join(_BIT_GENERATORS)}); "
                               f"{_RESAVE}") from None
    return rng


def save_weights(model: Any, path: str) -> None:
    """Write the model's weights (a safetensors file), atomically."""
    atomic_write(path, _weights_bytes(model))


def load_weights(model: Any, path: str) -> None:
    """Read weights from a ``save_weights`` file or a ``save`` zip into ``model`` (same
    architecture: the count, order and shapes must match), or from a run folder's model."""
    path = _model_file(os.fspath(path))
    data, kind = _read(path, "weights")
    if kind == "zip":
        with _open_zip(path, data) as z:
            data = z.read(WEIGHTS)
    elif kind != "safetensors":
        raise CorruptFileError(f"{path} is not a shenjing weights file (neither safetensors, "
                               f"from save_weights, nor a zip, from save), or it is cut short; "
                               f"{_RESAVE}")
    _assign_weights(model, _read_safetensors(data, path), path)
