"""Reference outputs for checking the exported graph against PyTorch.

Greedy-decodes `--steps` tokens after a prompt with inference routing (predictor, causal) at
several thresholds, recomputing the whole sequence in PyTorch each step, and writes per step the
last-position logits and each routed block's cache length. With --train-steps it first trains a
tiny model on synthetic data and exports it, so CI can run the check without the corpus.

  /usr/bin/python3 training/parity_fixture.py --out DIR [--ckpt C | --train-steps 30]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch

from model import Config, MoDModel
from train import load_checkpoint

HERE = os.path.dirname(os.path.abspath(__file__))


def tiny_checkpoint(out, steps):
    """Trains a 2-routed-block model for a few steps on patterned random tokens."""
    torch.manual_seed(0)
    cfg = Config(vocab_size=512, d_model=64, n_layer=4, n_head=2, seq_len=64, predictor_hidden=16)
    model = MoDModel(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        base = rng.integers(5, 512, size=(8, 16))
        x = torch.from_numpy(np.tile(base, (1, 5))[:, :65])
        _, loss, aux, _ = model(x[:, :-1], x[:, 1:])
        (loss + aux).backward()
        opt.step()
        opt.zero_grad()
    path = os.path.join(out, 'tiny.pt')
    torch.save({'model': model.state_dict(), 'config': cfg.to_dict()}, path)
    return path


@torch.no_grad()
def reference(model, prompt, steps, threshold):
    ids = list(prompt)
    rows, lens, probs = [], [], []
    for step in range(steps + 1):
        x = torch.tensor([ids])
        logits, _, _, stats = model(x, mode='predictor', threshold=threshold)
        last = logits[0, -1].float()
        rows.append(last.numpy().astype(np.float32))
        lens.append({str(s['layer']): int(s['sel'].sum()) for s in stats})
        if step < steps:
            ids.append(int(last.argmax()))
    return ids, np.stack(rows), lens


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--ckpt')
    ap.add_argument('--train-steps', type=int, default=30)
    ap.add_argument('--prompt-len', type=int, default=40)
    ap.add_argument('--steps', type=int, default=32)
    ap.add_argument('--tokenizer', default=None)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    ckpt = a.ckpt or tiny_checkpoint(a.out, a.train_steps)
    export = [sys.executable, os.path.join(HERE, 'export.py'), '--ckpt', ckpt, '--out', a.out, '--quantize', '0']
    if a.tokenizer:
        export += ['--tokenizer', a.tokenizer]
    else:
        export += ['--tokenizer', os.devnull]
    subprocess.run(export, check=True, stdout=subprocess.DEVNULL)
    ck = load_checkpoint(ckpt)
    model = MoDModel(Config(**ck['config']))
    model.load_state_dict(ck['model'])
    model.eval()
    rng = np.random.default_rng(1)
    prompt = [int(t) for t in rng.integers(5, model.cfg.vocab_size, size=a.prompt_len)]
    # A threshold inside the predictor's range makes blocks route some tokens and skip others
    # (including decode steps where a routed block takes no token); -1 runs every block, 2 none.
    with torch.no_grad():
        _, _, _, st = model(torch.tensor([prompt]), mode='predictor', threshold=-1.0)
    mid = float(np.quantile(torch.cat([s['prob'].flatten() for s in st]).numpy(), 0.6))
    cases = []
    for thr in (0.5, mid, -1.0, 2.0):
        ids, logits, lens = reference(model, prompt, a.steps, thr)
        fname = f'ref_{len(cases)}.f32'
        logits.tofile(os.path.join(a.out, fname))
        cases.append({'threshold': thr, 'tokens': ids, 'logits': fname, 'routedLens': lens})
    json.dump({'promptLen': a.prompt_len, 'steps': a.steps, 'vocab': model.cfg.vocab_size, 'cases': cases},
              open(os.path.join(a.out, 'reference.json'), 'w'))
    print(json.dumps({'out': a.out, 'thresholds': [c['threshold'] for c in cases]}))


if __name__ == '__main__':
    main()
