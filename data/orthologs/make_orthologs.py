#!/usr/bin/env python3
"""Builds mouse_human.tsv, the mouse -> human gene symbol table, from celltypist's Ensembl 105 table.

Usage:  python3 make_orthologs.py SOURCE [-o OUT]

SOURCE is celltypist's `Ensembl105_Human2Mouse_Genes.csv` (two columns, human symbol then mouse
symbol, no header; Teichlab/celltypist, celltypist/data/samples/) or the same table with tabs for
commas and/or a `human<TAB>mouse` header line. OUT defaults to mouse_human.tsv beside this script.

Kept: rows with both a human and a mouse symbol, distinct pairs. Written: `#` comment lines, one
header line `mouse<TAB>human<TAB>type`, then one pair per line sorted by mouse symbol then human
symbol (code-point order). `type` is derived here from how often each symbol occurs in the kept
pairs (the source has no homology-type column), read mouse-first:
  one2one    the mouse symbol has one human partner and that human symbol has one mouse partner
  one2many   the mouse symbol has several human partners, each of which has only this mouse partner
  many2one   the mouse symbol has one human partner, which has several mouse partners
  many2many  otherwise
Symbols are written exactly as the source spells them (mouse: MGI mixed case).
"""
import argparse
import hashlib
import os
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = {
    "repo": "Teichlab/celltypist",
    "commit": "fe357564a6625d3b1732a022fd39f18e55696e80",
    "path": "celltypist/data/samples/Ensembl105_Human2Mouse_Genes.csv",
    "licence": "MIT (celltypist)",
    # sha256 of the file as published, and of the tab-separated copy with a `human<TAB>mouse` header.
    "sha256": {
        "4a174c83cfa70aad7c470d8e453fda94d8fb5d70f8a2f0ae196d54c9e31369f1": "as published",
        "af91f4da9159c4550877e4f3e33a9e5577e84a65629593ca1f782111d129f273": "tab-separated, with header",
    },
}


def read_pairs(path):
    """Returns the distinct (human, mouse) pairs with both symbols, and the number of data rows."""
    with open(path, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8")
    pairs, rows = set(), 0
    for n, line in enumerate(text.splitlines(), 1):
        if line == "":
            continue
        sep = "\t" if "\t" in line else ","
        fields = [x.strip() for x in line.split(sep)]
        if len(fields) != 2:
            sys.exit(f"{path}:{n}: expected 2 fields, found {len(fields)}")
        if rows == 0 and [x.lower() for x in fields] == ["human", "mouse"]:
            continue  # header line
        rows += 1
        human, mouse = fields
        if human and mouse:
            pairs.add((human, mouse))
    return pairs, rows, hashlib.sha256(raw).hexdigest()


def classify(pairs):
    """Maps each (mouse, human) pair to its type (see the module docstring)."""
    humans_of, mice_of = defaultdict(set), defaultdict(set)
    for human, mouse in pairs:
        humans_of[mouse].add(human)
        mice_of[human].add(mouse)
    out = {}
    for human, mouse in pairs:
        many_h = len(humans_of[mouse]) > 1
        many_m = len(mice_of[human]) > 1
        if not many_h and not many_m:
            t = "one2one"
        elif many_h and all(len(mice_of[h]) == 1 for h in humans_of[mouse]):
            t = "one2many"
        elif many_m and not many_h and all(len(humans_of[m]) == 1 for m in mice_of[human]):
            t = "many2one"
        else:
            t = "many2many"
        out[(mouse, human)] = t
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", help="celltypist's Ensembl105_Human2Mouse_Genes.csv (or its tab-separated copy)")
    ap.add_argument("-o", "--out", default=os.path.join(HERE, "mouse_human.tsv"))
    ap.add_argument("--unverified", action="store_true",
                    help="accept a source file whose sha256 is not the known one (the output says so)")
    args = ap.parse_args()

    pairs, rows, digest = read_pairs(args.source)
    known = SOURCE["sha256"].get(digest)
    if known is None and not args.unverified:
        sys.exit(f"{args.source}: sha256 {digest} is not the known release "
                 f"({SOURCE['repo']} @{SOURCE['commit']}); pass --unverified to use it anyway")
    types = classify(pairs)
    counts = defaultdict(int)
    for t in types.values():
        counts[t] += 1
    mice = {m for _, m in pairs}
    humans = {h for h, _ in pairs}

    lines = [
        "# mouse -> human gene symbol orthologs (Ensembl release 105), for mapping mouse data to human symbols",
        f"# source: {SOURCE['repo']} @{SOURCE['commit']} {SOURCE['path']}; licence: {SOURCE['licence']}",
        f"# source sha256: {digest}" + (f" ({known})" if known else " (NOT the release named above)"),
        f"# kept: {len(pairs)} distinct pairs with both symbols, of {rows} source rows; "
        f"{len(mice)} mouse and {len(humans)} human symbols",
        "# type (derived here from symbol multiplicities, mouse first): "
        + ", ".join(f"{t} {counts[t]}" for t in ("one2one", "one2many", "many2one", "many2many")),
        "# made by make_orthologs.py; see README.md",
        "mouse\thuman\ttype",
    ]
    for mouse, human in sorted(types):
        lines.append(f"{mouse}\t{human}\t{types[(mouse, human)]}")
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{args.out}: {len(pairs)} pairs; " + ", ".join(f"{t} {counts[t]}" for t in sorted(counts)), file=sys.stderr)


if __name__ == "__main__":
    main()
