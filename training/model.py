"""Decoder-only transformer with Mixture-of-Depths routing (Raposo et al., 2024).

Every other block is routed: a linear router scores each token, the block processes only the
top-k tokens of the sequence (expert choice, capacity 12.5%), attending among themselves with a
causal mask and RoPE at their original positions; their output is x + sigmoid(r) * f(x) and every
other token passes through unchanged. Top-k is non-causal, so a small causal predictor (an MLP on
the block input with a stop-gradient) learns top-k membership with BCE; at inference it decides,
token by token, whether the block runs at all.

Switches: routing='dense' (baseline), 'mod', 'stochastic' (top-k of Gaussian noise), and
router_bce=True (the paper's auxiliary BCE on the router logits).
"""
import functools
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab_size: int = 4096
    d_model: int = 256
    n_layer: int = 8
    n_head: int = 4
    mlp_mult: int = 4
    seq_len: int = 512
    routing: str = 'mod'          # 'dense' | 'mod' | 'stochastic'
    capacity: float = 0.125       # fraction of the sequence a routed block processes
    router_bce: bool = False      # auxiliary BCE on the router logits (paper's first sampling fix)
    router_bce_weight: float = 0.01
    predictor_hidden: int = 64
    rope_base: float = 10000.0
    norm_eps: float = 1e-5

    def routed(self, layer: int) -> bool:
        return self.routing != 'dense' and layer % 2 == 1

    def to_dict(self):
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x) * self.weight


@functools.lru_cache(maxsize=8)
def rope_table(n, hd, base, device):
    """cos/sin of RoPE angles for positions 0..n-1: [n, hd/2] each (fp32); cached, so every layer
    and step with the same length shares one table."""
    inv = base ** (-torch.arange(0, hd, 2, device=device, dtype=torch.float32) / hd)
    ang = torch.arange(n, device=device, dtype=torch.float32)[:, None] * inv
    return ang.cos(), ang.sin()


def rope(x, pos, table):
    """Rotary embedding by explicit positions. x: [B, H, T, hd], pos: [B, T] (original positions),
    table: rope_table() covering every position; rows are gathered, not recomputed per layer."""
    hd = x.shape[-1]
    cos, sin = (t[pos][:, None].type_as(x) for t in table)  # [B, 1, T, hd/2]
    x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def mask_bias(mask, dtype):
    """Additive attention bias (0 where allowed, -inf elsewhere) from a bool mask [B or 1, T, T]."""
    return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(~mask, float('-inf'))


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_head = cfg.n_head
        self.base = cfg.rope_base
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=False)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model, bias=False)

    def forward(self, x, pos, mask):
        """mask: [B or 1, T, T], bool (True where query i may attend to key j) or an additive bias."""
        B, T, D = x.shape
        H, hd = self.n_head, D // self.n_head
        q, k, v = self.qkv(x).view(B, T, 3, H, hd).permute(2, 0, 3, 1, 4)
        table = rope_table(int(pos.max()) + 1, hd, self.base, x.device)
        q, k = rope(q, pos, table), rope(k, pos, table)
        bias = mask_bias(mask, q.dtype) if mask.dtype == torch.bool else mask.type_as(q)
        # One fused scale + bias + matmul instead of a matmul, a scale and a full-size mask fill.
        att = torch.baddbmm(bias[:, None].expand(B, H, T, T).reshape(B * H, T, T) if bias.shape[0] > 1 else bias,
                            q.reshape(B * H, T, hd), k.reshape(B * H, T, hd).transpose(1, 2), alpha=1.0 / math.sqrt(hd))
        y = (att.softmax(-1) @ v.reshape(B * H, T, hd)).view(B, H, T, hd).transpose(1, 2).reshape(B, T, D)
        return self.proj(y)


class Block(nn.Module):
    def __init__(self, cfg, routed):
        super().__init__()
        self.routed = routed
        self.norm1 = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.attn = Attention(cfg)
        self.norm2 = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.fc1 = nn.Linear(cfg.d_model, cfg.mlp_mult * cfg.d_model, bias=False)
        self.fc2 = nn.Linear(cfg.mlp_mult * cfg.d_model, cfg.d_model, bias=False)
        if routed:
            self.router = nn.Linear(cfg.d_model, 1, bias=False)
            self.predictor = nn.Sequential(
                nn.Linear(cfg.d_model, cfg.predictor_hidden), nn.SiLU(), nn.Linear(cfg.predictor_hidden, 1))

    def delta(self, x, pos, mask):
        """f(x): what the block adds to the residual stream (attention plus MLP), counted once."""
        a = self.attn(self.norm1(x), pos, mask)
        h = self.fc2(F.silu(self.fc1(self.norm2(x + a))))
        return a + h

    def forward_topk(self, x, cfg):
        """Training routing: the top-k tokens of each sequence by router score (or by noise when
        routing is stochastic) go through the block at their original positions; the rest pass."""
        B, T, D = x.shape
        r = self.router(x).squeeze(-1).float()                      # [B, T]
        plog = self.predictor(x.detach()).squeeze(-1).float()       # stop-gradient: no effect on the LM
        k = max(1, int(cfg.capacity * T))
        scores = torch.randn_like(r) if cfg.routing == 'stochastic' else r
        sel_idx = scores.topk(k, dim=1).indices.sort(dim=1).values    # [B, k], original positions
        member = torch.zeros_like(r).scatter(1, sel_idx, 1.0)
        gidx = sel_idx[..., None].expand(B, k, D)
        xs = x.gather(1, gidx)
        w = torch.sigmoid(r.gather(1, sel_idx))[..., None].type_as(x)
        # Sorted positions make the plain lower-triangular mask the causal mask among the selected.
        ys = xs + w * self.delta(xs, sel_idx, causal_mask(k, x.device))
        out = x.scatter(1, gidx, ys)
        aux = F.binary_cross_entropy_with_logits(plog, member)
        if cfg.router_bce:
            aux = aux + cfg.router_bce_weight * F.binary_cross_entropy_with_logits(r, member)
        with torch.no_grad():
            pred, tgt = plog > 0, member > 0.5
            tp = (pred & tgt).sum().float()
            st = dict(acc=(pred == tgt).float().mean().item(), precision=(tp / pred.sum().clamp(min=1)).item(),
                      recall=(tp / tgt.sum().clamp(min=1)).item(), pred_frac=pred.float().mean().item(), sel_idx=sel_idx)
        return out, aux, st

    def forward_predictor(self, x, pos, full, threshold):
        """Inference routing: a token runs the block when sigmoid(predictor) > threshold, attending
        to earlier selected tokens only; this is what the exported graph computes step by step."""
        T = x.shape[1]
        r = self.router(x).squeeze(-1).float()
        plog = self.predictor(x).squeeze(-1).float()
        sel = torch.sigmoid(plog) > threshold                               # [B, T], causal per token
        # The diagonal keeps unselected rows finite (their result is discarded).
        eye = torch.eye(T, dtype=torch.bool, device=x.device)[None]
        mask = (full & sel[:, None, :]) | eye
        w = torch.sigmoid(r)[..., None].type_as(x)
        out = torch.where(sel[..., None], x + w * self.delta(x, pos, mask), x)
        return out, dict(pred_frac=sel.float().mean().item(), sel=sel, prob=torch.sigmoid(plog))


class ChunkedCrossEntropy(torch.autograd.Function):
    """Mean cross-entropy over bf16 (or any dtype) logits, computed in fp32 a few rows at a time.
    Same value and gradient as F.cross_entropy(logits.float(), t), without the full-size fp32 copy
    of the logits and its log-softmax that the plain form keeps for the backward pass (a tenth of
    a CPU training step at vocab 4096)."""
    ROWS = 512

    @staticmethod
    def forward(ctx, logits, targets):
        lse = torch.empty(logits.shape[0], dtype=torch.float32, device=logits.device)
        total = torch.zeros((), dtype=torch.float32, device=logits.device)
        for i in range(0, logits.shape[0], ChunkedCrossEntropy.ROWS):
            lf = logits[i:i + ChunkedCrossEntropy.ROWS].float()
            t = targets[i:i + ChunkedCrossEntropy.ROWS]
            lse[i:i + len(t)] = torch.logsumexp(lf, -1)
            total += (lse[i:i + len(t)] - lf.gather(1, t[:, None]).squeeze(1)).sum()
        ctx.save_for_backward(logits, targets, lse)
        return total / logits.shape[0]

    @staticmethod
    def backward(ctx, grad):
        logits, targets, lse = ctx.saved_tensors
        out = torch.empty_like(logits)
        scale = grad.float() / logits.shape[0]
        for i in range(0, logits.shape[0], ChunkedCrossEntropy.ROWS):
            t = targets[i:i + ChunkedCrossEntropy.ROWS]
            g = (logits[i:i + len(t)].float() - lse[i:i + len(t), None]).exp_()  # softmax
            g.scatter_add_(1, t[:, None], torch.full((len(t), 1), -1.0, device=g.device))
            out[i:i + len(t)] = g.mul_(scale)
        return out, None


def causal_mask(T, device):
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()[None]


class MoDModel(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg, cfg.routed(i)) for i in range(cfg.n_layer))
        self.norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.apply(self._init)
        for b in self.blocks:  # residual branches scaled down with depth (GPT-2)
            nn.init.normal_(b.attn.proj.weight, std=0.02 / math.sqrt(2 * cfg.n_layer))
            nn.init.normal_(b.fc2.weight, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
            if getattr(m, 'bias', None) is not None:
                nn.init.zeros_(m.bias)

    def forward(self, idx, targets=None, mode='topk', threshold=0.5):
        """mode 'topk': training routing (non-causal top-k); 'predictor': inference routing, each
        token runs a routed block when sigmoid(predictor) > threshold (threshold < 0: every block on)."""
        B, T = idx.shape
        x = self.embed(idx)
        pos = torch.arange(T, device=idx.device)[None].expand(B, T)
        full = causal_mask(T, idx.device)
        aux = torch.zeros((), device=idx.device)
        stats = []
        for i, blk in enumerate(self.blocks):
            if not blk.routed:
                x = x + blk.delta(x, pos, full)
                continue
            if mode == 'topk':
                x, aux_i, st = blk.forward_topk(x, self.cfg)
                aux = aux + aux_i
            else:
                x, st = blk.forward_predictor(x, pos, full, threshold)
            stats.append(dict(layer=i, **st))
        logits = F.linear(self.norm(x), self.embed.weight)
        loss = None
        if targets is not None:
            loss = ChunkedCrossEntropy.apply(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        return logits, loss, aux, stats


def flops_table(cfg: Config):
    """Matmul FLOPs per token of each component: the one formula (the model manifest carries it
    to the engine's accounting; test/fixtures/flops-cases.json pins both sides). Attention adds
    4*d per (query, key) pair: q.k and p.v over all heads."""
    d = cfg.d_model
    return {'block_per_token': 2 * (4 * d * d + 2 * cfg.mlp_mult * d * d), 'attention_per_key': 4 * d,
            'lm_head_per_token': 2 * d * cfg.vocab_size,
            'predictor_per_token': 2 * (d * cfg.predictor_hidden + cfg.predictor_hidden), 'router_per_token': 2 * d}


def forward_flops(cfg: Config, T: int, every_block_on=False, routed_frac=None):
    """Matmul FLOPs of one forward pass over a sequence of T tokens (causal attention counted
    over the keys each query actually sees). routed_frac: fraction of tokens a routed block
    processes (defaults to the capacity); in training the router and the predictor score every
    token. every_block_on: the same weights with routed blocks on every token (their router
    gate still applied), the engine's dense baseline."""
    f = flops_table(cfg)

    def block(n):  # n tokens, attention among themselves (causal: n(n+1)/2 pairs)
        return n * f['block_per_token'] + f['attention_per_key'] * n * (n + 1) / 2

    total = T * f['lm_head_per_token']
    for i in range(cfg.n_layer):
        if not cfg.routed(i):
            total += block(T)
        elif every_block_on:
            total += block(T) + T * f['router_per_token']
        else:
            n = int((cfg.capacity if routed_frac is None else routed_frac) * T)
            total += block(n) + T * (f['router_per_token'] + f['predictor_per_token'])
    return total
