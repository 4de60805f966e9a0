"""``Optimizer``: the loop over parameters that every update rule shares.

The base class owns everything but the math: the list of parameters (given up front, by
``build``, or met later in ``apply_gradients``), the lazily made per-parameter state, the
iteration count, the learning rate (a float or a schedule of the step), gradient clipping,
Keras 3's decoupled weight decay, and ``state_dict`` / ``load_state_dict``. A subclass writes
two methods::

    def init_state(self, p):                 # the state of one parameter, made on its 1st update
        return {"momentum": p.xp.zeros_like(p.data)}

    def update(self, p, g, state, lr):       # in place on p.data; g is a raw array
        ...

One step, for the parameters that have a gradient (Keras 3's order):

1. divide the gradients by ``loss_scale_factor`` (the loss was multiplied by it);
2. with ``gradient_accumulation_steps = k``: add them to the accumulators and stop there,
   except on every k-th call, which goes on with the mean of the k calls' gradients;
3. clip the gradients (``clipnorm``, ``global_clipnorm`` or ``clipvalue``);
4. decay the weights: ``p -= p * weight_decay * lr`` (decoupled, Loshchilov & Hutter);
5. ``update`` each parameter with ``lr = schedule(step)`` (or the float);
6. with ``use_ema``: move every weight's moving average towards it (and every
   ``ema_overwrite_frequency`` updates, copy the averages into the weights);
7. ``iterations += 1`` (the updates made; ``step``, what a schedule reads, counts every call).

All of it runs under ``no_grad()`` on ``p.data`` in place. Hyper-parameters enter the array
arithmetic as Python floats, which NumPy treats as "weak" scalars, so float32 weights and
state stay float32 (and float64 ones, for gradient checks, stay float64).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .. import backend
from ..autograd import Tensor, array_of, enable_grad, no_grad
from ..backend import on_device_of
from . import schedules
from .arguments import check_averaging, check_learning_rate, check_number, takes_step
from .averaging import Averaging

Array = Any  # a NumPy (or CuPy) array


# PyTorch's argument names, each with Keras's (which these optimizers take) in the message
_TORCH_NAMES = {
    "lr": "the rate is learning_rate= (Keras's name for PyTorch's lr)",
    "betas": "betas=(b1, b2) is beta_1=b1, beta_2=b2 (Keras's names)",
    "eps": "eps= is epsilon= (Keras's name; its default is 1e-7, PyTorch's 1e-8)",
    "momentum_decay": "Nadam's schedule is Keras's (no momentum_decay)",
    "dampening": "dampening is not supported (Keras's SGD has none)",
    "lr_decay": "lr_decay is a learning-rate schedule here (keras.optimizers.schedules)",
}


class Optimizer(Averaging):
    """Base class of the optimizers. Use a subclass: ``SGD``, ``Adam``, ``AdamW``, ``Adamax``,
    ``Nadam``, ``RMSprop``, ``Adagrad``, ``Adadelta``, ``Lion``, ``Lamb``, ``Adafactor``,
    ``Ftrl``, ``Muon`` (and ``LossScaleOptimizer`` around any of them).

    Args:
        learning_rate: a float, or a callable of the step number (a schedule from
            :mod:`shenjing.optimizers.schedules`), evaluated at ``iterations`` before each
            update; a callable that takes no argument is called with none (Keras 3).
        weight_decay: if set, every updated weight is first shrunk by
            ``p -= p * weight_decay * lr`` (decoupled from the gradient, as in Keras 3 and
            ``torch.optim.AdamW``; not the L2 term that ``torch.optim.SGD(weight_decay=)`` adds
            to the gradient).
        clipnorm: if set, each gradient is rescaled on its own so that its L2 norm is at most
            ``clipnorm`` (Keras's meaning; note that ``torch.nn.utils.clip_grad_norm_`` clips the
            global norm instead, which is ``global_clipnorm`` here).
        clipvalue: if set, each gradient element is clipped to ``[-clipvalue, clipvalue]``.
        global_clipnorm: if set, all gradients are rescaled together, by one factor, so that the
            norm of all of them concatenated is at most ``global_clipnorm``.
            At most one of ``clipnorm``, ``clipvalue`` and ``global_clipnorm`` may be set
            (Keras 3). A non-finite norm gives NaN gradients, as in Keras.
        use_ema: keep an exponential moving average of every weight:
            ``average = ema_momentum * average + (1 - ema_momentum) * weight`` after each step
            (the first step copies the weight). ``fit`` copies the averages into the weights
            when training ends (:meth:`finalize_variable_values`), as Keras 3 does.
        ema_momentum: the averages' momentum, in [0, 1] (Keras's default 0.99).
        ema_overwrite_frequency: if set, the weights are also overwritten by their averages
            every this many updates.
        loss_scale_factor: if set, ``fit`` multiplies the loss by it before back-propagation
            (:meth:`scale_loss`) and the gradients are divided by it before the update, so the
            update is the same; mixed-precision training uses it against underflow.
        gradient_accumulation_steps: if set (an int >= 2), the weights are updated only every
            this many steps, with the mean of those steps' gradients: a larger effective batch
            without its memory. ``iterations`` counts the updates (Adam's bias correction and
            the EMA read it); a learning-rate schedule reads every step, as in Keras 3.
        name: a name for the optimizer (kept in the config).
        params: the Tensors (usually ``Parameter``) to optimize, PyTorch style. They may also
            be given later by :meth:`build` or met in :meth:`apply_gradients`.

    PyTorch style::

        opt = Adam(learning_rate=1e-3, params=model.trainable_weights)
        opt.zero_grad(); loss.backward(); opt.step()

    Keras style::

        opt.apply_gradients(zip(grads, model.trainable_weights))
    """

    def __init__(
        self,
        learning_rate: float | Callable[[int], float],
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        *,
        params: Iterable[Tensor] | None = None,
        **unknown: Any,
    ) -> None:
        if isinstance(learning_rate, (list, tuple)) or hasattr(learning_rate, "__next__"):
            raise TypeError(f"{type(self).__name__}'s first argument is the learning rate (Keras's "
                            "order); pass the parameters as params=[...] (PyTorch's "
                            f"SGD(params, lr) is {type(self).__name__}(learning_rate, "
                            "params=params))")
        if unknown:
            hint = "".join(f"; {_TORCH_NAMES[k]}" for k in sorted(unknown) if k in _TORCH_NAMES)
            raise TypeError(f"{type(self).__name__} got unexpected argument(s) "
                            f"{', '.join(sorted(unknown))}{hint}")
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        given = [k for k, v in clips.items() if v is not None]
        if len(given) > 1:
            raise ValueError(
                "only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set, got "
                + ", ".join(f"{k}={clips[k]}" for k in given)
                + ". clipnorm clips each gradient by its own norm; global_clipnorm clips all "
                "gradients together by their joint norm."
            )
        for key in given:
            check_number(key, clips[key], positive=True)
        if weight_decay is not None:
            check_number("weight_decay", weight_decay)
        check_averaging(use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                         gradient_accumulation_steps)
        self.name = name or type(self).__name__.lower()
        # Python floats: weak scalars for NumPy (no promotion) and plain data for the config
        self.weight_decay = None if weight_decay is None else float(weight_decay)
        self.clipnorm = None if clipnorm is None else float(clipnorm)
        self.clipvalue = None if clipvalue is None else float(clipvalue)
        self.global_clipnorm = None if global_clipnorm is None else float(global_clipnorm)
        self.use_ema = bool(use_ema)
        self.ema_momentum = float(ema_momentum)
        self.ema_overwrite_frequency = ema_overwrite_frequency or None
        self.loss_scale_factor = None if loss_scale_factor is None else float(loss_scale_factor)
        self.gradient_accumulation_steps = gradient_accumulation_steps or None
        self.iterations = 0
        self._accumulated = 0  # steps whose gradients wait in the accumulators
        self._set_learning_rate(check_learning_rate(learning_rate))
        self._params: list[Tensor] = []
        self._index: dict[int, int] = {}  # id(param) -> position in self._params
        self._state: dict[int, dict[str, Array]] = {}  # position -> state, made lazily
        self._pending: dict[int, dict[str, Array]] = {}  # loaded for parameters not given yet
        self._no_decay_ids: set[int] = set()
        self._no_decay_pattern: re.Pattern[str] | None = None
        self._scratch: dict[tuple, Array] = {}  # reusable temporaries, by shape and dtype
        if params is not None:
            self.build(params)
            if not self._params:  # as torch's: nothing would ever train, silently
                raise ValueError(
                    f"{type(self).__name__} got an empty params list. A model's "
                    "trainable_weights are empty until it is built: give it an Input (or "
                    "input_shape), call it on a batch, or call model.build(input_shape) before "
                    "making the optimizer")

    # -- what a subclass writes ------------------------------------------------------------------
    def init_state(self, p: Tensor) -> dict[str, Array]:
        """The state of parameter ``p`` (arrays like ``p.data``), made before its first update."""
        return {}

    def update(self, p: Tensor, g: Array, state: dict[str, Array], lr: float) -> None:
        """Update ``p.data`` in place from its (clipped) gradient ``g`` and its ``state``."""
        raise NotImplementedError(f"{type(self).__name__} must implement update()")

    def _hyper_config(self) -> dict[str, Any]:
        """The subclass's own hyper-parameters, for ``get_config``."""
        return {}

    # -- parameters --------------------------------------------------------------------------
    @property
    def params(self) -> list[Tensor]:
        """The parameters this optimizer updates, in the order of their state indices."""
        return list(self._params)

    def build(self, params: Iterable[Tensor]) -> None:
        """Register ``params`` (Keras's ``optimizer.build(model.trainable_weights)``).

        Parameters already known keep their place; new ones are appended. State is still made
        lazily, at each parameter's first update. Calling ``build`` again is harmless.
        """
        if isinstance(params, Tensor):
            raise TypeError("params must be an iterable of Tensors (e.g. [w, b]), not one Tensor")
        for p in params:
            self._add_param(p)

    def _add_param(self, p: Any) -> int:
        i = self._index.get(id(p))
        if i is not None:  # (every step asks: the checks are for a parameter's first time)
            return i
        if not isinstance(p, Tensor):
            raise TypeError(f"an optimizer updates Tensors (Parameters); got {type(p).__name__}")
        if not p.is_leaf:  # its .grad stays None after backward: it would never change
            raise ValueError(f"can't optimize a non-leaf Tensor (one made by an op, shape "
                             f"{p.shape}): optimize the tensor it was computed from, or a "
                             f"detached copy (x.detach().requires_grad_())")
        self._index[id(p)] = len(self._params)
        self._params.append(p)
        return self._index[id(p)]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: ``p.grad = None`` (PyTorch's default), or with
        ``set_to_none=False`` fill it with zeros in place."""
        for p in self._params:
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.data[...] = 0

    def exclude_from_weight_decay(self, var_list: Iterable[Tensor] | None = None,
                                  var_names: Iterable[str] | None = None) -> None:
        """Exempt some weights from ``weight_decay`` (Keras 3): those in ``var_list``, and
        those whose ``name`` (or ``path``, ``layer_name/name``) one of the regular expressions
        ``var_names`` matches somewhere, Keras's ``re.search`` (``["bias"]``, ``["bias$"]``,
        ``["gamma|beta"]``, ``["dense_1"]``...)."""
        if isinstance(var_names, str):
            raise ValueError(f"var_names must be a list of regular expressions, got the string "
                             f"{var_names!r} (write [{var_names!r}])")
        self._no_decay_ids = {id(p) for p in var_list or ()}
        names = sorted(set(var_names or ()))
        try:
            self._no_decay_pattern = re.compile("|".join(names)) if names else None
        except re.error as e:
            raise ValueError(f"var_names {names} is not a regular expression: {e}") from None

    def _decays(self, p: Tensor) -> bool:
        if id(p) in self._no_decay_ids:
            return False
        pattern = self._no_decay_pattern
        return pattern is None or not any(
            isinstance(n, str) and pattern.search(n)
            for n in (getattr(p, "name", None), getattr(p, "path", None)))

    # -- learning rate -----------------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The learning rate the next update uses (a schedule is evaluated at ``iterations``).

        Settable with a float (e.g. by ``ReduceLROnPlateau``) or a new schedule; setting a float
        on an optimizer built with a schedule is a TypeError, as in Keras.
        """
        lr = self._learning_rate
        if not callable(lr):
            return lr
        return float(lr(self.steps) if self._lr_takes_step else lr())

    @property
    def steps(self) -> int:
        """The steps taken (calls of :meth:`step` or ``apply_gradients`` that had gradients):
        ``iterations``, unless gradients are accumulated over several steps per update."""
        k = self.gradient_accumulation_steps
        return self.iterations * k + self._accumulated if k else self.iterations

    @learning_rate.setter
    def learning_rate(self, value: float | Callable[[int], float]) -> None:
        value = check_learning_rate(value)
        if callable(self._learning_rate) and not callable(value):
            raise TypeError(
                f"this optimizer's learning rate is the schedule {self._learning_rate!r}, so it "
                "cannot be set to a number; create the optimizer with a float learning_rate "
                "to make it settable, or set a new schedule")
        self._set_learning_rate(value)

    def _set_learning_rate(self, value: float | Callable[..., float]) -> None:
        self._learning_rate = value
        # Keras 3 calls a callable that is not a schedule with no argument; one that can take
        # the step (a schedule, `lambda step: ...`) gets it
        self._lr_takes_step = callable(value) and takes_step(value)

    # -- updating ----------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient (``p.grad`` not None), PyTorch style.

        A step in which no parameter has a gradient changes nothing, not even ``iterations``.
        ``closure``, as torch's: called first with gradients recorded (it zeroes the
        gradients, computes the loss and calls backward), its loss returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        pairs = [(p.grad.data, p) for p in self._params if p.grad is not None]
        self._apply(pairs)
        return loss

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Tensor]]) -> int:
        """Keras style: apply ``(gradient, parameter)`` pairs; gradients may be arrays or
        Tensors, or None (skipped). Parameters not seen before are added (and get state).

        Returns:
            ``iterations`` after the update.
        """
        pairs = []
        for g, p in grads_and_vars:
            self._add_param(p)
            if g is not None:
                pairs.append((g.data if isinstance(g, Tensor) else g, p))
        self._apply(pairs)
        return self.iterations

    def apply(self, grads: Iterable[Any], trainable_variables: Iterable[Tensor] | None = None
              ) -> None:
        """Keras 3's ``apply(grads, trainable_variables)``: the gradients, one per parameter in
        the order of ``trainable_variables`` (default: the parameters given so far)."""
        grads = list(grads)
        params = self._params if trainable_variables is None else list(trainable_variables)
        if len(grads) != len(params):
            raise ValueError(f"got {len(grads)} gradients for {len(params)} parameters")
        self.apply_gradients(zip(grads, params, strict=True))

    def _apply(self, pairs: list[tuple[Any, Tensor]]) -> None:
        if not pairs:
            return
        params = [p for _, p in pairs]
        with no_grad():
            grads = [self._as_grad(g, p) for g, p in pairs]
            if self.loss_scale_factor is not None:
                grads = [g / self.loss_scale_factor for g in grads]
            updating = True
            if self.gradient_accumulation_steps:
                grads, updating = self._accumulate(params, grads)
            if updating:
                grads = self._clip(grads)
                lr = self.learning_rate
                for p, g in zip(params, grads, strict=True):
                    if self.weight_decay and self._decays(p):
                        p.data -= p.data * (self.weight_decay * lr)
                    self.update(p, g, self._state_of(p), lr)
                    constraint = getattr(p, "constraint", None)
                    if constraint is not None:  # a layer's weight constraint (Keras 3)
                        value = constraint(p)
                        p.data[...] = on_device_of(array_of(value), p.data)
                    p._version[0] += 1  # in place: a graph recorded before the step is stale
            if self.use_ema:
                self._average()
        if updating:
            self.iterations += 1
            self._accumulated = 0

    @staticmethod
    def _as_grad(g: Any, p: Tensor) -> Array:
        xp = p.xp
        g = xp.asarray(g)
        if g.shape != p.shape:
            raise ValueError(f"gradient of shape {g.shape} for parameter "
                             f"{getattr(p, 'name', None)!r} of shape {p.shape}")
        return g if g.dtype == p.dtype else g.astype(p.dtype)

    def scratch(self, like: Array) -> Array:
        """A temporary array shaped like ``like``, reused across steps: an update written with
        ``out=`` into it allocates nothing (a fresh megabyte-sized temporary per operation costs
        more than the arithmetic)."""
        device = getattr(getattr(like, "device", None), "id", None)  # a CuPy array's GPU
        key = (like.shape, like.dtype.str, type(like), device)
        buf = self._scratch.get(key)
        if buf is None:
            buf = self._scratch[key] = backend.get_xp(like).empty_like(like)
        return buf

    def _state_of(self, p: Tensor) -> dict[str, Array]:
        i = self._add_param(p)
        state = self._state.get(i)
        if state is None:
            # state loaded before the parameter was known is checked and adopted now
            loaded = self._pending.pop(i, None)
            state = self._new_state(p) if loaded is None else self._adopt_state(i, p, loaded)
            self._state[i] = state
        return state

    # -- clipping ----------------------------------------------------------------------------
    def _clip(self, grads: list[Array]) -> list[Array]:
        if self.clipnorm is not None:
            return [_scale(g, self.clipnorm, global_norm([g])) for g in grads]
        if self.global_clipnorm is not None:
            norm = global_norm(grads)
            return [_scale(g, self.global_clipnorm, norm) for g in grads]
        if self.clipvalue is not None:
            v = float(self.clipvalue)
            return [backend.get_xp(g).clip(g, -v, v) for g in grads]
        return grads

    # -- saving ------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as plain data (a schedule becomes a dict)."""
        return self._config(strict=True)

    def _config(self, strict: bool) -> dict[str, Any]:
        lr: Any = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif callable(lr):
            if strict:
                raise TypeError(
                    f"the learning rate {lr!r} cannot be saved: use a schedule from "
                    "shenjing.optimizers.schedules, or subclass LearningRateSchedule")
            lr = None
        return {"name": self.name, "learning_rate": lr, **self._hyper_config(),
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm,
                "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency,
                "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}

    @classmethod
    def from_config(cls, config: dict[str, Any],
                    custom_objects: dict[str, Any] | None = None) -> Optimizer:
        """The optimizer that ``get_config`` described (without state or parameters)."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"],
                                                            custom_objects)
        return cls(**config)

    def state_dict(self, params: list[Tensor] | None = None) -> dict[str, Any]:
        """Everything needed to resume training, as plain data: ``class_name``,
        ``iterations``, ``state`` (parameter index -> {name: NumPy array}, copies) and
        ``config``. Parameter indices follow :attr:`params`, or the list ``params`` where
        given (a model's trainable weights now: a layer frozen since is left out, and no other
        parameter takes its place)."""
        per = {**self._pending, **self._state}
        if params is not None:
            where = self._positions()
            per = {k: per[where[id(p)]] for k, p in enumerate(params) if where.get(id(p)) in per}
        return {
            "class_name": type(self).__name__,
            "iterations": self.iterations,
            "accumulated_steps": self._accumulated,
            "state": {i: {k: backend.asnumpy(a).copy() for k, a in s.items()}
                      for i, s in sorted(per.items())},
            "config": self._config(strict=False),
        }

    def load_state_dict(self, state_dict: dict[str, Any],
                        params: list[Tensor] | None = None) -> None:
        """Restore ``state_dict()``'s output: iterations, per-parameter state and learning
        rate (which callbacks may have changed). Other hyper-parameters come from this
        optimizer's constructor. Parameters must be given in the same order as when it was
        saved, or saved and loaded with the same ``params`` (this optimizer is built with
        them); state for parameters not known yet is kept until they are (lazy build)."""
        if state_dict.get("class_name") != type(self).__name__:
            raise ValueError(f"cannot load the state of a {state_dict.get('class_name')} into "
                             f"a {type(self).__name__}")
        saved = state_dict["state"]
        if params is not None:  # entry k is params[k]'s, wherever it stands here
            self.build(params)
            where = self._positions()
            saved = {where[id(params[int(k)])] if int(k) < len(params) else int(k): s
                     for k, s in saved.items()}
        state, pending = {}, {}
        for key, s in saved.items():
            i = int(key)  # JSON turns the int keys into strings
            s = {k: np.array(backend.asnumpy(a)) for k, a in s.items()}
            if i < len(self._params):
                state[i] = self._adopt_state(i, self._params[i], s)
            else:
                pending[i] = s
        lr = state_dict.get("config", {}).get("learning_rate")
        if isinstance(lr, dict):  # a schedule of the optimizer's own class is known by it
            own = type(self._learning_rate)
            self._set_learning_rate(schedules.deserialize(lr, {own.__name__: own} if isinstance(
                self._learning_rate, schedules.LearningRateSchedule) else None))
        elif lr is not None:
            self._set_learning_rate(check_learning_rate(lr))
        self.iterations = int(state_dict["iterations"])
        self._accumulated = int(state_dict.get("accumulated_steps", 0))
        self._state, self._pending = state, pending

    def _positions(self) -> dict[int, int]:
        """id of each parameter -> its index in :attr:`params`."""
        return {id(p): i for i, p in enumerate(self._params)}

    def _adopt_state(self, i: int, p: Tensor, state: dict[str, Array]) -> dict[str, Array]:
        expected = self._new_state(p)
        if set(expected) != set(state):
            raise ValueError(f"saved state of parameter {i} has {sorted(state)}, "
                             f"{type(self).__name__} expects {sorted(expected)}")
        for k, a in state.items():
            if a.shape != expected[k].shape:
                raise ValueError(f"saved {k!r} of parameter {i} has shape {a.shape}, the "
                                 f"parameter {getattr(p, 'name', None)!r} has {p.shape}")
            expected[k][...] = p.xp.asarray(a)  # into a fresh array of the right device/dtype
        return expected

    def __repr__(self) -> str:
        return f"{type(self).__name__}(learning_rate={self._learning_rate!r}, " \
               f"params={len(self._params)}, iterations={self.iterations})"


# -- helpers ---------------------------------------------------------------------------------
def global_norm(arrays: list[Array]) -> float:
    """The L2 norm of all ``arrays`` together, as a Python float (each array's sum of squares
    is one BLAS dot product in its own dtype; the sum over arrays is in float64). A float32 sum
    of squares overflows for finite gradients above ~1.8e19 (exactly the exploding ones that
    clipping is for): such an array is summed again in float64, so only a gradient that holds
    inf or NaN gives an infinite norm."""
    if not arrays:
        return 0.0
    flats = [a.reshape(-1) for a in arrays]
    with np.errstate(over="ignore"):  # an overflow is caught and redone just below
        squares = [f.dot(f) for f in flats]  # (added on the device, one conversion)
        total = float(sum(s.astype(np.float64) for s in squares))
    if math.isfinite(total):
        return math.sqrt(total)
    total = 0.0  # an array's square sum overflowed, or one holds inf / NaN: array by array
    for f, sq in zip(flats, squares):
        xp = backend.get_xp(f)
        if not math.isfinite(float(sq)) and bool(xp.isfinite(f).all()):
            wide = f.astype(xp.float64)
            sq = wide @ wide
        total += float(sq)
    return math.sqrt(total)


def _scale(g: Array, clip: float, norm: float) -> Array:
    """``g * clip / max(norm, clip)``: unchanged when ``norm <= clip``; NaN if norm is not
    finite (as Keras: a broken gradient must not pass as a small one)."""
    if not math.isfinite(norm):
        return g * math.nan
    return g if norm <= clip else g * (float(clip) / norm)
