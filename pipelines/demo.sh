#!/usr/bin/env bash
# The demo: the scgrn pipeline on the bundled example data.
# Usage: pipelines/demo.sh [BIN_DIR]   (default .build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release}
OUT=out/demo
mkdir -p "$OUT"
echo "== frames: check and view the bundled conformance streams"
"$BIN/frames" check Tests/Fixtures/frames/passed/09-two-shards.sgrf
"$BIN/frames" cat Tests/Fixtures/frames/passed/09-two-shards.sgrf -o "$OUT/merged.sgrf"
"$BIN/frames" view -H "$OUT/merged.sgrf"
