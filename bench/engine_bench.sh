#!/bin/sh
# Training-engine benchmark: one GENELink training step (forward + backward + Adam) on BEELINE's
# hHEP TFs+1000 (1,448 genes x 425 cells, STRING prior), scgrn's engine against PyTorch (CPU)
# with the same thread count, runs interleaved so both see the same machine load.
#
# Usage: bench/engine_bench.sh BEELINE_DATA_DIR [ROUNDS] [STEPS]
#   BEELINE_DATA_DIR  the project's shared BEELINE data (expression/, ground_truth/, splits/)
#   PYTHON            a Python with torch 2.13.0+cpu (default: python3)
# Prints one line per run and, at the end, the median of each configuration's medians.
set -eu
data=${1:?usage: engine_bench.sh BEELINE_DATA_DIR [ROUNDS] [STEPS]}
rounds=${2:-3}
steps=${3:-20}
py=${PYTHON:-python3}
here=$(cd "$(dirname "$0")" && pwd)
work="$here/work/engine"
mkdir -p "$work"
input="$work/hhep.safetensors"
[ -f "$input" ] || "$py" "$here/engine_prepare.py" "$data" "$input"
(cd "$here/.." && swift build -c release --product scgrn-bench >/dev/null)
bench="$here/../.build/release/scgrn-bench"
log="$work/runs.txt"
: > "$log"
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') cores=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$log"
for r in $(seq 1 "$rounds"); do
  for t in 1 2; do
    "$bench" "$input" --threads "$t" --steps "$steps" | tee -a "$log"
    "$py" "$here/engine_torch.py" "$input" --variant sparse --threads "$t" --steps "$steps" | tee -a "$log"
    "$py" "$here/engine_torch.py" "$input" --variant dense --threads "$t" --steps "$((steps / 2))" | tee -a "$log"
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$log"
"$py" - "$log" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\S+) threads=(\d+) .*forward_ms=([\d.]+) step_ms=([\d.]+)", line)
    if m:
        runs.setdefault((m[1], int(m[2])), []).append((float(m[3]), float(m[4])))
print("| peer | threads | forward ms | step ms | runs |")
print("|---|---|---|---|---|")
for (peer, t), v in sorted(runs.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    print(f"| {peer} | {t} | {statistics.median(x[0] for x in v):.1f} | {statistics.median(x[1] for x in v):.1f} | {len(v)} |")
for t in (1, 2):
    s = statistics.median(x[1] for x in runs.get(("swift", t), [(0, float("nan"))]))
    for peer in ("torch-sparse", "torch-dense"):
        if (peer, t) in runs:
            p = statistics.median(x[1] for x in runs[(peer, t)])
            print(f"threads={t}: {peer} step / swift step = {p / s:.2f}")
PY
