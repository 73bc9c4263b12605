"""The long run that continues from session to session, and its shippable snapshots.

  /usr/bin/python3 training/long_run.py train --minutes 120 [--data data/tokens-v2]
      continues training/checkpoints/mod-d256-l8.pt (or starts it) in the constant phase of the
      schedule; SIGTERM stops it with a fresh checkpoint (it also saves every 10 minutes).
  /usr/bin/python3 training/long_run.py snapshot --decay-tokens 5e6 [--out training/runs/snapshot]
      a decay branch from that checkpoint (which is not changed), exported float + 4-bit and scored
      on the held-out cases with the product's engine against the model that ships now; writes
      <out>/verdict.json, whose `ship` says whether it beats models/mod-complete-small on held-out
      edit similarity (the rule for shipping it). Needs `npm run build` (the engine's CLI).

The recipe (RECIPE) is the one docs/reports/recipe.md keeps; both commands use it.
"""
import argparse
import json
import os
import subprocess
import sys

from compare import engine_eval

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = 'models/mod-complete-small'
CKPT = 'training/checkpoints/mod-d256-l8.pt'
# Shipped shape (train.py defaults: d256 x 8, context 512, batch 16); recipe from docs/reports/recipe.md.
RECIPE = ['--routing', 'mod', '--opt', 'muon', '--router-bce', '--compact']


def train(a):
    cmd = [sys.executable, os.path.join(HERE, 'train.py'), '--out', a.out, '--ckpt', CKPT, '--resume', '--data', a.data,
           '--minutes', str(a.minutes), '--schedule', 'wsd', '--decay-frac', '0', '--ckpt-minutes', '10', '--eval-every', '500'] + RECIPE
    print(' '.join(cmd), flush=True)
    os.execv(sys.executable, cmd)


def snapshot(a):
    if not os.path.exists(os.path.join(a.out, 'summary.json')):
        # The branch keeps the long run's recipe and only decays the learning rate, to zero.
        cmd = [sys.executable, os.path.join(HERE, 'train.py'), '--out', a.out, '--init', CKPT, '--data', a.data,
               '--tokens', str(a.decay_tokens), '--schedule', 'wsd', '--decay-frac', '1', '--eval-every', '100000'] + RECIPE
        print(' '.join(cmd), flush=True)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    model = os.path.join(a.out, 'model')
    subprocess.run([sys.executable, os.path.join(HERE, 'export.py'), '--ckpt', os.path.join(a.out, 'ckpt.pt'), '--out', model,
                    '--tokenizer', os.path.join(SHIPPED, 'tokenizer.json'), '--name', os.path.basename(SHIPPED)], check=True)
    scores = {name: engine_eval(d, a.cases) for name, d in (('snapshot', model), ('shipped', SHIPPED))}
    json.dump(scores['snapshot'], open(os.path.join(a.out, 'heldout.json'), 'w'), indent=1)
    summary = json.load(open(os.path.join(a.out, 'summary.json')))
    s, b = scores['snapshot'], scores['shipped']
    verdict = {'tokensSeen': summary['tokens'], 'valBitsPerByte': summary['final']['val_bpb_predictor'], 'predictorAccuracy': summary['final']['pred_acc'],
               'editSimilarity': {'snapshot': s['editSimilarity'], 'shipped': b['editSimilarity']},
               'exactMatch': {'snapshot': s['exactMatch'], 'shipped': b['exactMatch']},
               'ship': s['editSimilarity'] > b['editSimilarity']}
    json.dump(verdict, open(os.path.join(a.out, 'verdict.json'), 'w'), indent=1)
    print(json.dumps(verdict, indent=1))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    t = sub.add_parser('train')
    t.add_argument('--minutes', type=float, required=True)
    t.add_argument('--out', default='training/runs/long')
    t.add_argument('--data', default='data/tokens-v2')
    s = sub.add_parser('snapshot')
    s.add_argument('--decay-tokens', type=float, required=True, help='about 10%% of the tokens the session trained')
    s.add_argument('--out', default='training/runs/snapshot')
    s.add_argument('--data', default='data/tokens-v2')
    s.add_argument('--cases', default='test/fixtures/heldout-cases.jsonl')
    a = ap.parse_args()
    train(a) if a.cmd == 'train' else snapshot(a)


if __name__ == '__main__':
    main()
