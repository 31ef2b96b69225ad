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

echo "== tokenize | embed: the bundled BEELINE hHEP cells through the default model (models/default)"
MODEL=${MODEL:-models/default/model.safetensors}
GENES=${GENES:-$(dirname "$MODEL")/genes.txt}
"$BIN/tokenize" Tests/Fixtures/beeline/hHEP_TFs500_Specific_sample1/ExpressionData.csv.gz \
    --input-scale log2 --vocab "$GENES" \
  | "$BIN/embed" --model "$MODEL" --genes dataset -o "$OUT/hhep.genes"
"$BIN/frames" view "$OUT/hhep.genes" | cut -f1-6 | sed -n 1,4p
