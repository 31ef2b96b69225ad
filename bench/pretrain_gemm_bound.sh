#!/usr/bin/env bash
# How far pretraining can go while OpenBLAS does its matrix products: one run of pretrain at the
# default model's size (as bench/pretrain_zeros_bench.sh: dim 64, depth 4, 4 heads of 16, 44
# features, --zeros 1x, one epoch of a shard of TENX_DIR in batches of BATCH, 1 thread) with every
# cblas_sgemm call timed in thread CPU time (bench/gemm_profile.c), then PyTorch on the same cells
# and model (bench/pretrain_torch.py, 1 thread). Prints, per CPU second:
#   - pretrain's positions/s and its share of the 1024^3 SGEMM rate (pretrain --report-sgemm);
#   - its time in sgemm, and the rate OpenBLAS reaches on the run's own product shapes;
#   - the ceiling: positions/s if everything but the products took no time, as a share of the
#     SGEMM rate and as a multiple of PyTorch's positions/s.
# The per-shape table is left in bench/work/pretrain_gemm/profile.tsv.
#
# Usage: bench/pretrain_gemm_bound.sh TENX_DIR VOCAB VENV [BIN_DIR]
set -euo pipefail
DATA=$1; VOCAB=$2; VENV=$3
cd "$(dirname "$0")/.."
BIN=${4:-.build/release}
WORK=bench/work/pretrain_gemm
. bench/pretrain_cells.sh
cc -O2 -shared -fPIC bench/gemm_profile.c -o "$WORK/gemm_profile.so" -ldl
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; $CELLS cells, batch $BATCH, $STEPS steps, zeros 1x, 1 thread"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
GEMM_PROFILE_OUT="$WORK/profile.tsv" LD_PRELOAD="$PWD/$WORK/gemm_profile.so" \
    "$BIN/pretrain" "$WORK/cells.sgrf" -o "$WORK/model.safetensors" "${MODEL[@]}" --batch-size "$BATCH" \
    --steps "$STEPS" --zeros 1x --eval-every 0 --holdout-fraction 0 -t 1 --report-sgemm -v 2> "$WORK/pretrain.log"
torch=$("$VENV/bin/python" bench/pretrain_torch.py "$WORK/cells.tsv" "$VOCAB" "${MODEL[@]}" --batch-size "$BATCH" \
    --steps "$STEPS" --zeros 1 --threads 1)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$WORK/pretrain.log" "$WORK/profile.tsv" "$torch" <<'PY'
import csv, re, sys
log = open(sys.argv[1]).read()
num = r"([0-9.]+)"
steps = re.search(rf"trained \d+ steps in {num} s: {num} cells/s, {num} positions/s", log)
bench = re.search(rf"per CPU second: {num} positions/s, training {num} GFLOP/s, SGEMM {num} GFLOP/s, fraction {num}", log)
torch = re.search(rf"per CPU second: {num} positions/s", sys.argv[3])
if not (steps and bench and torch):
    sys.exit(f"pretrain_gemm_bound: could not read the figures ({sys.argv[1]}; torch said: {sys.argv[3]})")
seconds, _, per_wall = map(float, steps.groups())
per_cpu, train_gflops, sgemm_rate, fraction = map(float, bench.groups())
positions = per_wall * seconds
cpu = positions / per_cpu
rows = [r for r in csv.DictReader(open(sys.argv[2]), delimiter="\t")
        if not (r["m"] == r["n"] == r["k"] == "1024")]          # --report-sgemm's own yardstick
gemm_s = sum(float(r["cpu_seconds"]) for r in rows)
gemm_flops = sum(2.0 * int(r["m"]) * int(r["n"]) * int(r["k"]) * int(r["calls"]) for r in rows)
shape_rate = gemm_flops / gemm_s / 1e9
ceiling = positions / gemm_s
torch_rate = float(torch.group(1))
print(f"pretrain: {per_cpu:.0f} positions/s per CPU second, {fraction:.3f} of SGEMM ({sgemm_rate:.1f} GFLOP/s); "
      f"PyTorch {torch_rate:.0f} positions/s: {per_cpu / torch_rate:.2f}x")
print(f"sgemm: {gemm_s:.2f} of {cpu:.2f} CPU s of training ({gemm_s / cpu:.0%}), {len(rows)} shapes, "
      f"{shape_rate:.1f} GFLOP/s on them = {shape_rate / sgemm_rate:.2f} of the 1024^3 rate")
print(f"ceiling with products only: {ceiling:.0f} positions/s per CPU second = "
      f"{fraction * ceiling / per_cpu:.3f} of SGEMM, {ceiling / torch_rate:.2f}x PyTorch")
PY
