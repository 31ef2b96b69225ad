#!/usr/bin/env bash
# pretrain benchmark: training throughput (positions per second, forward + backward + Adam step)
# of the default model's configuration on the default model's corpus, and the fraction of the
# machine's SGEMM rate the training reaches, both measured in the same process (pretrain's hidden
# --report-sgemm: the median of 7 OpenBLAS sgemm calls of 1024^3 on the same thread count).
#
# Usage: bench/pretrain_bench.sh [BIN_DIR] [RUNS] [STEPS]   (defaults .build/release 3 30)
# Prints one line per run and the medians per thread count; record them in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release}
RUNS=${2:-3}
STEPS=${3:-30}
WORK=bench/work/pretrain
mkdir -p "$WORK"
GENES=models/default/genes.txt
[ -s "$WORK/hhep.cells" ] || "$BIN/tokenize" Tests/Fixtures/beeline/hHEP_TFs500_Specific_sample1/ExpressionData.csv.gz \
    --input-scale log2 --vocab "$GENES" -q -o "$WORK/hhep.cells"
[ -s "$WORK/pbmc.cells" ] || "$BIN/tokenize" Tests/Fixtures/tokenize/pbmc3k_v3 --vocab "$GENES" -q -o "$WORK/pbmc.cells"
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
for t in 1 2; do
    : > "$WORK/runs_t$t.txt"
    for r in $(seq "$RUNS"); do
        line=$("$BIN/pretrain" "$WORK/hhep.cells" "$WORK/pbmc.cells" -o "$WORK/model.safetensors" \
            --dim 32 --depth 2 --heads 4 --dim-head 16 --features 44 --batch-size 8 --steps "$STEPS" \
            --eval-every 0 --holdout-fraction 0.05 -t "$t" --report-sgemm 2>&1 | grep 'benchmark:')
        echo "t=$t run $r: ${line#*benchmark: }"
        echo "$line" | sed -E 's/.*benchmark: ([0-9.]+) positions\/s, training ([0-9.]+) GFLOP\/s, SGEMM 1024\^3 ([0-9.]+) GFLOP\/s on [0-9]+ threads, fraction ([0-9.]+).*/\1 \2 \3 \4/' >> "$WORK/runs_t$t.txt"
    done
    python3 - "$WORK/runs_t$t.txt" "$t" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
med = [statistics.median(c) for c in zip(*rows)]
print(f"t={sys.argv[2]} median of {len(rows)}: {med[0]:.0f} positions/s, training {med[1]:.2f} GFLOP/s, "
      f"SGEMM {med[2]:.2f} GFLOP/s, fraction {med[3]:.3f}")
PY
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
