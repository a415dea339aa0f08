import { expect, it } from 'vitest';
import { gruRecurrence, lstmRecurrence, rnnRecurrence, tensor, type LstmRecurrenceArgs, type Tensor } from '../index.js';
import { checkGrad, expectClose, forEachBackend, randomInput } from '../test-utils/index.js';

type Kind = 'rnn' | 'lstm' | 'gru';
const sig = (v: number) => 1 / (1 + Math.exp(-v));

interface Case {
  T: number; B: number; I: number; H: number; P?: number;
  lengths?: number[]; reverse?: boolean; peep?: boolean; relu?: boolean; resetFirst?: boolean;
}

/** One step at a time, one row at a time, straight from the equations (float64). */
function naive(kind: Kind, c: Case, ts: Record<string, Tensor | null>): { y: number[][][]; h: number[][]; cs: number[][] } {
  const { T, B, I, H } = c;
  const P = c.P ?? H;
  const G = kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1;
  const d = (k: string) => ts[k]?.dataSync() ?? null;
  const x = d('input')!, wih = d('weightIh')!, whh = d('weightHh')!, bih = d('biasIh'), bhh = d('biasHh'), whr = d('weightHr'), pp = d('peephole');
  const y = Array.from({ length: T }, () => Array.from({ length: B }, () => new Array<number>(P).fill(0)));
  const hs: number[][] = [];
  const cs: number[][] = [];
  for (let b = 0; b < B; b++) {
    let h = Array.from({ length: P }, (_, j) => d('h0')?.[b * P + j] ?? 0);
    let cc = Array.from({ length: H }, (_, j) => d('c0')?.[b * H + j] ?? 0);
    const len = c.lengths?.[b] ?? T;
    for (let s = 0; s < len; s++) {
      const t = c.reverse ? len - 1 - s : s;
      const xa = new Array<number>(G * H).fill(0);
      const ha = new Array<number>(G * H).fill(0);
      for (let r = 0; r < G * H; r++) {
        xa[r] = bih ? bih[r]! : 0;
        for (let i = 0; i < I; i++) xa[r] = xa[r]! + wih[r * I + i]! * x[(t * B + b) * I + i]!;
        ha[r] = bhh ? bhh[r]! : 0;
        for (let i = 0; i < P; i++) ha[r] = ha[r]! + whh[r * P + i]! * h[i]!;
      }
      if (kind === 'rnn') h = xa.map((v, j) => (c.relu ? Math.max(0, v + ha[j]!) : Math.tanh(v + ha[j]!)));
      else if (kind === 'gru') {
        const r = h.map((_, j) => sig(xa[j]! + ha[j]!));
        // Reset first: W_hn·(r⊙h) + b_hn replaces r⊙(W_hn·h + b_hn).
        const hn = h.map((_, j) => (c.resetFirst
          ? (bhh ? bhh[2 * H + j]! : 0) + h.reduce((acc, hv, i) => acc + whh[(2 * H + j) * P + i]! * r[i]! * hv, 0)
          : r[j]! * ha[2 * H + j]!));
        h = h.map((hp, j) => {
          const z = sig(xa[H + j]! + ha[H + j]!);
          const n = Math.tanh(xa[2 * H + j]! + hn[j]!);
          return (1 - z) * n + z * hp;
        });
      } else {
        const a = xa.map((v, j) => v + ha[j]!);
        const m = new Array<number>(H);
        cc = cc.map((c0, j) => {
          const i = sig(a[j]! + (pp ? pp[j]! * c0 : 0));
          const f = sig(a[H + j]! + (pp ? pp[H + j]! * c0 : 0));
          const g = Math.tanh(a[2 * H + j]!);
          const c1 = f * c0 + i * g;
          const o = sig(a[3 * H + j]! + (pp ? pp[2 * H + j]! * c1 : 0));
          m[j] = o * Math.tanh(c1);
          return c1;
        });
        h = whr ? Array.from({ length: P }, (_, q) => m.reduce((acc, v, j) => acc + v * whr[q * H + j]!, 0)) : m;
      }
      y[t]![b] = [...h];
    }
    hs.push(h);
    cs.push(cc);
  }
  return { y, h: hs, cs };
}

function params(kind: Kind, c: Case, seed: number): Record<string, Tensor | null> {
  const G = kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1;
  const P = c.P ?? c.H;
  return {
    input: randomInput([c.T, c.B, c.I], seed),
    h0: randomInput([c.B, P], seed + 1),
    c0: kind === 'lstm' ? randomInput([c.B, c.H], seed + 2) : null,
    weightIh: randomInput([G * c.H, c.I], seed + 3, -0.7, 0.7),
    weightHh: randomInput([G * c.H, P], seed + 4, -0.7, 0.7),
    biasIh: randomInput([G * c.H], seed + 5),
    biasHh: randomInput([G * c.H], seed + 6),
    weightHr: kind === 'lstm' && c.P ? randomInput([c.P, c.H], seed + 7) : null,
    peephole: kind === 'lstm' && c.peep ? randomInput([3 * c.H], seed + 8) : null,
  };
}

function call(kind: Kind, c: Case, p: Record<string, Tensor | null>, linearBeforeReset = true, batchFirst = false): Tensor[] {
  const common = { ...p, lengths: c.lengths ?? null, reverse: c.reverse ?? false, batchFirst } as unknown as LstmRecurrenceArgs;
  if (kind === 'lstm') return lstmRecurrence(common);
  const { c0: _c, weightHr: _w, peephole: _p, ...rest } = common;
  if (kind === 'gru') return gruRecurrence({ ...rest, linearBeforeReset });
  return rnnRecurrence({ ...rest, nonlinearity: c.relu ? 'relu' : 'tanh' });
}

const cases: Array<[Kind, Case]> = [
  ['rnn', { T: 3, B: 2, I: 3, H: 4 }],
  ['rnn', { T: 4, B: 3, I: 2, H: 3, relu: true, reverse: true, lengths: [2, 4, 1] }],
  ['lstm', { T: 3, B: 2, I: 3, H: 3 }],
  ['lstm', { T: 4, B: 3, I: 2, H: 3, lengths: [3, 4, 1] }],
  ['lstm', { T: 4, B: 3, I: 2, H: 3, lengths: [1, 4, 2], reverse: true, peep: true }],
  ['lstm', { T: 3, B: 2, I: 2, H: 4, P: 2, peep: true }],
  ['gru', { T: 3, B: 2, I: 3, H: 3 }],
  ['gru', { T: 4, B: 3, I: 2, H: 3, lengths: [2, 1, 4], reverse: true }],
  ['gru', { T: 3, B: 2, I: 3, H: 3, resetFirst: true }],
  ['gru', { T: 4, B: 3, I: 2, H: 3, lengths: [2, 1, 4], reverse: true, resetFirst: true }],
];

forEachBackend('recurrence ops', () => {
  for (const [kind, c] of cases) {
    const label = `${kind} ${JSON.stringify(c)}`;
    it(`${label}: outputs and final states match the step-by-step equations`, () => {
      const p = params(kind, c, 11);
      const outs = call(kind, c, p, !c.resetFirst);
      const ref = naive(kind, c, p);
      expectClose(outs[0]!, ref.y, { atol: 1e-12, rtol: 1e-12 });
      expectClose(outs[1]!, ref.h, { atol: 1e-12, rtol: 1e-12 });
      if (kind === 'lstm') expectClose(outs[2]!, ref.cs, { atol: 1e-12, rtol: 1e-12 });
    });

    it(`${label}: float64 gradcheck through every input`, () => {
      const p = params(kind, c, 23);
      const keys = Object.keys(p).filter((k) => p[k] !== null);
      // A loss that weighs outputs and final states differently, so every path is checked.
      checkGrad((...xs: Tensor[]) => {
        const q: Record<string, Tensor | null> = { ...p };
        keys.forEach((key, i) => { q[key] = xs[i]!; });
        const outs = call(kind, c, q, !c.resetFirst);
        return outs.reduce((acc: Tensor, o, i) => acc.add(o.mul(o.add(i + 0.5)).sum()), outs[0]!.sum().mul(0));
      }, keys.map((key) => p[key]!));
    });
  }

  for (const [kind, c] of cases) {
    it(`${kind} ${JSON.stringify(c)}: float32 outputs and gradients agree with float64 (the backend's float32 kernels)`, () => {
      const p = params(kind, c, 31);
      const p32: Record<string, Tensor | null> = {};
      for (const [key, v] of Object.entries(p)) p32[key] = v ? v.detach().float().requiresGrad_() : null;
      const loss = (outs: Tensor[]) => outs.reduce((acc: Tensor, o, i) => acc.add(o.mul(o.add(i + 0.5)).sum()), outs[0]!.sum().mul(0));
      const o64 = call(kind, c, p, !c.resetFirst);
      const o32 = call(kind, c, p32, !c.resetFirst);
      o32.forEach((o, i) => expectClose(o, o64[i]!, { atol: 2e-6, rtol: 1e-5 }));
      loss(o64).backward();
      loss(o32).backward();
      for (const key of Object.keys(p)) {
        if (!p[key]) continue;
        expect(p32[key]!.grad!.dtype).toBe('float32');
        expectClose(p32[key]!.grad!, p[key]!.grad!, { atol: 1e-5, rtol: 1e-4 });
      }
    });
  }

  for (const [kind, c] of cases.filter(([, cc]) => cc.lengths)) {
    it(`${kind} ${JSON.stringify(c)}: batchFirst gives the time-major results and gradients, transposed, bit for bit`, () => {
      const p = params(kind, c, 41);
      const pb: Record<string, Tensor | null> = {};
      for (const [key, v] of Object.entries(p)) pb[key] = v ? v.detach().float().requiresGrad_() : null;
      const pt: Record<string, Tensor | null> = {};
      for (const [key, v] of Object.entries(pb)) pt[key] = v ? v.detach().requiresGrad_() : null;
      const xb = tensor(pb.input!.transpose(0, 1).dataSync(), { shape: [c.B, c.T, c.I], dtype: 'float32' }).requiresGrad_();
      const loss = (outs: Tensor[]) => outs.reduce((acc: Tensor, o, i) => acc.add(o.mul(o.add(i + 0.5)).sum()), outs[0]!.sum().mul(0));
      const ot = call(kind, c, pt, !c.resetFirst);
      const ob = call(kind, c, { ...pb, input: xb }, !c.resetFirst, true);
      expect(ob[0]!.shape).toEqual([c.B, c.T, ot[0]!.shape[2]]);
      expect(ob[0]!.transpose(0, 1).dataSync()).toEqual(ot[0]!.dataSync());
      ob.slice(1).forEach((o, i) => expect(o.dataSync()).toEqual(ot[i + 1]!.dataSync()));
      loss(ot).backward();
      loss([ob[0]!.transpose(0, 1), ...ob.slice(1)]).backward();
      expect(xb.grad!.transpose(0, 1).dataSync()).toEqual(pt.input!.grad!.dataSync());
      for (const key of Object.keys(p)) if (p[key] && key !== 'input') expect(pb[key]!.grad!.dataSync(), key).toEqual(pt[key]!.grad!.dataSync());
    });
  }

  it('batchFirst float64 gradcheck (LSTM with lengths, reversed)', () => {
    const c: Case = { T: 3, B: 3, I: 2, H: 2, lengths: [2, 3, 1], reverse: true };
    const p = params('lstm', c, 43);
    p.input = randomInput([c.B, c.T, c.I], 44);
    const keys = Object.keys(p).filter((k) => p[k] !== null);
    checkGrad((...xs: Tensor[]) => {
      const q: Record<string, Tensor | null> = { ...p };
      keys.forEach((key, i) => { q[key] = xs[i]!; });
      const outs = call('lstm', c, q, true, true);
      return outs.reduce((acc: Tensor, o, i) => acc.add(o.mul(o.add(i + 0.5)).sum()), outs[0]!.sum().mul(0));
    }, keys.map((key) => p[key]!));
  });

  it('float32 run agrees with float64 to float32 precision; padded steps output zeros', () => {
    const c: Case = { T: 4, B: 3, I: 2, H: 3, lengths: [3, 4, 1] };
    const p = params('lstm', c, 5);
    const p32: Record<string, Tensor | null> = {};
    for (const [key, v] of Object.entries(p)) p32[key] = v ? v.detach().float() : null;
    const [y32, h32] = call('lstm', c, p32);
    const [y64, h64] = call('lstm', c, p);
    expect(y32!.dtype).toBe('float32');
    expectClose(y32!, y64!, { atol: 1e-6, rtol: 1e-5 });
    expectClose(h32!, h64!, { atol: 1e-6, rtol: 1e-5 });
    const yd = y32!.dataSync();
    for (const [t, b] of [[1, 2], [2, 2], [3, 2], [3, 0]] as const) {
      for (let j = 0; j < 3; j++) expect(yd[(t * 3 + b) * 3 + j]).toBe(0);
    }
  });

  it('errors name the op, the argument and the shapes', () => {
    const p = params('gru', { T: 2, B: 2, I: 3, H: 2 }, 1);
    const base = { input: p.input!, weightIh: p.weightIh!, weightHh: p.weightHh! };
    expect(() => gruRecurrence({ ...base, input: tensor([1, 2]) })).toThrow(/gru: input must be 3-d \[T, B, inputSize\], got \[2\]/);
    expect(() => gruRecurrence({ ...base, input: tensor([1, 2]), batchFirst: true })).toThrow(/gru: input must be 3-d \[B, T, inputSize\], got \[2\]/);
    expect(() => gruRecurrence({ ...base, h0: randomInput([3, 2], 1) })).toThrow(/gru: h0 must have shape \[2,2\], got \[3,2\]/);
    expect(() => gruRecurrence({ ...base, weightIh: randomInput([6, 4], 1) })).toThrow(/gru: weightIh must have shape \[3·hidden,3\], got \[6,4\]/);
    expect(() => gruRecurrence({ ...base, lengths: [3, 1] })).toThrow(/gru: lengths\[0\] = 3 is outside 1\.\.2/);
    expect(() => gruRecurrence({ ...base, lengths: [0, 1] })).toThrow(/lengths\[0\] = 0/);
    expect(() => gruRecurrence({ ...base, lengths: [1] })).toThrow(/lengths has 1 entries for a batch of 2/);
  });
});
