"""Training step time of MoD against the dense baseline at one model size, measured back to back
in one process under the same load: the training runs' own timings stop being comparable when the
CPU was shared. Median over the steps after a short warm-up; random tokens (speed only).

  /usr/bin/python3 training/steptime.py [--d-model 256 --n-layer 8 --n-head 4 --seq-len 512 --batch 16]
      [--steps 12] [--out docs/reports/step-time.json]
"""
import argparse
import json
import os
import statistics
import time

import torch

from model import Config, MoDModel, forward_flops
from train import train_step

WARMUP = 2


def step_seconds(cfg, batch, steps):
    torch.manual_seed(0)
    model = MoDModel(cfg).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    device = torch.device('cpu')
    times = []
    for _ in range(WARMUP + steps):
        x = torch.randint(0, cfg.vocab_size, (batch, cfg.seq_len))
        t0 = time.perf_counter()
        train_step(model, [opt], x, x, device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times[WARMUP:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--d-model', type=int, default=256)
    ap.add_argument('--n-layer', type=int, default=8)
    ap.add_argument('--n-head', type=int, default=4)
    ap.add_argument('--seq-len', type=int, default=512)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--steps', type=int, default=12)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--out', default='docs/reports/step-time.json')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rows = {}
    # Interleaved (mod, dense, mod, dense) so a change in machine load hits both alike.
    for rep in range(2):
        for routing in ('mod', 'dense'):
            cfg = Config(d_model=a.d_model, n_layer=a.n_layer, n_head=a.n_head, seq_len=a.seq_len, routing=routing)
            s = step_seconds(cfg, a.batch, a.steps // 2)
            rows.setdefault(routing, {'seconds': [], 'forwardFlopsPerToken': forward_flops(cfg, a.seq_len) / a.seq_len})['seconds'].append(s)
            print(routing, rep, f'{s:.3f} s/step', flush=True)
    out = {'model': {'d_model': a.d_model, 'n_layer': a.n_layer, 'seq_len': a.seq_len, 'batch': a.batch}, 'threads': a.threads,
           'stepSeconds': {k: statistics.mean(v['seconds']) for k, v in rows.items()},
           'forwardFlopsPerToken': {k: v['forwardFlopsPerToken'] for k, v in rows.items()}}
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    json.dump(out, open(a.out, 'w'), indent=1)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
