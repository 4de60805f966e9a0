"""``python -m shenjing``: the ``shenjing`` command (see :mod:`shenjing.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
