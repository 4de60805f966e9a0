"""Weight penalties: ``L1``, ``L2``, ``L1L2`` (and Keras's lowercase spellings ``l1``, ``l2``,
``l1_l2``)."""

from .layers.regularizers import L1, L1L2, L2, get, serialize

l1, l2, l1_l2 = L1, L2, L1L2  # keras.regularizers.l2(0.01) is L2(0.01)

__all__ = ["L1", "L1L2", "L2", "get", "l1", "l1_l2", "l2", "serialize"]
