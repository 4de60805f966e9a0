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

l1, l2, orthogonal_regularizer = L1, L2, OrthogonalRegularizer  # keras.regularizers.l2(0.01)


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """Both penalties, 0.01 each by default (Keras's function; the class's defaults are 0)."""
    return L1L2(l1=l1, l2=l2)


__all__ = ["L1", "L1L2", "L2", "OrthogonalRegularizer", "Regularizer", "get", "l1", "l1_l2",
           "l2", "orthogonal_regularizer", "serialize"]
