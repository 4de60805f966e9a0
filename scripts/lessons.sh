#!/usr/bin/env bash
# The article's first lessons, run end to end (sets up .venv on first use).
source "$(dirname "$0")/env.sh"
for lesson in activations perceptron xor_mlp; do
  echo "== examples/$lesson.py"
  python "examples/$lesson.py"
  echo
done
