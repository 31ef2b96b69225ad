#!/usr/bin/env python3
"""Does a knowledge term add to graphify on held-out targets? graphify's logits stacked with the
GO-Jaccard and expression contrasts of bench/baselines.py, the weights chosen on validation pairs.

Usage:
    python3 bench/stacking.py WORK --data DATA [--variant scgrn-v3-genelink]
                              [--datasets D ...] [--folds 1 2 3 4 5] [--seeds 1 2 3] [--bin DIR]
                              [--out bench/anchors/stacking.csv]

WORK is the folder `protocols.py prepare` wrote, holding the GENE streams `protocols.py run --model`
made (WORK/<dataset>.<variant>.genes). For every P2 fold and seed, graphify's default (as
`protocols.py run` calls it) trains on the fold's training pairs, and `score` scores its validation
and test pairs (kept in WORK/stacking/, reused when present). Each fold's combined score is

    z(logit) + a * zr(GO contrast) + b * zr(expression contrast)

z standardises over the validation pairs; zr per regulator over the regulator's validation and test
genes (no labels read). a and b come from a grid, as the pair with the best per-regulator AUROC on
the validation pairs; the test pairs are read only to report. One row per (dataset, fold, seed) of
--out: per-regulator and pooled AUROC of graphify, of the GO contrast and of the stack, and a, b.
Needs numpy, scipy and scikit-learn.
"""

import argparse
import csv
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import baselines  # noqa: E402
import pairmetrics  # noqa: E402
from protocols import DATASETS, fmt4, read_scores, run_cmd, split_folder  # noqa: E402

GRID = [0, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 8, 13, 20]
FIELDS = ["dataset", "fold", "seed", "graphify_reg_auroc", "go_reg_auroc", "stack_reg_auroc",
          "graphify_auroc", "stack_auroc", "go_weight", "expression_weight", "valid_reg_auroc"]


def scored(args, dataset, fold, seed):
    """graphify's scores of the fold's validation and test pairs, trained once and kept."""
    folder = split_folder(args.work, "P2", dataset, fold)
    stem = os.path.join(args.work, "stacking", f"{dataset}_{fold}_seed{seed}")
    if not os.path.exists(stem + ".test.tsv"):
        genes = os.path.join(args.work, f"{dataset}.{args.variant}.genes")
        if not os.path.exists(genes):
            sys.exit(f"stacking.py: {genes}: missing; run `protocols.py run WORK --model …` for this variant first")
        train = os.path.join(folder, "Train.tsv")
        run_cmd([os.path.join(args.bin, "graphify"), genes, "--prior", train, "--train", train, "--valid",
                 os.path.join(folder, "Valid.tsv"), "--seed", str(seed), "-t", "1", "-q", "-o", stem + ".model"])
        for part in ("valid", "test"):
            run_cmd([os.path.join(args.bin, "score"), stem + ".model", "--pairs",
                     os.path.join(folder, f"{part.capitalize()}.tsv"), "-q", "-o", f"{stem}.{part}.tsv.part"])
        os.remove(stem + ".model")
        os.replace(stem + ".valid.tsv.part", stem + ".valid.tsv")
        os.replace(stem + ".test.tsv.part", stem + ".test.tsv")
    return read_scores(stem + ".valid.tsv"), read_scores(stem + ".test.tsv")


def per_regulator_z(rv, v, rt, t):
    """Standardise each regulator's scores over its validation and test genes together."""
    v, t = v.copy(), t.copy()
    for r in set(rv) | set(rt):
        iv, it = rv == r, rt == r
        both = np.concatenate([v[iv], t[it]])
        m, sd = both.mean(), both.std() + 1e-12
        v[iv], t[it] = (v[iv] - m) / sd, (t[it] - m) / sd
    return v, t


def fold_row(args, dataset, fold, seed, index, contrasts):
    split = baselines.Split(split_folder(args.work, "P2", dataset, fold), index)
    (rv, tv, yv), (rt, tt, yt) = split.parts["Valid"], split.parts["Test"]
    sv, st = scored(args, dataset, fold, seed)
    lv = np.array([sv[p] for p in zip(rv, tv)])
    lt = np.array([st[p] for p in zip(rt, tt)])
    mu, sd = lv.mean(), lv.std() + 1e-12
    lv, lt = (lv - mu) / sd, (lt - mu) / sd
    rv, rt = np.asarray(rv), np.asarray(rt)
    terms = []
    for sim in contrasts:
        cv, ct, _ = baselines.contrast(sim)(split, index)
        terms.append(per_regulator_z(rv, cv, rt, ct))
    (gv, gt), (ev, et) = terms
    best = None
    for a in GRID:
        for b in GRID:
            v = pairmetrics.per_regulator(rv, yv, lv + a * gv + b * ev)[0]
            if best is None or v > best[0] + 1e-9:
                best = (v, a, b)
    v, a, b = best
    stack = lt + a * gt + b * et
    return {"dataset": dataset, "fold": str(fold), "seed": str(seed),
            "graphify_reg_auroc": fmt4(pairmetrics.per_regulator(rt, yt, lt)[0]),
            "go_reg_auroc": fmt4(pairmetrics.per_regulator(rt, yt, gt)[0]),
            "stack_reg_auroc": fmt4(pairmetrics.per_regulator(rt, yt, stack)[0]),
            "graphify_auroc": fmt4(pairmetrics.pooled(yt, lt)[0]), "stack_auroc": fmt4(pairmetrics.pooled(yt, stack)[0]),
            "go_weight": f"{a:g}", "expression_weight": f"{b:g}", "valid_reg_auroc": fmt4(v)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("work")
    ap.add_argument("--data", required=True, help="the data folder (knowledge/go, knowledge/orthologs)")
    ap.add_argument("--variant", default="scgrn-v3-genelink", help="names the GENE streams WORK/<dataset>.<variant>.genes")
    ap.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    ap.add_argument("--folds", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(HERE), ".build", "release"))
    ap.add_argument("--out", default=os.path.join(HERE, "anchors", "stacking.csv"))
    args = ap.parse_args()
    os.makedirs(os.path.join(args.work, "stacking"), exist_ok=True)

    rows = []
    for dataset in args.datasets:
        species = "human" if dataset.startswith("h") else "mouse"
        genes, x = baselines.read_expression(os.path.join(split_folder(args.work, "P2", dataset, 1),
                                                          "ExpressionData.csv.gz"))
        index = {g: i for i, g in enumerate(genes)}
        contrasts = (baselines.jaccard(genes, baselines.go_terms(args.data, species))[0], baselines.pearson(x))
        for fold in args.folds:
            for seed in args.seeds:
                row = fold_row(args, dataset, fold, seed, index, contrasts)
                rows.append(row)
                print(" ".join(row[k] for k in FIELDS), file=sys.stderr, flush=True)
        mine = [r for r in rows if r["dataset"] == dataset]
        print(f"{dataset}: per-regulator AUROC graphify / GO / stack "
              + " / ".join(fmt4(np.mean([float(r[k]) for r in mine]))
                           for k in ("graphify_reg_auroc", "go_reg_auroc", "stack_reg_auroc"))
              + "; pooled graphify / stack "
              + " / ".join(fmt4(np.mean([float(r[k]) for r in mine])) for k in ("graphify_auroc", "stack_auroc")),
              flush=True)
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"{len(rows)} rows written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
