#!/usr/bin/env python3
"""PyTorch twin of `embed` on a model written by scgrn's `pretrain` (the default model's kind): loads
the same safetensors weights into bench/pretrain_torch.py's Performer (scBERT's architecture with
performer-pytorch's FAVOR+ stabilisers: per-row query maximum, one key maximum per cell over all
heads and positions, eps 1e-4; pre-LayerNorm blocks, exact GELU) and computes what `embed --emit
genes --pool mean` computes: each cell on its own (batch 1, torch.no_grad), its final encodings
(after the last LayerNorm), summed per dataset gene over cells in float64.

Sequences, as embed builds them (docs/EMBED.md, "The sequence"):
  --genes vocabulary: every vocabulary gene in vocabulary order, then the appended position V (N = V + 1);
  --genes dataset:    the vocabulary genes in the dataset's gene list, in vocabulary order, then V.
Tokens come from the CELL stream (`frames view` TSV: barcode gene value token); absent genes are 0.

Usage:
  python embed_default_torch.py MODEL VOCAB CELLS.tsv DATASET_GENES.txt --genes dataset|vocabulary
         [--threads T] [--cells K] [--check-encodings EMBED_ENC.tsv] [--check-genes EMBED_GENES.tsv]
  MODEL a .safetensors from pretrain; VOCAB its gene list; DATASET_GENES the dataset's genes, one a line.
  --check-encodings: `frames view` of `embed --emit encodings` on the first cells of CELLS.tsv;
      prints the position sets' agreement and the max abs difference of every position's encoding.
  --check-genes: `frames view` of `embed --emit genes` (mean pooling) over the same cells;
      prints the max abs difference of the pooled gene embeddings (sum / weight).
  Either check exits 1 when its difference exceeds --tolerance (1e-4).
  Otherwise (and also with --check-genes) times the cells: prints
      `torch_cells_per_s WALL  torch_cells_per_cpu_s CPU  cells K  positions N  threads T`
  Model loading and reading the TSV are not timed; one warm-up forward (the first cell) is not timed.
"""
import argparse, os, sys, time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pretrain_torch import Performer, read_cells  # noqa: E402  (the benchmark's shared model code and reader)
from safetensors import safe_open  # noqa: E402


def load_model(path):
    with safe_open(path, framework="pt") as f:
        meta = f.metadata() or {}
        t = {k: f.get_tensor(k) for k in f.keys()}
    tokens, d = t["token_emb.weight"].shape
    positions = t["pos_emb.emb.weight"].shape[0]
    depth = len({k.split(".")[3] for k in t if k.startswith("performer.net.layers.")})
    m, e = t["performer.net.layers.0.0.fn.fast_attention.projection_matrix"].shape
    heads = t["performer.net.layers.0.0.fn.to_q.weight"].shape[0] // e
    ff = t["performer.net.layers.0.1.fn.fn.w1.weight"].shape[0]
    for key, v in (("model.dim", d), ("model.depth", depth), ("model.heads", heads), ("model.dim_head", e),
                   ("model.features", m), ("model.ff_hidden", ff), ("model.tokens", tokens), ("model.positions", positions)):
        if key in meta and int(meta[key]) != v:
            sys.exit(f"{path}: metadata {key} = {meta[key]} but the tensors say {v}")
    model = Performer(tokens, positions, d, depth, heads, e, m, ff, seed=0)
    sd = {"token_emb.weight": t.pop("token_emb.weight"), "pos_emb.weight": t.pop("pos_emb.emb.weight"),
          "norm.weight": t.pop("norm.weight"), "norm.bias": t.pop("norm.bias"),
          "to_out.weight": t.pop("to_out.weight"), "to_out.bias": t.pop("to_out.bias")}
    for l in range(depth):
        a, f_ = f"performer.net.layers.{l}.0.", f"performer.net.layers.{l}.1."
        o = f"layers.{l}."
        sd[o + "proj"] = t.pop(a + "fn.fast_attention.projection_matrix")
        for x in ("weight", "bias"):
            sd[o + "norm1." + x] = t.pop(a + "norm." + x)
            sd[o + "norm2." + x] = t.pop(f_ + "norm." + x)
            sd[o + "to_out." + x] = t.pop(a + "fn.to_out." + x)
            sd[o + "w1." + x] = t.pop(f_ + "fn.fn.w1." + x)
            sd[o + "w2." + x] = t.pop(f_ + "fn.fn.w2." + x)
        for x in ("to_q", "to_k", "to_v"):
            sd[o + x + ".weight"] = t.pop(a + "fn." + x + ".weight")
    if t:
        sys.exit(f"{path}: tensors this twin does not model: {sorted(t)[:5]}")
    model.load_state_dict(sd, strict=True)
    cfg = f"dim {d}, depth {depth}, heads {heads}, dim_head {e}, {m} features, ff {ff}, {tokens} tokens, {positions} positions"
    return model.eval(), positions, cfg


def encode(model, tok, pos):
    """Final encodings [N, D] of one cell (batch 1): the model's layers, then its last LayerNorm."""
    x = model.token_emb(tok) + model.pos_emb(pos)
    n = [x.shape[0]]
    for layer in model.layers:
        x = layer(x, n)
    return model.norm(x)


def read_tsv_vectors(path, key_cols):
    out = {}
    with open(path) as f:
        next(f)
        for line in f:
            c = line.rstrip("\n").split("\t")
            out[tuple(c[:key_cols])] = c[key_cols:]
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model"); p.add_argument("vocab"); p.add_argument("cells"); p.add_argument("dataset_genes")
    p.add_argument("--genes", choices=["dataset", "vocabulary"], required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cells", type=int, default=0, dest="ncells", help="first K cells (0: all)")
    p.add_argument("--check-encodings"); p.add_argument("--check-genes")
    p.add_argument("--tolerance", type=float, default=1e-4, help="a check's max abs difference above this exits 1")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model, positions, cfg = load_model(a.model)
    vocab = [l.strip() for l in open(a.vocab) if l.strip()]
    v = len(vocab)
    if v != positions - 1:
        sys.exit(f"{a.vocab}: {v} genes but the model has {positions} positions (needs positions - 1)")
    index = {g: i for i, g in enumerate(vocab)}
    dataset = [l.strip() for l in open(a.dataset_genes) if l.strip()]
    known = sorted({index[g] for g in dataset if g in index})
    pos = np.array(known + [v] if a.genes == "dataset" else list(range(v + 1)), dtype=np.int64)
    slot = {int(q): j for j, q in enumerate(pos)}
    order, cells = read_cells(a.cells, index, barcodes=True)
    if a.ncells:
        order = order[:a.ncells]
    pos_t = torch.from_numpy(pos)
    gene_rows = torch.tensor([slot[index[g]] for g in dataset if g in index], dtype=torch.int64)

    def tokens(b):
        tok = np.zeros(len(pos), dtype=np.int64)
        for i, t in cells[b].items():
            j = slot.get(i)
            if j is not None:
                tok[j] = t
        return torch.from_numpy(tok)

    with torch.no_grad():
        if a.check_encodings:
            ref = read_tsv_vectors(a.check_encodings, 2)
            worst, n = 0.0, 0
            checked = sorted({k[0] for k in ref}, key=order.index)
            for b in checked:
                ref_pos = sorted(int(k[1]) for k in ref if k[0] == b)
                if ref_pos != sorted(pos.tolist()):
                    sys.exit(f"cell {b}: embed's positions ({len(ref_pos)}) differ from the twin's ({len(pos)})")
                enc = encode(model, tokens(b), pos_t).double().numpy()
                e = np.array([[float(x) for x in ref[(b, str(q))]] for q in pos.tolist()])
                worst = max(worst, float(np.abs(enc - e).max()))
                n += 1
            print(f"check_encodings\tcells {n}\tpositions {len(pos)}\tmax_abs_diff {worst:.3g}\t{cfg}")
            if not worst <= a.tolerance:
                sys.exit(f"encodings differ from embed's by {worst:.3g} (> {a.tolerance:g})")
            return
        enc_sum = torch.zeros(len(gene_rows), model.norm.weight.shape[0], dtype=torch.float64)
        encode(model, tokens(order[0]), pos_t)  # warm-up, not timed
        t0, c0 = time.perf_counter(), time.process_time()
        for b in order:
            enc_sum += encode(model, tokens(b), pos_t).index_select(0, gene_rows).double()
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"torch_cells_per_s\t{len(order) / secs:.3f}\ttorch_cells_per_cpu_s\t{len(order) / cpu:.3f}\t"
              f"cells\t{len(order)}\tpositions\t{len(pos)}\tthreads\t{a.threads}", flush=True)
        if a.check_genes:
            ref = read_tsv_vectors(a.check_genes, 1)
            mean = (enc_sum / len(order)).numpy()
            names = [g for g in dataset if g in index]
            worst = 0.0
            for r, g in enumerate(names):
                w, k, *e = ref[(g,)]
                if float(w) != len(order) or k not in ("1", "true"):
                    sys.exit(f"gene {g}: embed's weight {w} (known {k}), the twin's {len(order)}")
                worst = max(worst, float(np.abs(mean[r] - np.array([float(x) for x in e])).max()))
            print(f"check_genes\tcells {len(order)}\tgenes {len(names)}\tmax_abs_diff {worst:.3g}")
            if not worst <= a.tolerance:
                sys.exit(f"pooled gene embeddings differ from embed's by {worst:.3g} (> {a.tolerance:g})")


if __name__ == "__main__":
    main()
