#!/usr/bin/env python3
"""Convert the BEELINE benchmark (GENELink packaging) into symbol edge files that scgrn reads.

Usage:
    python3 bench/beeline_prepare.py DATA_DIR OUT_DIR [--only NAME ...] [--copy-expression]

DATA_DIR is the data folder holding `beeline/` (expression/, ground_truth/, splits/) as described
in its README (section 2). For every network (Specific, Non-Specific, STRING), every dataset
(cell type x TFs+500/TFs+1000) that has both an expression matrix and splits, and every sample
1..5, it writes one folder

    OUT_DIR/<cell>_TFs<n>_<Net>_sample<k>/
        ExpressionData.csv.gz   the expression matrix (genes x cells): a symbolic link to the
                                file in DATA_DIR, or a copy with --copy-expression
        Train.tsv Valid.tsv Test.tsv
                                regulator<TAB>target<TAB>label (0/1), with that header line
        tfs.txt                 the network's TFs, one symbol per line (TF.csv order)
        network.tsv             the whole ground-truth network, regulator<TAB>target: the
                                positives of Train, Valid and Test together (do not use it as a
                                prior when evaluating on Test)

and OUT_DIR/datasets.tsv, one line per folder (name, cell, genes, network, sample, expression path,
gene and TF counts, rows and positives per split).

The split files give pairs as integer indices. They index the rows of THAT network's Target.csv,
whose order differs between networks (README section 2), so every index is decoded through the
network's own Target.csv. The script checks (assert) for every folder: the Target.csv genes are the
expression genes; TF.csv symbols agree with Target.csv at their index; labels are 0/1; no pair is
in two splits; no negative is a network edge; the positives of Train u Valid u Test are exactly
BL--network.csv (and Label.csv decodes to the same edges).

Python 3 standard library only. It prints one line per folder and a summary.
"""

import argparse
import csv
import gzip
import io
import os
import shutil
import sys

NETWORKS = ("Specific", "Non-Specific", "STRING")
SPLITS = (("Train", "Train_set"), ("Valid", "Validation_set"), ("Test", "Test_set"))


def read_csv(path):
    """Rows of a (possibly gzipped) CSV file as lists of strings, header included."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", newline="") as f:
        return list(csv.reader(f))


def column(header, name, path):
    assert name in header, f"{path}: no column {name!r} in {header}"
    return header.index(name)


def expression_genes(path):
    """Row names (first field) of a genes x cells CSV, in order."""
    opener = gzip.open if path.endswith(".gz") else open
    genes = []
    with opener(path, "rt", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            genes.append(row[0])
    return genes


def read_targets(path):
    """Target.csv: gene symbols by index (columns Gene,index)."""
    rows = read_csv(path)
    h = rows[0]
    gi, ii = column(h, "Gene", path), column(h, "index", path)
    genes = {}
    for r in rows[1:]:
        idx = int(r[ii])
        assert idx not in genes, f"{path}: index {idx} twice"
        genes[idx] = r[gi]
    assert sorted(genes) == list(range(len(genes))), f"{path}: indices are not 0..n-1"
    symbols = [genes[i] for i in range(len(genes))]
    assert len(set(symbols)) == len(symbols), f"{path}: duplicated gene symbols"
    return symbols


def read_tfs(path, targets):
    """TF.csv: TF symbols in file order; each must equal the Target.csv gene at its index."""
    rows = read_csv(path)
    h = rows[0]
    ti, ii = column(h, "TF", path), column(h, "index", path)
    tfs = []
    for r in rows[1:]:
        sym, idx = r[ti], int(r[ii])
        assert 0 <= idx < len(targets) and targets[idx] == sym, \
            f"{path}: TF {sym} has index {idx}, but Target.csv has {targets[idx] if idx < len(targets) else 'nothing'} there"
        tfs.append(sym)
    return tfs


def read_network(path):
    """BL--network.csv: the positive edges by name, as a set of (Gene1, Gene2)."""
    rows = read_csv(path)
    h = rows[0]
    a, b = column(h, "Gene1", path), column(h, "Gene2", path)
    return {(r[a], r[b]) for r in rows[1:]}


def decode_pairs(path, targets, tf_col, target_col, label_col=None):
    """Index pairs of a split or Label.csv, decoded to symbols: [(regulator, target, label)]."""
    rows = read_csv(path)
    h = rows[0]
    t, g = column(h, tf_col, path), column(h, target_col, path)
    lab = column(h, label_col, path) if label_col else None
    out = []
    for n, r in enumerate(rows[1:], start=2):
        i, j = int(r[t]), int(r[g])
        assert 0 <= i < len(targets) and 0 <= j < len(targets), f"{path}: line {n}: index out of range"
        y = 1
        if lab is not None:
            assert r[lab] in ("0", "1"), f"{path}: line {n}: label {r[lab]!r} is not 0 or 1"
            y = int(r[lab])
        out.append((targets[i], targets[j], y))
    return out


def write_pairs(path, pairs):
    with open(path, "w", newline="") as f:
        f.write("regulator\ttarget\tlabel\n")
        for a, b, y in pairs:
            f.write(f"{a}\t{b}\t{y}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", help="the data folder holding beeline/")
    ap.add_argument("out_dir", help="where to write the per-dataset folders")
    ap.add_argument("--only", action="append", default=[],
                    help="write only this folder (e.g. hHEP_TFs500_Specific_sample1); repeatable")
    ap.add_argument("--copy-expression", action="store_true",
                    help="copy the expression matrix into each folder instead of linking to it")
    args = ap.parse_args()

    root = os.path.join(args.data_dir, "beeline")
    assert os.path.isdir(root), f"{args.data_dir}: no beeline/ folder"
    os.makedirs(args.out_dir, exist_ok=True)
    index_rows = []
    expr_cache = {}
    written = 0
    for net in NETWORKS:
        split_root = os.path.join(root, "splits", net)
        if not os.path.isdir(split_root):
            continue
        for dataset in sorted(os.listdir(split_root)):  # e.g. hHEP_TFs500
            cell, genes_set = dataset.rsplit("_", 1)
            expr = os.path.join(root, "expression", f"{dataset}_ExpressionData.csv.gz")
            if not os.path.isfile(expr):
                continue
            gt = os.path.join(root, "ground_truth", net, dataset)
            targets = read_targets(os.path.join(gt, "Target.csv.gz"))
            if expr not in expr_cache:
                expr_cache[expr] = expression_genes(expr)
            egenes = expr_cache[expr]
            assert sorted(egenes) == sorted(targets), \
                f"{net}/{dataset}: Target.csv genes differ from the expression genes"
            tfs = read_tfs(os.path.join(gt, "TF.csv.gz"), targets)
            network = read_network(os.path.join(gt, "BL--network.csv.gz"))
            label = decode_pairs(os.path.join(gt, "Label.csv.gz"), targets, "TF", "Target")
            assert {(a, b) for a, b, _ in label} == network, \
                f"{net}/{dataset}: Label.csv decoded through Target.csv differs from BL--network.csv"
            for sample in sorted(os.listdir(os.path.join(split_root, dataset))):  # sample1..5
                name = f"{dataset}_{net}_{sample}"
                if args.only and name not in args.only:
                    continue
                sdir = os.path.join(split_root, dataset, sample)
                parts = {}
                seen = {}
                for short, stem in SPLITS:
                    pairs = decode_pairs(os.path.join(sdir, f"{stem}.csv.gz"), targets, "TF", "Target", "Label")
                    for a, b, y in pairs:
                        assert (a, b) not in seen or seen[(a, b)] == short, \
                            f"{name}: pair {a}->{b} is in {seen[(a, b)]} and {short}"
                        seen[(a, b)] = short
                        assert y == 1 or (a, b) not in network, f"{name}: {short}: negative {a}->{b} is a network edge"
                    parts[short] = pairs
                positives = {(a, b) for pairs in parts.values() for a, b, y in pairs if y == 1}
                assert positives == network, \
                    f"{name}: positives of Train/Valid/Test ({len(positives)}) differ from BL--network.csv ({len(network)})"

                out = os.path.join(args.out_dir, name)
                os.makedirs(out, exist_ok=True)
                for short, pairs in parts.items():
                    write_pairs(os.path.join(out, f"{short}.tsv"), pairs)
                with open(os.path.join(out, "tfs.txt"), "w") as f:
                    f.write("".join(t + "\n" for t in tfs))
                with open(os.path.join(out, "network.tsv"), "w") as f:
                    f.write("regulator\ttarget\n")
                    f.write("".join(f"{a}\t{b}\n" for a, b in sorted(network)))
                dest = os.path.join(out, "ExpressionData.csv.gz")
                if os.path.lexists(dest):
                    os.remove(dest)
                if args.copy_expression:
                    shutil.copyfile(expr, dest)
                else:
                    os.symlink(os.path.abspath(expr), dest)
                counts = []
                for short, _ in SPLITS:
                    p = parts[short]
                    counts += [len(p), sum(y for _, _, y in p)]
                index_rows.append([name, cell, genes_set, net, sample, os.path.abspath(expr),
                                   len(targets), len(tfs), len(network)] + counts)
                print(f"{name}: {len(targets)} genes, {len(tfs)} TFs, {len(network)} edges; "
                      + ", ".join(f"{s} {parts[s].__len__()} ({sum(y for *_, y in parts[s])} pos)" for s, _ in SPLITS))
                written += 1
    if args.only:
        missing = set(args.only) - {r[0] for r in index_rows}
        assert not missing, f"not found: {sorted(missing)}"
    with open(os.path.join(args.out_dir, "datasets.tsv"), "w") as f:
        f.write("\t".join(["name", "cell", "genes", "network", "sample", "expression", "n_genes", "n_tfs",
                           "n_edges", "train_rows", "train_pos", "valid_rows", "valid_pos",
                           "test_rows", "test_pos"]) + "\n")
        for r in index_rows:
            f.write("\t".join(str(x) for x in r) + "\n")
    print(f"{written} folders written to {args.out_dir}; all checks passed", file=sys.stderr)


if __name__ == "__main__":
    main()
