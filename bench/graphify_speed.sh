#!/bin/sh
# Times graphify's training on one prepared BEELINE folder (bench/beeline_prepare.py output):
# GENELink's defaults (20 epochs, batch 256, dot decoder), --train/--valid the folder's splits.
# Prints every run's wall-clock and CPU seconds (user + system, all threads; /usr/bin/time) and
# their medians; the CELL stream is made once beforehand (bench/beeline_cells.py) and not timed.
# GRAPHIFY_OPTIONS adds options to graphify's command line (e.g. "--arch genelink"); graphify's
# default architecture runs without it. STREAM=<file> trains on that stream instead of the CELL
# stream (e.g. the default model's GENE stream of the same dataset: `tokenize … | embed`).
#
#   sh bench/graphify_speed.sh PREPARED/hHEP_TFs500_Specific_sample1 [RUNS=3] [THREADS=2]
#
# With GENELINK=<GENELink checkout's Code/ folder> and BEELINE=<folder holding expression/,
# ground_truth/, splits/>, GENELink's own training loop on the same split (bench/genelink_speed.py,
# with the same thread count) runs interleaved with ours — graphify, GENELink, graphify, … — and
# the ratios of the medians are printed. On a shared machine the CPU-time ratio is the one to read:
# wall time moves with the other jobs, CPU time much less. PYTHON names a Python with torch, pandas, scipy and
# scikit-learn (default python3).
set -eu
dir=$1; runs=${2:-3}; threads=${3:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -n "${STREAM:-}" ]; then
    cp "$STREAM" "$work/cells.sgrf"
else
    python3 "$root/bench/beeline_cells.py" "$dir/ExpressionData.csv.gz" "$work/cells.sgrf" 2>/dev/null
fi
# <cell>_TFs<n>_<Network>_sample<k>: the split GENELink reads.
split=$(basename "$dir")
dataset=$(echo "$split" | sed 's/^\([^_]*_TFs[0-9]*\)_.*/\1/')
network=$(echo "$split" | sed 's/^[^_]*_TFs[0-9]*_\(.*\)_sample[0-9]*$/\1/')
sample=$(echo "$split" | sed 's/.*_sample\([0-9]*\)$/\1/')
echo "$dataset $network sample $sample, ${STREAM:+stream $(basename "$STREAM"), }$threads threads; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ours=""; ours_cpu=""; theirs=""; theirs_cpu=""
i=1
while [ "$i" -le "$runs" ]; do
    # shellcheck disable=SC2086  # GRAPHIFY_OPTIONS is a list of words
    /usr/bin/time -f '%e %U %S' -o "$work/time" "$root/.build/release/graphify" "$work/cells.sgrf" \
        --prior "$dir/Train.tsv" --train "$dir/Train.tsv" --valid "$dir/Valid.tsv" -t "$threads" -q \
        -o "$work/model.sgrf" ${GRAPHIFY_OPTIONS:-}
    t=$(tail -1 "$work/time" | cut -d' ' -f1)
    c=$(tail -1 "$work/time" | awk '{ printf "%.2f", $2 + $3 }')
    echo "run $i: graphify $t s, CPU $c s"
    ours="$ours $t"; ours_cpu="$ours_cpu $c"
    if [ -n "${GENELINK:-}" ]; then
        "${PYTHON:-python3}" "$root/bench/genelink_speed.py" "$GENELINK" "$BEELINE" "$dataset" "$network" "$sample" \
            --threads "$threads" >"$work/genelink.out" 2>"$work/genelink.log" || true
        g=$(sed -n 's/^seconds //p' "$work/genelink.out")
        gc=$(sed -n 's/^cpu_seconds //p' "$work/genelink.out")
        [ -n "$g" ] || { echo "GENELink failed:"; tail -5 "$work/genelink.log"; exit 1; }
        echo "run $i: GENELink $g s, CPU $gc s (training loop)"
        theirs="$theirs $g"; theirs_cpu="$theirs_cpu $gc"
    fi
    i=$((i + 1))
done
m=$(echo "$ours" | median); mc=$(echo "$ours_cpu" | median)
echo "median: graphify $m s, CPU $mc s over $runs runs (whole process)"
if [ -n "$theirs" ]; then
    g=$(echo "$theirs" | median); gc=$(echo "$theirs_cpu" | median)
    echo "median: GENELink $g s, CPU $gc s over $runs runs (training loop)"
    echo "GENELink / graphify: wall $(awk -v g="$g" -v m="$m" 'BEGIN { printf "%.1f", g / m }')×, CPU $(awk -v g="$gc" -v m="$mc" 'BEGIN { printf "%.1f", g / m }')×"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
