#!/usr/bin/env python3
"""How much of each bundled prior lands on a dataset's genes (the edges graphify --prior can use).

Usage:  python3 coverage.py --species human|mouse GENES... [--priors FILE...]

GENES are gene lists: an expression matrix (CSV/TSV, plain or gzip, genes as rows: the first column
of every line after the header, as in BEELINE's *_ExpressionData.csv.gz) or a text file with one
symbol per line (`.txt`). --priors defaults to the `*_<species>.tsv` files beside this script.
Symbols are matched as graphify matches them: exactly, else ignoring case when that is unambiguous
(BEELINE upper-cases mouse symbols). An edge counts when both ends are genes of the dataset and it
is not a self-loop (graphify drops self-loops). Prints a Markdown table: per dataset and prior,
edges / regulators with at least one such edge / dataset genes touched by one.
"""
import argparse
import glob
import gzip
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))


def lines(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8").splitlines()


def read_genes(path):
    rows = lines(path)
    if path.endswith(".txt"):
        return [r.strip() for r in rows if r.strip() and not r.startswith("#")]
    sep = "\t" if "\t" in rows[0] else ","
    return [r.split(sep, 1)[0].strip().strip('"') for r in rows[1:] if r]


def read_prior(path):
    return [tuple(r.split("\t")) for r in lines(path) if r and not r.startswith("#")]


class Lookup:
    def __init__(self, genes):
        self.exact = set(genes)
        folded = {}
        for g in genes:
            folded.setdefault(g.upper(), set()).add(g)
        self.folded = {k: next(iter(v)) for k, v in folded.items() if len(v) == 1}

    def __call__(self, s):
        return s if s in self.exact else self.folded.get(s.upper())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--species", required=True, choices=["human", "mouse"])
    ap.add_argument("--priors", nargs="+")
    ap.add_argument("genes", nargs="+")
    args = ap.parse_args()
    priors = args.priors or sorted(glob.glob(os.path.join(HERE, f"*_{args.species}.tsv")))
    loaded = [(os.path.basename(p), read_prior(p)) for p in priors]
    print("| dataset | genes | " + " | ".join(n for n, _ in loaded) + " |")
    print("|---|---|" + "---|" * len(loaded))
    for path in args.genes:
        genes = read_genes(path)
        look = Lookup(genes)
        cells = []
        for _, edges in loaded:
            hit = set()
            for r, t in edges:
                a, b = look(r), look(t)
                if a is not None and b is not None and a != b:
                    hit.add((a, b))
            regs = {a for a, _ in hit}
            touched = regs | {b for _, b in hit}
            cells.append(f"{len(hit):,} / {len(regs)} / {len(touched)}")
        name = re.sub(r"(_ExpressionData)?\.(csv|tsv|txt)(\.gz)?$", "", os.path.basename(path))
        print(f"| {name} | {len(genes):,} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
