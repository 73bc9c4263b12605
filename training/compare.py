"""Paper-style comparison at equal training FLOPs: MoD vs the dense baseline vs stochastic
routing (and MoD with the router-BCE sampling fix), same corpus, tokenizer, code and model size,
at several FLOP budgets. Writes docs/reports/paper-comparison.json; `npm run report:paper`
turns it into charts and the claims table.

  /usr/bin/python3 training/compare.py [--budgets 2e12,4e12,8e12,1.6e13] [--d-model 128 --n-layer 6]
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VARIANTS = {
    'mod': ['--routing', 'mod'],
    'dense': ['--routing', 'dense'],
    'stochastic': ['--routing', 'stochastic'],
    'mod-router-bce': ['--routing', 'mod', '--router-bce'],
}


def read_log(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    return [r for r in rows if 'eval' in r], [r for r in rows if 'loss' in r]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--budgets', default='2e12,4e12,8e12,1.6e13')
    ap.add_argument('--variants', default='mod,dense,stochastic,mod-router-bce')
    ap.add_argument('--d-model', default='128')
    ap.add_argument('--n-layer', default='6')
    ap.add_argument('--n-head', default='2')
    ap.add_argument('--seq-len', default='256')
    ap.add_argument('--batch', default='16')
    ap.add_argument('--threads', default='2', help='per run; 1 when another job shares the cores')
    ap.add_argument('--runs', default='training/runs/compare')
    ap.add_argument('--out', default='docs/reports/paper-comparison.json')
    a = ap.parse_args()
    model = {'d_model': int(a.d_model), 'n_layer': int(a.n_layer), 'seq_len': int(a.seq_len)}
    # Runs already in the report (same model size) are kept, so adding a budget or a variant does
    # not retrain the rest; delete the report or the run's entry to redo one.
    known = {}
    if os.path.exists(a.out):
        old = json.load(open(a.out))
        if old.get('model') == model:
            known = {(r['variant'], r['budget']): r for r in old['runs']}
    results = []
    for budget in [float(b) for b in a.budgets.split(',')]:
        for name in a.variants.split(','):
            out = os.path.join(a.runs, f'{name}-{budget:.3g}')
            if (name, budget) in known and not os.path.exists(os.path.join(out, 'summary.json')):
                results.append(known[(name, budget)])
                print(name, budget, 'kept from', a.out, flush=True)
                continue
            if not os.path.exists(os.path.join(out, 'summary.json')):
                cmd = [sys.executable, os.path.join(HERE, 'train.py'), '--out', out, '--flops', str(budget),
                       '--d-model', a.d_model, '--n-layer', a.n_layer, '--n-head', a.n_head, '--seq-len', a.seq_len,
                       '--batch', a.batch, '--eval-every', '50', '--eval-tokens', '16384', '--final-eval-tokens', '65536',
                       '--warmup', '30', '--ckpt-minutes', '1000', '--threads', a.threads] + VARIANTS[name]
                print(' '.join(cmd), flush=True)
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            evals, steps = read_log(os.path.join(out, 'log.jsonl'))
            summary = json.load(open(os.path.join(out, 'summary.json')))
            step_time = summary['elapsed'] / summary['step']
            results.append({
                'variant': name, 'budget': budget, 'summary': summary, 'stepSeconds': step_time, 'threads': int(a.threads),
                'evals': [{'trainFlops': e['train_flops'], 'elapsed': e['elapsed'], 'tokens': e['tokens'], **e['eval']} for e in evals],
                'predAccTrain': [{'step': s['step'], 'acc': s['pred_acc']} for s in steps if 'pred_acc' in s],
            })
            print(name, budget, json.dumps(summary['final']), flush=True)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    json.dump({'model': model, 'runs': results},
              open(a.out, 'w'), indent=1)


if __name__ == '__main__':
    main()
