#!/usr/bin/env bash
# Rebuilds models/default/ (the default model) from data bundled in the repository, bit for bit.
# Usage: models/build_default.sh [BIN_DIR]   (default .build/release; `make model` runs it)
#
# 1. the vocabulary: hHEP TFs+500 genes ∪ the 1,200 PBMC genes expressed in most cells (make_vocabulary.py);
# 2. the corpus: BEELINE hHEP TFs+500 (425 cells, log2 values) and PBMC 3k (402 cells, raw counts),
#    tokenized with that vocabulary;
# 3. pretrain: scBERT's masked-token objective, the configuration below, seed 1.
# The training log is kept in out/model/train.log; models/default/MODEL_CARD.md reports it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release}
OUT=out/model
DIR=models/default
mkdir -p "$OUT" "$DIR"
python3 models/make_vocabulary.py > "$DIR/genes.txt"
"$BIN/tokenize" Tests/Fixtures/beeline/hHEP_TFs500_Specific_sample1/ExpressionData.csv.gz \
    --input-scale log2 --vocab "$DIR/genes.txt" -q -o "$OUT/hhep.cells"
"$BIN/tokenize" Tests/Fixtures/tokenize/pbmc3k_v3 --vocab "$DIR/genes.txt" -q -o "$OUT/pbmc.cells"
start=$(date +%s)
"$BIN/pretrain" "$OUT/hhep.cells" "$OUT/pbmc.cells" -o "$DIR/model.safetensors" \
    --dim 32 --depth 2 --heads 4 --dim-head 16 --features 44 \
    --steps 1000 --batch-size 8 --lr 2e-3 --warmup 100 --seed 1 --holdout-fraction 0.05 --eval-every 100 \
    ${THREADS:+-t "$THREADS"} 2>&1 | tee "$OUT/train.log"
echo "wall time: $(( $(date +%s) - start )) s" | tee -a "$OUT/train.log"
sha256sum "$DIR/genes.txt" "$DIR/model.safetensors" | tee -a "$OUT/train.log"
