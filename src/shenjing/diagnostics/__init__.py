"""Tools for checking and watching training: gradient checks (gradient-flow monitors come later)."""

from .gradcheck import GradcheckError, gradcheck

__all__ = ["GradcheckError", "gradcheck"]
