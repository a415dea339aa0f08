"""PyTorch goldens for @kiln/vision's face (triplet loss) and style (neural style transfer) costs.

Run with Debian's python3 (torch 1.13):  /usr/bin/python3 packages/vision/scripts/gen_face_style_fixtures.py
Writes packages/vision/fixtures/face-style/{triplet,style}.safetensors (float64), each tensor
named '<case>.<what>'. The style costs follow deeplearning.ai's course 4 definitions (the same
formulas Kiln documents), computed with torch autograd for the gradients.
"""
import json, os, struct
import torch
import torch.nn.functional as F

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'face-style')


def save(path, tensors):
    header, blobs, off = {}, [], 0
    for k, t in tensors.items():
        a = t.detach().contiguous().to(torch.float64).numpy().tobytes()
        header[k] = {'dtype': 'F64', 'shape': list(t.shape), 'data_offsets': [off, off + len(a)]}
        blobs.append(a)
        off += len(a)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
    print(path, os.path.getsize(path), 'bytes,', len(tensors), 'tensors')


def triplet_cases():
    out = {}
    cases = [
        ('default', {}),
        ('margin0.5_p1', {'margin': 0.5, 'p': 1.0}),
        ('p3_swap', {'p': 3.0, 'swap': True}),
        ('swap_sum', {'swap': True, 'reduction': 'sum'}),
        ('eps0.1_none', {'eps': 0.1, 'reduction': 'none'}),
        ('margin2_none', {'margin': 2.0, 'reduction': 'none'}),
    ]
    for name, kw in cases:
        a = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
        p = (a.detach() + 0.6 * torch.randn(6, 5, dtype=torch.float64)).requires_grad_()
        n = (a.detach() + 0.9 * torch.randn(6, 5, dtype=torch.float64)).requires_grad_()
        loss = F.triplet_margin_loss(a, p, n, **kw)
        # a weighted sum so that 'none' has non-trivial gradients too
        w = torch.linspace(0.5, 1.5, loss.numel(), dtype=torch.float64).reshape(loss.shape)
        (loss * w).sum().backward()
        out.update({f'{name}.anchor': a, f'{name}.positive': p, f'{name}.negative': n, f'{name}.loss': loss.reshape(-1),
                    f'{name}.weight': w.reshape(-1), f'{name}.grad_anchor': a.grad, f'{name}.grad_positive': p.grad,
                    f'{name}.grad_negative': n.grad})
    # one unbatched triplet ([D] inputs)
    a, p, n = (torch.randn(7, dtype=torch.float64, requires_grad=True) for _ in range(3))
    loss = F.triplet_margin_loss(a, p, n, margin=3.0)
    loss.backward()
    out.update({'unbatched.anchor': a, 'unbatched.positive': p, 'unbatched.negative': n, 'unbatched.loss': loss.reshape(1),
                'unbatched.grad_anchor': a.grad, 'unbatched.grad_positive': p.grad, 'unbatched.grad_negative': n.grad})
    # pairwise_distance with p = 1.5
    x1, x2 = torch.randn(4, 6, dtype=torch.float64), torch.randn(4, 6, dtype=torch.float64)
    out.update({'pdist.x1': x1, 'pdist.x2': x2, 'pdist.p1.5': F.pairwise_distance(x1, x2, p=1.5)})
    return out


def gram(f):  # [N, C, H, W] -> [N, C, C]
    n, c, h, w = f.shape
    m = f.reshape(n, c, h * w)
    return m @ m.transpose(1, 2)


def content_cost(ac, ag):
    n, c, h, w = ac.shape
    return ((ac - ag) ** 2).sum() / (4 * c * h * w)


def style_layer_cost(as_, ag):
    n, c, h, w = as_.shape
    return ((gram(as_) - gram(ag)) ** 2).sum() / (4 * c * c * (h * w) ** 2)


def total_variation(x, p):
    dh = x[:, :, 1:, :] - x[:, :, :-1, :]
    dw = x[:, :, :, 1:] - x[:, :, :, :-1]
    return (dh.abs() ** p).sum() + (dw.abs() ** p).sum()


def style_cases():
    out = {}
    f = torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    g = gram(f)
    g.backward(torch.linspace(-1, 1, g.numel(), dtype=torch.float64).reshape(g.shape))
    out.update({'gram.input': f, 'gram.output': g, 'gram.grad': f.grad})
    ac, ag = torch.randn(1, 4, 3, 3, dtype=torch.float64), torch.randn(1, 4, 3, 3, dtype=torch.float64, requires_grad=True)
    jc = content_cost(ac, ag)
    jc.backward()
    out.update({'content.a_c': ac, 'content.a_g': ag, 'content.cost': jc.reshape(1), 'content.grad': ag.grad})
    layers = [(1, 3, 6, 6, 0.5), (1, 5, 3, 3, 0.3), (1, 6, 2, 2, 0.2)]
    js = torch.zeros((), dtype=torch.float64)
    for i, (n, c, h, w, lam) in enumerate(layers):
        a_s = torch.randn(n, c, h, w, dtype=torch.float64)
        a_g = torch.randn(n, c, h, w, dtype=torch.float64, requires_grad=True)
        cost = style_layer_cost(a_s, a_g)
        js = js + lam * cost
        out.update({f'style.l{i}.a_s': a_s, f'style.l{i}.a_g': a_g, f'style.l{i}.cost': cost.reshape(1),
                    f'style.l{i}.lambda': torch.tensor([lam], dtype=torch.float64)})
    js.backward()
    for i in range(len(layers)):
        out[f'style.l{i}.grad'] = out[f'style.l{i}.a_g'].grad
    out['style.cost'] = js.reshape(1)
    for p in (1, 2):
        x = torch.randn(2, 3, 5, 4, dtype=torch.float64, requires_grad=True)
        tv = total_variation(x, p)
        tv.backward()
        out.update({f'tv{p}.input': x, f'tv{p}.value': tv.reshape(1), f'tv{p}.grad': x.grad})
    alpha, beta = 10.0, 40.0
    out['total.value'] = (alpha * jc + beta * js).reshape(1)
    return out


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    save(os.path.join(OUT, 'triplet.safetensors'), triplet_cases())
    save(os.path.join(OUT, 'style.safetensors'), style_cases())
