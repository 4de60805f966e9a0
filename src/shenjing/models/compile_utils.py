"""The per-output loss and metric bookkeeping of a compiled model (Keras 3's
``compile_utils``): losses and metrics given per output (a list in output order or a dict keyed by
output name), the total loss with its regularization penalties, metric objects resolved at the
first batch, and the logs they make.

Also Keras 3's public pieces that a ``train_step`` written for Keras calls: ``compute_loss``,
``compute_metrics``, ``metrics`` (the "loss" tracker, the compiled metrics as one
"compile_metrics" entry, then the metrics set as attributes), ``get_metrics_result``,
``reset_metrics``, and Keras 2's ``compiled_loss`` and ``compiled_metrics.update_state``.

A base of ``Trainer``, whose ``compile`` sets its state; it reads the model's ``output_names``,
``_output_list``, ``_output_layers()``, ``_layer_tree()`` and ``losses``, and the optimizer.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import Tensor


class CompiledLossesAndMetrics:
    """Losses and metrics per output, as ``compile`` set them up."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loss: Any = None
        self.loss_weights: list[float] | None = None
        self._loss_tracker: Any = None  # Mean("loss") once compiled
        self.compiled_metrics = CompileMetrics(self)
        self._plain_metrics: list[Any] = []
        self._weighted_metrics: list[Any] = []
        self._metric_ids: Any = []
        self._weighted_metric_ids: Any = []
        self._loss_trackers: list[Any] = []
        self._metric_outputs: list[int] = []
        self._weighted_metric_outputs: list[int] = []
        self._metrics_resolved = False
        self._held_metrics: list[Any] | None = None  # the walk's result, until the next reset

    # -- per output --------------------------------------------------------------------------
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

    def _metrics_by_output(self, metrics: Any, what: str) -> dict[str, list[Any]]:
        """``{output_name: [metric, ...]}`` as Keras 3 reads ``metrics`` for several outputs:
        a dict by output name, or a list with one entry per output, in output order, each a
        metric, a list of them or None (a list of another length is an error)."""
        names = self.output_names
        if metrics is None or isinstance(metrics, dict):
            ids = self._per_output(metrics or {}, what, optional=True)
        elif len(names) == 1:  # a list of one output: all of them are its (Keras 3)
            ids = [metrics]
        elif isinstance(metrics, (list, tuple)) and len(metrics) == len(names):
            ids = list(metrics)
        else:
            got = f"a list of {len(metrics)}" if isinstance(metrics, (list, tuple)) \
                else type(metrics).__name__
            raise ValueError(
                f"{what}: for a model with {len(names)} outputs {names}, give a list with one "
                "entry per output, in output order (a metric, a list of metrics or None), or a "
                f"dict keyed by output name (Keras 3); got {got}, e.g. {what}=[['accuracy'], "
                "None] for the first output only")
        return {name: list(m) if isinstance(m, (list, tuple)) else [] if m is None else [m]
                for name, m in zip(names, ids)}

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

    # -- loss --------------------------------------------------------------------------------
    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None,
                     sample_weight: Any = None, training: bool = True) -> Tensor:
        """The compiled loss (for a list of outputs, the weighted sum of theirs) plus the
        model's added losses and regularization penalties (Keras 3's signature; ``x`` and
        ``training`` are for overrides, unused here)."""
        if y_pred is None and x is not None and y is not None:
            x, y, y_pred = None, x, y  # shenjing's former order, compute_loss(y, y_pred)
        if y_pred is None:
            raise TypeError("compute_loss() needs y_pred: its signature is Keras 3's "
                            "compute_loss(x=None, y=None, y_pred=None, sample_weight=None), so "
                            "pass y= and y_pred= by keyword")
        return self._total_loss(self._output_losses(*self._by_output(y, y_pred, sample_weight)))

    def compiled_loss(self, y: Any, y_pred: Any, sample_weight: Any = None,
                      regularization_losses: Any = None) -> Tensor:
        """Keras 2's ``self.compiled_loss(y, y_pred)`` in a ``train_step``: ``compute_loss``
        (which adds the penalties itself, so ``regularization_losses`` is ignored), also
        tracked by the "loss" metric, each batch weighted by its size, as Keras 2 did."""
        loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
        self._loss_tracker.update_state(float(loss.data), sample_weight=len(loss_rows(y_pred)))
        return loss

    def _by_output(self, y: Any, y_pred: Any, sample_weight: Any) -> tuple[list, list, list]:
        """Targets, predictions and sample weights as lists in output order (one item each for
        a single output); one sample_weight array serves every output."""
        if not self._output_list:
            if isinstance(y_pred, list):
                raise ValueError(f"the model returned {len(y_pred)} outputs: training several "
                                 "outputs needs a functional Model(inputs, [outputs...]), whose "
                                 "outputs are named by their layers (predict works)")
            if isinstance(y, (list, tuple)) and len(y) == 1 and hasattr(y[0], "shape"):
                y = y[0]  # [y]: the one output's target in a list (Keras packs it)
            return [y], [y_pred], [sample_weight]
        if isinstance(y_pred, dict):
            y_pred = [y_pred[name] for name in self.output_names]
        sws = sample_weight if isinstance(sample_weight, (list, tuple, dict)) \
            else [sample_weight] * len(y_pred)
        return self._targets(y), y_pred, self._per_output(sws, "sample_weight")

    def _targets(self, y: Any) -> list[Any]:
        """Targets in output order. As in Keras 3, a model of one output (given as a list)
        takes its target as it is, and outputs without a loss may go without one: a dict may
        leave them out, and a list (or the one array, when one output has a loss) may hold
        only the targets of the outputs with a loss, in output order."""
        with_loss = [i for i, fn in enumerate(self._losses_by_output()) if fn is not None]
        n = len(self.output_names)
        if n == 1 and not isinstance(y, (list, tuple, dict)):
            return [y]
        if isinstance(y, dict):
            ys = self._per_output(y, "y", optional=True)
            absent = [self.output_names[i] for i in with_loss if ys[i] is None]
            if absent:
                raise ValueError(f"y has no entry for output(s) {absent}, which have a loss; "
                                 f"the model's outputs are {self.output_names}")
            return ys
        if len(with_loss) < n:
            short = list(y) if isinstance(y, (list, tuple)) and len(y) == len(with_loss) \
                else [y] if len(with_loss) == 1 and not isinstance(y, (list, tuple)) else None
            if short is not None:
                ys: list[Any] = [None] * n
                for i, target in zip(with_loss, short):
                    ys[i] = target
                return ys
        return self._per_output(y, "y")

    def _output_losses(self, ys: list, preds: list, sws: list) -> list[tuple[Tensor, float]]:
        """(loss, loss weight) of each output with a loss, in output order (the weight 1.0
        without loss_weights); none when the model was compiled without a loss and its
        layers add their own (``add_loss``)."""
        parts = []
        for i, (fn, y, p, sw) in enumerate(zip(self._losses_by_output(), ys, preds, sws)):
            if fn is not None:  # an output without a loss is for prediction only
                parts.append((fn(y, p, sample_weight=sw),
                              1.0 if self.loss_weights is None else self.loss_weights[i]))
        if not parts and not any(layer._added_losses for layer in self._layer_tree()):
            raise RuntimeError("the model has no loss: call compile(loss=...) before "
                               "fit/evaluate, or add one in a layer's call with add_loss()")
        return parts

    def _total_loss(self, parts: list[tuple[Tensor, float]]) -> Tensor:
        terms = [part if weight == 1.0 else weight * part for part, weight in parts]
        terms += self.losses
        loss = terms[0]
        for term in terms[1:]:
            loss = loss + term
        return loss

    # -- metrics -----------------------------------------------------------------------------
    def _update_metrics(self, data: tuple[list, list, list],
                        parts: list[tuple[Tensor, float]], batch_size: int) -> None:
        """Update the per-output losses (unweighted, as Keras 3 records them; each batch
        weighted by its size, as the loops weight the total) and the compiled metrics."""
        for tracker, (part, _) in zip(self._loss_trackers, parts):
            tracker.update_state(float(part.data), sample_weight=batch_size)
        self._update_compiled_metrics(data)

    def _update_compiled_metrics(self, data: tuple[list, list, list]) -> None:
        """Update the compiled metrics, each on its output (resolved at the first batch). A
        padding mask that an output carries weights its padded steps 0 in every metric
        (Keras 3)."""
        from ..losses import masked_weights  # the losses load with the first compile

        ys, preds, sws = data
        if not self._metrics_resolved:
            self._resolve_metrics(preds)
        for i in {*self._metric_outputs, *self._weighted_metric_outputs}:
            if ys[i] is None:
                raise ValueError(f"output '{self.output_names[i]}' has metrics but no target: "
                                 "give y an entry for it")
        for i, m in zip(self._metric_outputs, self._plain_metrics):
            m.update_state(ys[i], _values(preds[i]), sample_weight=masked_weights(None, preds[i]))
        for i, m in zip(self._weighted_metric_outputs, self._weighted_metrics):
            m.update_state(ys[i], _values(preds[i]),
                           sample_weight=masked_weights(sws[i], preds[i]))

    def _resolve_metrics(self, preds: list[Tensor]) -> None:
        """Metric objects for the compiled ids, output by output; for a list of outputs they
        are named ``<output>_<metric>``."""
        self._plain_metrics, self._weighted_metrics = [], []
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
            self._plain_metrics += plain
            self._weighted_metrics += weighted
            self._metric_outputs += [i] * len(plain)
            self._weighted_metric_outputs += [i] * len(weighted)
        taken: set[str] = set()
        for m in self._plain_metrics + self._weighted_metrics:  # a name given twice: as
            name, k = m.name, 0  # Keras, mae, mae_1, mae_2 (it logged one 'mae')
            while m.name in taken:
                k += 1
                m.name = f"{name}_{k}"
            taken.add(m.name)
        self._metrics_resolved = True

    def _output_metrics(self, ids: Any, i: int, loss: Any, output_shape: tuple) -> list[Any]:
        """Output ``i``'s Metric objects from compiled ids (a list, or a dict by output name);
        for a list of outputs copies, so that no two outputs share a metric's state."""
        from .. import metrics

        ids = ids[self.output_names[i]] if isinstance(ids, dict) else ids
        return [metrics.get(copy.deepcopy(m) if self._output_list else m, loss=loss,
                            output_shape=output_shape) for m in ids]

    @property
    def metrics(self) -> list[Any]:
        """Keras 3's ``model.metrics``: once compiled the "loss" tracker, the per-output loss
        trackers and the compiled metrics (one entry, "compile_metrics", whose ``result`` is a
        dict), then the ``Metric`` objects set as the model's attributes, in assignment order.
        ``fit`` resets them at each epoch and ``evaluate`` at its start; a ``train_step`` that
        tracks its own metrics may override this to list them. Metrics that layers below the
        model hold as attributes come with them (Keras 3), not those of a nested model."""
        from ..metrics import Metric  # loaded with the first compile, not with the package

        own = [] if self._loss_tracker is None \
            else [self._loss_tracker, *self._loss_trackers, self.compiled_metrics]
        if self._held_metrics is None:  # walked once per epoch (reset_metrics), not per batch
            self._held_metrics = [v for layer in self._metric_holders()
                                  for v in vars(layer).values()
                                  if isinstance(v, Metric) and v is not self._loss_tracker]
        return own + self._held_metrics

    def _flat_logs(self, logs: dict[str, Any]) -> Any:
        """``evaluate``'s list (or its one value): the logs in :meth:`_in_log_order`."""
        values = [logs[k] for k in self._in_log_order(logs)]
        return values[0] if len(values) == 1 else values

    def _in_log_order(self, keys: Any) -> list[str]:
        """``keys`` in Keras 3's order for ``evaluate``'s list: those ``metrics`` names, in its
        order ("loss", the compiled metrics by their own names, the per-output losses, the
        attribute metrics), then the others sorted. For several outputs the compiled metrics
        are logged as ``<output>_<metric>``, which their own names never match in Keras, so
        they come sorted (``o2_AUC`` before ``o2_accuracy``); one output keeps their order."""
        known = []
        for m in self.metrics:
            if m is self.compiled_metrics:
                known += [] if len(self.output_names) > 1 else [c.name for c in m]
            else:
                known.append(m.name)
        keys = set(keys)
        return [n for n in known if n in keys] + sorted(keys.difference(known))

    def _metric_holders(self) -> list[Any]:
        """The model and the layers below it whose Metric attributes are the model's (Keras 3:
        a sublayer's metrics are reset, updated and logged with the model's; a nested model
        keeps its own and its layers')."""
        holders, seen, stack = [], set(), [self]
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            holders.append(layer)
            stack.extend(child for child in reversed(list(layer._sublayers()))
                         if not isinstance(child, CompiledLossesAndMetrics))
        return holders

    @property
    def metrics_names(self) -> list[str]:
        """The names of the values ``evaluate`` returns, in their order (Keras 3's: see
        ``_in_log_order``): "loss", then the per-output losses and the metrics (the compiled
        ones known from the first batch on; [] before compile)."""
        if self.optimizer is None:
            return []
        return self._in_log_order(n for m in self.metrics for n in (
            [c.name for c in m] if m is self.compiled_metrics else [m.name]))

    def reset_metrics(self) -> None:
        """Reset every metric in ``metrics`` (Keras), looking again for the layers' own."""
        self._held_metrics = None
        for m in self.metrics:
            m.reset_state()

    def get_metrics_result(self) -> dict[str, Any]:
        """The results of ``metrics`` as logs: name to Python number, the compiled metrics'
        dict merged in (Keras 3)."""
        logs: dict[str, Any] = {}
        for m in self.metrics:
            result = m.result()
            if isinstance(result, dict):
                logs.update(result)
            else:
                logs[m.name] = result
        return python_logs(logs)

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None
                        ) -> dict[str, Any]:
        """Update the compiled metrics on a batch and return ``get_metrics_result()`` (Keras
        3's; ``x`` is for overrides). The "loss" tracker is the caller's to update."""
        self.compiled_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()


class CompileMetrics:
    """The compiled metrics as the one metric "compile_metrics" that Keras 3's ``metrics``
    lists: ``update_state(y, y_pred, sample_weight)`` updates each metric on its output (the
    weighted ones only are weighted), ``result()`` is a dict of their results, and iterating
    gives the metric objects. Also Keras 2's ``self.compiled_metrics``."""

    name = "compile_metrics"

    def __init__(self, model: CompiledLossesAndMetrics) -> None:
        self._model = model

    def __iter__(self) -> Any:
        return iter(self._model._plain_metrics + self._model._weighted_metrics)

    def update_state(self, y: Any, y_pred: Any, sample_weight: Any = None) -> None:
        model = self._model
        model._update_compiled_metrics(model._by_output(y, y_pred, sample_weight))

    def result(self) -> dict[str, Any]:
        return {m.name: m.result() for m in self}

    def reset_state(self) -> None:
        for m in self:
            m.reset_state()

    def __repr__(self) -> str:
        return f"CompileMetrics({[m.name for m in self]})"


def python_logs(logs: dict[str, Any]) -> dict[str, Any]:
    """Logs as callbacks get them: every value a Python number (or list), nested dicts (a
    ``compile_metrics`` result a ``train_step`` returned) merged in, as Keras 3 does."""
    out: dict[str, Any] = {}
    for key, value in logs.items():
        if isinstance(value, dict):
            out.update(python_logs(value))
        else:
            out[key] = _log_value(value)
    return out


def loss_rows(y_pred: Any) -> Any:
    """The first output of ``y_pred`` (a list or dict of outputs, or one): its rows are the
    batch's samples."""
    if isinstance(y_pred, dict):
        return next(iter(y_pred.values()))
    return y_pred[0] if isinstance(y_pred, (list, tuple)) else y_pred


def _values(pred: Any) -> Any:
    """A prediction as the metrics take it: a Tensor's array (outside the graph)."""
    return pred.data if isinstance(pred, Tensor) else pred


def _log_value(value: Any) -> Any:
    """A metric's result as logs hold it: a Python number (a list for several values), also
    when a Keras-style metric returns its variable or a Tensor."""
    if isinstance(value, (Tensor, np.ndarray, np.generic)):
        array = np.asarray(value.numpy() if isinstance(value, Tensor) else value)
        return array.item() if array.size == 1 else array.tolist()
    return value
