#!/usr/bin/env python3
"""Cut the mouse-brain fixture: the first 300 cells (all 1,000 genes) of a 10x v3 directory.

    python3 make_mouse_brain_300.py SOURCE_10X_DIR mouse_brain_300/

Keeps features.tsv.gz as it is, the first 300 barcodes, and the matrix entries of those cells,
grouped by cell (genes ascending within a cell), as Cell Ranger writes them. Gzip members carry
no name and mtime 0, so the same input gives byte-identical files.
"""
import gzip
import os
import sys

CELLS = 300


def write_gz(path, text):
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(text.encode())


def main(src, dst):
    os.makedirs(dst, exist_ok=True)
    with gzip.open(os.path.join(src, "features.tsv.gz"), "rt") as f:
        features = f.read()
    with gzip.open(os.path.join(src, "barcodes.tsv.gz"), "rt") as f:
        barcodes = f.read().splitlines()[:CELLS]
    entries = []
    with gzip.open(os.path.join(src, "matrix.mtx.gz"), "rt") as f:
        banner = f.readline()
        line = f.readline()
        while line.startswith("%"):
            line = f.readline()
        genes = int(line.split()[0])
        for line in f:
            g, c, v = line.split()
            if int(c) <= CELLS:
                entries.append((int(c), int(g), v))
    entries.sort()
    body = "".join(f"{g} {c} {v}\n" for c, g, v in entries)
    write_gz(os.path.join(dst, "matrix.mtx.gz"), f"{banner}%\n{genes} {CELLS} {len(entries)}\n{body}")
    write_gz(os.path.join(dst, "features.tsv.gz"), features)
    write_gz(os.path.join(dst, "barcodes.tsv.gz"), "".join(b + "\n" for b in barcodes))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
