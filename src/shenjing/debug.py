"""Debugging aids: :func:`detect_anomaly` finds the first op that makes a NaN or an infinity.

>>> import shenjing
>>> with shenjing.debug.detect_anomaly():
...     model.fit(x, y)      # FloatingPointError naming the op and the line that called it
"""

from .autograd.anomaly import detect_anomaly, is_anomaly_enabled

__all__ = ["detect_anomaly", "is_anomaly_enabled"]
