"""Decoder-only transformer with Mixture-of-Depths routing (Raposo et al., 2024).

Every other block is routed: a linear router scores each token, the block processes only the
top-k tokens of the sequence (expert choice, capacity 12.5%), attending among themselves with a
causal mask and RoPE at their original positions; their output is x + sigmoid(r) * f(x) and every
other token passes through unchanged. Top-k is non-causal, so a small causal predictor (an MLP on
the block input with a stop-gradient) learns top-k membership with BCE; at inference it decides,
token by token, whether the block runs at all.

Switches: routing='dense' (baseline), 'mod', 'stochastic' (top-k of Gaussian noise), and
router_bce=True (the paper's auxiliary BCE on the router logits).

The paper's MoDE (MoD with experts) and its controls replace every block's MLP by n_experts
experts of the dense MLP's size, token choice, top-1 (see Experts): 'moe' (no capacity cut: each token runs
exactly one expert, the dense model's active FLOPs), 'mode-staged' (MoD routing of the block as
for 'mod', its MLP the experts), 'mode-integrated' (no-op experts among the experts, and expert
capacity cut so that forward FLOPs match MoD's) and 'moe-lowcap' (the same capacity cut without
no-op experts: the paper's control, skipping only by token dropping). Causal decisions at
decode: a token's expert is its own choice (causal as it stands); the capacity cut, non-causal
like MoD's top-k, is learned by a predictor as MoD's is.
"""
import functools
import math
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn as nn
import torch.nn.functional as F


MOD_ROUTINGS = ('mod', 'stochastic', 'mode-staged')  # every other block routed around
EXPERT_ROUTINGS = ('moe', 'mode-staged', 'mode-integrated', 'moe-lowcap')  # MLPs are experts
CAPPED_ROUTINGS = ('mode-integrated', 'moe-lowcap')  # experts' capacity cut to MoD's FLOPs
ROUTINGS = ('dense',) + MOD_ROUTINGS + tuple(r for r in EXPERT_ROUTINGS if r not in MOD_ROUTINGS)
EXPERT_FIELDS = ('n_experts', 'noop_experts', 'expert_capacity', 'balance_weight')


@dataclass
class Config:
    vocab_size: int = 4096
    d_model: int = 256
    n_layer: int = 8
    n_head: int = 4
    mlp_mult: int = 4
    seq_len: int = 512
    routing: str = 'mod'          # one of ROUTINGS
    capacity: float = 0.125       # fraction of the sequence a routed block processes
    router_bce: bool = False      # auxiliary BCE on the router logits (paper's first sampling fix)
    router_bce_weight: float = 0.01
    predictor_hidden: int = 64
    rope_base: float = 10000.0
    norm_eps: float = 1e-5
    n_experts: int = 4            # expert routings: experts per MLP, each the dense MLP's size
    noop_experts: int = 4         # mode-integrated: no-op choices among them
    expert_capacity: float = 0.0  # capped routings: share of the sequence one expert may take (0: MoD's FLOPs)
    balance_weight: float = 0.01  # Switch load-balancing loss over the real experts

    def __post_init__(self):
        if self.routing in CAPPED_ROUTINGS and not self.expert_capacity:
            self.expert_capacity = matched_expert_capacity(self)

    def routed(self, layer: int) -> bool:
        return self.routing in MOD_ROUTINGS and layer % 2 == 1

    @property
    def experts(self) -> int:
        """Real experts per MLP (0: a plain MLP)."""
        return self.n_experts if self.routing in EXPERT_ROUTINGS else 0

    @property
    def noops(self) -> int:
        return self.noop_experts if self.routing == 'mode-integrated' else 0

    def to_dict(self):
        d = asdict(self)
        if not self.experts:  # so a MoD or dense config (checkpoints, manifests) reads as before
            for k in EXPERT_FIELDS:
                del d[k]
        return d


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
        if cfg.experts:
            self.moe = Experts(cfg)
        else:
            self.moe = None
            self.fc1, self.fc2 = mlp_pair(cfg)
        if routed:
            self.router = nn.Linear(cfg.d_model, 1, bias=False)
            self.predictor = predictor(cfg)

    def mlp_out_weights(self):
        """The MLP output projections (scaled down with depth at init)."""
        return [self.fc2.weight] if self.moe is None else [e.fc2.weight for e in self.moe.experts]

    def delta(self, x, pos, mask, route=None):
        """f(x): what the block adds to the residual stream (attention plus MLP), counted once."""
        a = self.attn(self.norm1(x), pos, mask)
        h = self.norm2(x + a)
        return a + (mlp(self.fc1, self.fc2, h) if self.moe is None else self.moe(h, route or Route()))

    def forward_topk(self, x, cfg, route=None):
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
        ys = xs + w * self.delta(xs, sel_idx, causal_mask(k, x.device), route)
        out = x.scatter(1, gidx, ys)
        aux = F.binary_cross_entropy_with_logits(plog, member)
        if cfg.router_bce:
            aux = aux + cfg.router_bce_weight * F.binary_cross_entropy_with_logits(r, member)
        return out, aux, dict(membership_stats(plog, member), sel_idx=sel_idx)

    def forward_predictor(self, x, pos, full, threshold, route=None):
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
        out = torch.where(sel[..., None], x + w * self.delta(x, pos, mask, route), x)
        return out, dict(pred_frac=sel.float().mean().item(), sel=sel, prob=torch.sigmoid(plog))


def mlp_pair(cfg):
    return (nn.Linear(cfg.d_model, cfg.mlp_mult * cfg.d_model, bias=False),
            nn.Linear(cfg.mlp_mult * cfg.d_model, cfg.d_model, bias=False))


def mlp(fc1, fc2, h):
    return fc2(F.silu(fc1(h)))


class Expert(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.fc1, self.fc2 = mlp_pair(cfg)  # named as a block's own MLP (Muon picks both by name)

    def forward(self, h):
        return mlp(self.fc1, self.fc2, h)


def predictor(cfg):
    """The causal predictor of a non-causal selection: a small MLP on one token's vector."""
    return nn.Sequential(nn.Linear(cfg.d_model, cfg.predictor_hidden), nn.SiLU(), nn.Linear(cfg.predictor_hidden, 1))


@torch.no_grad()
def membership_stats(plog, member):
    """The predictor (logit > 0) against the selection it learns: accuracy, precision, recall, share predicted."""
    pred, tgt = plog > 0, member > 0.5
    tp = (pred & tgt).sum().float()
    return dict(acc=(pred == tgt).float().mean().item(), precision=(tp / pred.sum().clamp(min=1)).item(),
                recall=(tp / tgt.sum().clamp(min=1)).item(), pred_frac=pred.float().mean().item())


class Route:
    """What the experts inside a block need to know of the pass (mode 'topk': training routing with
    the capacity cut; 'predictor': causal decisions at `threshold`) and what they hand back:
    auxiliary losses and per-layer stats (MoD blocks add theirs to the same list, in layer order)."""

    def __init__(self, mode='topk', threshold=0.5):
        self.mode, self.threshold, self.layer, self.aux, self.stats = mode, threshold, None, [], []


def expert_tokens(cfg, T):
    """Tokens of a T-token sequence one expert may process under a capacity cut."""
    return max(1, int(cfg.expert_capacity * T))


class Experts(nn.Module):
    """An MLP as `experts` experts of the dense MLP's size, token choice, top-1: a linear gate scores
    every choice (the experts, then the no-op experts of mode-integrated) and each token takes its
    best one, the expert's output scaled by that choice's softmax weight (the gate's gradient path,
    as in Switch). A no-op choice, or a token cut by capacity, gets nothing added (the residual
    only) and costs no expert work. Capped routings keep, per sequence, each expert's top
    expert_tokens by weight among the tokens that chose it; that cut looks at the whole sequence,
    so a predictor (stop-gradient, BCE) learns it, and with mode 'predictor' a token runs its
    expert when its choice is real and sigmoid(predictor) > threshold (< 0: every real choice)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.gate = nn.Linear(cfg.d_model, cfg.experts + cfg.noops, bias=False)
        self.experts = nn.ModuleList(Expert(cfg) for _ in range(cfg.experts))
        self.capped = cfg.routing in CAPPED_ROUTINGS
        if self.capped:
            self.predictor = predictor(cfg)

    def forward(self, h, route):
        B, T, D = h.shape
        E = self.cfg.experts
        p = self.gate(h).float().softmax(-1)                        # [B, T, E + noops]
        w, choice = p.max(-1)
        run = choice < E
        route.aux.append(self.cfg.balance_weight * balance_loss(p[..., :E], choice, E))
        if self.capped:
            plog = self.predictor(h.detach()).squeeze(-1).float()
            if route.mode == 'topk':
                run = self.within_capacity(w, choice, T)
                route.aux.append(F.binary_cross_entropy_with_logits(plog, run.float()))
                st = membership_stats(plog, run)
            else:
                run = run & (torch.sigmoid(plog) > route.threshold)
                st = dict(pred_frac=run.float().mean().item(), prob=torch.sigmoid(plog))
            route.stats.append(dict(layer=route.layer, sel=run, **st))
        hf, out = h.reshape(B * T, D), torch.zeros(B * T, D, dtype=h.dtype, device=h.device)
        for e, expert in enumerate(self.experts):
            idx = (run & (choice == e)).reshape(-1).nonzero().squeeze(1)
            if len(idx):
                y = expert(hf[idx])
                out[idx] = (w.reshape(-1)[idx, None].type_as(y) * y).type_as(out)
        return out.view(B, T, D)

    def within_capacity(self, w, choice, T):
        """[B, T] bool: the tokens each expert keeps (its top expert_tokens by weight among its choosers)."""
        k = min(T, expert_tokens(self.cfg, T))
        kept = torch.zeros_like(choice, dtype=torch.bool)
        for e in range(self.cfg.experts):
            top = torch.where(choice == e, w, -1.0).topk(k, dim=1)
            kept |= torch.zeros_like(kept).scatter(1, top.indices, top.values >= 0)
        return kept


def balance_loss(p_real, choice, E):
    """Switch's load-balancing loss, E * sum_e f_e * P_e (1 when balanced), over the real experts
    only: f_e, the share of the tokens choosing a real expert that choose e, and P_e, e's mean gate
    weight, both normalised over the real experts, so that how often to skip stays the LM's call."""
    f = torch.stack([(choice == e).float().mean() for e in range(E)])
    P = p_real.mean((0, 1))
    return E * (f / f.sum().clamp(min=1e-9) * P / P.sum()).sum()


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
            for w in b.mlp_out_weights():
                nn.init.normal_(w, std=0.02 / math.sqrt(2 * cfg.n_layer))

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
        route = Route(mode, threshold)
        for i, blk in enumerate(self.blocks):
            route.layer = i
            if not blk.routed:
                x = x + blk.delta(x, pos, full, route)
                continue
            if mode == 'topk':
                x, aux_i, st = blk.forward_topk(x, self.cfg, route)
                aux = aux + aux_i
            else:
                x, st = blk.forward_predictor(x, pos, full, threshold, route)
            route.stats.append(dict(layer=i, **st))
        for a in route.aux:
            aux = aux + a
        stats = route.stats
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
    table = {'block_per_token': 2 * (4 * d * d + 2 * cfg.mlp_mult * d * d), 'attention_per_key': 4 * d,
             'lm_head_per_token': 2 * d * cfg.vocab_size,
             'predictor_per_token': 2 * (d * cfg.predictor_hidden + cfg.predictor_hidden), 'router_per_token': 2 * d}
    if cfg.experts:  # a block is attention plus one expert; a capped expert can be skipped on its own
        table.update(mlp_per_token=2 * 2 * cfg.mlp_mult * d * d, gate_per_token=2 * d * (cfg.experts + cfg.noops))
    return table


def forward_flops(cfg: Config, T: int, every_block_on=False, routed_frac=None):
    """Matmul FLOPs of one forward pass over a sequence of T tokens (causal attention counted
    over the keys each query actually sees). routed_frac: fraction of tokens a routed block
    processes (defaults to the capacity); in training the router and the predictor score every
    token. every_block_on: the same weights with routed blocks on every token (their router
    gate still applied), the engine's dense baseline. Capped expert routings: routed_frac is the
    share of tokens run by an expert per layer (default: every expert full to capacity, the bound
    training allocates); every_block_on counts every token's expert (no capacity cut)."""
    f = flops_table(cfg)
    gate = f.get('gate_per_token', 0)

    def block(n, mlp_n=None):
        """n tokens through attention among themselves (causal: n(n+1)/2 pairs) and the experts'
        gate; mlp_n of them (default all) through the MLP or one expert."""
        skipped = 0 if mlp_n is None else (n - mlp_n) * f['mlp_per_token']
        return n * (f['block_per_token'] + gate) - skipped + f['attention_per_key'] * n * (n + 1) / 2

    total = T * f['lm_head_per_token']
    for i in range(cfg.n_layer):
        if cfg.routing in CAPPED_ROUTINGS:
            if every_block_on:
                n = T
            elif routed_frac is None:
                n = min(T, cfg.experts * expert_tokens(cfg, T))
            else:
                n = int(routed_frac * T)
            total += block(T, n) + T * f['predictor_per_token']
        elif not cfg.routed(i):
            total += block(T)
        elif every_block_on:
            total += block(T) + T * f['router_per_token']
        else:
            n = int((cfg.capacity if routed_frac is None else routed_frac) * T)
            total += block(n) + T * (f['router_per_token'] + f['predictor_per_token'])
    return total


def matched_expert_capacity(cfg: Config):
    """The capacity (share of the sequence per expert) at which a capped routing's forward FLOPs at
    seq_len match MoD's on the same shape: MoD's FLOPs less what every token spends anyway
    (attention, gate, predictor, head), spread over the experts. expert_tokens rounds it down to
    whole tokens, as MoD's capacity is, so FLOPs land at most one token per expert and layer below."""
    T = cfg.seq_len
    spare = forward_flops(replace(cfg, routing='mod'), T) - forward_flops(cfg, T, routed_frac=0.0)
    return spare / (cfg.n_layer * flops_table(cfg)['mlp_per_token'] * cfg.experts * T)
