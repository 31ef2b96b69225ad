#!/usr/bin/env python3
"""The user's protocol on the BEELINE Specific datasets: scgrn with no labels, GRNBoost2 and the prior alone.

Usage:
    python3 bench/userprotocol.py prepare WORK --data DATA [--datasets D ...]
    python3 bench/userprotocol.py run WORK [--seeds 1 2 3] [--datasets D ...] [--bin DIR]
                                   [--grnboost-python PY] [--grnboost-seed 777] [--out CSV]
    python3 bench/userprotocol.py table [--csv CSV] [--out FILE.md]
    PY bench/userprotocol.py grnboost2 EXPRESSION TFS OUT [--seed 777] [--workers 2]

What a user with an expression matrix and a TF list does, with no labels at all (bench/PROTOCOLS.md,
"The user's protocol"):

  scgrn      tokenize EXPRESSION --input-scale log2 --vocab models/default/genes.txt [--species mouse]
               | embed                              (the default model)
             graphify GENES --seed S                (no --prior/--train/--valid: the bundled prior of
                                                     the stream's species, its own sampled negatives)
             score MODEL --tfs TFS                  (every TF x gene pair, ranked; column in_prior)
  GRNBoost2  arboreto's grnboost2 on the same matrix (cells x genes), tf_names = TFS, fixed seed;
             candidate pairs it does not list (importance 0) are added with score 0
  prior      the bundled prior alone: a candidate pair scores 1 if it is an edge of the prior scgrn
             used (score's in_prior column), else 0

The candidates are the same for all three: TFS x every gene of the dataset, no self pairs, where TFS
= the BEELINE TF list of the species (DATA/tf_lists/beeline_{human,mouse}-tfs.csv) restricted to the
dataset's genes. Every ranked list is evaluated by one code, `score --ranked LIST --truth TRUTH`,
against the dataset's Specific ChIP-seq network, in two views:

  all    every candidate pair, all truth edges
  novel  the candidates and truth edges that are NOT edges of the prior (the prior alone cannot
         rank these pairs: it is at chance there by construction)

`prepare` writes WORK/<dataset>/ (expression link, tfs.txt, truth.tsv, species); `run` runs the
three methods on each dataset and appends one row per method x seed x view to the CSV (default
bench/anchors/userprotocol.csv; rows already there are skipped, so an interrupted run resumes);
`table` prints the markdown table of BENCHMARKS.md. `prepare`, `run` and `table` need only the
Python standard library; the `grnboost2` subcommand runs under a Python with arboreto
(--grnboost-python; e.g. a venv with arboreto 0.1.6, dask/distributed 2023.4.1, pandas < 2.1).
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

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

DATASETS = ["hHEP_TFs500", "hHEP_TFs1000", "mDC_TFs500", "mDC_TFs1000", "mHSC-GM_TFs500",
            "mHSC-L_TFs500", "mHSC-L_TFs1000"]
NETWORK = "Specific"
ANCHOR = os.path.join(HERE, "anchors", "userprotocol.csv")
FIELDS = ["dataset", "method", "seed", "view", "candidates", "positives", "density", "truth_edges",
          "truth_not_candidates", "prior_candidates", "prior_truth", "auroc", "auprc", "auprc_ratio", "early_precision",
          "epr", "seconds", "threads", "openblas_coretype", "load_avg", "date"]


def fail(msg):
    sys.exit(f"userprotocol.py: {msg}")


def run_cmd(cmd, stdout=None):
    p = subprocess.run(cmd, stdout=stdout if stdout is not None else subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode != 0:
        fail(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return p


def species_of(dataset):
    return "human" if dataset.startswith("h") else "mouse"


# ---------------------------------------------------------------------------------------------
# prepare

def expression_genes(path):
    with gzip.open(path, "rt", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        return [row[0] for row in reader]


def prepare(args):
    root = os.path.join(args.data, "beeline")
    if not os.path.isdir(root):
        fail(f"{args.data}: no beeline/ folder (give the data folder described in its README)")
    for dataset in args.datasets:
        species = species_of(dataset)
        expr = os.path.join(root, "expression", f"{dataset}_ExpressionData.csv.gz")
        net = os.path.join(root, "ground_truth", NETWORK, dataset, "BL--network.csv.gz")
        tflist = os.path.join(args.data, "tf_lists", f"beeline_{species}-tfs.csv")
        for p in (expr, net, tflist):
            if not os.path.isfile(p):
                fail(f"{p}: missing")
        genes = expression_genes(expr)
        with open(tflist, newline="") as f:
            rows = list(csv.reader(f))
        col = rows[0].index("TF")
        known = {r[col].upper() for r in rows[1:] if r}
        tfs = [g for g in genes if g.upper() in known]  # expression order
        with gzip.open(net, "rt", newline="") as f:
            rows = list(csv.reader(f))
        a, b = rows[0].index("Gene1"), rows[0].index("Gene2")
        edges = sorted({(r[a], r[b]) for r in rows[1:] if r and r[a] != r[b]})
        gset = set(genes)
        if any(x not in gset or y not in gset for x, y in edges):
            fail(f"{dataset}: truth edges name genes outside the expression matrix")
        out = os.path.join(args.work, dataset)
        os.makedirs(out, exist_ok=True)
        dest = os.path.join(out, "ExpressionData.csv.gz")
        if os.path.lexists(dest):
            os.remove(dest)
        os.symlink(os.path.abspath(expr), dest)
        with open(os.path.join(out, "tfs.txt"), "w") as f:
            f.writelines(t + "\n" for t in tfs)
        with open(os.path.join(out, "truth.tsv"), "w") as f:
            f.write("regulator\ttarget\n")
            f.writelines(f"{x}\t{y}\n" for x, y in edges)
        with open(os.path.join(out, "species"), "w") as f:
            f.write(species + "\n")
        tfset = set(tfs)
        cand_pos = sum(1 for x, _ in edges if x in tfset)
        cands = len(tfs) * (len(genes) - 1)
        print(f"{dataset}: {len(genes)} genes, {len(tfs)} TFs ({species} TF list), {cands} candidate pairs; "
              f"{len(edges)} truth edges, {cand_pos} among the candidates (density {cand_pos / cands:.4f})",
              file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# grnboost2 (runs under a Python with arboreto)

def grnboost2(args):
    import pandas as pd
    from arboreto.algo import grnboost2 as gb2
    from distributed import Client, LocalCluster
    expr = pd.read_csv(args.expression, index_col=0)           # genes x cells
    with open(args.tfs) as f:
        tfs = [line.strip() for line in f if line.strip()]
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None)
    client = Client(cluster)
    try:
        net = gb2(expr.T, tf_names=tfs, seed=args.seed, client_or_address=client, verbose=False)
    finally:
        client.close()
        cluster.close()
    net.to_csv(args.out, sep="\t", index=False, header=["TF", "target", "importance"])


# ---------------------------------------------------------------------------------------------
# run

def read_lines(path):
    with open(path) as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def load_avg():
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return ""


def evaluate(bindir, ranked, truth, metrics):
    run_cmd([os.path.join(bindir, "score"), "--ranked", ranked, "--truth", truth, "--metrics", metrics, "-q"],
            stdout=subprocess.DEVNULL)
    with open(metrics) as f:
        return json.load(f)


def write_ranked(path, header, rows):
    """rows: (regulator, target, score), written best first (score descending, then by symbols)."""
    rows = sorted(rows, key=lambda r: (-r[2], r[0], r[1]))
    with open(path, "w") as f:
        f.write("\t".join(header) + "\n")
        f.writelines(f"{a}\t{b}\t{s!r}\n" for a, b, s in rows)


def views(bindir, stem, rows, truth_edges, prior, header):
    """Evaluates `rows` (every candidate pair with its score) in both views; returns {view: metrics}."""
    out = {}
    for view in ("all", "novel"):
        keep = rows if view == "all" else [r for r in rows if (r[0], r[1]) not in prior]
        edges = truth_edges if view == "all" else [e for e in truth_edges if e not in prior]
        truth = f"{stem}.{view}.truth.tsv"
        with open(truth, "w") as f:
            f.write("regulator\ttarget\n")
            f.writelines(f"{a}\t{b}\n" for a, b in edges)
        ranked = f"{stem}.{view}.ranked.tsv"
        write_ranked(ranked, header, keep)
        out[view] = evaluate(bindir, ranked, truth, f"{stem}.{view}.json")
        os.remove(ranked)
    return out


def row_of(dataset, method, seed, view, m, prior_candidates, prior_truth, seconds, threads):
    def f(x, d=6):
        return "" if x is None else f"{x:.{d}g}"
    return {"dataset": dataset, "method": method, "seed": str(seed), "view": view, "candidates": str(m["evaluated"]),
            "positives": str(m["positives"]), "density": f(m["positive_fraction"]),
            "truth_edges": str(m["positives"] + m["truth_not_candidates"]),
            "truth_not_candidates": str(m["truth_not_candidates"]), "prior_candidates": str(prior_candidates), "prior_truth": str(prior_truth),
            "auroc": f(m["auroc"]), "auprc": f(m["auprc"]), "auprc_ratio": f(m["auprc_ratio"]),
            "early_precision": f(m["early_precision"]), "epr": f(m["early_precision_ratio"]),
            "seconds": "" if seconds is None else f"{seconds:.1f}", "threads": threads,
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "unset"), "load_avg": load_avg(),
            "date": time.strftime("%Y-%m-%d")}


def grnboost_adjacencies(args, folder, expr, tfs_path):
    """GRNBoost2's adjacency file and its wall-clock seconds (the whole process), made once."""
    adj = os.path.join(folder, f"grnboost2_seed{args.grnboost_seed}.tsv")
    secs = adj + ".seconds"
    if not (os.path.exists(adj) and os.path.exists(secs)):
        t0 = time.monotonic()
        run_cmd([args.grnboost_python, os.path.abspath(__file__), "grnboost2", expr, tfs_path, adj,
                 "--seed", str(args.grnboost_seed), "--workers", str(args.grnboost_workers)])
        with open(secs, "w") as f:
            f.write(f"{time.monotonic() - t0:.3f}\n")
    return adj, float(read_lines(secs)[0])


def run(args):
    bindir = args.bin or os.path.join(ROOT, ".build", "release")
    for tool in () if args.grnboost2_only else ("tokenize", "embed", "graphify", "score"):
        if not os.access(os.path.join(bindir, tool), os.X_OK):
            fail(f"{bindir}/{tool}: not found (build with `swift build -c release` or give --bin)")
    vocab = os.path.join(ROOT, "models", "default", "genes.txt")
    done = set()
    new_file = not os.path.exists(args.out) or os.path.getsize(args.out) == 0
    if not new_file:
        with open(args.out) as f:
            for r in csv.DictReader(f):
                done.add((r["dataset"], r["method"], r["seed"]))
    out = open(args.out, "a", newline="")
    w = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    if new_file:
        w.writeheader()
    threads = str(os.cpu_count())

    def emit(rows):
        for r in rows:
            w.writerow(r)
        out.flush()

    for dataset in args.datasets:
        folder = os.path.join(args.work, dataset)
        if not os.path.isdir(folder):
            fail(f"{folder}: missing; run `userprotocol.py prepare` first")
        if args.grnboost2_only:
            if not args.grnboost_python:
                fail("--grnboost2-only needs --grnboost-python")
            adj, seconds = grnboost_adjacencies(args, folder, os.path.join(folder, "ExpressionData.csv.gz"),
                                                os.path.join(folder, "tfs.txt"))
            print(f"{dataset} GRNBoost2 adjacencies: {adj}, {seconds:.1f} s", file=sys.stderr)
            continue
        species = read_lines(os.path.join(folder, "species"))[0]
        expr = os.path.join(folder, "ExpressionData.csv.gz")
        tfs_path = os.path.join(folder, "tfs.txt")
        tfs = read_lines(tfs_path)
        genes = expression_genes(expr)
        truth_path = os.path.join(folder, "truth.tsv")
        truth_edges = [tuple(line.split("\t")[:2]) for line in read_lines(truth_path)[1:]]
        truth_set = set(truth_edges)

        # scgrn: tokenize | embed once (deterministic), then graphify and score per seed.
        genes_stream = os.path.join(folder, "genes.sgrf")
        embed_secs_file = genes_stream + ".seconds"
        if not os.path.exists(embed_secs_file):
            tok = [os.path.join(bindir, "tokenize"), expr, "--input-scale", "log2", "--vocab", vocab, "-q"]
            if species == "mouse":
                tok += ["--species", "mouse"]
            t0 = time.monotonic()
            p1 = subprocess.Popen(tok, stdout=subprocess.PIPE)
            p2 = subprocess.Popen([os.path.join(bindir, "embed"), "-q", "-o", genes_stream], stdin=p1.stdout)
            p1.stdout.close()
            if p2.wait() != 0 or p1.wait() != 0:
                fail(f"{dataset}: tokenize | embed failed")
            with open(embed_secs_file, "w") as f:
                f.write(f"{time.monotonic() - t0:.3f}\n")
        embed_secs = float(read_lines(embed_secs_file)[0])
        prior = None
        for seed in args.seeds:
            stem = os.path.join(folder, f"scgrn_seed{seed}")
            edges_path = stem + ".edges.tsv"
            if (dataset, "scgrn", str(seed)) in done and (dataset, "prior", "") in done:
                continue
            t0 = time.monotonic()
            run_cmd([os.path.join(bindir, "graphify"), genes_stream, "--seed", str(seed), "-q", "-o", stem + ".model"])
            t1 = time.monotonic()
            run_cmd([os.path.join(bindir, "score"), stem + ".model", "--tfs", tfs_path, "-q", "-o", edges_path])
            t2 = time.monotonic()
            # score's own evaluation of the model (logits, prior/novel split from the MODEL): a cross-check
            run_cmd([os.path.join(bindir, "score"), stem + ".model", "--tfs", tfs_path, "--truth", truth_path,
                     "--metrics", stem + ".model.json", "-q", "-o", os.devnull])
            rows, prior_s = [], set()
            with open(edges_path) as f:
                head = f.readline().rstrip("\n").split("\t")
                if head[:4] != ["regulator", "target", "score", "in_prior"]:
                    fail(f"{edges_path}: unexpected header {head}")
                for line in f:
                    a, b, s, ip = line.rstrip("\n").split("\t")
                    rows.append((a, b, float(s)))
                    if ip == "1":
                        prior_s.add((a, b))
            if len(rows) != len(tfs) * (len(genes) - 1):
                fail(f"{edges_path}: {len(rows)} pairs, expected {len(tfs)} x {len(genes) - 1}")
            if prior is not None and prior_s != prior:
                fail(f"{dataset}: the prior edges differ between seeds")
            prior = prior_s
            seconds = embed_secs + (t1 - t0) + (t2 - t1)
            m = views(bindir, stem, rows, truth_edges, prior, ["regulator", "target", "score"])
            with open(stem + ".model.json") as f:
                own = json.load(f)
            for view, key in (("all", None), ("novel", "novel")):
                mine = m[view]["early_precision_ratio"]
                theirs = own["early_precision_ratio"] if key is None else (own.get(key) or {}).get("early_precision_ratio")
                if theirs is not None and abs(mine - theirs) > 1e-3 * max(1.0, abs(theirs)):
                    print(f"note: {dataset} seed {seed} {view}: EPR {mine:.4f} from the written scores, "
                          f"{theirs:.4f} from score's own evaluation of the model (logits)", file=sys.stderr)
            if (dataset, "scgrn", str(seed)) not in done:
                emit(row_of(dataset, "scgrn", seed, v, m[v], len(prior), len(prior & truth_set), seconds, threads) for v in ("all", "novel"))
                print(f"{dataset} scgrn seed {seed}: EPR {m['all']['early_precision_ratio']:.3f} / novel "
                      f"{m['novel']['early_precision_ratio']:.3f}; AUPRC ratio {m['all']['auprc_ratio']:.3f} / "
                      f"{m['novel']['auprc_ratio']:.3f}; {seconds:.1f} s "
                      f"(embed {embed_secs:.1f}, graphify {t1 - t0:.1f}, score {t2 - t1:.1f})", file=sys.stderr)
            if (dataset, "prior", "") not in done:
                prows = [(a, b, 1.0 if (a, b) in prior else 0.0) for a, b, _ in rows]
                pm = views(bindir, os.path.join(folder, "prior"), prows, truth_edges, prior,
                           ["regulator", "target", "score"])
                emit(row_of(dataset, "prior", "", v, pm[v], len(prior), len(prior & truth_set), None, "") for v in ("all", "novel"))
                done.add((dataset, "prior", ""))
                print(f"{dataset} prior alone ({len(prior)} edges among the candidates): EPR "
                      f"{pm['all']['early_precision_ratio']:.3f} / novel {pm['novel']['early_precision_ratio']:.3f}; "
                      f"AUPRC ratio {pm['all']['auprc_ratio']:.3f} / {pm['novel']['auprc_ratio']:.3f}", file=sys.stderr)
            os.remove(stem + ".model")

        # GRNBoost2 on the same matrix and TFs; unlisted candidates get importance 0.
        key = (dataset, "GRNBoost2", str(args.grnboost_seed))
        if args.grnboost_python and key not in done:
            if prior is None:
                # scgrn's runs were done earlier: the prior edges are in their edge lists
                found = [os.path.join(folder, f"scgrn_seed{s}.edges.tsv") for s in args.seeds]
                found = [p for p in found if os.path.exists(p)]
                if not found:
                    fail(f"{dataset}: GRNBoost2 needs the prior edges of an scgrn run (run a seed first)")
                with open(found[0]) as f:
                    next(f)
                    prior = {tuple(parts[:2]) for parts in (line.rstrip("\n").split("\t") for line in f)
                             if parts[3] == "1"}
            adj, seconds = grnboost_adjacencies(args, folder, expr, tfs_path)
            listed = {}
            with open(adj) as f:
                next(f)
                for line in f:
                    a, b, s = line.rstrip("\n").split("\t")
                    if a != b:
                        listed[(a, b)] = float(s)
            tfset, gset = set(tfs), set(genes)
            if any(a not in tfset or b not in gset for a, b in listed):
                fail(f"{adj}: pairs outside the candidates")
            rows = [(a, b, listed.get((a, b), 0.0)) for a in tfs for b in genes if a != b]
            m = views(bindir, os.path.join(folder, "grnboost2"), rows, truth_edges, prior,
                      ["TF", "target", "importance"])
            emit(row_of(dataset, "GRNBoost2", args.grnboost_seed, v, m[v], len(prior), len(prior & truth_set), seconds,
                        str(args.grnboost_workers)) for v in ("all", "novel"))
            print(f"{dataset} GRNBoost2 ({len(listed)} of {len(rows)} candidates listed): EPR "
                  f"{m['all']['early_precision_ratio']:.3f} / novel {m['novel']['early_precision_ratio']:.3f}; "
                  f"AUPRC ratio {m['all']['auprc_ratio']:.3f} / {m['novel']['auprc_ratio']:.3f}; {seconds:.1f} s",
                  file=sys.stderr)
    out.close()


# ---------------------------------------------------------------------------------------------
# table

LABELS = {"hHEP_TFs500": "hHEP TFs+500", "hHEP_TFs1000": "hHEP TFs+1000", "mDC_TFs500": "mDC TFs+500",
          "mDC_TFs1000": "mDC TFs+1000", "mHSC-GM_TFs500": "mHSC-GM TFs+500", "mHSC-L_TFs500": "mHSC-L TFs+500",
          "mHSC-L_TFs1000": "mHSC-L TFs+1000"}


def ms(xs, d=2):
    xs = [float(x) for x in xs if x not in ("", None)]
    if not xs:
        return "—"
    if len(xs) == 1:
        return f"{xs[0]:.{d}f}"
    return f"{statistics.mean(xs):.{d}f} ± {statistics.stdev(xs):.{d}f}"


def median(xs):
    xs = [float(x) for x in xs if x not in ("", None)]
    return f"{statistics.median(xs):.0f}" if xs else "—"


def table(args):
    rows = {}
    with open(args.csv) as f:
        for r in csv.DictReader(f):
            rows.setdefault((r["dataset"], r["method"], r["view"]), []).append(r)
    methods = ["scgrn", "GRNBoost2", "prior"]
    head = ["dataset", "candidates (density)", "prior edges (their precision / density)", "EPR, all pairs", "EPR, novel pairs",
            "AUPRC ratio, all pairs", "AUPRC ratio, novel pairs", "seconds"]
    lines = ["cells: scgrn (mean ± std over seeds) / GRNBoost2 / prior alone; seconds: scgrn (median over seeds) / "
             "GRNBoost2", "",
             "| " + " | ".join(head) + " |", "|---|---|---|---|---|---|---|---|"]
    wins = {"GRNBoost2": 0, "prior": 0, "both": 0}
    counted = 0
    seeds = set()
    for d in DATASETS:
        if not any((d, m, "all") in rows for m in methods):
            continue
        base = next(rows[(d, m, "all")][0] for m in methods if (d, m, "all") in rows)
        ratio = int(base["prior_truth"]) / int(base["prior_candidates"]) / float(base["density"])
        cells = [LABELS[d], f"{int(base['candidates']):,} ({float(base['density']):.4f})",
                 f"{int(base['prior_candidates']):,} ({ratio:.1f})"]
        for key in ("epr", "auprc_ratio"):
            for view in ("all", "novel"):
                cells.append(" / ".join(ms([r[key] for r in rows.get((d, m, view), [])]) for m in methods))
        cells.append(" / ".join(median([r["seconds"] for r in rows.get((d, m, "all"), [])]) for m in ("scgrn", "GRNBoost2")))
        seeds |= {len(rows.get((d, "scgrn", "all"), []))}
        lines.append("| " + " | ".join(cells) + " |")
        mean = {m: statistics.mean(float(r["epr"]) for r in rows[(d, m, "all")]) for m in methods
                if (d, m, "all") in rows}
        if len(mean) == 3:
            counted += 1
            g, p = mean["scgrn"] > mean["GRNBoost2"], mean["scgrn"] > mean["prior"]
            wins["GRNBoost2"] += g
            wins["prior"] += p
            wins["both"] += g and p
    lines.append("")
    lines.append(f"scgrn seeds per dataset: {', '.join(map(str, sorted(seeds)))}. scgrn's mean EPR over all pairs is "
                 f"above GRNBoost2's on {wins['GRNBoost2']} of {counted} datasets, above the prior's on {wins['prior']}, "
                 f"above both on {wins['both']}.")
    text = "\n".join(lines)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="write WORK/<dataset>/ with the matrix, TF list and truth")
    p.add_argument("work")
    p.add_argument("--data", required=True, help="the data folder holding beeline/ and tf_lists/")
    p.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    r = sub.add_parser("run", help="run scgrn, GRNBoost2 and the prior alone and evaluate them")
    r.add_argument("work")
    r.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    r.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3], help="graphify --seed values")
    r.add_argument("--bin", help="folder of the scgrn executables (default .build/release)")
    r.add_argument("--grnboost-python", help="a Python with arboreto; GRNBoost2 is skipped without it")
    r.add_argument("--grnboost-seed", type=int, default=777)
    r.add_argument("--grnboost-workers", type=int, default=2)
    r.add_argument("--out", default=ANCHOR, help="the CSV rows are appended to")
    r.add_argument("--grnboost2-only", action="store_true",
                   help="only make GRNBoost2's adjacency files (evaluated by a later run)")
    t = sub.add_parser("table", help="the markdown table of BENCHMARKS.md")
    t.add_argument("--csv", default=ANCHOR)
    t.add_argument("--out")
    g = sub.add_parser("grnboost2", help="run arboreto's GRNBoost2 (under a Python that has it)")
    g.add_argument("expression", help="genes x cells CSV (BEELINE's ExpressionData.csv)")
    g.add_argument("tfs", help="one TF per line")
    g.add_argument("out", help="TF<TAB>target<TAB>importance")
    g.add_argument("--seed", type=int, default=777)
    g.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    {"prepare": prepare, "run": run, "table": table, "grnboost2": grnboost2}[args.command](args)


if __name__ == "__main__":
    main()
