"""Writes the HDF5 fixtures of tokenize's tests from the bundled 10x v3 directory pbmc3k_v3/.

The first 40 cells of pbmc3k_v3 and the first 1,500 genes with a count in them (input order;
a subset keeps the files small: HDF5 stores variable-length names uncompressed), written as a
10x v3 directory (pbmc40_10x/, the reference) and stored the ways single-cell tools store them:
by anndata (CSR, CSC, dense, a layer, raw, a categorical name column), by loompy, and in Cell
Ranger's .h5 layouts (v3 and v2, written with h5py). tokenize must give the same cells from
each of them as from the 10x directory. Then a few tiny files with encodings tokenize must
refuse, and one with a user block before the HDF5 signature.

Run from this folder:  python3 make_fixtures.py   (anndata, loompy, h5py, scipy; see README.md)
"""
import gzip
import os

import anndata as ad
import h5py
import loompy
import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp

CELLS = 40
GENES = 1500
SOURCE = os.path.join("..", "pbmc3k_v3")


def read_source():
    counts = scipy.io.mmread(os.path.join(SOURCE, "matrix.mtx.gz")).tocsc()[:, :CELLS]  # genes x cells
    with gzip.open(os.path.join(SOURCE, "features.tsv.gz"), "rt") as f:
        features = [line.rstrip("\n").split("\t") for line in f]
    with gzip.open(os.path.join(SOURCE, "barcodes.tsv.gz"), "rt") as f:
        barcodes = [line.rstrip("\n").split("\t")[0] for line in f][:CELLS]
    keep = np.flatnonzero(counts.getnnz(axis=1) > 0)[:GENES]
    counts = counts.tocsr()[keep, :].tocsc()
    ids = [features[i][0] for i in keep]
    symbols = [features[i][1] for i in keep]
    return counts.astype(np.int32), ids, symbols, barcodes


def write_10x_directory(counts, ids, symbols, barcodes):
    """The reference: a 10x v3 directory, entries grouped by cell as Cell Ranger writes them."""
    os.makedirs("pbmc40_10x", exist_ok=True)

    def write(name, text):
        with open(os.path.join("pbmc40_10x", name), "wb") as f:
            f.write(gzip.compress(text.encode(), mtime=0))

    lines = ["%%MatrixMarket matrix coordinate integer general", "%",
             f"{counts.shape[0]} {counts.shape[1]} {counts.nnz}"]
    for c in range(counts.shape[1]):
        for k in range(counts.indptr[c], counts.indptr[c + 1]):
            lines.append(f"{counts.indices[k] + 1} {c + 1} {counts.data[k]}")
    write("matrix.mtx.gz", "\n".join(lines) + "\n")
    write("features.tsv.gz", "".join(f"{i}\t{s}\tGene Expression\n" for i, s in zip(ids, symbols)))
    write("barcodes.tsv.gz", "".join(b + "\n" for b in barcodes))


def make_unique(names):
    """anndata's make_index_unique with '-' (what scanpy's read_10x_mtx does to var names)."""
    return list(ad.utils.make_index_unique(pd.Index(names), join="-"))


def write_anndata(counts, ids, symbols, barcodes):
    cells_by_genes = counts.T.tocsr().astype(np.float32)
    # Index = the ids (other names, to tell them apart), the symbols in a categorical column.
    a = ad.AnnData(X=cells_by_genes, obs=pd.DataFrame(index=barcodes),
                   var=pd.DataFrame({"gene_symbols": pd.Categorical(symbols)}, index=[f"ID{i}" for i in range(len(ids))]))
    a.write_h5ad("pbmc40_csr.h5ad", compression="gzip")
    # Index = unique symbols with gene_ids (scanpy's read_10x_mtx); X dense, a CSC layer, raw CSR.
    var = pd.DataFrame({"gene_ids": ids}, index=make_unique(symbols))
    b = ad.AnnData(X=cells_by_genes.toarray(), obs=pd.DataFrame(index=barcodes), var=var)
    b.layers["counts"] = cells_by_genes.tocsc()
    b.raw = ad.AnnData(X=cells_by_genes, obs=b.obs, var=var)
    b.write_h5ad("pbmc40_dense.h5ad", compression="gzip")


def write_loom(counts, ids, symbols, barcodes):
    loompy.create("pbmc40.loom", counts.toarray(), row_attrs={"Gene": np.array(symbols), "Accession": np.array(ids)},
                  col_attrs={"CellID": np.array(barcodes)})


def fixed(strings):
    return np.array([s.encode() for s in strings])


def write_10x(counts, ids, symbols, barcodes):
    parts = dict(data=counts.data, indices=counts.indices.astype(np.int64), indptr=counts.indptr.astype(np.int64),
                 shape=np.array(counts.shape, dtype=np.int32))
    with h5py.File("pbmc40_v3.h5", "w") as f:
        m = f.create_group("matrix")
        for k, v in parts.items():
            m.create_dataset(k, data=v, compression="gzip" if k != "shape" else None)
        m.create_dataset("barcodes", data=fixed(barcodes))
        feats = m.create_group("features")
        feats.create_dataset("id", data=fixed(ids), compression="gzip")
        feats.create_dataset("name", data=fixed(symbols), compression="gzip")
        feats.create_dataset("feature_type", data=fixed(["Gene Expression"] * len(ids)), compression="gzip")
        feats.create_dataset("genome", data=fixed(["GRCh38"] * len(ids)), compression="gzip")
        feats.create_dataset("_all_tag_keys", data=fixed(["genome"]))
    with h5py.File("pbmc40_v2.h5", "w") as f:
        g = f.create_group("GRCh38")
        for k, v in parts.items():
            g.create_dataset(k, data=v, compression="gzip" if k != "shape" else None)
        g.create_dataset("barcodes", data=fixed(barcodes))
        g.create_dataset("genes", data=fixed(ids), compression="gzip")
        g.create_dataset("gene_names", data=fixed(symbols), compression="gzip")


def tiny_anndata(path, x_writer, userblock=0):
    """An AnnData layout of 2 cells x 3 genes written with h5py; x_writer(file) writes /X."""
    with h5py.File(path, "w", userblock_size=userblock) as f:
        f.attrs["encoding-type"] = "anndata"
        f.attrs["encoding-version"] = "0.1.0"
        for name, index in (("obs", ["AAACATACAACCAC-1", "AAACATTGAGCTAC-1"]), ("var", ["GENE1", "GENE2", "GENE3"])):
            g = f.create_group(name)
            g.attrs["encoding-type"] = "dataframe"
            g.attrs["encoding-version"] = "0.2.0"
            g.attrs["_index"] = "_index"
            g.attrs["column-order"] = np.array([], dtype=object).astype(h5py.string_dtype())
            g.create_dataset("_index", data=fixed(index))  # fixed-length strings (older writers)
        x_writer(f)


def csr(f, indices=(0, 2, 1), data=(1.0, 4.0, 2.0)):
    g = f.create_group("X")
    g.attrs["encoding-type"] = "csr_matrix"
    g.attrs["encoding-version"] = "0.1.0"
    g.attrs["shape"] = np.array([2, 3])
    g.create_dataset("data", data=np.array(data, dtype=np.float32))
    g.create_dataset("indices", data=np.array(indices, dtype=np.int32))
    g.create_dataset("indptr", data=np.array([0, 2, 3], dtype=np.int32))


def categorical(f):
    g = f.create_group("X")
    g.attrs["encoding-type"] = "categorical"
    g.attrs["encoding-version"] = "0.2.0"
    g.create_dataset("codes", data=np.array([0, 1], dtype=np.int8))
    g.create_dataset("categories", data=np.array(["a", "b"], dtype=h5py.string_dtype()))


def string_array(f):
    d = f.create_dataset("X", data=np.array([["1", "0", "4"], ["0", "2", "0"]], dtype=h5py.string_dtype()))
    d.attrs["encoding-type"] = "string-array"
    d.attrs["encoding-version"] = "0.2.0"


def write_bad_and_tiny():
    tiny_anndata("tiny_userblock.h5ad", csr, userblock=512)
    tiny_anndata("bad_categorical_X.h5ad", categorical)
    tiny_anndata("bad_string_X.h5ad", string_array)
    tiny_anndata("bad_index.h5ad", lambda f: csr(f, indices=(0, 7, 1)))
    tiny_anndata("bad_negative.h5ad", lambda f: csr(f, data=(1.0, -4.0, 2.0)))
    with h5py.File("bad_no_indptr.h5", "w") as f:
        m = f.create_group("matrix")
        m.create_dataset("data", data=np.array([1, 2], dtype=np.int32))
        m.create_dataset("indices", data=np.array([0, 1], dtype=np.int64))
        m.create_dataset("shape", data=np.array([2, 2], dtype=np.int32))
        m.create_dataset("barcodes", data=fixed(["A-1", "B-1"]))


if __name__ == "__main__":
    counts, ids, symbols, barcodes = read_source()
    write_10x_directory(counts, ids, symbols, barcodes)
    write_anndata(counts, ids, symbols, barcodes)
    write_loom(counts, ids, symbols, barcodes)
    write_10x(counts, ids, symbols, barcodes)
    write_bad_and_tiny()
