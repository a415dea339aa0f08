import { describe, expect, it } from 'vitest';
import { Generator, Tensor, manualSeed, noGrad } from '@kiln/tensor';
import { crossEntropy } from '@kiln/nn';
import { Adam, SGD } from '@kiln/optim';
import { fit, type RecurrentState } from './index.js';
import { Elman } from './test-utils/elman.js';
import { snapshot } from './test-utils/toy.js';

const quiet = { progress: false } as const;

/** Sequence labelling that needs memory: y_t = 1 when x_{t−2} > 0 (0 for the first two steps). */
function delayedSign(n: number, steps: number, seed: number): { x: Tensor; y: Tensor } {
  const g = new Generator(seed);
  const x = new Float32Array(n * steps), y = new Int32Array(n * steps);
  for (let i = 0; i < n * steps; i++) x[i] = g.random() * 2 - 1;
  for (let i = 0; i < n; i++) for (let t = 2; t < steps; t++) y[i * steps + t] = x[i * steps + t - 2]! > 0 ? 1 : 0;
  return { x: new Tensor(x, [n, steps, 1], 'float32'), y: new Tensor(y, [n, steps], 'int32') };
}

const seqLoss = (o: Tensor, y: Tensor) => crossEntropy(o.reshape([-1, o.shape[2]!]), y.reshape([-1]));

function batches(d: { x: Tensor; y: Tensor }, size: number): Tensor[][] {
  const out: Tensor[][] = [];
  for (let i = 0; i < d.x.shape[0]!; i += size) out.push([d.x.narrow(0, i, size), d.y.narrow(0, i, size)]);
  return out;
}

function maxDiff(a: Record<string, number[]>, b: Record<string, number[]>): number {
  let m = 0;
  for (const k of Object.keys(a)) a[k]!.forEach((v, i) => { m = Math.max(m, Math.abs(v - b[k]![i]!)); });
  return m;
}

describe('fit: backpropagation through time', () => {
  it('tbptt with a window as long as the sequence is full BPTT; shorter windows train differently', async () => {
    const d = delayedSign(8, 12, 1);
    const run = async (tbptt?: { steps: number }) => {
      manualSeed(3);
      const model = new Elman(1, 6, 2, true, { dtype: 'float32' });
      await fit(model, { train: batches(d, 4), loss: seqLoss, optimizer: new SGD(model.parameters(), { lr: 0.5 }), epochs: 2, ...quiet, ...(tbptt ? { tbptt } : {}) });
      return snapshot(model);
    };
    const full = await run(), whole = await run({ steps: 12 }), longer = await run({ steps: 50 }), short = await run({ steps: 4 });
    expect(maxDiff(full, whole)).toBeLessThan(1e-6);
    expect(maxDiff(full, longer)).toBeLessThan(1e-6);
    expect(maxDiff(full, short)).toBeGreaterThan(1e-3);
  });

  it('tbptt matches a hand-written loop: k-step windows, one update each, the carried state detached', async () => {
    const d = delayedSign(6, 10, 2), k = 3;
    manualSeed(4);
    const a = new Elman(1, 5, 2, true);
    manualSeed(4);
    const b = new Elman(1, 5, 2, true);
    const h = await fit(a, { train: batches(d, 3), loss: seqLoss, optimizer: new SGD(a.parameters(), { lr: 0.3 }), epochs: 1, tbptt: { steps: k }, ...quiet });
    const opt = new SGD(b.parameters(), { lr: 0.3 });
    let weighted = 0;
    for (const [x, y] of batches(d, 3)) {
      let state: RecurrentState | null = null, sum = 0;
      for (let t0 = 0; t0 < 10; t0 += k) {
        const len = Math.min(k, 10 - t0);
        opt.zeroGrad();
        const [out, s] = b.forwardWithState(x!.narrow(1, t0, len), state);
        const l = seqLoss(out, y!.narrow(1, t0, len));
        sum += (l.item() as number) * len;
        l.backward();
        opt.step();
        state = (s as Tensor).detach();
      }
      weighted += (sum / 10) * 3;
    }
    expect(maxDiff(snapshot(a), snapshot(b))).toBeLessThan(1e-6);
    // the reported loss is each batch's windows weighted by their length, then batches by their size
    expect(h.trainLoss[0]!).toBeCloseTo(weighted / 6, 5);
  });

  it("carries the state across windows detached; resets it per batch, or per epoch with carry: 'epoch'", async () => {
    const d = delayedSign(4, 6, 3);
    for (const carry of ['batch', 'epoch'] as const) {
      manualSeed(5);
      const model = new Elman(1, 4, 2, true);
      const seen: string[] = [];
      const inner = model.forwardWithState.bind(model);
      model.forwardWithState = (x: Tensor, state: RecurrentState | null) => {
        seen.push(state === null ? 'fresh' : (state as Tensor).requiresGrad ? 'attached' : 'detached');
        return inner(x, state);
      };
      await fit(model, { train: batches(d, 2), loss: seqLoss, optimizer: new SGD(model.parameters(), { lr: 0.1 }), epochs: 2, tbptt: { steps: 3, carry }, ...quiet });
      // 2 epochs × 2 batches × 2 windows
      const batchStart = carry === 'batch' ? 'fresh' : 'detached';
      expect(seen).toEqual(['fresh', 'detached', batchStart, 'detached', 'fresh', 'detached', batchStart, 'detached']);
    }
  });

  it('an RNN trained with tbptt (k = 4 over 32 steps) learns a two-step memory task; k = 1 cannot', async () => {
    const train = delayedSign(32, 32, 7), test = delayedSign(16, 32, 8);
    const accuracy = async (k: number) => {
      manualSeed(6);
      const model = new Elman(1, 12, 2, true);
      const h = await fit(model, { train: batches(train, 8), loss: seqLoss, optimizer: new Adam(model.parameters(), { lr: 0.03 }), epochs: 25, tbptt: { steps: k }, ...quiet });
      const pred = noGrad(() => model.forward(test.x).argmax(2)).dataSync();
      const y = test.y.dataSync();
      let right = 0, total = 0;
      for (let i = 0; i < y.length; i++) if (i % 32 >= 2) { total++; if (pred[i] === y[i]) right++; }
      return { acc: right / total, first: h.trainLoss[0]!, last: h.trainLoss.at(-1)! };
    };
    const k4 = await accuracy(4), k1 = await accuracy(1);
    console.log(`tbptt delayed-sign test accuracy: k=4 ${k4.acc.toFixed(3)} (loss ${k4.first.toFixed(3)} → ${k4.last.toFixed(3)}), k=1 ${k1.acc.toFixed(3)} (loss ${k1.first.toFixed(3)} → ${k1.last.toFixed(3)})`);
    expect(k4.acc).toBeGreaterThan(0.9);
    expect(k4.last).toBeLessThan(0.2);
    // with one-step windows no gradient reaches the step that must store x_{t−2}
    expect(k1.acc).toBeLessThan(0.8);
  });

  it('a dev set whose batches differ in sequence length evaluates (no metrics: outputs are not concatenated)', async () => {
    manualSeed(8);
    const model = new Elman(1, 4, 2, true);
    const dev = [delayedSign(3, 5, 9), delayedSign(2, 8, 10)];
    const h = await fit(model, { train: batches(delayedSign(4, 6, 11), 2), dev: dev.map((d) => [d.x, d.y]), loss: seqLoss, optimizer: new SGD(model.parameters(), { lr: 0 }), epochs: 1, ...quiet });
    const want = noGrad(() => dev.reduce((a, d) => a + (seqLoss(model.forward(d.x), d.y).item() as number) * d.x.shape[0]!, 0) / 5);
    expect(h.devLoss[0]!).toBeCloseTo(want, 6);
  });

  it('rejects bad tbptt and clipGradNorm options, non-stateful models and targets without the time dim', async () => {
    manualSeed(0);
    const model = new Elman(1, 3, 2, true);
    const d = delayedSign(2, 4, 0);
    const base = { train: batches(d, 2), loss: seqLoss, optimizer: new SGD(model.parameters(), { lr: 0.1 }), epochs: 1, ...quiet };
    await expect(fit(model, { ...base, tbptt: { steps: 0 } })).rejects.toThrow('Kiln: fit: tbptt.steps must be a positive integer, got 0');
    await expect(fit(model, { ...base, tbptt: { steps: 2, window: 3 } as never })).rejects.toThrow(/Kiln: fit: unknown option 'tbptt\.window' \(known: tbptt\.steps, tbptt\.timeDim, tbptt\.carry\)/);
    await expect(fit(model, { ...base, tbptt: { steps: 2, carry: 'forever' } as never })).rejects.toThrow(/Kiln: fit: option 'tbptt\.carry' must be one of 'batch', 'epoch', got 'forever'/);
    await expect(fit(model, { ...base, tbptt: { steps: 2, timeDim: -1 } })).rejects.toThrow(/tbptt.timeDim must be an integer >= 0, got -1/);
    await expect(fit(model, { ...base, clipGradNorm: 0 })).rejects.toThrow('Kiln: fit: clipGradNorm must be a number > 0 (a max gradient norm), got 0');
    const plain = new Elman(1, 3, 2, true) as unknown as { forwardWithState?: unknown };
    plain.forwardWithState = undefined;
    await expect(fit(plain as never, { ...base, tbptt: { steps: 2 } })).rejects.toThrow(/tbptt needs a Stateful model: forwardWithState\(x, state\) => \[output, state\]/);
    const manyToOne = [[d.x, new Tensor(new Int32Array(2), [2], 'int32')]];
    await expect(fit(model, { ...base, train: manyToOne, tbptt: { steps: 2 } })).rejects.toThrow('Kiln: fit: tbptt cuts inputs and targets along time dim 1, but batch 1 has input [2,4,1] and target [2]');
  });
});

describe('fit: gradient clipping on a long-range task', () => {
  // The output at step 50 must reproduce the sign of the input at step 0 (the rest is noise). A
  // ReLU RNN with W_hh = 1.1·I carries the value but amplifies it (and its gradients) ~1.1^50 ≈ 117×.
  function firstValue(n: number, steps: number, seed: number): { x: Tensor; y: Tensor } {
    const g = new Generator(seed);
    const x = new Float32Array(n * steps), y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = g.random() < 0.5 ? -1 : 1;
      for (let t = 0; t < steps; t++) x[i * steps + t] = t === 0 ? y[i]! : (g.random() - 0.5) * 0.2;
    }
    return { x: new Tensor(x, [n, steps, 1], 'float32'), y: new Tensor(y, [n], 'float32') };
  }
  const mse = (o: Tensor, y: Tensor) => o.reshape([-1]).sub(y).square().mean();
  const setup = () => {
    manualSeed(2);
    const model = new Elman(1, 16, 1, false, { nonlinearity: 'relu', recurrentIdentity: 1.1 });
    const d = firstValue(64, 50, 12);
    return { model, d, train: batches(d, 16), optimizer: new SGD(model.parameters(), { lr: 0.05 }) };
  };

  it('explodes without clipping (the loss overflows within two updates) and trains with clipGradNorm', async () => {
    const a = setup();
    const norms: number[] = [];
    // clipGradNorm: Infinity records the norms without clipping
    const noClip = fit(a.model, { train: a.train, loss: mse, optimizer: a.optimizer, epochs: 5, clipGradNorm: Infinity, callbacks: { onBatchEnd: () => { norms.push(gradNorm(a.model.parameters())); } }, ...quiet });
    await expect(noClip).rejects.toThrow(/Kiln: fit: loss became (Infinity|NaN) at epoch 1, batch [23]/);
    expect(norms[0]!).toBeGreaterThan(1e4);

    const b = setup();
    const h = await fit(b.model, { train: b.train, loss: mse, optimizer: b.optimizer, epochs: 40, clipGradNorm: 1, ...quiet });
    expect(h.gradNorm!).toHaveLength(40);
    expect(h.gradNorm![0]!).toBeGreaterThan(1e4); // the same explosion, clipped to norm 1
    expect(h.trainLoss[0]!).toBeGreaterThan(100);
    expect(h.trainLoss.at(-1)!).toBeLessThan(0.5);
    const out = noGrad(() => b.model.forward(b.d.x)).dataSync(), y = b.d.y.dataSync();
    let right = 0;
    for (let i = 0; i < y.length; i++) if (Math.sign(out[i]!) === y[i]) right++;
    expect(right / y.length).toBeGreaterThanOrEqual(0.95);
    console.log(`clipping test: first-batch gradient norm ${norms[0]!.toExponential(2)}; with clipGradNorm 1: epoch-1 loss ${h.trainLoss[0]!.toFixed(1)} → epoch-40 loss ${h.trainLoss.at(-1)!.toFixed(3)}, sign accuracy ${(right / y.length).toFixed(3)}`);
  });
});

function gradNorm(params: readonly Tensor[]): number {
  let s = 0;
  for (const p of params) if (p.grad) for (const v of p.grad.dataSync()) s += v * v;
  return Math.sqrt(s);
}
