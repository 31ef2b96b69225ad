#!/bin/sh
# Times graphify's training on one prepared BEELINE folder (bench/beeline_prepare.py output):
# GENELink's defaults (20 epochs, batch 256, dot decoder), --train/--valid the folder's splits.
# Prints every run's wall-clock seconds and the median; the CELL stream is made once beforehand
# (bench/beeline_cells.py) and not timed.
#
#   sh bench/graphify_speed.sh PREPARED/hHEP_TFs500_Specific_sample1 [RUNS=3] [THREADS=2]
#
# With GENELINK=<GENELink checkout's Code/ folder> and BEELINE=<folder holding expression/,
# ground_truth/, splits/>, GENELink's own training loop on the same split (bench/genelink_speed.py,
# with the same thread count) runs interleaved with ours — graphify, GENELink, graphify, … — and
# the ratio of the medians is printed. PYTHON names a Python with torch, pandas, scipy and
# scikit-learn (default python3).
set -eu
dir=$1; runs=${2:-3}; threads=${3:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$root/bench/beeline_cells.py" "$dir/ExpressionData.csv.gz" "$work/cells.sgrf" 2>/dev/null
# <cell>_TFs<n>_<Network>_sample<k>: the split GENELink reads.
split=$(basename "$dir")
dataset=$(echo "$split" | sed 's/^\([^_]*_TFs[0-9]*\)_.*/\1/')
network=$(echo "$split" | sed 's/^[^_]*_TFs[0-9]*_\(.*\)_sample[0-9]*$/\1/')
sample=$(echo "$split" | sed 's/.*_sample\([0-9]*\)$/\1/')
echo "$dataset $network sample $sample, $threads threads; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ours=""; theirs=""
i=1
while [ "$i" -le "$runs" ]; do
    start=$(date +%s.%N)
    "$root/.build/release/graphify" "$work/cells.sgrf" --prior "$dir/Train.tsv" --train "$dir/Train.tsv" \
        --valid "$dir/Valid.tsv" -t "$threads" -q -o "$work/model.sgrf"
    end=$(date +%s.%N)
    t=$(echo "$end - $start" | bc)
    echo "run $i: graphify $t s"
    ours="$ours $t"
    if [ -n "${GENELINK:-}" ]; then
        g=$("${PYTHON:-python3}" "$root/bench/genelink_speed.py" "$GENELINK" "$BEELINE" "$dataset" "$network" "$sample" \
            --threads "$threads" 2>"$work/genelink.log" | sed -n 's/^seconds //p')
        [ -n "$g" ] || { echo "GENELink failed:"; tail -5 "$work/genelink.log"; exit 1; }
        echo "run $i: GENELink $g s (training loop)"
        theirs="$theirs $g"
    fi
    i=$((i + 1))
done
m=$(echo "$ours" | median)
echo "median: graphify $m s over $runs runs"
if [ -n "$theirs" ]; then
    g=$(echo "$theirs" | median)
    echo "median: GENELink $g s over $runs runs; GENELink / graphify = $(awk -v g="$g" -v m="$m" 'BEGIN { printf "%.1f", g / m }')×"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
