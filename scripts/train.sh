#!/usr/bin/env bash
# Train the article's CNN on the built-in digits and report its test accuracy (sets up .venv on
# first use). Extra arguments go to `shenjing train`: see `bash scripts/train.sh --help`.
source "$(dirname "$0")/env.sh"
shenjing train "$@"
