#!/bin/sh
# Times graphify's training on one prepared BEELINE folder (bench/beeline_prepare.py output):
# GENELink's defaults (20 epochs, batch 256, dot decoder), --train/--valid the folder's splits.
# Prints every run's wall-clock seconds and the median; the CELL stream is made once beforehand
# (bench/beeline_cells.py) and not timed.
#
#   sh bench/graphify_speed.sh PREPARED/hHEP_TFs500_Specific_sample1 [RUNS=3] [THREADS=2]
set -eu
dir=$1; runs=${2:-3}; threads=${3:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$root/bench/beeline_cells.py" "$dir/ExpressionData.csv.gz" "$work/cells.frames" 2>/dev/null
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
times=""
i=1
while [ "$i" -le "$runs" ]; do
    start=$(date +%s.%N)
    "$root/.build/release/graphify" "$work/cells.frames" --prior "$dir/Train.tsv" --train "$dir/Train.tsv" \
        --valid "$dir/Valid.tsv" -t "$threads" -q -o "$work/model.frames"
    end=$(date +%s.%N)
    t=$(echo "$end - $start" | bc)
    echo "run $i: $t s"
    times="$times $t"
    i=$((i + 1))
done
echo "$times" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print "median: " a[int((NR+1)/2)] " s over " NR " runs"}'
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
