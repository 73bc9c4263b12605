"""Train a MoD (or dense / stochastic-routing) code model on the token shards.

Runs on the CPU (bf16 autocast, 2 threads) and on CUDA with the same code; several GPUs via
`torchrun --nproc_per_node N training/train.py ...` (DDP). Budgets: --max-steps, --minutes or
--flops (training FLOPs); the learning-rate schedule follows whichever budget is nearest done,
so runs stopped by time or FLOPs still finish their cosine decay. Checkpoints: <out>/ckpt.pt.

  /usr/bin/python3 training/train.py --out training/runs/mod --minutes 90
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.distributed as dist

from model import Config, MoDModel, forward_flops

LN2 = math.log(2)


def parse():
    p = argparse.ArgumentParser()
    p.add_argument('--data', default='data/tokens')
    p.add_argument('--out', required=True)
    p.add_argument('--routing', default='mod', choices=['mod', 'dense', 'stochastic'])
    p.add_argument('--router-bce', action='store_true')
    p.add_argument('--capacity', type=float, default=0.125)
    p.add_argument('--d-model', type=int, default=256)
    p.add_argument('--n-layer', type=int, default=8)
    p.add_argument('--n-head', type=int, default=4)
    p.add_argument('--seq-len', type=int, default=512)
    p.add_argument('--batch', type=int, default=16, help='sequences per step (per process)')
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--warmup', type=int, default=100)
    p.add_argument('--max-steps', type=int, default=0)
    p.add_argument('--minutes', type=float, default=0)
    p.add_argument('--flops', type=float, default=0, help='training FLOP budget (3x forward)')
    p.add_argument('--eval-every', type=int, default=200)
    p.add_argument('--eval-tokens', type=int, default=32768)
    p.add_argument('--final-eval-tokens', type=int, default=262144)
    p.add_argument('--ckpt-minutes', type=float, default=10)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--resume', action='store_true')
    return p.parse_args()


class Shard:
    def __init__(self, path):
        self.tokens = np.memmap(path, dtype=np.uint16, mode='r')

    def batch(self, rng, B, T, device):
        starts = rng.integers(0, len(self.tokens) - T - 1, size=B)
        x = np.stack([self.tokens[s:s + T + 1].astype(np.int64) for s in starts])
        x = torch.from_numpy(x).to(device)
        return x[:, :-1], x[:, 1:]


def autocast(device):
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def train_step(model, opt, x, y, device):
    """One optimizer step (bf16 autocast, clipped gradients); steptime.py times exactly this."""
    with autocast(device):
        _, loss, aux, stats = model(x, y)
    (loss + aux).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    if device.type == 'cuda':
        torch.cuda.synchronize()
    return loss, aux, stats


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
                 seq_len=a.seq_len, routing=a.routing, capacity=a.capacity, router_bce=a.router_bce)
    model = MoDModel(cfg).to(device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.1}, {'params': no_decay, 'weight_decay': 0.0}],
                            lr=a.lr, betas=(0.9, 0.95))
    ckpt_path = os.path.join(a.out, 'ckpt.pt')
    state = {'step': 0, 'elapsed': 0.0, 'tokens': 0, 'train_flops': 0.0}
    if a.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location=device)
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['opt'])
        state = ck['state']
    raw = model
    if ddp:
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == 'cuda' else None)

    train = Shard(os.path.join(a.data, 'train.bin'))
    val = Shard(os.path.join(a.data, 'val.bin'))
    bpt = meta['val']['bytes'] / meta['val']['tokens']
    rng = np.random.default_rng(a.seed * 1000 + rank + state['step'])
    T, B = a.seq_len, a.batch
    step_flops = 3 * forward_flops(cfg, T) * B * world
    n_params = sum(p.numel() for p in raw.parameters())
    log = open(os.path.join(a.out, 'log.jsonl'), 'a') if master else None
    if master:
        print(f'params {n_params/1e6:.2f}M, forward FLOPs/token {forward_flops(cfg, T)/T/1e6:.2f}M '
              f'(every block on {forward_flops(cfg, T, every_block_on=True)/T/1e6:.2f}M), device {device}', flush=True)
        json.dump({'config': cfg.to_dict(), 'args': vars(a), 'params': n_params}, open(os.path.join(a.out, 'config.json'), 'w'), indent=1)

    def progress():
        fr = []
        if a.max_steps:
            fr.append(state['step'] / a.max_steps)
        if a.minutes:
            fr.append(state['elapsed'] / (a.minutes * 60))
        if a.flops:
            fr.append(state['train_flops'] / a.flops)
        return max(fr) if fr else 1.0

    def lr_at():
        if state['step'] < a.warmup:
            return a.lr * (state['step'] + 1) / a.warmup
        return a.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress()))))

    def save():
        if master:
            torch.save({'model': raw.state_dict(), 'opt': opt.state_dict(), 'state': state, 'config': cfg.to_dict()}, ckpt_path + '.tmp')
            os.replace(ckpt_path + '.tmp', ckpt_path)

    last_ckpt = time.time()
    t_log, tok_log = time.time(), 0
    while progress() < 1.0:
        t0 = time.time()
        for g in opt.param_groups:
            g['lr'] = lr_at()
        x, y = train.batch(rng, B, T, device)
        loss, aux, stats = train_step(model, opt, x, y, device)
        state['step'] += 1
        state['elapsed'] += time.time() - t0
        state['tokens'] += B * T * world
        state['train_flops'] += step_flops
        tok_log += B * T * world
        if master and (state['step'] % 20 == 0 or state['step'] == 1):
            now = time.time()
            rec = {'step': state['step'], 'loss': loss.item(), 'aux': aux.item(), 'lr': lr_at(),
                   'tok_s': tok_log / (now - t_log), 'elapsed': state['elapsed'], 'tokens': state['tokens'],
                   'train_flops': state['train_flops']}
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
                   'train_flops': state['train_flops'], 'params': n_params,
                   'forward_flops_per_token': forward_flops(cfg, T) / T,
                   'forward_flops_per_token_every_block_on': forward_flops(cfg, T, every_block_on=True) / T}
        log.write(json.dumps(summary) + '\n')
        json.dump(summary, open(os.path.join(a.out, 'summary.json'), 'w'), indent=1)
        print(json.dumps(summary), flush=True)
    if ddp:
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
