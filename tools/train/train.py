#!/usr/bin/python3
"""Trains the default model of bitnet-wasm: a small BitNet b1.58 (ternary) language model and its
full-precision twin, on CPU with Debian's python3-torch.

  /usr/bin/python3 tools/train/train.py --data tools/train/.cache/data --out tools/train/.cache/run \
      --mode ternary|fp|both --steps N --seed 1

Architecture: llama.cpp's `bitnet` layout (what the engine runs, see shared FORMATS.md):
  h = rmsnorm(x) * attn_norm; q,k,v = Wq h, Wk h, Wv h; NEOX rope(q, k); causal softmax attention
  a = rmsnorm(a) * attn_sub_norm; x += Wo a
  h = rmsnorm(x) * ffn_norm; g = relu(Wgate h)^2 * (Wup h); g = rmsnorm(g) * ffn_sub_norm; x += Wdown g
  logits = token_embd . (rmsnorm(x) * output_norm)       (tied embedding as the head)

Quantization-aware training as BitNet b1.58 defines it (ternary mode): every projection is a
BitLinear whose weight is ternarized in the forward pass with the per-tensor absmean scale,
s = mean|W|, Wq = s * clamp(round(W / s), -1, 1), and whose input is quantized per token to int8
with absmax, step = max|x| / 127, xq = step * clamp(round(x / step), -127, 127); gradients pass
straight through both (x + (q(x) - x).detach()). Embedding, norms and head stay high precision.
The fp twin is the same code with both quantizers off: same shapes, initialization, data order,
optimizer and step budget.

After training, the ternary model is evaluated a second time with the engine's exact numerics
(the exported trits, the f16-rounded scale and embedding, int8 activations, float64 elsewhere),
in the engine's perplexity protocol (non-overlapping windows of the context length, each from an
empty cache), and its weights are written for tools/train/export.ts.
"""
import argparse
import json
import math
import os
import struct
import sys
import time

# One core: the machine has two and shares them. Debian's torch calls the system BLAS: install
# libopenblas0-pthread (the reference libblas is ~20x slower) and keep it single-threaded.
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
os.environ.setdefault('OMP_NUM_THREADS', '1')

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)


# ------------------------------------------------------------------------------------------------
# Quantizers (straight-through in training)

def weight_quant(w):
    """Absmean ternarization: (trits, scale)."""
    s = w.abs().mean().clamp(min=1e-8)
    return (w / s).round().clamp(-1, 1), s


def act_quant(x):
    """Per-token absmax int8: (q, step) with x ~ q * step."""
    step = x.abs().amax(dim=-1, keepdim=True).clamp(min=1e-8) / 127
    return (x / step).round().clamp(-127, 127), step


class BitLinear(nn.Linear):
    def __init__(self, n_in, n_out, ternary):
        super().__init__(n_in, n_out, bias=False)
        self.ternary = ternary

    def forward(self, x):
        if not self.ternary:
            return F.linear(x, self.weight)
        t, s = weight_quant(self.weight)
        w = self.weight + (t * s - self.weight).detach()
        q, step = act_quant(x)
        x = x + (q * step - x).detach()
        return F.linear(x, w)


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(n_ctx, head_dim, base, dtype=torch.float32):
    half = head_dim // 2
    theta = base ** (-torch.arange(half, dtype=torch.float64) * 2 / head_dim)
    ang = torch.arange(n_ctx, dtype=torch.float64)[:, None] * theta[None, :]
    return ang.cos().to(dtype), ang.sin().to(dtype)


def rope_neox(x, cos, sin):
    """x: [B, H, T, D]; rotates the halves (a, b) of each head: (a c - b s, a s + b c)."""
    half = x.shape[-1] // 2
    a, b = x[..., :half], x[..., half:]
    c, s = cos[: x.shape[-2]], sin[: x.shape[-2]]
    return torch.cat([a * c - b * s, a * s + b * c], dim=-1)


class Block(nn.Module):
    def __init__(self, cfg, ternary):
        super().__init__()
        d, ff, eps = cfg['n_embd'], cfg['n_ff'], cfg['eps']
        self.n_head = cfg['n_head']
        self.attn_norm = RMSNorm(d, eps)
        self.wq, self.wk, self.wv = (BitLinear(d, d, ternary) for _ in range(3))
        self.attn_sub_norm = RMSNorm(d, eps)
        self.wo = BitLinear(d, d, ternary)
        self.ffn_norm = RMSNorm(d, eps)
        self.w_gate, self.w_up = BitLinear(d, ff, ternary), BitLinear(d, ff, ternary)
        self.ffn_sub_norm = RMSNorm(ff, eps)
        self.w_down = BitLinear(ff, d, ternary)

    def forward(self, x, cos, sin, mask):
        B, T, d = x.shape
        H = self.n_head
        hd = d // H
        h = self.attn_norm(x)
        q = self.wq(h).view(B, T, H, hd).transpose(1, 2)
        k = self.wk(h).view(B, T, H, hd).transpose(1, 2)
        v = self.wv(h).view(B, T, H, hd).transpose(1, 2)
        q, k = rope_neox(q, cos, sin), rope_neox(k, cos, sin)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd)) + mask[:T, :T]
        a = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, d)
        x = x + self.wo(self.attn_sub_norm(a))
        h = self.ffn_norm(x)
        g = F.relu(self.w_gate(h)).square() * self.w_up(h)
        return x + self.w_down(self.ffn_sub_norm(g))


class Model(nn.Module):
    def __init__(self, cfg, ternary):
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg['n_vocab'], cfg['n_embd'])
        self.blocks = nn.ModuleList(Block(cfg, ternary) for _ in range(cfg['n_layer']))
        self.out_norm = RMSNorm(cfg['n_embd'], cfg['eps'])
        cos, sin = rope_tables(cfg['n_ctx'], cfg['n_embd'] // cfg['n_head'], cfg['rope_base'])
        self.register_buffer('cos', cos, persistent=False)
        self.register_buffer('sin', sin, persistent=False)
        mask = torch.full((cfg['n_ctx'], cfg['n_ctx']), float('-inf')).triu(1)
        self.register_buffer('mask', mask, persistent=False)
        for n, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * cfg['n_layer']) if n.endswith(('wo.weight', 'w_down.weight')) else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx):
        x = self.tok_emb(idx)
        for b in self.blocks:
            x = b(x, self.cos, self.sin, self.mask)
        return self.out_norm(x) @ self.tok_emb.weight.t()


# ------------------------------------------------------------------------------------------------
# Data

def load_u16(path):
    with open(path, 'rb') as f:
        b = f.read()
    return torch.tensor(struct.unpack(f'<{len(b) // 2}H', b), dtype=torch.long)


def windows(ids, n_ctx):
    """The engine's perplexity protocol: windows [s, s + n_ctx), each from an empty cache,
    predicting every token of the window after its first."""
    return [ids[s:s + n_ctx] for s in range(0, len(ids) - 1, n_ctx) if len(ids[s:s + n_ctx]) >= 2]


@torch.no_grad()
def eval_nll(model, ids, n_ctx):
    model.eval()
    nll, count = 0.0, 0
    for w in windows(ids, n_ctx):
        logits = model(w[None, :-1])[0].double()
        nll += F.cross_entropy(logits, w[1:], reduction='sum').item()
        count += len(w) - 1
    model.train()
    return nll / count, count


# ------------------------------------------------------------------------------------------------
# Export and the engine's numerics

def f16(x):
    return x.to(torch.float16).to(torch.float32)


def exported_weights(model):
    """What the GGUF holds: f16 embedding, f32 norms, (trits, f16-rounded scale) per projection."""
    out = {'token_embd.weight': ('f16', f16(model.tok_emb.weight.detach())),
           'output_norm.weight': ('f32', model.out_norm.weight.detach().clone())}
    names = {'attn_norm': 'attn_norm', 'wq': 'attn_q', 'wk': 'attn_k', 'wv': 'attn_v', 'attn_sub_norm': 'attn_sub_norm',
             'wo': 'attn_output', 'ffn_norm': 'ffn_norm', 'w_gate': 'ffn_gate', 'w_up': 'ffn_up',
             'ffn_sub_norm': 'ffn_sub_norm', 'w_down': 'ffn_down'}
    for i, b in enumerate(model.blocks):
        for attr, gg in names.items():
            m = getattr(b, attr)
            if isinstance(m, RMSNorm):
                out[f'blk.{i}.{gg}.weight'] = ('f32', m.weight.detach().clone())
            else:
                t, s = weight_quant(m.weight.detach())
                out[f'blk.{i}.{gg}.weight'] = ('ternary', t.to(torch.int8), float(f16(s)))
    return out


def engine_forward(W, cfg, idx):
    """The engine's forward pass over one window, in float64 except where the engine rounds:
    int8 activations per token, trits times the f16 scale, f16 embedding (kept exact as f32)."""
    d, H, eps = cfg['n_embd'], cfg['n_head'], cfg['eps']
    hd = d // H
    T = len(idx)
    dt = torch.float64
    cos, sin = rope_tables(T, hd, cfg['rope_base'], dt)
    mask = torch.full((T, T), float('-inf'), dtype=dt).triu(1)
    emb = W['token_embd.weight'][1].to(dt)

    def norm(x, name):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * W[name][1].to(dt)

    def mm(x, name):
        _, t, s = W[name]
        q, step = act_quant(x)
        return (q @ t.to(dt).t()) * (step * s)

    x = emb[idx]
    for i in range(cfg['n_layer']):
        p = f'blk.{i}.'
        h = norm(x, p + 'attn_norm.weight')
        q = mm(h, p + 'attn_q.weight').view(T, H, hd).transpose(0, 1)
        k = mm(h, p + 'attn_k.weight').view(T, H, hd).transpose(0, 1)
        v = mm(h, p + 'attn_v.weight').view(T, H, hd).transpose(0, 1)
        q, k = rope_neox(q, cos, sin), rope_neox(k, cos, sin)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask
        a = (att.softmax(-1) @ v).transpose(0, 1).reshape(T, d)
        x = x + mm(norm(a, p + 'attn_sub_norm.weight'), p + 'attn_output.weight')
        h = norm(x, p + 'ffn_norm.weight')
        g = F.relu(mm(h, p + 'ffn_gate.weight')).square() * mm(h, p + 'ffn_up.weight')
        x = x + mm(norm(g, p + 'ffn_sub_norm.weight'), p + 'ffn_down.weight')
    return norm(x, 'output_norm.weight') @ emb.t()


@torch.no_grad()
def engine_nll(W, cfg, ids, n_ctx):
    nll, count = 0.0, 0
    for w in windows(ids, n_ctx):
        logits = engine_forward(W, cfg, w[:-1])
        nll += F.cross_entropy(logits, w[1:], reduction='sum').item()
        count += len(w) - 1
    return nll / count, count


def write_weights(W, cfg, tok_meta_path, path):
    """tools/train/export.ts input: JSON index + one blob (f32 little-endian; int8 trits)."""
    index, blobs, off = [], [], 0
    for name, v in W.items():
        kind, data = v[0], v[1]
        shape = list(data.shape)[::-1]  # GGUF order: row length first
        raw = data.contiguous().numpy().tobytes() if kind == 'ternary' else data.to(torch.float32).contiguous().numpy().astype('<f4').tobytes()
        e = {'name': name, 'shape': shape, 'kind': kind, 'offset': off, 'bytes': len(raw)}
        if kind == 'ternary':
            e['scale'] = v[2]
        index.append(e)
        blobs.append(raw)
        off += len(raw)
    with open(path + '.bin', 'wb') as f:
        for b in blobs:
            f.write(b)
    with open(path + '.json', 'w') as f:
        json.dump({'config': cfg, 'tokenizer': tok_meta_path, 'tensors': index}, f, indent=1)


# ------------------------------------------------------------------------------------------------

def lr_at(step, steps, lr, warmup):
    if step < warmup:
        return lr * (step + 1) / warmup
    p = (step - warmup) / max(1, steps - warmup)
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def train(cfg, args, ternary, train_ids, log):
    torch.manual_seed(args.seed)
    model = Model(cfg, ternary)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and 'tok_emb' not in n]
    other = [p for n, p in model.named_parameters() if not (p.dim() == 2 and 'tok_emb' not in n)]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': args.wd}, {'params': other, 'weight_decay': 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    gen = torch.Generator().manual_seed(args.seed)  # same data order for both models
    T = cfg['n_ctx']
    t0 = time.time()
    ema = None
    for step in range(args.steps):
        for g in opt.param_groups:
            g['lr'] = lr_at(step, args.steps, args.lr, args.warmup)
        starts = torch.randint(0, len(train_ids) - T - 1, (args.batch,), generator=gen)
        xb = torch.stack([train_ids[s:s + T + 1] for s in starts.tolist()])
        logits = model(xb[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), xb[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % args.log_every == 0 or step == args.steps - 1:
            rec = {'model': 'ternary' if ternary else 'fp', 'step': step, 'loss': round(loss.item(), 4),
                   'loss_ema': round(ema, 4), 'lr': round(lr_at(step, args.steps, args.lr, args.warmup), 6),
                   'elapsed_s': round(time.time() - t0, 1)}
            log.write(json.dumps(rec) + '\n')
            log.flush()
            print(json.dumps(rec), flush=True)
    return model, time.time() - t0, ema


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default='tools/train/.cache/data')
    ap.add_argument('--out', default='tools/train/.cache/run')
    ap.add_argument('--mode', choices=['ternary', 'fp', 'both'], default='both')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--steps', type=int, default=2000)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--wd', type=float, default=0.1)
    ap.add_argument('--warmup', type=int, default=100)
    ap.add_argument('--log-every', type=int, default=25)
    ap.add_argument('--n-embd', type=int, default=256)
    ap.add_argument('--n-layer', type=int, default=4)
    ap.add_argument('--n-head', type=int, default=4)
    ap.add_argument('--n-ff', type=int, default=768)
    ap.add_argument('--n-ctx', type=int, default=256)
    ap.add_argument('--bench', type=int, default=0, help='time this many steps of each model and exit')
    args = ap.parse_args()

    with open(os.path.join(args.data, 'data.json')) as f:
        data = json.load(f)
    cfg = {'n_vocab': data['nVocab'], 'n_embd': args.n_embd, 'n_layer': args.n_layer, 'n_head': args.n_head,
           'n_ff': args.n_ff, 'n_ctx': args.n_ctx, 'eps': 1e-5, 'rope_base': 10000.0, 'activation': 'relu2'}
    train_ids = load_u16(os.path.join(args.data, 'train.u16'))
    val_ids = load_u16(os.path.join(args.data, 'val.u16'))
    slice_ids = load_u16(os.path.join(args.data, 'val-slice.u16'))
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)

    if args.bench:
        for tern in (True, False):
            a = argparse.Namespace(**{**vars(args), 'steps': args.bench, 'log_every': 10 ** 9})
            with open(os.devnull, 'w') as log:
                _, wall, _ = train(cfg, a, tern, train_ids, log)
            n = sum(p.numel() for p in Model(cfg, tern).parameters())
            print(f"{'ternary' if tern else 'fp'}: {n} params, {wall / args.bench:.3f} s/step, "
                  f"{args.batch * args.n_ctx * args.bench / wall:.0f} tokens/s")
        return

    modes = ['ternary', 'fp'] if args.mode == 'both' else [args.mode]
    for mode in modes:
        tern = mode == 'ternary'
        with open(os.path.join(args.out, f'{mode}.log.jsonl'), 'w') as log:
            model, wall, ema = train(cfg, args, tern, train_ids, log)
        torch.save(model.state_dict(), os.path.join(args.out, f'{mode}.pt'))
        t0 = time.time()
        train_nll, _ = eval_nll(model, train_ids[:len(val_ids)], cfg['n_ctx'])
        val_nll, val_count = eval_nll(model, val_ids, cfg['n_ctx'])
        slice_nll, slice_count = eval_nll(model, slice_ids, cfg['n_ctx'])
        res = {'model': mode, 'params': sum(p.numel() for p in model.parameters()), 'steps': args.steps,
               'tokens_seen': args.steps * args.batch * cfg['n_ctx'], 'train_wall_s': round(wall, 1),
               'final_train_loss_ema': round(ema, 4),
               'train_nll_first_val_sized_chunk': round(train_nll, 5), 'val_nll': round(val_nll, 5),
               'val_ppl': round(math.exp(val_nll), 4), 'val_tokens_predicted': val_count,
               'slice_nll': round(slice_nll, 5), 'slice_ppl': round(math.exp(slice_nll), 4)}
        if tern:
            W = exported_weights(model)
            e_val, _ = engine_nll(W, cfg, val_ids, cfg['n_ctx'])
            e_slice, e_slice_count = engine_nll(W, cfg, slice_ids, cfg['n_ctx'])
            res.update({'engine_numerics_val_nll': round(e_val, 6), 'engine_numerics_val_ppl': round(math.exp(e_val), 5),
                        'engine_numerics_slice_nll': round(e_slice, 6), 'engine_numerics_slice_ppl': round(math.exp(e_slice), 5),
                        'slice_tokens_predicted': e_slice_count})
            write_weights(W, cfg, os.path.join(args.data, 'tokenizer.json'), os.path.join(args.out, 'ternary-export'))
        res['eval_wall_s'] = round(time.time() - t0, 1)
        res['args'] = vars(args)
        res['config'] = cfg
        print(json.dumps(res), flush=True)
        with open(os.path.join(args.out, f'{mode}.result.json'), 'w') as f:
            json.dump(res, f, indent=1)


if __name__ == '__main__':
    main()
