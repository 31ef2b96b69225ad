#!/usr/bin/env python3
"""Time GENELink's own training loop on one BEELINE split: the peer of bench/graphify_speed.sh.

Usage:
    python3 bench/genelink_speed.py GENELINK_CODE BEELINE_DIR DATASET NETWORK SAMPLE [--threads N]
                                    [GENELINK_OPTIONS, e.g. --epochs 2]

GENELINK_CODE is the `Code/` folder of a checkout of https://github.com/zpliulab/GENELink (not
part of this repository; measured at commit 4eb816af). BEELINE_DIR is the folder holding
`expression/`, `ground_truth/` and `splits/` (the layout bench/beeline_prepare.py reads), e.g.
DATASET hHEP_TFs500, NETWORK Specific, SAMPLE 1.

GENELink's `main.py` keeps its input paths as string constants and ends by saving and reloading
the model. This script runs main.py's own text with only these changes: the five input paths
point at the split, the two unused imports (tensorboard, EarlyStopping) are dropped, and the
lines after the training loop (saving, reloading, writing embeddings) are cut. Its defaults are
unchanged: 20 epochs, batch 256, seed 8, heads [3,3], hidden [128,64,32], lr 3e-3. The training
loop (from model construction's end to the last epoch's validation) is timed with
time.monotonic and time.process_time; the times go to stdout as `seconds <wall>` and
`cpu_seconds <user + system CPU of all threads>`, GENELink's own epoch lines to stderr.
Needs torch, pandas, scipy and scikit-learn in the Python that runs it.
"""

import argparse
import os
import re
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("code")
    ap.add_argument("beeline")
    ap.add_argument("dataset")
    ap.add_argument("network")
    ap.add_argument("sample", type=int)
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own)")
    ap.add_argument("--test", action="store_true",
                    help="also score the final model on the split's Test_set and print `test_auroc A test_auprc P` "
                         "(scikit-learn's roc_auc_score and average_precision_score of the sigmoid outputs)")
    a, theirs = ap.parse_known_args()

    def existing(*parts):
        p = os.path.join(a.beeline, *parts)
        if not os.path.exists(p):
            sys.exit(f"genelink_speed.py: {p}: no such file")
        return p

    truth = ("ground_truth", a.network, a.dataset)
    split = ("splits", a.network, a.dataset, f"sample{a.sample}")
    paths = {
        "exp_file": existing("expression", f"{a.dataset}_ExpressionData.csv.gz"),
        "tf_file": existing(*truth, "TF.csv.gz"),
        "target_file": existing(*truth, "Target.csv.gz"),
        "train_file": existing(*split, "Train_set.csv.gz"),
        "val_file": existing(*split, "Validation_set.csv.gz"),
    }
    main_py = os.path.join(a.code, "main.py")
    with open(main_py) as f:
        source = f.read()
    for name, path in paths.items():
        source, n = re.subn(rf"^{name}\s*=.*$", f"{name} = {path!r}", source, count=1, flags=re.M)
        if n != 1:
            sys.exit(f"genelink_speed.py: {main_py}: no `{name} = ...` line (another GENELink version?)")
    for unused in ("from torch.utils.tensorboard import SummaryWriter", "from PytorchTools import EarlyStopping"):
        source = source.replace(unused, "")
    loop = source.find("\nfor epoch in range(args.epochs):")
    tail = source.find("\ntorch.save(model.state_dict()", loop)
    if loop < 0 or tail < 0:
        sys.exit(f"genelink_speed.py: {main_py}: training loop not found (another GENELink version?)")
    source = (source[:loop] + "\nimport time as _t\n_t0 = _t.monotonic(); _c0 = _t.process_time()" + source[loop:tail]
              + "\nprint(f'seconds {_t.monotonic() - _t0:.2f}', file=_stdout)"
              + "\nprint(f'cpu_seconds {_t.process_time() - _c0:.2f}', file=_stdout)\n")
    if a.test:   # the epoch-20 model, as the anchors score it (GENELink's main.py keeps the last epoch)
        source += f"""
from sklearn.metrics import roc_auc_score as _auroc, average_precision_score as _ap
_test = torch.from_numpy(pd.read_csv({existing(*split, "Test_set.csv.gz")!r}, index_col=0).values).to(device)
model.eval()
_s = torch.sigmoid(model(data_feature, adj, _test)).detach().cpu().numpy().ravel()
_y = _test[:, -1].cpu().numpy()
print(f'test_auroc {{_auroc(_y, _s):.4f}} test_auprc {{_ap(_y, _s):.4f}}', file=_stdout)
"""

    import torch  # noqa: F401  (fail early, before GENELink's own imports, if torch is missing)
    if a.threads:
        torch.set_num_threads(a.threads)
    sys.path.insert(0, os.path.abspath(a.code))
    stdout, sys.stdout = sys.stdout, sys.stderr   # GENELink's prints go to stderr
    sys.argv = [main_py] + theirs                  # its own argparse: its defaults unless given
    cwd = os.getcwd()
    os.chdir(a.code)                               # it creates model/ relative to the working directory
    try:
        exec(compile(source, main_py, "exec"), {"__name__": "__main__", "_stdout": stdout})
    finally:
        os.chdir(cwd)


if __name__ == "__main__":
    main()
