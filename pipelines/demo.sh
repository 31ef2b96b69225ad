#!/usr/bin/env bash
# make demo: the whole scgrn pipeline on the bundled real example, with the default model.
#
# Data: BEELINE hHEP (human hepatocyte differentiation, 948 genes × 425 cells, log2-normalised;
# TFs + 500 most varying genes) with its cell-type-specific ChIP-seq ground truth, resampled
# split 1 of 5 (Tests/Fixtures/beeline/hHEP_TFs500_Specific_sample1, MIT; see its README).
# Model: models/default (MODEL_CARD.md). Output in out/demo/.
#
# Usage: pipelines/demo.sh [BIN_DIR]   (default .build/release; MODEL=… GENES=… to change the model)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release}
DATA=Tests/Fixtures/beeline/hHEP_TFs500_Specific_sample1
MODEL=${MODEL:-models/default/model.safetensors}
GENES=${GENES:-$(dirname "$MODEL")/genes.txt}
OUT=out/demo
mkdir -p "$OUT"
SECONDS=0

echo "[demo] 1/4 tokenize | embed: 425 cells through the transformer ($MODEL)"
"$BIN/tokenize" "$DATA/ExpressionData.csv.gz" --input-scale log2 --vocab "$GENES" \
  | "$BIN/embed" --model "$MODEL" --genes dataset -o "$OUT/genes.sgrf"
"$BIN/frames" check "$OUT/genes.sgrf"

echo "[demo] 2/4 graphify: graph attention over the training prior, selected on the validation pairs"
"$BIN/graphify" "$OUT/genes.sgrf" --prior "$DATA/Train.tsv" --train "$DATA/Train.tsv" --valid "$DATA/Valid.tsv" \
  --seed 8 -o "$OUT/model.sgrf"

echo "[demo] 3/4 score: every TF × gene pair → $OUT/edges.tsv"
"$BIN/score" "$OUT/model.sgrf" --tfs "$DATA/tfs.txt" -o "$OUT/edges.tsv"

echo "[demo] 4/4 score: the held-out test pairs against the ground truth"
"$BIN/score" "$OUT/model.sgrf" --pairs "$DATA/Test.tsv" --truth "$DATA/Test.tsv" \
  --metrics "$OUT/metrics.json" --plot "$OUT/curves.svg" -o "$OUT/test_scores.tsv"

echo
echo "Top 20 edges of the inferred network:"
head -n 21 "$OUT/edges.tsv" | column -t
metric() { sed -n "s/^  \"$1\": *\([0-9.eE+-]*\).*/\1/p" "$OUT/metrics.json"; }
echo
echo "Held-out test pairs ($(($(wc -l < "$DATA/Test.tsv") - 1)) pairs; ROC and PR curves in $OUT/curves.svg):"
printf '  %-48s %8s %8s\n' "" AUROC AUPRC
printf '  %-48s %8.3f %8.3f\n' "scgrn (this run)" "$(metric auroc)" "$(metric auprc)"
printf '  %-48s %8.3f %8.3f\n' "GENELink, same split (its own code, 20 epochs)" 0.8567 0.7205
printf '  %-48s %8.3f %8.3f\n' "TrainDegree baseline (mean of 5 splits)" 0.726 0.538
echo "  (GENELink and baseline figures: measured on this project's machine with each method's own code; BENCHMARKS.md)"
echo "[demo] done in ${SECONDS}s"
