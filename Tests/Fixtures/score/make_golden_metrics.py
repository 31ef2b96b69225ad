#!/usr/bin/env python3
"""Prints the scikit-learn values that Tests/MetricsTests/BinaryRankingTests.swift holds as goldens.

Run: python3 make_golden_metrics.py   (needs numpy and scikit-learn; printed with repr, 17 digits)
"""
import numpy as np
import sklearn
from sklearn.metrics import average_precision_score, roc_auc_score

CASES = {
    # name: (labels, scores)
    "distinct": ([1, 0, 1, 1, 0, 0, 1, 0], [0.9, 0.8, 0.7, 0.6, 0.55, 0.4, 0.3, 0.1]),
    "ties": ([1, 0, 1, 0, 1, 0, 0, 1, 0, 0], [0.9, 0.9, 0.7, 0.7, 0.7, 0.5, 0.5, 0.2, 0.2, 0.1]),
    "all_tied": ([1, 0, 0, 1, 0], [0.5, 0.5, 0.5, 0.5, 0.5]),
    "perfect": ([0, 0, 1, 1], [-3.0, -1.0, 2.0, 2.5]),
    "inverted": ([1, 1, 0, 0, 0], [0.1, 0.2, 0.3, 0.4, 0.5]),
    "negative_scores_ties": ([0, 1, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1],
                             [-2.5, 4.0, -0.5, -0.5, 1.25, 1.25, 1.25, -7.0, 0.0, 0.0, 3.0, -0.5]),
}

# A larger seeded case with many ties (scores rounded to one decimal).
rng = np.random.default_rng(7)
lab = (rng.random(200) < 0.2).astype(int)
sc = np.round(rng.normal(size=200) + lab * 0.8, 1)
CASES["seeded200"] = (lab.tolist(), sc.tolist())

def early_precision(y, s):
    """BEELINE's rule (BLEval/computeEarlyPrec.py, without its 6-decimal rounding): k = number of
    positives; take every item scored at least as high as the k-th ranked one."""
    y, s = np.asarray(y), np.asarray(s, dtype=float)
    k = int(y.sum())
    cut = np.sort(s)[::-1][k - 1]
    sel = s >= cut
    return int(sel.sum()), int(y[sel].sum())


print("# scikit-learn", sklearn.__version__)
for name, (y, s) in CASES.items():
    print(name, "auroc", repr(float(roc_auc_score(y, s))), "ap", repr(float(average_precision_score(y, s))),
          "early (selected, tp)", early_precision(y, s))
    if name == "seeded200":
        print("  labels", "".join(str(v) for v in y))
        print("  scores", ", ".join(repr(v) for v in s))

# Per-regulator (macro) metrics, score --truth's per_regulator_auroc / per_regulator_auprc
# (Tests/ScoreTests/ScoreEvaluationTests.swift): the mean over the regulators whose pairs hold both
# classes of sklearn's metrics over that regulator's pairs; TF3 (negatives only) is left out.
PER_REGULATOR = {
    "TF1": ([1, 0, 1, 0, 0, 1], [5.0, 4.5, 4.5, 3.0, 2.5, 2.0]),
    "TF2": ([0, 1, 0, 0, 1, 0], [1.5, 1.0, 1.0, 0.5, -1.0, -2.0]),
    "TF3": ([0, 0, 0, 0, 0, 0], [0.25, 0.25, 0.0, -0.5, -0.5, -3.0]),
}
aurocs, aps = [], []
for name, (y, s) in PER_REGULATOR.items():
    if 0 < sum(y) < len(y):
        aurocs.append(roc_auc_score(y, s))
        aps.append(average_precision_score(y, s))
ys = sum((v[0] for v in PER_REGULATOR.values()), [])
ss = sum((v[1] for v in PER_REGULATOR.values()), [])
print("per_regulator macro auroc", repr(float(np.mean(aurocs))), "macro ap", repr(float(np.mean(aps))),
      "over", len(aurocs), "regulators; pooled auroc", repr(float(roc_auc_score(ys, ss))),
      "pooled ap", repr(float(average_precision_score(ys, ss))))
