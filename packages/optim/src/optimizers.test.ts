import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '@kiln/tensor';
import { Adam, AdamW, RMSprop, SGD, type Optimizer } from './index.js';

const W0 = [0.5, -1.2, 2.0];
const GRADS = [[0.3, -0.8, 1.5], [-0.2, 0.4, 0.9], [0.7, 0.1, -1.1], [0.05, -0.6, 0.2]];

function param(dtype: 'float32' | 'float64' = 'float64'): Tensor {
  return tensor(dtype === 'float64' ? Float64Array.from(W0) : Float32Array.from(W0), { requiresGrad: true });
}

/** Runs `opt` over GRADS, returning the weights after each step. */
function run(make: (p: Tensor) => Optimizer, dtype: 'float32' | 'float64' = 'float64'): number[][] {
  const p = param(dtype);
  const opt = make(p);
  return GRADS.map((g) => {
    p.grad = tensor(dtype === 'float64' ? Float64Array.from(g) : Float32Array.from(g));
    opt.step();
    return Array.from(p.dataSync());
  });
}

function expectTraj(actual: number[][], expected: number[][], tol = 1e-12) {
  actual.forEach((row, s) => row.forEach((v, i) => expect(Math.abs(v - expected[s]![i]!), `step ${s} elem ${i}: ${v} vs ${expected[s]![i]}`).toBeLessThan(tol)));
}

// --- independent references, one scalar at a time, following PyTorch's documented algorithms ---
function refSGD(lr: number, mu: number, tau: number, nesterov: boolean, wd: number): number[][] {
  return runRef((w, g, s, t) => {
    let d = g + wd * w;
    if (mu) {
      s.b = t === 1 ? d : mu * s.b! + (1 - tau) * d;
      d = nesterov ? d + mu * s.b : s.b;
    }
    return w - lr * d;
  });
}
function refRMSprop(lr: number, alpha: number, eps: number, wd: number, mu: number, centered: boolean): number[][] {
  return runRef((w, g0, s) => {
    const g = g0 + wd * w;
    s.v = alpha * (s.v ?? 0) + (1 - alpha) * g * g;
    let vt = s.v;
    if (centered) { s.ga = alpha * (s.ga ?? 0) + (1 - alpha) * g; vt = vt - s.ga * s.ga; }
    if (mu > 0) { s.b = mu * (s.b ?? 0) + g / (Math.sqrt(vt) + eps); return w - lr * s.b; }
    return w - (lr * g) / (Math.sqrt(vt) + eps);
  });
}
function refAdam(lr: number, b1: number, b2: number, eps: number, wd: number, amsgrad: boolean, decoupled: boolean): number[][] {
  return runRef((w0, g0, s, t) => {
    let w = w0;
    let g = g0;
    if (decoupled) w = w - lr * wd * w; else g = g + wd * w;
    s.m = b1 * (s.m ?? 0) + (1 - b1) * g;
    s.v = b2 * (s.v ?? 0) + (1 - b2) * g * g;
    const mhat = s.m / (1 - b1 ** t);
    let vhat = s.v / (1 - b2 ** t);
    // PyTorch's code keeps the max of the raw v and divides by the current bias correction
    if (amsgrad) { s.vmax = Math.max(s.vmax ?? 0, s.v); vhat = s.vmax / (1 - b2 ** t); }
    return w - (lr * mhat) / (Math.sqrt(vhat) + eps);
  });
}
function runRef(f: (w: number, g: number, s: Record<string, number>, t: number) => number): number[][] {
  const w = [...W0];
  const states = W0.map(() => ({} as Record<string, number>));
  return GRADS.map((g, k) => w.map((_, i) => (w[i] = f(w[i]!, g[i]!, states[i]!, k + 1))).slice());
}

describe('SGD', () => {
  it('hand values: plain and momentum (PyTorch starts the buffer at g)', () => {
    const p = tensor(Float64Array.from([1]), { requiresGrad: true });
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    p.grad = tensor(Float64Array.from([2]));
    opt.step();
    expect(p.item()).toBeCloseTo(0.8, 14);
    opt.step();
    expect(p.item()).toBeCloseTo(0.8 - 0.1 * 3.8, 14);
  });
  it('matches the reference for momentum/dampening/nesterov/weight decay', () => {
    expectTraj(run((p) => new SGD([p], { lr: 0.1 })), refSGD(0.1, 0, 0, false, 0));
    expectTraj(run((p) => new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.9 })), refSGD(0.1, 0.9, 0.9, false, 0));
    expectTraj(run((p) => new SGD([p], { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.01 })), refSGD(0.05, 0.8, 0, true, 0.01));
    expectTraj(run((p) => new SGD([p], { lr: 0.1, momentum: 0.9 }), 'float32'), refSGD(0.1, 0.9, 0, false, 0), 1e-6);
  });
  it('plain SGD (and maximize) updates every element of a long parameter exactly as w − lr·g', () => {
    for (const maximize of [false, true]) {
      const w0 = Array.from({ length: 11 }, (_, i) => Math.sin(i + 1));
      const g = Array.from({ length: 11 }, (_, i) => Math.cos(3 * i));
      const p = tensor(Float64Array.from(w0), { requiresGrad: true });
      p.grad = tensor(Float64Array.from(g));
      new SGD([p], { lr: 0.1, maximize }).step();
      expect(Array.from(p.dataSync())).toEqual(w0.map((w, i) => w - (maximize ? -0.1 : 0.1) * g[i]!));
    }
  });
  it('rejects nesterov without momentum', () => {
    expect(() => new SGD([param()], { lr: 0.1, nesterov: true })).toThrow(/nesterov needs momentum > 0/);
  });
});

describe('RMSprop', () => {
  it('hand value: first step is lr·g/(√((1−α)g²) + eps)', () => {
    const p = tensor(Float64Array.from([1]), { requiresGrad: true });
    const opt = new RMSprop([p], { lr: 0.01, alpha: 0.99 });
    p.grad = tensor(Float64Array.from([2]));
    opt.step();
    expect(p.item()).toBeCloseTo(1 - 0.01 * 2 / (Math.sqrt(0.01 * 4) + 1e-8), 14); // = 0.9
    expect(p.item()).toBeCloseTo(0.9, 6);
  });
  it('matches the reference', () => {
    expectTraj(run((p) => new RMSprop([p])), refRMSprop(0.01, 0.99, 1e-8, 0, 0, false));
    expectTraj(run((p) => new RMSprop([p], { lr: 0.02, alpha: 0.9, momentum: 0.5, centered: true, weightDecay: 0.1 })), refRMSprop(0.02, 0.9, 1e-8, 0.1, 0.5, true));
  });
});

describe('Adam / AdamW', () => {
  it('hand values: constant gradient moves by lr per step', () => {
    const p = tensor(Float64Array.from([1]), { requiresGrad: true });
    const opt = new Adam([p], { lr: 0.1 });
    p.grad = tensor(Float64Array.from([2]));
    opt.step();
    expect(p.item()).toBeCloseTo(0.9, 8);
    opt.step();
    expect(p.item()).toBeCloseTo(0.8, 8);
  });
  it('matches the reference', () => {
    expectTraj(run((p) => new Adam([p])), refAdam(1e-3, 0.9, 0.999, 1e-8, 0, false, false));
    expectTraj(run((p) => new Adam([p], { lr: 0.1, betas: [0.8, 0.9], weightDecay: 0.1, amsgrad: true })), refAdam(0.1, 0.8, 0.9, 1e-8, 0.1, true, false));
    expectTraj(run((p) => new AdamW([p], { lr: 0.1 })), refAdam(0.1, 0.9, 0.999, 1e-8, 0.01, false, true));
    expectTraj(run((p) => new AdamW([p], { lr: 0.1, weightDecay: 0.5 }), 'float32'), refAdam(0.1, 0.9, 0.999, 1e-8, 0.5, false, true), 1e-6);
  });
  it('AdamW hand value: decay is applied to w, not to the gradient', () => {
    const p = tensor(Float64Array.from([1]), { requiresGrad: true });
    const opt = new AdamW([p], { lr: 0.1, weightDecay: 0.5 });
    p.grad = tensor(Float64Array.from([2]));
    opt.step();
    expect(p.item()).toBeCloseTo(1 * (1 - 0.05) - 0.1, 8);
  });
});

describe('Optimizer base', () => {
  it('param groups with per-group lr; params without grad are skipped', () => {
    const a = tensor(Float64Array.from([1]), { requiresGrad: true });
    const b = tensor(Float64Array.from([1]), { requiresGrad: true });
    const c = tensor(Float64Array.from([1]), { requiresGrad: true });
    const opt = new SGD([{ params: [a], lr: 0.5 }, { params: [b, c] }], { lr: 0.1 });
    a.grad = tensor(Float64Array.from([1]));
    b.grad = tensor(Float64Array.from([1]));
    opt.step();
    expect([a.item(), b.item(), c.item()]).toEqual([0.5, 0.9, 1]);
    opt.zeroGrad();
    expect(a.grad).toBeNull();
    a.grad = tensor(Float64Array.from([3]));
    opt.zeroGrad(false);
    expect(a.grad!.item()).toBe(0);
  });
  it('stateDict round trip continues the same trajectory', () => {
    const full = run((p) => new Adam([p], { lr: 0.1 }));
    const p = param();
    const opt = new Adam([p], { lr: 0.1 });
    for (const g of GRADS.slice(0, 2)) { p.grad = tensor(Float64Array.from(g)); opt.step(); }
    const saved = JSON.parse(JSON.stringify(opt.stateDict()));
    const p2 = tensor(Float64Array.from(p.dataSync()), { requiresGrad: true });
    const opt2 = new Adam([p2], { lr: 999 });
    opt2.loadStateDict(saved);
    expect(opt2.paramGroups[0]!.lr).toBe(0.1);
    for (const g of GRADS.slice(2)) { p2.grad = tensor(Float64Array.from(g)); opt2.step(); }
    expectTraj([Array.from(p2.dataSync())], [full[3]!]);
    expect(() => opt2.loadStateDict({ ...saved, paramGroups: [] })).toThrow(/checkpoint has 0 parameter groups, optimizer has 1/);
  });
  it('errors', () => {
    expect(() => new SGD([], { lr: 0.1 })).toThrow(/SGD: got an empty parameter list/);
    expect(() => new Adam([param()], { betas: [1, 0.9] })).toThrow(/Adam: betas must be in \[0, 1\)/);
    expect(() => new SGD([tensor(Int32Array.from([1]))], { lr: 0.1 })).toThrow(/floating tensors, got int32/);
    // a non-leaf never receives a stored gradient, so it would silently never move (PyTorch raises)
    expect(() => new SGD([param().mul(2)], { lr: 0.1 })).toThrow(/^Kiln: SGD: can't optimize a non-leaf tensor \(the result of an op, shape \[\d+\]\); pass the leaf, or detach\(\)\.requiresGrad_\(\)$/);
  });
});
