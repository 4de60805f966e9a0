"""Weight initializers (Keras names): ``shenjing.initializers.get('he_normal')``."""

from .layers.initializers import *  # noqa: F403
from .layers.initializers import __all__  # noqa: F401
