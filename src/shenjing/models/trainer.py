"""``Trainer``: what makes a ``Model`` train (Keras 3's ``Trainer``, a base of ``Model``):
``compile``, ``train_step``/``test_step``/``predict_step``, and the ``fit`` loop (``evaluate``
and ``predict`` come from ``inference.py``).

``fit`` owns the order of a training step — forward, loss (plus regularization penalties),
zero-grad, backward, clip and step (both in the optimizer), learning-rate schedule — and sets the
training flag that Dropout and BatchNormalization read; ``evaluate`` and ``predict`` run in
inference mode under ``no_grad``. The PyTorch-style loop stays open: ``model(x, training=True)``,
``loss.backward()``, ``optimizer.step()`` over ``model.trainable_weights``.

As in Keras ("Customizing what happens in fit()"), a subclass may override ``train_step(self,
data)``, ``test_step(self, data)`` or ``predict_step(self, data)``: the loops then call it with
each batch packed as Keras packs it (``(x, y)``, ``(x, y, sample_weight)`` or ``x``, as Tensors)
and take the logs it returns. Without overrides they call the built-in step on the batch's
arrays directly (``_train_logs``), so the common path packs nothing.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import backend
from .._checks import positive_int
from ..autograd import Tensor, no_grad
from ..optimizers.optimizer import global_norm
from . import data_adapter as da
from .compile_utils import CompiledLossesAndMetrics, python_logs
from .inference import Inference, _tensors, _verbosity


@functools.cache
def _takes_training(compute_loss: Any) -> bool:
    params = inspect.signature(compute_loss).parameters
    return "training" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


class Trainer(Inference, CompiledLossesAndMetrics):
    """Compile, the training step and the loops; a base of ``Model``, which gives it the forward
    pass (``self(x, training=...)``), the graph and the weights."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.optimizer: Any = None
        self.stop_training = False
        self.history: Any = None
        self._fit_rng: np.random.Generator | None = None  # see _shuffle_rng

    # -- compile -----------------------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None,
                weighted_metrics: Any = None, loss_weights: Any = None, **kwargs: Any) -> None:
        """Choose the optimizer, the loss and the metrics (strings or objects, as Keras).

        As in Keras, ``sample_weight`` and ``class_weight`` weight the loss and the
        ``weighted_metrics``, never the plain ``metrics``. A weighted metric whose name is also a
        plain metric's is logged as ``weighted_<name>``.

        A model with a list of outputs takes ``loss`` as one loss for all outputs, a list (in
        output order) or a dict keyed by ``output_names``; ``loss_weights`` (a list or dict)
        weights them in the total. ``metrics`` (Keras 3) is a list with one entry per output
        (a metric, a list of them or None), or a dict ``{output_name: metric or list}``; with
        one output, a list is that output's metrics. Logs then hold ``loss`` (the total),
        ``<output>_loss`` (unweighted, as Keras 3 records them) and ``<output>_<metric>``.
        """
        from .. import losses, optimizers
        from ..metrics import Mean

        unknown = set(kwargs) - {"run_eagerly", "jit_compile", "steps_per_execution"}
        if unknown:
            raise TypeError(f"compile() got unexpected argument(s): {', '.join(sorted(unknown))}")
        per_output_loss = isinstance(loss, (list, tuple)) or isinstance(loss, dict) \
            and "class_name" not in loss
        if not self._output_list:  # Keras packs [loss] and [weight] onto the one output
            loss, loss_weights = (_single(loss, "losses") if per_output_loss else loss,
                                  _single(loss_weights, "loss_weights"))
            per_output_loss = False
        self.optimizer = optimizers.get(optimizer)
        if not self._output_list:
            self.loss = losses.get(loss) if loss is not None else None
            self.loss_weights = None if loss_weights is None else [float(loss_weights)]
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
        self._loss_tracker = Mean("loss")
        # <output>_loss for the outputs with a loss, when several outputs have one (Keras
        # 3's CompileLoss; with one loss, only the total is logged)
        named = [name for name, fn in zip(self.output_names, self._losses_by_output())
                 if fn is not None] if self._output_list and self.loss is not None else []
        self._loss_trackers = [Mean(f"{name}_loss") for name in named] if len(named) > 1 \
            else []
        # resolved at the first batch, when output shapes are known
        self._plain_metrics, self._weighted_metrics = [], []
        self._metrics_resolved = False
        self._held_metrics = None
        self._warn_double_softmax()

    # -- one step ----------------------------------------------------------------------------
    def _step_loss(self, x: Any, y: Any, sample_weight: Any,
                   training: bool) -> tuple[tuple, list[Tensor], Tensor]:
        """Forward and loss: (targets, predictions, sample weights) by output, each output's
        weighted loss, and the total. A subclass's own ``compute_loss`` gives the total, as
        Keras 3's steps call it (knowledge distillation's teacher term); the per-output losses
        are then not logged."""
        y_pred = self(x, training=training)
        data = self._by_output(y, y_pred, sample_weight)
        if type(self).compute_loss is not CompiledLossesAndMetrics.compute_loss:
            return data, [], self._user_loss(x, y, y_pred, sample_weight, training)
        parts = self._output_losses(*data)
        return data, parts, self._total_loss(parts)

    def _user_loss(self, x: Any, y: Any, y_pred: Any, sample_weight: Any,
                   training: bool) -> Tensor:
        """An overridden ``compute_loss``, called as Keras 3 calls it: positionally, with
        ``training`` only where its signature takes it (Keras 3.0's had none)."""
        fn = self.compute_loss
        if _takes_training(type(self).compute_loss):
            loss = fn(x, y, y_pred, sample_weight, training=training)
        else:
            loss = fn(x, y, y_pred, sample_weight)
        if not isinstance(loss, Tensor):
            raise TypeError(f"{type(self).__name__}.compute_loss() must return the loss as a "
                            f"scalar Tensor (from ops or a loss object); got "
                            f"{type(loss).__name__}")
        return loss

    def _train_batch(self, x: Any, y: Any, sample_weight: Any = None) -> float:
        """Forward, loss, zero-grad, backward, step. Returns the loss; a non-finite loss is
        returned without updating the weights, so nothing is corrupted."""
        data, parts, loss = self._step_loss(x, y, sample_weight, training=True)
        value = float(loss.data)
        self._nonfinite_grad = ""
        if not math.isfinite(value):
            return value
        weights = self.trainable_weights  # (a walk of the layers: once a step)
        if loss.requires_grad or weights:  # a model without weights: no step
            self.optimizer.zero_grad()
            self.optimizer.scale_loss(loss).backward()
            # a finite loss can still send back NaN/inf (sqrt or log at 0 in a loss of one's
            # own): that step would write it into every weight, and a checkpoint after it
            # into the files; the loss scaler skips such steps itself
            if not hasattr(self.optimizer, "dynamic_scale"):
                self._nonfinite_grad = _nonfinite_gradient(weights)
                if self._nonfinite_grad:
                    return value
            self.optimizer.step()
        self._update_metrics(data, parts, da.num_samples(x))
        return value

    def _test_batch(self, x: Any, y: Any, sample_weight: Any = None) -> float:
        with no_grad():
            data, parts, loss = self._step_loss(x, y, sample_weight, training=False)
        self._update_metrics(data, parts, da.num_samples(x))
        return float(loss.data)

    def _train_logs(self, x: Any, y: Any, sample_weight: Any = None) -> dict[str, Any]:
        """The built-in training step on one batch of arrays; the logs after it."""
        return self._logged(self._train_batch(x, y, sample_weight), x)

    def _test_logs(self, x: Any, y: Any, sample_weight: Any = None) -> dict[str, Any]:
        return self._logged(self._test_batch(x, y, sample_weight), x)

    def _logged(self, loss: float, x: Any) -> dict[str, Any]:
        """The logs once a batch's loss joins the "loss" tracker, weighted by the batch's size
        (so the epoch's loss is a mean over samples; a non-finite one makes it non-finite)."""
        self._loss_tracker.update_state(loss, sample_weight=da.num_samples(x))
        return self.get_metrics_result()

    def train_step(self, data: Any) -> dict[str, Any]:
        """One training step on one batch (Keras 3's): ``data`` is ``(x, y)``, ``(x, y,
        sample_weight)`` or ``x``; returns the logs (the running loss and metrics). Override it
        to train differently: ``fit`` then calls yours with each batch and shows its logs."""
        return self._train_logs(*da.unpack_batch(data))

    def test_step(self, data: Any) -> dict[str, Any]:
        """One evaluation step on one batch, in inference mode (Keras 3's); override it as
        ``train_step``."""
        return self._test_logs(*da.unpack_batch(data))

    def predict_step(self, data: Any) -> Any:
        """The outputs for one batch (its targets ignored), in inference mode (Keras 3's)."""
        x, _, _ = da.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _overrides(self, step: str) -> bool:
        """Whether the model's class overrides Keras's ``train_step``, ``test_step`` or
        ``predict_step``."""
        return getattr(type(self), step) is not getattr(Trainer, step)

    def _step_function(self, step: str) -> Any:
        """``fn(x, y, sample_weight) -> logs`` for one batch of arrays: the built-in step, or
        the user's ``train_step``/``test_step`` with the batch packed as Keras packs it (Tensors),
        its returned logs made Python numbers. A user's ``test_step`` runs under ``no_grad``
        (as Keras's torch backend)."""
        if not self._overrides(step):
            return self._train_logs if step == "train_step" else self._test_logs
        user_step = getattr(self, step)
        required = [p for p in inspect.signature(user_step).parameters.values()
                    if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY,
                                                           p.POSITIONAL_OR_KEYWORD)]
        if len(required) != 1:  # shenjing's former train_step(x, y, sample_weight)
            raise TypeError(f"{type(self).__name__}.{step}{inspect.signature(user_step)} must "
                            f"take one batch, as Keras's {step}(self, data): data is (x, y), "
                            "(x, y, sample_weight) or x; keras.utils.unpack_x_y_sample_weight("
                            "data) unpacks it")

        def run(x: Any, y: Any, sample_weight: Any) -> dict[str, Any]:
            data = da.pack_x_y_sample_weight(*(_tensors(v) for v in (x, y, sample_weight)))
            with no_grad() if step == "test_step" else contextlib.nullcontext():
                logs = user_step(data)
            if not isinstance(logs, dict):
                raise TypeError(f"{type(self).__name__}.{step}() must return a dict of logs "
                                "(name -> value), e.g. {m.name: m.result() for m in "
                                f"self.metrics}}; got {type(logs).__name__}")
            return python_logs(logs)

        return run

    @property
    def _text_inputs(self) -> bool:
        """Whether an Input of the model holds strings (Input(dtype='string') before a
        StringLookup), so that its data may."""
        graph = getattr(self, "graph", None)
        inputs = graph.inputs if graph is not None else [getattr(self, "_input", None)]
        return any(t is not None and t.dtype.kind in "OSU" for t in inputs)

    def _ordered(self, x: Any, y: Any = None, sample_weight: Any = None,
                 step: str = "train_step") -> tuple[Any, Any, Any]:
        """(x, y, sample_weight) with a dict keyed by input name (x) or output name (y,
        sample_weight) made a list in input or output order, for the built-in ``step``; a
        step of the user's gets the batch as the user structured it (Keras 3)."""
        if self._overrides(step):
            return x, y, sample_weight
        if isinstance(x, dict) and self.graph is not None:
            x = self.graph.by_input_name(x)
        if self._output_list and isinstance(y, dict):
            ys = self._targets(y)  # a dict may leave out outputs without a loss (Keras 3)
            y = ys if all(t is not None for t in ys) else [
                ys[i] for i, fn in enumerate(self._losses_by_output()) if fn is not None]
        if self._output_list and isinstance(sample_weight, dict):
            sample_weight = self._per_output(sample_weight, "sample_weight")
        return x, y, sample_weight

    def _ensure_ready(self, x: Any = None) -> None:
        """Check that the model is compiled; build it on one row of ``x`` (None: not yet, the
        first batch or the user's ``train_step`` will) and give its weights to the
        optimizer."""
        if self.optimizer is None:
            raise RuntimeError("the model is not compiled: call compile() before fit()")
        if not self.built:
            if x is None:
                return
            self(da.take(x, slice(0, 1)))
        self.optimizer.build(self.trainable_weights)

    def _shuffle_rng(self) -> np.random.Generator:
        """The model's shuffling stream: spawned from the seeded root at the first ``fit``,
        continued by the next ones and saved with the model (``save``), so that ``fit(epochs=2)``
        then ``fit(initial_epoch=2, epochs=4)``, or a reload from a checkpoint saved after
        epoch 2, shuffles epochs 3 and 4 as one ``fit(epochs=4)`` does."""
        rng = getattr(self, "_fit_rng", None)  # None also for a subclass that skipped __init__
        if rng is None:
            rng = self._fit_rng = backend.new_generator()
        return rng

    # -- loops -------------------------------------------------------------------------------
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = 32, epochs: int = 1,
            verbose: Any = "auto", callbacks: Any = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True,
            class_weight: dict[int, float] | None = None, sample_weight: Any = None,
            initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int | Sequence[int] = 1) -> Any:
        """Train for ``epochs`` passes over (x, y). Returns the History.

        Args (Keras's): ``verbose`` 'auto' is a progress bar (1) when stdout is a terminal, else
        one line per epoch (2); ``validation_split`` holds out the last fraction of the rows,
        taken before shuffling (Keras's: shuffle sorted data first); ``class_weight`` maps class
        ids to loss weights; ``initial_epoch`` resumes a run; ``steps_per_epoch`` makes an epoch
        that many batches, each epoch continuing where the last stopped (so an endless
        generator can be trained on); ``validation_steps`` does the same for each validation;
        ``validation_freq`` validates every that many epochs, or at the epochs (from 1) a list
        names.
        """
        from ..callbacks import CallbackList, TerminateOnNaN

        batch_size = da.batch_size_or_default(batch_size)
        steps_per_epoch = da.steps_or_none(steps_per_epoch, "steps_per_epoch")
        validation_steps = da.steps_or_none(validation_steps, "validation_steps")
        da.check_epochs(epochs, initial_epoch)
        da.check_class_weight(class_weight)
        validates = _validation_epochs(validation_freq)
        rng = self._shuffle_rng()
        custom = self._overrides("train_step")  # it builds the model itself (a GAN has no call)
        x, y, sample_weight = self._ordered(x, y, sample_weight)
        if isinstance(validation_data, list) and len(validation_data) in (2, 3):
            validation_data = tuple(validation_data)  # Keras 3 reads a list as the tuple
        if isinstance(validation_data, tuple) and len(validation_data) in (2, 3):
            validation_data = self._ordered(*validation_data, step="test_step")
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
            if y is None and self.loss is not None and not custom:
                raise ValueError("fit() got x but no y: the model was compiled with a loss, "
                                 "which compares its outputs with targets; pass y (for an "
                                 "autoencoder, fit(x, x)), or compile without a loss for a "
                                 "model that adds its own (add_loss)")
            da.check_lengths(x, y, sw)
            if validation_data is None and validation_split:
                (x, y, sw), validation_data = da.validation_split(x, y, sw, validation_split)
            train = da.DataLoader(x, y, batch_size=batch_size, shuffle=shuffle, seed=rng,
                                  sample_weight=sw)
        # a DataLoader of the user's that shuffles has its own stream: BackupAndRestore keeps
        # it beside the model's, so that a resumed run draws the same orders
        self._loader_rng = train._rng if (
            train is x and isinstance(train, da.DataLoader) and train._shuffle) else None
        val = None if validation_data is None else da.validation_loader(
            validation_data, validation_batch_size or batch_size)
        self._ensure_ready(None if custom else da.first_rows(train, self._text_inputs))
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
        self._nonfinite_data = self._nonfinite_grad = ""
        self._fit_interrupted = False  # True while on_train_end runs after an error
        cbs.on_train_begin()
        logs: dict[str, float] = {}
        try:
            # BackupAndRestore's on_train_begin may have restored a backup: go on from there
            initial_epoch, skip = self._resume_point(initial_epoch, steps)
            for epoch in range(initial_epoch, epochs):
                logs = self._fit_epoch(train, class_weight, cbs, epoch, epoch > initial_epoch,
                                       steps_per_epoch, custom,
                                       skip if epoch == initial_epoch else 0)
                # Validate even when training stops mid-epoch (Keras does): the weights are the
                # last good ones, and EarlyStopping or ModelCheckpoint on val_ values need them.
                if val is not None and validates(epoch + 1):
                    val_logs = self._evaluate_batches(
                        val, "validation_data", cbs, validation_steps,
                        explain_nan=_finite(logs.get("loss")) and not self._nonfinite_grad)
                    logs.update({"val_" + k: v for k, v in val_logs.items()})
                cbs.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
            if epochs > initial_epoch:  # with use_ema, the weights become their averages
                self.optimizer.finalize_variable_values(self.trainable_weights)
        except BaseException:
            # However training ends (Ctrl-C, an error in a callback or the data): callbacks
            # close their files and EarlyStopping restores its best weights; the original
            # error is what the caller sees.
            self._fit_interrupted = True
            with contextlib.suppress(Exception):
                cbs.on_train_end(logs)
            self.history = cbs.history
            raise
        cbs.on_train_end(logs)
        self.history = cbs.history
        return self.history

    def _resume_point(self, initial_epoch: int, steps: int | None) -> tuple[int, int]:
        """The epoch to start at and the batches of it already trained: ``initial_epoch`` and
        0, unless a callback (BackupAndRestore) restored a backup and left its place in
        ``_resume_at``."""
        resume = self.__dict__.pop("_resume_at", None)
        if resume is None:
            return initial_epoch, 0
        epoch, skip = resume
        if skip and steps is not None and skip > steps:
            raise ValueError(f"the backup was made after batch {skip} of epoch {epoch + 1}, but "
                             f"an epoch now has {steps} batches: resume with the data, "
                             "batch_size and steps_per_epoch of the interrupted run")
        return epoch, skip

    def _fit_epoch(self, train: Any, class_weight: Any, cbs: Any, epoch: int,
                   resumed: bool, steps: int | None, custom: bool,
                   skip: int = 0) -> dict[str, Any]:
        """One pass over ``train`` (its next ``steps`` batches if given); the epoch's logs
        (the last batch's: running means, the loss over samples). ``skip``: the epoch's first
        batches, drawn (in the order the shuffling stream gives) but already trained on before
        an interruption."""
        self.reset_metrics()
        cbs.on_epoch_begin(epoch)
        train_step = self._step_function("train_step")
        logs: dict[str, Any] = {}
        step = skip - 1
        if skip:
            train = itertools.islice(train, skip, None)
            steps = None if steps is None else steps - skip
        for step, (xb, yb, swb) in enumerate(da.iterate(train, class_weight, steps, self._ordered,
                                                        self._text_inputs), skip):
            if not self.built and not custom:
                self._ensure_ready(xb)
            cbs.on_train_batch_begin(step)
            logs = train_step(xb, yb, swb)
            finite_loss = _finite(logs.get("loss"))
            finite = finite_loss and not self._nonfinite_grad
            if not finite_loss:  # where the batch's data hold NaN/inf, for TerminateOnNaN
                self._nonfinite_data = da.nonfinite_report(xb, yb, swb)
            cbs.on_train_batch_end(step, logs)
            if not finite:
                # The epoch logs the non-finite loss, as Keras does; TerminateOnNaN (always
                # present) reports the epoch, step, the data's NaN/inf and remedies.
                self.stop_training = True
            if self.stop_training:
                break
        if step < 0:
            hint = ("it must yield steps_per_epoch * epochs batches" if steps else
                    "pass a DataLoader or another re-iterable object, or steps_per_epoch")
            raise ValueError(f"the training data yielded no batches in epoch {epoch + 1}"
                             + (f": an iterator (a generator) is used up; {hint}"
                                if resumed else ""))
        return logs

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: dict[int, float] | None = None,
                       return_dict: bool = False) -> Any:
        """One training step on one batch; returns the loss (and metrics). ``y`` may be None
        for a model whose loss needs no targets (``add_loss``, a ``train_step`` of yours)."""
        x, y, sw = map(da.as_arrays, self._ordered(x, y, sample_weight))
        da.check_numeric(x, y, sw, self._text_inputs)
        da.check_class_weight(class_weight)
        sw = da.with_class_weights(y, sw, class_weight)
        self._ensure_ready(None if self._overrides("train_step") else x)
        self.reset_metrics()
        self._nonfinite_grad = ""
        logs = self._step_function("train_step")(x, y, sw)
        if self._nonfinite_grad and _finite(logs.get("loss")):  # a loop of one's own: say it
            from ..callbacks.base import nan_gradient_message

            warnings.warn(nan_gradient_message(None, None, float(logs["loss"]),
                                               self._nonfinite_grad), RuntimeWarning,
                          stacklevel=2)
        return logs if return_dict else self._flat_logs(logs)

def _nonfinite_gradient(weights: Sequence[Tensor]) -> str:
    """'' when every gradient is finite, else which weight's is not ('dense/kernel (NaN)').
    Their global norm (one BLAS dot product each, infinite only when an element is NaN or inf,
    the clipping's own), then, only where it is not finite, a look at the elements."""
    grads = [(w, w.grad.data) for w in weights if w.grad is not None]
    if not grads or math.isfinite(global_norm([g for _, g in grads])):
        return ""
    xp = backend.get_xp(grads[0][1])
    for w, g in grads:
        if not bool(xp.isfinite(g).all()):
            kind = "NaN" if bool(xp.isnan(g).any()) else "inf"
            return f"{getattr(w, 'path', None) or w.name} ({kind})"
    return ""


def _finite(value: Any) -> bool:
    """Whether a logged loss is finite (True when absent or not a number)."""
    return not isinstance(value, (int, float)) or math.isfinite(value)


def _validation_epochs(freq: Any) -> Callable[[int], bool]:
    """Whether to validate after epoch ``e`` (from 1): every ``freq`` epochs, or at the epochs
    a list names (Keras's ``validation_freq``)."""
    if isinstance(freq, (list, tuple, set)):
        epochs = {positive_int(e, "validation_freq's epochs") for e in freq}
        return epochs.__contains__
    every = positive_int(freq, "validation_freq (an integer or a list of epochs)")
    return lambda e: e % every == 0


def _single(value: Any, what: str) -> Any:
    """A one-output model's loss or loss weight given in a list or dict of one (Keras packs
    it onto the output); more than one is an error."""
    if isinstance(value, dict) and "class_name" not in value:
        value = list(value.values())
    if not isinstance(value, (list, tuple)):
        return value
    if len(value) != 1:
        raise ValueError(f"compile() got {len(value)} {what}, but the model has a single "
                         "output: pass one (several, one per output, are for a functional "
                         "Model(inputs, [outputs...]))")
    return value[0]
