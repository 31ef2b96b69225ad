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
  --seed 8 -o "$OUT/model.sgrf"   # graphify's default seed; seeds 1-5 and 8 give AUROC 0.903-0.904, per-regulator 0.774-0.788 (BENCHMARKS.md)

echo "[demo] 3/4 score: every TF × gene pair → $OUT/edges.tsv"
"$BIN/score" "$OUT/model.sgrf" --tfs "$DATA/tfs.txt" -o "$OUT/edges.tsv"

echo "[demo] 4/4 score: the held-out test pairs against the ground truth"
"$BIN/score" "$OUT/model.sgrf" --pairs "$DATA/Test.tsv" --truth "$DATA/Test.tsv" \
  --metrics "$OUT/metrics.json" --plot "$OUT/curves.svg" -o "$OUT/test_scores.tsv"

echo
echo "Top 20 edges of the inferred network:"
head -n 21 "$OUT/edges.tsv" | column -t
# "N regulator(s)": how many different values column $1 holds among the top 20 edges, named $2.
top20() { awk -F'\t' -v c="$1" -v what="$2" 'NR > 1 && NR <= 21 { seen[$c] = 1 }
  END { n = length(seen); printf "%d %s%s", n, what, n == 1 ? "" : "s" }' "$OUT/edges.tsv"; }
novel=$(awk -F'\t' 'NR > 1 && NR <= 21 && $4 == 0' "$OUT/edges.tsv" | wc -l)
echo "  ($(top20 1 regulator) and $(top20 2 target) among them, $novel not in the training prior;"
echo "   score --per-regulator K lists each regulator's K best)"
echo
echo "Top 10 novel edges (not in the training prior: what the model proposes beyond it):"
awk -F'\t' 'NR == 1 || $4 == 0 { print; if (++n == 11) exit }' "$OUT/edges.tsv" | column -t
metric() { sed -n "s/^  \"$1\": *\([0-9.eE+-]*\).*/\1/p" "$OUT/metrics.json"; }
echo
echo "Held-out test pairs ($(($(wc -l < "$DATA/Test.tsv") - 1)) pairs; ROC and PR curves in $OUT/curves.svg):"
printf '  %-56s %7s %7s %14s\n' "" AUROC AUPRC "per-regulator"
printf '  %-56s %7.3f %7.3f %14.3f\n' "scgrn (this run)" "$(metric auroc)" "$(metric auprc)" "$(metric per_regulator_auroc)"
printf '  %-56s %7.3f %7.3f %14.3f\n' "gene identity alone (logistic regression, no expression)" 0.9035 0.8476 0.7784
printf '  %-56s %7.3f %7.3f %14s\n' "GENELink, same split (its own code, 20 epochs)" 0.8567 0.7205 "-"
echo "  Per-regulator: AUROC within each regulator's pairs, averaged; ranking whole regulators or hub"
echo "  targets cannot raise it. Baselines measured on this machine with each method's own code"
echo "  (bench/anchors/, bench/PROTOCOLS.md); on these splits gene identity alone is within 0.01 of scgrn pooled."
echo "[demo] done in ${SECONDS}s"
