"""Checks of the MoD semantics the exported engine relies on."""
import json
import math
import os

import numpy as np
import pytest
import torch

from export import dequantize_4bit, quantize_4bit
from model import Config, MoDModel, causal_mask, flops_table, forward_flops


def tiny(**kw):
    torch.manual_seed(0)
    cfg = Config(vocab_size=97, d_model=32, n_layer=4, n_head=2, seq_len=64, predictor_hidden=8, **kw)
    return MoDModel(cfg).eval()


def tokens(B=2, T=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 97, (B, T), generator=g)


def block_input(model, idx, layer):
    """Residual stream entering `layer` under training routing."""
    x = model.embed(idx)
    T = idx.shape[1]
    pos = torch.arange(T)[None].expand(idx.shape[0], T)
    for i, blk in enumerate(model.blocks[:layer]):
        x = blk.forward_topk(x, model.cfg)[0] if blk.routed else x + blk.delta(x, pos, causal_mask(T, x.device))
    return x


def test_every_other_block_routes():
    m = tiny()
    assert [b.routed for b in m.blocks] == [False, True, False, True]
    assert not any(b.routed for b in tiny(routing='dense').blocks)


@pytest.mark.parametrize('T', [64, 17, 8])
def test_exactly_k_tokens_and_unrouted_unchanged(T):
    m = tiny()
    idx = tokens(T=T)
    x = block_input(m, idx, 1)
    calls = []
    orig = m.blocks[1].delta
    m.blocks[1].delta = lambda xs, pos, mask, route=None: calls.append((xs.shape, pos.clone())) or orig(xs, pos, mask, route)
    out, _, st = m.blocks[1].forward_topk(x, m.cfg)
    k = max(1, int(0.125 * T))
    assert calls[0][0] == (2, k, 32)  # the block itself sees k tokens per sequence, no more
    changed = (out - x).abs().amax(-1) > 0
    assert changed.sum(1).tolist() == [k, k]
    member = torch.zeros(2, T, dtype=torch.bool).scatter(1, st['sel_idx'], True)
    assert torch.equal(changed, member)
    assert torch.equal(out[~member], x[~member])  # unrouted tokens pass through bit for bit


def test_routed_attention_uses_original_positions():
    m = tiny()
    blk = m.blocks[1]
    with torch.no_grad():  # sharp attention, so that positions matter
        blk.attn.qkv.weight.mul_(30)
    idx = tokens()
    x = block_input(m, idx, 1)
    out, _, st = blk.forward_topk(x, m.cfg)
    sel = st['sel_idx']
    # Recompute by hand: gather the selected tokens, attend causally among them at their original positions.
    xs = torch.stack([x[b, sel[b]] for b in range(2)])
    r = blk.router(xs).squeeze(-1)
    expect = xs + torch.sigmoid(r)[..., None] * blk.delta(xs, sel, causal_mask(sel.shape[1], x.device))
    got = torch.stack([out[b, sel[b]] for b in range(2)])
    assert torch.allclose(got, expect, atol=1e-6)
    # Positions 0..k-1 (a known bug of public implementations) give a different result.
    wrong = xs + torch.sigmoid(r)[..., None] * blk.delta(xs, torch.arange(sel.shape[1])[None].expand_as(sel), causal_mask(sel.shape[1], x.device))
    assert not torch.allclose(got, wrong, atol=1e-4)


def test_residual_counted_once():
    m = tiny()
    idx = tokens()
    x = block_input(m, idx, 1)
    blk = m.blocks[1]
    with torch.no_grad():
        for p in blk.parameters():
            p.zero_()
    out, _, _ = blk.forward_topk(x, m.cfg)
    assert torch.equal(out, x)  # a block that adds nothing must leave x as is, not 2x


@pytest.mark.parametrize('threshold', [0.5, 'median', -1.0])
def test_predictor_path_is_causal(threshold):
    m = tiny()
    idx = tokens(B=1)
    if threshold == 'median':  # some tokens route and some do not
        _, _, _, st = m(idx, mode='predictor', threshold=-1.0)
        threshold = float(torch.cat([s['prob'].flatten() for s in st]).median())
        mixed = True
    else:
        mixed = False
    la, _, _, sa = m(idx, mode='predictor', threshold=threshold)
    idx2 = idx.clone()
    idx2[0, 40:] = (idx2[0, 40:] + 7) % 97
    lb, _, _, sb = m(idx2, mode='predictor', threshold=threshold)
    assert torch.allclose(la[0, :40], lb[0, :40], atol=1e-5)
    for a, b in zip(sa, sb):
        assert torch.equal(a['sel'][0, :40], b['sel'][0, :40])
    if mixed:
        fr = [s['pred_frac'] for s in sa]
        assert all(0 < f < 1 for f in fr), fr


def test_every_block_on_matches_all_selected():
    # Threshold -1 (the engine's "every block on") must compute what top-k computes when it selects
    # every token: the same block, the same router gate, at every position.
    m = tiny()
    idx = tokens(B=1)
    on, _, _, st = m(idx, mode='predictor', threshold=-1.0)
    assert all(s['pred_frac'] == 1.0 for s in st)
    m.cfg.capacity = 1.0
    full, _, _, _ = m(idx, mode='topk')
    assert torch.allclose(on, full, atol=1e-5)
    m.cfg.capacity = 0.125
    part, _, _, _ = m(idx, mode='topk')
    assert not torch.allclose(on, part, atol=1e-3)  # and the comparison can tell routing apart


def test_predictor_gets_no_gradient_into_the_model():
    m = tiny()
    idx = tokens()
    _, loss, aux, _ = m(idx[:, :-1], idx[:, 1:])
    aux.backward()
    assert m.embed.weight.grad is None or m.embed.weight.grad.abs().max() == 0
    assert m.blocks[1].predictor[0].weight.grad.abs().max() > 0


def test_router_gets_gradient_from_lm_loss():
    m = tiny()
    idx = tokens()
    _, loss, _, _ = m(idx[:, :-1], idx[:, 1:])
    loss.backward()
    assert m.blocks[1].router.weight.grad.abs().max() > 0


def test_stochastic_and_router_bce_switches():
    idx = tokens()
    m = tiny(routing='stochastic')
    _, l1, _, _ = m(idx[:, :-1], idx[:, 1:])
    assert math.isfinite(l1.item())
    m = tiny(router_bce=True)
    _, _, aux_bce, _ = m(idx[:, :-1], idx[:, 1:])
    _, _, aux_plain, _ = tiny()(idx[:, :-1], idx[:, 1:])
    assert aux_bce.item() > aux_plain.item()


def test_flops_match_the_shared_fixture():
    # The same numbers test/accounting.test.ts holds the engine's accounting to.
    cases = json.load(open(os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'flops-cases.json')))
    for c in cases['configs']:
        cfg = Config(**c['config'])
        assert [i for i in range(cfg.n_layer) if cfg.routed(i)] == c['routedBlocks']
        assert flops_table(cfg) == c['table'], c['name']
        T = c['sequence']['T']
        assert forward_flops(cfg, T, every_block_on=True) == c['sequence']['everyBlockOn'], c['name']
        assert forward_flops(cfg, T) == c['sequence']['mod'], c['name']


def test_quantize_4bit_roundtrip():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(48, 64)).astype(np.float32)
    packed, scales, zps = quantize_4bit(w, 32)
    assert packed.shape == (48, 2, 16) and scales.shape == (96,) and zps.shape == (48,)
    deq = dequantize_4bit(packed, scales, zps, 48, 64, 32)
    step = (w.reshape(48, 2, 32).max(-1) - w.reshape(48, 2, 32).min(-1)) / 15
    assert np.all(np.abs(deq - w).reshape(48, 2, 32) <= step[..., None] / 2 + 1e-6)


def test_export_round_trip_and_plain_dense_view(tmp_path):
    # A shipped float graph re-exports byte for byte (so --from-onnx --plain-dense really holds the
    # shipped weights), and the plain dense view has none of the routing machinery.
    import onnx
    import subprocess
    import sys
    m = tiny(routing='mod')
    ck = tmp_path / 'ckpt.pt'
    torch.save({'model': m.state_dict(), 'config': m.cfg.to_dict()}, ck)
    tok = tmp_path / 'tokenizer.json'
    tok.write_text('{}')
    export = os.path.join(os.path.dirname(__file__), '..', 'export.py')
    run = lambda *args: subprocess.run([sys.executable, export, '--tokenizer', str(tok), *args], check=True, capture_output=True)
    run('--ckpt', str(ck), '--out', str(tmp_path / 'a'))
    run('--from-onnx', str(tmp_path / 'a' / 'model.onnx'), '--out', str(tmp_path / 'b'))
    run('--from-onnx', str(tmp_path / 'a' / 'model.onnx'), '--out', str(tmp_path / 'c'), '--plain-dense')
    for f in ('model.onnx', 'model.q4.onnx'):
        assert (tmp_path / 'a' / f).read_bytes() == (tmp_path / 'b' / f).read_bytes(), f
    man = json.load(open(tmp_path / 'c' / 'manifest.json'))
    assert man['architecture']['routed_blocks'] == [] and man['name'] == 'a-plain-dense'
    for f in ('model.onnx', 'model.q4.onnx'):
        g = onnx.load(str(tmp_path / 'c' / f)).graph
        ops = {n.op_type for n in g.node}
        assert not ops & {'If', 'NonZero', 'ScatterND'}, (f, ops)
        assert not [o.name for o in g.output if o.name.startswith('route_prob')]
        assert sum(n.op_type == 'Gather' for n in g.node) == 2  # the embedding and the logit rows
