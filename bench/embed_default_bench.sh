#!/bin/sh
# embed on a model written by scgrn's pretrain (the default model's kind) against the same model in
# PyTorch (bench/embed_default_torch.py: the same weights, the same token sequences, batch 1 per
# cell, torch.no_grad, the same per-gene mean pooling), and the machine's SGEMM rate, in one run.
#
#   bench/embed_default_bench.sh [MODEL] [VENV] [BIN_DIR]
# MODEL   a .safetensors from pretrain (default models/default/model.safetensors); its vocabulary is
#         genes.txt next to it, or VOCAB=FILE
# VENV    a venv with torch (CPU), numpy and safetensors (default: the python3 on PATH)
# BIN_DIR scgrn's tools (default .build/release; build them first)
# Environment: RUNS (3; 0 = the output checks only); FULL_CELLS (cells timed at the full
#   vocabulary; default: enough for about 400,000 positions, i.e. 24 at scBERT's vocabulary, 195 at
#   the default model's; 0 = all); DATASET_CELLS (cells timed at the dataset's genes; 0 = all);
#   THREADS ("1 2"); DATASET (the BEELINE hHEP TFs+500 fixture, log2 values, 425 cells).
#
# The input is DATASET tokenized with `--input-scale log2 --vocab VOCAB`. Two settings:
#   dataset     embed --genes dataset     (the vocabulary genes present in the dataset + 1 positions)
#   vocabulary  embed --genes vocabulary  (the whole vocabulary + 1 positions)
# First a check that both compute the same thing: embed --emit encodings on 3 cells against the
# twin's encodings, every position (max abs difference), and in every timed run the pooled gene
# embeddings of embed's output (--emit genes, the default) against the twin's; a difference above
# 1e-4 stops the benchmark (a benchmark of a model that computes something else is worthless).
# Timing excludes model loading: embed's figure is cells / (time with the cells − time with 0
# cells), times from its own -v summary (wall and process CPU); the twin times its loop over cells
# after one untimed warm-up forward. Per-CPU-second figures are the stable ones on a shared machine.
# Threads: embed -t T (T cells at once, single-threaded BLAS); torch.set_num_threads(T).
# Prints one line per run, then per setting and thread count the medians of RUNS runs and the
# median of the per-run ratios scgrn/PyTorch (runs interleaved, so each pair shares the load).
set -eu
cd "$(dirname "$0")/.."
MODEL=${1:-models/default/model.safetensors}
PY=${2:+$2/bin/python}
PY=${PY:-python3}
BIN=${3:-.build/release}
VOCAB=${VOCAB:-$(dirname "$MODEL")/genes.txt}
RUNS=${RUNS:-3}
THREADS=${THREADS:-1 2}
DATASET_CELLS=${DATASET_CELLS:-0}
DATASET=${DATASET:-Tests/Fixtures/beeline/hHEP_TFs500_Specific_sample1/ExpressionData.csv.gz}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
[ -x "$BIN/embed" ] || { echo "no $BIN/embed: build first (swift build -c release)" >&2; exit 64; }
[ -f "$VOCAB" ] || { echo "no vocabulary $VOCAB: set VOCAB=FILE" >&2; exit 64; }
"$PY" -c 'import torch, safetensors, numpy' || { echo "$PY lacks torch, safetensors or numpy" >&2; exit 64; }
V=$(grep -c . "$VOCAB")
FULL_CELLS=${FULL_CELLS:-$(( (400000 + V) / (V + 1) ))}

load() { cut -d' ' -f1 /proc/loadavg; }
echo "# OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# load at start: $(cut -d' ' -f1-3 /proc/loadavg); top processes by CPU:"
ps -eo pcpu,comm --sort=-pcpu | sed -n '2,5p' | sed 's/^/#   /'
echo "# model $MODEL, vocabulary $VOCAB ($V genes); torch $("$PY" -c 'import torch; print(torch.__version__)')"

# Inputs: the dataset's genes; CELL streams of the first K cells (K = 3, FULL_CELLS, DATASET_CELLS)
# and of no cells (every cell dropped by --min-genes), tokenized as the issue says.
zcat -f "$DATASET" > "$WORK/all.csv"
tail -n +2 "$WORK/all.csv" | cut -d, -f1 > "$WORK/genes.txt"
TOTAL=$(($(head -1 "$WORK/all.csv" | tr ',' '\n' | wc -l) - 1))
[ "$FULL_CELLS" -gt 0 ] && [ "$FULL_CELLS" -lt "$TOTAL" ] || FULL_CELLS=$TOTAL
[ "$DATASET_CELLS" -gt 0 ] && [ "$DATASET_CELLS" -lt "$TOTAL" ] || DATASET_CELLS=$TOTAL
cells() {  # cells K: the stream of the first K cells, and its TSV for the twin
  cut -d, -f1-$(($1 + 1)) "$WORK/all.csv" > "$WORK/c$1.csv"
  "$BIN/tokenize" "$WORK/c$1.csv" --input-scale log2 --vocab "$VOCAB" -q -o "$WORK/c$1.cells"
  "$BIN/frames" view "$WORK/c$1.cells" > "$WORK/c$1.tsv"
}
for k in 3 "$FULL_CELLS" "$DATASET_CELLS"; do [ -f "$WORK/c$k.cells" ] || cells "$k"; done
"$BIN/tokenize" "$WORK/c3.csv" --input-scale log2 --vocab "$VOCAB" --min-genes 1000000000 -q -o "$WORK/c0.cells"

twin() { "$PY" bench/embed_default_torch.py "$MODEL" "$VOCAB" "$@"; }
for g in dataset vocabulary; do
  "$BIN/embed" "$WORK/c3.cells" --model "$MODEL" --genes "$g" --emit encodings -t 1 -q -o "$WORK/enc"
  "$BIN/frames" view "$WORK/enc" > "$WORK/enc.tsv"
  twin "$WORK/c3.tsv" "$WORK/genes.txt" --genes "$g" --check-encodings "$WORK/enc.tsv" > "$WORK/check"
  sed "s/^/# $g /" "$WORK/check"
done

# core.c: the yardstick runs on the OpenBLAS kernels the tools run on (docs/ENGINE.md, "Determinism")
cc -O2 bench/embed_sgemm.c Sources/CBLASCore/core.c -ISources/CBLASCore/include \
  -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas -o "$WORK/sgemm"
summary() { sed -n 's/.*Real time: \([0-9.]*\) sec; CPU: \([0-9.]*\) sec.*/\1 \2/p' "$1"; }
: > "$WORK/runs.tsv"
for t in $THREADS; do
  l=$(load); "$WORK/sgemm" "$t" | awk -v t="$t" -v l="$l" '/gflops/ {print "sgemm_" $1 "\tthreads " t "\t" $2 " GFLOP/s\tload " l}'
  for r in $(seq "$RUNS"); do
    for g in dataset vocabulary; do
      if [ "$g" = dataset ]; then k=$DATASET_CELLS; else k=$FULL_CELLS; fi
      l=$(load)
      "$BIN/embed" "$WORK/c0.cells" --model "$MODEL" --genes "$g" -t "$t" -v -o "$WORK/out0" 2>"$WORK/err0"
      "$BIN/embed" "$WORK/c$k.cells" --model "$MODEL" --genes "$g" -t "$t" -v -o "$WORK/out" 2>"$WORK/err"
      "$BIN/frames" view "$WORK/out" > "$WORK/out.tsv"
      tw=$(twin "$WORK/c$k.tsv" "$WORK/genes.txt" --genes "$g" --threads "$t" --check-genes "$WORK/out.tsv")
      echo "$g $t $r $k $(summary "$WORK/err0") $(summary "$WORK/err") $l $(echo "$tw" | tr '\n' '\t')" >> "$WORK/runs.tsv"
      tail -1 "$WORK/runs.tsv" | awk '{n=$4; printf "run\t%s\tthreads %s\trun %s\t%s cells\tscgrn %.2f cells/s (%.2f per CPU s)\ttorch %.2f cells/s (%.2f per CPU s)\tpositions %s\tgenes check max abs diff %s\tload %s\n", $1, $2, $3, n, n/($7-$5), n/($8-$6), $11, $13, $17, $26, $9}'
    done
  done
done
"$PY" - "$WORK/runs.tsv" "$MODEL" <<'PY'
import statistics as st, sys
from safetensors import safe_open
with safe_open(sys.argv[2], framework="np") as f:
    s = {k: f.get_slice(k).get_shape() for k in f.keys()}
d = s["token_emb.weight"][1]
m, e = s["performer.net.layers.0.0.fn.fast_attention.projection_matrix"]
i = s["performer.net.layers.0.0.fn.to_q.weight"][0]
ff = s["performer.net.layers.0.1.fn.fn.w1.weight"][0]
depth = len({k.split(".")[3] for k in s if k.startswith("performer.net.layers.")})
h = i // e
# forward FLOPs per position (pretrain's count / 3): q,k,v and out projections, feed-forward, FAVOR+
per_pos = depth * (2 * d * 3 * i + 2 * i * d + 4 * d * ff + h * (2 * 2 * e * m + 2 * 2 * m * (e + 1)))
rows = {}
for line in open(sys.argv[1]):
    c = line.split()
    g, t, n = c[0], int(c[1]), int(c[3])
    w0, c0, w1, c1 = map(float, c[4:8])
    rows.setdefault((g, t), []).append((n / (w1 - w0), n / (c1 - c0), float(c[10]), float(c[12]), int(c[16]), n, c[8]))
print("setting\tthreads\tcells\tpositions\tscgrn_cells_per_s\ttorch_cells_per_s\tratio\t"
      "scgrn_per_cpu_s\ttorch_per_cpu_s\tratio_cpu\tscgrn_gflops\tloads")
for (g, t), rs in rows.items():
    med = lambda j: st.median(r[j] for r in rs)
    ratio = lambda a, b: st.median(r[a] / r[b] for r in rs)
    n = rs[0][4]
    print(f"{g}\t{t}\t{rs[0][5]}\t{n}\t{med(0):.2f}\t{med(2):.2f}\t{ratio(0, 2):.2f}\t"
          f"{med(1):.2f}\t{med(3):.2f}\t{ratio(1, 3):.2f}\t{med(0) * per_pos * n / 1e9:.2f}\t{','.join(r[6] for r in rs)}")
print(f"# medians of {len(next(iter(rows.values()), []))} runs; ratio = median of the per-run ratios scgrn/torch; "
      f"forward {per_pos} FLOP per position")
PY
echo "# load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
