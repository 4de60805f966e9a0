"""Activation functions as Keras has them: ``shenjing.activations.relu(x, max_value=6.0)`` on a
Tensor or anything array-like (returning a Tensor), and by name, as Keras resolves
``Dense(64, activation='relu')``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from . import functional as F
from ._config import function_name, registered_function
from .autograd import Tensor, as_tensor
from .backend import DEFAULT_FLOAT


def _tensor(x: Any) -> Tensor:
    """``x`` as a Tensor (arrays and lists as float32, as Keras's floatx)."""
    return x if isinstance(x, Tensor) else as_tensor(x, DEFAULT_FLOAT)


def linear(x: Any) -> Tensor:
    """The identity (Keras's ``activation=None``)."""
    return _tensor(x)


def sigmoid(x: Any) -> Tensor:
    """Logistic sigmoid 1 / (1 + e**-x)."""
    return F.sigmoid(_tensor(x))


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent."""
    return F.tanh(_tensor(x))


def relu(x: Any, negative_slope: float = 0.0, max_value: float | None = None,
         threshold: float = 0.0) -> Tensor:
    """Keras's relu: x above ``threshold`` (else 0), clipped to [0, max_value] when that is
    given, minus negative_slope * (threshold - x) below ``threshold``; by default max(0, x)."""
    x = _tensor(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return F.relu(x)
    y = F.where(x > threshold, x, 0.0)
    if max_value is not None:
        y = F.clip(y, 0.0, max_value)
    if negative_slope != 0.0:
        y = y - negative_slope * F.relu(threshold - x)
    return y


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    """x for x > 0, else negative_slope * x."""
    return F.leaky_relu(_tensor(x), negative_slope)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """x for x > 0, else alpha (e**x - 1)."""
    return F.elu(_tensor(x), alpha)


def selu(x: Any) -> Tensor:
    """Scaled ELU with the self-normalizing constants of Klambauer et al. (2017)."""
    return F.selu(_tensor(x))


def gelu(x: Any, approximate: bool = False) -> Tensor:
    """x Phi(x), exact or (``approximate=True``) by the tanh formula."""
    return F.gelu(_tensor(x), approximate)


def softplus(x: Any) -> Tensor:
    """ln(1 + e**x)."""
    return F.softplus(_tensor(x))


def silu(x: Any) -> Tensor:
    """x * sigmoid(x)."""
    return F.silu(_tensor(x))


def swish(x: Any) -> Tensor:
    """x * sigmoid(x) (the same function as silu)."""
    return F.silu(_tensor(x))


def softmax(x: Any, axis: int = -1) -> Tensor:
    """Normalized exponentials along ``axis``."""
    return F.softmax(_tensor(x), axis)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """log(softmax(x)) along ``axis``, computed directly."""
    return F.log_softmax(_tensor(x), axis)


def exponential(x: Any) -> Tensor:
    """e ** x."""
    return F.exp(_tensor(x))


_FROM_OPS: list[str] = []  # the names made by _from_ops, in order


def _from_ops(name: str, doc: str) -> Callable[..., Tensor]:
    """Keras's activation ``name``, which is also ``keras.ops.name``: that op, whose module
    loads at the first call (not with ``import shenjing``), then kept."""
    _FROM_OPS.append(name)
    found: list[Callable[..., Tensor]] = []

    def activation(x: Any, *args: Any, **kwargs: Any) -> Tensor:
        if not found:
            from . import _ops_nn

            found.append(getattr(_ops_nn, name))
        return found[0](x, *args, **kwargs)

    activation.__name__ = activation.__qualname__ = name
    activation.__doc__ = doc
    return activation


relu6 = _from_ops("relu6", "min(max(x, 0), 6).")
softsign = _from_ops("softsign", "x / (|x| + 1).")
hard_sigmoid = _from_ops("hard_sigmoid", "relu6(x + 3) / 6: a piecewise-linear sigmoid.")
hard_silu = _from_ops("hard_silu", "x * hard_sigmoid(x) (MobileNetV3's hard swish).")
hard_swish = _from_ops("hard_swish", "x * hard_sigmoid(x); the same as hard_silu.")
mish = _from_ops("mish", "x * tanh(softplus(x)) (Misra, 2019).")
log_sigmoid = _from_ops("log_sigmoid", "log(sigmoid(x)) = -softplus(-x), without overflow.")
celu = _from_ops("celu", "celu(x, alpha=1.0): max(x, 0) + min(alpha (e**(x / alpha) - 1), 0).")
glu = _from_ops("glu", "glu(x, axis=-1): a * sigmoid(b), a and b the halves of x along axis.")
hard_tanh = _from_ops("hard_tanh", "x clipped to [-1, 1].")
hard_shrink = _from_ops("hard_shrink", "hard_shrink(x, threshold=0.5): x where |x| > threshold, "
                                       "else 0.")
soft_shrink = _from_ops("soft_shrink", "soft_shrink(x, threshold=0.5): x moved threshold "
                                       "towards 0, and 0 within it.")
tanh_shrink = _from_ops("tanh_shrink", "x - tanh(x).")
squareplus = _from_ops("squareplus", "squareplus(x, b=4): (x + sqrt(x**2 + b)) / 2.")
sparse_plus = _from_ops("sparse_plus", "0 below -1, (x + 1)**2 / 4 between, x above 1.")
sparsemax = _from_ops("sparsemax", "sparsemax(x, axis=-1): x projected onto the probability "
                                   "simplex; sums to 1, low scores exactly 0.")
threshold = _from_ops("threshold", "threshold(x, threshold, default_value): x where "
                                   "x > threshold, else default_value.")

# The op each name applies in layers: the function above, minus the array conversion.
_REGISTRY: dict[str, Callable[[Tensor], Tensor]] = {
    "linear": linear,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "elu": F.elu,
    "selu": F.selu,
    "gelu": F.gelu,
    "softplus": F.softplus,
    "silu": F.silu,
    "swish": swish,
    "softmax": F.softmax,
    "log_softmax": F.log_softmax,
    "exponential": F.exp,
    **{name: globals()[name] for name in _FROM_OPS},
}


def name_of(fn: Any) -> str | None:
    """The registered name of ``fn`` (a function of this module, or the op it applies), else
    None."""
    for name, op in _REGISTRY.items():
        if fn is op or fn is globals()[name]:
            return name
    return None


def get(identifier: Any) -> Callable[[Tensor], Tensor]:
    """The activation for a name, a callable, or None (the identity). A function of this module
    or ``F`` comes back as its op, so layers recognize it (fused relu, ...) as by its name; any
    other name is that of your own function (:func:`deserialize`)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return _REGISTRY.get(identifier.lower()) or deserialize(identifier)
    if callable(identifier):
        name = name_of(identifier)
        return identifier if name is None else _REGISTRY[name]
    raise TypeError(f"activation must be a name or a callable, got {identifier!r}")


def serialize(fn: Callable[[Tensor], Tensor]) -> str:
    """The name a config saves an activation under: a built-in one's, else your function's own
    (Keras 3), which loading finds in ``custom_objects`` or among registered objects."""
    name = name_of(fn)
    if name is not None:
        return name
    name = function_name(fn, "activation")
    if name.lower() in _REGISTRY:
        raise ValueError(f"activation {fn!r} cannot be serialized: its name {name!r} is a "
                         "built-in activation's, which loading would give back instead; "
                         "rename the function")
    return name


def deserialize(name: str) -> Callable[..., Tensor]:
    """The activation saved as ``name``: this module's function (Keras's public one, which
    takes Keras's keyword arguments), else your function registered with
    ``register_keras_serializable`` or passed in ``custom_objects``."""
    if name.lower() in _REGISTRY:
        return globals()[name.lower()]
    try:
        return registered_function(name, "activation")
    except ValueError as e:
        raise ValueError(f"{e}; the built-in activations are {', '.join(_REGISTRY)}") from None


def fused_name(activation: Callable[[Tensor], Tensor]) -> str | None:
    """The name under which a fused op (``F.linear``, ``F.conv2d``) applies ``activation``
    itself, or None when the layer must apply it as a separate op afterwards."""
    return "relu" if activation is F.relu else None


def _recorded_on_symbolic(name: str, fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """Keras 3's activations are ops: given a symbolic tensor of the functional API
    (``keras.activations.gelu(x)`` between layers), the call is recorded as a node of the model
    (an ``OpLayer``, saved by name); anything else is computed."""
    @functools.wraps(fn)
    def activation(x: Any, *args: Any, **kwargs: Any) -> Tensor:
        if not isinstance(x, Tensor):
            from .layers.input_layer import SymbolicTensor

            if isinstance(x, SymbolicTensor):
                from .layers.op_layer import symbolic_op

                return symbolic_op(f"activations.{name}", (x, *args), kwargs)
        return fn(x, *args, **kwargs)

    return activation


for _name in _REGISTRY:
    globals()[_name] = _recorded_on_symbolic(_name, globals()[_name])
