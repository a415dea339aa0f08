// One Kiln job (a workload at one thread count) in its own process; main.ts starts it.
// The workloads are those of ../shared/bench-anchors/README.md, built from Kiln's public API.
import * as kilnTensor from '@kiln/tensor';
import { tensor, getBackend, setBackend, setNumThreads, getNumThreads, noGrad, manualSeed, type Tensor } from '@kiln/tensor';
import { Sequential, Linear, ReLU, Conv2d, MaxPool2d, Flatten, crossEntropy, type Module } from '@kiln/nn';
import { SGD, Adam, type Optimizer } from '@kiln/optim';
import { median, randomF32, randomInts, timeCalls, trainRates } from './common.js';
import { emit, parseJobSpec, runJob } from './job.js';

const spec = parseJobSpec(process.argv[2]);
const anchor = (): string => `kiln-${getBackend().name}`;
const out = (rec: { workload: string; metric: string; value: number; [k: string]: unknown }): void =>
  emit({ anchor: anchor(), threads: spec.threads, ...rec, backend_threads: getNumThreads(), ...backendInfo() });

/**
 * What the wasm backend says about itself (its build, the most threads a kernel used), looked up
 * by name because that export is young and may change: `wasmInfo()` (an object) or `wasmBuild()`.
 */
function backendInfo(): Record<string, unknown> {
  if (getBackend().name !== 'wasm') return {};
  const k = kilnTensor as unknown as Record<string, unknown>;
  const fn = typeof k.wasmInfo === 'function' ? k.wasmInfo : typeof k.wasmBuild === 'function' ? k.wasmBuild : null;
  const v: unknown = fn ? (fn as () => unknown)() : null;
  return v === null || v === undefined ? {} : { backend_info: v };
}

function mlp(): Module {
  return new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 128), new ReLU(), new Linear(128, 10));
}

/** LeNet-5 as the anchors define it: NCHW 1×28×28 input, padding 2 on the first conv. */
function lenet5(): Module {
  return new Sequential(
    new Conv2d(1, 6, 5, { padding: 2 }), new ReLU(), new MaxPool2d(2),
    new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2),
    new Flatten(),
    new Linear(400, 120), new ReLU(), new Linear(120, 84), new ReLU(), new Linear(84, 10),
  );
}

function sgemm(): void {
  for (const n of spec.sizes) {
    const a = tensor(randomF32(n * n, 1), { shape: [n, n] });
    const b = tensor(randomF32(n * n, 2), { shape: [n, n] });
    // Only the multiply is timed; operands are made once and nothing is read back.
    const times = timeCalls(() => { noGrad(() => a.matmul(b)); }, { warmup: 3, minReps: 5, minSeconds: 1, maxReps: 200 });
    const med = median(times);
    out({ workload: 'sgemm', n, metric: 'GFLOPS', value: (2 * n ** 3) / med / 1e9, median_ms: med * 1e3, reps: times.length });
  }
}

function train(kind: 'mlp' | 'lenet'): void {
  const batch = 64;
  const model = kind === 'mlp' ? mlp() : lenet5();
  const x = tensor(randomF32(batch * 784), { shape: kind === 'mlp' ? [batch, 784] : [batch, 1, 28, 28] });
  const y = tensor(randomInts(batch, 10), { shape: [batch] });
  const opt: Optimizer = kind === 'mlp' ? new SGD(model.parameters(), { lr: 0.01 }) : new Adam(model.parameters(), { lr: 1e-3 });
  let loss: Tensor | null = null;
  // One step: forward + loss + backward + optimizer update (Kiln runs synchronously).
  const step = (): void => {
    opt.zeroGrad();
    loss = crossEntropy(model.forward(x) as Tensor, y);
    loss.backward();
    opt.step();
  };
  const rates = trainRates(step, batch, { seconds: spec.seconds, windows: spec.windows });
  out({ workload: kind, metric: 'samples/s', value: median(rates), windows: rates, final_loss: (loss as Tensor | null)?.item() });
}

function infer(): void {
  const model = lenet5().eval();
  for (const batch of [1, 256]) {
    const x = tensor(randomF32(batch * 784, 3), { shape: [batch, 1, 28, 28] });
    // Forward only, eval mode, no tape; the output is read as the anchors read theirs.
    const fn = (): void => { noGrad(() => (model.forward(x) as Tensor).dataSync()); };
    if (batch === 1) {
      const t = timeCalls(fn, { warmup: 50, minReps: 200, minSeconds: 1 });
      out({ workload: 'infer-b1', metric: 'ms', value: median(t) * 1e3, reps: t.length });
    } else {
      const t = timeCalls(fn, { warmup: 3, minReps: 10, minSeconds: 1 });
      out({ workload: 'infer-b256', metric: 'samples/s', value: batch / median(t), median_ms: median(t) * 1e3, reps: t.length });
    }
  }
}

await runJob({ anchor, spec }, () => {
  if (spec.backend) setBackend(spec.backend);
  setNumThreads(spec.threads);
  const actual = getNumThreads();
  // A single-threaded backend (the reference) ignores setNumThreads; its t2 figure is then a
  // second t1 run, and the line says so.
  if (actual !== spec.threads) console.error(`kiln-${getBackend().name}: asked for ${spec.threads} threads, backend uses ${actual}`);
  manualSeed(0);
  if (spec.workload === 'sgemm') sgemm();
  else if (spec.workload === 'infer') infer();
  else train(spec.workload);
});
