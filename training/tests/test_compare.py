"""compare.py keeps finished runs: a new budget or variant must not retrain (or drop) the others."""
import json
import sys

import compare


def fake_run(path, bpb):
    path.mkdir(parents=True)
    final = {'val_bpb_topk': bpb, 'val_bpb_predictor': bpb, 'pred_acc': 0.9}
    (path / 'summary.json').write_text(json.dumps({'final': final, 'step': 10, 'elapsed': 5.0}))
    (path / 'log.jsonl').write_text(json.dumps({'step': 10, 'loss': 3.0, 'pred_acc': 0.9}) + '\n' +
                                    json.dumps({'step': 10, 'eval': final, 'elapsed': 5.0, 'tokens': 100, 'train_flops': 1e12}) + '\n')


def test_reuses_report_entries_and_finished_runs_without_training(tmp_path, monkeypatch):
    out = tmp_path / 'report.json'
    model = {'d_model': 128, 'n_layer': 6, 'seq_len': 256}
    kept = {'variant': 'mod', 'budget': 1e12, 'summary': {'final': {'val_bpb_topk': 3.0}}, 'stepSeconds': 1.0, 'evals': [], 'predAccTrain': []}
    out.write_text(json.dumps({'model': model, 'runs': [kept]}))
    fake_run(tmp_path / 'runs' / 'dense-1e+12', 3.1)

    def no_training(*a, **k):
        raise AssertionError('a finished run was retrained')
    monkeypatch.setattr(compare.subprocess, 'run', no_training)
    monkeypatch.setattr(sys, 'argv', ['compare.py', '--budgets', '1e12', '--variants', 'mod,dense',
                                      '--runs', str(tmp_path / 'runs'), '--out', str(out)])
    compare.main()
    runs = json.loads(out.read_text())['runs']
    assert [(r['variant'], r['summary']['final']['val_bpb_topk']) for r in runs] == [('mod', 3.0), ('dense', 3.1)]
    assert runs[1]['stepSeconds'] == 0.5


def test_report_of_another_model_size_is_not_reused(tmp_path, monkeypatch):
    out = tmp_path / 'report.json'
    out.write_text(json.dumps({'model': {'d_model': 64, 'n_layer': 4, 'seq_len': 128},
                               'runs': [{'variant': 'mod', 'budget': 1e12}]}))
    calls = []
    monkeypatch.setattr(compare.subprocess, 'run', lambda cmd, **k: calls.append(cmd) or fake_run(tmp_path / 'runs' / 'mod-1e+12', 2.9))
    monkeypatch.setattr(sys, 'argv', ['compare.py', '--budgets', '1e12', '--variants', 'mod', '--runs', str(tmp_path / 'runs'), '--out', str(out)])
    compare.main()
    assert len(calls) == 1 and '--threads' in calls[0]
    assert json.loads(out.read_text())['runs'][0]['summary']['final']['val_bpb_topk'] == 2.9
