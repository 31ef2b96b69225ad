#!/usr/bin/env python3
"""scanpy's highly variable genes for the pbmc3k fixture: the reference of `tokenize --top-variable`.

    python3 make_hvg_expected.py pbmc3k_v3 expected/    # needs scanpy

The recipe scanpy users run (as in its PBMC 3k tutorial): normalize_total(target_sum=1e4) over
all genes, log1p (natural log), highly_variable_genes(n_top_genes=N) with the default flavour
'seurat'. The matrix is made float64 first, as tokenize computes in float64 (read_10x_mtx gives
float32; the script says whether float32 selects the same genes). Writes
`pbmc3k_hvg<N>.txt`: `#` lines naming the versions, then the selected gene symbols (after
make_unique), in input order.
"""
import os
import sys
from importlib.metadata import version

import numpy as np
import scanpy as sc


def select(src, n, dtype):
    adata = sc.read_10x_mtx(src, var_names="gene_symbols", make_unique=True)
    adata.X = adata.X.astype(dtype)
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    sc.pp.highly_variable_genes(adata, n_top_genes=n)
    return list(adata.var_names[adata.var["highly_variable"].to_numpy()])


def main(src, dst):
    for n in (500, 2000):
        genes = select(src, n, np.float64)
        same32 = genes == select(src, n, np.float32)
        with open(os.path.join(dst, f"pbmc3k_hvg{n}.txt"), "w") as out:
            out.write(f"# scanpy {version('scanpy')}, anndata {version('anndata')}, numpy {version('numpy')}: "
                      f"normalize_total(target_sum=1e4), log1p, highly_variable_genes(n_top_genes={n}) on float64\n")
            out.write(f"# {len(genes)} genes; float32 input selects {'the same' if same32 else 'other'} genes\n")
            for g in genes:
                out.write(g + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
