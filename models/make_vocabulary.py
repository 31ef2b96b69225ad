#!/usr/bin/env python3
"""The default model's vocabulary (models/default/genes.txt), from data bundled in the repository.

Genes: every gene of the BEELINE hHEP TFs+500 matrix (the demo's dataset, 948 genes) together
with the PBMC 3k (10x v3, 402 cells) genes expressed in the most cells (the first 1,200 when
sorted by the number of cells with a nonzero count, ties by symbol). Order: genes of scBERT's
16,906-gene vocabulary first, in scBERT's order, then the others by symbol. Standard library
only; the output depends on nothing but the three input files.

Usage: python3 models/make_vocabulary.py > models/default/genes.txt
"""
import gzip
import sys
from collections import Counter

HHEP = "Tests/Fixtures/beeline/hHEP_TFs500_Specific_sample1/ExpressionData.csv.gz"
PBMC = "Tests/Fixtures/tokenize/pbmc3k_v3"
SCBERT = "Tests/Fixtures/tokenize/vocab/scbert_genes.txt"
PBMC_GENES = 1200


def main():
    with gzip.open(HHEP, "rt") as f:
        hhep = [line.split(",", 1)[0] for line in f.read().splitlines()[1:]]
    with gzip.open(f"{PBMC}/features.tsv.gz", "rt") as f:
        symbols = [line.split("\t")[1] for line in f.read().splitlines()]
    cells = Counter()
    with gzip.open(f"{PBMC}/matrix.mtx.gz", "rt") as f:
        lines = (l for l in f if not l.startswith("%"))
        next(lines)  # the size line
        for line in lines:
            gene, _, value = line.split()
            if float(value) != 0:
                cells[int(gene) - 1] += 1
    ranked = sorted(cells, key=lambda g: (-cells[g], symbols[g]))
    chosen = set(hhep) | {symbols[g] for g in ranked[:PBMC_GENES]}
    with open(SCBERT) as f:
        scbert = f.read().split()
    order = {g: i for i, g in reversed(list(enumerate(scbert)))}
    genes = sorted(chosen, key=lambda g: (0, order[g], g) if g in order else (1, 0, g))
    sys.stdout.write("".join(g + "\n" for g in genes))


if __name__ == "__main__":
    main()
