"""The expert routings (MoE, MoDE and the low-capacity control): routing invariants, equal-FLOPs
accounting, causal decode decisions, and that they train through the normal entry points."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from model import (CAPPED_ROUTINGS, EXPERT_ROUTINGS, Config, Expert, MoDModel, causal_mask, expert_tokens, flops_table,
                   forward_flops)

HERE = os.path.dirname(__file__)


def tiny(routing, **kw):
    torch.manual_seed(0)
    cfg = Config(vocab_size=97, d_model=32, n_layer=4, n_head=2, seq_len=64, predictor_hidden=8, routing=routing, **kw)
    return MoDModel(cfg).eval()


def tokens(B=1, T=64, seed=0):
    return torch.randint(0, 97, (B, T), generator=torch.Generator().manual_seed(seed))


def record_expert_rows(monkeypatch):
    """Every call of an expert, as (expert module, rows it was given)."""
    calls = []
    orig = Expert.forward
    monkeypatch.setattr(Expert, 'forward', lambda self, h: calls.append((self, h.detach().clone())) or orig(self, h))
    return calls


def mlp_input(model, idx, layer):
    """The normed MLP input of `layer` (block 0's, from the embeddings: layer 0 only)."""
    assert layer == 0
    blk = model.blocks[0]
    x = model.embed(idx)
    pos = torch.arange(idx.shape[1])[None]
    return blk.norm2(x + blk.attn(blk.norm1(x), pos, causal_mask(idx.shape[1], x.device)))


def test_mod_config_and_parameters_read_as_before():
    # Checkpoints, manifests and optimizer state of the MoD and dense runs must not change.
    assert list(Config().to_dict()) == ['vocab_size', 'd_model', 'n_layer', 'n_head', 'mlp_mult', 'seq_len', 'routing', 'capacity',
                                        'router_bce', 'router_bce_weight', 'predictor_hidden', 'rope_base', 'norm_eps']
    names = [n for n, _ in tiny('mod').named_parameters()]
    assert names[:6] == ['embed.weight', 'blocks.0.norm1.weight', 'blocks.0.attn.qkv.weight', 'blocks.0.attn.proj.weight',
                         'blocks.0.norm2.weight', 'blocks.0.fc1.weight']
    assert names[9:15] == ['blocks.1.attn.proj.weight', 'blocks.1.norm2.weight', 'blocks.1.fc1.weight', 'blocks.1.fc2.weight',
                           'blocks.1.router.weight', 'blocks.1.predictor.0.weight']
    assert not any('moe' in n for n in names)


@pytest.mark.parametrize('routing', EXPERT_ROUTINGS)
def test_config_round_trips_with_its_capacity(routing):
    cfg = tiny(routing).cfg
    again = Config(**cfg.to_dict())
    assert again == cfg and again.expert_capacity == cfg.expert_capacity
    assert (cfg.expert_capacity > 0) == (routing in CAPPED_ROUTINGS)
    assert [i for i in range(4) if cfg.routed(i)] == ([1, 3] if routing == 'mode-staged' else [])


@pytest.mark.parametrize('routing', CAPPED_ROUTINGS)
def test_capacity_respected(routing, monkeypatch):
    m = tiny(routing)
    k = expert_tokens(m.cfg, 64)
    calls = record_expert_rows(monkeypatch)
    _, _, _, st = m(tokens(B=1))
    assert calls and max(len(h) for _, h in calls) <= k
    assert max(len(h) for _, h in calls) == k  # the cut binds: random routing asks more of some expert
    assert all(s['sel'].sum() <= m.cfg.experts * k for s in st)


def test_noop_experts_do_no_work_and_unchosen_tokens_keep_the_residual(monkeypatch):
    m = tiny('mode-integrated')
    idx = tokens(B=1)
    moe = m.blocks[0].moe
    with torch.no_grad():
        h = mlp_input(m, idx, 0)
        choice = moe.gate(h).float().softmax(-1).argmax(-1)[0]
    noop = choice >= m.cfg.experts
    assert 0 < noop.sum() < 64  # some tokens pick a no-op expert, some a real one
    calls = record_expert_rows(monkeypatch)
    from model import Route
    for mode, threshold in (('topk', 0.5), ('predictor', -1.0)):
        route = Route(mode, threshold)
        calls.clear()
        with torch.no_grad():
            out = moe(h, route)[0]
        ran = route.stats[0]['sel'][0]
        assert not (ran & noop).any()
        fed = torch.cat([hh for _, hh in calls])
        assert len(fed) == ran.sum()  # the experts saw exactly the tokens that ran, no others
        assert torch.equal(out[~ran], torch.zeros_like(out[~ran]))  # nothing added: block output is x + attention
        assert (out[ran].abs().amax(-1) > 0).all()
    assert torch.equal(ran, ~noop)  # threshold < 0: every real choice runs


@pytest.mark.parametrize('mode', ['topk', 'predictor'])
def test_staged_unrouted_tokens_pass_unchanged(mode):
    m = tiny('mode-staged')
    blk = m.blocks[1]
    x = torch.randn(2, 64, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        if mode == 'topk':
            out, _, st = blk.forward_topk(x, m.cfg)
            routed = torch.zeros(2, 64, dtype=torch.bool).scatter(1, st['sel_idx'], True)
        else:
            thr = float(torch.sigmoid(blk.predictor(x)).median())
            out, st = blk.forward_predictor(x, torch.arange(64)[None].expand(2, 64), causal_mask(64, x.device), thr)
            routed = st['sel']
    assert 0 < routed.sum() < 128
    assert torch.equal(out[~routed], x[~routed])
    assert ((out - x).abs().amax(-1)[routed] > 0).all()


def test_flops_match_the_shared_fixture():
    cases = json.load(open(os.path.join(HERE, '..', '..', 'test', 'fixtures', 'flops-cases.json')))['trainingConfigs']
    assert sorted(c['name'] for c in cases) == sorted(EXPERT_ROUTINGS)
    for c in cases:
        cfg = Config(**c['config'])
        assert [i for i in range(cfg.n_layer) if cfg.routed(i)] == c['routedBlocks'], c['name']
        assert flops_table(cfg) == c['table'], c['name']
        assert forward_flops(cfg, c['sequence']['T']) == c['sequence']['forward'], c['name']
        if 'expertTokens' in c:
            assert expert_tokens(cfg, c['sequence']['T']) == c['expertTokens'], c['name']


@pytest.mark.parametrize('shape', [dict(vocab_size=97, d_model=32, n_layer=4, n_head=2, seq_len=64, predictor_hidden=8),
                                   dict(d_model=128, n_layer=6, n_head=2, seq_len=256), dict()],
                         ids=['tiny', 'comparison', 'shipped'])
def test_equal_active_flops(shape):
    T = Config(**shape).seq_len
    f = {r: forward_flops(Config(routing=r, **shape), T) for r in ('dense', 'mod') + EXPERT_ROUTINGS}
    gate = flops_table(Config(routing='moe', **shape))['gate_per_token']
    L = Config(**shape).n_layer
    # One expert per token: the dense model's FLOPs plus the gate.
    assert f['moe'] == f['dense'] + L * T * gate
    # MoD's blocks with experts: MoD's FLOPs plus the gate of each token a block runs.
    ran = L // 2 * T + L // 2 * int(0.125 * T)
    assert f['mode-staged'] == f['mod'] + ran * gate
    # The capped routings land on MoD's FLOPs, below it by less than one token per expert and layer.
    mlp = flops_table(Config(routing='moe', **shape))['mlp_per_token']
    for r in CAPPED_ROUTINGS:
        assert 0 <= f['mod'] - f[r] < L * 4 * mlp, r


@pytest.mark.parametrize('routing', EXPERT_ROUTINGS)
def test_decode_decision_is_causal(routing):
    # Inference routing (what decoding would run): nothing about token t may depend on tokens after t.
    m = tiny(routing)
    idx = tokens()
    _, _, _, st = m(idx, mode='predictor', threshold=-1.0)
    probs = [s['prob'].flatten() for s in st]
    threshold = float(torch.cat(probs).median()) if probs else 0.5  # mixed decisions where a predictor decides
    la, _, _, sa = m(idx, mode='predictor', threshold=threshold)
    idx2 = idx.clone()
    idx2[0, 40:] = (idx2[0, 40:] + 7) % 97
    lb, _, _, sb = m(idx2, mode='predictor', threshold=threshold)
    assert torch.allclose(la[0, :40], lb[0, :40], atol=1e-5)
    assert len(sa) == len(sb) == (2 if routing == 'mode-staged' else 4 if routing in CAPPED_ROUTINGS else 0)
    for a, b in zip(sa, sb):
        assert torch.equal(a['sel'][0, :40], b['sel'][0, :40])
        assert 0 < a['pred_frac'] < 1
    if routing == 'moe':  # no capacity cut: training routing is already causal and the same computation
        lt, _, _, _ = m(idx)
        assert torch.allclose(lt, la, atol=1e-5)


def write_shards(path, n=20000):
    path.mkdir()
    rng = np.random.default_rng(0)
    for split in ('train', 'val'):
        rng.integers(5, 97, n).astype(np.uint16).tofile(path / f'{split}.bin')
    (path / 'meta.json').write_text(json.dumps({'vocabSize': 97, 'val': {'tokens': n, 'bytes': 3 * n}}))


def test_variants_train_through_compare(tmp_path):
    # The lead's command, at a budget of a few steps on a tiny shape: every variant trains, evaluates and
    # lands in the report with predictor stats where a predictor decides.
    write_shards(tmp_path / 'data')
    variants = ','.join(EXPERT_ROUTINGS)
    subprocess.run([sys.executable, os.path.join(HERE, '..', 'compare.py'), '--budgets', '3e8', '--variants', variants,
                    '--d-model', '32', '--n-layer', '2', '--n-head', '2', '--seq-len', '32', '--batch', '2', '--threads', '1',
                    '--data', str(tmp_path / 'data'), '--runs', str(tmp_path / 'runs'), '--out', str(tmp_path / 'report.json')],
                   check=True, capture_output=True)
    runs = {r['variant']: r for r in json.load(open(tmp_path / 'report.json'))['runs']}
    assert sorted(runs) == sorted(EXPERT_ROUTINGS)
    for name, r in runs.items():
        assert r['summary']['step'] >= 2 and np.isfinite(r['summary']['final']['val_bpb_topk']), name
        assert ('pred_acc' in r['summary']['final']) == (name != 'moe'), name
