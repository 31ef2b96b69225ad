#!/usr/bin/env python3
"""Builds the 100,000-cell tokenize benchmark input: a 10x v3 directory.

The real mouse-brain counts (10,000 cells x 1,000 genes, 10x v3) tiled ten times along the
cells; barcodes suffixed _1 ... _10; entries grouped BY CELL (cell column ascending, then gene
row ascending, as Cell Ranger writes them); every file gzipped at level 6 with mtime 0.
With --by-gene the entries are sorted by gene instead (the layout of the scanpy anchor).

usage: tokenize_input.py SOURCE_DIR OUT_DIR [--by-gene]
"""
import gzip
import os
import shutil
import sys

import numpy as np

K = 10


def gzwrite(path, data: bytes):
    with open(path, "wb") as fh:
        with gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=6) as gz:
            gz.write(data)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    by_gene = "--by-gene" in sys.argv[3:]
    os.makedirs(dst, exist_ok=True)
    shutil.copyfile(os.path.join(src, "features.tsv.gz"), os.path.join(dst, "features.tsv.gz"))
    bcs = gzip.open(os.path.join(src, "barcodes.tsv.gz"), "rt").read().split("\n")[:-1]
    out = [f"{b}_{k}" for k in range(1, K + 1) for b in bcs]
    gzwrite(os.path.join(dst, "barcodes.tsv.gz"), ("\n".join(out) + "\n").encode())
    lines = gzip.open(os.path.join(src, "matrix.mtx.gz"), "rt").read().split("\n")
    i = 1
    while lines[i].startswith("%"):
        i += 1
    nr, nc, nnz = map(int, lines[i].split())
    ent = np.array([l.split() for l in lines[i + 1:] if l], dtype=np.int64)
    assert len(ent) == nnz
    r, c, v = ent[:, 0], ent[:, 1], ent[:, 2]
    R = np.concatenate([r] * K)
    C = np.concatenate([c + nc * k for k in range(K)])
    V = np.concatenate([v] * K)
    order = np.lexsort((C, R)) if by_gene else np.lexsort((R, C))
    R, C, V = R[order], C[order], V[order]
    hdr = f"%%MatrixMarket matrix coordinate integer general\n%\n{nr} {nc * K} {nnz * K}\n"
    body = "\n".join(f"{a} {b} {x}" for a, b, x in zip(R.tolist(), C.tolist(), V.tolist())) + "\n"
    gzwrite(os.path.join(dst, "matrix.mtx.gz"), (hdr + body).encode())


if __name__ == "__main__":
    main()
