"""PyTorch twin of `pretrain --zeros` for the pretrain benchmark: the same model (scBERT's Performer:
token and gene-position embeddings, pre-LayerNorm blocks, FAVOR+ softmax-kernel attention with
performer-pytorch's stabilisers and eps, exact GELU, token head), the same cells, the same zero
sampling (expressed genes + ceil(R x expressed) zero genes + the appended position, in vocabulary
order), the same masking (ceil(15%) of the expressed genes, 90% replaced by the mask token) and
the same optimiser (Adam, gradient norm clipped to 1), trained for the same number of steps.

Rows of a batch are packed cell after cell (no padding): every layer but attention runs on the
packed [rows, D] matrix, attention runs per cell — the fastest faithful way to run a ragged batch
in PyTorch. Prints one line: positions/s and GFLOP/s (the FLOP count pretrain uses), per second of
wall time and per second of process CPU time (the figure that survives a shared machine's load).

Usage: python pretrain_torch.py CELLS.tsv VOCAB.txt --dim 64 --depth 4 --heads 4 --dim-head 16
       --features 44 --batch-size 10 --steps 7 --zeros 1 --threads 1
CELLS.tsv is `frames view` of the CELL stream pretrain reads (barcode, gene, value, token).
"""
import argparse, math, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_cells(path, vocab_index, barcodes=False):
    """`frames view` of a CELL stream: per cell, {vocabulary index: token} of its nonzero tokens
    (a list in stream order; with barcodes, the barcodes in order and a dict by barcode)."""
    cells, order = {}, []
    with open(path) as f:
        next(f)
        for line in f:
            b, g, _, t = line.rstrip("\n").split("\t")
            if b not in cells:
                cells[b] = {}
                order.append(b)
            i = vocab_index.get(g)
            if i is not None and t != "." and int(t) > 0:
                cells[b][i] = int(t)
    return (order, cells) if barcodes else [cells[b] for b in order]


def gaussian_orthogonal(m, e, gen):
    blocks = []
    for _ in range(math.ceil(m / e)):
        q, _ = torch.linalg.qr(torch.randn(e, e, generator=gen))
        blocks.append(q.T)
    mat = torch.cat(blocks)[:m]
    return torch.randn(m, e, generator=gen).norm(dim=1, keepdim=True) * mat


def softmax_kernel(x, proj, is_query, eps=1e-4):
    # performer-pytorch's softmax_kernel; x [H, n, E], proj [M, E]
    e = x.shape[-1]
    c = e ** -0.25
    ratio = proj.shape[0] ** -0.5
    dash = torch.einsum("hne,me->hnm", c * x, proj)
    diag = (x ** 2).sum(dim=-1, keepdim=True) / 2 * c * c
    if is_query:
        stab = torch.amax(dash, dim=-1, keepdim=True).detach()
    else:
        stab = torch.amax(dash).detach()   # one key maximum per cell, over all heads
    return ratio * (torch.exp(dash - diag - stab) + eps)


def linear_attention(q, k, v):
    k_sum = k.sum(dim=-2)
    d_inv = 1.0 / torch.einsum("hnm,hm->hn", q, k_sum)
    ctx = torch.einsum("hnm,hne->hme", k, v)
    return torch.einsum("hme,hnm,hn->hne", ctx, q, d_inv)


class Block(nn.Module):
    def __init__(self, d, heads, dh, m, ff, gen):
        super().__init__()
        inner = heads * dh
        self.heads, self.dh = heads, dh
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.to_q, self.to_k, self.to_v = (nn.Linear(d, inner, bias=False) for _ in range(3))
        self.to_out = nn.Linear(inner, d)
        self.w1, self.w2 = nn.Linear(d, ff), nn.Linear(ff, d)
        self.register_buffer("proj", gaussian_orthogonal(m, dh, gen))

    def forward(self, x, lengths):
        h = self.norm1(x)
        q, k, v = self.to_q(h), self.to_k(h), self.to_v(h)
        outs = []
        for qc, kc, vc in zip(q.split(lengths), k.split(lengths), v.split(lengths)):
            n = qc.shape[0]
            qc, kc, vc = (t.view(n, self.heads, self.dh).transpose(0, 1) for t in (qc, kc, vc))
            qf = softmax_kernel(qc, self.proj, True)
            kf = softmax_kernel(kc, self.proj, False)
            outs.append(linear_attention(qf, kf, vc).transpose(0, 1).reshape(n, -1))
        x = x + self.to_out(torch.cat(outs))
        return x + self.w2(F.gelu(self.w1(self.norm2(x))))


class Performer(nn.Module):
    def __init__(self, tokens, positions, d, depth, heads, dh, m, ff, seed):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.token_emb = nn.Embedding(tokens, d)
        self.pos_emb = nn.Embedding(positions, d)
        self.layers = nn.ModuleList(Block(d, heads, dh, m, ff, gen) for _ in range(depth))
        self.norm = nn.LayerNorm(d)
        self.to_out = nn.Linear(d, tokens)

    def forward(self, tokens, positions, lengths, rows):
        x = self.token_emb(tokens) + self.pos_emb(positions)
        for layer in self.layers:
            x = layer(x, lengths)
        return self.to_out(self.norm(x)[rows])


def flops(a, positions):
    d, i, m, e, f, h = a.dim, a.heads * a.dim_head, a.features, a.dim_head, a.ff_mult * a.dim, a.heads
    per = 2 * d * 3 * i + 2 * i * d + 4 * d * f + h * (2 * 2 * e * m + 2 * 2 * m * (e + 1))
    return 3 * a.depth * per * positions


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cells"); p.add_argument("vocab")
    p.add_argument("--dim", type=int, default=64); p.add_argument("--depth", type=int, default=4)
    p.add_argument("--heads", type=int, default=4); p.add_argument("--dim-head", type=int, default=16)
    p.add_argument("--features", type=int, default=44); p.add_argument("--ff-mult", type=int, default=4)
    p.add_argument("--bins", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=10); p.add_argument("--steps", type=int, default=7)
    p.add_argument("--zeros", type=float, default=1.0, help="zero genes per expressed gene (pretrain --zeros Rx)")
    p.add_argument("--threads", type=int, default=1); p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    vocab = [l.strip() for l in open(a.vocab) if l.strip()]
    index = {g: i for i, g in enumerate(vocab)}
    v = len(vocab)
    cells = read_cells(a.cells, index)
    rng = np.random.default_rng(a.seed)
    mask_token = a.bins + 1
    model = Performer(a.bins + 2, v + 1, a.dim, a.depth, a.heads, a.dim_head, a.features, a.ff_mult * a.dim, a.seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def batch(cs):
        toks, poss, lens, rows, labels = [], [], [], [], []
        for c in cs:
            expressed = np.array(sorted(c), dtype=np.int64)
            zero_pool = np.setdiff1d(np.arange(v), expressed, assume_unique=True)
            k = min(len(zero_pool), math.ceil(a.zeros * len(expressed)))
            zeros = rng.choice(zero_pool, size=k, replace=False)
            pos = np.concatenate([np.sort(np.concatenate([expressed, zeros])), [v]])
            tok = np.array([c.get(int(q), 0) for q in pos], dtype=np.int64)
            nz = np.flatnonzero(tok)
            chosen = rng.choice(nz, size=math.ceil(0.15 * len(nz)), replace=False) if len(nz) else np.array([], np.int64)
            labels.append(tok[chosen].copy())
            replace = chosen[rng.random(len(chosen)) < 0.9]
            tok[replace] = mask_token
            rows.append(chosen + sum(lens))
            toks.append(tok); poss.append(pos); lens.append(len(pos))
        cat = lambda xs: torch.from_numpy(np.concatenate(xs).astype(np.int64))
        return cat(toks), cat(poss), lens, cat(rows), cat(labels)

    order = rng.permutation(len(cells))
    def step(s):
        ids = [order[(s * a.batch_size + i) % len(cells)] for i in range(a.batch_size)]
        tok, pos, lens, rows, labels = batch([cells[i] for i in ids])
        logits = model(tok, pos, lens, rows)
        loss = F.cross_entropy(logits, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return sum(lens)

    step(a.steps)        # warm-up, not counted (a batch of other cells when the corpus is larger)
    t0, c0 = time.perf_counter(), time.process_time()
    positions = sum(step(s) for s in range(a.steps))
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"torch: {positions / secs:.0f} positions/s, training {flops(a, positions) / secs / 1e9:.2f} GFLOP/s; "
          f"per CPU second: {positions / cpu:.0f} positions/s, training {flops(a, positions) / cpu / 1e9:.2f} GFLOP/s; "
          f"{a.steps} steps, {positions} positions, {secs:.2f} s, {a.threads} threads, torch {torch.__version__}")


if __name__ == "__main__":
    main()
