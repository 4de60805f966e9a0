"""Tools for checking and watching training: gradient checks and the gradient monitor."""

from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["GradcheckError", "GradientMonitor", "GradientWarning", "gradcheck", "gradgradcheck"]


def __getattr__(name: str):
    # The monitor is a callback: loaded on first use, so `import shenjing` stays fast.
    if name in ("GradientMonitor", "GradientWarning"):
        from . import monitor

        return getattr(monitor, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
