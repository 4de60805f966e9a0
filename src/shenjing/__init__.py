"""shenjing (神经, "neural"): a deep-learning framework from first principles.

Two APIs over one object model: a Keras-style one (``Sequential``, ``layers.Dense``,
``compile``/``fit``) for what users touch, and a PyTorch-style autograd underneath (``Tensor``,
``loss.backward()``, ``no_grad()``, ``optimizer.step()``). ``shenjing.keras`` is the package
itself, so Keras code runs with ``import shenjing as tf``.
"""

import builtins as _builtins
import importlib as _importlib
import importlib.machinery as _machinery
import sys as _sys

import numpy as _np

from . import (
    activations,
    backend,
    data,
    debug,
    functional,
    initializers,
    layers,
    models,
    optimizers,
    regularizers,
    utils,
)
from .autograd import (
    Function,
    Tensor,
    as_tensor,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
    tensor,
)
from .diagnostics import gradcheck, gradgradcheck
from .layers import Input
from .models import Model, Sequential

_FACTORIES = ("Generator", "arange", "eye", "full", "full_like", "linspace", "multinomial",
              "normal", "ones", "ones_like", "rand", "randint", "randn", "zeros", "zeros_like")
# PyTorch's module-level math (shenjing.matmul, exp, max, cat, ...: see _torch_functions); not
# in __all__, so that `from shenjing import *` shadows no builtin (max, min, sum, abs, pow).
_TORCH_FUNCTIONS = frozenset((
    "abs", "acos", "acosh", "add", "addcdiv", "addcmul", "addmm", "all", "allclose", "amax",
    "amin", "any", "arccos", "arccosh", "arcsinh", "arctan2", "arctanh", "asinh", "atan2",
    "atanh", "bernoulli", "bucketize", "cdist", "cummax", "cummin", "kthvalue", "logcumsumexp",
    "mv", "rot90", "scatter_reduce", "searchsorted", "tensordot",
    "arcsin", "arctan", "argmax", "argmin", "argsort", "argwhere", "asin", "atan", "bincount",
    "bmm", "broadcast_tensors", "broadcast_to", "cat", "ceil", "chunk", "clamp", "clamp_max",
    "clamp_min", "clip", "clone", "cos", "cosh", "count_nonzero", "cross", "cumprod", "cumsum",
    "detach", "device", "diag", "diagonal", "diff", "div", "dot", "einsum", "empty", "empty_like",
    "eq", "equal", "erf", "exp", "exp2", "expm1", "flatten", "flip", "fliplr", "flipud", "floor",
    "floor_divide", "fmod", "frac", "from_numpy", "gather", "ge", "gt", "hstack", "hypot",
    "index_add", "index_select", "is_floating_point", "is_tensor", "isclose", "isfinite", "isin",
    "isinf", "isnan", "kron", "le", "lerp", "load", "log", "log10", "log1p", "log2", "log_softmax",
    "logaddexp", "logical_and", "logical_not", "logical_or", "logical_xor", "logit", "logsumexp",
    "lt", "manual_seed", "masked_fill", "masked_select", "matmul", "max", "maximum", "mean",
    "median", "meshgrid", "min", "minimum", "mm", "moveaxis", "movedim", "mul", "nan_to_num",
    "nanmean", "nansum", "narrow", "ne", "neg", "negative", "nonzero", "norm", "numel", "outer",
    "permute", "pow", "prod", "rand_like", "randint_like", "randn_like", "randperm", "ravel",
    "reciprocal", "relu", "remainder", "repeat_interleave", "reshape", "roll", "round", "rsqrt",
    "save", "scatter", "scatter_add", "select", "set_printoptions", "sgn", "sigmoid", "sign", "sin",
    "sinh", "softmax", "sort", "split", "sqrt", "square", "squeeze", "stack", "std", "std_mean",
    "sub", "sum", "swapaxes", "swapdims", "t", "take_along_dim", "tan", "tanh", "tensor_split",
    "tile", "topk", "trace", "transpose", "tril", "tril_indices", "triu", "triu_indices",
    "true_divide", "trunc", "unbind", "unflatten", "unique", "unsqueeze", "var", "var_mean",
    "vstack", "where"))
# PyTorch's classes: torch.Size and the legacy constructors (FloatTensor(...), ...)
_TORCH_CLASSES = ("BoolTensor", "ByteTensor", "DoubleTensor", "FloatTensor", "IntTensor",
                  "LongTensor", "Size")

# Keras's base classes at the top (keras.Layer, keras.Loss...), from their modules.
_KERAS_BASES = {"Layer": ("layers", "Layer"), "Loss": ("losses", "Loss"),
                "Metric": ("metrics", "Metric"), "Optimizer": ("optimizers", "Optimizer"),
                "InputSpec": ("layers", "InputSpec"),
                "Initializer": ("initializers", "Initializer"),
                "Regularizer": ("regularizers", "Regularizer"),
                "Constraint": ("constraints", "Constraint")}
# TensorFlow's names for keras.ops functions (tf.concat, tf.reduce_mean, ...), for Keras code
# written for TF (a WGAN's gradient penalty, the structured-data example's tf.expand_dims and
# tf.convert_to_tensor); tf.shape gives the shape as a tuple of ints.
_TF_FUNCTIONS = {"cast": "cast", "concat": "concatenate", "convert_to_tensor": "convert_to_tensor",
                 "expand_dims": "expand_dims", "reduce_max": "max", "reduce_mean": "mean",
                 "reduce_min": "min", "reduce_sum": "sum", "shape": "shape", "square": "square"}


def __getattr__(name: str):
    """Loaded on first use, to keep `import shenjing` fast: data set readers, callbacks, plots,
    Keras's ops, preprocessing, random and saving modules, PyTorch's and TensorFlow's names.
    Kept in the module once found, so that a hot `shenjing.tanh(h)` pays the lookup once;
    not those named as builtins (max, sum, ...), which this module's own code may call."""
    value = _lazy(name)
    if not hasattr(_builtins, name):
        globals()[name] = value
    return value


def _lazy(name: str):
    if name in ("callbacks", "constraints", "cuda", "datasets", "io", "labs", "linalg",
                "losses", "metrics", "nn", "ops", "plot", "preprocessing", "random", "saving"):
        return _importlib.import_module(f".{name}", __name__)
    if name == "load_model":  # with the saving code, on first use
        return models.load_model
    if name in _FACTORIES:  # PyTorch's tensor factories (shenjing.zeros, randn, ...)
        return getattr(_importlib.import_module(".factories", __name__), name)
    if name in ("GradientTape", "Variable", "constant", "function"):  # TensorFlow's, for
        return getattr(_importlib.import_module(".gradient_tape", __name__), name)  # TF code
    if name == "strings":  # tf.strings
        return _importlib.import_module(".strings", __name__)
    if name == "KerasTensor":  # Keras 3's name for a functional model's symbolic tensor
        return layers.SymbolicTensor
    if name in _KERAS_BASES:  # keras.Layer, keras.Loss...: the base classes, at the top
        module, attr = _KERAS_BASES[name]
        return getattr(_importlib.import_module(f".{module}", __name__), attr)
    if name == "version":
        return lambda: __version__
    if name == "TensorSpec":  # tf.TensorSpec, for tf.data's from_generator
        return _importlib.import_module(".data.tensor_spec", __name__).TensorSpec
    if name in _TF_FUNCTIONS:
        return getattr(_importlib.import_module(".ops", __name__), _TF_FUNCTIONS[name])
    if name in _TORCH_FUNCTIONS or name in _TORCH_CLASSES:
        return getattr(_importlib.import_module("._torch_functions", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


F = functional
keras = _sys.modules[__name__]  # `import shenjing as tf; tf.keras.layers.Dense` works
# PyTorch's less common Tensor methods (x.mm, x.topk, ...: _torch_methods.METHODS): each name
# starts as a stand-in that, at its first call, loads them all onto Tensor (a class-level
# __getattr__ would do it too, but it would slow every attribute access of every tensor)
_TORCH_METHODS = (
    "abs_", "acos", "acosh", "addcdiv", "addcdiv_", "addcmul", "addcmul_", "addmm", "arccos",
    "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "asinh", "atan2", "atanh",
    "bernoulli", "cummax", "cummin", "kthvalue", "logcumsumexp", "mv", "rot90",
    "argsort", "argwhere", "asin", "atan", "bincount", "bmm", "ceil", "ceil_", "chunk", "clamp_",
    "contiguous", "cosh", "count_nonzero", "cross", "cumprod", "cumsum", "diag", "diagonal", "diff",
    "dot", "erf", "exp2", "exp_", "expm1", "fliplr", "flipud", "floor", "floor_", "fmod", "frac",
    "gather", "H", "hypot", "index_add", "index_add_", "index_select", "is_floating_point",
    "isfinite", "isinf", "isnan", "kron", "lerp", "lerp_", "log1p", "log_", "logaddexp",
    "logical_and", "logical_not", "logical_or", "logical_xor", "logit", "masked_fill",
    "masked_fill_", "masked_select", "median", "mH", "mm", "moveaxis", "movedim", "mT",
    "nan_to_num", "nanmean", "nansum", "narrow", "neg_", "negative", "new_empty", "new_full",
    "new_ones", "new_tensor", "new_zeros", "nonzero", "normal_", "outer", "pow_", "prod", "ravel",
    "reciprocal", "relu_", "repeat", "repeat_interleave", "roll", "round", "rsqrt", "rsqrt_",
    "scatter", "scatter_", "scatter_add", "scatter_add_", "scatter_reduce", "scatter_reduce_",
    "select", "sgn", "sigmoid_", "sign",
    "sign_", "sinh", "sort", "sqrt_", "square", "square_", "swapaxes", "swapdims", "take_along_dim",
    "tan", "tanh_", "tensor_split", "tile", "topk", "trace", "tril", "tril_", "triu", "triu_",
    "trunc", "type_as", "unbind", "unflatten", "uniform_", "unique")
_TORCH_PROPERTIES = ("H", "mH", "mT")  # x.mT: stand-in properties


def _load_torch_method(name: str):
    def method(self, *args, **kwargs):
        methods = _importlib.import_module("._torch_methods", __name__).METHODS
        for key, fn in methods.items():
            setattr(Tensor, key, fn)
        method = methods[name]
        return method.fget(self) if isinstance(method, property) else method(self, *args, **kwargs)

    method.__name__ = name
    return method


for _name in _TORCH_METHODS:
    _stand_in = _load_torch_method(_name)
    setattr(Tensor, _name, property(_stand_in) if _name in _TORCH_PROPERTIES else _stand_in)


class _KerasAlias:
    """Import ``shenjing.keras.X`` as the module ``shenjing.X`` itself (never a second copy),
    so ``from tensorflow.keras import layers`` ports as ``from shenjing.keras import layers``
    and ``from keras.layers import Dense`` as ``from shenjing.keras.layers import Dense``.
    A meta path finder and loader by their methods (importlib.abc would cost ~20 ms of import)."""

    prefix = __name__ + ".keras."

    def find_spec(self, fullname: str, path: object = None, target: object = None):
        if fullname.startswith(self.prefix):
            return _machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec):  # the real module; importlib keeps its own __name__, __spec__
        return _importlib.import_module(f"{__name__}.{spec.name[len(self.prefix):]}")

    def exec_module(self, module) -> None:  # already executed under its own name
        pass


_sys.modules[f"{__name__}.keras"] = keras
if not any(isinstance(f, _KerasAlias) for f in _sys.meta_path):
    _sys.meta_path.insert(0, _KerasAlias())  # before the path finder, which would load a copy

__version__ = "0.1.0"

__all__ = [
    "F", "Function", "Input", "Model", "Sequential", "Tensor", "activations", "arange",
    "as_tensor", "backend", "callbacks", "constraints", "data", "datasets", "debug",
    "enable_grad", "eye",
    "full", "full_like", "functional", "gradcheck", "gradgradcheck", "inference_mode",
    "initializers",
    "is_grad_enabled", "keras",
    "layers", "linspace", "load_model", "losses", "metrics", "models", "no_grad", "normal", "ones",
    "ones_like", "ops", "optimizers", "plot", "preprocessing", "rand", "randint", "randn",
    "random", "regularizers", "saving",
    "set_grad_enabled", "tensor",
    "utils", "zeros", "zeros_like",
]

# PyTorch's dtype names (dtype=shenjing.float, x.to(shenjing.long)), as NumPy's types; at the end
# and left out of __all__ so that neither this module nor
# `from shenjing import *` sees the builtins float, int and bool shadowed.
float16 = half = _np.float16
float32 = float = _np.float32  # noqa: A001
float64 = double = _np.float64
int8, uint8, int16, int32 = _np.int8, _np.uint8, _np.int16, _np.int32
int64 = long = _np.int64
int = _np.int32  # noqa: A001 - torch.int is int32
bool = _np.bool_  # noqa: A001
string = _np.str_  # tf.string: strings are str here (TensorFlow's are bytes)
