#!/usr/bin/python3
"""
Generates the torchvision parity fixtures of @kiln/vision's zoo (run with Debian's
/usr/bin/python3: torch 1.13, torchvision 0.14, onnx 1.12). Nothing here is needed by npm test.

Weights: every floating tensor of a state dict is filled from a counter-based hash of its key
(FNV-1a of the key, murmur3 finaliser of index·0x9E3779B1 + seed), so the TypeScript tests
rebuild exactly the same float32 weights without committing them (a ResNet-18 alone is 47 MB).
src/models/test-utils/hash-weights.ts is the same function; keep the two in step.
  conv/linear weights  (2u−1)·√(6/fan_in)      biases       (2u−1)·0.1
  BatchNorm weight     0.5 + u                 BN bias      (2u−1)·0.5
  running_mean         (2u−1)·0.2              running_var  0.5 + u
  input                (2u−1)

Outputs (fixtures/):
  torchvision-keys.json        every state-dict key and shape of each full-size model, and its
                               parameter count
  parity.safetensors           reference outputs (float64, computed in float64 from the float32
                               weights) for small inputs, key '<case>'
  mobilenet_v2_w025.{f32,f16,bf16}.safetensors and .out.safetensors: a real torch-written state
                               dict (random init, randomised BatchNorm; I64 num_batches_tracked)
                               and its output, for loadTorchvisionWeights
  mobilenet_v2_reduced.safetensors and .out.safetensors: the same for a reduced MobileNetV2
                               (invertedResidualSetting of 5 stages, stem stride 1, last conv 256
                               wide: the factory options torchvision's constructor has, or that are
                               patched into its model here)
  onnx/<case>.onnx             torch.onnx.export (opset 17, dynamic batch) of small variants;
                               initializers named after state-dict keys have their data removed
                               (the tests refill them from the hash) except mobilenet_v2_w025,
                               which is complete as exported
"""
import io
import json
import math
import os
import struct
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torchvision
from torchvision.models import efficientnet as tv_eff

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'fixtures')
os.makedirs(os.path.join(OUT, 'onnx'), exist_ok=True)
M32 = 0xFFFFFFFF


def fnv1a(key):
    h = 0x811C9DC5
    for b in key.encode('utf-8'):
        h = ((h ^ b) * 0x01000193) & M32
    return h


def hash_uniform(key, n):
    """u in [0, 1) with 24 random bits, element i of tensor `key`."""
    seed = fnv1a(key)
    out = np.empty(n, dtype=np.float64)
    for start in range(0, n, 1 << 22):  # chunks keep VGG's 100M-element weights in memory
        x = (np.arange(start, min(n, start + (1 << 22)), dtype=np.uint64) * np.uint64(0x9E3779B1) + np.uint64(seed)) & np.uint64(M32)
        x ^= x >> np.uint64(16)
        x = (x * np.uint64(0x85EBCA6B)) & np.uint64(M32)
        x ^= x >> np.uint64(13)
        x = (x * np.uint64(0xC2B2AE35)) & np.uint64(M32)
        x ^= x >> np.uint64(16)
        out[start:start + len(x)] = (x >> np.uint64(8)).astype(np.float64) / 16777216.0
    return out


def hash_value(key, shape, is_bn):
    n = int(np.prod(shape)) if len(shape) else 1
    u = hash_uniform(key, n)
    if key.endswith('running_var'):
        v = 0.5 + u
    elif key.endswith('running_mean'):
        v = (2 * u - 1) * 0.2
    elif is_bn and key.endswith('weight'):
        v = 0.5 + u
    elif is_bn and key.endswith('bias'):
        v = (2 * u - 1) * 0.5
    elif key.endswith('bias'):
        v = (2 * u - 1) * 0.1
    else:
        fan_in = n // shape[0]
        v = (2 * u - 1) * math.sqrt(6.0 / fan_in)
    return v.astype(np.float32).reshape(shape)


def is_bn_key(key, keys):
    base = key.rsplit('.', 1)[0]
    return (base + '.running_mean') in keys


def hash_fill(model):
    sd = model.state_dict()
    keys = set(sd.keys())
    new = {}
    for k, t in sd.items():
        if k.endswith('num_batches_tracked'):
            new[k] = t
            continue
        new[k] = torch.from_numpy(hash_value(k, list(t.shape), is_bn_key(k, keys)))
    model.load_state_dict(new)
    return model


def hash_input(shape):
    n = int(np.prod(shape))
    return torch.from_numpy(((2 * hash_uniform('input', n) - 1).astype(np.float32)).reshape(shape))


# ---- safetensors by hand --------------------------------------------------------------------
ST = {torch.float32: 'F32', torch.float64: 'F64', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.int64: 'I64', torch.int32: 'I32'}


def save_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for k in sorted(tensors):
        t = tensors[k].contiguous()
        if t.dtype == torch.bfloat16:
            raw = t.view(torch.int16).numpy().tobytes()
        else:
            raw = t.numpy().tobytes()
        header[k] = {'dtype': ST[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path + '.tmp', 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(path + '.tmp', path)


# ---- reference modules torchvision lacks (LeNet-5, MobileNetV1), mirroring Kiln's layout ------
class LeNet5(nn.Module):
    def __init__(self, modern):
        super().__init__()
        act = nn.ReLU if modern else nn.Tanh
        pool = (lambda: nn.MaxPool2d(2, 2)) if modern else (lambda: nn.AvgPool2d(2, 2))
        self.features = nn.Sequential(nn.Conv2d(1, 6, 5), act(), pool(), nn.Conv2d(6, 16, 5), act(), pool(), nn.Conv2d(16, 120, 5), act())
        self.classifier = nn.Sequential(nn.Linear(120, 84), act(), nn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def cbr(i, o, k, s=1, g=1):
    return nn.Sequential(nn.Conv2d(i, o, k, s, (k - 1) // 2, groups=g, bias=False), nn.BatchNorm2d(o), nn.ReLU())


class DepthwiseSeparable(nn.Module):
    def __init__(self, i, o, s):
        super().__init__()
        self.depthwise = cbr(i, i, 3, s, i)
        self.pointwise = cbr(i, o, 1)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class MobileNetV1(nn.Module):
    def __init__(self, alpha, num_classes):
        super().__init__()
        d = lambda c: max(8, int(c * alpha))
        blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
        layers, c = [cbr(3, d(32), 3, 2)], d(32)
        for o, s in blocks:
            layers.append(DepthwiseSeparable(c, d(o), s))
            c = d(o)
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.001), nn.Linear(c, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x).mean([2, 3]))


def alexnet_lrn():
    """torchvision's AlexNet with the 2012 paper's LocalResponseNorm after the first two ReLUs."""
    m = tv.alexnet(num_classes=10)
    f = list(m.features)
    lrn = lambda: nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)
    m.features = nn.Sequential(*f[:2], lrn(), *f[2:5], lrn(), *f[5:])
    return m


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == '__metadata__':
            continue
        a, b = v['data_offsets']
        assert v['dtype'] == 'F64'
        out[k] = torch.from_numpy(np.frombuffer(data[a:b], dtype=np.float64).copy().reshape(v['shape']))
    return out


def efficientnet_custom(width, depth, num_classes=1000, eps=None, dropout=0.2):
    setting, last = tv_eff._efficientnet_conf('efficientnet_b0', width_mult=width, depth_mult=depth)
    kw = {'norm_layer': lambda c: nn.BatchNorm2d(c, eps=eps)} if eps else {}
    return tv_eff.EfficientNet(setting, dropout, num_classes=num_classes, last_channel=last, **kw)


tv = torchvision.models

# ---- 1. keys, shapes and counts of the full-size models -------------------------------------
FULL = {
    'resnet18': lambda: tv.resnet18(), 'resnet34': lambda: tv.resnet34(), 'resnet50': lambda: tv.resnet50(),
    'vgg11': lambda: tv.vgg11(), 'vgg16': lambda: tv.vgg16(), 'vgg16_bn': lambda: tv.vgg16_bn(),
    'alexnet': lambda: tv.alexnet(), 'googlenet': lambda: tv.googlenet(aux_logits=False, init_weights=False),
    'googlenet_aux': lambda: tv.googlenet(aux_logits=True, init_weights=False),
    'mobilenet_v2': lambda: tv.mobilenet_v2(), 'efficientnet_b0': lambda: tv.efficientnet_b0(),
    'efficientnet_b1': lambda: tv.efficientnet_b1(),
    'efficientnet_b2': lambda: tv.efficientnet_b2(), 'efficientnet_b3': lambda: tv.efficientnet_b3(),
}


def keys_json():
    out = {}
    for name, make in FULL.items():
        m = make()
        out[name] = {
            'params': sum(p.numel() for p in m.parameters()),
            'keys': [[k, list(t.shape)] for k, t in m.state_dict().items()],
        }
        print(name, out[name]['params'], flush=True)
    with open(os.path.join(OUT, 'torchvision-keys.json'), 'w') as f:
        json.dump(out, f, separators=(',', ':'))


# ---- 2. parity cases: model, input shape --------------------------------------------------
def gnet(**kw):
    return tv.googlenet(aux_logits=False, init_weights=False, **kw)


CASES = {
    'lenet5_classic': (lambda: LeNet5(False), [2, 1, 32, 32]),
    'lenet5_modern': (lambda: LeNet5(True), [2, 1, 32, 32]),
    'alexnet': (lambda: tv.alexnet(), [1, 3, 63, 63]),
    'alexnet_lrn': (lambda: alexnet_lrn(), [2, 3, 63, 63]),
    'vgg11': (lambda: tv.vgg11(), [1, 3, 32, 32]),
    'vgg16': (lambda: tv.vgg16(), [1, 3, 32, 32]),
    'vgg16_bn': (lambda: tv.vgg16_bn(), [1, 3, 32, 32]),
    'resnet18': (lambda: tv.resnet18(), [2, 3, 32, 32]),
    'resnet34': (lambda: tv.resnet34(), [1, 3, 32, 32]),
    'resnet50': (lambda: tv.resnet50(), [1, 3, 32, 32]),
    'googlenet': (lambda: gnet(), [1, 3, 64, 64]),
    'googlenet_transform': (lambda: gnet(transform_input=True), [1, 3, 64, 64]),
    'mobilenet_v1': (lambda: MobileNetV1(1.0, 1000), [1, 3, 32, 32]),
    'mobilenet_v1_a050': (lambda: MobileNetV1(0.5, 10), [2, 3, 40, 40]),
    'mobilenet_v2': (lambda: tv.mobilenet_v2(), [1, 3, 32, 32]),
    'mobilenet_v2_w025': (lambda: tv.mobilenet_v2(width_mult=0.25, num_classes=10), [2, 3, 32, 32]),
    'efficientnet_b0': (lambda: tv.efficientnet_b0(), [1, 3, 32, 32]),
    'efficientnet_b1': (lambda: tv.efficientnet_b1(), [1, 3, 32, 32]),
}


def parity(only=None):
    """All cases, or only the named ones (merged into the existing file)."""
    path = os.path.join(OUT, 'parity.safetensors')
    out = read_safetensors(path) if only else {}
    for name, (make, shape) in CASES.items():
        if only and name not in only:
            continue
        m = hash_fill(make()).eval().double()
        with torch.no_grad():
            y = m(hash_input(shape).double())
        out[name] = y
        print(name, tuple(y.shape), float(y.abs().max()), flush=True)
    save_safetensors(path, out)


def randomise_batch_norm(m, batches_tracked):
    """Random BatchNorm affine parameters and running statistics, so a fixture tests them too."""
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.5, 0.5)
                mod.running_mean.uniform_(-0.2, 0.2)
                mod.running_var.uniform_(0.5, 1.5)
                mod.num_batches_tracked.fill_(batches_tracked)


# ---- 3. a real torch-written checkpoint (random init, randomised BN) -------------------------
def real_checkpoint():
    torch.manual_seed(0)
    m = tv.mobilenet_v2(width_mult=0.25, num_classes=10)
    randomise_batch_norm(m, 7)
    m.eval()
    x = hash_input([2, 3, 32, 32])
    sd = m.state_dict()
    for tag, dt in [('f32', torch.float32), ('f16', torch.float16), ('bf16', torch.bfloat16)]:
        conv = {k: (v.to(dt) if v.is_floating_point() else v) for k, v in sd.items()}
        save_safetensors(os.path.join(OUT, f'mobilenet_v2_w025.{tag}.safetensors'), conv)
        ref = tv.mobilenet_v2(width_mult=0.25, num_classes=10).eval()
        ref.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in conv.items()})
        with torch.no_grad():
            y = ref.double()(x.double())
        save_safetensors(os.path.join(OUT, f'mobilenet_v2_w025.{tag}.out.safetensors'), {'output': y})
    return m


# ---- 3b. the same for a reduced MobileNetV2 (Kiln's invertedResidualSetting/stemStride/lastChannel)
REDUCED_SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 2], [6, 64, 2, 2], [6, 96, 1, 1]]


def mobilenet_v2_reduced(num_classes=4, width_mult=0.5, stem_stride=1, last_channel=256):
    """torchvision's MobileNetV2 with a custom inverted_residual_setting (a constructor argument);
    the stem stride and the last conv's width are fixed in its constructor, so they are patched in:
    the stem conv's stride, and a new last Conv2dNormActivation and classifier Linear."""
    m = tv.mobilenet_v2(num_classes=num_classes, width_mult=width_mult, inverted_residual_setting=REDUCED_SETTING)
    m.features[0][0].stride = (stem_stride, stem_stride)
    cin = m.features[-1][0].in_channels
    m.features[-1] = torchvision.ops.misc.Conv2dNormActivation(cin, last_channel, kernel_size=1, norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU6)
    m.classifier[1] = nn.Linear(last_channel, num_classes)
    m.last_channel = last_channel
    # torchvision's own init for the replaced layers (kaiming fan_out convs, N(0, 0.01) linear)
    nn.init.kaiming_normal_(m.features[-1][0].weight, mode='fan_out')
    nn.init.normal_(m.classifier[1].weight, 0, 0.01)
    nn.init.zeros_(m.classifier[1].bias)
    return m


def reduced_checkpoint():
    torch.manual_seed(1)
    m = mobilenet_v2_reduced()
    randomise_batch_norm(m, 3)
    m.eval()
    save_safetensors(os.path.join(OUT, 'mobilenet_v2_reduced.safetensors'), m.state_dict())
    with torch.no_grad():
        y = m.double()(hash_input([2, 3, 32, 32]).double())
    save_safetensors(os.path.join(OUT, 'mobilenet_v2_reduced.out.safetensors'), {'output': y})
    print('mobilenet_v2_reduced', sum(p.numel() for p in m.parameters()), 'parameters, max |y|', float(y.abs().max()), flush=True)


# ---- 4. torch.onnx.export of small variants ---------------------------------------------
ONNX_CASES = {
    'lenet5_modern': (lambda: LeNet5(True), [1, 1, 32, 32]),
    # adaptive pools export only for even windows (torch and Kiln alike): 224×224 gives 6×6 / 7×7
    'alexnet': (lambda: tv.alexnet(num_classes=10), [1, 3, 224, 224]),
    # torchvision's VGG class with a narrow feature stack (its classifier is fixed at 512·7·7 → 4096)
    'vgg_small_bn': (lambda: torchvision.models.vgg.VGG(torchvision.models.vgg.make_layers(
        [8, 'M', 16, 'M', 32, 32, 'M', 64, 64, 'M', 512, 'M'], batch_norm=True), num_classes=10), [1, 3, 224, 224]),
    'resnet18': (lambda: tv.resnet18(num_classes=10), [1, 3, 32, 32]),
    'resnet50': (lambda: tv.resnet50(num_classes=10), [1, 3, 32, 32]),
    'googlenet': (lambda: gnet(num_classes=10), [1, 3, 64, 64]),
    'mobilenet_v2_w025_hash': (lambda: tv.mobilenet_v2(width_mult=0.25, num_classes=10), [1, 3, 32, 32]),
    'efficientnet_b0': (lambda: tv.efficientnet_b0(num_classes=10), [1, 3, 32, 32]),
}


def export_onnx(m, shape, path, strip):
    m.eval()
    buf = io.BytesIO()
    # PRESERVE keeps BatchNormalization nodes with state-dict-named initializers (EVAL would fold
    # them into the convs); the model is in eval mode, so the graph is the inference graph.
    torch.onnx.export(m, hash_input(shape), buf, opset_version=17, input_names=['input'], output_names=['output'],
                      dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    model = onnx.load_from_string(buf.getvalue())
    if strip:
        keys = set(m.state_dict().keys())
        for init in model.graph.initializer:
            if init.name in keys:
                init.ClearField('raw_data')
                init.ClearField('float_data')
    onnx.save(model, path)


def onnx_files(real):
    out = {}
    for name, (make, shape) in ONNX_CASES.items():
        m = hash_fill(make()).eval()
        export_onnx(m, shape, os.path.join(OUT, 'onnx', name + '.onnx'), True)
        x = hash_input([1 if shape[2] >= 224 else 3] + shape[1:])
        with torch.no_grad():
            out[name] = m.double()(x.double())
        print('onnx', name, os.path.getsize(os.path.join(OUT, 'onnx', name + '.onnx')), flush=True)
    export_onnx(real.float(), [1, 3, 32, 32], os.path.join(OUT, 'onnx', 'mobilenet_v2_w025.onnx'), False)
    with torch.no_grad():
        out['mobilenet_v2_w025'] = real.double()(hash_input([3, 3, 32, 32]).double())
    save_safetensors(os.path.join(OUT, 'onnx', 'outputs.safetensors'), out)


if __name__ == '__main__':
    torch.set_num_threads(1)
    what = sys.argv[1:] or ['keys', 'parity', 'real', 'reduced']
    if 'keys' in what:
        keys_json()
    if 'parity' in what:
        parity()
    if 'parity-case' in what:
        parity(what[what.index('parity-case') + 1:])
    if 'real' in what:
        onnx_files(real_checkpoint())
    if 'reduced' in what:
        reduced_checkpoint()
