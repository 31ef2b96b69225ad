#!/usr/bin/env python3
"""Prepares the training-engine benchmark input from BEELINE's hHEP TFs+1000 data.

Writes one safetensors file with
  features [1448, 425] F32  expression, standardised per gene over cells (GENELink's StandardScaler)
  edges    [E, 2]      I64  the STRING ground-truth network as gene-index pairs (the prior graph)
  pairs    [256, 2]    I64  256 training pairs (a seeded shuffle) (regulator, target) of split sample1
  labels   [256]       F32  their labels
Usage: engine_prepare.py BEELINE_DATA_DIR OUT.safetensors
BEELINE_DATA_DIR holds expression/, ground_truth/ and splits/ as in the project's shared data.
"""
import csv, gzip, json, struct, sys
import numpy as np

def rows(path):
    with gzip.open(path, "rt") as f:
        r = csv.reader(f)
        next(r)
        return [row for row in r]

def main(root, out):
    expr = rows(f"{root}/expression/hHEP_TFs1000_ExpressionData.csv.gz")
    x = np.array([[float(v) for v in row[1:]] for row in expr], dtype=np.float64)   # genes x cells
    sd = x.std(axis=1, keepdims=True)
    x = ((x - x.mean(axis=1, keepdims=True)) / np.where(sd == 0, 1, sd)).astype(np.float32)
    edges = np.array([[int(r[1]), int(r[2])] for r in rows(f"{root}/ground_truth/STRING/hHEP_TFs1000/Label.csv.gz")], dtype=np.int64)
    train = rows(f"{root}/splits/STRING/hHEP_TFs1000/sample1/Train_set.csv.gz")
    train = [train[i] for i in np.random.default_rng(0).permutation(len(train))[:256]]
    pairs = np.array([[int(r[1]), int(r[2])] for r in train], dtype=np.int64)
    labels = np.array([float(r[3]) for r in train], dtype=np.float32)
    tensors = {"features": x, "edges": edges, "pairs": pairs, "labels": labels}
    header, blobs, offset = {}, [], 0
    for name, a in tensors.items():
        b = a.tobytes()
        header[name] = {"dtype": {"float32": "F32", "int64": "I64"}[str(a.dtype)], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    print(f"features {x.shape}, {len(edges)} prior edges, {len(pairs)} pairs ({int(labels.sum())} positive) -> {out}")

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
