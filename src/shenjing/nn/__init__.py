"""PyTorch's ``torch.nn`` namespace: its ``functional`` (torch's signatures and NCHW layouts
over shenjing's ops), ``init``, ``utils`` (gradient clipping) and ``Parameter``; and, under the
lowercase names torch's ``nn`` leaves free, TensorFlow's ``tf.nn`` functions (``softmax``,
``sparse_softmax_cross_entropy_with_logits``...: see ``nn/tensorflow.py``, loaded when one is
first asked for). Loaded on first use: ``import shenjing`` does not import it."""

import importlib as _importlib

from . import functional

__all__ = ["functional"]


def __getattr__(name: str):
    if name in ("init", "utils"):  # torch.nn.init, torch.nn.utils
        return _importlib.import_module(f".{name}", __name__)
    if name == "Parameter":
        return _importlib.import_module(".parameter", __name__).Parameter
    if not name.startswith("_") and name != "tensorflow":
        tensorflow = _importlib.import_module(".tensorflow", __name__)
        if name in tensorflow.NAMES:
            return getattr(tensorflow, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
