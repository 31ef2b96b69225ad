#!/usr/bin/env python3
"""Run graphify + score over the BEELINE splits and tabulate test AUROC / AUPRC next to the anchors.

Usage:
    python3 bench/beeline.py PREPARED WORK [--networks Specific ...] [--datasets hHEP_TFs500 ...]
                             [--samples 1 2 3 4 5] [--threads 2] [--anchors accuracy.csv]
                             [--label NAME] [--table OUT.md] [--embed none|pretrain|model
                             [--model M --vocab V]] [-- GRAPHIFY_OPTIONS ...]

PREPARED is the output of bench/beeline_prepare.py (folders <cell>_TFs<n>_<Net>_sample<k> with
ExpressionData.csv.gz, Train/Valid/Test.tsv, and the index datasets.tsv). WORK receives the CELL
streams, models, metrics and a results file. The protocol, per dataset:

  1. the expression matrix becomes a CELL stream once (bench/beeline_cells.py), shared by every
     network and sample of that dataset; with --embed, a GENE stream instead — tokenize
     --input-scale log2 | embed with a model pretrained on that dataset's cells (pretrain, the
     default model's recipe) or with --model: the full model's input (see gene_stream);
  2. for each network and sample:
       graphify CELLS --prior Train.tsv --train Train.tsv --valid Valid.tsv [GRAPHIFY_OPTIONS] -o model
       score model --pairs Test.tsv --truth Test.tsv --metrics metrics.json
     graphify selects its epoch on Valid.tsv; Test.tsv is read only by score;
  3. WORK/results-<label>.tsv gets one line per run (test AUROC/AUPRC, best epoch, validation
     AUROC, graphify's wall-clock seconds); runs whose metrics exist already are not repeated.

The table (markdown, to stdout or --table) gives mean ± std over the samples run per dataset, next
to the anchor methods of --anchors (GENELink, TrainDegree, abs_Pearson, GRNBoost2, measured with
their own code on the same splits; IdentityLR, the gene-identity baseline of bench/baselines.py,
Specific only — see bench/PROTOCOLS.md), and for GENELink also our mean over the same samples it was run
on, with the difference. The executables are taken from .build/release (build them first).
Python 3 standard library only.
"""

import argparse
import csv
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build", "release")
ANCHOR_METHODS = [("GENELink", "GENELink"), ("IdentityLR", "IdentityLR"), ("TrainDegree", "TrainDegree(extra)"),
                  ("abs_Pearson", "abs_Pearson"), ("GRNBoost2", "GRNBoost2")]


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.exit(f"beeline.py: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return p


def read_index(prepared):
    with open(os.path.join(prepared, "datasets.tsv")) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def model_metadata(path):
    """HEAD metadata of a MODEL stream, via `frames view`-independent parsing of the HEAD frame."""
    import struct
    with open(path, "rb") as f:
        h = f.read(20)
        n = struct.unpack_from("<I", h, 8)[0]
        p = f.read(n)
    pos = 4
    g = struct.unpack_from("<I", p, pos)[0]; pos += 4

    def s():
        nonlocal pos
        k = struct.unpack_from("<I", p, pos)[0]; pos += 4
        v = p[pos:pos + k].decode(); pos += k
        return v
    for _ in range(g):
        s(); s()
    v = struct.unpack_from("<I", p, pos)[0]; pos += 4
    for _ in range(v):
        s()
    if v:
        pos += 4 * g
    m = struct.unpack_from("<I", p, pos)[0]; pos += 4
    return dict((s(), s()) for _ in range(m))


# The default model's recipe (models/build_default.sh), used to pretrain one model per dataset.
PRETRAIN_ARGS = ["--dim", "32", "--depth", "2", "--heads", "4", "--dim-head", "16", "--features", "44",
                 "--steps", "1000", "--batch-size", "8", "--lr", "2e-3", "--warmup", "100", "--seed", "1",
                 "--holdout-fraction", "0.05", "--eval-every", "100"]


def gene_stream(args, dataset, expression):
    """The dataset's GENE stream (pooled transformer embeddings + expression), made once per dataset.

    --embed pretrain: the vocabulary is the dataset's own genes (file order); tokenize takes the
    log2 values as they are; pretrain learns masked-token prediction on these cells only — no
    network, no label — and embed pools the model's per-gene outputs over the cells.
    --embed model: the given model and vocabulary, for every dataset.
    """
    source = "pretrained" if args.embed == "pretrain" else "model-" + Path(args.model).stem
    folder = os.path.join(args.work, f"{dataset}.{source}")   # shared by every label (full, --no-gnn, …)
    out = os.path.join(folder, "genes.sgrf")
    if os.path.exists(out):
        return out
    os.makedirs(folder, exist_ok=True)
    timing = {}
    if args.embed == "pretrain":
        vocab = os.path.join(folder, "genes.txt")
        with gzip.open(expression, "rt") as f:
            genes = [row[0] for i, row in enumerate(csv.reader(f)) if i > 0]
        with open(vocab, "w") as f:
            f.write("\n".join(genes) + "\n")
        model = os.path.join(folder, "model.safetensors")
    else:
        vocab, model = args.vocab, args.model
    tokens = os.path.join(folder, "tokens.sgrf")
    run([os.path.join(BIN, "tokenize"), expression, "--input-scale", "log2", "--vocab", vocab, "-q", "-o", tokens])
    if args.embed == "pretrain":
        t0 = time.monotonic()
        run([os.path.join(BIN, "pretrain"), tokens, "-o", model, "-t", str(args.threads), "-q"] + PRETRAIN_ARGS)
        timing["pretrain_seconds"] = round(time.monotonic() - t0, 1)
    t0 = time.monotonic()
    run([os.path.join(BIN, "embed"), tokens, "--model", model, "--genes", "dataset", "-t", str(args.threads),
         "-q", "-o", out + ".part"])
    timing["embed_seconds"] = round(time.monotonic() - t0, 1)
    os.replace(out + ".part", out)
    with open(os.path.join(folder, "timing.json"), "w") as f:
        json.dump(timing, f)
    print(f"{dataset}: gene embeddings ready {timing}", file=sys.stderr)
    return out


def mean_std(xs):
    if not xs:
        return None
    return statistics.mean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def fmt(ms, n):
    if ms is None:
        return "—"
    return f"{ms[0]:.3f} ± {ms[1]:.3f} (n={n})" if n > 1 else f"{ms[0]:.3f} (n=1)"


def read_anchors(path):
    """Per (method, dataset, network): the anchor runs by sample."""
    anchors = {}
    if path:
        with open(path) as f:
            for a in csv.DictReader(f):
                anchors.setdefault((a["method"], a["dataset"], a["network"]), {})[int(a["sample"])] = a
    return anchors


def cell(runs):
    au = [float(x["auroc"]) for x in runs]
    pr = [float(x["auprc"]) for x in runs]
    if not au:
        return "—"
    return f"{fmt(mean_std(au), len(au))} / {fmt(mean_std(pr), len(pr)).split(' (')[0]}"


def compare_table(args):
    """Mean ± std test AUROC / AUPRC per dataset for each label of --compare, beside GENELink."""
    results = {}
    for label in args.compare:
        path = os.path.join(args.work, f"results-{label}.tsv")
        if not os.path.exists(path):
            sys.exit(f"beeline.py: {path}: no results for label {label}")
        with open(path) as f:
            for r in csv.DictReader(f, delimiter="\t"):
                results.setdefault((r["network"], r["dataset"]), {}).setdefault(label, []).append(r)
    anchors = read_anchors(args.anchors)
    lines = []
    for net in args.networks:
        keys = sorted(ds for (n, ds) in results if n == net)
        if not keys:
            continue
        lines.append(f"### {net} — test AUROC / AUPRC (mean ± std over samples)\n")
        head = ["dataset"] + args.compare + ["GENELink (anchor)"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        for ds in keys:
            row = [ds] + [cell(results[(net, ds)].get(label, [])) for label in args.compare]
            row.append(cell(anchors.get(("GENELink", ds, net), {}).values()))
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    return "\n".join(lines)


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prepared")
    ap.add_argument("work")
    ap.add_argument("--networks", nargs="+", default=["Specific"])
    ap.add_argument("--datasets", nargs="+", default=None, help="e.g. hHEP_TFs500 (default: all prepared)")
    ap.add_argument("--samples", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--anchors", default=str(Path(__file__).resolve().parent / "anchors" / "accuracy.csv"), help="accuracy.csv of the anchor methods (default: bench/anchors/accuracy.csv)")
    ap.add_argument("--label", default="graphify", help="names the results file and the table column")
    ap.add_argument("--table", default=None)
    ap.add_argument("--table-only", action="store_true", help="tabulate existing results, run nothing")
    ap.add_argument("--embed", choices=["none", "pretrain", "model"], default="none",
                    help="none: expression only, GENELink's input (default); pretrain: per dataset, pretrain a "
                         "Performer on the dataset's own cells with the default model's recipe and join its "
                         "gene embeddings (the full model); model: join the embeddings of --model/--vocab")
    ap.add_argument("--model", help="with --embed model: a model embed loads (e.g. models/default/model.safetensors)")
    ap.add_argument("--vocab", help="with --embed model: its vocabulary (e.g. models/default/genes.txt)")
    ap.add_argument("--compare", nargs="+", metavar="LABEL",
                    help="print one table with a column per label (results-LABEL.tsv in WORK, e.g. full graphify "
                         "no-gnn) beside GENELink, and run nothing")
    args = ap.parse_args(argv)
    if args.embed == "model" and not (args.model and args.vocab):
        ap.error("--embed model needs --model and --vocab")

    if args.compare:
        print(compare_table(args))
        return
    os.makedirs(args.work, exist_ok=True)
    rows = [r for r in read_index(args.prepared)
            if r["network"] in args.networks and int(r["sample"].replace("sample", "")) in args.samples
            and (args.datasets is None or f"{r['cell']}_{r['genes']}" in args.datasets)]
    results_path = os.path.join(args.work, f"results-{args.label}.tsv")
    done = {}
    if os.path.exists(results_path):
        with open(results_path) as f:
            for r in csv.DictReader(f, delimiter="\t"):
                done[r["name"]] = r
    fields = ["name", "dataset", "network", "sample", "auroc", "auprc", "valid_auroc", "best_epoch", "seconds", "threads"]
    new_file = not os.path.exists(results_path)
    out = open(results_path, "a")
    if new_file:
        out.write("\t".join(fields) + "\n")

    cells = {}
    for r in ([] if args.table_only else rows):
        name = r["name"]
        if name in done:
            continue
        dataset = f"{r['cell']}_{r['genes']}"
        folder = os.path.join(args.prepared, name)
        if dataset not in cells:
            expression = os.path.join(folder, "ExpressionData.csv.gz")
            if args.embed == "none":
                path = os.path.join(args.work, f"{dataset}.cells")
                if not os.path.exists(path):
                    run([sys.executable, os.path.join(ROOT, "bench", "beeline_cells.py"), expression, path])
            else:
                path = gene_stream(args, dataset, expression)
            cells[dataset] = path
        model = os.path.join(args.work, f"{name}.{args.label}.model")
        metrics = os.path.join(args.work, f"{name}.{args.label}.json")
        t0 = time.monotonic()
        run([os.path.join(BIN, "graphify"), cells[dataset], "--prior", os.path.join(folder, "Train.tsv"),
             "--train", os.path.join(folder, "Train.tsv"), "--valid", os.path.join(folder, "Valid.tsv"),
             "-t", str(args.threads), "-q", "-o", model] + extra)
        seconds = time.monotonic() - t0
        run([os.path.join(BIN, "score"), model, "--pairs", os.path.join(folder, "Test.tsv"),
             "--truth", os.path.join(folder, "Test.tsv"), "--metrics", metrics, "-q", "-o", os.devnull])
        with open(metrics) as f:
            m = json.load(f)
        meta = model_metadata(model)
        line = {"name": name, "dataset": dataset, "network": r["network"], "sample": r["sample"].replace("sample", ""),
                "auroc": f"{m['auroc']:.4f}", "auprc": f"{m['auprc']:.4f}",
                "valid_auroc": f"{float(meta['graphify.valid_auroc']):.4f}", "best_epoch": meta["graphify.best_epoch"],
                "seconds": f"{seconds:.1f}", "threads": str(args.threads)}
        out.write("\t".join(line[k] for k in fields) + "\n")
        out.flush()
        done[name] = line
        print(f"{name}: test AUROC {line['auroc']} AUPRC {line['auprc']} (valid {line['valid_auroc']}, "
              f"epoch {line['best_epoch']}, {line['seconds']} s)", file=sys.stderr)
    out.close()

    anchors = read_anchors(args.anchors)

    lines = []
    for net in args.networks:
        ours = {}
        for r in done.values():
            if r["network"] == net:
                ours.setdefault(r["dataset"], {})[int(r["sample"])] = r
        if not ours:
            continue
        lines.append(f"### {net} — test AUROC / AUPRC (mean ± std over samples)\n")
        head = ["dataset", args.label] + [m for m, _ in ANCHOR_METHODS] + [f"{args.label} − GENELink, same samples (AUROC)"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        for ds in sorted(ours):
            runs = ours[ds]
            cellsrow = [ds, cell(runs.values())]
            for _, key in ANCHOR_METHODS:
                cellsrow.append(cell(anchors.get((key, ds, net), {}).values()))
            gl = anchors.get(("GENELink", ds, net), {})
            same = sorted(set(gl) & set(runs))
            if same:
                ours_same = statistics.mean(float(runs[s]["auroc"]) for s in same)
                theirs = statistics.mean(float(gl[s]["auroc"]) for s in same)
                cellsrow.append(f"{ours_same:.3f} − {theirs:.3f} = {ours_same - theirs:+.3f} (samples {','.join(map(str, same))})")
            else:
                cellsrow.append("—")
            lines.append("| " + " | ".join(cellsrow) + " |")
        lines.append("")
    text = "\n".join(lines)
    if args.table:
        with open(args.table, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
