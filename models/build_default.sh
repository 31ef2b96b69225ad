#!/usr/bin/env bash
# Rebuilds models/default/ (the default model) from the pretraining corpus, bit for bit.
# Usage: models/build_default.sh CORPUS [BIN_DIR]   (`make model CORPUS=…` runs it; THREADS=n to set -t)
#
# CORPUS is a folder holding the fourteen 10x directories that models/corpus.sha256 lists (their
# sources and licences: models/default/MODEL_CARD.md); every file is checked against it first.
# 1. the vocabulary: scBERT's 16,906 genes (models/vocab/scbert_genes.txt);
# 2. the corpus: each set tokenized with it (the two mouse sets through the ortholog table);
# 3. pretrain: scBERT's masked-token objective with the frozen knowledge gene table
#    (models/knowledge/), the configuration below, seed 1; two whole sets are held out for evaluation.
# The training log is kept in out/model/train.log; MODEL_CARD.md reports it. About 1 h 15 min on
# one core of a 2-core machine (figures and the OpenBLAS kernels the sha256 needs: MODEL_CARD.md).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:?usage: models/build_default.sh CORPUS [BIN_DIR] (CORPUS: the folder of models/corpus.sha256)}
BIN=${2:-.build/release}
OUT=out/model
DIR=models/default
MOUSE="RaceID_intestine SuperCell_pancreas_spliced"
HELDOUT="SoupX_PBMC scmixology_sc_dropseq"
( cd "$CORPUS" && sha256sum --check --quiet "$OLDPWD/models/corpus.sha256" ) \
    || { echo "build_default.sh: $CORPUS does not hold the corpus of models/corpus.sha256" >&2; exit 65; }
mkdir -p "$OUT" "$DIR"
cp models/vocab/scbert_genes.txt "$DIR/genes.txt"
train=() heldout=()
for set in $(cut -d/ -f1 models/corpus.sha256 | awk '{print $2}' | LC_ALL=C sort -u); do
    species=()
    [[ " $MOUSE " == *" $set "* ]] && species=(--species mouse)
    "$BIN/tokenize" "$CORPUS/$set" --vocab "$DIR/genes.txt" "${species[@]}" -q -o "$OUT/$set.sgrf"
    if [[ " $HELDOUT " == *" $set "* ]]; then heldout+=(--heldout "$OUT/$set.sgrf"); else train+=("$OUT/$set.sgrf"); fi
done
start=$(date +%s)
"$BIN/pretrain" "${train[@]}" "${heldout[@]}" -o "$DIR/model.safetensors" \
    --dim 64 --depth 4 --heads 4 --dim-head 16 --features 44 --zeros 1x \
    --gene2vec models/knowledge/gene_table_64.txt.gz \
    --steps 4000 --batch-size 8 --lr 2e-3 --warmup 200 --seed 1 --eval-every 1000 \
    -v ${THREADS:+-t "$THREADS"} 2>&1 | grep -v 'cells/s, ETA' | tee "$OUT/train.log"
echo "wall time: $(( $(date +%s) - start )) s" | tee -a "$OUT/train.log"
sha256sum "$DIR/genes.txt" "$DIR/model.safetensors" | tee -a "$OUT/train.log"
