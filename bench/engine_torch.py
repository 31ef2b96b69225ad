#!/usr/bin/env python3
"""PyTorch peer of scgrn-bench: one GENELink training step (forward, backward, Adam) on CPU.

Two formulations of the same model (GENELink defaults: heads [3,3], hidden [128,64,32], output 16,
dot decoder, LeakyReLU 0.2 in attention, attention dropout 0.5, channel dropout 0.01, Adam 3e-3,
StepLR(1, 0.99)):
  dense  - GENELink's own formulation: per-head layers over a dense genes x genes adjacency
           (masked with -9e15, softmax over rows, attention @ features);
  sparse - the engine's formulation: heads fused in one matrix, attention over the edge list with
           scatter/index_add (O(edges)).
Usage: engine_torch.py INPUT.safetensors --variant dense|sparse [--threads T] [--steps N] [--warmup W]
Prints: torch-<variant> threads=T steps=N forward_ms=<median> step_ms=<median> loss_first=… loss_last=…
"""
import argparse, json, struct, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        a, b = h["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype={"F32": np.float32, "I64": np.int64}[h["dtype"]]).reshape(h["shape"])
    return out

class DenseHead(nn.Module):
    """One attention head over a dense adjacency (GENELink's formulation)."""
    def __init__(self, i, o, alpha=0.2):
        super().__init__()
        self.w = nn.Parameter(torch.empty(i, o)); self.a = nn.Parameter(torch.empty(2 * o, 1))
        self.b = nn.Parameter(torch.zeros(o)); self.o = o; self.alpha = alpha
        nn.init.xavier_uniform_(self.w, gain=1.414); nn.init.xavier_uniform_(self.a, gain=1.414)
    def forward(self, x, adj):
        h = x @ self.w
        e = F.leaky_relu(h @ self.a[:self.o] + (h @ self.a[self.o:]).T, self.alpha)
        att = F.softmax(torch.where(adj > 0, e, torch.full_like(e, -9e15)), dim=1)
        att = F.dropout(att, 0.5, self.training)
        out = F.normalize(F.leaky_relu(att @ h, self.alpha), p=2, dim=1)
        return out + self.b

class SparseLayer(nn.Module):
    """All heads fused; attention over the edge list (node i <- neighbour j)."""
    def __init__(self, i, o, heads, mean, alpha=0.2):
        super().__init__()
        self.w = nn.Parameter(torch.empty(i, heads * o)); nn.init.xavier_uniform_(self.w, gain=1.414)
        self.a_node = nn.Parameter(torch.empty(heads, o)); self.a_nb = nn.Parameter(torch.empty(heads, o))
        nn.init.xavier_uniform_(self.a_node, gain=1.414); nn.init.xavier_uniform_(self.a_nb, gain=1.414)
        self.b = nn.Parameter(torch.zeros(heads * o)); self.h = heads; self.o = o; self.mean = mean; self.alpha = alpha
    def forward(self, x, rows, cols):
        n = x.shape[0]
        h = (x @ self.w).view(n, self.h, self.o)
        s_node = (h * self.a_node).sum(-1); s_nb = (h * self.a_nb).sum(-1)
        e = F.leaky_relu(s_node[rows] + s_nb[cols], self.alpha)                       # [E, H]
        m = torch.full((n, self.h), -float("inf")).scatter_reduce(0, rows[:, None].expand_as(e), e, "amax")
        p = torch.exp(e - m[rows].detach())
        z = torch.zeros(n, self.h).index_add_(0, rows, p)
        att = F.dropout(p / z[rows], 0.5, self.training)
        out = torch.zeros(n, self.h, self.o).index_add_(0, rows, att[:, :, None] * h[cols])
        out = F.normalize(F.leaky_relu(out, self.alpha), p=2, dim=2).reshape(n, -1) + self.b
        return out.view(n, self.h, self.o).mean(1) if self.mean else out

class GENELink(nn.Module):
    def __init__(self, variant, inputs, heads=(3, 3), hidden=(128, 64, 32), out=16):
        super().__init__()
        self.variant = variant
        if variant == "dense":
            self.l1 = nn.ModuleList([DenseHead(inputs, hidden[0]) for _ in range(heads[0])])
            self.l2 = nn.ModuleList([DenseHead(heads[0] * hidden[0], hidden[1]) for _ in range(heads[1])])
        else:
            self.l1 = SparseLayer(inputs, hidden[0], heads[0], mean=False)
            self.l2 = SparseLayer(heads[0] * hidden[0], hidden[1], heads[1], mean=True)
        self.r1 = nn.Linear(hidden[1], hidden[2]); self.r2 = nn.Linear(hidden[2], out)
        self.t1 = nn.Linear(hidden[1], hidden[2]); self.t2 = nn.Linear(hidden[2], out)
        for l in (self.r1, self.r2, self.t1, self.t2):
            nn.init.xavier_uniform_(l.weight, gain=1.414)
    def encode(self, x, g):
        if self.variant == "dense":
            h = F.elu(torch.cat([head(x, g) for head in self.l1], dim=1))
            return torch.stack([head(h, g) for head in self.l2]).mean(0)
        rows, cols = g
        return self.l2(F.elu(self.l1(x, rows, cols)), rows, cols)
    def forward(self, x, g, regs, tgts):
        h = self.encode(x, g)
        r = F.leaky_relu(self.r2(F.dropout(F.leaky_relu(self.r1(h)), 0.01, self.training)))
        t = F.leaky_relu(self.t2(F.dropout(F.leaky_relu(self.t1(h)), 0.01, self.training)))
        return (r[regs] * t[tgts]).sum(1, keepdim=True)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input"); ap.add_argument("--variant", default="sparse", choices=["dense", "sparse"])
    ap.add_argument("--threads", type=int, default=1); ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(8)
    d = read_safetensors(a.input)
    x = torch.from_numpy(d["features"].copy())
    n = x.shape[0]
    e = d["edges"]
    both = np.unique(np.concatenate([e, e[:, ::-1]]), axis=0)          # symmetric, as GENELink's Adj_Generate
    if a.variant == "dense":
        g = torch.zeros(n, n); g[both[:, 0], both[:, 1]] = 1
    else:
        g = (torch.from_numpy(both[:, 0].copy()), torch.from_numpy(both[:, 1].copy()))
    regs = torch.from_numpy(d["pairs"][:, 0].copy()); tgts = torch.from_numpy(d["pairs"][:, 1].copy())
    y = torch.from_numpy(d["labels"].copy()).view(-1, 1)
    model = GENELink(a.variant, x.shape[1]); model.train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.99)
    fw, st, losses = [], [], []
    for step in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        loss = F.binary_cross_entropy_with_logits(model(x, g, regs, tgts), y)
        t1 = time.perf_counter()
        opt.zero_grad()
        loss.backward()
        opt.step(); sched.step()
        t2 = time.perf_counter()
        losses.append(loss.item())
        if step >= a.warmup:
            fw.append((t1 - t0) * 1e3); st.append((t2 - t0) * 1e3)
    print(f"torch-{a.variant} threads={a.threads} steps={a.steps} genes={n} edges={len(both)} "
          f"forward_ms={np.median(fw):.2f} step_ms={np.median(st):.2f} loss_first={losses[0]:.4f} loss_last={losses[-1]:.4f}")

if __name__ == "__main__":
    main()
