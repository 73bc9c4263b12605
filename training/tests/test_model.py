"""Checks of the MoD semantics the exported engine relies on."""
import math

import numpy as np
import pytest
import torch

from export import dequantize_4bit, quantize_4bit
from model import Config, MoDModel, causal_mask, forward_flops


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
    m.blocks[1].delta = lambda xs, pos, mask: calls.append((xs.shape, pos.clone())) or orig(xs, pos, mask)
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
    m = tiny()
    idx = tokens(B=1)
    _, _, _, st = m(idx, mode='predictor', threshold=-1.0)
    assert all(s['pred_frac'] == 1.0 for s in st)


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


def test_mod_forward_flops_below_dense():
    cfg = Config()
    mod, dense = forward_flops(cfg, 512), forward_flops(cfg, 512, every_block_on=True)
    assert 0.55 < mod / dense < 0.7


def test_quantize_4bit_roundtrip():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(48, 64)).astype(np.float32)
    packed, scales, zps = quantize_4bit(w, 32)
    assert packed.shape == (48, 2, 16) and scales.shape == (96,) and zps.shape == (48,)
    deq = dequantize_4bit(packed, scales, zps, 48, 64, 32)
    step = (w.reshape(48, 2, 32).max(-1) - w.reshape(48, 2, 32).min(-1)) / 15
    assert np.all(np.abs(deq - w).reshape(48, 2, 32) <= step[..., None] / 2 + 1e-6)
