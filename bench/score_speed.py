#!/usr/bin/env python3
"""Time `score --tfs` on a synthetic MODEL stream against a numpy peer doing the same work.

Usage:
    python3 bench/score_speed.py SCORE_BINARY [--genes 1500] [--tfs 450] [--width 64]
                                 [--hidden 0] [--repeats 5]

Writes a MODEL stream (the frame format of docs/FRAMES.md, written here with struct + zlib.crc32)
with random regulator/target tensors [G, d] (and an MLP decoder with --hidden H > 0), a TF list of
the first T genes, then runs `score STREAM --tfs TFS -o OUT` `--repeats` times and reports the
median wall time. The peer is numpy (dot decoder only): logits R[tf] @ Tᵀ, sigmoid, a lexsort on
(-logit, regulator, target) and the TSV text, timed in-process over the same repeats.
Prints the machine load and OPENBLAS_CORETYPE with the figures.
"""

import argparse
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import numpy as np

MAGIC = b"SGRF"
HEAD, MODEL, END = 1, 4, 7


def frame(kind, payload):
    header = MAGIC + bytes([1, kind, 0, 0]) + struct.pack("<II", len(payload), zlib.crc32(payload))
    return header + struct.pack("<I", zlib.crc32(header)) + payload


def string(s):
    b = s.encode()
    return struct.pack("<I", len(b)) + b


def model_stream(genes, tensors, decoder):
    head = bytes([MODEL, 0, 0, 0]) + struct.pack("<I", len(genes))
    head += b"".join(string(g) + string("") for g in genes)
    head += struct.pack("<I", 0)                      # no vocabulary
    head += struct.pack("<I", 1) + string("decoder") + string(decoder)
    head += struct.pack("<I", 0)                      # no provenance
    body = struct.pack("<I", len(tensors))
    for name, a in tensors:
        a = np.ascontiguousarray(a, dtype="<f4")
        body += string(name) + bytes([1, a.ndim, 0, 0]) + b"".join(struct.pack("<I", d) for d in a.shape)
        body += a.tobytes()
    end = struct.pack("<QQQ", 1, len(tensors), len(body))
    return frame(HEAD, head) + frame(MODEL, body) + frame(END, end)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("score")
    ap.add_argument("--genes", type=int, default=1500)
    ap.add_argument("--tfs", type=int, default=450)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--hidden", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    g, d = args.genes, args.width
    genes = [f"GENE{i:05d}" for i in range(g)]
    reg = rng.standard_normal((g, d)).astype(np.float32)
    tgt = rng.standard_normal((g, d)).astype(np.float32)
    tensors = [("regulator", reg), ("target", tgt)]
    if args.hidden:
        h = args.hidden
        tensors += [("decoder.0.weight", rng.standard_normal((h, 2 * d)) / np.sqrt(2 * d)),
                    ("decoder.0.bias", rng.standard_normal(h) * 0.1),
                    ("decoder.1.weight", rng.standard_normal((1, h)) / np.sqrt(h)),
                    ("decoder.1.bias", np.zeros(1))]
    with tempfile.TemporaryDirectory() as tmp:
        stream = os.path.join(tmp, "m.sgrf")
        with open(stream, "wb") as f:
            f.write(model_stream(genes, tensors, "mlp" if args.hidden else "dot"))
        tfs = os.path.join(tmp, "tfs.txt")
        with open(tfs, "w") as f:
            f.write("".join(x + "\n" for x in genes[: args.tfs]))
        out = os.path.join(tmp, "out.tsv")
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            subprocess.run([args.score, stream, "--tfs", tfs, "-o", out], check=True)
            times.append(time.perf_counter() - t0)
        lines = sum(1 for _ in open(out)) - 1
        ours = float(np.median(times))

        peer = None
        if not args.hidden:
            ptimes = []
            names = np.array(genes)
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                logits = reg[: args.tfs] @ tgt.T                      # [T, G]
                ri, tj = np.meshgrid(np.arange(args.tfs), np.arange(g), indexing="ij")
                keep = ri != tj
                lg, ri, tj = logits[keep], ri[keep], tj[keep]
                order = np.lexsort((tj, ri, -lg))                     # names sort like indices here
                score = 1 / (1 + np.exp(-lg[order].astype(np.float64)))
                text = "\n".join(f"{a}\t{b}\t{s!r}" for a, b, s in zip(names[ri[order]], names[tj[order]], score.tolist()))
                with open(out + ".np", "w") as f:
                    f.write("regulator\ttarget\tscore\n" + text + "\n")
                ptimes.append(time.perf_counter() - t0)
            peer = float(np.median(ptimes))

    load = os.getloadavg()
    print(f"score --tfs: {args.tfs} TFs x {g} genes = {lines} pairs, d={d}, "
          f"decoder {'mlp h=' + str(args.hidden) if args.hidden else 'dot'}")
    print(f"  score median {ours * 1000:.0f} ms over {args.repeats} runs (whole process: read, score, sort, write)")
    if peer is not None:
        print(f"  numpy peer median {peer * 1000:.0f} ms; ratio score/numpy {ours / peer:.2f}")
    print(f"  OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} cores")


if __name__ == "__main__":
    sys.exit(main())
