"""``Model``: a Layer that trains. Three ways to make one, as in Keras: subclass it and write
``call``; connect symbolic tensors (``Model(inputs, outputs)``); or use ``Sequential``.

``fit`` owns the order of a training step — forward, loss (plus regularization penalties),
zero-grad, backward, clip and step (both in the optimizer), learning-rate schedule — and sets the
training flag that Dropout and BatchNormalization read; ``evaluate`` and ``predict`` run in
inference mode under ``no_grad``. The PyTorch-style loop stays open: ``model(x, training=True)``,
``loss.backward()``, ``optimizer.step()`` over ``model.trainable_weights``.
"""

from __future__ import annotations

import math
import sys
import warnings
from typing import Any

import numpy as np

from .. import backend
from .. import functional as F
from ..autograd import Tensor, no_grad
from ..layers.layer import Layer
from . import data_adapter as da
from .graph import Graph


class Model(Layer):
    """A trainable network: ``Model(inputs, outputs)`` or a subclass that defines ``call``.

    >>> inputs = Input((784,))
    >>> outputs = Dense(10)(Dense(64, activation="relu")(inputs))
    >>> model = Model(inputs, outputs)
    >>> model.compile(optimizer="adam", loss=SparseCategoricalCrossentropy(from_logits=True),
    ...               metrics=["accuracy"])
    >>> history = model.fit(x_train, y_train, epochs=5, validation_split=0.1)
    """

    def __init__(self, inputs: Any = None, outputs: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.graph: Graph | None = None
        self.optimizer: Any = None
        self.loss: Any = None
        self.compiled_metrics: list[Any] = []
        self.compiled_weighted_metrics: list[Any] = []
        self._metric_ids: list[Any] = []
        self._weighted_metric_ids: list[Any] = []
        self.stop_training = False
        self.history: Any = None
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("Model(inputs, outputs) needs both inputs and outputs")
            self.graph = Graph(inputs, outputs)
            self.graph_layers = self.graph.layers
            self.built = True

    # -- forward -----------------------------------------------------------------------------
    def call(self, inputs: Any, training: bool = False) -> Any:
        if self.graph is None:
            raise NotImplementedError(f"{type(self).__name__} must define call(), or be built "
                                      "as Model(inputs, outputs)")
        return self.graph.run(inputs, training)

    def _output_layer(self) -> Layer | None:
        if self.graph is not None:
            return self.graph.outputs[0].layer
        layers = self.layers
        return layers[-1] if layers else None

    # -- compile -----------------------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None,
                weighted_metrics: Any = None, **kwargs: Any) -> None:
        """Choose the optimizer, the loss and the metrics (strings or objects, as Keras).

        As in Keras, ``sample_weight`` and ``class_weight`` weight the loss and the
        ``weighted_metrics``, never the plain ``metrics``. A weighted metric whose name is also a
        plain metric's is logged as ``weighted_<name>``.
        """
        from .. import losses, optimizers

        unknown = set(kwargs) - {"run_eagerly", "jit_compile", "steps_per_execution"}
        if unknown:
            raise TypeError(f"compile() got unexpected argument(s): {', '.join(sorted(unknown))}")
        if isinstance(loss, (list, tuple)) or isinstance(loss, dict) and "class_name" not in loss:
            raise ValueError(f"compile() got a {type(loss).__name__} of {len(loss)} losses: one "
                             "loss per output needs a multi-output model, and training "
                             "multi-output models is not supported yet; pass a single loss")
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss) if loss is not None else None
        self._metric_ids = list(metrics or [])
        self._weighted_metric_ids = list(weighted_metrics or [])
        # resolved at the first batch, when output shapes are known
        self.compiled_metrics, self.compiled_weighted_metrics = [], []
        self._warn_double_softmax()

    def _warn_double_softmax(self) -> None:
        last = self._output_layer()
        if getattr(last, "activation", None) is F.softmax and getattr(self.loss, "from_logits",
                                                                       False):
            warnings.warn(
                f"The model's last layer '{last.name}' applies softmax, but the loss was "
                "compiled with from_logits=True, so softmax is applied twice: the loss treats "
                "probabilities as logits, its gradients shrink and training slows and plateaus "
                "lower. Remove activation='softmax' from the last layer (recommended: logits "
                "out, apply softmax when predicting), or use from_logits=False.",
                UserWarning, stacklevel=3)

    # -- one step ----------------------------------------------------------------------------
    def compute_loss(self, y: Any, y_pred: Tensor, sample_weight: Any = None) -> Tensor:
        """The compiled loss plus every regularization penalty of the model's weights."""
        if self.loss is None:
            raise RuntimeError("the model has no loss: call compile(loss=...) before fit/evaluate")
        if isinstance(y_pred, list):
            raise ValueError(f"the model has {len(y_pred)} outputs, but training and evaluating "
                             "multi-output models is not supported yet (predict works)")
        loss = self.loss(y, y_pred, sample_weight=sample_weight)
        for penalty in self.losses:
            loss = loss + penalty
        return loss

    def train_step(self, x: Any, y: Any, sample_weight: Any = None) -> float:
        """Forward, loss, zero-grad, backward, step. Returns the loss; a non-finite loss is
        returned without updating the weights, so nothing is corrupted."""
        y_pred = self(x, training=True)
        loss = self.compute_loss(y, y_pred, sample_weight)
        value = float(loss.data)
        if not math.isfinite(value):
            return value
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self._update_metrics(y, y_pred, sample_weight)
        return value

    def test_step(self, x: Any, y: Any, sample_weight: Any = None) -> float:
        with no_grad():
            y_pred = self(x, training=False)
            loss = self.compute_loss(y, y_pred, sample_weight)
        self._update_metrics(y, y_pred, sample_weight)
        return float(loss.data)

    def _update_metrics(self, y: Any, y_pred: Tensor, sample_weight: Any) -> None:
        if (len(self.compiled_metrics), len(self.compiled_weighted_metrics)) != (
                len(self._metric_ids), len(self._weighted_metric_ids)):
            self._resolve_metrics(y_pred.shape)
        for m in self.compiled_metrics:
            m.update_state(y, y_pred.data)
        for m in self.compiled_weighted_metrics:
            m.update_state(y, y_pred.data, sample_weight=sample_weight)

    def _resolve_metrics(self, output_shape: tuple[int, ...]) -> None:
        from .. import metrics

        def resolve(ids: list[Any]) -> list[Any]:
            return [metrics.get(m, loss=self.loss, output_shape=output_shape) for m in ids]

        self.compiled_metrics = resolve(self._metric_ids)
        self.compiled_weighted_metrics = resolve(self._weighted_metric_ids)
        plain_names = {m.name for m in self.compiled_metrics}
        for m in self.compiled_weighted_metrics:
            if m.name in plain_names:
                m.name = "weighted_" + m.name

    def _all_metrics(self) -> list[Any]:
        return self.compiled_metrics + self.compiled_weighted_metrics

    def _logs(self, loss_mean: float, prefix: str = "") -> dict[str, float]:
        logs = {prefix + "loss": loss_mean}
        logs.update({prefix + m.name: m.result() for m in self._all_metrics()})
        return logs

    def _reset_metrics(self) -> None:
        for m in self._all_metrics():
            m.reset_state()

    def _ensure_ready(self, x: Any = None) -> None:
        """Check that the model is compiled; build it on one row of ``x`` (None: not yet, the
        first batch will) and give its weights to the optimizer."""
        if self.optimizer is None:
            raise RuntimeError("the model is not compiled: call compile() before fit()")
        if not self.built:
            if x is None:
                return
            self(da.take(x, slice(0, 1)))
        self.optimizer.build(self.trainable_weights)

    # -- loops -------------------------------------------------------------------------------
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = 32, epochs: int = 1,
            verbose: Any = "auto", callbacks: Any = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True,
            class_weight: dict[int, float] | None = None, sample_weight: Any = None,
            initial_epoch: int = 0, validation_batch_size: int | None = None,
            validation_freq: int = 1) -> Any:
        """Train for ``epochs`` passes over (x, y). Returns the History.

        Args (Keras's): ``verbose`` 'auto' is a progress bar (1) when stdout is a terminal, else
        one line per epoch (2); ``validation_split`` takes a seeded random fraction (not the last
        rows); ``class_weight`` maps class ids to loss weights; ``initial_epoch`` resumes a run.
        """
        from ..callbacks import CallbackList, TerminateOnNaN

        batch_size = da.batch_size_or_default(batch_size)
        rng = backend.new_generator()
        if da.is_batch_source(x):
            if validation_split:
                raise ValueError("validation_split is not supported when x is a DataLoader or "
                                 "an iterable of batches (it cannot be split): pass "
                                 "validation_data=(x_val, y_val) or another DataLoader")
            train = da.as_loader(x, y, sample_weight)
        else:
            x, y, sw = da.as_arrays(x), da.as_arrays(y), da.as_arrays(sample_weight)
            da.check_numeric(x, y, sw)
            da.check_lengths(x, y, sw)
            if validation_data is None and validation_split:
                (x, y, sw), validation_data = da.validation_split(x, y, sw, validation_split,
                                                                  rng)
            train = da.DataLoader(x, y, batch_size=batch_size, shuffle=shuffle, seed=rng,
                                  sample_weight=sw)
        val = None if validation_data is None else da.validation_loader(
            validation_data, validation_batch_size or batch_size)
        self._ensure_ready(da.first_rows(train))
        verbose = _verbosity(verbose)
        steps = da.steps_of(train)
        user_callbacks = list(callbacks or [])
        if not any(isinstance(c, TerminateOnNaN) for c in user_callbacks):
            user_callbacks.append(TerminateOnNaN())
        cbs = CallbackList(user_callbacks, add_history=True, add_progbar=verbose != 0,
                           model=self, verbose=verbose, epochs=epochs, steps=steps)
        self.stop_training = False
        cbs.on_train_begin()
        logs: dict[str, float] = {}
        for epoch in range(initial_epoch, epochs):
            self._reset_metrics()
            cbs.on_epoch_begin(epoch)
            logs = {}
            total, count, step = 0.0, 0, -1
            for step, (xb, yb, swb) in enumerate(da.iterate(train, class_weight)):
                if not self.built:
                    self._ensure_ready(xb)
                cbs.on_train_batch_begin(step)
                loss = self.train_step(xb, yb, swb)
                if not math.isfinite(loss):
                    # The epoch logs the non-finite loss, as Keras does; TerminateOnNaN (always
                    # present) reports the epoch, step and remedies.
                    logs = self._logs(loss)
                    cbs.on_train_batch_end(step, logs)
                    self.stop_training = True
                    break
                total, count = total + loss, count + 1
                logs = self._logs(total / count)
                cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            if step < 0:
                raise ValueError(f"the training data yielded no batches in epoch {epoch + 1}"
                                 + (": an iterator (a generator) is used up after one pass; "
                                    "pass a DataLoader or another re-iterable object"
                                    if epoch > initial_epoch else ""))
            # Validate even when training stops mid-epoch (Keras does): the weights are the last
            # good ones, and EarlyStopping or ModelCheckpoint monitoring val_ values need them.
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_batches(val, "validation_data")
                logs.update({"val_" + k: v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end(logs)
        self.history = cbs.history
        return self.history

    def _evaluate_batches(self, data: Any, source: str, cbs: Any = None) -> dict[str, float]:
        """The loss and metrics over ``data``; ValueError naming ``source`` if it is empty."""
        self._reset_metrics()
        total, n = 0.0, 0
        for step, (xb, yb, swb) in enumerate(da.iterate(data)):
            if cbs is not None:
                cbs.on_test_batch_begin(step)
            k = da.num_samples(xb)
            total += self.test_step(xb, yb, swb) * k
            n += k
            if cbs is not None:
                cbs.on_test_batch_end(step, self._logs(total / n))
        if n == 0:
            raise ValueError(f"{source} has no samples: there is nothing to evaluate")
        return self._logs(total / n)

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = 32,
                 verbose: Any = "auto", sample_weight: Any = None, return_dict: bool = False,
                 callbacks: Any = None) -> Any:
        """Loss and metrics on (x, y), or on a DataLoader's batches, in inference mode: a float
        (no metrics), a list [loss, metric...], or a dict with ``return_dict=True``."""
        from ..callbacks import CallbackList

        data = da.as_loader(x, y, sample_weight, da.batch_size_or_default(batch_size))
        if self.loss is None:
            raise RuntimeError("the model is not compiled: call compile() before evaluate()")
        verbose = _verbosity(verbose)
        cbs = CallbackList(callbacks, add_history=False, add_progbar=verbose != 0, model=self,
                           verbose=verbose, epochs=1, steps=da.steps_of(data))
        cbs.on_test_begin()
        logs = self._evaluate_batches(data, "the data given to evaluate()", cbs)
        cbs.on_test_end(logs)
        return logs if return_dict else _flat(logs)

    def predict(self, x: Any, batch_size: int | None = 32, verbose: Any = 0) -> Any:
        """Outputs for ``x`` (arrays, or a DataLoader whose labels are ignored) in inference
        mode, as NumPy arrays, batch by batch."""
        data = da.as_loader(x, batch_size=da.batch_size_or_default(batch_size))
        outs = []
        with no_grad():
            for xb, _, _ in da.iterate(data):
                out = self(xb, training=False)
                outs.append([o.numpy() for o in out] if isinstance(out, list) else out.numpy())
        if not outs:
            raise ValueError("the data given to predict() has no samples: there is nothing to "
                             "predict")
        if isinstance(outs[0], list):
            return [np.concatenate(parts) for parts in zip(*outs)]
        return np.concatenate(outs)

    def train_on_batch(self, x: Any, y: Any, sample_weight: Any = None,
                       class_weight: dict[int, float] | None = None,
                       return_dict: bool = False) -> Any:
        """One training step on one batch; returns the loss (and metrics)."""
        x, y, sw = da.as_arrays(x), da.as_arrays(y), da.as_arrays(sample_weight)
        da.check_numeric(x, y, sw)
        sw = da.with_class_weights(y, sw, class_weight)
        self._ensure_ready(x)
        self._reset_metrics()
        logs = self._logs(self.train_step(x, y, sw))
        return logs if return_dict else _flat(logs)

    def test_on_batch(self, x: Any, y: Any, sample_weight: Any = None,
                      return_dict: bool = False) -> Any:
        """Loss (and metrics) on one batch in inference mode."""
        x, y, sw = da.as_arrays(x), da.as_arrays(y), da.as_arrays(sample_weight)
        da.check_numeric(x, y, sw)
        self._reset_metrics()
        logs = self._logs(self.test_step(x, y, sw))
        return logs if return_dict else _flat(logs)

    def predict_on_batch(self, x: Any) -> Any:
        x = da.as_arrays(x)
        da.check_numeric(x)
        with no_grad():
            return self(x, training=False).numpy()

    # -- inspection and saving ---------------------------------------------------------------
    def summary(self, print_fn: Any = print) -> None:
        """Print each layer's name, type, output shape and parameter count, and the totals."""
        from .summary import summary_lines

        for line in summary_lines(self):
            print_fn(line)

    def get_config(self) -> dict[str, Any]:
        if self.graph is None:
            return super().get_config()
        return {"name": self.name, "trainable": self.trainable, **self.graph.get_config()}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Model:
        from ..io.saving import deserialize_layer

        if "nodes" not in config:
            return cls(**config)
        inputs, outputs = Graph.from_config(config, deserialize_layer)
        return cls(inputs, outputs, name=config.get("name"), trainable=config.get("trainable",
                                                                                    True))

    def save(self, filepath: str) -> None:
        """Write the architecture, the weights and the optimizer state to one file, atomically."""
        from ..io.saving import save_model

        save_model(self, filepath)

    def save_weights(self, filepath: str) -> None:
        """Write the weights alone (safetensors), atomically."""
        from ..io.saving import save_weights

        save_weights(self, filepath)

    def load_weights(self, filepath: str) -> None:
        """Read weights written by ``save_weights`` (or ``save``) into this model."""
        from ..io.saving import load_weights

        load_weights(self, filepath)


def _verbosity(verbose: Any) -> int:
    """0, 1 or 2; 'auto' is a progress bar (1) when stdout is a terminal, else one line per
    epoch (2), so logs and captured output get no bar (as the CLI's --verbose default)."""
    if verbose == "auto":
        return 1 if sys.stdout is not None and sys.stdout.isatty() else 2
    return int(verbose)


def _flat(logs: dict[str, float]) -> Any:
    values = list(logs.values())
    return values[0] if len(values) == 1 else values

