"""Train a MoD (or dense / stochastic-routing / expert: MoE, MoDE) code model on the token shards.

Runs on the CPU (bf16 autocast, 2 threads) and on CUDA with the same code; several GPUs via
`torchrun --nproc_per_node N training/train.py ...` (DDP). Budgets count this run only:
--max-steps, --tokens, --minutes or --flops (training FLOPs); the schedule follows whichever is
nearest done. Schedules: cosine to 10%, or WSD (warm-up, constant, then a 1-sqrt decay to zero
over the last --decay-frac of the budget; --decay-frac 0 stays constant, which is what the
long run that continues from session to session uses, and --decay-frac 1 on an --init run is
a decay branch). Optimizers: AdamW for everything, or Muon for the blocks' hidden matrices with
AdamW for embeddings, norms, routers and predictors.

Checkpoints (--ckpt, default <out>/ckpt.pt) hold weights, optimizer state, counters (tokens seen,
steps) and the data sampler's position; --resume continues from --ckpt, --init starts a new run
(a decay branch, say) from another checkpoint without touching it.

  /usr/bin/python3 training/train.py --out training/runs/mod --minutes 90
  /usr/bin/python3 training/train.py --out training/runs/long --ckpt training/checkpoints/mod-d256-l8.pt --resume \
      --opt muon --schedule wsd --decay-frac 0 --router-bce --minutes 120
"""
import argparse
import json
import math
import os
import signal
import time

import numpy as np
import torch
import torch.distributed as dist

from model import ROUTINGS, Config, MoDModel, forward_flops

LN2 = math.log(2)


def parse():
    p = argparse.ArgumentParser()
    p.add_argument('--data', default='data/tokens')
    p.add_argument('--out', required=True)
    p.add_argument('--routing', default='mod', choices=ROUTINGS)
    p.add_argument('--router-bce', action='store_true')
    p.add_argument('--capacity', type=float, default=0.125)
    p.add_argument('--experts', type=int, default=4, help='expert routings: experts per MLP')
    p.add_argument('--noop-experts', type=int, default=4, help='mode-integrated: no-op experts')
    p.add_argument('--expert-capacity', type=float, default=0.0, help='moe-lowcap, mode-integrated: share of the sequence per expert (0: MoD\'s FLOPs)')
    p.add_argument('--d-model', type=int, default=256)
    p.add_argument('--n-layer', type=int, default=8)
    p.add_argument('--n-head', type=int, default=4)
    p.add_argument('--seq-len', type=int, default=512)
    p.add_argument('--batch', type=int, default=16, help='sequences per step (per process)')
    p.add_argument('--lr', type=float, default=2e-3, help='AdamW learning rate')
    p.add_argument('--opt', default='adamw', choices=['adamw', 'muon'])
    p.add_argument('--muon-lr', type=float, default=0.02)
    p.add_argument('--schedule', default='cosine', choices=['cosine', 'wsd'])
    p.add_argument('--decay-frac', type=float, default=0.2, help='WSD: share of the budget spent decaying')
    p.add_argument('--warmup', type=int, default=100, help='steps, counted from a fresh optimizer')
    p.add_argument('--max-steps', type=int, default=0)
    p.add_argument('--tokens', type=float, default=0)
    p.add_argument('--minutes', type=float, default=0)
    p.add_argument('--flops', type=float, default=0, help='training FLOP budget (3x forward)')
    p.add_argument('--eval-every', type=int, default=200)
    p.add_argument('--eval-tokens', type=int, default=32768)
    p.add_argument('--final-eval-tokens', type=int, default=262144)
    p.add_argument('--ckpt-minutes', type=float, default=10)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--ckpt', default='', help='checkpoint path (default <out>/ckpt.pt)')
    p.add_argument('--resume', action='store_true', help='continue from --ckpt when it exists')
    p.add_argument('--init', default='', help='start from this checkpoint (weights, optimizer, counters); it is not written')
    p.add_argument('--compact', action='store_true', help='store checkpoint tensors in bf16 (half the size)')
    return p.parse_args()


class Shard:
    def __init__(self, path):
        self.tokens = np.memmap(path, dtype=np.uint16, mode='r')

    def batch(self, rng, B, T, device):
        starts = rng.integers(0, len(self.tokens) - T - 1, size=B)
        x = np.stack([self.tokens[s:s + T + 1].astype(np.int64) for s in starts])
        x = torch.from_numpy(x).to(device)
        return x[:, :-1], x[:, 1:]


def zeropower(G, steps=5):
    """Nearest semi-orthogonal matrix to each G[..., m, n] by a quintic Newton-Schulz iteration
    (bf16, as Muon does): the singular values are pushed into roughly [0.7, 1.2], which is all
    Muon needs, in five steps."""
    a, b, c = 3.4445, -4.7750, 2.0315
    X = G.bfloat16()
    tall = X.shape[-2] > X.shape[-1]
    if tall:
        X = X.transpose(-1, -2)
    X = X / (X.norm(dim=(-2, -1), keepdim=True) + 1e-7)
    for _ in range(steps):
        A = X @ X.transpose(-1, -2)
        X = a * X + (b * A + c * A @ A) @ X
    return X.transpose(-1, -2) if tall else X


class Muon(torch.optim.Optimizer):
    """Momentum (Nesterov) whose update is orthogonalized per weight matrix, scaled so that tall
    and wide matrices move alike. `split` lists how many equal row blocks a weight holds (the
    fused q/k/v projection is three matrices, each orthogonalized on its own)."""

    def __init__(self, params, lr=0.02, momentum=0.95, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, split=1))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is None:
                    continue
                st = self.state[p]
                if 'momentum' not in st:
                    st['momentum'] = torch.zeros_like(p)
                buf = st['momentum']
                buf.mul_(group['momentum']).add_(p.grad)
                g = p.grad.add(buf, alpha=group['momentum'])
                n = group['split']
                g = g.view(n, p.shape[0] // n, p.shape[1])
                u = zeropower(g).view_as(p).type_as(p)
                rows, cols = g.shape[-2:]
                p.mul_(1 - group['lr'] * group['weight_decay'])
                p.add_(u, alpha=-group['lr'] * max(1.0, rows / cols) ** 0.5)


def make_optimizers(model, a):
    """AdamW alone, or Muon for the blocks' 2-D hidden matrices plus AdamW for the rest (tied
    embedding / LM head, norms, routers, predictors)."""
    hidden = {}
    if a.opt == 'muon':
        for name, p in model.named_parameters():
            if name.startswith('blocks.') and p.dim() == 2 and any(k in name for k in ('.qkv.', '.proj.', '.fc1.', '.fc2.')):
                hidden[name] = p
    rest = [(n, p) for n, p in model.named_parameters() if n not in hidden]
    decay = [p for n, p in rest if p.dim() >= 2]
    no_decay = [p for n, p in rest if p.dim() < 2]
    opts = [torch.optim.AdamW([{'params': decay, 'weight_decay': 0.1}, {'params': no_decay, 'weight_decay': 0.0}],
                              lr=a.lr, betas=(0.9, 0.95))]
    if hidden:
        qkv = [p for n, p in hidden.items() if '.qkv.' in n]
        other = [p for n, p in hidden.items() if '.qkv.' not in n]
        opts.append(Muon([{'params': qkv, 'split': 3}, {'params': other}], lr=a.muon_lr, weight_decay=0.01))
    for o in opts:
        for g in o.param_groups:
            g['peak_lr'] = g['lr']
    return opts


def autocast(device):
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def train_step(model, opts, x, y, device):
    """One optimizer step (bf16 autocast, clipped gradients); steptime.py times exactly this."""
    with autocast(device):
        _, loss, aux, stats = model(x, y)
    (loss + aux).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    for opt in opts:
        opt.step()
        opt.zero_grad(set_to_none=True)
    if device.type == 'cuda':
        torch.cuda.synchronize()
    return loss, aux, stats


def lr_factor(step, warmup, progress, schedule, decay_frac):
    """Multiplier of the peak learning rate. step: optimizer steps so far; progress: share of this
    run's budget done (0..1)."""
    if step < warmup:
        return (step + 1) / warmup
    if schedule == 'cosine':
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    if decay_frac <= 0 or progress < 1 - decay_frac:
        return 1.0
    return max(0.0, 1 - math.sqrt(min(1.0, (progress - (1 - decay_frac)) / decay_frac)))


def map_tensors(obj, fn):
    """`obj` (nested dicts, lists, tuples) with fn applied to every tensor."""
    if isinstance(obj, dict):
        return {k: map_tensors(v, fn) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(map_tensors(v, fn) for v in obj)
    return fn(obj) if torch.is_tensor(obj) else obj


def pack(sd, compact):
    """State dict for torch.save; compact stores floating tensors as bf16 (loaded back as fp32)."""
    return map_tensors(sd, lambda t: t.bfloat16() if compact and t.is_floating_point() else t)


def unpack(sd):
    return map_tensors(sd, lambda t: t.float() if t.dtype == torch.bfloat16 else t)


def load_checkpoint(path, device='cpu'):
    """A checkpoint written by save(), floating tensors back in fp32 (compact ones are stored bf16)."""
    return unpack(torch.load(path, map_location=device))


@torch.no_grad()
def evaluate(model, shard, bytes_per_token, T, n_tokens, device, batch=8):
    """Validation bits per byte with training routing (top-k) and with inference routing (predictor),
    plus predictor accuracy/precision/recall against top-k and the fraction it routes."""
    model.eval()
    rng = np.random.default_rng(1234)  # same windows every time
    n_seq = max(1, n_tokens // T)
    tot = {'topk': 0.0, 'predictor': 0.0}
    stats_acc = []
    frac_pred = []
    done = 0
    while done < n_seq:
        b = min(batch, n_seq - done)
        x, y = shard.batch(rng, b, T, device)
        with autocast(device):
            for mode in tot:
                _, loss, _, stats = model(x, y, mode=mode)
                tot[mode] += loss.item() * b
                if mode == 'topk':
                    stats_acc += stats
                else:
                    frac_pred += [s['pred_frac'] for s in stats]
        done += b
    model.train()
    out = {f'val_bpb_{m}': v / n_seq / LN2 / bytes_per_token for m, v in tot.items()}
    out['val_loss'] = tot['topk'] / n_seq
    if stats_acc:
        for key in ('acc', 'precision', 'recall'):
            out[f'pred_{key}'] = float(np.mean([s[key] for s in stats_acc]))
        out['pred_routed_frac'] = float(np.mean(frac_pred))
        layers = sorted({s['layer'] for s in stats_acc})
        out['pred_routed_frac_by_layer'] = {
            l: float(np.mean([s['pred_frac'] for s in stats_acc if s['layer'] == l])) for l in layers}
    return out


def main():
    a = parse()
    ddp = 'WORLD_SIZE' in os.environ
    if ddp:
        dist.init_process_group('nccl' if torch.cuda.is_available() else 'gloo')
        rank, world = dist.get_rank(), dist.get_world_size()
    else:
        rank, world = 0, 1
    if torch.cuda.is_available():
        device = torch.device('cuda', int(os.environ.get('LOCAL_RANK', 0)))
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = True
    else:
        device = torch.device('cpu')
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed + rank)
    master = rank == 0
    os.makedirs(a.out, exist_ok=True)

    meta = json.load(open(os.path.join(a.data, 'meta.json')))
    cfg = Config(vocab_size=meta['vocabSize'], d_model=a.d_model, n_layer=a.n_layer, n_head=a.n_head,
                 seq_len=a.seq_len, routing=a.routing, capacity=a.capacity, router_bce=a.router_bce,
                 n_experts=a.experts, noop_experts=a.noop_experts, expert_capacity=a.expert_capacity)
    model = MoDModel(cfg).to(device)
    opts = make_optimizers(model, a)
    ckpt_path = a.ckpt or os.path.join(a.out, 'ckpt.pt')
    # Totals over the weights' whole life (they travel with the checkpoint); `run` counts this run.
    state = {'step': 0, 'opt_step': 0, 'elapsed': 0.0, 'tokens': 0, 'train_flops': 0.0}
    run = {'step': 0, 'elapsed': 0.0, 'tokens': 0, 'train_flops': 0.0}
    rng = np.random.default_rng(a.seed * 1000 + rank)
    src = ckpt_path if a.resume and os.path.exists(ckpt_path) else a.init
    if src:
        ck = load_checkpoint(src, device)
        model.load_state_dict(ck['model'])
        state.update(ck['state'])
        kinds = [type(o).__name__ for o in opts]
        if ck.get('opt_kinds') == kinds:
            for o, sd in zip(opts, ck['opts']):
                o.load_state_dict(sd)
                for g in o.param_groups:  # the peak comes from this run's arguments
                    g['peak_lr'] = a.muon_lr if isinstance(o, Muon) else a.lr
        else:  # e.g. AdamW weights continued with Muon: fresh optimizer state, fresh warm-up
            print(f'optimizer state of {src} ({ck.get("opt_kinds")}) does not fit {kinds}: starting it fresh', flush=True)
            state['opt_step'] = 0
        if 'rng' in ck and rank == 0:
            rng.bit_generator.state = ck['rng']
        print(f'loaded {src}: {state["tokens"]/1e6:.2f}M tokens seen, step {state["step"]}', flush=True)
    raw = model
    if ddp:
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == 'cuda' else None)

    train = Shard(os.path.join(a.data, 'train.bin'))
    val = Shard(os.path.join(a.data, 'val.bin'))
    bpt = meta['val']['bytes'] / meta['val']['tokens']
    T, B = a.seq_len, a.batch
    step_flops = 3 * forward_flops(cfg, T) * B * world
    n_params = sum(p.numel() for p in raw.parameters())
    log = open(os.path.join(a.out, 'log.jsonl'), 'a') if master else None
    if master:
        print(f'params {n_params/1e6:.2f}M, forward FLOPs/token {forward_flops(cfg, T)/T/1e6:.2f}M '
              f'(every block on {forward_flops(cfg, T, every_block_on=True)/T/1e6:.2f}M), device {device}', flush=True)
        json.dump({'config': cfg.to_dict(), 'args': vars(a), 'params': n_params, 'start': dict(state)},
                  open(os.path.join(a.out, 'config.json'), 'w'), indent=1)

    def progress():
        fr = []
        if a.max_steps:
            fr.append(run['step'] / a.max_steps)
        if a.tokens:
            fr.append(run['tokens'] / a.tokens)
        if a.minutes:
            fr.append(run['elapsed'] / (a.minutes * 60))
        if a.flops:
            fr.append(run['train_flops'] / a.flops)
        return max(fr) if fr else 1.0

    def set_lr():
        f = lr_factor(state['opt_step'], a.warmup, progress(), a.schedule, a.decay_frac)
        for o in opts:
            for g in o.param_groups:
                g['lr'] = g['peak_lr'] * f
        return a.lr * f

    def save():
        if master:
            ck = {'model': raw.state_dict(), 'opts': [o.state_dict() for o in opts], 'opt_kinds': [type(o).__name__ for o in opts],
                  'state': state, 'rng': rng.bit_generator.state, 'config': cfg.to_dict()}
            os.makedirs(os.path.dirname(os.path.abspath(ckpt_path)), exist_ok=True)
            torch.save(pack(ck, a.compact), ckpt_path + '.tmp')
            os.replace(ckpt_path + '.tmp', ckpt_path)

    # SIGTERM / SIGINT end the run after the current step with a checkpoint (how a session stops
    # the long run without losing the minutes since the last periodic save).
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(True))
    last_ckpt = time.time()
    t_log, tok_log = time.time(), 0
    recent = []
    while progress() < 1.0 and not stop:
        t0 = time.time()
        lr = set_lr()
        x, y = train.batch(rng, B, T, device)
        loss, aux, stats = train_step(model, opts, x, y, device)
        dt = time.time() - t0
        # A step far slower than the recent ones was a stopped process (SIGSTOP while another job
        # had the cores), not training: count it at the recent median so budgets and reported
        # training time stay honest.
        recent.append(dt)
        del recent[:-50]
        dt = min(dt, 20 * sorted(recent)[len(recent) // 2])
        for c in (state, run):
            c['step'] += 1
            c['elapsed'] += dt
            c['tokens'] += B * T * world
            c['train_flops'] += step_flops
        state['opt_step'] += 1
        tok_log += B * T * world
        if master and (state['step'] % 20 == 0 or run['step'] == 1):
            now = time.time()
            rec = {'step': state['step'], 'loss': loss.item(), 'aux': aux.item(), 'lr': lr,
                   'tok_s': tok_log / (now - t_log), 'elapsed': state['elapsed'], 'tokens': state['tokens'],
                   'train_flops': state['train_flops'], 'run_tokens': run['tokens']}
            if stats:
                rec['pred_acc'] = float(np.mean([s['acc'] for s in stats]))
            t_log, tok_log = now, 0
            log.write(json.dumps(rec) + '\n')
            log.flush()
            print(json.dumps(rec), flush=True)
        if master and state['step'] % a.eval_every == 0:
            ev = evaluate(raw, val, bpt, T, a.eval_tokens, device)
            rec = {'step': state['step'], 'eval': ev, 'elapsed': state['elapsed'], 'tokens': state['tokens'], 'train_flops': state['train_flops']}
            log.write(json.dumps(rec) + '\n')
            log.flush()
            print(json.dumps(rec), flush=True)
        if time.time() - last_ckpt > a.ckpt_minutes * 60:
            save()
            last_ckpt = time.time()
    save()
    if master:
        ev = evaluate(raw, val, bpt, T, a.final_eval_tokens, device)
        summary = {'final': ev, 'step': state['step'], 'tokens': state['tokens'], 'elapsed': state['elapsed'],
                   'train_flops': state['train_flops'], 'run': run, 'params': n_params,
                   'forward_flops_per_token': forward_flops(cfg, T) / T,
                   'forward_flops_per_token_every_block_on': forward_flops(cfg, T, every_block_on=True) / T}
        log.write(json.dumps(summary) + '\n')
        json.dump(summary, open(os.path.join(a.out, 'summary.json'), 'w'), indent=1)
        print(json.dumps(summary), flush=True)
    if ddp:
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
