#!/usr/bin/env bash
# frames cat throughput: payload bytes per second through a pipe, median of 5 runs.
#
# Builds a ~1 GiB CELL stream (real-shaped cells: 1,000 per frame, 500 entries each, tokens)
# under bench/work/ with an independent Python writer, then times
#   cat stream | frames cat | cat > /dev/null
# and, for scale, the same pipe without frames in the middle (cat | cat).
# Usage: bench/frames_cat.sh [FRAMES_BINARY]   (default .build/release/frames)
set -euo pipefail
cd "$(dirname "$0")/.."
FRAMES=${1:-.build/release/frames}
WORK=bench/work
mkdir -p "$WORK"
STREAM=$WORK/cat_1g.sgrf
if [ ! -f "$STREAM" ]; then
python3 - "$STREAM" <<'PY'
import struct, sys, zlib
out = sys.argv[1]
G, CELLS, NNZ, FRAMES = 2000, 1000, 500, 230
def s(t):
    b = t.encode(); return struct.pack("<I", len(b)) + b
def frame(kind, p):
    h = b"SGRF" + bytes([1, kind, 0, 0]) + struct.pack("<II", len(p), zlib.crc32(p))
    return h + struct.pack("<I", zlib.crc32(h)) + p
head = bytes([2, 0, 0, 0]) + struct.pack("<I", G) + b"".join(s(f"G{i}") + s("") for i in range(G))
head += struct.pack("<III", 0, 0, 0)
genes = struct.pack(f"<{NNZ}I", *range(0, 4 * NNZ, 4))
vals = struct.pack(f"<{NNZ}f", *[i / 64 for i in range(NNZ)])
toks = bytes(i % 6 for i in range(NNZ))
body = struct.pack("<I", CELLS) + bytes([1, 0, 0, 0])
body += b"".join(s(f"CELL{c:08d}-1") + struct.pack("<dI", 1000.0, NNZ) + genes + vals + toks for c in range(CELLS))
data = frame(2, body)
with open(out, "wb") as f:
    f.write(frame(1, head))
    for _ in range(FRAMES):
        f.write(data)
    f.write(frame(7, struct.pack("<QQQ", FRAMES, FRAMES * CELLS, FRAMES * len(body))))
PY
fi
payload=$(python3 -c "import os;print(os.path.getsize('$STREAM'))")
cat "$STREAM" > /dev/null  # warm the page cache
run() { local t0 t1; t0=$(date +%s.%N); eval "$1"; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pipe_s=$(for i in 1 2 3 4 5; do run "cat $STREAM | cat > /dev/null"; done | median)
cat_s=$(for i in 1 2 3 4 5; do run "cat $STREAM | $FRAMES cat - | cat > /dev/null"; done | median)
echo "stream bytes: $payload"
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} nproc=$(nproc) load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cat | cat (pipe alone):        median $pipe_s s  = $(echo "$payload / $pipe_s / 1000000000" | bc -l | cut -c1-5) GB/s"
echo "cat | frames cat | cat:        median $cat_s s  = $(echo "$payload / $cat_s / 1000000000" | bc -l | cut -c1-5) GB/s"
