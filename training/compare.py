"""Runs at equal training FLOPs, same corpus, tokenizer, code and model size, at several FLOP
budgets, written to one JSON report. Two uses:

- the paper-style comparison: MoD vs the dense baseline vs stochastic routing (and MoD with the
  router-BCE sampling fix); `npm run report:paper` turns it into charts and the claims table.
  The MoDE variants (moe, mode-staged, mode-integrated, moe-lowcap) run the same way
  (`--variants moe,mode-staged,mode-integrated,moe-lowcap`), their runs added to the same report.
- the training recipe: today's recipe (`mod`: AdamW, cosine, FIM 50%) against one change at a
  time (Muon, WSD, router BCE, FIM 90% with whole-line middles) and their combination, on the
  shipped shape, with held-out completion quality (--heldout); `npm run report:recipe`.

  /usr/bin/python3 training/compare.py [--budgets 2e12,4e12,8e12,1.6e13] [--d-model 128 --n-layer 6]
  /usr/bin/python3 training/compare.py --recipe   (the recipe report's runs and settings)
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
    # The control for MoD's gain: a dense model of only its unrouted blocks (half the depth; --n-layer
    # set per shape in main) at the same FLOPs, so "a shallower net sees more tokens" is measured.
    'dense-unrouted': ['--routing', 'dense'],
    'stochastic': ['--routing', 'stochastic'],
    'mod-router-bce': ['--routing', 'mod', '--router-bce'],
    'muon': ['--routing', 'mod', '--opt', 'muon'],
    'wsd': ['--routing', 'mod', '--schedule', 'wsd', '--decay-frac', '0.2'],
    'fim90': ['--routing', 'mod', '--data', 'data/tokens-fim90'],
    'fim50-lines': ['--routing', 'mod', '--data', 'data/tokens-fim50l'],
    'all': ['--routing', 'mod', '--opt', 'muon', '--schedule', 'wsd', '--decay-frac', '0.2', '--router-bce', '--data', 'data/tokens-fim90'],
    'recipe': ['--routing', 'mod', '--opt', 'muon', '--schedule', 'wsd', '--decay-frac', '0.2', '--router-bce'],
    # MoDE (issue 14): MoE at the dense model's active FLOPs, MoD with MoE MLPs, no-op experts at
    # MoD's FLOPs, and the paper's control, MoE with its capacity cut to the same FLOPs.
    'moe': ['--routing', 'moe'],
    'mode-staged': ['--routing', 'mode-staged'],
    'mode-integrated': ['--routing', 'mode-integrated'],
    'moe-lowcap': ['--routing', 'moe-lowcap'],
}
# The recipe report: the shipped shape (d256 x 8, context 512, batch 16) at 4e13 training FLOPs
# (157 steps, ~2.5 idle CPU minutes a run), on the corpus of the first shipped model
# (`git show cd3b8f5:training/corpus-hashes.txt > v1.txt; build.js --pin v1.txt --out data/corpus-v1`)
# tokenized with the shipped tokenizer: data/tokens (`shards.js --corpus data/corpus-v1`: FIM 50%,
# middles line-or-span), data/tokens-fim90 and data/tokens-fim50l (`--fim-rate 0.9 | 0.5
# --fim-middles with-whole-lines`). 'all' is every change together, 'recipe' the ones kept.
RECIPE = {'budgets': '4e13', 'variants': 'mod,muon,wsd,mod-router-bce,fim90,fim50-lines,all,recipe', 'd_model': '256', 'n_layer': '8',
          'n_head': '4', 'seq_len': '512', 'batch': '16', 'runs': 'training/runs/recipe', 'out': 'docs/reports/recipe.json'}
TOKENIZER = 'models/mod-complete-small/tokenizer.json'
HELDOUT = 'test/fixtures/heldout-cases.jsonl'


def engine_eval(model_dir, cases=HELDOUT):
    """`mod-complete eval --json` of a model package on completion cases (the product's engine, 4-bit)."""
    out = subprocess.run(['node', 'dist/cli.js', 'eval', '--cases', cases, '--model', model_dir, '--threads', '1', '--json'],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().split('\n')[-1])


def heldout_quality(run_dir):
    """Exports the run 4-bit and completes the held-out cases with the product's engine."""
    model_dir = os.path.join(run_dir, 'model')
    subprocess.run([sys.executable, os.path.join(HERE, 'export.py'), '--ckpt', os.path.join(run_dir, 'ckpt.pt'), '--out', model_dir,
                    '--float', '0', '--tokenizer', TOKENIZER], check=True, stdout=subprocess.DEVNULL)
    return engine_eval(model_dir)


def read_log(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    return [r for r in rows if 'eval' in r], [r for r in rows if 'loss' in r]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--budgets', default='2e12,4e12,8e12,1.6e13')
    ap.add_argument('--variants', default='mod,dense,stochastic,mod-router-bce,dense-unrouted')
    ap.add_argument('--d-model', default='128')
    ap.add_argument('--n-layer', default='6')
    ap.add_argument('--n-head', default='2')
    ap.add_argument('--seq-len', default='256')
    ap.add_argument('--batch', default='16')
    ap.add_argument('--threads', default='2', help='per run; 1 when another job shares the cores')
    ap.add_argument('--data', default='data/tokens', help="token shards (a variant's own --data wins)")
    ap.add_argument('--runs', default='training/runs/compare')
    ap.add_argument('--out', default='docs/reports/paper-comparison.json')
    ap.add_argument('--heldout', action='store_true', help='also export each run and score the held-out cases (needs `npm run build`)')
    ap.add_argument('--recipe', action='store_true', help='the recipe report: its variants, shape, budget and held-out scoring')
    a = ap.parse_args()
    if a.recipe:
        for k, v in RECIPE.items():
            setattr(a, k, v)
        a.heldout = True
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
                       '--warmup', '30', '--ckpt-minutes', '1000', '--threads', a.threads, '--data', a.data] + VARIANTS[name]
                if name == 'dense-unrouted':
                    cmd += ['--n-layer', str(int(a.n_layer) - int(a.n_layer) // 2)]  # model.py routes every odd block
                print(' '.join(cmd), flush=True)
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            evals, steps = read_log(os.path.join(out, 'log.jsonl'))
            summary = json.load(open(os.path.join(out, 'summary.json')))
            step_time = summary['elapsed'] / summary['step']
            quality_path = os.path.join(out, 'heldout.json')
            if a.heldout and not os.path.exists(quality_path):
                json.dump(heldout_quality(out), open(quality_path, 'w'), indent=1)
            results.append({
                'variant': name, 'budget': budget, 'summary': summary, 'stepSeconds': step_time, 'threads': int(a.threads),
                'evals': [{'trainFlops': e['train_flops'], 'elapsed': e['elapsed'], 'tokens': e['tokens'], **e['eval']} for e in evals],
                'predAccTrain': [{'step': s['step'], 'acc': s['pred_acc']} for s in steps if 'pred_acc' in s],
                **({'heldout': json.load(open(quality_path))} if os.path.exists(quality_path) else {}),
            })
            print(name, budget, json.dumps(summary['final']), flush=True)
    # Runs of other variants or budgets stay in the report: adding one variant keeps the rest.
    done = {(r['variant'], r['budget']) for r in results}
    results += [r for k, r in known.items() if k not in done]
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    json.dump({'model': model, 'runs': results},
              open(a.out, 'w'), indent=1)


if __name__ == '__main__':
    main()
