"""Export a trained checkpoint to one ONNX graph that serves prefill and token-by-token decoding.

The graph is written op by op (not traced) so that routed blocks really skip: each routed block
sits behind an `If` that runs it only when the causal predictor selects at least one of the new
tokens, and then only on those tokens. Shapes are chosen for onnxruntime-node, whose inputs are
zero-copy and whose outputs are copied:

inputs   input_ids [T] int64, positions [T] int64, threshold [1] float (predictor probability;
         < 0 runs every block), logit_rows [R] int64 (rows whose logits to return),
         dense_mask [Cd] float, and per block past_k_i / past_v_i [H, C_i, hd] (preallocated
         buffers, valid rows first) plus, for routed blocks, past_mask_i [C_i] (0 valid, -inf not).
outputs  logits [R, V], per block new_k_i / new_v_i [H, n_i, hd] (only the rows this call adds:
         every token for a dense block, the selected ones for a routed block), and per routed
         block route_prob_i [T] (predictor probability; the block ran for tokens above threshold).

  /usr/bin/python3 training/export.py --ckpt training/runs/x/ckpt.pt --out models/x [--quantize 4] [--float 0]
"""
import argparse
import hashlib
import json
import math
import os

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from model import Config, flops_table
from train import load_checkpoint

F32 = TensorProto.FLOAT
I64 = TensorProto.INT64
# The graph's input/output names, shared with the engine (src/engine/graph-io.json).
GRAPH_IO = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'engine', 'graph-io.json')))
IN, LOGITS = GRAPH_IO['inputs'], GRAPH_IO['outputs']['logits']


def block_io(kind, i):
    return GRAPH_IO['perBlock'][kind] + str(i)


class Graph:
    """Tiny builder: unique names across nested If branches, initializers shared by all."""

    def __init__(self):
        self.inits = []
        self.stack = [[]]
        self.n = 0
        self.consts = {}

    def fresh(self, base):
        self.n += 1
        return f'{base}_{self.n}'

    def op(self, op_type, inputs, n_out=1, name=None, domain=None, **attrs):
        outs = [self.fresh(op_type.lower()) for _ in range(n_out)] if name is None else ([name] if isinstance(name, str) else name)
        node = helper.make_node(op_type, inputs, outs, name=self.fresh('n_' + op_type), **attrs)
        if domain:
            node.domain = domain
        self.stack[-1].append(node)
        return outs[0] if n_out == 1 else outs

    def init(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def const(self, values, dtype=np.int64):
        key = (tuple(np.asarray(values).ravel().tolist()), np.asarray(values).shape, np.dtype(dtype).str)
        if key not in self.consts:
            self.consts[key] = self.init(self.fresh('c'), np.asarray(values, dtype=dtype))
        return self.consts[key]

    def subgraph(self, build, outputs_name):
        self.stack.append([])
        outs = build()
        nodes = self.stack.pop()
        vis = [helper.make_tensor_value_info(o, F32, None) for o in outs]
        return helper.make_graph(nodes, self.fresh(outputs_name), [], vis)


class Linear:
    """MatMul against a weight given as [out, in] (torch layout); 4-bit MatMulNBits when quantized."""

    def __init__(self, g, bits, block, accuracy_level):
        self.g, self.bits, self.block, self.level = g, bits, block, accuracy_level

    def __call__(self, x, w, name, quantize=True):
        w = np.asarray(w, dtype=np.float32)
        if not (self.bits and quantize):
            return self.g.op('MatMul', [x, self.g.init(name, w.T)])
        packed, scales, zps = quantize_4bit(w, self.block)
        n, k = w.shape
        ins = [x, self.g.init(name + '_q4', packed), self.g.init(name + '_scales', scales), self.g.init(name + '_zp', zps)]
        return self.g.op('MatMulNBits', ins, domain='com.microsoft', K=k, N=n, bits=4, block_size=self.block,
                         accuracy_level=self.level)


def quantize_4bit(w, block):
    """Asymmetric 4-bit, per block of `block` input values of each output row, in MatMulNBits
    layout: B uint8 [N, K/block, block/2] (low nibble first), scales [N*K/block], zero points packed."""
    n, k = w.shape
    assert k % block == 0, (k, block)
    nb = k // block
    wb = w.reshape(n, nb, block)
    lo, hi = wb.min(-1), wb.max(-1)
    scale = np.maximum((hi - lo) / 15.0, 1e-8)
    zp = np.clip(np.round(-lo / scale), 0, 15)
    q = np.clip(np.round(wb / scale[..., None] + zp[..., None]), 0, 15).astype(np.uint8)
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    zpf = zp.astype(np.uint8).reshape(n, nb)
    if nb % 2:
        zpf = np.concatenate([zpf, np.zeros((n, 1), np.uint8)], 1)
    zpp = (zpf[:, 0::2] | (zpf[:, 1::2] << 4)).astype(np.uint8).reshape(-1)
    return packed, scale.astype(np.float32).reshape(-1), zpp


def dequantize_4bit(packed, scales, zpp, n, k, block):
    nb = k // block
    q = np.empty((n, nb, block), np.float32)
    q[..., 0::2] = packed & 15
    q[..., 1::2] = packed >> 4
    zp = np.stack([zpp & 15, zpp >> 4], -1).reshape(n, -1)[:, :nb].astype(np.float32)
    return ((q - zp[..., None]) * scales.reshape(n, nb)[..., None]).reshape(n, k)


def build(cfg: Config, sd, bits=0, block=32, accuracy_level=0, plain_dense=False):
    """plain_dense: the same weights with every block on every token and nothing of the routing
    machinery (no predictor, If, NonZero, Gather or ScatterND; routed blocks keep their router
    gate, so the output equals the routed graph at threshold < 0): the fair speed baseline."""
    g = Graph()
    lin = Linear(g, bits, block, accuracy_level)
    d, H = cfg.d_model, cfg.n_head
    hd = d // H
    W = {k: v.float().numpy() for k, v in sd.items()}
    inputs = [
        helper.make_tensor_value_info(IN['ids'], I64, ['T']),
        helper.make_tensor_value_info(IN['positions'], I64, ['T']),
        helper.make_tensor_value_info(IN['threshold'], F32, [1]),
        helper.make_tensor_value_info(IN['logitRows'], I64, ['R']),
        helper.make_tensor_value_info(IN['denseMask'], F32, ['Cd']),
    ]
    outputs = [helper.make_tensor_value_info(LOGITS, F32, ['R', cfg.vocab_size])]

    # Shared per call: embeddings, RoPE tables at the tokens' positions, causal mask among new tokens.
    x = g.op('Gather', [g.init('embed', W['embed.weight']), IN['ids']], axis=0)
    inv = (cfg.rope_base ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)).astype(np.float32)[None]
    ang = g.op('Mul', [g.op('Unsqueeze', [g.op('Cast', [IN['positions']], to=F32), g.const([1])]), g.init('rope_inv_freq', inv)])
    cos = g.op('Unsqueeze', [g.op('Concat', [g.op('Cos', [ang])] * 2, axis=-1), g.const([1])])  # [T, 1, hd]
    sin = g.op('Unsqueeze', [g.op('Concat', [g.op('Sin', [ang])] * 2, axis=-1), g.const([1])])
    rot = np.zeros((hd, hd), np.float32)  # x @ rot == cat(-x2, x1): RoPE's rotate-half as one MatMul
    for j in range(hd // 2):
        rot[j + hd // 2, j] = -1.0
        rot[j, j + hd // 2] = 1.0
    rot = g.init('rope_rotate_half', rot)
    T = g.op('Shape', [IN['ids']])
    ar = g.op('Range', [g.const(0), g.op('Squeeze', [T, g.const([0])]), g.const(1)])
    tri_b = g.op('LessOrEqual', [g.op('Unsqueeze', [ar, g.const([0])]), g.op('Unsqueeze', [ar, g.const([1])])])
    tri = g.op('Where', [tri_b, g.const(0.0, np.float32), g.const(-np.inf, np.float32)])  # [T, T] additive

    def block(i, xb, cosb, sinb, trib, past_k, past_v, past_mask):
        """One transformer block on the rows xb [n, d]; returns (delta, new_k, new_v)."""
        p = f'blocks.{i}.'
        h = g.op('SimplifiedLayerNormalization', [xb, g.init(p + 'norm1', W[p + 'norm1.weight'])], axis=-1, epsilon=cfg.norm_eps, stash_type=1)
        wqkv = W[p + 'attn.qkv.weight'].copy()
        wqkv[:d] *= 1.0 / math.sqrt(hd)  # attention scale folded into the query projection
        qkv = g.op('Reshape', [lin(h, wqkv, p + 'qkv'), g.const([-1, 3 * H, hd])])
        qk = g.op('Slice', [qkv, g.const([0]), g.const([2 * H]), g.const([1])])
        v = g.op('Slice', [qkv, g.const([2 * H]), g.const([3 * H]), g.const([1])])
        qk = g.op('Add', [g.op('Mul', [qk, cosb]), g.op('Mul', [g.op('MatMul', [qk, rot]), sinb])])
        q = g.op('Transpose', [g.op('Slice', [qk, g.const([0]), g.const([H]), g.const([1])])], perm=[1, 0, 2])
        new_k = g.op('Transpose', [g.op('Slice', [qk, g.const([H]), g.const([2 * H]), g.const([1])])], perm=[1, 0, 2])
        new_v = g.op('Transpose', [v], perm=[1, 0, 2])
        # Scores against the cache buffer (invalid rows masked) and against the new rows (causal).
        s_past = g.op('Add', [g.op('MatMul', [q, g.op('Transpose', [past_k], perm=[0, 2, 1])]), past_mask])
        s_new = g.op('Add', [g.op('MatMul', [q, g.op('Transpose', [new_k], perm=[0, 2, 1])]), trib])
        probs = g.op('Softmax', [g.op('Concat', [s_past, s_new], axis=-1)], axis=-1)
        cap = g.op('Shape', [past_mask])
        p_past = g.op('Slice', [probs, g.const([0]), cap, g.const([-1])])
        p_new = g.op('Slice', [probs, cap, g.const([2 ** 62]), g.const([-1])])
        att = g.op('Add', [g.op('MatMul', [p_past, past_v]), g.op('MatMul', [p_new, new_v])])
        att = g.op('Reshape', [g.op('Transpose', [att], perm=[1, 0, 2]), g.const([-1, d])])
        a = lin(att, W[p + 'attn.proj.weight'], p + 'proj')
        h2 = g.op('SimplifiedLayerNormalization', [g.op('Add', [xb, a]), g.init(p + 'norm2', W[p + 'norm2.weight'])], axis=-1, epsilon=cfg.norm_eps, stash_type=1)
        u = lin(h2, W[p + 'fc1.weight'], p + 'fc1')
        m = lin(g.op('Mul', [u, g.op('Sigmoid', [u])]), W[p + 'fc2.weight'], p + 'fc2')
        return g.op('Add', [a, m]), new_k, new_v

    for i in range(cfg.n_layer):
        p = f'blocks.{i}.'
        past_k, past_v = block_io('pastK', i), block_io('pastV', i)
        routed = cfg.routed(i) and not plain_dense
        mask = block_io('pastMask', i) if routed else IN['denseMask']
        inputs += [helper.make_tensor_value_info(past_k, F32, [H, f'C{i}', hd]),
                   helper.make_tensor_value_info(past_v, F32, [H, f'C{i}', hd])]
        if routed:
            inputs.append(helper.make_tensor_value_info(mask, F32, [f'C{i}']))
        outputs += [helper.make_tensor_value_info(block_io('newK', i), F32, [H, f'n{i}', hd]),
                    helper.make_tensor_value_info(block_io('newV', i), F32, [H, f'n{i}', hd])]
        if not routed:
            delta, nk, nv = block(i, x, cos, sin, tri, past_k, past_v, mask)
            g.op('Identity', [nk], name=block_io('newK', i))
            g.op('Identity', [nv], name=block_io('newV', i))
            if cfg.routed(i):  # plain dense view of a routed block: its router gate on every row
                delta = g.op('Mul', [g.op('Sigmoid', [g.op('MatMul', [x, g.init(p + 'router', W[p + 'router.weight'].T)])]), delta])
            x = g.op('Add', [x, delta])
            continue
        # Causal predictor (float even in quantized models: cheap, and decisions must not flip).
        ph = g.op('Add', [g.op('MatMul', [x, g.init(p + 'pred1', W[p + 'predictor.0.weight'].T)]), g.init(p + 'pred1_b', W[p + 'predictor.0.bias'])])
        ph = g.op('Mul', [ph, g.op('Sigmoid', [ph])])
        plog = g.op('Add', [g.op('MatMul', [ph, g.init(p + 'pred2', W[p + 'predictor.2.weight'].T)]), g.init(p + 'pred2_b', W[p + 'predictor.2.bias'])])
        prob = g.op('Sigmoid', [g.op('Squeeze', [plog, g.const([1])])], name=block_io('routeProb', i))
        outputs.append(helper.make_tensor_value_info(block_io('routeProb', i), F32, ['T']))
        sel = g.op('Greater', [prob, IN['threshold']])
        any_sel = g.op('Greater', [g.op('ReduceMax', [prob], keepdims=0), IN['threshold']])
        x_in = x

        def then_branch(i=i, p=p, x_in=x_in, sel=sel, past_k=past_k, past_v=past_v, mask=mask):
            idx = g.op('Squeeze', [g.op('NonZero', [sel]), g.const([0])])  # [n] selected rows
            xs = g.op('Gather', [x_in, idx], axis=0)
            cs, ss = g.op('Gather', [cos, idx], axis=0), g.op('Gather', [sin, idx], axis=0)
            ts = g.op('Gather', [g.op('Gather', [tri, idx], axis=0), idx], axis=1)
            delta, nk, nv = block(i, xs, cs, ss, ts, past_k, past_v, mask)
            w = g.op('Sigmoid', [g.op('MatMul', [xs, g.init(p + 'router', W[p + 'router.weight'].T)])])
            ys = g.op('Add', [xs, g.op('Mul', [w, delta])])
            return [g.op('ScatterND', [x_in, g.op('Unsqueeze', [idx, g.const([1])]), ys]), nk, nv]

        def else_branch(x_in=x_in):
            empty = g.const(np.zeros((H, 0, hd), np.float32), np.float32)
            return [g.op('Identity', [x_in]), g.op('Identity', [empty]), g.op('Identity', [empty])]

        x, nk, nv = g.op('If', [any_sel], n_out=3, then_branch=g.subgraph(then_branch, f'route_{i}_run'),
                         else_branch=g.subgraph(else_branch, f'route_{i}_skip'))
        g.op('Identity', [nk], name=block_io('newK', i))
        g.op('Identity', [nv], name=block_io('newV', i))

    hs = g.op('Gather', [x, IN['logitRows']], axis=0)
    hs = g.op('SimplifiedLayerNormalization', [hs, g.init('norm_f', W['norm.weight'])], axis=-1, epsilon=cfg.norm_eps, stash_type=1)
    if bits:
        lin(hs, W['embed.weight'], 'lm_head', quantize=True)
        g.stack[-1][-1].output[0] = LOGITS
    else:
        g.op('Gemm', [hs, 'embed'], name=LOGITS, transB=1)  # tied head reads the embedding table
    graph = helper.make_graph(g.stack[0], 'dense_lm' if plain_dense else 'mod_lm', inputs, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17), helper.make_opsetid('com.microsoft', 1)],
                              producer_name='mod-complete')
    model.ir_version = 8
    return model


def weights_from_onnx(path):
    """The config (from the manifest beside it) and torch-layout weights of a float model this
    script wrote: the inverse of build(), so a shipped model can be re-exported (e.g. as its plain
    dense view) without its checkpoint."""
    man = json.load(open(os.path.join(os.path.dirname(path), 'manifest.json')))
    fields = Config.__dataclass_fields__
    cfg = Config(**{k: v for k, v in man['architecture'].items() if k in fields})
    init = {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}
    hd = cfg.d_model // cfg.n_head
    sd = {'embed.weight': init['embed'], 'norm.weight': init['norm_f']}
    for i in range(cfg.n_layer):
        p = f'blocks.{i}.'
        qkv = init[p + 'qkv'].T.copy()
        qkv[:cfg.d_model] *= math.sqrt(hd)  # undo the folded attention scale (exact: hd is a power of 4)
        sd.update({p + 'norm1.weight': init[p + 'norm1'], p + 'norm2.weight': init[p + 'norm2'], p + 'attn.qkv.weight': qkv,
                   p + 'attn.proj.weight': init[p + 'proj'].T, p + 'fc1.weight': init[p + 'fc1'].T, p + 'fc2.weight': init[p + 'fc2'].T})
        if cfg.routed(i):
            sd.update({p + 'router.weight': init[p + 'router'].T, p + 'predictor.0.weight': init[p + 'pred1'].T,
                       p + 'predictor.0.bias': init[p + 'pred1_b'], p + 'predictor.2.weight': init[p + 'pred2'].T,
                       p + 'predictor.2.bias': init[p + 'pred2_b']})
    return cfg, {k: torch.from_numpy(np.array(v)) for k, v in sd.items()}, man


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument('--ckpt')
    src.add_argument('--from-onnx', help="a float model.onnx this script wrote (its manifest beside it) instead of a checkpoint")
    ap.add_argument('--plain-dense', action='store_true', help='write the plain dense view of the same weights (the speed baseline)')
    ap.add_argument('--out', required=True)
    ap.add_argument('--quantize', type=int, default=4, help='also write model.q4.onnx (0: float only)')
    ap.add_argument('--float', type=int, default=1, help='0: write only the 4-bit model (baselines kept small in git)')
    ap.add_argument('--block', type=int, default=32)
    ap.add_argument('--accuracy-level', type=int, default=0)
    ap.add_argument('--tokenizer', default='data/tokenizer/tokenizer.json')
    ap.add_argument('--name', help="the manifest's model name (default: the one already there, else the folder's name)")
    a = ap.parse_args()
    if a.ckpt:
        ck = load_checkpoint(a.ckpt)
        cfg, weights, source = Config(**ck['config']), ck['model'], {}
    else:
        cfg, weights, source = weights_from_onnx(a.from_onnx)
    if cfg.experts:  # refused rather than exported without its experts
        raise SystemExit(f'{cfg.routing}: expert MLPs have no ONNX graph yet (issue 14 item 3)')
    os.makedirs(a.out, exist_ok=True)
    files = {}
    if a.float or not a.quantize:
        files['float'] = 'model.onnx'
        onnx.save(build(cfg, weights, plain_dense=a.plain_dense), os.path.join(a.out, 'model.onnx'))
    if a.quantize:
        files['q4'] = 'model.q4.onnx'
        onnx.save(build(cfg, weights, bits=4, block=a.block, accuracy_level=a.accuracy_level, plain_dense=a.plain_dense),
                  os.path.join(a.out, 'model.q4.onnx'))
    tok_out = os.path.join(a.out, 'tokenizer.json')
    if os.path.abspath(a.tokenizer) != os.path.abspath(tok_out):
        with open(a.tokenizer, 'rb') as f, open(tok_out, 'wb') as o:
            o.write(f.read())
    files['tokenizer'] = 'tokenizer.json'
    manifest_path = os.path.join(a.out, 'manifest.json')
    old = json.load(open(manifest_path)) if os.path.exists(manifest_path) else source
    manifest = {
        'format': 'mod-complete-model',
        'formatVersion': 1,
        'name': a.name or old.get('name', os.path.basename(os.path.normpath(a.out))) + (GRAPH_IO['plainDenseSuffix'] if a.plain_dense else ''),
        'architecture': {**cfg.to_dict(), 'head_dim': cfg.d_model // cfg.n_head,
                         'routed_blocks': [] if a.plain_dense else [i for i in range(cfg.n_layer) if cfg.routed(i)],
                         'norm': 'rmsnorm', 'position': 'rope', 'mlp': 'silu', 'tied_embeddings': True},
        'specialTokens': {'endOfText': 0, 'fimPrefix': 1, 'fimMiddle': 2, 'fimSuffix': 3, 'fileSep': 4},
        'fim': {'orders': ['psm', 'spm'], 'preferred': 'spm', 'header': '<|file_sep|>{path}\\n'},
        'defaultThreshold': 0.5,
        'flops': flops_table(cfg),
        'quantization': {'q4': {'op': 'MatMulNBits', 'bits': 4, 'block_size': a.block, 'accuracy_level': a.accuracy_level,
                                'float_parts': ['embedding', 'norms', 'router', 'predictor']}} if a.quantize else {},
        'files': {k: {'path': v, 'sha256': sha256(os.path.join(a.out, v)), 'bytes': os.path.getsize(os.path.join(a.out, v))} for k, v in files.items()},
        'training': old.get('training', {}),
        'quality': old.get('quality', {}),
    }
    json.dump(manifest, open(manifest_path, 'w'), indent=1)
    print(json.dumps({k: v['bytes'] for k, v in manifest['files'].items()}))


if __name__ == '__main__':
    main()
