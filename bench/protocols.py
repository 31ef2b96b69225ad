#!/usr/bin/env python3
"""Evaluation protocols P1 / P2 / P3 on the BEELINE Specific datasets: split preparation, scgrn runs, tables.

Usage:
    python3 bench/protocols.py prepare DATA WORK [--datasets D ...] [--folds 5] [--fold-seed 0]
    python3 bench/protocols.py run WORK --variant NAME [--protocols P1 P2 P3 | P3/P1 | P3/P2] [--seeds 1 2 3]
                                   [--datasets D ...] [--splits 1 2 3 4 5] [--bin DIR] [--threads 1]
                                   [--model MODEL.safetensors] [-- GRAPHIFY_OPTIONS ...]
    python3 bench/protocols.py table WORK [--variants NAME|LABEL=NAME+NAME ...] [--seeds S ...] [--datasets D ...]
                                     [--compact] [--out FILE.md]

DATA is the data folder holding beeline/ (as for bench/beeline_prepare.py); WORK is a scratch folder
(e.g. bench/work, which git ignores). The protocols (bench/PROTOCOLS.md has the full description):

  P1  GENELink's own train / validation / test resamplings (5 samples per dataset), written by
      bench/beeline_prepare.py into WORK/beeline/<dataset>_Specific_sample<k>/.
  P2  held-out targets: the genes that are not regulators (a regulator = a gene with an outgoing
      ground-truth edge) are dealt into --folds seeded folds; for fold k the test pairs are every
      regulator x fold-k gene, validation every regulator x fold-(k+1) gene, training every
      regulator x gene of the other folds, all labelled from the ground truth (positives and all
      negatives). Regulator -> regulator pairs are in no split. Written to
      WORK/heldout/<dataset>_Specific_fold<k>/ in beeline_prepare's layout (Train/Valid/Test.tsv,
      tfs.txt, network.tsv, ExpressionData.csv.gz link) with an index WORK/heldout/datasets.tsv
      whose `sample` column reads sample<k> for fold k (so bench/beeline.py can run on it too).
  P3  the user's case: graphify gets only --prior = the training positives (no --train/--valid:
      it samples its own negatives and validation share) and is scored on the test pairs of P1
      (reported as protocol P3/P1) and of P2 (P3/P2).

`run` trains graphify on the CELL stream of each dataset (bench/beeline_cells.py), or with --model on
the GENE stream that `tokenize --input-scale log2 --vocab <the model's genes.txt> [--species mouse] |
embed --model MODEL --genes dataset` makes of it (once per dataset and variant, WORK/<dataset>.<variant>.genes), once per
protocol x dataset x split x seed with the given GRAPHIFY_OPTIONS, scores the test pairs with
`score`, and appends one line per run to WORK/runs-<variant>.tsv: pooled AUROC / AUPRC and
per-regulator macro AUROC / AUPRC (bench/pairmetrics.py), graphify's validation AUROC and selected
epoch, its wall-clock seconds and, for P3 runs, the AUROCs on the split's validation pairs (which
graphify did not read there). Runs already in that file are skipped, so an interrupted run
resumes. `table` prints mean ± std per dataset for each variant beside the baselines of
bench/anchors/protocols.csv (bench/baselines.py) and GENELink (bench/anchors/accuracy.csv, P1 only).

`prepare` needs only the Python standard library; `run` and `table` need numpy and scikit-learn.
"""

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

DATASETS = ["hHEP_TFs500", "hHEP_TFs1000", "mDC_TFs500", "mDC_TFs1000", "mHSC-GM_TFs500",
            "mHSC-L_TFs500", "mHSC-L_TFs1000"]
NETWORK = "Specific"
ANCHORS = os.path.join(HERE, "anchors")


def fail(msg):
    sys.exit(f"protocols.py: {msg}")


def run_cmd(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return p


# ---------------------------------------------------------------------------------------------
# prepare

def heldout_folds(genes, k, seed):
    """Deal the genes (sorted first, so the deal does not depend on file order) into k folds."""
    order = sorted(genes)
    random.Random(seed).shuffle(order)
    return [sorted(order[i::k]) for i in range(k)]


def write_pairs(path, pairs):
    with open(path, "w") as f:
        f.write("regulator\ttarget\tlabel\n")
        f.writelines(f"{a}\t{b}\t{y}\n" for a, b, y in pairs)


def prepare(args):
    import beeline_prepare as bp
    root = os.path.join(args.data, "beeline")
    if not os.path.isdir(root):
        fail(f"{args.data}: no beeline/ folder (give the data folder described in its README)")
    # P1: GENELink's splits, through beeline_prepare (which checks them against the ground truth).
    p1 = os.path.join(args.work, "beeline")
    only = [f"{d}_{NETWORK}_sample{k}" for d in args.datasets for k in range(1, 6)]
    cmd = [sys.executable, os.path.join(HERE, "beeline_prepare.py"), args.data, p1]
    for name in only:
        cmd += ["--only", name]
    run_cmd(cmd)
    print(f"P1: {len(only)} folders in {p1}", file=sys.stderr)

    # P2: held-out target genes.
    p2 = os.path.join(args.work, "heldout")
    os.makedirs(p2, exist_ok=True)
    index = []
    for dataset in args.datasets:
        cell, size = dataset.rsplit("_", 1)
        expr = os.path.join(root, "expression", f"{dataset}_ExpressionData.csv.gz")
        gt = os.path.join(root, "ground_truth", NETWORK, dataset)
        if not os.path.isfile(expr) or not os.path.isdir(gt):
            fail(f"{dataset}: no expression matrix or ground truth under {root}")
        genes = bp.read_targets(os.path.join(gt, "Target.csv.gz"))
        if sorted(bp.expression_genes(expr)) != sorted(genes):
            fail(f"{dataset}: Target.csv genes differ from the expression genes")
        tfs = bp.read_tfs(os.path.join(gt, "TF.csv.gz"), genes)
        network = bp.read_network(os.path.join(gt, "BL--network.csv.gz"))
        regulators = sorted({a for a, _ in network})
        others = [g for g in genes if g not in set(regulators)]
        folds = heldout_folds(others, args.folds, args.fold_seed)
        skipped = sum(1 for a, b in network if b in set(regulators))

        def pairs(gs):
            return [(r, g, int((r, g) in network)) for r in regulators for g in gs]

        for k in range(args.folds):
            test_genes, valid_genes = folds[k], folds[(k + 1) % args.folds]
            train_genes = sorted(g for j, f in enumerate(folds) if j not in (k, (k + 1) % args.folds) for g in f)
            parts = {"Train": pairs(train_genes), "Valid": pairs(valid_genes), "Test": pairs(test_genes)}
            for short, p in parts.items():
                if not any(y for *_, y in p) or all(y for *_, y in p):
                    fail(f"{dataset} fold {k + 1}: {short} pairs have one class only")
            name = f"{dataset}_{NETWORK}_fold{k + 1}"
            out = os.path.join(p2, name)
            os.makedirs(out, exist_ok=True)
            for short, p in parts.items():
                write_pairs(os.path.join(out, f"{short}.tsv"), p)
            with open(os.path.join(out, "tfs.txt"), "w") as f:
                f.writelines(t + "\n" for t in tfs)
            with open(os.path.join(out, "network.tsv"), "w") as f:
                f.write("regulator\ttarget\n")
                f.writelines(f"{a}\t{b}\n" for a, b in sorted(network))
            with open(os.path.join(out, "test_genes.txt"), "w") as f:
                f.writelines(g + "\n" for g in test_genes)
            dest = os.path.join(out, "ExpressionData.csv.gz")
            if os.path.lexists(dest):
                os.remove(dest)
            os.symlink(os.path.abspath(expr), dest)
            counts = []
            for short in ("Train", "Valid", "Test"):
                counts += [len(parts[short]), sum(y for *_, y in parts[short])]
            index.append([name, cell, size, NETWORK, f"sample{k + 1}", os.path.abspath(expr), len(genes), len(tfs),
                          len(network)] + counts)
            print(f"{name}: {len(regulators)} regulators; genes train {len(train_genes)} / valid {len(valid_genes)} / "
                  f"test {len(test_genes)}; pairs (pos) " + ", ".join(
                      f"{s} {parts[s].__len__()} ({sum(y for *_, y in parts[s])})" for s in parts)
                  + f"; {skipped} regulator->regulator edges in no split", file=sys.stderr)
    with open(os.path.join(p2, "datasets.tsv"), "w") as f:
        f.write("\t".join(["name", "cell", "genes", "network", "sample", "expression", "n_genes", "n_tfs", "n_edges",
                           "train_rows", "train_pos", "valid_rows", "valid_pos", "test_rows", "test_pos"]) + "\n")
        f.writelines("\t".join(map(str, r)) + "\n" for r in index)
    print(f"P2: {len(index)} folders in {p2} (fold seed {args.fold_seed})", file=sys.stderr)


def split_folder(work, protocol, dataset, split):
    """The prepared folder of a P1 sample or a P2 fold."""
    if protocol == "P1":
        return os.path.join(work, "beeline", f"{dataset}_{NETWORK}_sample{split}")
    return os.path.join(work, "heldout", f"{dataset}_{NETWORK}_fold{split}")


# ---------------------------------------------------------------------------------------------
# run

RUN_FIELDS = ["variant", "protocol", "dataset", "split", "seed", "auroc", "auprc", "reg_auroc", "reg_auprc",
              "n_regulators", "n_test", "pos_frac", "score_auroc", "valid_auroc", "valid_reg_auroc", "best_epoch", "seconds", "threads",
              "options", "split_valid_auroc", "split_valid_reg_auroc", "contrast"]


def fmt4(x):
    return "" if x is None else f"{x:.4f}"


def read_scores(path):
    """score's output: regulator, target, score, then other columns (in_prior) that are not needed here."""
    scores = {}
    with open(path) as f:
        next(f)
        for line in f:
            a, b, s = line.rstrip("\n").split("\t")[:3]
            scores[(a, b)] = float(s)
    return scores


def embedded(bindir, expression, dataset, args, out):
    """tokenize | embed of one dataset with args.model (its genes.txt beside it), written to out."""
    vocab = os.path.join(os.path.dirname(os.path.abspath(args.model)), "genes.txt")
    species = ["--species", "mouse"] if dataset.startswith("m") else []
    tok = subprocess.Popen([os.path.join(bindir, "tokenize"), expression, "--input-scale", "log2", "--vocab", vocab, "-q"]
                           + species, stdout=subprocess.PIPE)
    emb = subprocess.run([os.path.join(bindir, "embed"), "--model", args.model, "--genes", "dataset", "-q",
                          "-t", str(args.threads), "-o", out + ".part"], stdin=tok.stdout, capture_output=True, text=True)
    tok.stdout.close()
    if tok.wait() != 0 or emb.returncode != 0:
        fail(f"tokenize | embed of {expression} failed:\n{emb.stderr}")
    os.replace(out + ".part", out)


def scored_metrics(pairmetrics, pairs, scores):
    """Pooled and per-regulator metrics of `score`'s output on a labelled pair file."""
    regs, tgts, ys = pairmetrics.read_pairs(pairs)
    sc = read_scores(scores)
    missing = [p for p in zip(regs, tgts) if p not in sc]
    if missing:
        fail(f"{scores}: {len(missing)} pairs of {pairs} were not scored (e.g. {missing[0]})")
    return pairmetrics.all_metrics(regs, ys, [sc[p] for p in zip(regs, tgts)])


def run(args, extra):
    import pairmetrics
    from beeline import model_metadata
    bindir = args.bin or os.path.join(ROOT, ".build", "release")
    for tool in ("graphify", "score") + (("tokenize", "embed") if args.model else ()):
        if not os.access(os.path.join(bindir, tool), os.X_OK):
            fail(f"{bindir}/{tool}: not found (build with `swift build -c release` or give --bin)")
    results = os.path.join(args.work, f"runs-{args.variant}.tsv")
    done = set()
    fields = RUN_FIELDS
    if os.path.exists(results) and os.path.getsize(results) > 0:
        with open(results) as f:
            reader = csv.DictReader(f, delimiter="\t")
            for r in reader:
                done.add((r["protocol"], r["dataset"], r["split"], r["seed"]))
            fields = reader.fieldnames        # a file begun before a column was added keeps its columns
    out = open(results, "a")
    if out.tell() == 0:
        out.write("\t".join(RUN_FIELDS) + "\n")
    scratch = os.path.join(args.work, "runs", args.variant)
    os.makedirs(scratch, exist_ok=True)
    jobs = []
    for protocol in args.protocols:
        bases = ["P1", "P2"] if protocol == "P3" else [protocol.split("/")[-1]]
        for base in bases:
            label = f"P3/{base}" if protocol.startswith("P3") else base
            for dataset in args.datasets:
                for split in args.splits:
                    for seed in args.seeds:
                        jobs.append((label, base, dataset, split, seed))
    for label, base, dataset, split, seed in jobs:
        key = (label, dataset, str(split), str(seed))
        if key in done:
            continue
        folder = split_folder(args.work, base, dataset, split)
        if not os.path.isdir(folder):
            fail(f"{folder}: missing; run `protocols.py prepare` first")
        cells = os.path.join(args.work, f"{dataset}.cells")
        if args.model:
            cells = os.path.join(args.work, f"{dataset}.{args.variant}.genes")
            if not os.path.exists(cells):
                embedded(bindir, os.path.join(folder, "ExpressionData.csv.gz"), dataset, args, cells)
        elif not os.path.exists(cells):
            run_cmd([sys.executable, os.path.join(HERE, "beeline_cells.py"),
                     os.path.join(folder, "ExpressionData.csv.gz"), cells])
        stem = os.path.join(scratch, f"{label.replace('/', '-')}_{dataset}_{split}_seed{seed}")
        train = os.path.join(folder, "Train.tsv")
        cmd = [os.path.join(bindir, "graphify"), cells, "--prior", train]
        if not label.startswith("P3"):
            cmd += ["--train", train, "--valid", os.path.join(folder, "Valid.tsv")]
        cmd += ["--seed", str(seed), "-t", str(args.threads), "-q", "-o", stem + ".model"] + extra
        t0 = time.monotonic()
        run_cmd(cmd)
        seconds = time.monotonic() - t0
        test = os.path.join(folder, "Test.tsv")
        run_cmd([os.path.join(bindir, "score"), stem + ".model", "--pairs", test, "--truth", test,
                 "--metrics", stem + ".json", "-q", "-o", stem + ".scores.tsv"])
        m = scored_metrics(pairmetrics, test, stem + ".scores.tsv")
        if label.startswith("P3"):
            # graphify never read the split's validation pairs: score them too, for choosing settings
            # without looking at the test pairs (graphify's own validation share is in valid_auroc).
            valid = os.path.join(folder, "Valid.tsv")
            run_cmd([os.path.join(bindir, "score"), stem + ".model", "--pairs", valid, "-q", "-o", stem + ".valid.tsv"])
            mv = scored_metrics(pairmetrics, valid, stem + ".valid.tsv")
            os.remove(stem + ".valid.tsv")
        with open(stem + ".json") as f:
            sm = json.load(f)
        meta = model_metadata(stem + ".model")
        row = {"variant": args.variant, "protocol": label, "dataset": dataset, "split": str(split), "seed": str(seed),
               "auroc": fmt4(m["auroc"]), "auprc": fmt4(m["auprc"]), "reg_auroc": fmt4(m["reg_auroc"]),
               "reg_auprc": fmt4(m["reg_auprc"]), "n_regulators": str(m["n_regulators"]), "n_test": str(m["n_test"]),
               "pos_frac": fmt4(m["pos_frac"]), "score_auroc": fmt4(sm["auroc"]),
               "valid_auroc": fmt4(float(meta.get("graphify.valid_auroc", "nan"))),
               "valid_reg_auroc": fmt4(float(meta.get("graphify.valid_per_regulator_auroc", "nan"))),
               "best_epoch": meta.get("graphify.best_epoch", ""), "seconds": f"{seconds:.1f}",
               "split_valid_auroc": fmt4(mv["auroc"]) if label.startswith("P3") else "",
               "split_valid_reg_auroc": fmt4(mv["reg_auroc"]) if label.startswith("P3") else "",
               "contrast": meta.get("graphify.contrast", ""),
               "threads": str(args.threads), "options": " ".join(extra)}
        out.write("\t".join(row[k] for k in fields) + "\n")
        out.flush()
        os.remove(stem + ".model")      # models and score lists are large; the metrics stay in the results file
        os.remove(stem + ".scores.tsv")
        print(f"{args.variant} {label} {dataset} split {split} seed {seed}: AUROC {row['auroc']} AUPRC {row['auprc']} "
              f"per-regulator {row['reg_auroc']} / {row['reg_auprc']} ({row['n_regulators']} regulators; "
              f"score's AUROC {row['score_auroc']}; {row['seconds']} s)", file=sys.stderr)
    out.close()


# ---------------------------------------------------------------------------------------------
# table

BASELINES = [("IdentityLR", "identity LR"), ("RegRateXTargetDegree", "reg rate × target degree"),
             ("ExprKNN", "expression kNN"), ("GO_Jaccard", "GO Jaccard")]


def ms(xs):
    xs = [float(x) for x in xs if x not in ("", None)]
    if not xs:
        return "—"
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{statistics.mean(xs):.3f}±{sd:.3f}"


def pair_cell(rows, a, b):
    if not rows:
        return "—"
    return f"{ms([r[a] for r in rows])} / {ms([r[b] for r in rows])} ({len(rows)})"


def table(args):
    # A column is a variant's runs, or LABEL=V1+V2+…: the runs of several variants, a later one's
    # replacing an earlier one's of the same protocol, dataset, split and seed.
    columns = []
    variants = {}
    for spec in args.variants:
        label, _, names = spec.rpartition("=")
        label = label or names
        columns.append(label)
        runs = {}
        for v in names.split("+"):
            path = os.path.join(args.work, f"runs-{v}.tsv")
            if not os.path.exists(path):
                fail(f"{path}: no results for variant {v}")
            with open(path) as f:
                for r in csv.DictReader(f, delimiter="\t"):
                    if not r["seed"].isdigit():      # a header line repeated by an appended file
                        continue
                    if args.seeds is None or int(r["seed"]) in args.seeds:
                        runs[(r["protocol"], r["dataset"], r["split"], r["seed"])] = r
        for (protocol, dataset, _, _), r in runs.items():
            variants.setdefault((label, protocol, dataset), []).append(r)
    base = {}
    with open(args.baselines) as f:
        for r in csv.DictReader(f):
            base.setdefault((r["method"], r["protocol"], r["dataset"]), []).append(r)
    genelink = {}
    with open(args.anchors) as f:
        for r in csv.DictReader(f):
            if r["method"] == "GENELink" and r["network"] == NETWORK:
                genelink.setdefault(r["dataset"], []).append(r)
    protocols = ["P1", "P2", "P3/P1", "P3/P2"]
    if args.compact:
        return print_text(args, compact_table(args, columns, variants, base, genelink, protocols))
    lines = []
    for protocol in protocols:
        bproto = protocol.split("/")[-1]          # P3 is compared with the baselines on the same test pairs
        vcols = [v for v in columns if any(k[0] == v and k[1] == protocol for k in variants)]
        if protocol.startswith("P3") and not vcols:
            continue
        datasets = [d for d in args.datasets if any(k[1] == protocol and k[2] == d for k in variants)
                    or (not protocol.startswith("P3") and any(k[1] == bproto and k[2] == d for k in base))]
        if not datasets:
            continue
        for metric, (a, b) in (("pooled AUROC / AUPRC", ("auroc", "auprc")),
                               ("per-regulator macro AUROC / AUPRC", ("reg_auroc", "reg_auprc"))):
            note = f" (baselines: trained on {bproto}'s labelled training pairs)" if protocol.startswith("P3") else ""
            lines.append(f"#### {protocol} — {metric}: mean±std (runs){note}\n")
            head = ["dataset"] + vcols + [name for _, name in BASELINES]
            if protocol == "P1" and a == "auroc":
                head.append("GENELink")
            lines.append("| " + " | ".join(head) + " |")
            lines.append("|" + "---|" * len(head))
            for d in datasets:
                row = [d] + [pair_cell(variants.get((v, protocol, d), []), a, b) for v in vcols]
                row += [pair_cell(base.get((m, bproto, d), []), a, b) for m, _ in BASELINES]
                if protocol == "P1" and a == "auroc":
                    row.append(pair_cell(genelink.get(d, []), "auroc", "auprc"))
                lines.append("| " + " | ".join(row) + " |")
            lines.append("")
    print_text(args, "\n".join(lines))


def print_text(args, text):
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)


def compact_table(args, columns, variants, base, genelink, protocols):
    """One table: a row per protocol and dataset, each cell the mean pooled AUROC / per-regulator AUROC
    (and the number of runs)."""
    def cell(rows):
        if not rows:
            return "—"
        m = lambda k: statistics.mean(float(r[k]) for r in rows)
        return f"{m('auroc'):.3f} / {m('reg_auroc'):.3f} ({len(rows)})"
    head = ["protocol", "dataset"] + columns + [name for _, name in BASELINES] + ["GENELink"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for protocol in protocols:
        bproto = protocol.split("/")[-1]
        for d in args.datasets:
            if not any(k[1] == protocol and k[2] == d for k in variants):
                continue
            row = [protocol, d] + [cell(variants.get((v, protocol, d), [])) for v in columns]
            row += [cell(base.get((m, bproto, d), [])) for m, _ in BASELINES]
            g = genelink.get(d, []) if protocol == "P1" else []
            row.append(f"{statistics.mean(float(r['auroc']) for r in g):.3f}" if g else "—")
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="write P1 and P2 split folders into WORK")
    p.add_argument("data", help="the data folder holding beeline/")
    p.add_argument("work")
    p.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--fold-seed", type=int, default=0, help="seed of P2's deal of genes into folds (default 0)")
    r = sub.add_parser("run", help="train and score one scgrn variant under the protocols")
    r.add_argument("work")
    r.add_argument("--variant", required=True, help="names the results file WORK/runs-VARIANT.tsv")
    r.add_argument("--protocols", nargs="+", default=["P1", "P2", "P3"], choices=["P1", "P2", "P3", "P3/P1", "P3/P2"],
                   help="P3 runs both P3/P1 and P3/P2 (default: P1 P2 P3)")
    r.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    r.add_argument("--splits", nargs="+", type=int, default=[1, 2, 3, 4, 5], help="P1 samples / P2 folds")
    r.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3], help="graphify --seed values")
    r.add_argument("--bin", help="folder of the graphify and score executables (default .build/release)")
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--model", help="run graphify on embed's GENE stream from this model (genes.txt beside it)")
    t = sub.add_parser("table", help="markdown tables: variants beside baselines and GENELink")
    t.add_argument("work")
    t.add_argument("--variants", nargs="*", default=[],
                   help="variant names, or LABEL=V1+V2 (later variants' runs replace earlier ones' of the same split and seed)")
    t.add_argument("--seeds", nargs="+", type=int, help="only these seeds' runs (default: all)")
    t.add_argument("--compact", action="store_true",
                   help="one table, a row per protocol and dataset: mean pooled AUROC / per-regulator AUROC")
    t.add_argument("--baselines", default=os.path.join(ANCHORS, "protocols.csv"))
    t.add_argument("--anchors", default=os.path.join(ANCHORS, "accuracy.csv"))
    t.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    t.add_argument("--out")
    args = ap.parse_args(argv)
    if args.command != "run" and extra:
        ap.error("options after -- are for `run` only")
    if args.command == "prepare":
        if args.folds < 3:
            ap.error("--folds must be at least 3 (test, validation and training folds)")
        prepare(args)
    elif args.command == "run":
        run(args, extra)
    else:
        table(args)


if __name__ == "__main__":
    main()
