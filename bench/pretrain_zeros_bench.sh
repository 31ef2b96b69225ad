#!/usr/bin/env bash
# pretrain at the new default model's size with zero sampling, against the machine's SGEMM rate and
# against PyTorch running the same model on the same cells with the same zero sampling, masking and
# optimiser (bench/pretrain_torch.py), the two runs interleaved so that they share the machine's load.
#
# Model: scBERT's vocabulary (V genes of VOCAB), dim 64, depth 4, 4 heads of 16, 44 random features,
# feed-forward 256. Cells: shard SHARD (default 1/31) of the 10x directory, all of them trained once
# (one epoch: holdout 0, steps = cells / BATCH), --zeros ${ZEROS}x (default 1x). pretrain's hidden
# --report-sgemm times OpenBLAS sgemm 1024^3 on the same thread count right after training.
#
# Usage: bench/pretrain_zeros_bench.sh TENX_DIR VOCAB VENV [BIN_DIR] [RUNS]
#   TENX_DIR  a 10x directory of raw counts; VOCAB scBERT's gene list; VENV a venv with torch (CPU)
# Prints one line per run and the medians per thread count, per second of wall time and per second
# of process CPU time (on a shared machine the CPU-time figures are the stable ones, for one thread;
# with two threads CPU time counts both); record them in BENCHMARKS.md.
set -euo pipefail
DATA=$1; VOCAB=$2; VENV=$3
cd "$(dirname "$0")/.."
BIN=${4:-.build/release}
RUNS=${5:-3}
ZEROS=${ZEROS:-1}
WORK=bench/work/pretrain_zeros
. bench/pretrain_cells.sh
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; $(nproc) cores; $CELLS cells, batch $BATCH, $STEPS steps, zeros ${ZEROS}x"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for t in 1 2; do
    : > "$WORK/runs_t$t.txt"
    for r in $(seq "$RUNS"); do
        line=$("$BIN/pretrain" "$WORK/cells.sgrf" -o "$WORK/model.safetensors" "${MODEL[@]}" --batch-size "$BATCH" \
            --steps "$STEPS" --zeros "${ZEROS}x" --eval-every 0 --holdout-fraction 0 -t "$t" --report-sgemm 2>&1 | grep 'benchmark:')
        torch=$("$VENV/bin/python" bench/pretrain_torch.py "$WORK/cells.tsv" "$VOCAB" "${MODEL[@]}" --batch-size "$BATCH" \
            --steps "$STEPS" --zeros "$ZEROS" --threads "$t")
        echo "t=$t run $r: scgrn ${line#*benchmark: }; $torch"
        echo "$line|$torch" >> "$WORK/runs_t$t.txt"
    done
    python3 - "$WORK/runs_t$t.txt" "$t" <<'PY'
import re, statistics, sys
num = r"([0-9.]+)"
rows = []
for l in open(sys.argv[1]):
    ours, torch = l.split("|")
    o = re.search(rf"benchmark: {num} positions/s, training {num} GFLOP/s, SGEMM 1024\^3 {num} GFLOP/s on \d+ threads, "
                  rf"fraction {num}; per CPU second: {num} positions/s, training {num} GFLOP/s, SGEMM {num} GFLOP/s, fraction {num}", ours)
    t = re.search(rf"torch: {num} positions/s, training {num} GFLOP/s; per CPU second: {num} positions/s, training {num} GFLOP/s", torch)
    rows.append([float(x) for x in o.groups() + t.groups()])
m = lambda i: statistics.median(r[i] for r in rows)
ratio = lambda a, b: statistics.median(r[a] / r[b] for r in rows)
print(f"t={sys.argv[2]} median of {len(rows)}, wall: scgrn {m(0):.0f} positions/s, {m(1):.2f} GFLOP/s = {m(3):.3f} of SGEMM "
      f"({m(2):.2f} GFLOP/s); torch {m(8):.0f} positions/s; scgrn/torch {ratio(0, 8):.2f}x")
print(f"t={sys.argv[2]} median of {len(rows)}, per CPU second: scgrn {m(4):.0f} positions/s, {m(5):.2f} GFLOP/s = {m(7):.3f} of SGEMM "
      f"({m(6):.2f} GFLOP/s); torch {m(10):.0f} positions/s; scgrn/torch {ratio(4, 10):.2f}x")
PY
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
