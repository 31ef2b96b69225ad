#!/usr/bin/env python3
"""Writes the fuzz seeds under Tests/Fixtures/fuzz/seeds/<target>/ (run from the repository root).

Each seed is small (a few KB at most: libFuzzer mutates faster and reaches deeper on small
inputs) and derived from the test fixtures, or built here by hand where a fixture is too large:
- mtx:         the first entries of Tests/Fixtures/tokenize/pbmc3k_v3/matrix.mtx.gz (10x PBMC 3k),
               cut to a 60-gene × 40-cell corner; also as pattern, real, transposed and gzip;
- dense:       corners of the BEELINE hHEP expression table (Tests/Fixtures/beeline, CSV with a
               corner field) and of Tests/Fixtures/exceiver/counts.tsv (TSV, a header added), plain and gzip;
- checkpoint:  tiny torch.save-style zips (stored members, data.pkl with persistent storages),
               written here without PyTorch; a state_dict at the top, in `model_state_dict`
               (scBERT) and in `state_dict` (Lightning);
- pickle:      the data.pkl of those zips and of the scBERT-mini checkpoint fixture;
- safetensors: tiny files of several dtypes, and a slice of the scBERT-mini fixture's header;
- edgelist:    heads of the BEELINE Train/network/TF files, a CSV and a score list;
- genetables:  heads of the bundled knowledge table (models/knowledge/gene_table_64.txt.gz, cut to
               4 numbers a line) and of the bundled GO sets (go_bp.gmt.gz, cut to 6 genes a set),
               plain and gzip, and a small table with word2vec's "count width" header.
The frame stream target is seeded from Tests/Fixtures/frames/ (the conformance corpus) directly.
"""
import collections
import gzip
import io
import json
import os
import pickle
import struct
import sys
import types
import zipfile

ROOT = "Tests/Fixtures"
OUT = os.path.join(ROOT, "fuzz", "seeds")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(data):
    # mtime 0: the same bytes on every run.
    return gzip.compress(data.encode() if isinstance(data, str) else data, mtime=0)


def mtx_seeds():
    with gzip.open(os.path.join(ROOT, "tokenize/pbmc3k_v3/matrix.mtx.gz"), "rt") as f:
        lines = []
        for line in f:
            if line.startswith("%"):
                continue
            lines.append(line.split())
            if len(lines) > 20000:
                break
    entries = [(int(r), int(c), v) for r, c, v in lines[1:] if int(r) <= 60 and int(c) <= 40][:80]
    def matrix(field, rows, cols, body):
        return f"%%MatrixMarket matrix coordinate {field} general\n%metadata_json: {{}}\n{rows} {cols} {len(body)}\n" + "".join(body)
    integer = matrix("integer", 60, 40, [f"{r} {c} {v}\n" for r, c, v in entries])
    put("mtx", "integer.mtx", integer)
    put("mtx", "integer.mtx.gz", gz(integer))
    put("mtx", "pattern.mtx", matrix("pattern", 60, 40, [f"{r} {c}\n" for r, c, _ in entries]))
    put("mtx", "real.mtx", matrix("real", 60, 40, [f"{r} {c} {int(v) / 3:.4g}\n" for r, c, v in entries]))
    # Cells as rows (more rows than columns), sorted by gene: the buffered path.
    put("mtx", "transposed.mtx", matrix("integer", 40, 60, [f"{c} {r} {v}\n" for r, c, v in sorted(entries)]))


def dense_seeds():
    with gzip.open(os.path.join(ROOT, "beeline/hHEP_TFs500_Specific_sample1/ExpressionData.csv.gz"), "rt") as f:
        rows = [next(f).rstrip("\n").split(",")[:9] for _ in range(9)]
    csv = "".join(",".join(r) + "\n" for r in rows)
    put("dense", "beeline.csv", csv)
    put("dense", "beeline.csv.gz", gz(csv))
    with open(os.path.join(ROOT, "exceiver/counts.tsv")) as f:
        rows = [line.rstrip("\n").split("\t")[:12] for line in f]
    # The fixture has no header line: cells by genes, barcodes as row names; genes named here.
    header = "\t".join(f"GENE{i}" for i in range(1, 12)) + "\n"
    put("dense", "counts.tsv", header + "".join("\t".join(r) + "\n" for r in rows))
    # Cells by genes, barcodes as row names, no corner field (R's write.table).
    put("dense", "cells-by-genes.tsv",
        "TP53\tMYC\tGATA1\n"
        "AAACCTGAGAAGGCCT-1\t0\t3\t1.5\n"
        "AAACCTGAGACAGACC-1\t2\t0\t0\n"
        "\"AAACCTGAGATAGTCA-1\"\t1e2\t0.25\t7\n")


# A torch.save-style checkpoint, written without PyTorch: the pickle names the same globals
# (torch._utils._rebuild_tensor_v2, torch.FloatStorage, collections.OrderedDict) through
# stand-in modules, and storages are persistent ids, as torch.serialization writes them.
def fake_torch():
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")
    def _rebuild_tensor_v2(*args):
        raise RuntimeError("stand-in")
    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    storages = {}
    for name in ["FloatStorage", "HalfStorage", "LongStorage", "DoubleStorage", "BFloat16Storage"]:
        cls = type(name, (), {"__module__": "torch"})
        setattr(torch, name, cls)
        storages[name] = cls
    torch._utils = utils
    sys.modules["torch"] = torch
    sys.modules["torch._utils"] = utils
    return _rebuild_tensor_v2, storages


REBUILD, STORAGES = fake_torch()


class Storage:
    def __init__(self, key, kind, data, count):
        self.key, self.kind, self.data, self.count = key, kind, data, count


class Tensor:
    def __init__(self, storage, offset, shape, stride):
        self.storage, self.offset, self.shape, self.stride = storage, offset, shape, stride

    def __reduce__(self):
        return (REBUILD, (self.storage, self.offset, tuple(self.shape), tuple(self.stride), False,
                          collections.OrderedDict()))


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", STORAGES[obj.kind], obj.key, "cpu", obj.count)
        return None


def checkpoint(top, storages, prefix="archive"):
    buf = io.BytesIO()
    TorchPickler(buf, protocol=2).dump(top)
    pkl = buf.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        def member(name, data):
            # A fixed date (a name alone stamps the current time): the same bytes on every run.
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
        member(f"{prefix}/data.pkl", pkl)
        member(f"{prefix}/byteorder", "little")
        for s in storages:
            member(f"{prefix}/data/{s.key}", s.data)
        member(f"{prefix}/version", "3\n")
    return pkl, out.getvalue()


def checkpoint_seeds():
    w = Storage("0", "FloatStorage", struct.pack("<6f", 1, 2, 3, 4, 5, 6), 6)
    b = Storage("1", "HalfStorage", struct.pack("<3e", 0.5, -1, 2), 3)
    ids = Storage("2", "LongStorage", struct.pack("<4q", 7, 8, 9, 10), 4)
    sd = collections.OrderedDict()
    sd["layer.weight"] = Tensor(w, 0, [2, 3], [3, 1])
    sd["layer.weight_t"] = Tensor(w, 0, [3, 2], [1, 3])       # a strided view of the same storage
    sd["layer.bias"] = Tensor(b, 0, [3], [1])
    sd["ids"] = Tensor(ids, 1, [2], [2])                      # an offset, a stride of 2
    seeds = {
        "state_dict.pth": checkpoint(sd, [w, b, ids]),
        "scbert.pth": checkpoint({"epoch": 3, "model_state_dict": sd, "optimizer_state_dict": {}, "losses": [0.5, 0.25]},
                                 [w, b, ids], prefix="model"),
        "lightning.ckpt": checkpoint({"state_dict": sd, "hyper_parameters": {"lr": 1e-3, "name": "x"},
                                      "global_step": 10, "flags": (True, False, None)}, [w, b, ids]),
    }
    for name, (pkl, archive) in seeds.items():
        put("checkpoint", name, archive)
        put("pickle", name.rsplit(".", 1)[0] + ".pkl", pkl)
    with zipfile.ZipFile(os.path.join(ROOT, "scbert-mini/model.pth")) as z:
        put("pickle", "scbert-mini.pkl", z.read("scbert_mini_1/data.pkl"))


def safetensors(tensors, metadata=None):
    header = {}
    data = b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def safetensors_seeds():
    put("safetensors", "f32.safetensors", safetensors({
        "w": ("F32", [2, 3], struct.pack("<6f", 1, 2, 3, 4, 5, 6)),
        "b": ("F32", [3], struct.pack("<3f", 0, 1, 2))}, {"format": "pt"}))
    put("safetensors", "dtypes.safetensors", safetensors({
        "h": ("F16", [2], struct.pack("<2e", 1, -2)),
        "bf": ("BF16", [2], b"\x80\x3f\x00\x40"),
        "d": ("F64", [1], struct.pack("<d", 3.5)),
        "i": ("I64", [2, 1], struct.pack("<2q", 1, -1)),
        "n": ("I32", [0], b""),
        "s": ("F32", [], struct.pack("<f", 9))}))


def edgelist_seeds():
    base = os.path.join(ROOT, "beeline/hHEP_TFs500_Specific_sample1")
    for name, n in [("Train.tsv", 12), ("network.tsv", 10), ("tfs.txt", 10)]:
        with open(os.path.join(base, name)) as f:
            put("edgelist", name, "".join(next(f) for _ in range(n)))
    put("edgelist", "edges.csv", "Gene1,Gene2,EdgeWeight\nTP53,MYC,0.9\nGATA1,SPI1,0.25\n")
    put("edgelist", "scores.tsv", "# ranked\nTP53\tMYC\t0.9\nENSG00000000002\tgata1\t-1e-3\n\nSPI1\tCEBPA\t2\n")
    put("edgelist", "tfs.csv", "Gene,TF,Species\nx,TP53,human\ny,GATA1,human\n")


def genetable_seeds():
    with gzip.open("models/knowledge/gene_table_64.txt.gz", "rt") as f:
        lines = [next(f) for _ in range(8)]
    table = "".join(" ".join(l.split()[:5]) + "\n" for l in lines if not l.startswith("#"))
    put("genetables", "table.txt", table)
    put("genetables", "table.txt.gz", gz(table))
    put("genetables", "word2vec.txt", "3 4\nTP53 0.1 -2 3e-2 4\nmyc\t1 2 3 4\n# note\nGata1 0 0 0 0\n")
    with gzip.open("models/knowledge/go_bp.gmt.gz", "rt") as f:
        sets = [next(f) for _ in range(6)]
    gmt = "".join("\t".join(l.rstrip("\n").split("\t")[:8]) + "\n" for l in sets)
    put("genetables", "sets.gmt", gmt)
    put("genetables", "sets.gmt.gz", gz(gmt))
    put("genetables", "small.gmt", "# sets\nA\tdesc\tTP53\tMYC\t\tgata1\n\nB\t\tSPI1\n")


def main():
    mtx_seeds()
    dense_seeds()
    checkpoint_seeds()
    safetensors_seeds()
    edgelist_seeds()
    genetable_seeds()


if __name__ == "__main__":
    main()
