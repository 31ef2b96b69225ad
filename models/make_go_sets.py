#!/usr/bin/env python3
"""Build the bundled Gene Ontology gene sets: one GMT line per GO biological-process term.

Usage:
    python3 models/make_go_sets.py DEBS -o models/knowledge/go_bp.gmt.gz [--download] [--check KNOWLEDGE]

DEBS is a folder holding Debian's `r-bioc-org.hs.eg.db` package (.deb); `--download` fetches it
there first with `apt-get download`. The package's SQLite database is read as
models/make_gene_table.py reads it (no R needed).

The sets: every term of the go_bp_all table (annotations of every Entrez gene, propagated by
Bioconductor to all ancestor terms), with the official symbols of the genes annotated to it.
Output: GMT, one line per term in term order, `GO:ID<TAB>go_bp_all<TAB>SYMBOL<TAB>SYMBOL…`, the
symbols sorted; a `.gz` name writes it gzip-compressed without name or time stamp, so the bytes
are reproducible. `graphify --contrast go` reads it (docs/GRAPHIFY.md).

`--check KNOWLEDGE` compares the table read from the package with an earlier export of it
(KNOWLEDGE/go/hs_go_bp_all.tsv.gz) and stops on any difference.
"""

import argparse
import gzip
import io
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_gene_table import find_deb, read_orgdb, sha256  # noqa: E402


def fail(msg):
    sys.exit(f"make_go_sets.py: {msg}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("debs", help="folder holding the r-bioc-org.hs.eg.db .deb file")
    ap.add_argument("-o", "--output", required=True, help="the sets (.gmt, or .gmt.gz to compress)")
    ap.add_argument("--download", action="store_true", help="apt-get download the package into DEBS first")
    ap.add_argument("--check", metavar="KNOWLEDGE", help="compare the package's go_bp_all table with an earlier export of it")
    args = ap.parse_args()
    os.makedirs(args.debs, exist_ok=True)
    if args.download:
        subprocess.run(["apt-get", "download", "r-bioc-org.hs.eg.db"], cwd=args.debs, check=True)
    deb = find_deb(args.debs, "r-bioc-org.hs.eg.db")
    org = read_orgdb(deb)
    pairs = org["go"]["bp"]
    if args.check:
        path = os.path.join(args.check, "go", "hs_go_bp_all.tsv.gz")
        with gzip.open(path, "rt") as f:
            next(f)
            theirs = sorted({tuple(line.rstrip("\n").split("\t")[:2]) for line in f})
        if theirs != pairs:
            fail(f"{path}: differs from the package's go_bp_all ({len(theirs):,} against {len(pairs):,} pairs)")
        print(f"[make_go_sets] {path}: identical to the package's table", file=sys.stderr)
    sets = {}
    for symbol, term in pairs:
        sets.setdefault(term, set()).add(symbol)
    text = "".join(f"{term}\tgo_bp_all\t" + "\t".join(sorted(genes)) + "\n" for term, genes in sorted(sets.items()))
    data = text.encode()
    if args.output.endswith(".gz"):
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as g:
            g.write(data)
        data = buf.getvalue()
    with open(args.output, "wb") as f:
        f.write(data)
    genes = len({s for s, _ in pairs})
    print(f"[make_go_sets] {os.path.basename(deb)} (sqlite sha256 {org['sha256']}; GO {org['meta'].get('GOSOURCEDATE', '?')}, "
          f"annotations {org['meta'].get('GOEGSOURCEDATE', '?')}): {len(sets):,} terms, {genes:,} genes, {len(pairs):,} pairs; "
          f"wrote {args.output}: {len(data):,} bytes, sha256 {sha256(data)}", file=sys.stderr)


if __name__ == "__main__":
    main()
