"""``torch.nn.Parameter``: a leaf tensor that requires grad, for models written by hand."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layers.parameter import Parameter as _LayerParameter


class Parameter(_LayerParameter):
    """torch's ``nn.Parameter(data, requires_grad=True)``: shenjing's weight class (so the
    optimizers, ``isinstance`` checks and saving treat it as a layer's weight), made from a
    tensor or array (float32 unless it is float64 or float16, whose dtype it keeps)."""

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty(0, np.float32)
        dtype = getattr(data, "dtype", None)
        super().__init__(data, trainable=requires_grad,
                         dtype=dtype if dtype is not None and np.dtype(dtype).kind == "f" else None)
