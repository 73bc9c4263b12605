"""Training routing of the shipped model on sampled validation windows, for the routing report
(`npm run report:routing`, src/report/routing.ts): per routed block, which tokens top-k selects and
which its predictor says it would (logit > 0, on the same residual stream, as train.py's evaluate
measures agreement). The exported graph decides by predictor only, so top-k needs these weights in
PyTorch: they are read back from the shipped float graph (export.weights_from_onnx), the model
the product runs. Windows of seq_len tokens start at evenly spaced validation chunks (each opens
with its file header), so the token kinds of their first file are known from its first line.

  /usr/bin/python3 training/routing.py [--model models/mod-complete-small/model.onnx]
      [--data data/tokens-v2/val.bin] [--windows 32] [--out out/routing/topk.json]
"""
import argparse
import json
import os
import time

import numpy as np
import torch

from export import weights_from_onnx
from model import MoDModel
from train import autocast

FILE_SEP = 4  # src/engine/special-tokens.ts


def window_starts(tokens, n, T):
    """n chunk starts (file separators) spread evenly over the split, each with T tokens after it."""
    seps = np.flatnonzero(tokens[:len(tokens) - T] == FILE_SEP)
    return [int(seps[i * len(seps) // n]) for i in range(n)]


@torch.no_grad()
def topk_routing(model, windows, batch=8):
    """Per window and routed block: top-k membership and the predictor's call, as '0'/'1' strings."""
    plogs = {}
    hooks = [blk.predictor.register_forward_hook(lambda m, i, o, l=l: plogs.__setitem__(l, o.squeeze(-1)))
             for l, blk in enumerate(model.blocks) if blk.routed]
    out = [{'topk': {}, 'predictor': {}} for _ in windows]
    for b in range(0, len(windows), batch):
        x = torch.tensor(np.stack(windows[b:b + batch]).astype(np.int64))
        with autocast(x.device):  # as train.py's evaluate, whose predictor accuracy this is
            _, _, _, stats = model(x, mode='topk')
        for s in stats:
            member = torch.zeros(x.shape, dtype=torch.bool).scatter(1, s['sel_idx'], True)
            for j in range(len(x)):
                out[b + j]['topk'][s['layer']] = ''.join('1' if v else '0' for v in member[j].tolist())
                out[b + j]['predictor'][s['layer']] = ''.join('1' if v > 0 else '0' for v in plogs[s['layer']][j].tolist())
    for h in hooks:
        h.remove()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', default='models/mod-complete-small/model.onnx')
    ap.add_argument('--data', default='data/tokens-v2/val.bin')
    ap.add_argument('--windows', type=int, default=32)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--out', default='out/routing/topk.json')
    a = ap.parse_args()
    t0 = time.time()
    torch.set_num_threads(a.threads)
    cfg, sd, manifest = weights_from_onnx(a.model)
    model = MoDModel(cfg).eval()
    model.load_state_dict(sd)
    tokens = np.memmap(a.data, dtype=np.uint16, mode='r')
    T = cfg.seq_len
    starts = window_starts(tokens, a.windows, T)
    windows = [np.asarray(tokens[s:s + T]) for s in starts]
    routing = topk_routing(model, windows)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    json.dump({'model': manifest['name'], 'sha256': manifest['files']['float']['sha256'], 'data': a.data, 'seqLen': T,
               'capacity': cfg.capacity, 'routedBlocks': [i for i in range(cfg.n_layer) if cfg.routed(i)],
               'seconds': time.time() - t0, 'windows': [{'start': s, 'ids': w.tolist(), **r} for s, w, r in zip(starts, windows, routing)]},
              open(a.out, 'w'))
    print(f'{len(windows)} windows of {T} tokens -> {a.out}')


if __name__ == '__main__':
    main()
