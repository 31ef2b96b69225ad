#!/usr/bin/env python3
"""Benchmark of `tokenize` on 100,000 real cells (the mouse-brain counts tiled ten times,
entries grouped by cell, 10x v3 gzipped), against `zcat` of the same matrix and against
scanpy, timed in the same run and interleaved (zcat, tokenize, scanpy, zcat, ...).

usage: bench/tokenize.sh MOUSE_10X_DIR [--runs 3] [--python PYTHON_WITH_SCANPY] [--no-build]

MOUSE_10X_DIR is the source 10x v3 directory (10,000 cells x 1,000 genes). The 100k input is
built once under bench/work/ (gitignored). Reports medians of wall time, CPU time and peak RSS
(GNU time), the ratios, the machine load, and checks that tokenize's token histogram over the
vocabulary genes equals scanpy's. Prints a Markdown section for BENCHMARKS.md.
"""
import argparse
import json
import os
import platform
import statistics
import struct
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "bench", "work")
VOCAB = os.path.join(ROOT, "Tests", "Fixtures", "tokenize", "vocab", "scbert_genes.txt")


def timed(cmd, stdout=subprocess.DEVNULL):
    """Runs cmd under GNU time; returns (wall s, cpu s, peak RSS MiB, stdout text)."""
    tf = os.path.join(WORK, "time.txt")
    r = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", tf] + cmd,
                       stdout=subprocess.PIPE if stdout is None else stdout, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    wall, user, sys_, rss = open(tf).read().split()[-4:]
    return float(wall), float(user) + float(sys_), int(rss) / 1024, r.stdout if stdout is None else ""


def token_histogram(path):
    """Decodes a CELL stream: histogram of nonzero tokens over vocabulary genes, and cells."""
    data = open(path, "rb").read()
    off, vindex, hist, cells = 0, None, np.zeros(256, dtype=np.int64), 0
    while off < len(data):
        kind = data[off + 5]
        n = struct.unpack_from("<I", data, off + 8)[0]
        p = off + 20
        if kind == 1:  # HEAD: genes, vocabulary, vocabulary index
            q = p + 4
            g = struct.unpack_from("<I", data, q)[0]; q += 4
            for _ in range(2 * g):
                q += 4 + struct.unpack_from("<I", data, q)[0]
            v = struct.unpack_from("<I", data, q)[0]; q += 4
            for _ in range(v):
                q += 4 + struct.unpack_from("<I", data, q)[0]
            vindex = np.frombuffer(data, dtype="<i4", count=g, offset=q)
        elif kind == 2:  # CELL
            count, flags = struct.unpack_from("<IB", data, p)
            q = p + 8
            for _ in range(count):
                q += 4 + struct.unpack_from("<I", data, q)[0] + 8
                nnz = struct.unpack_from("<I", data, q)[0]; q += 4
                genes = np.frombuffer(data, dtype="<u4", count=nnz, offset=q); q += 4 * nnz + 4 * nnz
                toks = np.frombuffer(data, dtype="u1", count=nnz, offset=q); q += nnz
                if flags & 2:
                    q += 4 * nnz
                keep = (vindex[genes] >= 0) & (toks > 0)
                hist += np.bincount(toks[keep], minlength=256)
                cells += 1
        off = p + n
    return {int(k): int(hist[k]) for k in range(1, 256) if hist[k]}, cells


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("source")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--python", default=None, help="a Python with scanpy (default: skip the scanpy peer)")
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    data = os.path.join(WORK, "mouse100k_bycell")
    if not os.path.exists(os.path.join(data, "matrix.mtx.gz")):
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "tokenize_input.py"), a.source, data], check=True)
    if not a.no_build:
        subprocess.run(["swift", "build", "-c", "release", "--product", "tokenize"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    exe = os.path.join(ROOT, ".build", "release", "tokenize")
    matrix = os.path.join(data, "matrix.mtx.gz")
    out = os.path.join(WORK, "tokens.sgrf")
    cmds = {
        "zcat": ["sh", "-c", f"zcat '{matrix}' > /dev/null"],
        "tokenize": [exe, data, "--vocab", VOCAB, "--match-case", "insensitive", "-q", "-o", out],
    }
    if a.python:
        cmds["scanpy"] = [a.python, os.path.join(ROOT, "bench", "tokenize_scanpy.py"), data, VOCAB]
    results = {k: [] for k in cmds}
    peer_out = None
    load_before = os.getloadavg()
    for _ in range(a.runs):
        for name, cmd in cmds.items():
            wall, cpu, rss, text = timed(cmd, stdout=None if name == "scanpy" else subprocess.DEVNULL)
            results[name].append((wall, cpu, rss))
            if name == "scanpy":
                peer_out = json.loads(text.strip().splitlines()[-1])
    load_after = os.getloadavg()

    hist, cells = token_histogram(out)
    med = {k: tuple(statistics.median(r[i] for r in v) for i in range(3)) for k, v in results.items()}
    print("| command | wall s, median (runs) | CPU s, median | peak RSS MiB, median |")
    print("|---|---|---|---|")
    for k, v in results.items():
        runs = ", ".join(f"{r[0]:.2f}" for r in v)
        print(f"| {k} | **{med[k][0]:.2f}** ({runs}) | {med[k][1]:.2f} | {med[k][2]:.1f} |")
    print()
    print(f"* tokenize / zcat wall: **{med['tokenize'][0] / med['zcat'][0]:.2f}×** (goal ≤ 1.5×)")
    if "scanpy" in med:
        print(f"* scanpy / tokenize wall: **{med['scanpy'][0] / med['tokenize'][0]:.1f}×** (goal ≥ 20×)")
    print(f"* tokenize peak RSS: {med['tokenize'][2]:.1f} MiB (goal < 200 MiB)")
    print(f"* tokenize output: {cells} cells; nonzero vocabulary tokens {sum(hist.values())}, histogram {hist}")
    if peer_out:
        same = {int(k): v for k, v in peer_out["histogram"].items()} == hist
        print(f"* scanpy: {peer_out['cells']} cells, {peer_out['matched']} genes matched, "
              f"{peer_out['nonzero_tokens']} nonzero tokens; histograms equal: **{same}**")
    print(f"* load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f} on {os.cpu_count()} CPUs; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}; {platform.platform()}")


if __name__ == "__main__":
    main()
