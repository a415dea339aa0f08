#!/usr/bin/python3
"""Real PyTorch-exported models for @kiln/onnx's import tests (torch 1.13 / torchvision 0.14, opset 17).

  /usr/bin/python3 packages/onnx/scripts/gen_real_models.py [--big-out /tmp/kiln-real-models]

Writes, per model, <name>.onnx and <name>.json: the input, PyTorch's output, and a fine-tuning
record: 3 steps of plain SGD (eval mode, mean cross-entropy on fixed labels) over the
parameters PyTorch trains (BatchNorm running statistics stay fixed), with each step's loss and the
final output. Small models go to packages/onnx/fixtures/real (committed, run by `npm test`):
  mobilenet_v2_025  torchvision MobileNetV2, width 0.25, 10 classes, 1×3×32×32, weights stored as
                    FLOAT16 (the graph Casts them to float; PyTorch's reference uses the same
                    fp16-rounded weights)
  lstm_lm           Embedding(40, 16) → 2-layer LSTM(16, 24) → Linear(24, 40) over 7×3 tokens
ResNet-18 (11.7 M parameters, 45 MB) goes to --big-out only; scripts/real-models.test.ts checks it.
BatchNorm statistics and affine parameters are randomised so outputs are not vanishingly small.
"""
import argparse, base64, json, os

import numpy as np
import onnx
from onnx import numpy_helper, helper, TensorProto
import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
SMALL_OUT = os.path.join(HERE, '..', 'fixtures', 'real')
STEPS = 3


def b64(a: np.ndarray) -> dict:
    a = np.ascontiguousarray(a)
    return {'dtype': str(a.dtype), 'shape': list(a.shape), 'data': base64.b64encode(a.tobytes()).decode()}


def randomise_bn(model: torch.nn.Module, g: torch.Generator) -> None:
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) * 0.5 + 0.75)
                m.weight.copy_(torch.rand(m.num_features, generator=g) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)


def finetune(model: torch.nn.Module, x: torch.Tensor, labels: torch.Tensor, flat_logits, lr: float) -> tuple:
    """SGD in eval mode; returns per-step losses and the output after the last step."""
    model.eval()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=lr)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(flat_logits(model(x)), labels)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    with torch.no_grad():
        return losses, model(x).numpy()


def weights_to_float16(path: str) -> None:
    """Stores float initializers as FLOAT16 under the same names, each Cast to FLOAT before use."""
    m = onnx.load(path)
    g = m.graph
    casts, renamed = [], {}
    for init in g.initializer:
        if init.data_type != TensorProto.FLOAT:
            continue
        a = numpy_helper.to_array(init).astype(np.float16)
        init.CopyFrom(numpy_helper.from_array(a, init.name))
        renamed[init.name] = init.name + '__float32'
        casts.append(helper.make_node('Cast', [init.name], [renamed[init.name]], to=TensorProto.FLOAT, name='Cast_' + init.name))
    for n in g.node:
        for i, v in enumerate(n.input):
            if v in renamed:
                n.input[i] = renamed[v]
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)


def export(model, x, path, names, dynamic=None):
    # PRESERVE (the model is in eval mode) keeps BatchNormalization nodes with their state-dict names;
    # EVAL would fold them into the convolutions, a different parameterisation to fine-tune.
    torch.onnx.export(model, x, path, opset_version=17, do_constant_folding=False, input_names=names[0], output_names=names[1],
                      training=torch.onnx.TrainingMode.PRESERVE, dynamic_axes=dynamic)
    onnx.checker.check_model(onnx.load(path), full_check=True)


def vision(name: str, model: torch.nn.Module, size: int, out_dir: str, fp16: bool, seed: int, lr: float) -> None:
    g = torch.Generator().manual_seed(seed)
    randomise_bn(model, g)
    model.eval()
    if fp16:  # the reference uses exactly the weights the file stores
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.half().float())
            for n, b in model.named_buffers():
                if b.dtype == torch.float32:
                    b.copy_(b.half().float())
    x = torch.randn(2, 3, size, size, generator=g)
    labels = torch.tensor([1, 7])
    path = os.path.join(out_dir, name + '.onnx')
    export(model, x, path, (['input'], ['logits']))
    if fp16:
        weights_to_float16(path)
    with torch.no_grad():
        y = model(x).numpy()
    trainable = [n for n, p in model.named_parameters()]
    losses, y_after = finetune(model, x, labels, lambda o: o, lr)
    json.dump({'model': name, 'torch': torch.__version__, 'torchvision': torchvision.__version__, 'opset': 17, 'input': b64(x.numpy()),
               'output': b64(y), 'labels': labels.tolist(), 'lr': lr, 'steps': STEPS, 'losses': losses, 'output_after': b64(y_after),
               'trainable': trainable}, open(os.path.join(out_dir, name + '.json'), 'w'))
    print(name, os.path.getsize(path), 'bytes; losses', losses)


class LstmLm(torch.nn.Module):
    def __init__(self, vocab=40, emb=16, hidden=24, layers=2):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, emb)
        self.lstm = torch.nn.LSTM(emb, hidden, num_layers=layers)
        self.out = torch.nn.Linear(hidden, vocab)

    def forward(self, tokens):
        h, _ = self.lstm(self.emb(tokens))
        return self.out(h)


def lstm_lm(out_dir: str) -> None:
    torch.manual_seed(3)
    model = LstmLm().eval()
    g = torch.Generator().manual_seed(4)
    tokens = torch.randint(0, 40, (7, 3), generator=g)
    targets = torch.randint(0, 40, (7 * 3,), generator=g)
    path = os.path.join(out_dir, 'lstm_lm.onnx')
    export(model, tokens, path, (['tokens'], ['logits']))
    with torch.no_grad():
        y = model(tokens).numpy()
    losses, y_after = finetune(model, tokens, targets, lambda o: o.reshape(-1, 40), 1.0)
    json.dump({'model': 'lstm_lm', 'torch': torch.__version__, 'opset': 17, 'input': b64(tokens.numpy()), 'output': b64(y),
               'labels': targets.tolist(), 'lr': 1.0, 'steps': STEPS, 'losses': losses, 'output_after': b64(y_after),
               'trainable': [n for n, _ in model.named_parameters()]}, open(os.path.join(out_dir, 'lstm_lm.json'), 'w'))
    print('lstm_lm', os.path.getsize(path), 'bytes; losses', losses)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--big-out', default='/tmp/kiln-real-models')
    ap.add_argument('--skip-big', action='store_true')
    a = ap.parse_args()
    os.makedirs(SMALL_OUT, exist_ok=True)
    torch.manual_seed(0)
    vision('mobilenet_v2_025', torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10), 32, SMALL_OUT, True, 1, 0.05)
    lstm_lm(SMALL_OUT)
    if not a.skip_big:
        os.makedirs(a.big_out, exist_ok=True)
        torch.manual_seed(0)
        vision('resnet18', torchvision.models.resnet18(num_classes=1000), 64, a.big_out, False, 2, 0.002)


if __name__ == '__main__':
    main()
