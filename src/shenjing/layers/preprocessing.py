"""Preprocessing and augmentation layers (Keras keeps them in ``keras.layers``): input
normalization inside the model (the article's section 6.3), so a saved model carries its own
statistics, and random image augmentation that is active only in training. Images are NHWC, or
NCHW with ``data_format='channels_first'`` (augmented channels-last between two transposes).

>>> norm = Normalization()
>>> norm.adapt(x_train)                      # per-feature mean and variance, saved with the model
>>> model = Sequential([Input((32, 32, 3)), Rescaling(1 / 255), RandomFlip("horizontal"),
...                     RandomCrop(32, 32, padding=4), Conv2D(32, 3), ...])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import Tensor
from ..backend import new_generator
from ..config import epsilon
from .layer import InputSpec, Layer
from .pooling import _data_format

_EPSILON = epsilon()  # Keras's backend.epsilon(): the smallest standard deviation divided by


def _as_float(layer: Layer, x: Tensor) -> Tensor:
    """Integer inputs (uint8 images) become the layer's float dtype, as in Keras."""
    return x if x.dtype.kind == "f" else F.cast(x, layer.dtype)


def _arrays_as_lists(config: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """NumPy arrays given to ``__init__`` as JSON numbers or lists, so the config saves."""
    for key in keys:
        if config.get(key) is not None:
            config[key] = np.asarray(config[key], dtype=np.float64).tolist()
    return config


class Normalization(Layer):
    """Standardize inputs feature by feature: ``(x - mean) / max(sqrt(variance), 1e-7)``, with
    the mean and variance given, or learned from data by :meth:`adapt` before training.

    The statistics are non-trainable weights, so ``model.save`` keeps them and ``load_model``
    restores them; training never changes them. The weights are ``[mean, variance]`` whether
    adapted or given (Keras 3 keeps ``[mean, variance, count]`` when adapting and none when
    given): copying an adapted Keras layer is ``set_weights(keras_layer.get_weights()[:2])``.

    Args:
        axis: the axis (or axes) with separate statistics, e.g. -1 for one mean per feature or
            channel; None for a single mean and variance over everything. Never the batch axis.
        mean, variance: the statistics (broadcast to the kept axes' shape), or None to use
            :meth:`adapt` (until then the layer is the identity: mean 0, variance 1).
        invert: apply the inverse, ``mean + x * std`` (to map predictions back).

    Input shape: any, batch first. Output shape: the input's, float32.

    >>> norm = Normalization()
    >>> norm.adapt(np.array([[0.0, 10.0], [2.0, 30.0]]))
    >>> norm(np.array([[1.0, 20.0]])).numpy()
    array([[0., 0.]], dtype=float32)
    """

    def __init__(self, axis: int | tuple[int, ...] | None = -1, mean: Any = None,
                 variance: Any = None, invert: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if (mean is None) != (variance is None):
            raise ValueError("Normalization: give both mean and variance, or neither (and "
                             "call adapt())")
        self.axis = axis
        self._axes = () if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
        self.input_mean = None if mean is None else np.asarray(mean, dtype=np.float64)
        self.input_variance = None if variance is None else np.asarray(variance, np.float64)
        self.invert = bool(invert)

    def build(self, input_shape: tuple) -> None:
        ndim = len(input_shape)
        axes = []
        for a in self._axes:
            if not -ndim <= a < ndim or a % ndim == 0:
                raise ValueError(f"Layer '{self.name}' (Normalization): axis {a} is not a "
                                 f"feature axis of inputs of shape {tuple(input_shape)}")
            axes.append(a % ndim)
        self._kept = tuple(sorted(set(axes)))
        shape = tuple(input_shape[a] for a in self._kept)
        if any(n is None for n in shape):
            raise ValueError(f"Layer '{self.name}' (Normalization) needs known sizes on axes "
                             f"{self._kept}, got input shape {tuple(input_shape)}")
        self._broadcast = tuple(input_shape[a] if a in self._kept else 1 for a in range(ndim))
        self.mean = self.add_weight(shape, "zeros", trainable=False, name="mean")
        self.variance = self.add_weight(shape, "ones", trainable=False, name="variance")
        if self.input_mean is not None:
            if (self.input_variance < 0).any():
                raise ValueError(f"Layer '{self.name}' (Normalization): variance must be "
                                 "non-negative")
            for p, value in ((self.mean, self.input_mean), (self.variance, self.input_variance)):
                try:
                    p.assign(np.broadcast_to(value, shape).astype(p.dtype))
                except ValueError:
                    raise ValueError(f"Layer '{self.name}' (Normalization): {p.name} of shape "
                                     f"{value.shape} does not broadcast to {shape}") from None
        # more axes in front are broadcast over, as Keras's (adapted on (N, 3) pixels, it
        # normalizes (B, H, W, 3) images): the statistics' sizes are checked from the end
        self.input_spec = InputSpec(min_ndim=ndim,
                                    axes={a - ndim: input_shape[a] for a in self._kept})

    def adapt(self, data: Any) -> None:
        """Set the mean and variance to those of ``data`` (an array, or a DataLoader, a list of
        batch arrays or any iterable of batches, whose x is used; a ``Dataset`` of single
        feature vectors is batched first, as Keras's), over every axis but ``axis``. Batches
        are merged exactly (Chan et al.'s parallel variance), in float64."""
        if self.input_mean is not None:
            raise ValueError(f"Layer '{self.name}' (Normalization) was given mean and variance; "
                             "adapt() would overwrite them. Create it without them to adapt.")
        from ..data.dataset import Dataset
        from ..data.loader import adapt_batches, unpack_batch

        if isinstance(data, Dataset):
            first = next(iter(data), None)
            if first is not None and np.ndim(unpack_batch(first)[0]) == 1:
                data = data.batch(128)  # an element is one sample's features
        if isinstance(data, list) and data and all(  # batches, not a list of samples
                isinstance(b, (np.ndarray, Tensor)) and b.ndim > 1 for b in data):
            batches = [b.data if isinstance(b, Tensor) else b for b in data]  # batches
        else:
            batches = adapt_batches(data)
        count, mean, m2 = 0, 0.0, 0.0
        for xb in batches:
            xb = np.asarray(xb, dtype=np.float64)
            if not self.built:
                self.build((None, *xb.shape[1:]))
            self._check_input_spec(Tensor._wrap(xb))
            if not np.isfinite(xb).all():
                raise ValueError(f"Layer '{self.name}' (Normalization).adapt: the data contain "
                                 "NaN or inf")
            reduce = tuple(a for a in range(xb.ndim) if a not in self._kept)
            n = xb.size // max(1, int(np.prod([xb.shape[a] for a in self._kept])))
            if n == 0:
                continue
            batch_mean = xb.mean(axis=reduce)
            batch_m2 = ((xb - batch_mean.reshape(self._broadcast)) ** 2).sum(axis=reduce)
            delta, total = batch_mean - mean, count + n
            mean = mean + delta * (n / total)
            m2 = m2 + batch_m2 + delta**2 * (count * n / total)
            count = total
        if count == 0:
            raise ValueError(f"Layer '{self.name}' (Normalization).adapt: got no data")
        self.mean.assign(np.asarray(mean, dtype=self.mean.dtype))
        self.variance.assign(np.asarray(m2 / count, dtype=self.variance.dtype))

    def call(self, x: Tensor) -> Tensor:
        x = _as_float(self, x)
        mean = self.mean.data.reshape(self._broadcast)
        std = np.maximum(np.sqrt(self.variance.data), _EPSILON).reshape(self._broadcast)
        if self.invert:
            return F.add(F.mul(x, std.astype(x.dtype)), mean.astype(x.dtype))
        return F.div(F.sub(x, mean.astype(x.dtype)), std.astype(x.dtype))

    def get_config(self) -> dict[str, Any]:
        return _arrays_as_lists(super().get_config(), ("mean", "variance"))


class Rescaling(Layer):
    """``x * scale + offset``, e.g. ``Rescaling(1 / 255)`` maps uint8 pixels to [0, 1] and
    ``Rescaling(1 / 127.5, offset=-1)`` to [-1, 1]. Integer inputs become float32.

    Args:
        scale, offset: numbers, or lists broadcast against the last axis (per channel).
    """

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def get_config(self) -> dict[str, Any]:
        return _arrays_as_lists(super().get_config(), ("scale", "offset"))

    def call(self, x: Tensor) -> Tensor:
        x = _as_float(self, x)
        scale = np.asarray(self.scale, dtype=x.dtype)
        offset = np.asarray(self.offset, dtype=x.dtype)
        return F.add(F.mul(x, scale), offset)


class _RandomImageLayer(Layer):
    """A seeded augmentation of images (batch, height, width, channels) or one image, active
    in training; ``data_format='channels_first'`` takes (batch, channels, height, width). As in
    Keras 3, the default of ``training`` is True: called on its own (a ``ds.map`` of
    augmentation, a model of these layers called on images) it augments; inside ``fit`` it
    augments, inside ``predict`` and ``evaluate`` (``training=False``) it does not.
    Subclasses write ``_augment`` for float channels-last images."""

    def __init__(self, seed: int | None = None, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self.data_format = _data_format(data_format)
        self._generator = np.random.default_rng(seed) if seed is not None else new_generator()
        self.input_spec = InputSpec(min_ndim=3)

    def _augment(self, x: Tensor, training: bool) -> Tensor:
        raise NotImplementedError

    def call(self, x: Tensor, training: bool = True) -> Tensor:
        if x.ndim not in (3, 4):
            layout = "height, width, channels" if self.data_format == "channels_last" \
                else "channels, height, width"
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) expects images "
                             f"(batch, {layout}) or ({layout}), got input of shape {x.shape}")
        x = _as_float(self, x)
        if self.data_format == "channels_last":
            return self._augment(x, training)
        lead = tuple(range(x.ndim - 3))
        y = self._augment(F.transpose(x, (*lead, x.ndim - 2, x.ndim - 1, x.ndim - 3)), training)
        return F.transpose(y, (*lead, y.ndim - 1, y.ndim - 3, y.ndim - 2))


class RandomFlip(_RandomImageLayer):
    """In training, flip each image left-right and/or upside-down with probability 1/2; at
    inference, the identity.

    Args:
        mode: 'horizontal' (left-right), 'vertical' (upside-down) or 'horizontal_and_vertical'
            (each independently; Keras's default).
        seed: the layer's own random stream (None: spawned from ``set_random_seed``).
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape: (batch, height, width, channels) or (height, width, channels); channels
        first with 'channels_first'. Output shape: the same, float32.
    """

    _MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode: str = "horizontal_and_vertical", seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed, data_format, **kwargs)
        if mode not in self._MODES:
            raise ValueError(f"RandomFlip mode must be one of {self._MODES}, got {mode!r}")
        self.mode = mode

    def _augment(self, x: Tensor, training: bool) -> Tensor:
        if not training:
            return x
        for name, axis in (("horizontal", -2), ("vertical", -3)):
            if name in self.mode:
                # one draw per image; the (…, 1, 1, 1) mask broadcasts over its pixels
                flip = self._generator.random(x.shape[:-3]) < 0.5
                x = F.where(np.reshape(flip, (*flip.shape, 1, 1, 1)), F.flip(x, axis=axis), x)
        return x


class RandomCrop(_RandomImageLayer):
    """In training, crop each image at its own random position to ``height`` x ``width``,
    after zero-padding it by ``padding`` pixels on each side: ``RandomCrop(32, 32, padding=4)``
    is the classic CIFAR-10 recipe (pad to 40 x 40, crop back to 32 x 32). At inference the
    padding is not applied: an input of the target size passes unchanged, a larger one is
    center-cropped.

    Keras's RandomCrop has no ``padding`` and draws one window per batch; here each image gets
    its own window (torchvision's recipe), and at inference a larger input is center-cropped
    where Keras resizes the largest centered window (``smart_resize``). An input smaller than
    the target is an error (give ``padding``, or resize the images).

    Args:
        height, width: the output size.
        seed: the layer's own random stream (None: spawned from ``set_random_seed``).
        data_format: 'channels_last' (default) or 'channels_first'.
        name: the layer's name (Keras's positional place for it).
        padding: zeros added on each side before the training crop: an int, or
            (pad_height, pad_width).

    Input shape: (batch, H, W, channels) or (H, W, channels); channels first with
        'channels_first'. Output shape: (batch, height, width, channels), float32.
    """

    def __init__(self, height: int, width: int, seed: int | None = None,
                 data_format: str | None = None, name: str | None = None,
                 padding: int | tuple[int, int] = 0, **kwargs: Any) -> None:
        super().__init__(seed, data_format, name=name, **kwargs)
        pads = (padding, padding) if isinstance(padding, int) else tuple(padding)
        if len(pads) != 2 or any(not isinstance(p, int) or p < 0 for p in pads):
            raise ValueError(f"RandomCrop padding must be a non-negative int or (pad_height, "
                             f"pad_width), got {padding!r}")
        if min(height, width) < 1:
            raise ValueError(f"RandomCrop needs a positive height and width, got {height}x"
                             f"{width}")
        self.height, self.width, self.padding = int(height), int(width), padding
        self._pads = pads

    def _augment(self, x: Tensor, training: bool) -> Tensor:
        if training and any(self._pads):
            (ph, pw), lead = self._pads, x.ndim - 3
            x = F.pad(x, ((0, 0),) * lead + ((ph, ph), (pw, pw), (0, 0)))
        h, w = x.shape[-3], x.shape[-2]
        if h < self.height or w < self.width:
            raise ValueError(f"Layer '{self.name}' (RandomCrop) crops {self.height}x{self.width} "
                             f"but got images of {h}x{w}"
                             f"{' after padding' if training and any(self._pads) else ''}; "
                             "give padding= or resize the images first")
        if h == self.height and w == self.width:
            return x
        if not training:
            top, left = (h - self.height) // 2, (w - self.width) // 2
            return F.getitem(x, (..., slice(top, top + self.height),
                                 slice(left, left + self.width), slice(None)))
        batch = x.shape[:-3]
        top = self._generator.integers(0, h - self.height + 1, size=batch)
        left = self._generator.integers(0, w - self.width + 1, size=batch)
        if not batch:  # one image
            return F.getitem(x, (slice(top, top + self.height), slice(left, left + self.width)))
        # every image's own window in one gather: rows (N, h, 1), columns (N, 1, w)
        rows = (top[:, None] + np.arange(self.height))[:, :, None]
        cols = (left[:, None] + np.arange(self.width))[:, None, :]
        return F.getitem(x, (np.arange(batch[0])[:, None, None], rows, cols))
