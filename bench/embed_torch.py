#!/usr/bin/env python3
"""The PyTorch peer of the embed benchmark: PyPI performer-pytorch's PerformerLM at scBERT's size
(dim 200, depth 6, heads 10, dim_head 64, default 266 random features, ff 800, 16,907 positions,
absolute position embedding instead of rotary, the closest to scBERT), batch 1, random weights.
It has scBERT's FLOPs (its numbers differ slightly: per-head key stabiliser).

  python embed_torch.py THREADS CELLS   → one line per timed cell, then `median_s_per_cell X`
"""
import sys
import time

import torch
from performer_pytorch import PerformerLM

threads, cells = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
torch.manual_seed(0)
model = PerformerLM(num_tokens=7, max_seq_len=16907, dim=200, depth=6, heads=10, dim_head=64,
                    causal=False, rotary_position_emb=False).eval()
times = []
with torch.no_grad():
    for c in range(cells + 1):
        x = torch.randint(0, 6, (1, 16907))
        t0 = time.perf_counter()
        model(x, return_encodings=True)
        t = time.perf_counter() - t0
        if c > 0:  # cell 0 warms up
            times.append(t)
            print(f"cell\t{c}\t{t:.2f}", flush=True)
times.sort()
print(f"median_s_per_cell\t{times[len(times) // 2]:.2f}")
