#!/usr/bin/env python3
"""Writes the inputs of the embed benchmark: a full-size scBERT checkpoint with random weights
(safetensors) and a CELL stream of random cells over its 16,906-gene vocabulary.

  python3 embed_inputs.py OUTDIR [--cells K] [--vocab scbert_genes.txt] [--seed S]

The model has scBERT's sizes (dim 200, depth 6, heads 10, dim_head 64, 266 features, ff 800,
7 tokens, 16,907 positions, float64 position table); the weights are random, which does not
change the cost. Cells have about 10% of genes expressed with tokens 1..5 (the cost does not
depend on the tokens either). Needs numpy only; the frame and safetensors layouts are written
here from docs/FRAMES.md and the safetensors spec.
"""
import argparse
import json
import os
import struct
import zlib

import numpy as np

D, L, H, E, M, F, T, V = 200, 6, 10, 64, 266, 800, 7, 16906


def safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, arr in tensors:
        dt = {np.float32: "F32", np.float64: "F64", np.int64: "I64"}[arr.dtype.type]
        b = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)


def model(path, rng):
    f32 = lambda *s, scale=1.0: (rng.standard_normal(s) * scale).astype(np.float32)
    t = [("token_emb.weight", f32(T, D)),
         ("pos_emb.emb.weight", np.concatenate([rng.standard_normal((V, D)), np.zeros((1, D))]))]
    for l in range(L):
        a, b = f"performer.net.layers.{l}.0.", f"performer.net.layers.{l}.1."
        t += [(a + "norm.weight", 1 + f32(D, scale=0.1)), (a + "norm.bias", f32(D, scale=0.1)),
              (a + "fn.fast_attention.projection_matrix", f32(M, E))]
        t += [(a + f"fn.to_{n}.weight", f32(H * E, D, scale=D ** -0.5)) for n in "qkv"]
        t += [(a + "fn.to_out.weight", f32(D, H * E, scale=(H * E) ** -0.5)), (a + "fn.to_out.bias", f32(D, scale=0.02)),
              (b + "norm.weight", 1 + f32(D, scale=0.1)), (b + "norm.bias", f32(D, scale=0.1)),
              (b + "fn.fn.w1.weight", f32(F, D, scale=D ** -0.5)), (b + "fn.fn.w1.bias", f32(F, scale=0.02)),
              (b + "fn.fn.w2.weight", f32(D, F, scale=F ** -0.5)), (b + "fn.fn.w2.bias", f32(D, scale=0.02))]
    t += [("norm.weight", 1 + f32(D, scale=0.1)), ("norm.bias", f32(D, scale=0.1)),
          ("to_out.weight", f32(T, D, scale=D ** -0.5)), ("to_out.bias", f32(T, scale=0.02)),
          ("performer.calls_since_last_redraw", np.zeros((), dtype=np.int64))]
    safetensors(path, t)


def frame(kind, payload):
    h = b"SGRF" + bytes([1, kind, 0, 0]) + struct.pack("<II", len(payload), zlib.crc32(payload))
    return h + struct.pack("<I", zlib.crc32(h)) + payload


def s(text):
    b = text.encode()
    return struct.pack("<I", len(b)) + b


def stream(path, genes, cells, rng):
    head = bytes([2, 0, 0, 0]) + struct.pack("<I", len(genes)) + b"".join(s(g) + s("") for g in genes)
    head += struct.pack("<I", len(genes)) + b"".join(s(g) for g in genes)
    head += struct.pack(f"<{len(genes)}i", *range(len(genes))) + struct.pack("<II", 0, 0)
    out = [frame(1, head)]
    payload = struct.pack("<I", cells) + bytes([1, 0, 0, 0])
    for c in range(cells):
        idx = np.flatnonzero(rng.random(len(genes)) < 0.1).astype(np.uint32)
        tok = rng.integers(1, 6, len(idx)).astype(np.uint8)
        payload += s(f"cell{c}") + struct.pack("<dI", 1000.0, len(idx)) + idx.tobytes()
        payload += tok.astype(np.float32).tobytes() + tok.tobytes()
    out.append(frame(2, payload))
    out.append(frame(7, struct.pack("<QQQ", 1, cells, len(payload))))
    with open(path, "wb") as f:
        f.write(b"".join(out))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--cells", type=int, default=6)
    ap.add_argument("--vocab")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    genes = open(a.vocab).read().split() if a.vocab else [f"G{i}" for i in range(V)]
    assert len(genes) == V, f"{len(genes)} vocabulary genes, expected {V}"
    model(os.path.join(a.outdir, "scbert_random.safetensors"), rng)
    stream(os.path.join(a.outdir, f"cells_{a.cells}.sgrf"), genes, a.cells, rng)
