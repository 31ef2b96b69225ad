#!/bin/sh
# Benchmark of tokenize (see bench/tokenize_bench.py): bench/tokenize.sh MOUSE_10X_DIR [--python PY] [--runs N]
exec python3 "$(dirname "$0")/tokenize_bench.py" "$@"
