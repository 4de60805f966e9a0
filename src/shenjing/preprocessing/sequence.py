"""``keras.preprocessing.sequence``: ``pad_sequences``."""

from ..data.sequence import pad_sequences

__all__ = ["pad_sequences"]
