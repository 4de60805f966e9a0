"""Saving and loading models: one zip file holding a JSON config, safetensors weights and the
optimizer state. Never pickle: loading rebuilds layers through a closed registry of shenjing's
own classes and of the classes the caller's code names (``custom_objects``,
``custom_object_scope``, ``register_keras_serializable``), and never imports or runs anything
named in the file. Every write goes to a temporary file that is renamed over the target only
when complete, so a crash mid-save leaves the previous file intact.
"""

from __future__ import annotations

import io
import json
import os
from typing import Any

import numpy as np

from .atomic import atomic_write
from .formats import (
    _RESAVE,
    CONFIG,
    FORMAT,
    OPTIMIZER,
    RUN_MODEL,
    VERSION,
    WEIGHTS,
    CorruptFileError,
    _open_zip,
    _read,
    _read_safetensors,
)
from .random_streams import _generator, _json_state, _random_streams, _restore_streams
from .registry import (
    custom_object_scope,
    deserialize_layer,
    get_custom_objects,
    get_registered_object,
    register_keras_serializable,
)
from .weights import _assign_weights, _natural, _weight_names, _weights_bytes

# imported from here by layers, models, shenjing.saving and user code, as before the split
__all__ = ["CorruptFileError", "atomic_write", "custom_object_scope", "deserialize_layer",
           "get_custom_objects", "get_registered_object", "load_metadata", "load_model",
           "load_weights", "model_bytes", "register_keras_serializable", "restore_training",
           "save_model", "save_weights"]


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


def save_model(model: Any, path: str, metadata: dict[str, Any] | None = None) -> None:
    """Write ``model`` (config, weights, compile settings, optimizer state, random streams) to
    one zip file; ``metadata``, a JSON-able dict of the caller's (``shenjing train``'s class
    names), is kept with it for :func:`load_metadata`."""
    atomic_write(path, model_bytes(model, metadata=metadata))


def model_bytes(model: Any, fit_rng_state: dict[str, Any] | None = None,
                training: dict[str, Any] | None = None,
                metadata: dict[str, Any] | None = None) -> bytes:
    """The bytes of ``save``'s zip. ``fit_rng_state`` stands for the shuffling stream's
    current state (a backup made mid-epoch saves the state the epoch began with);
    ``training`` is stored as the config's ``"training"`` entry (BackupAndRestore's epoch and
    step), ``metadata`` as its ``"metadata"`` entry."""
    from safetensors.numpy import save

    from .serialization import serialize_keras_object

    _check_built(model)
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
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise TypeError(f"metadata must be a dict, not {type(metadata).__name__}")
        config["metadata"] = metadata
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(WEIGHTS, _weights_bytes(model))
        if model.optimizer is not None:
            arrays: dict[str, np.ndarray] = {}
            config["compile"] = {
                "optimizer": serialize_keras_object(model.optimizer),
                # indexed by the trainable weights, as loading builds the optimizer with them
                "optimizer_state": _flatten_state(
                    model.optimizer.state_dict(model.trainable_weights), arrays),
                "loss": [serialize_keras_object(fn) for fn in model.loss]
                if isinstance(model.loss, list) else serialize_keras_object(model.loss),
                "loss_weights": model.loss_weights,
                "metrics": _metrics_config(model._metric_ids),
                "weighted_metrics": _metrics_config(model._weighted_metric_ids),
            }
            z.writestr(OPTIMIZER, save(arrays) if arrays else b"")
        z.writestr(CONFIG, json.dumps(config, indent=1))
    return buf.getvalue()


def _metrics_config(ids: Any) -> Any:
    """Compiled metrics as saved (a list, or a dict of lists by output name): names as they
    are, objects as configs (a plain function as the MeanMetricWrapper compile makes of it)."""
    from .. import metrics
    from .serialization import serialize_keras_object

    if isinstance(ids, dict):
        return {name: _metrics_config(v) for name, v in ids.items()}
    return [m if isinstance(m, str) else serialize_keras_object(metrics.get(m)) for m in ids]


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
    own = get_registered_object(name, custom_objects)  # given, in scope, or registered
    if own is not None:
        return own.from_config(config)
    fn = config.get("fn")
    own_fn = get_registered_object(fn, custom_objects) if isinstance(fn, str) else None
    if own_fn is not None:
        config["fn"] = own_fn
    try:
        return module.get({"class_name": name, "config": config})
    except ValueError as e:
        # the class is shenjing's (LossFunctionWrapper, SGD...): the unknown name is its
        # function's, or one in its config (a schedule's, whose error names it already)
        ours = isinstance(getattr(module, name, None), type)
        own = fn if isinstance(fn, str) and ours else None if ours else name
        lambda_note = ". A lambda is saved as '<lambda>': define the function with def to " \
            "save it under its name" if own == "<lambda>" else ""
        which = f". If {own!r} is your own function or class, pass load_model(..., " \
            f"custom_objects={{{own!r}: ...}})" if own else ""
        raise ValueError(f"{e}{which}; or pass compile=False to load the model without its "
                         f"optimizer, loss and metrics{lambda_note}") from None


def _resolve_all(module: Any, spec: Any, custom_objects: dict[str, Any]) -> Any:
    """``_resolve`` over what compile saved: one object, a list (one per output or metric), or
    a dict of them by output name."""
    if isinstance(spec, list):
        return [_resolve_all(module, s, custom_objects) for s in spec]
    if isinstance(spec, dict) and "class_name" not in spec:
        return {k: _resolve_all(module, v, custom_objects) for k, v in spec.items()}
    return _resolve(module, spec, custom_objects)


def _read_config(z: Any, path: str) -> dict[str, Any]:
    """The zip's config.json, checked to be a shenjing model's; CorruptFileError otherwise."""
    try:
        config = json.loads(z.read(CONFIG))
    except ValueError:
        raise CorruptFileError(f"{path}: the config is not valid JSON") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT \
            or not isinstance(config.get("model"), dict):
        raise CorruptFileError(f"{path} is not a shenjing model file")
    return config


def load_metadata(path: str) -> dict[str, Any]:
    """The ``metadata`` a model file was saved with (``save_model(..., metadata=)``), ``{}``
    when it has none; the file is checked as ``load_model`` checks it."""
    path = _model_file(os.fspath(path))
    with _open_zip(path) as z:
        metadata = _read_config(z, path).get("metadata", {})
    if not isinstance(metadata, dict):
        raise CorruptFileError(f"{path} is damaged: its metadata is not a JSON object")
    return metadata


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
    from .serialization import built_layer

    path = _model_file(os.fspath(path))
    custom_objects = custom_objects or {}
    with _open_zip(path) as z:
        config = _read_config(z, path)
        with custom_object_scope(custom_objects):
            model = built_layer(config["model"])
        weights = _read_safetensors(z.read(WEIGHTS), f"{path} weights")
        _assign_weights(model, weights, path)
        if config.get("fit_rng") is not None:
            model._fit_rng = _generator(config["fit_rng"], path)
        if config.get("random_streams") is not None:
            _restore_streams(model, config["random_streams"], path)
        comp = config.get("compile")
        if compile and comp is not None:
            with custom_object_scope(custom_objects):  # e.g. a learning-rate schedule's class
                _compile_as_saved(model, comp, custom_objects, z, path, list(weights))
    return model


def _compile_as_saved(model: Any, comp: dict[str, Any], custom_objects: dict[str, Any],
                      z: Any, path: str, weight_keys: list[str]) -> None:
    """Compile ``model`` with the saved optimizer, losses and metrics, and load the optimizer's
    state (load_model's second half)."""
    from .. import losses, metrics, optimizers

    model.compile(optimizer=_resolve(optimizers, comp["optimizer"], custom_objects),
                  loss=_resolve_all(losses, comp["loss"], custom_objects),
                  loss_weights=comp.get("loss_weights"),
                  metrics=_resolve_all(metrics, comp["metrics"], custom_objects),
                  weighted_metrics=_resolve_all(metrics, comp.get("weighted_metrics", []),
                                                custom_objects))
    if OPTIMIZER not in z.namelist():
        raise CorruptFileError(f"{path} is damaged: it has compile settings but no "
                               f"{OPTIMIZER}; load_model(path, compile=False) gives the model "
                               "and its weights without the optimizer")
    raw = z.read(OPTIMIZER)
    arrays = _read_safetensors(raw, f"{path} optimizer state") if raw else {}
    model.optimizer.load_state_dict(_unflatten_state(comp["optimizer_state"], arrays),
                                    _trainable_as_saved(model, weight_keys))


def _trainable_as_saved(model: Any, weight_keys: list[str]) -> list[Any]:
    """The model's trainable weights in the order the file's optimizer state is indexed by:
    the saved weights' order (the number in their names, '0003/dense/kernel'), matched by
    name, as the trainable weights were listed when it was written. A later shenjing may list
    them otherwise (sibling branches were once listed last first): matching by name keeps each
    Adam moment on its weight. Where names don't match one for one: the model's order."""
    names = [k.split("/", 1)[1] for k in _weight_names(model)]
    saved = [k.split("/", 1)[-1] for k in sorted(weight_keys, key=_natural)]
    if len(set(names)) != len(names) or sorted(names) != sorted(saved):
        return model.trainable_weights
    by_name = dict(zip(names, model.weights))
    return [by_name[n] for n in saved if by_name[n].requires_grad]


def restore_training(model: Any, path: str) -> dict[str, Any]:
    """Read a backup written with ``model_bytes(..., training=...)`` (BackupAndRestore's) into
    ``model`` itself, built and compiled as the run that wrote it: weights, optimizer state,
    fit's shuffling stream and the layers' random streams. Returns the backup's ``training``
    entry. Everything is read and checked before the model is changed, so a damaged backup
    leaves the model as it was."""
    path = os.fspath(path)
    with _open_zip(path) as z:
        config = _read_config(z, path)
        training = config.get("training")
        if not isinstance(training, dict) or not all(
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
    model.optimizer.load_state_dict(state, _trainable_as_saved(model, list(weights)))
    if fit_rng is not None:  # in place: fit's loader already holds the model's stream
        _generator(config["fit_rng"], path, into=model._shuffle_rng())
    if streams is not None:
        _restore_streams(model, streams, path)
    return training


def _check_built(model: Any) -> None:
    """A clear error for a model with no weights yet (saving it would write nothing)."""
    if not model.built:
        raise ValueError("the model has no weights yet: build it (call it on data, or give the "
                         "first layer input_shape=) before saving")


def save_weights(model: Any, path: str) -> None:
    """Write the model's weights (a safetensors file), atomically; an unbuilt model is an
    error (an empty file would replace an earlier save)."""
    _check_built(model)
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
