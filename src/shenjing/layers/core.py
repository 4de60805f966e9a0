"""Core layers: InputLayer, Dense, Activation, Lambda, Identity, Flatten, Reshape, Dropout (and
its spatial forms), and the Perceptron."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import activations
from .. import functional as F
from .._config import function_name, registered_function
from ..autograd import Tensor, no_grad
from ..backend import new_generator
from ..functional.dropout import concrete_noise_shape
from . import constraints
from .conv import _channels_last
from .input_layer import SymbolicTensor
from .layer import InputSpec, Layer


class InputLayer(Layer):
    """The layer behind ``Input()``: it holds the model's symbolic input (its ``output``) and
    computes nothing. A functional model lists its InputLayers first in ``model.layers``, as
    Keras 3 does (a Sequential model does not).

    Args:
        shape: the shape of one sample; or ``batch_shape``, with the batch axis (None: any).
        batch_size: a fixed batch size, or None.
        dtype: the input's dtype (default float32; integer ids for an Embedding).
        name: the layer's name, which is also the input tensor's (the key of this input when a
            model is given a dict of arrays).
    """

    def __init__(self, shape: tuple[int | None, ...] | None = None, batch_size: int | None = None,
                 dtype: Any = None, batch_shape: tuple[int | None, ...] | None = None,
                 name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, dtype=dtype, **kwargs)
        if batch_shape is None:
            if shape is None:
                raise ValueError("Input() needs shape= (the shape of one sample)")
            batch_shape = (batch_size, *tuple(shape))
        self.batch_shape = tuple(batch_shape)
        tensor = SymbolicTensor(self.batch_shape, dtype=self.dtype, name=self.name)
        tensor.input_layer = self
        object.__setattr__(self, "_first_node", tensor)
        self.built = True

    @property
    def input(self) -> Any:
        return self.output

    def call(self, inputs: Any) -> Any:
        return inputs


class Dense(Layer):
    """A fully connected layer: ``activation(x @ kernel + bias)`` (the article's h = f(Wx + b)).

    Args:
        units: the number of output features (neurons).
        activation: a name ('relu', 'sigmoid', ...) or a callable; None is linear.
        use_bias: whether to add a bias.
        kernel_initializer, bias_initializer: Keras defaults 'glorot_uniform' and 'zeros'.
        kernel_regularizer, bias_regularizer: penalties added to the loss.
        kernel_constraint, bias_constraint: projections applied after each optimizer step
            (``shenjing.constraints``: ``MaxNorm(3)``, ``"non_neg"``...).
        activity_regularizer: a penalty on the output, added to the loss at each call.

    Input shape: (batch, ..., input_dim). Output shape: (batch, ..., units).
    """

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"Dense units must be a positive integer, got {units!r}")
        self.units, self.use_bias = units, use_bias
        self.activation = activations.get(activation)
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape: tuple) -> None:
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"Layer '{self.name}' (Dense) needs inputs of shape (batch, ..., "
                             f"features) with known features, got {input_shape}")
        n_in = input_shape[-1]
        self.kernel = self.add_weight((n_in, self.units), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.bias = self.add_weight((self.units,), self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint,
                                    name="bias") if self.use_bias else None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: n_in})

    def call(self, x: Tensor) -> Tensor:
        fused = activations.fused_name(self.activation)
        y = F.linear(x, self.kernel, self.bias, activation=fused)
        return y if fused else self.activation(y)


class Activation(Layer):
    """Applies an activation function by name or callable."""

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, x: Tensor) -> Tensor:
        return self.activation(x)


class Lambda(Layer):
    """Wraps a function of the inputs as a layer, for Sequential and functional models
    (Keras's): ``function(inputs, **arguments)``, also given ``mask=`` and ``training=`` where
    it takes them. It is differentiable wherever the function is (built of ``ops``/``F``).

    A config names its functions and never holds code: one defined with ``def`` is saved by
    its name and loaded from ``custom_objects`` or ``register_keras_serializable``; a lambda
    cannot be saved (Keras 3 saves its bytecode, then refuses to load it without
    ``safe_mode=False``), and saving says so.

    Args:
        function: the function of the inputs (a tensor, or a list of them).
        output_shape: accepted for Keras code and kept in the config; shenjing infers shapes
            by running the function.
        mask: None (the output has no mask, as Keras) or a function ``mask(inputs, mask)``
            giving the output's mask.
        arguments: keyword arguments for ``function`` (JSON data, to be saved).

    >>> Lambda(lambda x: x ** 2)(np.array([[3.0]])).numpy()
    array([[9.]], dtype=float32)
    """

    def __init__(self, function: Callable[..., Any], output_shape: Any = None,
                 mask: Callable[..., Any] | None = None, arguments: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: function must be a function, got {function!r}")
        if mask is not None and not callable(mask):
            raise TypeError(f"Lambda: mask must be None or a function mask(inputs, mask), got "
                            f"{mask!r}")
        self.function, self.mask, self.arguments = function, mask, dict(arguments or {})
        self._output_shape = output_shape
        try:
            takes = set(inspect.signature(function).parameters)
        except ValueError:  # a builtin without a signature takes neither
            takes = set()
        self._passes = [key for key in ("mask", "training") if key in takes]

    def call(self, inputs: Any, mask: Any = None, training: bool | None = None) -> Any:
        given = {"mask": mask, "training": training}
        return self.function(inputs, **self.arguments, **{k: given[k] for k in self._passes})

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None if self.mask is None else self.mask(inputs, mask)

    def get_config(self) -> dict[str, Any]:
        # named before the base's config, so that a lambda's error names this layer's argument
        names = {key: function_name(value, f"Lambda '{self.name}': the {key}")
                 for key, value in (("function", self.function), ("mask", self.mask),
                                    ("output_shape", self._output_shape)) if callable(value)}
        return {**super().get_config(), **names}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Lambda:
        """The layer ``config`` describes, its functions found by name: a built-in activation's
        (``activations.relu``), else yours, in ``custom_objects`` or registered."""
        config = dict(config)
        config["function"] = activations.deserialize(config["function"])
        for key in ("mask", "output_shape"):
            if isinstance(config.get(key), str):
                config[key] = registered_function(config[key], f"Lambda {key} function")
        if isinstance(config.get("output_shape"), list):
            config["output_shape"] = tuple(config["output_shape"])
        return cls(**config)


class Identity(Layer):
    """Returns its inputs unchanged, mask included (Keras's placeholder layer)."""

    def call(self, inputs: Any) -> Any:
        return inputs


class ReLU(Layer):
    """max(0, x) as a layer (Keras's ``layers.ReLU()``), or with Keras's options
    (:func:`shenjing.activations.relu`): ``max_value`` caps it (``ReLU(6.0)`` is ReLU6),
    ``negative_slope`` leaks below ``threshold``, below which the output is 0.
    ``GradientMonitor`` counts its dead units as it does a ``Dense(..., activation='relu')``'s.
    """

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name, value in (("max_value", max_value), ("negative_slope", negative_slope)):
            if value is not None and not value >= 0:
                raise ValueError(f"ReLU: {name} must be >= 0, got {value!r}")
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope, self.threshold = float(negative_slope), float(threshold)
        # what GradientMonitor counts dead units of: a leaky ReLU's units cannot die
        self.activation = F.relu if not self.negative_slope else None

    def call(self, x: Tensor) -> Tensor:
        return activations.relu(x, self.negative_slope, self.max_value, self.threshold)


class LeakyReLU(Layer):
    """x for x > 0, else ``negative_slope * x`` (Keras's layer default 0.3): a unit whose
    input is negative still passes a gradient, so it cannot die as a ReLU can."""

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not negative_slope >= 0:
            raise ValueError(f"LeakyReLU: negative_slope must be >= 0, got {negative_slope!r}")
        self.negative_slope = float(negative_slope)

    def call(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...)."""

    def call(self, x: Tensor) -> Tensor:
        return F.reshape(x, (x.shape[0], int(math.prod(x.shape[1:]))))


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (one entry may be -1)."""

    def __init__(self, target_shape: tuple[int, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def call(self, x: Tensor) -> Tensor:
        per_sample = int(math.prod(x.shape[1:]))
        known = int(math.prod(n for n in self.target_shape if n != -1))
        if (-1 not in self.target_shape and known != per_sample) or per_sample % known:
            raise ValueError(f"Layer '{self.name}' (Reshape) cannot reshape samples of shape "
                             f"{x.shape[1:]} ({per_sample} values) to {self.target_shape}")
        return F.reshape(x, (x.shape[0], *self.target_shape))


class Dropout(Layer):
    """Inverted dropout: during training, zero a ``rate`` fraction of the inputs and scale the
    rest by 1 / (1 - rate) (rate 1 outputs zeros); at inference, the identity. Each layer has its
    own seeded stream. ``noise_shape`` (Keras): the shape of the random mask, broadcast over
    the input; 1 on an axis shares one draw along it, None takes the input's size
    (``(None, 1, 64)`` drops the same features at every step of a sequence)."""

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1], got {rate}")
        self.rate, self.seed = rate, seed
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self._generator = np.random.default_rng(seed) if seed is not None else new_generator()

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        if not training:
            return x
        if self.rate == 1.0:  # all dropped (F.dropout's scale 1 / (1 - rate) is undefined)
            return F.where(False, x, 0.0)
        return F.dropout(x, self.rate, generator=self._generator,
                         noise_shape=self._noise_shape(x))

    def _noise_shape(self, x: Tensor) -> tuple[int | None, ...] | None:
        """The shape of the random mask (None: one draw per element)."""
        return self.noise_shape


class AlphaDropout(Dropout):
    """Dropout that keeps SELU's self-normalization (Klambauer et al. 2017; Keras's): in
    training a dropped input becomes SELU's negative saturation -alpha * scale rather than 0,
    and ``a * x + b`` restores the mean and variance; at inference, the identity. Seeded, and
    ``noise_shape`` as :class:`Dropout`; ``rate`` below 1."""

    _SATURATION = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"AlphaDropout rate must be in [0, 1), got {rate}")
        super().__init__(rate, noise_shape, seed, **kwargs)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        if not training or self.rate == 0:
            return x
        shape = x.shape if self.noise_shape is None else concrete_noise_shape(
            self.noise_shape, x.shape)
        kept = (self._generator.uniform(size=shape) >= self.rate).astype(x.dtype)
        saturation, rate = self._SATURATION, self.rate
        a = ((1 - rate) * (1 + rate * saturation**2)) ** -0.5
        b = -a * saturation * rate
        return (x * kept + saturation * (1 - kept)) * a + b


class SpatialDropout1D(Dropout):
    """Dropout of whole channels of (batch, steps, channels) sequences: in training, each
    channel of each sample is zeroed at every step with probability ``rate`` and the kept ones
    are scaled by 1 / (1 - rate). Neighbouring steps are correlated, so dropping single values
    regularizes little (Tompson et al., 2014). Seeded as :class:`Dropout`.

    Args:
        rate: the fraction of channels dropped, in [0, 1].
        seed: seeds this layer's random stream (default: one from ``set_random_seed``'s root).

    Input shape: (batch, steps, channels). Output shape: the same.
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, **kwargs)
        self.input_spec = InputSpec(ndim=3)

    def _noise_shape(self, x: Tensor) -> tuple[int, ...]:
        return (x.shape[0], 1, x.shape[2])


class SpatialDropout2D(Dropout):
    """Dropout of whole feature maps of (batch, height, width, channels) images: in training,
    each channel of each image is zeroed everywhere with probability ``rate`` and the kept ones
    are scaled by 1 / (1 - rate). Seeded as :class:`Dropout`.

    Args:
        rate: the fraction of channels dropped, in [0, 1].
        data_format: 'channels_last' only.
        seed: seeds this layer's random stream (default: one from ``set_random_seed``'s root).

    Input shape: (batch, height, width, channels). Output shape: the same.
    """

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = _channels_last(data_format)
        self.input_spec = InputSpec(ndim=4)

    def _noise_shape(self, x: Tensor) -> tuple[int, ...]:
        return (x.shape[0], 1, 1, x.shape[3])


class Perceptron(Layer):
    """Rosenblatt's perceptron (the article's section 1.2): ``step(x @ kernel + bias)`` with
    outputs in {0, 1}, trained not by gradients (the step has none) but by the perceptron rule
    ``w += lr * (target - output) * x`` in :meth:`update`.

    Args:
        units: the number of perceptrons (one per output).
    """

    def __init__(self, units: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape: tuple) -> None:
        self.kernel = self.add_weight((input_shape[-1], self.units), "zeros",
                                      trainable=False, name="kernel")
        self.bias = self.add_weight((self.units,), "zeros", trainable=False, name="bias")
        self.input_spec = InputSpec(ndim=2, axes={-1: input_shape[-1]})

    def call(self, x: Tensor) -> Tensor:
        with no_grad():
            return F.cast(F.linear(x, self.kernel, self.bias) > 0, self.dtype)

    def update(self, x: Any, y: Any, learning_rate: float = 1.0) -> int:
        """One pass of the perceptron rule over the samples, one at a time (online, as in
        Rosenblatt's algorithm). Returns the number of samples it misclassified."""
        x = np.asarray(x, dtype=self.dtype)
        y = np.asarray(y, dtype=self.dtype).reshape(len(x), -1)
        if not self.built:
            self(x[:1])
        errors = 0
        for xi, yi in zip(x, y):
            out = (xi @ self.kernel.data + self.bias.data > 0).astype(self.dtype)
            delta = yi - out
            if delta.any():
                errors += 1
                self.kernel.data += learning_rate * np.outer(xi, delta)
                self.bias.data += learning_rate * delta
        return errors
