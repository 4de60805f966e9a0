"""Put this folder on sys.path, so the tests here import the shared ``layer_contract`` helper under
any import mode (the root conftest does the same for ``oracle``)."""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
