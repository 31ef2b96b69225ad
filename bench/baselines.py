#!/usr/bin/env python3
"""Leakage baselines on the P1 / P2 splits of bench/protocols.py, written to bench/anchors.

Usage:
    python3 bench/baselines.py WORK [--data DATA] [--protocols P1 P2] [--datasets D ...]
                               [--out bench/anchors/protocols.csv] [--accuracy bench/anchors/accuracy.csv]

WORK is the folder `protocols.py prepare` wrote (WORK/beeline for P1, WORK/heldout for P2). DATA is
the data folder holding knowledge/go and knowledge/orthologs; without it the GO baseline is skipped.
Each baseline sees the training pairs (and the validation pairs, only to choose a setting) and
scores the test pairs; none reads the test labels. The methods (bench/PROTOCOLS.md, "Baselines"):

  IdentityLR            logistic regression on one-hot(regulator) + one-hot(target), no expression;
                        the L2 strength C is the best validation AUROC over a fixed grid (fit on the
                        training pairs only; genes absent from training get an all-zero block)
  RegRateXTargetDegree  (positives / pairs of the regulator in training) x (1 + training positives
                        of the target), no expression
  ExprKNN               mean Pearson correlation (over cells) of the target with the regulator's
                        training positive targets minus that with its training negative targets
  GO_Jaccard            the same contrast with the Jaccard index of GO biological-process terms
                        (propagated `hs_go_bp_all`; mouse symbols through their human orthologs and
                        the upper-cased human symbol)

Every (method, dataset, protocol, split) gives one row of --out with pooled AUROC / AUPRC and
per-regulator macro AUROC / AUPRC (bench/pairmetrics.py), and for P1 one row of --accuracy in its
columns (rows of these methods already in either file are replaced, the other rows kept as they
are). Deterministic: no random numbers are drawn. Needs numpy, scipy and scikit-learn.
"""

import argparse
import csv
import gzip
import os
import sys
import time

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pairmetrics  # noqa: E402
from protocols import DATASETS, NETWORK, split_folder  # noqa: E402

METHODS = ["IdentityLR", "RegRateXTargetDegree", "ExprKNN", "GO_Jaccard"]
C_GRID = [10.0 ** e for e in np.arange(-3, 3.01, 0.5)]
OUT_FIELDS = ["method", "dataset", "network", "protocol", "split", "auroc", "auprc", "reg_auroc", "reg_auprc",
              "n_regulators", "n_test", "pos_frac", "val_auroc", "val_auprc", "setting", "seconds"]
ACC_FIELDS = ["method", "dataset", "network", "sample", "seed", "auroc", "auprc", "pos_frac", "aupr_ratio",
              "val_auroc", "val_auprc", "train_seconds", "threads", "n_test"]


def fail(msg):
    sys.exit(f"baselines.py: {msg}")


def read_expression(path):
    """Genes x cells CSV (row names = symbols): (genes, matrix float64)."""
    genes, rows = [], []
    with gzip.open(path, "rt") as f:
        reader = csv.reader(f)
        next(reader)
        for r in reader:
            genes.append(r[0])
            rows.append([float(x) for x in r[1:]])
    return genes, np.array(rows, dtype=np.float64)


def pearson(x):
    """Gene x gene Pearson correlation; a constant gene correlates 0 with everything."""
    z = x - x.mean(axis=1, keepdims=True)
    norm = np.sqrt((z * z).sum(axis=1))
    ok = norm > 0
    z[ok] /= norm[ok, None]
    z[~ok] = 0.0
    return z @ z.T


_GO_CACHE = {}


def go_terms(data, species):
    """Upper-cased symbol -> set of GO BP terms, read once per species (see _go_terms)."""
    if species not in _GO_CACHE:
        _GO_CACHE[species] = _go_terms(data, species)
    return _GO_CACHE[species]


def _go_terms(data, species):
    """Upper-cased symbol -> set of GO BP terms (propagated); mouse via orthologs and upper-cased symbols."""
    path = os.path.join(data, "knowledge", "go", "hs_go_bp_all.tsv.gz")
    if not os.path.isfile(path):
        fail(f"{path}: not found (is --data the data folder?)")
    human = {}
    with gzip.open(path, "rt") as f:
        next(f)
        for line in f:
            s, t = line.rstrip("\n").split("\t")[:2]
            human.setdefault(s.upper(), set()).add(t)
    if species == "human":
        return human
    orth = os.path.join(data, "knowledge", "orthologs", "Ensembl105_Human2Mouse_Genes.tsv")
    if not os.path.isfile(orth):
        fail(f"{orth}: not found")
    terms = {}
    with open(orth) as f:
        next(f)
        for line in f:
            h, m = (line.rstrip("\n").split("\t") + [""])[:2]
            if h and m and h.upper() in human:
                terms.setdefault(m.upper(), set()).update(human[h.upper()])
    for s, t in human.items():            # mouse symbols that equal a human symbol once upper-cased
        terms.setdefault(s, set()).update(t)
    return terms


def jaccard(genes, terms):
    """Gene x gene Jaccard index of GO term sets (0 where either set is empty)."""
    vocab = {}
    rows, cols = [], []
    for i, g in enumerate(genes):
        for t in terms.get(g.upper(), ()):
            rows.append(i)
            cols.append(vocab.setdefault(t, len(vocab)))
    m = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(genes), max(len(vocab), 1)))
    inter = (m @ m.T).toarray()
    size = np.asarray(m.sum(axis=1)).ravel()
    union = size[:, None] + size[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        j = np.where(union > 0, inter / union, 0.0)
    return j, int((size > 0).sum())


class Split:
    def __init__(self, folder, index):
        self.parts = {}
        for short in ("Train", "Valid", "Test"):
            regs, tgts, ys = pairmetrics.read_pairs(os.path.join(folder, f"{short}.tsv"))
            unknown = {g for g in regs + tgts if g not in index}
            if unknown:
                fail(f"{folder}/{short}.tsv: genes not in the expression matrix: {sorted(unknown)[:5]}")
            self.parts[short] = (regs, tgts, ys)


def identity_lr(split, index):
    regs, tgts, y = split.parts["Train"]
    rcol = {g: i for i, g in enumerate(sorted(set(regs)))}
    tcol = {g: len(rcol) + i for i, g in enumerate(sorted(set(tgts)))}
    width = len(rcol) + len(tcol)

    def design(part):
        r, t, _ = split.parts[part]
        rows, cols = [], []
        for n, (a, b) in enumerate(zip(r, t)):
            if a in rcol:
                rows.append(n)
                cols.append(rcol[a])
            if b in tcol:
                rows.append(n)
                cols.append(tcol[b])
        return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(r), width))

    xtr, xva, xte = design("Train"), design("Valid"), design("Test")
    yva = split.parts["Valid"][2]
    best = None
    for c in C_GRID:
        model = LogisticRegression(C=c, max_iter=5000, tol=1e-8).fit(xtr, y)
        v = roc_auc_score(yva, model.decision_function(xva))
        if best is None or v > best[0] + 1e-12:
            best = (v, c, model)
    _, c, model = best
    return model.decision_function(xva), model.decision_function(xte), f"C={c:g}"


def rate_degree(split, index):
    regs, tgts, y = split.parts["Train"]
    pos, tot, deg = {}, {}, {}
    for a, b, v in zip(regs, tgts, y):
        tot[a] = tot.get(a, 0) + 1
        pos[a] = pos.get(a, 0) + int(v)
        deg[b] = deg.get(b, 0) + int(v)

    def score(part):
        r, t, _ = split.parts[part]
        return np.array([pos.get(a, 0) / tot[a] * (1 + deg.get(b, 0)) if a in tot else 0.0 for a, b in zip(r, t)])
    return score("Valid"), score("Test"), ""


def contrast(sim):
    """Score (r, t) = mean sim(t, r's training positives) - mean sim(t, r's training negatives)."""
    def method(split, index):
        regs, tgts, y = split.parts["Train"]
        members = {}
        for a, b, v in zip(regs, tgts, y):
            members.setdefault(a, ([], []))[1 - int(v)].append(index[b])
        profile = {}
        for a, (p, n) in members.items():
            mp = sim[:, p].mean(axis=1) if p else 0.0
            mn = sim[:, n].mean(axis=1) if n else 0.0
            profile[a] = mp - mn

        def score(part):
            r, t, _ = split.parts[part]
            return np.array([profile[a][index[b]] if a in profile else 0.0 for a, b in zip(r, t)])
        return score("Valid"), score("Test"), ""
    return method


def f4(x):
    return "" if x is None else f"{x:.4f}"


def write_accuracy(path, rows):
    """Write the P1 rows into accuracy.csv's columns."""
    # Other rows are kept byte for byte (the file mixes line ends); rows of the baselines for the
    # same (method, dataset, sample) are replaced, new ones appended with "\n".
    with open(path, newline="") as f:
        lines = f.read().splitlines(keepends=True)
    header = lines[0].rstrip("\r\n").split(",")
    if header != ACC_FIELDS:
        fail(f"{path}: unexpected columns {header}")
    new = [[r["method"], r["dataset"], NETWORK, r["split"], "", r["auroc"], r["auprc"], r["pos_frac"],
            f4(float(r["auprc"]) / float(r["pos_frac"])), r["val_auroc"], r["val_auprc"], r["seconds"], "1",
            r["n_test"]] for r in rows if r["protocol"] == "P1"]
    replaced = {(r[0], r[1], r[2], r[3]) for r in new}
    kept = [ln for ln in lines[1:] if tuple(ln.split(",")[:4]) not in replaced]
    if kept and not kept[-1].endswith("\n"):
        kept[-1] += "\n"
    with open(path, "w", newline="") as f:
        f.write(lines[0] + "".join(kept) + "".join(",".join(r) + "\n" for r in new))
    print(f"{len(new)} P1 rows written to {path}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("work", help="the folder `protocols.py prepare` wrote")
    ap.add_argument("--data", help="the data folder (for knowledge/go and knowledge/orthologs); "
                                   "without it GO_Jaccard is skipped")
    ap.add_argument("--protocols", nargs="+", default=["P1", "P2"], choices=["P1", "P2"])
    ap.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    ap.add_argument("--splits", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    ap.add_argument("--out", default=os.path.join(HERE, "anchors", "protocols.csv"))
    ap.add_argument("--accuracy", default=os.path.join(HERE, "anchors", "accuracy.csv"),
                    help="P1 rows are also written here, in its columns ('' to skip)")
    args = ap.parse_args()

    rows = []
    for dataset in args.datasets:
        species = "human" if dataset.startswith("h") else "mouse"
        folder = split_folder(args.work, args.protocols[0], dataset, args.splits[0])
        expr = os.path.join(folder, "ExpressionData.csv.gz")
        if not os.path.exists(expr):
            fail(f"{expr}: missing; run `protocols.py prepare DATA {args.work}` first")
        genes, x = read_expression(expr)
        index = {g: i for i, g in enumerate(genes)}
        methods = {"IdentityLR": identity_lr, "RegRateXTargetDegree": rate_degree, "ExprKNN": contrast(pearson(x))}
        if args.data:
            sim, annotated = jaccard(genes, go_terms(args.data, species))
            methods["GO_Jaccard"] = contrast(sim)
            print(f"{dataset}: {annotated} of {len(genes)} genes have GO BP terms", file=sys.stderr)
        for protocol in args.protocols:
            for k in args.splits:
                split = Split(split_folder(args.work, protocol, dataset, k), index)
                regs, _, yte = split.parts["Test"]
                yva = split.parts["Valid"][2]
                for name, method in methods.items():
                    t0 = time.monotonic()
                    sva, ste, setting = method(split, index)
                    seconds = time.monotonic() - t0
                    m = pairmetrics.all_metrics(regs, yte, ste)
                    row = {"method": name, "dataset": dataset, "network": NETWORK, "protocol": protocol,
                           "split": str(k), "auroc": f4(m["auroc"]), "auprc": f4(m["auprc"]),
                           "reg_auroc": f4(m["reg_auroc"]), "reg_auprc": f4(m["reg_auprc"]),
                           "n_regulators": str(m["n_regulators"]), "n_test": str(m["n_test"]),
                           "pos_frac": f4(m["pos_frac"]), "val_auroc": f4(roc_auc_score(yva, sva)),
                           "val_auprc": f4(average_precision_score(yva, sva)), "setting": setting,
                           "seconds": f"{seconds:.2f}"}
                    rows.append(row)
                    print(f"{name} {dataset} {protocol} {k}: AUROC {row['auroc']} AUPRC {row['auprc']} "
                          f"per-regulator {row['reg_auroc']} / {row['reg_auprc']} {setting}", file=sys.stderr)

    done = {(r["method"], r["dataset"], r["protocol"], r["split"]) for r in rows}
    kept = []
    if os.path.exists(args.out):
        with open(args.out) as f:
            kept = [r for r in csv.DictReader(f) if (r["method"], r["dataset"], r["protocol"], r["split"]) not in done]
    order = {m: i for i, m in enumerate(METHODS)}
    allrows = sorted(kept + rows, key=lambda r: (order.get(r["method"], 99), r["protocol"],
                                                  DATASETS.index(r["dataset"]) if r["dataset"] in DATASETS else 99,
                                                  int(r["split"])))
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, OUT_FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows(allrows)
    print(f"{len(rows)} rows written to {args.out}", file=sys.stderr)

    if args.accuracy and "P1" in args.protocols:
        write_accuracy(args.accuracy, rows)


if __name__ == "__main__":
    main()
