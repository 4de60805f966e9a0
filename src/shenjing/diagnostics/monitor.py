"""GradientMonitor: watch each layer's gradients and activations while ``fit`` trains.

The article's training problems show up in numbers before they show up in the loss: vanishing
gradients as a first-layer gradient norm orders of magnitude below the last's, exploding ones as
norms above 1e3 (or inf), saturated sigmoid/tanh units as outputs pinned at their asymptotes
(where the derivative, and so every gradient through them, is ~0), dead ReLU units as outputs
that are zero for every sample. The monitor measures all four per layer, per epoch, and warns
(``GradientWarning``) naming the layer and the article's remedies.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .. import functional as F
from ..callbacks import Callback, Logs
from ..layers.layer import Layer
from ..models.model import Model
from ..optimizers.optimizer import global_norm

METRICS = ("grad_norm", "grad_ratio", "saturated", "dead")

_VANISHING_FIX = ("ReLU (or LeakyReLU) activations with He initialization, "
                  "BatchNormalization, residual connections, or LSTM/GRU in place of a "
                  "SimpleRNN")
_DEAD_FIX = ("a lower learning rate, LeakyReLU (activation='leaky_relu'), He initialization "
             "or gradient clipping (global_clipnorm=1.0)")
_EXPLODING_FIX = ("gradient clipping (the optimizer's global_clipnorm=1.0), a lower learning "
                  "rate, smaller initial weights (Glorot/He), or BatchNormalization")


class GradientWarning(RuntimeWarning):
    """A layer's gradients vanished, exploded or turned non-finite."""


def _leaf_layers(model: Layer) -> list[Layer]:
    """The layers a user sees: a model's layers, nested models opened up, input side first."""
    out: list[Layer] = []
    for layer in model.layers:
        out.extend(_leaf_layers(layer) if isinstance(layer, Model) else [layer])
    return out


def _activation(layer: Layer) -> str | None:
    """'sigmoid', 'tanh' or 'relu' when the layer's output is that function's output."""
    fn = getattr(layer, "activation", None)
    for name, f in (("sigmoid", F.sigmoid), ("tanh", F.tanh), ("relu", F.relu)):
        if fn is f:
            return name
    return None


def _saturated(y: np.ndarray, kind: str, threshold: float) -> float:
    """Fraction of outputs where the activation's derivative is below ``threshold`` times its
    peak (sigmoid: y (1 - y) < 0.25 t; tanh: 1 - y^2 < t): gradients through them shrink by
    at least 1 / t."""
    if kind == "sigmoid":
        d = y * (1 - y) < 0.25 * threshold
    else:
        d = 1 - y * y < threshold
    return float(np.count_nonzero(d)) / max(d.size, 1)


class GradientMonitor(Callback):
    """Records, per epoch, each layer's gradient norm, gradient-to-weight norm ratio, fraction
    of saturated sigmoid/tanh outputs and fraction of dead ReLU units, and warns when gradients
    vanish or explode.

    The values land in the ``History`` that ``fit`` returns (and in ``self.history``) under
    ``"grad_norm/<layer>"``, ``"grad_ratio/<layer>"``, ``"saturated/<layer>"`` and
    ``"dead/<layer>"``, one entry per epoch, layers input side first: ``shenjing.plot.
    gradient_flow(history)`` draws them. Norms are means over the epoch's monitored batches;
    a ReLU unit (a feature, or a channel of a conv) is dead when it was zero for every sample
    of every monitored batch of the epoch. Activations are read through forward hooks, after
    the activation, also where a layer fuses it (``Dense(..., activation='relu')``).

    Args:
        every: monitor one training batch in ``every`` (the first of each epoch always).
        vanishing: warn when a layer's epoch gradient norm falls below this.
        exploding: warn when it rises above this; a non-finite gradient warns at once.
        saturation: an output is saturated where the derivative is below this fraction of
            its peak (0.01: sigmoid outside (0.0025, 0.9975), tanh beyond +-0.995).

    Attributes:
        history: the recorded values, as in the History.
        messages: every warning issued, in order.
    """

    def __init__(self, every: int = 1, vanishing: float = 1e-7, exploding: float = 1e3,
                 saturation: float = 0.01) -> None:
        super().__init__()
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"GradientMonitor: every must be a positive integer, got {every!r}")
        for name, v in (("vanishing", vanishing), ("exploding", exploding),
                        ("saturation", saturation)):
            if not v > 0:
                raise ValueError(f"GradientMonitor: {name} must be > 0, got {v!r}")
        self.every, self.vanishing, self.exploding = every, vanishing, exploding
        self.saturation = saturation
        self.history: dict[str, list[float]] = {}
        self.messages: list[str] = []
        self._removers: list[Any] = []
        self._watching = False

    # -- set-up ---------------------------------------------------------------------------
    def on_train_begin(self, logs: Logs | None = None) -> None:
        layers = _leaf_layers(self.model)
        self._weighted = [layer for layer in layers if layer.trainable_weights]
        self._warned: set[tuple[str, str]] = set()
        for layer in layers:
            kind = _activation(layer)
            if kind is not None:
                self._removers.append(layer.register_forward_hook(self._hook(kind)))

    def on_train_end(self, logs: Logs | None = None) -> None:
        for remove in self._removers:
            remove()
        self._removers = []

    def _hook(self, kind: str):
        def record(layer: Layer, inputs: Any, outputs: Any) -> None:
            if not self._watching:
                return
            y = getattr(outputs, "data", outputs)
            if kind == "relu":  # per unit: was it ever active this epoch?
                active = (y > 0).reshape(-1, y.shape[-1]).any(axis=0)
                seen = self._active.get(layer.name)
                self._active[layer.name] = active if seen is None else seen | active
            else:
                self._saturated.setdefault(layer.name, []).append(
                    _saturated(y, kind, self.saturation))
        return record

    # -- per batch ------------------------------------------------------------------------
    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch
        self._norms: dict[str, list[float]] = {}
        self._ratios: dict[str, list[float]] = {}
        self._active: dict[str, Any] = {}
        self._saturated: dict[str, list[float]] = {}

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self._watching = batch % self.every == 0

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if not self._watching:
            return
        self._watching = False
        if not math.isfinite((logs or {}).get("loss", 0.0)):
            return  # fit stopped before backward: the gradients are the previous batch's
        for layer in self._weighted:
            grads = [p.grad.data for p in layer.trainable_weights if p.grad is not None]
            if not grads:  # this batch did not reach the layer
                continue
            g = global_norm(grads)
            w = global_norm([p.data for p in layer.trainable_weights])
            self._norms.setdefault(layer.name, []).append(g)
            self._ratios.setdefault(layer.name, []).append(g / w if w > 0 else math.inf)
            if not math.isfinite(g):
                self._warn(layer.name, "non-finite",
                           f"layer '{layer.name}' has a non-finite gradient ({g}) at epoch "
                           f"{self._epoch + 1}, batch {batch + 1}: gradients exploded. Try "
                           f"{_EXPLODING_FIX}.")

    # -- per epoch ------------------------------------------------------------------------
    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        values: dict[str, float] = {}
        for name, active in self._active.items():
            values[f"dead/{name}"] = 1.0 - float(np.mean(active))
        for name, fractions in self._saturated.items():
            values[f"saturated/{name}"] = float(np.mean(fractions))
        for name, norms in self._norms.items():
            values[f"grad_norm/{name}"] = g = float(np.mean(norms))
            values[f"grad_ratio/{name}"] = float(np.mean(self._ratios[name]))
            dead = values.get(f"dead/{name}", 0.0)
            if g < self.vanishing and dead >= 0.5:
                self._warn(name, "vanishing",
                           f"layer '{name}' gradient norm {g:.3g} is below {self.vanishing:g} "
                           f"at epoch {epoch + 1}: {dead:.0%} of its ReLU units are dead (zero "
                           f"for every sample), and no gradient passes a dead unit. Try "
                           f"{_DEAD_FIX}.")
            elif g < self.vanishing:
                self._warn(name, "vanishing",
                           f"layer '{name}' gradient norm {g:.3g} is below {self.vanishing:g} "
                           f"at epoch {epoch + 1}: gradients vanish before they reach it, so "
                           f"it barely learns. Try {_VANISHING_FIX}.")
            elif g > self.exploding:
                self._warn(name, "exploding",
                           f"layer '{name}' gradient norm {g:.3g} is above {self.exploding:g} "
                           f"at epoch {epoch + 1}: gradients explode. Try {_EXPLODING_FIX}.")
        history = getattr(self.model, "history", None)
        for key, v in values.items():
            self.history.setdefault(key, []).append(v)
            if history is not None:
                history.history.setdefault(key, []).append(v)

    def _warn(self, layer: str, kind: str, message: str) -> None:
        if (layer, kind) in self._warned:  # once per layer and kind per fit
            return
        self._warned.add((layer, kind))
        self.messages.append(message)
        warnings.warn(f"GradientMonitor: {message}", GradientWarning, stacklevel=2)
