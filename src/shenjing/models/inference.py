"""``Inference``: what a compiled ``Model`` runs without training, mixed into ``Trainer``:
``evaluate`` (with ``fit``'s validation) and ``predict``, one batch or a whole data set, in
inference mode under ``no_grad``; and the helpers the loops share (verbosity, logs, outputs)."""

from __future__ import annotations

import functools
import math
import sys
import warnings
from typing import Any

import numpy as np

from ..autograd import Tensor, no_grad
from . import data_adapter as da


class Inference:
    """Mixed into :class:`~shenjing.models.trainer.Trainer`, which provides ``optimizer``,
    ``reset_metrics``, ``_step_function``, ``_ordered``, ``_overrides``, ``_text_inputs`` and
    ``predict_step``; the model itself is called for the outputs."""

    def _evaluate_batches(self, data: Any, source: str, cbs: Any, steps: int | None = None,
                          explain_nan: bool = True) -> dict[str, Any]:
        """The loss and metrics over ``data`` (its next ``steps`` batches if given: the last
        batch's logs, running means), firing the ``on_test_*`` hooks of ``cbs`` (``evaluate``'s,
        or ``fit``'s for its validation, as Keras); ValueError naming ``source`` if empty. A
        non-finite loss is explained in a warning (where the data hold NaN/inf), unless
        ``explain_nan`` is False (training has just said why it diverged)."""
        self.reset_metrics()
        test_step = self._step_function("test_step")
        cbs.on_test_begin()
        logs, warned = None, not explain_nan
        order = functools.partial(self._ordered, step="test_step")
        for step, (xb, yb, swb) in enumerate(da.iterate(data, steps=steps, order=order,
                                                        text_inputs=self._text_inputs)):
            cbs.on_test_batch_begin(step)
            logs = test_step(xb, yb, swb)
            loss = logs.get("loss")
            if not warned and isinstance(loss, float) and not math.isfinite(loss):
                # the value alone (a NaN val_loss) says nothing of why: the data, if they hold
                # NaN/inf (looked at only now, once), or the model
                warned = True
                found = da.nonfinite_report(xb, yb, swb)
                warnings.warn(f"the loss on {source} became {loss} at batch {step + 1}: "
                              + (f"that batch's {found}" if found else
                                 "its data are finite, so the model's outputs are not"),
                              stacklevel=3)
            cbs.on_test_batch_end(step, logs)
        if logs is None:
            used_up = iter(data) is data  # a generator: one pass, ended by an earlier epoch
            raise ValueError(f"{source} has no samples: there is nothing to evaluate" + (
                "; it is an iterator (a generator), used up by an earlier pass: give a "
                "re-iterable source (a DataLoader, a Dataset, arrays), or an endless generator "
                "with validation_steps"
                if used_up else ""))
        cbs.on_test_end(logs)
        return logs

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = 32,
                 verbose: Any = "auto", sample_weight: Any = None, steps: int | None = None,
                 return_dict: bool = False, callbacks: Any = None) -> Any:
        """Loss and metrics on (x, y), or on a DataLoader's batches (the first ``steps`` if
        given), in inference mode: a float (no metrics), a list [loss, metric...], or a dict
        with ``return_dict=True``."""
        from ..callbacks import CallbackList

        steps = da.steps_or_none(steps, "steps")

        data = da.as_loader(*self._ordered(x, y, sample_weight, "test_step"),
                            da.batch_size_or_default(batch_size))
        if self.optimizer is None:
            raise RuntimeError("the model is not compiled: call compile() before evaluate()")
        verbose = _verbosity(verbose)
        cbs = CallbackList(callbacks, add_history=False, add_progbar=verbose != 0, model=self,
                           verbose=verbose, epochs=1, steps=da.steps_of(data, steps))
        logs = self._evaluate_batches(data, "the data given to evaluate()", cbs, steps)
        return logs if return_dict else self._flat_logs(logs)

    def predict(self, x: Any, batch_size: int | None = 32, verbose: Any = 0,
                steps: int | None = None, callbacks: Any = None) -> Any:
        """Outputs for ``x`` (arrays, or a DataLoader or generator whose labels are ignored; its
        first ``steps`` batches if given) in inference mode, as NumPy arrays, batch by batch.
        ``callbacks`` get ``on_predict_begin``, ``on_predict_batch_begin``/``_end`` (logs
        ``{"outputs": the batch's outputs}``, as Keras) and ``on_predict_end``."""
        from ..callbacks import CallbackList

        steps = da.steps_or_none(steps, "steps")
        x = self._ordered(x, step="predict_step")[0]
        if not da.is_batch_source(x):
            x = da.as_arrays(x)
            if isinstance(x, np.ndarray) and x.ndim == 0:
                raise ValueError(f"predict() got a scalar ({x!r}), but a model takes a batch of "
                                 "samples, batch axis first: e.g. np.array([[value]]) for one "
                                 "sample of one feature")
        data = da.as_loader(x, batch_size=da.batch_size_or_default(batch_size))
        verbose = _verbosity(verbose)
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                           epochs=1, steps=da.steps_of(data, steps))
        outs = []
        custom = self._overrides("predict_step")
        cbs.on_predict_begin()
        with no_grad():
            order = functools.partial(self._ordered, step="predict_step")
            for step, (xb, _, _) in enumerate(da.iterate(data, steps=steps, order=order,
                                                         text_inputs=self._text_inputs)):
                cbs.on_predict_batch_begin(step)
                try:
                    out = self.predict_step(da.pack_x_y_sample_weight(_tensors(xb))) \
                        if custom else self(xb, training=False)
                except ValueError as e:
                    hint = self._batch_axis_hint(x) if step == 0 else ""
                    if not hint:
                        raise
                    raise ValueError(f"{e}\n{hint}") from e
                outs.append(_numpy(out))
                cbs.on_predict_batch_end(step, {"outputs": outs[-1]})
        if not outs:
            raise ValueError("the data given to predict() has no samples: there is nothing to "
                             "predict")
        cbs.on_predict_end()
        if isinstance(outs[0], dict):
            return {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}
        if isinstance(outs[0], list):
            return [np.concatenate(parts) for parts in zip(*outs)]
        return np.concatenate(outs)

    def _batch_axis_hint(self, x: Any) -> str:
        """Why the model failed on ``x``, when ``x`` is one sample without the batch axis: its
        shape is the model's input shape less the batch axis ('' otherwise)."""
        try:
            inputs = self.inputs  # a functional model's or a built Sequential's
        except (AttributeError, ValueError):
            return ""
        if not isinstance(x, np.ndarray) or len(inputs) != 1:
            return ""
        expected = tuple(inputs[0].shape)
        if x.ndim != len(expected) - 1 or any(e is not None and e != n
                                              for e, n in zip(expected[1:], x.shape)):
            return ""
        return (f"predict() got one sample of shape {x.shape} without the batch axis; the model "
                f"takes {expected} (None: the batch): pass x[None] (np.expand_dims(x, 0))")

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      return_dict: bool = False) -> Any:
        """Loss (and metrics) on one batch in inference mode (``y`` None for a model whose
        loss needs no targets: ``add_loss``, a ``test_step`` of yours)."""
        x, y, sw = map(da.as_arrays, self._ordered(x, y, sample_weight, "test_step"))
        da.check_numeric(x, y, sw, self._text_inputs)
        self.reset_metrics()
        logs = self._step_function("test_step")(x, y, sw)
        return logs if return_dict else self._flat_logs(logs)

    def predict_on_batch(self, x: Any) -> Any:
        """Outputs for one batch, as NumPy arrays: your ``predict_step`` where you wrote one
        (Keras 3), else the model called in inference mode."""
        x = da.as_arrays(self._ordered(x, step="predict_step")[0])
        da.check_numeric(x, text_inputs=self._text_inputs)
        with no_grad():
            if self._overrides("predict_step"):
                return _numpy(self.predict_step(da.pack_x_y_sample_weight(_tensors(x))))
            return _numpy(self(x, training=False))


def _verbosity(verbose: Any) -> int:
    """0, 1 or 2; 'auto' is a progress bar (1) when stdout is a terminal, else one line per
    epoch (2), so logs and captured output get no bar (as the CLI's --verbose default)."""
    if verbose == "auto":
        return 1 if sys.stdout is not None and sys.stdout.isatty() else 2
    return int(verbose)


def _numpy(out: Any) -> Any:
    """A model's output (a Tensor or array, or a list, tuple or dict of them) as NumPy."""
    if isinstance(out, dict):
        return {k: _numpy(o) for k, o in out.items()}
    if isinstance(out, (list, tuple)):
        return [_numpy(o) for o in out]
    return out.numpy() if isinstance(out, Tensor) else np.asarray(out)


def _tensors(data: Any) -> Any:
    """A batch's arrays (an array, or a list or dict of them; None) as Tensors outside any
    graph, as a Keras ``train_step`` receives its backend's tensors."""
    if isinstance(data, dict):
        return {k: _tensors(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_tensors(v) for v in data]
    return data if data is None or isinstance(data, Tensor) else Tensor._wrap(data)


