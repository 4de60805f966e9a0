"""TensorFlow's ``GradientTape``, ``Variable`` and ``constant``, for Keras code written for the
TensorFlow backend (``import tensorflow as tf`` ported as ``import shenjing as tf``)::

    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_weights)
    optimizer.apply_gradients(zip(grads, model.trainable_weights))

shenjing records every op on tensors that require grad whatever the tape, so the tape is a thin
layer over :func:`shenjing.autograd.grad`: it turns recording on inside its block, watches
constants on request, and gives TensorFlow's answers (the gradient of a non-scalar target is
that of its sum; None, or zeros, for a source the target does not depend on; the same nesting
as ``sources``). A gradient taken while another tape records is itself recorded
(``create_graph``), so nested tapes give second derivatives, as in TensorFlow.
"""

from __future__ import annotations

import threading
from typing import Any

from ._nest import flatten, pack
from .autograd import Tensor, grad, set_grad_enabled
from .backend import DEFAULT_FLOAT
from .layers.parameter import Parameter

_local = threading.local()


def _recording() -> list[GradientTape]:
    """The tapes whose ``with`` block the current thread is in, innermost last."""
    if not hasattr(_local, "tapes"):
        _local.tapes = []
    return _local.tapes


def _watched_by_a_recording_tape(t: Tensor) -> bool:
    return any(t is w for tape in _recording() for w in tape._watched)


class GradientTape:
    """Records the operations run inside its ``with`` block, to differentiate them after.

    Args:
        persistent: allow several :meth:`gradient` calls (else one, as TensorFlow).
        watch_accessed_variables: accepted for TensorFlow's signature; trainable variables
            (tensors that require grad) are always watched here.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self._used = False
        self._mode: Any = None
        self._watched: list[Tensor] = []  # constants watched while no tape watched them

    def __enter__(self) -> GradientTape:
        self._mode = set_grad_enabled(True)
        self._mode.__enter__()
        _recording().append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _recording().remove(self)
        self._mode.__exit__(*exc)
        for t in self._watched:  # watched for this tape's block only, as in TensorFlow,
            if not _watched_by_a_recording_tape(t):  # unless an enclosing tape watches it too
                t.requires_grad_(False)

    def watch(self, tensor: Any) -> None:
        """Differentiate by ``tensor`` (or each tensor of a nested structure) too: a constant
        must be watched before the ops that use it run, as in TensorFlow."""
        for t in flatten(tensor):
            if not isinstance(t, Tensor):
                raise TypeError(f"GradientTape.watch takes tensors, got {type(t).__name__}")
            if not t.requires_grad:
                if t.dtype.kind not in "fc":
                    raise ValueError(f"GradientTape.watch: a tensor of dtype {t.dtype} has no "
                                     "gradient; watch floating tensors")
                t.requires_grad_()
                self._watched.append(t)
            elif _watched_by_a_recording_tape(t):  # a constant another tape switched on
                self._watched.append(t)

    def stop_recording(self) -> Any:
        """A block in which nothing is recorded (``with tape.stop_recording():``)."""
        return set_grad_enabled(False)

    def reset(self) -> None:
        """Let a non-persistent tape compute gradients again. Unlike TensorFlow's, it does not
        erase what was recorded (shenjing records on the tensors, not on the tape): the
        gradient of a target computed before the reset still flows to its sources."""
        self._used = False

    def gradient(self, target: Any, sources: Any, output_gradients: Any = None,
                 unconnected_gradients: str = "none") -> Any:
        """d target / d sources, nested as ``sources``; a list of targets counts as their
        sum, and a non-scalar target as the sum of its elements (unless ``output_gradients``
        weights them).

        Args:
            unconnected_gradients: for a source the target does not depend on, "none" (None)
                or "zero" (zeros of its shape).
        """
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(f"unconnected_gradients must be 'none' or 'zero', got "
                             f"{unconnected_gradients!r}")
        if self._used and not self.persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one "
                               "set of gradients; create it with persistent=True for more")
        self._used = True
        targets = [t for t in flatten(target) if t is not None]
        seeds = (flatten(output_gradients) if output_gradients is not None else
                 [None if t.size == 1 else Tensor._wrap(t.xp.ones_like(t.data)) for t in targets])
        flat = flatten(sources)
        for s in flat:
            if not isinstance(s, Tensor):
                raise TypeError(f"GradientTape.gradient: sources must be tensors, got "
                                f"{type(s).__name__}")
        wanted = [s for s in flat if s.requires_grad or any(s is w for w in self._watched)]
        used = [(t, g) for t, g in zip(targets, seeds) if t.requires_grad]
        found: dict[int, Any] = {}
        if wanted and used:
            # a gradient taken while a tape records is recorded too: nested tapes
            create_graph = bool(_recording())
            closed = [w for w in self._watched if not w.requires_grad]  # after the block
            for w in closed:
                w.requires_grad_()
            try:
                values = grad([t for t, _ in used], wanted, [g for _, g in used],
                              retain_graph=self.persistent or create_graph,
                              create_graph=create_graph, allow_unused=True)
            finally:
                for w in closed:
                    w.requires_grad_(False)
            found = {id(s): g for s, g in zip(wanted, values)}
        leaves = [found.get(id(s)) for s in flat]
        if unconnected_gradients == "zero":
            leaves = [Tensor._wrap(s.xp.zeros_like(s.data)) if g is None else g
                      for s, g in zip(flat, leaves)]
        return pack(sources, leaves)


class Variable(Parameter):
    """A trainable tensor, as TensorFlow's ``tf.Variable(initial_value)`` and Keras 3's
    ``keras.Variable(initializer, shape=None, dtype=None, trainable=True, name=None)``: the
    initial value, or an initializer (a name such as ``"glorot_uniform"`` or a callable of
    ``(shape, dtype)``) with ``shape``. ``assign``, ``assign_add``, ``assign_sub``, ``numpy``."""

    def __init__(self, initial_value: Any = None, trainable: bool = True, name: str | None = None,
                 dtype: Any = None, shape: Any = None, *, initializer: Any = None) -> None:
        if isinstance(trainable, (tuple, list)):  # Keras 3's positional Variable(init, shape)
            shape, trainable = trainable, True
        value = initializer if initializer is not None else initial_value
        if isinstance(value, str) or (callable(value) and not isinstance(value, Tensor)):
            if shape is None:
                raise ValueError("Variable: an initializer needs shape=")
            from . import initializers

            value = initializers.get(value)(tuple(shape), dtype or DEFAULT_FLOAT)
        super().__init__(value, trainable=trainable, name=name, dtype=dtype)


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str | None = None) -> Tensor:
    """TensorFlow's ``tf.constant``: a tensor that requires no grad (floats become float32
    unless ``dtype`` says otherwise); a number with ``shape`` fills it."""
    t = Tensor(value, dtype=dtype, name=name)
    if shape is not None and tuple(t.shape) != tuple(shape):
        t = Tensor(t.xp.broadcast_to(t.data, tuple(shape)), dtype=t.dtype, name=name)
    return t


def function(func: Any = None, input_signature: Any = None, autograph: bool = True,
             jit_compile: Any = None, reduce_retracing: bool = False, **options: Any) -> Any:
    """TensorFlow's ``@tf.function``: here the function itself, run eagerly (shenjing has no
    graph compiler; a training step written for ``tf.function`` runs as it is). Works bare
    (``@tf.function``) and with arguments (``@tf.function(jit_compile=True)``)."""
    if func is None:
        return lambda f: f
    if not callable(func):
        raise TypeError(f"tf.function decorates a function, got {type(func).__name__}")
    return func
