#!/usr/bin/env python3
"""Writes the frame-format conformance corpus from docs/FRAMES.md alone (no scgrn code).

passed/NN-name.sgrf  a valid stream;  passed/NN-name.txt  what `frames view -H` prints for it
failed/NN-name.sgrf  an invalid one;  failed/NN-name.txt  a phrase `frames check`'s error must contain

Cases are numbered so that early ones need the least of the format. Values are chosen to print
identically in every language (short binary fractions). Run: python3 make_corpus.py
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
HEAD, CELL, GENE, MODEL, ENCODING, CELLVEC, END = 1, 2, 3, 4, 5, 6, 7
NAMES = {CELL: "CELL", GENE: "GENE", MODEL: "MODEL", ENCODING: "ENCODING", CELLVEC: "CELLVEC"}


def frame(kind, payload, version=1, reserved=b"\0\0", length=None, bad_hcrc=False, bad_pcrc=False):
    n = len(payload) if length is None else length
    pcrc = zlib.crc32(payload) ^ (1 if bad_pcrc else 0)
    h = b"SGRF" + bytes([version, kind]) + reserved + struct.pack("<II", n, pcrc)
    hcrc = zlib.crc32(h) ^ (1 if bad_hcrc else 0)
    return h + struct.pack("<I", hcrc) + payload


def s(text):
    b = text.encode()
    return struct.pack("<I", len(b)) + b


def head(content, genes, vocab=(), vindex=(), meta=(), prov=()):
    p = bytes([content, 0, 0, 0]) + struct.pack("<I", len(genes))
    for sym, gid in genes:
        p += s(sym) + s(gid)
    p += struct.pack("<I", len(vocab)) + b"".join(s(v) for v in vocab)
    if vocab:
        p += struct.pack(f"<{len(genes)}i", *vindex)
    p += struct.pack("<I", len(meta)) + b"".join(s(k) + s(v) for k, v in meta)
    p += struct.pack("<I", len(prov)) + b"".join(s(t) + s(v) + s(c) for t, v, c in prov)
    return p


def cells(records, tokens=False, counts=False):
    p = struct.pack("<I", len(records)) + bytes([(1 if tokens else 0) | (2 if counts else 0), 0, 0, 0])
    for bc, total, genes, values, toks, cnts in records:
        p += s(bc) + struct.pack("<dI", total, len(genes))
        p += struct.pack(f"<{len(genes)}I", *genes) + struct.pack(f"<{len(values)}f", *values)
        if tokens:
            p += bytes(toks)
        if counts:
            p += struct.pack(f"<{len(cnts)}f", *cnts)
    return p


def gene_records(dim, records):
    p = struct.pack("<II", len(records), dim)
    for g, known, weight, vec in records:
        p += struct.pack("<IB3xd", g, 1 if known else 0, weight) + struct.pack(f"<{dim}f", *vec)
    return p


def model(tensors):
    p = struct.pack("<I", len(tensors))
    for name, shape, data in tensors:
        p += s(name) + bytes([1, len(shape), 0, 0]) + struct.pack(f"<{len(shape)}I", *shape)
        p += struct.pack(f"<{len(data)}f", *data)
    return p


def encodings(dim, records):
    p = struct.pack("<II", len(records), dim)
    for bc, pos, vals in records:
        p += s(bc) + struct.pack(f"<I{len(pos)}I", len(pos), *pos) + struct.pack(f"<{len(vals)}f", *vals)
    return p


def cellvecs(dim, records):
    p = struct.pack("<II", len(records), dim)
    for bc, vec in records:
        p += s(bc) + struct.pack(f"<{dim}f", *vec)
    return p


def end(data_payloads):
    recs = sum(struct.unpack_from("<I", p)[0] for p in data_payloads)
    return frame(END, struct.pack("<QQQ", len(data_payloads), recs, sum(len(p) for p in data_payloads)))


def stream(head_payload, data):
    """data: list of (kind, payload)."""
    return frame(HEAD, head_payload) + b"".join(frame(k, p) for k, p in data) + end([p for _, p in data])


# ---- what `frames view -H` prints (docs: Sources/frames) ----

def f(x):
    """Shortest round-trip text of a float, as Swift and Python print these short values."""
    return repr(float(x))


def view_header(content, genes, vocab=(), vindex=(), meta=(), prov=()):
    t = f"#content\t{NAMES[content]}\n#genes\t{len(genes)}\n"
    if vocab:
        t += f"#vocabulary\t{len(vocab)}\tmapped\t{sum(1 for i in vindex if i >= 0)}\n"
    t += "".join(f"#meta\t{k}\t{v}\n" for k, v in meta)
    t += "".join(f"#tool\t{a}\t{b}\t{c}\n" for a, b, c in prov)
    return t


GENES = [("GATA1", "ENSG00000102145"), ("SPI1", "ENSG00000066336"), ("CEBPA", "")]
PROV = [("tokenize", "0.1.0", "tokenize counts/ --vocab genes.txt")]


def passed():
    out = []
    # 01: the smallest stream: HEAD and END, no data.
    h = head(CELL, GENES[:1])
    out.append(("01-head-end-only", frame(HEAD, h) + end([]), view_header(CELL, GENES[:1]) + "barcode\tgene\tvalue\ttoken\n"))
    # 02: one cell, values only.
    c = [("AAAC-1", 0.0, [0, 2], [1.5, 0.25], [], [])]
    h = head(CELL, GENES)
    out.append(("02-one-cell", stream(h, [(CELL, cells(c))]),
                view_header(CELL, GENES) + "barcode\tgene\tvalue\ttoken\nAAAC-1\tGATA1\t1.5\t.\nAAAC-1\tCEBPA\t0.25\t.\n"))
    # 03: tokens, counts, a cell with no entries, two frames.
    c1 = [("C1", 4.0, [1], [2.0], [2], [3.0]), ("C2", 0.0, [], [], [], [])]
    c2 = [("C3", 8.0, [0, 1, 2], [0.5, 1.0, 5.5], [0, 1, 5], [1.0, 1.0, 6.0])]
    t = view_header(CELL, GENES, meta=[("bins", "5")], prov=PROV) + "barcode\tgene\tvalue\ttoken\n"
    t += "C1\tSPI1\t2.0\t2\nC3\tGATA1\t0.5\t0\nC3\tSPI1\t1.0\t1\nC3\tCEBPA\t5.5\t5\n"
    out.append(("03-tokens-counts-two-frames",
                stream(head(CELL, GENES, meta=[("bins", "5")], prov=PROV),
                       [(CELL, cells(c1, True, True)), (CELL, cells(c2, True, True))]), t))
    # 04: a vocabulary mapping.
    vocab = ["SPI1", "TAL1", "GATA1"]
    vi = [2, 0, -1]
    h = head(CELL, GENES, vocab, vi)
    out.append(("04-vocabulary", stream(h, [(CELL, cells([("X", 2.0, [0], [1.0], [1], [])], True))]),
                view_header(CELL, GENES, vocab, vi) + "barcode\tgene\tvalue\ttoken\nX\tGATA1\t1.0\t1\n"))
    # 05: GENE records (e = sum / weight), with CELL frames interleaved.
    g = gene_records(2, [(0, True, 2.0, [1.0, -3.0]), (2, False, 0.0, [0.0, 0.0])])
    h = head(GENE, GENES)
    t = view_header(GENE, GENES) + "gene\tweight\tknown\te0\te1\nGATA1\t2.0\t1\t0.5\t-1.5\nCEBPA\t0.0\t0\t0.0\t0.0\n"
    out.append(("05-genes", stream(h, [(GENE, g), (CELL, cells([("Q", 0.0, [1], [0.75], [], [])]))]), t))
    # 06: MODEL tensors: per-gene rows labelled by symbol.
    m = model([("regulator", [3, 2], [1, 2, 3, 4, 5, 6]), ("decoder.0.bias", [1], [0.5])])
    h = head(MODEL, GENES, meta=[("decoder", "dot")])
    t = view_header(MODEL, GENES, meta=[("decoder", "dot")]) + "tensor\trow\tvalues\n"
    t += "regulator\tGATA1\t1.0\t2.0\nregulator\tSPI1\t3.0\t4.0\nregulator\tCEBPA\t5.0\t6.0\ndecoder.0.bias\t0\t0.5\n"
    out.append(("06-model", stream(h, [(MODEL, m)]), t))
    # 07: ENCODING.
    e = encodings(2, [("E1", [0, 7], [1.0, 2.0, -0.5, 0.125])])
    h = head(ENCODING, GENES)
    t = view_header(ENCODING, GENES) + "barcode\tposition\te0\te1\nE1\t0\t1.0\t2.0\nE1\t7\t-0.5\t0.125\n"
    out.append(("07-encodings", stream(h, [(ENCODING, e)]), t))
    # 08: CELLVEC.
    v = cellvecs(3, [("V1", [0.25, 0.5, 1.0]), ("V2", [-1.0, 0.0, 2.0])])
    h = head(CELLVEC, GENES)
    t = view_header(CELLVEC, GENES) + "barcode\te0\te1\te2\nV1\t0.25\t0.5\t1.0\nV2\t-1.0\t0.0\t2.0\n"
    out.append(("08-cellvecs", stream(h, [(CELLVEC, v)]), t))
    # 09: two concatenated streams (shards) of one dataset.
    h = head(CELL, GENES, prov=PROV)
    a = stream(h, [(CELL, cells([("S1", 0.0, [0], [1.0], [], [])]))])
    b = stream(h, [(CELL, cells([("S2", 0.0, [1], [2.0], [], [])]))])
    t = view_header(CELL, GENES, prov=PROV) + "barcode\tgene\tvalue\ttoken\nS1\tGATA1\t1.0\t.\nS2\tSPI1\t2.0\t.\n"
    out.append(("09-two-shards", a + b, t))
    return out


def failed():
    h = head(CELL, GENES)
    one = cells([("AAAC-1", 0.0, [0, 2], [1.5, 0.25], [], [])])
    good = stream(h, [(CELL, one)])
    hf = frame(HEAD, h)
    out = []
    out.append(("01-empty", b"", "empty input"))
    out.append(("02-bad-magic", b"BAM\x01" + good[4:], "not an scgrn frame stream"))
    out.append(("03-version-2", frame(HEAD, h, version=2) + frame(CELL, one, version=2) + end([one]),
                "unsupported frame format version 2"))
    out.append(("04-header-crc", hf + frame(CELL, one, bad_hcrc=True) + end([one]), "header CRC mismatch"))
    out.append(("05-payload-crc", hf + frame(CELL, one, bad_pcrc=True) + end([one]), "payload CRC mismatch"))
    out.append(("06-truncated-header", good[: len(hf) + 9], "truncated stream"))
    out.append(("07-truncated-payload", good[: len(hf) + 30], "truncated stream"))
    out.append(("08-missing-end", hf + frame(CELL, one), "without an END frame"))
    out.append(("09-end-counts-wrong", hf + frame(CELL, one) + end([]), "END counts"))
    out.append(("10-starts-with-cell", frame(CELL, one) + end([one]), "starts with a CELL frame, not HEAD"))
    other = head(CELL, GENES[:2])
    out.append(("11-shards-disagree", good + stream(other, []), "another gene list"))
    bad_index = cells([("B", 0.0, [5], [1.0], [], [])])
    out.append(("12-gene-index-out-of-range", stream(h, [(CELL, bad_index)]), "outside 0..<3"))
    unsorted = cells([("U", 0.0, [2, 0], [1.0, 1.0], [], [])])
    out.append(("13-gene-indices-unsorted", stream(h, [(CELL, unsorted)]), "strictly ascending"))
    out.append(("14-reserved-header-bytes", hf + frame(CELL, one, reserved=b"\x01\0") + end([one]), "reserved header bytes"))
    huge = struct.pack("<I", 0x7FFFFFFF) + one[4:]
    out.append(("15-record-count-too-large", stream(h, [(CELL, huge)]), "does not fit"))
    out.append(("16-data-after-end", good + frame(CELL, one), "after END"))
    out.append(("17-payload-over-maximum", hf + frame(CELL, b"", length=(1 << 28) + 1), "over the 268435456-byte maximum"))
    # Fewer bytes than a frame header, and not the magic: named as not a stream, not as truncated.
    out.append(("18-short-bad-magic", b"BAM", "not an scgrn frame stream"))
    # Shards a stage would refuse, so check and cat refuse them too (the one shard rule set).
    vocab = ("V0", "V1", "V2")
    mapped = stream(head(CELL, GENES, vocab, (0, 1, 2)), [(CELL, one)])
    remapped = stream(head(CELL, GENES, vocab, (0, -1, 2)), [(CELL, one)])
    out.append(("19-shards-vocabulary-mapping", mapped + remapped, "maps its genes onto the vocabulary differently"))
    g2 = gene_records(2, [(0, True, 1.0, [0.5, 0.25])])
    g3 = gene_records(3, [(0, True, 1.0, [0.5, 0.25, 0.125])])
    hg = head(GENE, GENES)
    out.append(("20-gene-shards-widths", stream(hg, [(GENE, g2)]) + stream(hg, [(GENE, g3)]), "GENE embeddings of width 3"))
    m = model([("regulator", [3, 1], [0.0, 1.0, 2.0]), ("target", [3, 1], [1.0, 0.0, 1.0])])
    hm = head(MODEL, GENES)
    out.append(("21-two-model-streams", stream(hm, [(MODEL, m)]) + stream(hm, [(MODEL, m)]), "second MODEL stream"))
    # The article agrees with the frame kind the message names.
    out.append(("22-starts-with-end", end([]), "starts with an END frame, not HEAD"))
    return out


def write(folder, cases):
    os.makedirs(os.path.join(HERE, folder), exist_ok=True)
    for name, data, text in cases:
        with open(os.path.join(HERE, folder, name + ".sgrf"), "wb") as fh:
            fh.write(data)
        with open(os.path.join(HERE, folder, name + ".txt"), "w") as fh:
            fh.write(text if folder == "passed" else text + "\n")


if __name__ == "__main__":
    write("passed", passed())
    write("failed", failed())
