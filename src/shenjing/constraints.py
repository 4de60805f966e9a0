"""Weight constraints, applied by the optimizer after each update: ``MaxNorm``,
``MinMaxNorm``, ``NonNeg``, ``UnitNorm`` (and Keras's lowercase spellings ``max_norm``,
``min_max_norm``, ``non_neg``, ``unit_norm``), ``Constraint`` to write your own."""

from .layers.constraints import Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm, get, serialize

max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm

__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "get", "max_norm",
           "min_max_norm", "non_neg", "serialize", "unit_norm"]
