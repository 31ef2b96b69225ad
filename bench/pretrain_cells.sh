# Sourced by the pretrain benches (bash): the cells and model they share. Tokenizes shard $SHARD
# (default 1/31) of the 10x directory $DATA with the vocabulary $VOCAB into $WORK/cells.sgrf (and
# its table view $WORK/cells.tsv, which bench/pretrain_torch.py reads), checks the cells fill
# batches of $BATCH (default 10), and sets CELLS, STEPS (one epoch) and MODEL (the default model's
# size: dim 64, depth 4, 4 heads of 16, 44 random features).
SHARD=${SHARD:-1/31}; BATCH=${BATCH:-10}
mkdir -p "$WORK"
"$BIN/tokenize" "$DATA" --vocab "$VOCAB" --shard "$SHARD" -q -o "$WORK/cells.sgrf"
"$BIN/frames" view "$WORK/cells.sgrf" > "$WORK/cells.tsv"
CELLS=$(tail -n +2 "$WORK/cells.tsv" | cut -f1 | uniq | wc -l)
[ $((CELLS % BATCH)) -eq 0 ] || { echo "$CELLS cells do not fill batches of $BATCH: choose SHARD or BATCH" >&2; exit 64; }
STEPS=$((CELLS / BATCH))
MODEL=(--dim 64 --depth 4 --heads 4 --dim-head 16 --features 44)
