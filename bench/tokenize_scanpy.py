#!/usr/bin/env python3
"""The scanpy peer of `tokenize`: read_10x_mtx + align to the vocabulary (symbols upper-cased,
as the anchor did for mouse symbols) + normalize_total(1e4) + log1p(base=2) + binning.
Prints the nonzero token count and the token histogram as JSON on stdout.

usage: tokenize_scanpy.py TENX_DIR VOCAB
"""
import json
import sys

import numpy as np
import scanpy as sc
import scipy.sparse as sp
from anndata import AnnData

d, vocab_path = sys.argv[1], sys.argv[2]
vocab = [l.rstrip("\n") for l in open(vocab_path)]
vpos = {s: i for i, s in enumerate(vocab)}
a = sc.read_10x_mtx(d, var_names="gene_symbols", make_unique=True)
names = [n.upper() for n in a.var_names]
seen = set()
src, dst = [], []
for j, n in enumerate(names):
    if n in vpos and n not in seen:
        seen.add(n)
        src.append(j)
        dst.append(vpos[n])
dst = np.array(dst)
Xs = sp.csr_matrix(a.X[:, src])
Xal = sp.csr_matrix((Xs.data, dst[Xs.indices], Xs.indptr), shape=(a.n_obs, len(vocab)))
Xal.sort_indices()
b = AnnData(Xal)
sc.pp.normalize_total(b, target_sum=1e4)
sc.pp.log1p(b, base=2)
tok = b.X.copy()
tok.data = np.minimum(np.floor(tok.data), 5)
tok.eliminate_zeros()
tok = sp.csr_matrix(tok, dtype=np.int8)
hist = {int(k): int(v) for k, v in zip(*np.unique(tok.data, return_counts=True))}
print(json.dumps({"cells": int(a.n_obs), "matched": len(src), "nonzero_tokens": int(tok.nnz), "histogram": hist}))
