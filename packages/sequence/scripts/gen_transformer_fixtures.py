#!/usr/bin/python3
"""PyTorch 1.13 goldens for Kiln's Transformer layers (packages/sequence/src/transformer).

Writes one safetensors file per case into fixtures/transformer/: the module's state dict under
`sd.<key>`, the inputs under `in.<name>` and the outputs under `out.<name>`, plus a JSON header
`__metadata__.config` describing the case. Eval mode; forwards run with autograd on so that
PyTorch takes its reference (non-"fast path") code, whose padded outputs are not zeroed.

Run: /usr/bin/python3 packages/sequence/scripts/gen_transformer_fixtures.py
"""
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'transformer')
DT = {torch.float32: 'F32', torch.bool: 'BOOL', torch.int32: 'I32'}


def save(name, tensors, config):
    header, blobs, offset = {'__metadata__': {'config': json.dumps(config)}}, [], 0
    for k in sorted(tensors):
        t = tensors[k].detach().contiguous()
        if t.dtype == torch.float64:
            t = t.float()
        raw = t.numpy().astype(np.uint8).tobytes() if t.dtype == torch.bool else t.numpy().tobytes()
        header[k] = {'dtype': DT[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    tmp = os.path.join(OUT, name + '.tmp')
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, os.path.join(OUT, name + '.safetensors'))


def randomise(m):
    """Non-trivial values everywhere (PyTorch zero-initialises biases and sets norms to 1/0)."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in m.named_parameters():
            norm_weight = 'norm' in name and name.endswith('weight')
            p.copy_(torch.randn(p.shape, generator=g) * (0.3 if p.dim() > 1 else 0.2) + (1.0 if norm_weight else 0.0))
    return m.eval()


def sd(m):
    return {'sd.' + k: v for k, v in m.state_dict().items()}


def key_padding(B, S, lengths):
    return torch.arange(S)[None, :] >= torch.tensor(lengths)[:, None]


def causal(T):
    return torch.triu(torch.full((T, T), float('-inf')), 1)


def mha_cases():
    torch.manual_seed(0)
    E, H, L, S, B = 8, 2, 4, 5, 2
    for batch_first in (False, True):
        m = randomise(nn.MultiheadAttention(E, H, batch_first=batch_first))
        shp = (lambda T: (B, T, E)) if batch_first else (lambda T: (T, B, E))
        q, k, v = torch.randn(shp(L)), torch.randn(shp(S)), torch.randn(shp(S))
        kpm = key_padding(B, S, [5, 3])
        am = torch.rand(L, S) < 0.2
        am[:, 0] = False
        out, w = m(q, k, v, key_padding_mask=kpm, attn_mask=am)
        amf = torch.randn(L, S)
        out2, w2 = m(q, k, v, key_padding_mask=kpm, attn_mask=amf, average_attn_weights=False)
        save(f'mha_bf{int(batch_first)}', {**sd(m), 'in.q': q, 'in.k': k, 'in.v': v, 'in.kpm': kpm, 'in.am_bool': am,
                                           'in.am_float': amf, 'out.out': out, 'out.w': w, 'out.out2': out2, 'out.w2': w2},
             {'embedDim': E, 'numHeads': H, 'batchFirst': batch_first})
    # kdim/vdim and no bias
    m = randomise(nn.MultiheadAttention(E, H, kdim=6, vdim=3, bias=False, batch_first=True))
    q, k, v = torch.randn(B, L, E), torch.randn(B, S, 6), torch.randn(B, S, 3)
    out, w = m(q, k, v)
    save('mha_kdim', {**sd(m), 'in.q': q, 'in.k': k, 'in.v': v, 'out.out': out, 'out.w': w},
         {'embedDim': E, 'numHeads': H, 'batchFirst': True, 'kdim': 6, 'vdim': 3, 'bias': False})


def mha_float_mask_case():
    torch.manual_seed(5)
    E, H, L, S, B = 8, 4, 3, 4, 2
    m = randomise(nn.MultiheadAttention(E, H, batch_first=True))
    q, k, v = torch.randn(B, L, E), torch.randn(B, S, E), torch.randn(B, S, E)
    am = torch.randn(L, S)
    am3 = torch.randn(B * H, L, S)
    out, w = m(q, k, v, attn_mask=am, average_attn_weights=False)
    out3, w3 = m(q, k, v, attn_mask=am3)
    save('mha_floatmask', {**sd(m), 'in.q': q, 'in.k': k, 'in.v': v, 'in.am': am, 'in.am3': am3,
                           'out.out': out, 'out.w': w, 'out.out3': out3, 'out.w3': w3},
         {'embedDim': E, 'numHeads': H, 'batchFirst': True})


def layer_cases():
    torch.manual_seed(1)
    E, H, F, S, T, B = 8, 2, 16, 5, 4, 2
    for name, kw in [('post_relu', dict(activation='relu')), ('pre_gelu', dict(activation='gelu', norm_first=True)),
                     ('post_gelu_bf', dict(activation='gelu', batch_first=True))]:
        bf = kw.get('batch_first', False)
        shp = (lambda n: (B, n, E)) if bf else (lambda n: (n, B, E))
        enc = randomise(nn.TransformerEncoderLayer(E, H, F, dropout=0.1, **kw))
        src = torch.randn(shp(S))
        kpm = key_padding(B, S, [5, 4])
        y = enc(src, src_key_padding_mask=kpm)
        save(f'enc_{name}', {**sd(enc), 'in.src': src, 'in.kpm': kpm, 'out.y': y},
             {'dModel': E, 'nhead': H, 'dimFeedforward': F, **{k: v for k, v in kw.items()}})
        dec = randomise(nn.TransformerDecoderLayer(E, H, F, dropout=0.1, **kw))
        tgt, mem = torch.randn(shp(T)), torch.randn(shp(S))
        y = dec(tgt, mem, tgt_mask=causal(T), memory_key_padding_mask=kpm)
        save(f'dec_{name}', {**sd(dec), 'in.tgt': tgt, 'in.mem': mem, 'in.kpm': kpm, 'in.tgt_mask': causal(T), 'out.y': y},
             {'dModel': E, 'nhead': H, 'dimFeedforward': F, **{k: v for k, v in kw.items()}})


def transformer_case():
    torch.manual_seed(2)
    E, H, F, S, T, B = 8, 2, 12, 6, 5, 2
    m = randomise(nn.Transformer(E, H, 2, 2, F, dropout=0.1, batch_first=True))
    src, tgt = torch.randn(B, S, E), torch.randn(B, T, E)
    kpm = key_padding(B, S, [6, 4])
    tm = nn.Transformer.generate_square_subsequent_mask(T)
    y = m(src, tgt, tgt_mask=tm, src_key_padding_mask=kpm, memory_key_padding_mask=kpm)
    save('transformer', {**sd(m), 'in.src': src, 'in.tgt': tgt, 'in.kpm': kpm, 'in.tgt_mask': tm, 'out.y': y},
         {'dModel': E, 'nhead': H, 'numEncoderLayers': 2, 'numDecoderLayers': 2, 'dimFeedforward': F, 'batchFirst': True})


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    mha_cases()
    mha_float_mask_case()
    layer_cases()
    transformer_case()
    print('wrote', sorted(os.listdir(OUT)))
