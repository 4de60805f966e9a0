#!/usr/bin/env bash
# The whole test suite (sets up .venv on first use). Extra arguments go to pytest.
source "$(dirname "$0")/env.sh"
python -m pytest "$@"
