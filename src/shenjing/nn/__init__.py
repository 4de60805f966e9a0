"""PyTorch's ``torch.nn`` namespace; for now its ``functional`` (torch's signatures and NCHW
layouts over shenjing's ops). Loaded on first use: ``import shenjing`` does not import it."""

from . import functional

__all__ = ["functional"]
