"""``Model``: a Layer that trains. Three ways to make one, as in Keras: subclass it and write
``call``; connect symbolic tensors (``Model(inputs, outputs)``); or use ``Sequential``.

``fit`` owns the order of a training step — forward, loss (plus regularization penalties),
zero-grad, backward, clip and step (both in the optimizer), learning-rate schedule — and sets the
training flag that Dropout and BatchNormalization read; ``evaluate`` and ``predict`` run in
inference mode under ``no_grad``. The PyTorch-style loop stays open: ``model(x, training=True)``,
``loss.backward()``, ``optimizer.step()`` over ``model.trainable_weights``.
"""

from __future__ import annotations

import contextlib
import copy
import math
import sys
import warnings
from typing import Any

import numpy as np

from .. import backend
from .. import functional as F
from ..autograd import Tensor, no_grad
from ..layers.layer import Layer
from ..losses import masked_weights
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

    # a subclass's config (its own arguments) holds no empty inputs and outputs
    _config_if_given = (*Layer._config_if_given, "inputs", "outputs")

    def __init__(self, inputs: Any = None, outputs: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.graph: Graph | None = None
        self.optimizer: Any = None
        self.loss: Any = None
        self.loss_weights: list[float] | None = None
        self.compiled_metrics: list[Any] = []
        self.compiled_weighted_metrics: list[Any] = []
        self._metric_ids: Any = []
        self._weighted_metric_ids: Any = []
        self._loss_trackers: list[Any] = []
        self._metric_outputs: list[int] = []
        self._weighted_metric_outputs: list[int] = []
        self._metrics_resolved = False
        self.stop_training = False
        self.history: Any = None
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("Model(inputs, outputs) needs both inputs and outputs")
            self.graph = Graph(inputs, outputs)
            self.graph_layers = self.graph.layers
            self.built = True

    # -- forward -----------------------------------------------------------------------------
    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(inputs, dict) and self.graph is not None:  # Keras: keyed by Input name
            inputs = self.graph.by_input_name(inputs)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs: Any, training: bool = False) -> Any:
        if self.graph is None:
            raise NotImplementedError(f"{type(self).__name__} must define call(), or be built "
                                      "as Model(inputs, outputs)")
        return self.graph.run(inputs, training)

    @property
    def layers(self) -> list[Layer]:
        """The model's layers. A functional model lists its InputLayers first, then its
        layers in the order they compute (Keras 3: ``model.layers[1:]`` skips the input)."""
        layers = super().layers
        if self.graph is None:
            return layers
        return [t.input_layer for t in self.graph.inputs if t.input_layer is not None] + layers

    def _output_layers(self) -> list[Layer]:
        if self.graph is not None:
            return [t.layer for t in self.graph.outputs]
        return self.layers[-1:]

    @property
    def output_names(self) -> list[str]:
        """The names of a functional model's outputs, in order: the names of the layers that
        make them, or the sorted keys of a dict of outputs (Keras's order). They key per-output
        losses, metrics and targets and prefix their logs ([] for other models)."""
        if self.graph is None:
            return []
        if self.graph.output_keys is not None:
            return list(self.graph.output_keys)
        return [t.layer.name if t.layer is not None else t.name for t in self.graph.outputs]

    @property
    def _output_list(self) -> bool:
        """Whether the model's outputs are a list or dict (``Model(inputs, [a, b])``), trained
        with one loss per output."""
        return self.graph is not None and not self.graph.single_output

    def _per_output(self, value: Any, what: str, optional: bool = False) -> list[Any]:
        """``value`` given per output (a list in output order, or a dict keyed by output name)
        as a list in output order; ValueError naming the outputs when it does not fit them.
        With ``optional`` a dict may leave outputs out (None for them)."""
        names = self.output_names
        if isinstance(value, dict):
            unknown = [k for k in value if k not in names]
            absent = [] if optional else [n for n in names if n not in value]
            if unknown or absent:
                problem = f"unknown output name(s) {unknown}" if unknown \
                    else f"no entry for output(s) {absent}"
                raise ValueError(f"{what} has {problem}; the model's outputs are {names}")
            return [value.get(n) for n in names]
        if isinstance(value, (list, tuple)) and len(value) == len(names):
            return list(value)
        got = type(value).__name__ + (f" of {len(value)}" if isinstance(value, (list, tuple))
                                      else "")
        raise ValueError(f"{what} must be a list with one entry per output, in output order, "
                         f"or a dict keyed by output name; got a {got}, but the model's outputs "
                         f"are {names}")

    # -- compile -----------------------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None,
                weighted_metrics: Any = None, loss_weights: Any = None, **kwargs: Any) -> None:
        """Choose the optimizer, the loss and the metrics (strings or objects, as Keras).

        As in Keras, ``sample_weight`` and ``class_weight`` weight the loss and the
        ``weighted_metrics``, never the plain ``metrics``. A weighted metric whose name is also a
        plain metric's is logged as ``weighted_<name>``.

        A model with a list of outputs takes ``loss`` as one loss for all outputs, a list (in
        output order) or a dict keyed by ``output_names``; ``loss_weights`` (a list or dict)
        weights them in the total. ``metrics`` as a list applies to every output, as a dict
        ``{output_name: metric or list}`` to the outputs named. Logs then hold ``loss`` (the
        total), ``<output>_loss`` (weighted, as Keras 3) and ``<output>_<metric>``.
        """
        from .. import losses, optimizers
        from ..metrics import Mean

        unknown = set(kwargs) - {"run_eagerly", "jit_compile", "steps_per_execution"}
        if unknown:
            raise TypeError(f"compile() got unexpected argument(s): {', '.join(sorted(unknown))}")
        per_output_loss = isinstance(loss, (list, tuple)) or isinstance(loss, dict) \
            and "class_name" not in loss
        if not self._output_list and (per_output_loss or loss_weights is not None):
            got = "loss_weights" if loss_weights is not None \
                else f"a {type(loss).__name__} of {len(loss)} losses"
            raise ValueError(f"compile() got {got}, but the model has a single output: pass a "
                             "single loss (one loss per output, and loss_weights, are for a "
                             "functional Model(inputs, [outputs...]))")
        self.optimizer = optimizers.get(optimizer)
        if not self._output_list:
            self.loss = losses.get(loss) if loss is not None else None
            self._metric_ids = list(metrics or [])
            self._weighted_metric_ids = list(weighted_metrics or [])
        else:
            n = len(self.output_names)
            # as Keras: an output may have no loss (None in a list, left out of a dict)
            self.loss = None if loss is None else [losses.get(fn) for fn in (
                self._per_output(loss, "loss", optional=True) if per_output_loss
                else [loss] * n)]
            self.loss_weights = None if loss_weights is None else [
                1.0 if w is None else float(w)
                for w in self._per_output(loss_weights, "loss_weights", optional=True)]
            self._metric_ids = self._metrics_by_output(metrics, "metrics")
            self._weighted_metric_ids = self._metrics_by_output(weighted_metrics,
                                                                "weighted_metrics")
        self._loss_trackers = [Mean(f"{name}_loss") for name, fn in zip(
            self.output_names, self._losses_by_output()) if fn is not None] \
            if self._output_list and self.loss is not None else []
        # resolved at the first batch, when output shapes are known
        self.compiled_metrics, self.compiled_weighted_metrics = [], []
        self._metrics_resolved = False
        self._warn_double_softmax()

    def _metrics_by_output(self, metrics: Any, what: str) -> dict[str, list[Any]]:
        """``{output_name: [metric, ...]}`` from a list for every output or a dict by name."""
        ids = self._per_output(metrics, what, optional=True) if isinstance(metrics, dict) \
            else [metrics] * len(self.output_names)
        return {name: list(m) if isinstance(m, (list, tuple)) else [] if m is None else [m]
                for name, m in zip(self.output_names, ids)}

    def _losses_by_output(self) -> list[Any]:
        return self.loss if isinstance(self.loss, list) else [self.loss]

    def _warn_double_softmax(self) -> None:
        for last, loss in zip(self._output_layers(), self._losses_by_output()):
            if getattr(last, "activation", None) is not F.softmax \
                    or not getattr(loss, "from_logits", False):
                continue
            warnings.warn(
                f"The model's last layer '{last.name}' applies softmax, but the loss was "
                "compiled with from_logits=True, so softmax is applied twice: the loss treats "
                "probabilities as logits, its gradients shrink and training slows and plateaus "
                "lower. Remove activation='softmax' from the last layer (recommended: logits "
                "out, apply softmax when predicting), or use from_logits=False.",
                UserWarning, stacklevel=3)

    # -- one step ----------------------------------------------------------------------------
    def compute_loss(self, y: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        """The compiled loss (for a list of outputs, the weighted sum of theirs) plus every
        regularization penalty of the model's weights."""
        return self._total_loss(self._output_losses(*self._by_output(y, y_pred, sample_weight)))

    def _by_output(self, y: Any, y_pred: Any, sample_weight: Any) -> tuple[list, list, list]:
        """Targets, predictions and sample weights as lists in output order (one item each for
        a single output); one sample_weight array serves every output."""
        if not self._output_list:
            if isinstance(y_pred, list):
                raise ValueError(f"the model returned {len(y_pred)} outputs: training several "
                                 "outputs needs a functional Model(inputs, [outputs...]), whose "
                                 "outputs are named by their layers (predict works)")
            return [y], [y_pred], [sample_weight]
        if isinstance(y_pred, dict):
            y_pred = [y_pred[name] for name in self.output_names]
        sws = sample_weight if isinstance(sample_weight, (list, tuple, dict)) \
            else [sample_weight] * len(y_pred)
        return self._per_output(y, "y"), y_pred, self._per_output(sws, "sample_weight")

    def _output_losses(self, ys: list, preds: list, sws: list) -> list[Tensor]:
        """Each output's loss, times its loss weight, in output order; none when the model
        was compiled without a loss and its layers add their own (``add_loss``)."""
        parts = []
        for i, (fn, y, p, sw) in enumerate(zip(self._losses_by_output(), ys, preds, sws)):
            if fn is not None:  # an output without a loss is for prediction only
                part = fn(y, p, sample_weight=sw)
                parts.append(part if self.loss_weights is None else self.loss_weights[i] * part)
        if not parts and not any(layer._added_losses for layer in self._layer_tree()):
            raise RuntimeError("the model has no loss: call compile(loss=...) before "
                               "fit/evaluate, or add one in a layer's call with add_loss()")
        return parts

    def _total_loss(self, parts: list[Tensor]) -> Tensor:
        terms = [*parts, *self.losses]
        loss = terms[0]
        for term in terms[1:]:
            loss = loss + term
        return loss

    def _step_loss(self, x: Any, y: Any, sample_weight: Any,
                   training: bool) -> tuple[tuple, list[Tensor], Tensor]:
        """Forward and loss: (targets, predictions, sample weights) by output, each output's
        weighted loss, and the total."""
        data = self._by_output(y, self(x, training=training), sample_weight)
        parts = self._output_losses(*data)
        return data, parts, self._total_loss(parts)

    def train_step(self, x: Any, y: Any, sample_weight: Any = None) -> float:
        """Forward, loss, zero-grad, backward, step. Returns the loss; a non-finite loss is
        returned without updating the weights, so nothing is corrupted."""
        data, parts, loss = self._step_loss(x, y, sample_weight, training=True)
        value = float(loss.data)
        if not math.isfinite(value):
            return value
        if loss.requires_grad or self.trainable_weights:  # a model without weights: no step
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        self._update_metrics(data, parts, da.num_samples(x))
        return value

    def test_step(self, x: Any, y: Any, sample_weight: Any = None) -> float:
        with no_grad():
            data, parts, loss = self._step_loss(x, y, sample_weight, training=False)
        self._update_metrics(data, parts, da.num_samples(x))
        return float(loss.data)

    def _update_metrics(self, data: tuple[list, list, list], parts: list[Tensor],
                        batch_size: int) -> None:
        """Update the per-output losses (each batch weighted by its size, as the loops weight
        the total) and the metrics, each on its output. A padding mask that an output carries
        weights its padded steps 0 in every metric (Keras 3)."""
        ys, preds, sws = data
        for tracker, part in zip(self._loss_trackers, parts):
            tracker.update_state(float(part.data), sample_weight=batch_size)
        if not self._metrics_resolved:
            self._resolve_metrics(preds)
        for i, m in zip(self._metric_outputs, self.compiled_metrics):
            m.update_state(ys[i], preds[i].data, sample_weight=masked_weights(None, preds[i]))
        for i, m in zip(self._weighted_metric_outputs, self.compiled_weighted_metrics):
            m.update_state(ys[i], preds[i].data, sample_weight=masked_weights(sws[i], preds[i]))

    def _resolve_metrics(self, preds: list[Tensor]) -> None:
        """Metric objects for the compiled ids, output by output; for a list of outputs they
        are named ``<output>_<metric>``."""
        self.compiled_metrics, self.compiled_weighted_metrics = [], []
        self._metric_outputs, self._weighted_metric_outputs = [], []
        for i, (loss, pred) in enumerate(zip(self._losses_by_output(), preds)):
            plain = self._output_metrics(self._metric_ids, i, loss, pred.shape)
            weighted = self._output_metrics(self._weighted_metric_ids, i, loss, pred.shape)
            plain_names = {m.name for m in plain}
            for m in weighted:
                if m.name in plain_names:
                    m.name = "weighted_" + m.name
            if self._output_list:
                for m in plain + weighted:
                    m.name = f"{self.output_names[i]}_{m.name}"
            self.compiled_metrics += plain
            self.compiled_weighted_metrics += weighted
            self._metric_outputs += [i] * len(plain)
            self._weighted_metric_outputs += [i] * len(weighted)
        self._metrics_resolved = True

    def _output_metrics(self, ids: Any, i: int, loss: Any, output_shape: tuple) -> list[Any]:
        """Output ``i``'s Metric objects from compiled ids (a list, or a dict by output name);
        for a list of outputs copies, so that no two outputs share a metric's state."""
        from .. import metrics

        ids = ids[self.output_names[i]] if isinstance(ids, dict) else ids
        return [metrics.get(copy.deepcopy(m) if self._output_list else m, loss=loss,
                            output_shape=output_shape) for m in ids]

    def _all_metrics(self) -> list[Any]:
        return self._loss_trackers + self.compiled_metrics + self.compiled_weighted_metrics

    def _logs(self, loss_mean: float, prefix: str = "") -> dict[str, float]:
        logs = {prefix + "loss": loss_mean}
        logs.update({prefix + m.name: _log_value(m.result()) for m in self._all_metrics()})
        return logs

    def _reset_metrics(self) -> None:
        for m in self._all_metrics():
            m.reset_state()

    def _ordered(self, x: Any, y: Any = None, sample_weight: Any = None) -> tuple[Any, Any, Any]:
        """(x, y, sample_weight) with a dict keyed by input name (x) or output name (y,
        sample_weight) made a list in input or output order, which the data pipeline batches."""
        if isinstance(x, dict) and self.graph is not None:
            x = self.graph.by_input_name(x)
        y, sample_weight = (self._per_output(v, name) if self._output_list and isinstance(v, dict)
                            else v for name, v in (("y", y), ("sample_weight", sample_weight)))
        return x, y, sample_weight

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
            initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int = 1) -> Any:
        """Train for ``epochs`` passes over (x, y). Returns the History.

        Args (Keras's): ``verbose`` 'auto' is a progress bar (1) when stdout is a terminal, else
        one line per epoch (2); ``validation_split`` takes a fixed shuffled fraction (not the last
        rows); ``class_weight`` maps class ids to loss weights; ``initial_epoch`` resumes a run;
        ``steps_per_epoch`` makes an epoch that many batches, each epoch continuing where the
        last stopped (so an endless generator can be trained on); ``validation_steps`` does
        the same for each validation.
        """
        from ..callbacks import CallbackList, TerminateOnNaN

        batch_size = da.batch_size_or_default(batch_size)
        steps_per_epoch = da.steps_or_none(steps_per_epoch, "steps_per_epoch")
        validation_steps = da.steps_or_none(validation_steps, "validation_steps")
        rng = backend.new_generator()
        x, y, sample_weight = self._ordered(x, y, sample_weight)
        if isinstance(validation_data, tuple) and len(validation_data) in (2, 3):
            validation_data = self._ordered(*validation_data)
        if da.is_batch_source(x):
            if validation_split:
                raise ValueError("validation_split is not supported when x is a DataLoader or "
                                 "an iterable of batches (it cannot be split): pass "
                                 "validation_data=(x_val, y_val) or another DataLoader")
            train = da.as_loader(x, y, sample_weight)
            if shuffle and isinstance(x, da.PyDataset) and x.num_batches is not None:
                train = da.ShuffledBatches(x, rng)  # Keras visits its batches in a new order
        else:
            x, y, sw = da.as_arrays(x), da.as_arrays(y), da.as_arrays(sample_weight)
            da.check_lengths(x, y, sw)
            if validation_data is None and validation_split:
                (x, y, sw), validation_data = da.validation_split(x, y, sw, validation_split)
            train = da.DataLoader(x, y, batch_size=batch_size, shuffle=shuffle, seed=rng,
                                  sample_weight=sw)
        val = None if validation_data is None else da.validation_loader(
            validation_data, validation_batch_size or batch_size)
        self._ensure_ready(da.first_rows(train))
        verbose = _verbosity(verbose)
        steps = steps_per_epoch or da.steps_of(train)
        if steps_per_epoch:
            train = da.passes(train)
        if val is not None and validation_steps:
            val = da.passes(val)
        user_callbacks = list(callbacks or [])
        if not any(isinstance(c, TerminateOnNaN) for c in user_callbacks):
            user_callbacks.append(TerminateOnNaN())
        cbs = CallbackList(user_callbacks, add_history=True, add_progbar=verbose != 0,
                           model=self, verbose=verbose, epochs=epochs, steps=steps)
        self.stop_training = False
        cbs.on_train_begin()
        logs: dict[str, float] = {}
        try:
            for epoch in range(initial_epoch, epochs):
                logs = self._fit_epoch(train, class_weight, cbs, epoch, epoch > initial_epoch,
                                       steps_per_epoch)
                # Validate even when training stops mid-epoch (Keras does): the weights are the
                # last good ones, and EarlyStopping or ModelCheckpoint on val_ values need them.
                if val is not None and (epoch + 1) % validation_freq == 0:
                    val_logs = self._evaluate_batches(val, "validation_data",
                                                      steps=validation_steps)
                    logs.update({"val_" + k: v for k, v in val_logs.items()})
                cbs.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
        except BaseException:
            # However training ends (Ctrl-C, an error in a callback or the data): callbacks
            # close their files and EarlyStopping restores its best weights; the original
            # error is what the caller sees.
            with contextlib.suppress(Exception):
                cbs.on_train_end(logs)
            self.history = cbs.history
            raise
        cbs.on_train_end(logs)
        self.history = cbs.history
        return self.history

    def _fit_epoch(self, train: Any, class_weight: Any, cbs: Any, epoch: int,
                   resumed: bool, steps: int | None) -> dict[str, float]:
        """One pass over ``train`` (its next ``steps`` batches if given); the epoch's logs (a
        loss averaged over samples)."""
        self._reset_metrics()
        cbs.on_epoch_begin(epoch)
        logs: dict[str, float] = {}
        total, n, step = 0.0, 0, -1
        for step, (xb, yb, swb) in enumerate(da.iterate(train, class_weight, steps)):
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
            k = da.num_samples(xb)  # batches weigh by their size, as in evaluate
            total, n = total + loss * k, n + k
            logs = self._logs(total / n)
            cbs.on_train_batch_end(step, logs)
            if self.stop_training:
                break
        if step < 0:
            hint = ("it must yield steps_per_epoch * epochs batches" if steps else
                    "pass a DataLoader or another re-iterable object, or steps_per_epoch")
            raise ValueError(f"the training data yielded no batches in epoch {epoch + 1}"
                             + (f": an iterator (a generator) is used up; {hint}"
                                if resumed else ""))
        return logs

    def _evaluate_batches(self, data: Any, source: str, cbs: Any = None,
                          steps: int | None = None) -> dict[str, float]:
        """The loss and metrics over ``data`` (its next ``steps`` batches if given);
        ValueError naming ``source`` if it is empty."""
        self._reset_metrics()
        total, n = 0.0, 0
        for step, (xb, yb, swb) in enumerate(da.iterate(data, steps=steps)):
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
                 verbose: Any = "auto", sample_weight: Any = None, steps: int | None = None,
                 return_dict: bool = False, callbacks: Any = None) -> Any:
        """Loss and metrics on (x, y), or on a DataLoader's batches (the first ``steps`` if
        given), in inference mode: a float (no metrics), a list [loss, metric...], or a dict
        with ``return_dict=True``."""
        from ..callbacks import CallbackList

        steps = da.steps_or_none(steps, "steps")

        data = da.as_loader(*self._ordered(x, y, sample_weight),
                            da.batch_size_or_default(batch_size))
        if self.optimizer is None:
            raise RuntimeError("the model is not compiled: call compile() before evaluate()")
        verbose = _verbosity(verbose)
        cbs = CallbackList(callbacks, add_history=False, add_progbar=verbose != 0, model=self,
                           verbose=verbose, epochs=1, steps=da.steps_of(data, steps))
        cbs.on_test_begin()
        logs = self._evaluate_batches(data, "the data given to evaluate()", cbs, steps)
        cbs.on_test_end(logs)
        return logs if return_dict else _flat(logs)

    def predict(self, x: Any, batch_size: int | None = 32, verbose: Any = 0,
                steps: int | None = None) -> Any:
        """Outputs for ``x`` (arrays, or a DataLoader or generator whose labels are ignored; its
        first ``steps`` batches if given) in inference mode, as NumPy arrays, batch by batch."""
        steps = da.steps_or_none(steps, "steps")
        data = da.as_loader(self._ordered(x)[0], batch_size=da.batch_size_or_default(batch_size))
        outs = []
        with no_grad():
            for xb, _, _ in da.iterate(data, steps=steps):
                outs.append(_numpy(self(xb, training=False)))
        if not outs:
            raise ValueError("the data given to predict() has no samples: there is nothing to "
                             "predict")
        if isinstance(outs[0], dict):
            return {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}
        if isinstance(outs[0], list):
            return [np.concatenate(parts) for parts in zip(*outs)]
        return np.concatenate(outs)

    def train_on_batch(self, x: Any, y: Any, sample_weight: Any = None,
                       class_weight: dict[int, float] | None = None,
                       return_dict: bool = False) -> Any:
        """One training step on one batch; returns the loss (and metrics)."""
        x, y, sw = map(da.as_arrays, self._ordered(x, y, sample_weight))
        da.check_numeric(x, y, sw)
        sw = da.with_class_weights(y, sw, class_weight)
        self._ensure_ready(x)
        self._reset_metrics()
        logs = self._logs(self.train_step(x, y, sw))
        return logs if return_dict else _flat(logs)

    def test_on_batch(self, x: Any, y: Any, sample_weight: Any = None,
                      return_dict: bool = False) -> Any:
        """Loss (and metrics) on one batch in inference mode."""
        x, y, sw = map(da.as_arrays, self._ordered(x, y, sample_weight))
        da.check_numeric(x, y, sw)
        self._reset_metrics()
        logs = self._logs(self.test_step(x, y, sw))
        return logs if return_dict else _flat(logs)

    def predict_on_batch(self, x: Any) -> Any:
        x = da.as_arrays(self._ordered(x)[0])
        da.check_numeric(x)
        with no_grad():
            return _numpy(self(x, training=False))

    # -- inspection and saving ---------------------------------------------------------------
    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called ``name``, or ``model.layers[index]``; ValueError if there is none,
        or unless exactly one of the two is given."""
        if (name is None) == (index is None):
            raise ValueError(f"get_layer() takes a layer name or an index, not both or neither; "
                             f"got name={name!r}, index={index!r}")
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"get_layer(index={index}) is out of range: the model "
                                 f"{self.name!r} has {len(layers)} layers")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r} in the model {self.name!r}; its layers are "
                         f"{[layer.name for layer in layers]}")

    def _symbolic_io(self) -> tuple[list[Any], list[Any]]:
        """The symbolic input and output tensors the model was built from."""
        if self.graph is None:
            raise AttributeError(f"the model {self.name!r} has no symbolic inputs or outputs: "
                                 "only a functional model or a built Sequential has them")
        return self.graph.inputs, self.graph.outputs

    @property
    def inputs(self) -> list[Any]:
        """The symbolic input tensors (``Input()``) of a functional model or a built Sequential."""
        return list(self._symbolic_io()[0])

    @property
    def outputs(self) -> list[Any]:
        """The symbolic output tensors of a functional model or a built Sequential."""
        return list(self._symbolic_io()[1])

    @property
    def input(self) -> Any:
        """Keras's ``model.input``: the symbolic input, or the list of them."""
        inputs = self.inputs
        return inputs[0] if len(inputs) == 1 else inputs

    @property
    def output(self) -> Any:
        """Keras's ``model.output``: the symbolic output, or the list of them."""
        outputs = self.outputs
        return outputs[0] if len(outputs) == 1 else outputs

    @property
    def metrics_names(self) -> list[str]:
        """The names of the values ``evaluate`` returns, in order: "loss", then the per-output
        losses and the metrics (known from the first batch on; [] before compile)."""
        if self.optimizer is None:
            return []
        return ["loss"] + [m.name for m in self._all_metrics()]

    def summary(self, print_fn: Any = print) -> None:
        """Print each layer's name, type, output shape and parameter count, and the totals."""
        from .summary import summary_lines

        if not self.built:
            raise ValueError("This model has not yet been built. Build it by calling it on "
                             "data, by fit, or give the first layer an input_shape")
        for line in summary_lines(self):
            print_fn(line)

    def get_config(self) -> dict[str, Any]:
        if self.graph is None:
            return super().get_config()
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name,
                **self.graph.get_config()}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
                    ) -> Model:
        """The model ``config`` describes; ``custom_objects`` names your own layer classes in
        it (``{"CustomDense": CustomDense}``), as Keras's."""
        from ..io.saving import custom_object_scope, deserialize_layer

        if "nodes" not in config:
            return cls(**config)
        with custom_object_scope(custom_objects):
            inputs, outputs = Graph.from_config(config, deserialize_layer)
        return cls(inputs, outputs, name=config.get("name"),
                   trainable=config.get("trainable", True), dtype=config.get("dtype"))

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


def _log_value(value: Any) -> Any:
    """A metric's result as logs hold it: a Python number (a list for several values), also
    when a Keras-style metric returns its variable or a Tensor."""
    if isinstance(value, (Tensor, np.ndarray, np.generic)):
        array = np.asarray(value.numpy() if isinstance(value, Tensor) else value)
        return array.item() if array.size == 1 else array.tolist()
    return value


def _numpy(out: Any) -> Any:
    """A model's output (a Tensor, or a list or dict of them) as NumPy."""
    if isinstance(out, dict):
        return {k: o.numpy() for k, o in out.items()}
    return [o.numpy() for o in out] if isinstance(out, list) else out.numpy()


def _flat(logs: dict[str, float]) -> Any:
    values = list(logs.values())
    return values[0] if len(values) == 1 else values

