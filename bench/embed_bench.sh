#!/bin/sh
# embed benchmark: seconds per cell of the full-size scBERT forward (random weights), against
# PyPI performer-pytorch (same FLOPs) and the machine's SGEMM rate, measured in the same run.
#
#   bench/embed_bench.sh [VENV] [CELLS]
# VENV: a Python venv with torch 2.13.0+cpu and performer-pytorch (default /tmp/embed-venv; its
# absence skips the PyTorch peer). Builds embed in release mode first. Prints TSV lines:
#   what  threads  value  unit  load_before
# Seconds per cell for embed = (wall time for CELLS cells − wall time for 0 cells) / CELLS, so
# model loading is excluded, as it is for the peer. Threads 2 = two cells at once (the default).
# EMBED_BASELINE=path/to/an/older/embed also times that binary the same way in the same run
# (lines baseline_*), for before/after comparisons under the same load.
set -eu
cd "$(dirname "$0")/.."
VENV=${1:-/tmp/embed-venv}
CELLS=${2:-4}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
swift build -c release --product embed >/dev/null
EMBED=.build/release/embed
python3 bench/embed_inputs.py "$WORK" --cells "$CELLS" >/dev/null
python3 bench/embed_inputs.py "$WORK" --cells 0 >/dev/null
# core.c: the yardstick runs on the OpenBLAS kernels the tools run on (docs/ENGINE.md, "Determinism")
cc -O2 bench/embed_sgemm.c Sources/CBLASCore/core.c -ISources/CBLASCore/include \
  -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas -o "$WORK/sgemm"
load() { cut -d' ' -f1 /proc/loadavg; }
echo "# machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cpus; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
echo "# other processes at start (top 5 by CPU):"
ps -eo pcpu,comm --sort=-pcpu | sed -n '2,6p' | sed 's/^/#   /'
# time_embed NAME BINARY THREADS: seconds per cell and peak RSS (with CELLS and with 0 cells).
time_embed() {
  l=$(load)
  s0=$(date +%s.%N); $2 "$WORK/cells_0.sgrf" --model "$WORK/scbert_random.safetensors" --emit cells -t "$3" -v -o "$WORK/o0" 2>"$WORK/err0"; s1=$(date +%s.%N)
  rss0=$(sed -n 's/.*Peak RSS: \([0-9.]*\) MB.*/\1/p' "$WORK/err0")
  $2 "$WORK/cells_$CELLS.sgrf" --model "$WORK/scbert_random.safetensors" --emit cells -t "$3" -v -o "$WORK/o1" 2>"$WORK/err"; s2=$(date +%s.%N)
  rss=$(sed -n 's/.*Peak RSS: \([0-9.]*\) MB.*/\1/p' "$WORK/err")
  echo "$s0 $s1 $s2" | awk -v n="$1" -v t="$3" -v c="$CELLS" -v l="$l" -v r="$rss" -v r0="$rss0" \
    '{printf "%s_s_per_cell\t%s\t%.2f\ts\t%s\n%s_peak_rss_%d_cells\t%s\t%s\tMB\t%s\n%s_peak_rss_0_cells\t%s\t%s\tMB\t%s\n", n, t, (($3-$2)-($2-$1))/c, l, n, c, t, r, l, n, t, r0, l}'
}
for t in 1 2; do
  l=$(load); "$WORK/sgemm" "$t" | awk -v t="$t" -v l="$l" '/gflops/ {print "sgemm_" $1 "\t" t "\t" $2 "\tGFLOP/s\t" l}'
  time_embed embed "$EMBED" "$t"
  if [ -n "${EMBED_BASELINE:-}" ]; then time_embed baseline "$EMBED_BASELINE" "$t"; fi
  if [ -x "$VENV/bin/python" ]; then
    l=$(load)
    "$VENV/bin/python" bench/embed_torch.py "$t" "$CELLS" 2>/dev/null | awk -v t="$t" -v l="$l" '/median/ {print "torch_s_per_cell\t" t "\t" $2 "\ts\t" l}'
  fi
done
echo "# load at end: $(cat /proc/loadavg)"
