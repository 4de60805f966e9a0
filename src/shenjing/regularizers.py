"""Weight penalties: ``L1``, ``L2``, ``L1L2``, ``OrthogonalRegularizer``, the ``Regularizer``
base for your own (and Keras's lowercase spellings ``l1``, ``l2``, ``l1_l2``,
``orthogonal_regularizer``)."""

from .layers.regularizers import (
    L1,
    L1L2,
    L2,
    OrthogonalRegularizer,
    Regularizer,
    get,
    serialize,
)

# keras.regularizers.l2(0.01) is L2(0.01); Keras 3's l1_l2 is the class (defaults 0 and 0)
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer


__all__ = ["L1", "L1L2", "L2", "OrthogonalRegularizer", "Regularizer", "get", "l1", "l1_l2",
           "l2", "orthogonal_regularizer", "serialize"]
