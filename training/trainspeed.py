"""Training speed of the shipped shape (d256 x 8, batch 16 x 512, bf16, 2 threads): this tree's
training step against an earlier commit's, back to back and interleaved under the same load, on
the same random tokens (their losses must agree: a faster step has to compute the same thing),
plus what the long run achieved in the session from its log.

  /usr/bin/python3 training/trainspeed.py [--ref cd3b8f5] [--log training/runs/long/log.jsonl]
      [--out docs/reports/train-speed.json]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# Runs inside a fresh interpreter with one version of training/ first on sys.path.
PROBE = r'''
import inspect, json, statistics, sys, time
import torch
sys.path.insert(0, sys.argv[1])
from model import Config, MoDModel
import train
torch.set_num_threads(2)
torch.manual_seed(0)
model = MoDModel(Config(router_bce=True)).train()
if sys.argv[2] == 'muon':
    opts = train.make_optimizers(model, type('Args', (), {'opt': 'muon', 'lr': 2e-3, 'muon_lr': 0.02})())
else:
    opts = [torch.optim.AdamW(model.parameters(), lr=2e-3, betas=(0.9, 0.95))]
# Older train_step took one optimizer, newer ones a list.
takes_list = 'opts' in inspect.signature(train.train_step).parameters
x = torch.randint(0, 4096, (16, 513), generator=torch.Generator().manual_seed(1))
times, losses = [], []
for i in range(int(sys.argv[3])):
    t0 = time.perf_counter()
    loss, aux, _ = train.train_step(model, opts if takes_list else opts[0], x[:, :-1], x[:, 1:], torch.device('cpu'))
    times.append(time.perf_counter() - t0)
    losses.append(loss.item())
print(json.dumps({'seconds': statistics.median(times[2:]), 'losses': losses}))
'''


def probe(training_dir, opt, steps):
    out = subprocess.run([sys.executable, '-c', PROBE, training_dir, opt, str(steps)], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().split('\n')[-1])


def achieved(log_path):
    """Tokens per wall-clock second over the long run's logged intervals (20 steps each), and the
    median interval (the idle rate when nothing else ran)."""
    rows = [json.loads(l) for l in open(log_path) if l.strip()]
    rows = [r for r in rows if 'tok_s' in r and r['step'] > 1]
    prev, tokens, seconds, rates = None, 0, 0.0, []
    for r in rows:
        if prev is not None and r['tokens'] > prev['tokens']:
            n = r['tokens'] - prev['tokens']
            tokens += n
            seconds += n / r['tok_s']
            rates.append(r['tok_s'])
        prev = r
    return {'tokens': tokens, 'wallSeconds': seconds, 'tokensPerSecond': tokens / seconds if seconds else None,
            'medianIntervalTokensPerSecond': statistics.median(rates) if rates else None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ref', default='cd3b8f5', help='commit to compare against (its training/ is checked out to a temp dir)')
    ap.add_argument('--steps', type=int, default=8)
    ap.add_argument('--rounds', type=int, default=2)
    ap.add_argument('--log', default='training/runs/long/log.jsonl')
    ap.add_argument('--out', default='docs/reports/train-speed.json')
    a = ap.parse_args()
    ref_dir = tempfile.mkdtemp(prefix='trainspeed-')
    for f in ('model.py', 'train.py'):
        src = subprocess.run(['git', 'show', f'{a.ref}:training/{f}'], check=True, capture_output=True, text=True).stdout
        open(os.path.join(ref_dir, f), 'w').write(src)
    rows = {'before (AdamW)': [], 'after (AdamW)': [], 'after (Muon, the recipe)': []}
    losses = {}
    for _ in range(a.rounds):  # interleaved so that a change of load hits every row alike
        for name, d, opt in (('before (AdamW)', ref_dir, 'adamw'), ('after (AdamW)', HERE, 'adamw'), ('after (Muon, the recipe)', HERE, 'muon')):
            r = probe(d, opt, a.steps)
            rows[name].append(r['seconds'])
            losses[name] = r['losses']
            print(name, f"{r['seconds']:.3f} s/step", flush=True)
    tokens = 16 * 512
    out = {'ref': a.ref, 'shape': 'd256 x 8, batch 16 x 512, bf16 autocast, 2 threads, router BCE',
           'idle': {k: {'stepSeconds': statistics.median(v), 'tokensPerSecond': tokens / statistics.median(v)} for k, v in rows.items()},
           'sameLoss': {'before': losses['before (AdamW)'], 'after': losses['after (AdamW)'],
                        'maxRelativeDifference': max(abs(x - y) / abs(x) for x, y in zip(losses['before (AdamW)'], losses['after (AdamW)']))}}
    if a.log and os.path.exists(a.log):
        out['longRun'] = achieved(a.log)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    json.dump(out, open(a.out, 'w'), indent=1)
    b, f = out['idle']['before (AdamW)'], out['idle']['after (AdamW)']
    md = ['# Training speed (`training/trainspeed.py`)', '', f"Shape: {out['shape']}; before = commit {a.ref}; medians of {a.steps - 2} steps x {a.rounds} interleaved rounds.", '',
          '| step | s/step | tokens/s |', '|---|---|---|',
          *[f"| {k} | {v['stepSeconds']:.3f} | {v['tokensPerSecond']:.0f} |" for k, v in out['idle'].items()], '',
          f"Speedup of the step: {b['stepSeconds'] / f['stepSeconds']:.2f}x; the losses of the {a.steps} steps agree within {100 * out['sameLoss']['maxRelativeDifference']:.3f}%."]
    if 'longRun' in out and out['longRun']['tokensPerSecond']:
        lr = out['longRun']
        md += ['', f"The long run in this session: {lr['tokens'] / 1e6:.1f}M tokens at {lr['tokensPerSecond']:.0f} tokens/s of wall-clock time "
               f"(median 20-step interval {lr['medianIntervalTokensPerSecond']:.0f} tokens/s)."]
    open(a.out.replace('.json', '.md'), 'w').write('\n'.join(md) + '\n')
    print('\n'.join(md))


if __name__ == '__main__':
    main()
