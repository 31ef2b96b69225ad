#!/usr/bin/env python3
"""Write a BEELINE expression matrix as a CELL frame stream (docs/FRAMES.md), for graphify.

Usage:
    python3 bench/beeline_cells.py ExpressionData.csv[.gz] OUT.sgrf

The input is BEELINE's genes x cells CSV of log2-normalised values (row names = gene symbols,
header = cell ids). The output is what `tokenize --input-scale log2` makes of such a matrix for
graphify's purposes: one HEAD (content CELL, the genes in file order, no vocabulary), CELL frames
of up to 256 cells each holding every cell's nonzero values as they are (total 0: the values were
taken as given; no tokens, no counts), and END. graphify reads only the genes and values.

This is a small stand-alone writer from the format specification, so the benchmark does not
depend on tokenize; it uses the Python 3 standard library only.
"""

import csv
import gzip
import io
import struct
import sys
import zlib

HEAD, CELL, END = 1, 2, 7


def frame(kind, payload):
    h = b"SGRF" + bytes([1, kind, 0, 0]) + struct.pack("<II", len(payload), zlib.crc32(payload))
    return h + struct.pack("<I", zlib.crc32(h)) + payload


def string(text):
    b = text.encode()
    return struct.pack("<I", len(b)) + b


def head(genes, command):
    p = bytes([CELL, 0, 0, 0]) + struct.pack("<I", len(genes))
    for g in genes:
        p += string(g) + string("")
    p += struct.pack("<I", 0)                                  # no vocabulary
    meta = [("input_scale", "as-given"), ("normalisation", "none")]
    p += struct.pack("<I", len(meta)) + b"".join(string(k) + string(v) for k, v in meta)
    p += struct.pack("<I", 1) + string("beeline_cells.py") + string("1") + string(command)
    return p


def cell_frame(cells):
    p = struct.pack("<I", len(cells)) + bytes([0, 0, 0, 0])
    for barcode, idx, vals in cells:
        p += string(barcode) + struct.pack("<dI", 0.0, len(idx))
        p += struct.pack(f"<{len(idx)}I", *idx) + struct.pack(f"<{len(vals)}f", *vals)
    return p


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    opener = gzip.open if src.endswith(".gz") else open
    with opener(src, "rt", newline="") as f:
        rows = list(csv.reader(f))
    barcodes = rows[0][1:]
    genes = [r[0] for r in rows[1:]]
    matrix = [[float(x) for x in r[1:]] for r in rows[1:]]
    for g, r in zip(genes, matrix):
        assert len(r) == len(barcodes), f"{src}: gene {g} has {len(r)} values for {len(barcodes)} cells"
    out = io.BytesIO()
    out.write(frame(HEAD, head(genes, " ".join(["beeline_cells.py"] + sys.argv[1:]))))
    frames = records = nbytes = 0
    batch = []
    for j, bc in enumerate(barcodes):
        idx = [i for i in range(len(genes)) if matrix[i][j] != 0.0]
        batch.append((bc, idx, [matrix[i][j] for i in idx]))
        if len(batch) == 256 or j == len(barcodes) - 1:
            p = cell_frame(batch)
            out.write(frame(CELL, p))
            frames += 1; records += len(batch); nbytes += len(p)
            batch = []
    out.write(frame(END, struct.pack("<QQQ", frames, records, nbytes)))
    with open(dst, "wb") as f:
        f.write(out.getvalue())
    print(f"{dst}: {len(genes)} genes, {len(barcodes)} cells", file=sys.stderr)


if __name__ == "__main__":
    main()
