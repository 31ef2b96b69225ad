"""Ranking metrics for labelled regulator -> target pairs, shared by bench/baselines.py and bench/protocols.py.

Definitions (bench/PROTOCOLS.md, "Metrics"; `score` implements the same in Swift):

* pooled AUROC  = scikit-learn `roc_auc_score(y, s)` over all evaluated pairs (tied scores form one
  threshold: a tie between a positive and a negative counts one half);
* pooled AUPRC  = scikit-learn `average_precision_score(y, s)` (ties grouped, no interpolation);
* per-regulator macro AUROC / AUPRC = the same two functions computed on the pairs of one
  regulator at a time, then the unweighted mean over the regulators whose pairs contain both a
  positive and a negative (the others are skipped and not counted); `n_regulators` is how many
  were averaged. No such regulator: the macro figures are undefined (None / empty in CSVs).

Needs numpy and scikit-learn.
"""

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def pooled(labels, scores):
    """(AUROC, AUPRC) over all pairs; both classes must be present."""
    y = np.asarray(labels, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    if y.min() == y.max():
        raise ValueError("pooled metrics need both positive and negative pairs")
    return float(roc_auc_score(y, s)), float(average_precision_score(y, s))


def per_regulator(regulators, labels, scores):
    """(macro AUROC, macro AUPRC, regulators averaged) over regulators having both classes."""
    r = np.asarray(regulators)
    y = np.asarray(labels, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    order = np.argsort(r, kind="stable")
    r, y, s = r[order], y[order], s[order]
    bounds = np.flatnonzero(r[1:] != r[:-1]) + 1
    aurocs, auprcs = [], []
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(r)]):
        yy = y[lo:hi]
        if yy.min() == yy.max():
            continue
        aurocs.append(roc_auc_score(yy, s[lo:hi]))
        auprcs.append(average_precision_score(yy, s[lo:hi]))
    if not aurocs:
        return None, None, 0
    return float(np.mean(aurocs)), float(np.mean(auprcs)), len(aurocs)


def all_metrics(regulators, labels, scores):
    """Dict with auroc, auprc, reg_auroc, reg_auprc, n_regulators, n_test, pos_frac."""
    au, ap = pooled(labels, scores)
    rau, rap, n = per_regulator(regulators, labels, scores)
    y = np.asarray(labels)
    return {"auroc": au, "auprc": ap, "reg_auroc": rau, "reg_auprc": rap, "n_regulators": n,
            "n_test": int(len(y)), "pos_frac": float(y.mean())}


def read_pairs(path):
    """A labelled edge file (regulator<TAB>target<TAB>label, header line) as three lists."""
    regs, tgts, ys = [], [], []
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        if header[:3] != ["regulator", "target", "label"]:
            raise ValueError(f"{path}: expected the header regulator<TAB>target<TAB>label, got {header}")
        for n, line in enumerate(f, start=2):
            a, b, y = line.rstrip("\n").split("\t")[:3]
            if y not in ("0", "1"):
                raise ValueError(f"{path}: line {n}: label {y!r} is not 0 or 1")
            regs.append(a)
            tgts.append(b)
            ys.append(int(y))
    return regs, tgts, np.array(ys, dtype=np.int64)
