"""Records PyTorch reference values for the vision-zoo layers of @kiln/nn.

Run with Debian's torch 1.13:  /usr/bin/python3 packages/nn/scripts/gen_layer_goldens.py
Writes packages/nn/fixtures/layer-goldens.safetensors (float64): per case `<case>.x` (input),
`<case>.y` (output), `<case>.g` (upstream gradient), `<case>.dx` (input gradient),
`<case>.p.<key>` (the layer's state dict before the forward), `<case>.dp.<key>` (parameter
gradients) and, for training-mode BatchNorm, `<case>.after.<key>` (buffers after the step).
The metadata holds each case's constructor call (for reading) and the state-dict keys of a
ModuleDict model. npm test never runs this script.
"""
import json
import os
import struct

import torch
import torch.nn as nn

torch.manual_seed(1234)
torch.set_default_dtype(torch.float64)

OUT = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'layer-goldens.safetensors')


def randomise(m):
    """Non-trivial affine parameters and running statistics, so goldens test every term."""
    with torch.no_grad():
        for name, t in m.named_parameters():
            if name.endswith('weight') and isinstance(m, (nn.BatchNorm3d, nn.GroupNorm)):
                t.copy_(torch.rand_like(t) + 0.5)
            elif name.endswith('bias') and isinstance(m, (nn.BatchNorm3d, nn.GroupNorm)):
                t.copy_(torch.randn_like(t) * 0.5)
        if isinstance(m, nn.BatchNorm3d):
            m.running_mean.copy_(torch.randn_like(m.running_mean) * 0.3)
            m.running_var.copy_(torch.rand_like(m.running_var) + 0.5)
    return m


CASES = [
    # name, constructor source, input shape, input scale, training
    ('relu6', 'nn.ReLU6()', [2, 3, 4], 4.0, False),
    ('hardsigmoid', 'nn.Hardsigmoid()', [2, 3, 4], 4.0, False),
    ('hardswish', 'nn.Hardswish()', [2, 3, 4], 4.0, False),
    ('silu', 'nn.SiLU()', [2, 3, 4], 3.0, False),
    ('maxpool1d', 'nn.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True)', [2, 3, 11], 1.0, False),
    ('maxpool3d', 'nn.MaxPool3d((2, 3, 3), stride=(1, 2, 2), padding=(1, 1, 0), ceil_mode=True)', [1, 2, 5, 7, 6], 1.0, False),
    ('avgpool1d_exclude', 'nn.AvgPool1d(4, stride=3, padding=2, ceil_mode=True, count_include_pad=False)', [2, 3, 10], 1.0, False),
    ('avgpool1d_include', 'nn.AvgPool1d(3, stride=2, padding=1)', [2, 3, 9], 1.0, False),
    ('avgpool3d_include', 'nn.AvgPool3d(3, stride=2, padding=1, ceil_mode=True)', [1, 2, 5, 6, 7], 1.0, False),
    ('avgpool3d_exclude', 'nn.AvgPool3d((2, 3, 3), stride=(2, 2, 1), padding=(1, 1, 1), count_include_pad=False)', [2, 2, 4, 5, 5], 1.0, False),
    ('adaptivemaxpool2d_uneven', 'nn.AdaptiveMaxPool2d((3, None))', [2, 3, 7, 5], 1.0, False),
    ('adaptivemaxpool2d_even', 'nn.AdaptiveMaxPool2d(2)', [1, 2, 6, 6], 1.0, False),
    ('adaptivemaxpool1d', 'nn.AdaptiveMaxPool1d(4)', [2, 3, 9], 1.0, False),
    ('adaptivemaxpool3d', 'nn.AdaptiveMaxPool3d((2, None, 3))', [1, 2, 5, 3, 7], 1.0, False),
    ('adaptiveavgpool1d', 'nn.AdaptiveAvgPool1d(3)', [2, 3, 8], 1.0, False),
    ('adaptiveavgpool3d', 'nn.AdaptiveAvgPool3d((1, 3, 2))', [1, 2, 4, 7, 5], 1.0, False),
    ('batchnorm3d_eval', 'nn.BatchNorm3d(3)', [2, 3, 2, 3, 3], 1.0, False),
    ('batchnorm3d_train', 'nn.BatchNorm3d(3, momentum=0.2, eps=1e-3)', [2, 3, 2, 3, 3], 2.0, True),
    ('convtranspose1d', 'nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)', [2, 4, 5], 1.0, False),
    ('convtranspose1d_dilated', 'nn.ConvTranspose1d(3, 2, 2, stride=3, dilation=2, bias=False)', [2, 3, 4], 1.0, False),
    ('convtranspose3d', 'nn.ConvTranspose3d(2, 4, (2, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1), output_padding=(0, 1, 0), groups=2, dilation=(1, 1, 2))', [1, 2, 3, 4, 4], 1.0, False),
    ('zeropad2d', 'nn.ZeroPad2d((1, 2, 0, 3))', [2, 3, 4, 5], 1.0, False),
    ('zeropad2d_crop', 'nn.ZeroPad2d((1, -1, 2, -2))', [1, 2, 5, 4], 1.0, False),
    ('lrn5', 'nn.LocalResponseNorm(5, alpha=0.01, beta=0.75, k=2.0)', [2, 7, 4, 4], 3.0, False),
    ('lrn2_even', 'nn.LocalResponseNorm(2)', [2, 6, 5], 3.0, False),
    ('lrn3_5d', 'nn.LocalResponseNorm(3, alpha=0.5, beta=0.6, k=1.5)', [1, 4, 2, 3, 2], 2.0, False),
    ('groupnorm', 'nn.GroupNorm(3, 6)', [2, 6, 4, 4], 2.0, False),
    ('groupnorm_noaffine', 'nn.GroupNorm(2, 4, eps=1e-3, affine=False)', [3, 4, 5], 2.0, False),
]

tensors = {}
meta = {}
for name, src, shape, scale, training in CASES:
    m = randomise(eval(src))
    m.train(training)
    for k, v in m.state_dict().items():
        tensors[f'{name}.p.{k}'] = v.detach().clone()
    x = (torch.randn(shape) * scale).requires_grad_()
    y = m(x)
    g = torch.randn(y.shape)
    (y * g).sum().backward()
    tensors[f'{name}.x'] = x.detach()
    tensors[f'{name}.y'] = y.detach()
    tensors[f'{name}.g'] = g
    tensors[f'{name}.dx'] = x.grad.detach()
    for k, p in m.named_parameters():
        tensors[f'{name}.dp.{k}'] = p.grad.detach()
    if training:
        for k, v in m.state_dict().items():
            tensors[f'{name}.after.{k}'] = v.detach().clone()
    meta[name] = src

heads = nn.ModuleDict({'cls': nn.Linear(4, 3), 'box': nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4))})
body = nn.Module()
body.heads = heads
meta['moduledict_keys'] = json.dumps(list(body.state_dict().keys()))

# safetensors: 8-byte little-endian header length, JSON header, raw little-endian data.
header = {'__metadata__': meta}
chunks = []
offset = 0
for k, t in tensors.items():
    if t.dtype == torch.int64:
        t = t.to(torch.float64)  # num_batches_tracked: a small count, exact in F64
    raw = t.contiguous().to(torch.float64).numpy().tobytes()
    header[k] = {'dtype': 'F64', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
    chunks.append(raw)
    offset += len(raw)
h = json.dumps(header, separators=(',', ':')).encode()
h += b' ' * ((8 - len(h) % 8) % 8)
os.makedirs(os.path.dirname(OUT), exist_ok=True)
tmp = OUT + '.tmp'
with open(tmp, 'wb') as f:
    f.write(struct.pack('<Q', len(h)))
    f.write(h)
    for c in chunks:
        f.write(c)
os.replace(tmp, OUT)
print(f'wrote {len(tensors)} tensors, {8 + len(h) + offset} bytes to {os.path.normpath(OUT)}')
