#!/usr/bin/env python3
"""Build the knowledge gene table: one vector per vocabulary gene from public annotations.

Usage:
    python3 models/make_gene_table.py DEBS -o models/knowledge/gene_table_64.txt.gz
        [--vocab models/vocab/scbert_genes.txt] [--dim 64] [--download] [--check KNOWLEDGE]

DEBS is a folder holding Debian's `r-bioc-org.hs.eg.db` and `r-bioc-progeny` packages (.deb);
`--download` fetches them there first with `apt-get download`. The packages are read directly (a
.deb is an `ar` archive around a tar): the SQLite database of org.Hs.eg.db and the lazy-load R
database of progeny (an R serialisation, decoded here). No R is needed.

The table (models/knowledge/README.md has the reasoning and the figures):

  sources   GO Biological Process, Molecular Function and Cellular Component annotations of
            every Entrez gene, propagated to all ancestor terms (org.Hs.eg.db's go_*_all
            tables, propagated by Bioconductor over the GO release the database records);
            PROGENy's human pathway-responsive genes (model_human_full; 14 pathways).
  genes     a vocabulary symbol is matched to an official symbol; failing that, to an alias
            that names exactly one gene whose official symbol is not in the vocabulary itself.
  weighting GO: binary gene x term, terms annotated to fewer than 2 vocabulary genes or to
            more than half of the annotated ones are dropped, TF-IDF with idf = ln(n / df)
            (n = vocabulary genes with an annotation in that ontology), each gene's row scaled
            to unit L2 norm. PROGENy: the signed weight where p < 0.01, else 0, each pathway
            divided by the root mean square of its kept weights, the gene's row scaled to unit
            norm. The four blocks (BP, MF, CC, PROGENy) are concatenated with weight 1/2 each,
            so the inner product of two genes is the mean of their four per-source cosines.
  SVD       the leading `--dim` singular vectors of that genes x features matrix (ARPACK,
            fixed start vector), ordered by singular value; each left vector's sign is chosen
            so that its entry of largest magnitude is positive (the first such gene in
            vocabulary order on ties). Gene vectors are U·S times one constant that makes the
            mean squared coordinate over annotated genes 1 (the scale of N(0, 1) embeddings).
  no data   a gene without any annotation gets the zero vector (its row is written, all zeros).

Output: the gene2vec text format `pretrain --gene2vec` and `graphify --gene-features` read: one
line per vocabulary gene in vocabulary order, `SYMBOL v1 ... vD` separated by spaces, values
with 5 decimals, after comment lines starting with `#`. A `.gz` name writes it gzip-compressed
(no name or time stamp, so the bytes are reproducible).

`--check KNOWLEDGE` compares the tables read from the packages with an earlier export of the same
packages (the folder holding go/hs_go_{bp,mf,cc}_all.tsv.gz and
progeny/progeny_model_human_full.csv.gz) and stops on any difference.

Needs Python 3 with numpy and scipy.
"""

import argparse
import bz2
import csv
import glob
import gzip
import hashlib
import io
import lzma
import math
import os
import sqlite3
import struct
import subprocess
import sys
import tarfile
import tempfile
import zlib

ONTOLOGIES = ("bp", "mf", "cc")
PROGENY_P = 0.01
ORGDB_PATH = "usr/lib/R/site-library/org.Hs.eg.db/extdata/org.Hs.eg.sqlite"
PROGENY_PATH = "usr/lib/R/site-library/progeny/data/Rdata"


def fail(msg):
    sys.exit(f"make_gene_table.py: {msg}")


def note(msg):
    print(f"[make_gene_table] {msg}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# Debian packages: an ar archive holding data.tar.{xz,gz,zst}

def deb_member(deb, wanted):
    """The bytes of the file `wanted` (a path without leading ./) inside a .deb."""
    with open(deb, "rb") as f:
        if f.read(8) != b"!<arch>\n":
            fail(f"{deb}: not a Debian package (no ar header)")
        while True:
            head = f.read(60)
            if len(head) < 60:
                break
            name = head[:16].decode().strip().rstrip("/")
            size = int(head[48:58].decode().strip())
            body = f.read(size)
            if size % 2:
                f.read(1)
            if not name.startswith("data.tar"):
                continue
            if name.endswith(".zst"):
                body = subprocess.run(["zstd", "-dc"], input=body, capture_output=True, check=True).stdout
                mode = "r:"
            else:
                mode = {"data.tar.xz": "r:xz", "data.tar.gz": "r:gz", "data.tar": "r:"}[name]
            with tarfile.open(fileobj=io.BytesIO(body), mode=mode) as tar:
                for m in tar.getmembers():
                    if m.name.lstrip("./") == wanted:
                        return tar.extractfile(m).read()
            fail(f"{deb}: no {wanted} inside")
    fail(f"{deb}: no data.tar member")


def find_deb(folder, package):
    hits = sorted(glob.glob(os.path.join(folder, f"{package}_*.deb")))
    if not hits:
        fail(f"{folder}: no {package}_*.deb (apt-get download {package}, or --download)")
    return hits[-1]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------
# org.Hs.eg.db: symbols, aliases, propagated GO annotations

def read_orgdb(deb):
    blob = deb_member(deb, ORGDB_PATH)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "org.Hs.eg.sqlite")
        with open(path, "wb") as f:
            f.write(blob)
        db = sqlite3.connect(path)
        meta = dict(db.execute("select name, value from metadata"))
        symbols = {i: s for i, s in db.execute("select _id, symbol from gene_info")}
        aliases = {}
        for i, a in db.execute("select _id, alias_symbol from alias"):
            aliases.setdefault(a, set()).add(i)
        go = {}
        for o in ONTOLOGIES:
            go[o] = sorted(set(db.execute(f"select i.symbol, g.go_id from go_{o}_all g join gene_info i using(_id)")))
        db.close()
    return {"sha256": sha256(blob), "meta": meta, "symbols": symbols, "aliases": aliases, "go": go}


# ---------------------------------------------------------------------------------------------
# progeny: an R lazy-load database (Rdata.rdx index, Rdata.rdb objects), R's XDR serialisation

class RReader:
    """Decodes R's serialisation format (version 2 or 3, XDR) into Python values: vectors become
    lists, attributes a dict on an RObject."""

    def __init__(self, data):
        self.d, self.p, self.refs = data, 0, []
        if self.d[:2] != b"X\n":
            fail("progeny: not an XDR R serialisation")
        self.p = 2
        version = self.int()
        self.int(); self.int()
        if version == 3:
            n = self.int()
            self.p += n

    def int(self):
        v = struct.unpack_from(">i", self.d, self.p)[0]
        self.p += 4
        return v

    def length(self):
        n = self.int()
        if n == -1:
            hi, lo = self.int(), self.int()
            n = (hi << 32) + lo
        return n

    def item(self):
        flags = self.int()
        t, has_attr, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
        if t == 254 or t == 242 or t == 241 or t == 253 or t == 251 or t == 252 or t == 250:
            return None
        if t == 255:                                    # reference
            i = flags >> 8
            return self.refs[(i or self.int()) - 1]
        if t == 1:                                      # symbol
            s = RObject("symbol", self.item())
            self.refs.append(s)
            return s
        if t in (2, 6, 3, 5, 17, 239, 240):           # pairlist-like: attr?, tag?, car, cdr
            attr = self.item() if has_attr else None
            tag = self.item() if has_tag else None
            car = self.item()
            cdr = self.item()
            node = RObject("pairlist", [(tag.value if isinstance(tag, RObject) else tag, car)])
            if isinstance(cdr, RObject) and cdr.kind == "pairlist":
                node.value += cdr.value
            node.attrs = attr
            return node
        if t == 4:                                      # environment
            env = RObject("environment", None)
            self.refs.append(env)
            self.int(); self.item(); self.item(); self.item(); self.item()
            return env
        if t == 9:                                      # CHARSXP
            n = self.int()
            if n == -1:
                return None
            s = self.d[self.p:self.p + n].decode("utf-8", "replace")
            self.p += n
            return s
        if t in (10, 13):                               # logical, integer
            n = self.length()
            v = list(struct.unpack_from(f">{n}i", self.d, self.p))
            self.p += 4 * n
            v = [None if x == -2147483648 else x for x in v]
        elif t == 14:                                   # double
            n = self.length()
            v = list(struct.unpack_from(f">{n}d", self.d, self.p))
            self.p += 8 * n
        elif t == 16:                                   # character vector
            v = [self.item() for _ in range(self.length())]
        elif t in (19, 20):                             # list
            v = [self.item() for _ in range(self.length())]
        elif t == 238:                                  # ALTREP: class info, state, attributes
            info, state, attr = self.item(), self.item(), self.item()
            cls = info.value[0][1].value if isinstance(info, RObject) else ""
            if cls == "compact_intseq":
                n, start, step = int(state[0]), int(state[1]), int(state[2])
                return RObject("vector", [start + k * step for k in range(n)], self.attrs_dict(attr))
            if cls.startswith("wrap_"):
                return state[0]
            fail(f"progeny: unsupported ALTREP class {cls}")
        else:
            fail(f"progeny: unsupported R type {t}")
        obj = RObject("vector", v)
        if has_attr:
            obj.attrs = self.attrs_dict(self.item())
        return obj

    @staticmethod
    def attrs_dict(pl):
        if not isinstance(pl, RObject):
            return {}
        return {tag: val for tag, val in pl.value}


class RObject:
    def __init__(self, kind, value, attrs=None):
        self.kind, self.value, self.attrs = kind, value, attrs or {}

    def __getitem__(self, i):
        return self.value[i]


def r_unserialize(raw):
    return RReader(raw).item()


def rdb_object(rdb, offset, length):
    """One object of an .rdb file: 4-byte length, then zlib data, or a type byte and bzip2/xz/none."""
    chunk = rdb[offset:offset + length]
    kind = chunk[4:5]
    if kind == b"2":
        return bz2.decompress(chunk[5:])
    if kind == b"X":
        return lzma.decompress(chunk[5:])
    if kind == b"0":
        return chunk[5:]
    if kind == b"Z":
        return zlib.decompress(chunk[5:])
    return zlib.decompress(chunk[4:])


def read_progeny(deb):
    rdx_raw = deb_member(deb, PROGENY_PATH + ".rdx")
    rdb = deb_member(deb, PROGENY_PATH + ".rdb")
    index = r_unserialize(zlib.decompress(rdx_raw, 16 + zlib.MAX_WBITS) if rdx_raw[:2] == b"\x1f\x8b"
                          else zlib.decompress(rdx_raw[4:]))
    # index: list(variables = named list of c(offset, length), references = ..., compressed = ...)
    names = index.attrs["names"].value
    variables = index.value[names.index("variables")]
    vnames = variables.attrs["names"].value
    key = variables.value[vnames.index("model_human_full")].value
    frame = r_unserialize(rdb_object(rdb, int(key[0]), int(key[1])))
    cols = frame.attrs["names"].value
    col = {c: frame.value[i] for i, c in enumerate(cols)}

    def strings(v):
        if "levels" in v.attrs:                         # a factor
            levels = v.attrs["levels"].value
            return [levels[x - 1] for x in v.value]
        return v.value
    rows = list(zip(strings(col["gene"]), strings(col["pathway"]), col["weight"].value, col["p.value"].value))
    return {"sha256": sha256(rdb), "rows": rows}


# ---------------------------------------------------------------------------------------------
# --check: the same material as an earlier export

def check(knowledge, org, progeny):
    for o in ONTOLOGIES:
        path = os.path.join(knowledge, "go", f"hs_go_{o}_all.tsv.gz")
        with gzip.open(path, "rt") as f:
            r = csv.reader(f, delimiter="\t")
            next(r)
            theirs = sorted(set((a, b) for a, b in r))
        if theirs != org["go"][o]:
            fail(f"--check: GO {o.upper()} differs from {path} ({len(theirs)} pairs there, {len(org['go'][o])} here)")
        note(f"check: GO {o.upper()}: {len(theirs):,} gene-term pairs, identical to {path}")
    path = os.path.join(knowledge, "progeny", "progeny_model_human_full.csv.gz")
    with gzip.open(path, "rt") as f:
        r = csv.reader(f)
        next(r)
        theirs = [(g, p, float(w), float(q)) for g, p, w, q in r]
    ours = progeny["rows"]
    if len(theirs) != len(ours):
        fail(f"--check: PROGENy has {len(ours)} rows, {path} {len(theirs)}")
    for a, b in zip(theirs, ours):
        if a[:2] != b[:2] or not math.isclose(a[2], b[2], rel_tol=1e-12) or not math.isclose(a[3], b[3], rel_tol=1e-12):
            fail(f"--check: PROGENy row {b} differs from {a} in {path}")
    note(f"check: PROGENy: {len(ours):,} rows, identical to {path} (values to 1e-12)")


# ---------------------------------------------------------------------------------------------
# the table

def match_vocabulary(vocab, org):
    """vocabulary symbol -> official symbol (itself, or through an unambiguous alias)."""
    official = set(org["symbols"].values())
    in_vocab = set(vocab)
    out, via_alias = {}, 0
    for s in vocab:
        if s in official:
            out[s] = s
            continue
        ids = org["aliases"].get(s, set())
        if len(ids) == 1:
            target = org["symbols"][next(iter(ids))]
            if target not in in_vocab:
                out[s] = target
                via_alias += 1
    return out, via_alias


def build(vocab, org, progeny, dim):
    import numpy as np
    from scipy import sparse
    from scipy.sparse.linalg import svds

    n = len(vocab)
    to_official, via_alias = match_vocabulary(vocab, org)
    rows_of = {}
    for i, s in enumerate(vocab):
        if s in to_official:
            rows_of.setdefault(to_official[s], []).append(i)
    stats = {"genes": n, "matched": len(to_official), "via_alias": via_alias}
    blocks = []
    annotated = np.zeros(n, dtype=bool)
    for o in ONTOLOGIES:
        pairs = [(i, t) for s, t in org["go"][o] for i in rows_of.get(s, [])]
        terms = sorted({t for _, t in pairs})
        col = {t: j for j, t in enumerate(terms)}
        m = sparse.csr_matrix((np.ones(len(pairs)), ([i for i, _ in pairs], [col[t] for _, t in pairs])),
                              shape=(n, len(terms)))
        m.data[:] = 1.0                                  # binary even if a pair repeats
        has = np.asarray(m.getnnz(axis=1) > 0)
        genes_o = int(has.sum())
        df = np.asarray(m.getnnz(axis=0))
        keep = (df >= 2) & (df <= genes_o / 2)
        m = m[:, np.flatnonzero(keep)]
        idf = np.log(genes_o / df[keep])
        m = sparse.csr_matrix(m.multiply(idf[None, :]))
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        m = sparse.diags(np.where(norms > 0, 1 / np.where(norms > 0, norms, 1), 0)) @ m
        annotated |= norms > 0
        stats[f"go_{o}"] = (genes_o, len(terms), int(keep.sum()), int((norms > 0).sum()))
        blocks.append(m)
    pathways = sorted({p for _, p, _, _ in progeny["rows"]})
    pcol = {p: j for j, p in enumerate(pathways)}
    entries = [(i, pcol[p], w) for g, p, w, q in progeny["rows"] if q < PROGENY_P for i in rows_of.get(g, [])]
    pm = np.zeros((n, len(pathways)))
    for i, j, w in entries:
        pm[i, j] = w
    rms = np.sqrt(np.array([np.mean(pm[:, j][pm[:, j] != 0] ** 2) if np.any(pm[:, j] != 0) else 1.0
                            for j in range(len(pathways))]))
    pm /= rms[None, :]
    pn = np.linalg.norm(pm, axis=1)
    pm[pn > 0] /= pn[pn > 0, None]
    annotated |= pn > 0
    stats["progeny"] = (len(pathways), int((pn > 0).sum()))
    blocks.append(sparse.csr_matrix(pm))
    x = sparse.hstack([b * 0.5 for b in blocks]).tocsr()
    stats["features"] = x.shape[1]
    stats["annotated"] = int(annotated.sum())

    # ARPACK from a fixed start vector: the result does not depend on any random state.
    v0 = np.full(min(x.shape), 1.0 / math.sqrt(min(x.shape)))
    u, s, _ = svds(x, k=dim, v0=v0, tol=0, maxiter=100000, solver="arpack")
    order = np.argsort(-s, kind="stable")
    u, s = u[:, order], s[order]
    for k in range(dim):
        j = int(np.argmax(np.abs(u[:, k])))           # first index of the largest magnitude
        if u[j, k] < 0:
            u[:, k] = -u[:, k]
    table = u * s[None, :]
    table[~annotated] = 0
    scale = math.sqrt(float(np.mean(table[annotated] ** 2)))
    table /= scale
    total = float(x.multiply(x).sum())
    stats["singular_values"] = s
    stats["explained"] = float((s ** 2).sum() / total)
    return table, annotated, stats


def write_table(path, vocab, table, header):
    lines = [f"# {h}" for h in header]
    for s, row in zip(vocab, table):
        lines.append(s + " " + " ".join(f"{v:.5f}" for v in row).replace("-0.00000", "0.00000"))
    data = ("\n".join(lines) + "\n").encode()
    if path.endswith(".gz"):
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as g:
            g.write(data)
        data = buf.getvalue()
    with open(path, "wb") as f:
        f.write(data)
    return sha256(data), len(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("debs", help="folder holding the r-bioc-org.hs.eg.db and r-bioc-progeny .deb files")
    ap.add_argument("-o", "--output", required=True, help="the table (.txt, or .txt.gz to compress)")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--vocab", default=os.path.join(here, "vocab", "scbert_genes.txt"),
                    help="gene symbols, one a line, in model order (default: scBERT's, models/vocab/scbert_genes.txt)")
    ap.add_argument("--dim", type=int, default=64, help="vector width (default 64)")
    ap.add_argument("--download", action="store_true", help="apt-get download the two packages into DEBS first")
    ap.add_argument("--check", metavar="KNOWLEDGE", help="compare the packages' tables with an earlier export of them")
    args = ap.parse_args()
    if args.dim < 1:
        fail("--dim must be at least 1")
    os.makedirs(args.debs, exist_ok=True)
    if args.download:
        subprocess.run(["apt-get", "download", "r-bioc-org.hs.eg.db", "r-bioc-progeny"], cwd=args.debs, check=True)
    with open(args.vocab) as f:
        vocab = [line.strip() for line in f if line.strip()]
    if len(set(vocab)) != len(vocab):
        fail(f"{args.vocab}: repeated symbols")
    org_deb, progeny_deb = find_deb(args.debs, "r-bioc-org.hs.eg.db"), find_deb(args.debs, "r-bioc-progeny")
    org = read_orgdb(org_deb)
    progeny = read_progeny(progeny_deb)
    note(f"{os.path.basename(org_deb)}: {len(org['symbols']):,} genes; GO " +
         ", ".join(f"{o.upper()} {len(org['go'][o]):,}" for o in ONTOLOGIES) + " propagated gene-term pairs")
    note(f"{os.path.basename(progeny_deb)}: model_human_full {len(progeny['rows']):,} rows")
    if args.check:
        check(args.check, org, progeny)
    table, annotated, st = build(vocab, org, progeny, args.dim)
    note(f"vocabulary {st['genes']:,} genes: {st['matched']:,} matched to an Entrez gene "
         f"({st['via_alias']} through an alias), {st['annotated']:,} with an annotation")
    for o in ONTOLOGIES:
        g, t, kept, _ = st[f"go_{o}"]
        note(f"GO {o.upper()}: {g:,} genes, {t:,} terms, {kept:,} kept (annotated to 2 genes or more and to at most half)")
    note(f"PROGENy: {st['progeny'][0]} pathways, {st['progeny'][1]:,} genes with a weight at p < {PROGENY_P}")
    note(f"SVD of {st['genes']:,} x {st['features']:,}: the {args.dim} components hold {st['explained']:.1%} "
         f"of the squared norm; singular values {st['singular_values'][0]:.3f} … {st['singular_values'][-1]:.3f}")
    header = [
        f"scgrn knowledge gene table: {len(vocab)} genes x {args.dim} (models/knowledge/README.md)",
        f"sources: {os.path.basename(org_deb)} (sqlite sha256 {org['sha256']}; GO {org['meta'].get('GOSOURCEDATE', '?')}, "
        f"annotations {org['meta'].get('GOEGSOURCEDATE', '?')}), {os.path.basename(progeny_deb)} (Rdata.rdb sha256 {progeny['sha256']})",
        f"{st['annotated']} genes annotated; {len(vocab) - st['annotated']} without any annotation have zero vectors",
    ]
    digest, size = write_table(args.output, vocab, table, header)
    note(f"wrote {args.output}: {len(vocab):,} x {args.dim}, {size:,} bytes, sha256 {digest}")


if __name__ == "__main__":
    main()
