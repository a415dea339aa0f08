import { describe, expect, it } from 'vitest';
import { getBackend, listBackends, makeResident, setNumThreads, tensor, withBackend, type Tensor } from '@kiln/tensor';
import { Adam, AdamW, RMSprop, SGD, type Optimizer, type OptimizerStateDict } from './index.js';

// The fused updates (one optimizerStep kernel call per group, state in flat arenas — in Wasm
// memory on the wasm backend) against the reference backend's loops: float32 weights and
// float64 state equal bit for bit, for every option combination, over several steps.

const hasWasm = listBackends().includes('wasm');
const SIZES = [[3, 5], [9], [1], [40]];

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

function params(): Tensor[] {
  return SIZES.map((shape, i) => tensor(rand(shape.reduce((a, b) => a * b, 1), i + 1), { shape, requiresGrad: true }));
}

/** Sets gradients for step t; with `skip`, parameter 2 has none on step 1 (its step count falls behind). */
function grads(ps: Tensor[], t: number, skip: boolean): void {
  ps.forEach((p, i) => { p.grad = skip && i === 2 && t === 1 ? null : tensor(rand(p.numel(), 100 * t + i), { shape: p.shape }); });
}

const bits = (t: Tensor) => Array.from(new Int32Array((t.dataSync() as Float32Array).slice().buffer));

type Make = (ps: Tensor[] | { params: Tensor[]; [k: string]: unknown }[]) => Optimizer;
const CASES: [string, Make][] = [];
for (const momentum of [0, 0.9]) {
  for (const dampening of [0, 0.2]) {
    for (const nesterov of [false, true]) {
      if (nesterov && (momentum === 0 || dampening !== 0)) continue;
      for (const weightDecay of [0, 0.01]) {
        for (const maximize of [false, true]) {
          const o = { lr: 0.1, momentum, dampening, nesterov, weightDecay, maximize };
          CASES.push([`SGD ${JSON.stringify(o)}`, (ps) => new SGD(ps, o)]);
        }
      }
    }
  }
}
for (const momentum of [0, 0.5]) {
  for (const centered of [false, true]) {
    for (const weightDecay of [0, 0.05]) {
      const o = { lr: 0.01, alpha: 0.9, momentum, centered, weightDecay };
      CASES.push([`RMSprop ${JSON.stringify(o)}`, (ps) => new RMSprop(ps, o)]);
    }
  }
}
for (const amsgrad of [false, true]) {
  for (const weightDecay of [0, 0.1]) {
    const o = { lr: 0.01, betas: [0.8, 0.95] as const, amsgrad, weightDecay };
    CASES.push([`Adam ${JSON.stringify(o)}`, (ps) => new Adam(ps, o)]);
    CASES.push([`AdamW ${JSON.stringify(o)}`, (ps) => new AdamW(ps, o)]);
  }
}

/** Steps 0..4 with a stateDict round trip (through JSON) after step 2; groups split the parameters. */
function trajectory(make: Make, skip: boolean, valuesMoved = false): { w: number[][]; sd: OptimizerStateDict } {
  const ps = params();
  // As Module.eval() leaves a model's parameters: values already resident, no gradient slots.
  if (valuesMoved) makeResident(ps, { gradSlots: false });
  const groups = () => [{ params: ps.slice(0, 3) }, { params: ps.slice(3), lr: 0.03 }];
  let opt = make(groups());
  for (let t = 0; t < 5; t++) {
    if (t === 3) {
      const saved = JSON.parse(JSON.stringify(opt.stateDict())) as OptimizerStateDict;
      opt = make(groups());
      opt.loadStateDict(saved);
    }
    grads(ps, t, skip);
    opt.step();
  }
  return { w: ps.map(bits), sd: opt.stateDict() };
}

describe.runIf(hasWasm)('fused optimizer steps on wasm equal the reference loops bit for bit', () => {
  it('the wasm backend is active by default here (so the fused Wasm path is what runs)', () => {
    expect(getBackend().name).toBe('wasm');
  });
  for (const [name, make] of CASES) {
    it(name, () => {
      for (const skip of [false, true]) {
        const ref = withBackend('reference', () => trajectory(make, skip));
        for (const threads of [1, 2]) {
          setNumThreads(threads);
          const got = trajectory(make, skip);
          expect(got.w, `weights, skip=${skip}, ${threads} threads`).toEqual(ref.w);
          expect(JSON.stringify(got.sd), `state, skip=${skip}, ${threads} threads`).toBe(JSON.stringify(ref.sd));
        }
        // Parameters whose values were moved before the optimizer was made (a model evaluated, then trained).
        expect(trajectory(make, skip, true).w, `weights, skip=${skip}, values moved first`).toEqual(ref.w);
      }
      setNumThreads(1);
    });
  }
});

describe('optimizer state in arenas', () => {
  it('state entries are live views: they change with each step; keys in creation order', () => {
    const [p] = params();
    const opt = new Adam([p!], { lr: 0.1, amsgrad: true });
    grads([p!], 0, false);
    opt.step();
    const st = opt.state.get(p!)!;
    expect(Object.keys(st)).toEqual(['step', 'expAvg', 'expAvgSq', 'maxExpAvgSq']);
    const m1 = Array.from(st.expAvg as Float64Array);
    expect(m1.every((v) => v !== 0)).toBe(true);
    grads([p!], 1, false);
    opt.step();
    expect(st.step).toBe(2);
    expect(Array.from(st.expAvg as Float64Array)).not.toEqual(m1);
  });

  it('switching backends between steps keeps the trajectory (state made on one, used on the other)', () => {
    const run = (backends: string[]): number[][] => {
      const ps = params();
      const opt = new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true });
      backends.forEach((b, t) => withBackend(b, () => { grads(ps, t, false); opt.step(); }));
      return ps.map(bits);
    };
    const other = hasWasm ? 'wasm' : 'reference';
    expect(run(['reference', other, 'reference', other])).toEqual(run(['reference', 'reference', 'reference', 'reference']));
    expect(run([other, 'reference', other])).toEqual(run(['reference', 'reference', 'reference']));
  });

  it('a parameter added to a group later gets fresh state; the others keep theirs', () => {
    const ps = params();
    const ref = params();
    const opt = new RMSprop([ps[0]!, ps[1]!], { lr: 0.01, momentum: 0.5 });
    const optRef = new RMSprop([ref[0]!, ref[1]!], { lr: 0.01, momentum: 0.5 });
    const extra = new RMSprop([ref[2]!], { lr: 0.01, momentum: 0.5 });
    for (let t = 0; t < 3; t++) {
      if (t === 1) opt.paramGroups[0]!.params.push(ps[2]!);
      grads(ps.slice(0, t >= 1 ? 3 : 2), t, false);
      grads(ref.slice(0, t >= 1 ? 3 : 2), t, false);
      opt.step();
      optRef.step();
      if (t >= 1) extra.step();
    }
    expect(ps.slice(0, 3).map(bits)).toEqual(ref.slice(0, 3).map(bits));
  });
});
