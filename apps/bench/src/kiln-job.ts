// One Kiln job (a workload at one thread count) in its own process; main.ts starts it.
// The workloads are those of ../shared/bench-anchors/README.md, built from Kiln's public API.
import * as kilnTensor from '@kiln/tensor';
import { tensor, getBackend, setBackend, setNumThreads, getNumThreads, threadsReady, noGrad, manualSeed, stepScope, type Tensor } from '@kiln/tensor';
import { crossEntropy, fuseConvBn, type Module } from '@kiln/nn';
import { mobilenetV2, resnet18 } from '@kiln/vision/models';
import { SGD, Adam, type Optimizer } from '@kiln/optim';
import { cpuFigure, median, nowSeconds, randomF32, randomInts, timeCalls, trainRates, withCpuTime } from './common.js';
import { emit, parseJobSpec, runJob } from './job.js';
import { lenet5, lstmLm, mlp, paramCount, transformerTagger } from './kiln-models.js';
import { memoryFigures } from './memory.js';

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

type TrainKind = 'mlp' | 'lenet' | 'lstm' | 'transformer' | 'resnet18';

async function train(kind: TrainKind): Promise<void> {
  // Batch, input, labels, model and optimizer of each workload (README.md, "Workloads").
  let batch = 64;
  let items = batch;
  let x: Tensor;
  let y: Tensor;
  let model: Module;
  let opt: Optimizer;
  if (kind === 'mlp' || kind === 'lenet') {
    model = kind === 'mlp' ? mlp() : lenet5();
    x = tensor(randomF32(batch * 784), { shape: kind === 'mlp' ? [batch, 784] : [batch, 1, 28, 28] });
    y = tensor(randomInts(batch, 10), { shape: [batch] });
    opt = kind === 'mlp' ? new SGD(model.parameters(), { lr: 0.01 }) : new Adam(model.parameters(), { lr: 1e-3 });
  } else if (kind === 'lstm' || kind === 'transformer') {
    batch = 32;
    items = batch * 64;
    model = kind === 'lstm' ? await lstmLm() : await transformerTagger();
    x = tensor(randomInts(batch * 64, 64, 3), { shape: [batch, 64] });
    y = tensor(randomInts(batch * 64, 64, 4), { shape: [batch * 64] });
    opt = new Adam(model.parameters(), { lr: 1e-3 });
  } else {
    batch = 32;
    items = batch;
    model = resnet18({ numClasses: 10 });
    x = tensor(randomF32(batch * 3 * 32 * 32), { shape: [batch, 3, 32, 32] });
    y = tensor(randomInts(batch, 10), { shape: [batch] });
    opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  }
  model.train();
  let loss = NaN;
  let initialLoss: number | null = null;
  // One step: forward + loss + backward + optimizer update (Kiln runs synchronously), in a step
  // scope: its activations live in Wasm memory and are given back when it ends.
  const step = (): void => {
    loss = stepScope(() => {
      opt.zeroGrad();
      const logits = model.forward(x) as Tensor;
      const l = crossEntropy(logits.reshape(-1, logits.shape[logits.ndim - 1]!), y);
      l.backward();
      opt.step();
      return l.item();
    });
    // The loss before any update, to check that both sides train the same model.
    initialLoss ??= loss;
  };
  const metric = kind === 'lstm' || kind === 'transformer' ? 'tokens/s' : 'samples/s';
  const { result: rates, calls, cpuSeconds } = withCpuTime(step, (s) => trainRates(s, items, { seconds: spec.seconds, windows: spec.windows, warmupSeconds: spec.warmup }));
  out({
    workload: kind, metric, value: median(rates), windows: rates, params: paramCount(model), initial_loss: initialLoss,
    final_loss: loss, warmup_s: spec.warmup, cpu_value: cpuFigure(metric, items, calls, cpuSeconds),
  });
}

/**
 * Peak RSS of `spec.rssSteps` MLP training steps (the `mlp` workload; issue 10): the whole
 * process's high-water mark at the end, with the resident set before the first step beside it.
 */
function rss(): void {
  const model = mlp();
  const x = tensor(randomF32(64 * 784), { shape: [64, 784] });
  const y = tensor(randomInts(64, 10), { shape: [64] });
  const opt = new SGD(model.parameters(), { lr: 0.01 });
  model.train();
  const before = memoryFigures();
  const t0 = nowSeconds();
  let loss = NaN;
  for (let i = 0; i < spec.rssSteps; i++) {
    opt.zeroGrad();
    const l = crossEntropy(model.forward(x) as Tensor, y);
    l.backward();
    opt.step();
    if (i === spec.rssSteps - 1) loss = l.item();
  }
  const seconds = nowSeconds() - t0;
  const after = memoryFigures();
  const heap = process.memoryUsage();
  out({
    workload: 'rss', metric: 'MB', value: after.peakMB, steps: spec.rssSteps, rss_start_mb: before.rssMB, rss_end_mb: after.rssMB,
    source: after.source, seconds, samples_per_s: (64 * spec.rssSteps) / seconds, final_loss: loss,
    heap_used_mb: heap.heapUsed / 1e6, external_mb: heap.external / 1e6, array_buffers_mb: heap.arrayBuffers / 1e6,
  });
}

/**
 * MobileNetV2 (width 1.0, 1000 classes) inference: batch-1 latency and batch-32 throughput.
 * BatchNorms are folded into the convolutions (fuseConvBn), as ONNX Runtime's graph optimiser
 * folds them in the ort-node job.
 */
function mobilenet(): void {
  const model = fuseConvBn(mobilenetV2({ widthMult: 1 }).eval());
  for (const batch of [1, 32]) {
    const x = tensor(randomF32(batch * 3 * 224 * 224, 5), { shape: [batch, 3, 224, 224] });
    // In a step scope, as the LeNet inference: the activations stay in Wasm memory between layers.
    const fn = (): void => { noGrad(() => stepScope(() => { (model.forward(x) as Tensor).dataSync(); })); };
    if (batch === 1) {
      const { result: t, calls, cpuSeconds } = withCpuTime(fn, (f) => timeCalls(f, { warmup: 5, minReps: 10, minSeconds: 1 }));
      out({ workload: 'mobilenetv2-b1', metric: 'ms', value: median(t) * 1e3, reps: t.length, fused: 'conv-bn', cpu_value: cpuFigure('ms', 1, calls, cpuSeconds) });
    } else {
      const { result: t, calls, cpuSeconds } = withCpuTime(fn, (f) => timeCalls(f, { warmup: 1, minReps: 3, minSeconds: 1 }));
      out({ workload: 'mobilenetv2-b32', metric: 'samples/s', value: batch / median(t), median_ms: median(t) * 1e3, reps: t.length, fused: 'conv-bn', cpu_value: cpuFigure('samples/s', batch, calls, cpuSeconds) });
    }
  }
}

function infer(): void {
  const model = lenet5().eval();
  for (const batch of [1, 256]) {
    const x = tensor(randomF32(batch * 784, 3), { shape: [batch, 1, 28, 28] });
    // Forward only, eval mode, no tape; the output is read as the anchors read theirs. In a step
    // scope, as the training step: the activations live in Wasm memory (TF.js keeps its tensors
    // in its Wasm heap too) and go back when it ends.
    const fn = (): void => { noGrad(() => stepScope(() => { (model.forward(x) as Tensor).dataSync(); })); };
    if (batch === 1) {
      const { result: t, calls, cpuSeconds } = withCpuTime(fn, (f) => timeCalls(f, { warmup: 50, minReps: 200, minSeconds: 1 }));
      out({ workload: 'infer-b1', metric: 'ms', value: median(t) * 1e3, reps: t.length, cpu_value: cpuFigure('ms', 1, calls, cpuSeconds) });
    } else {
      const { result: t, calls, cpuSeconds } = withCpuTime(fn, (f) => timeCalls(f, { warmup: 3, minReps: 10, minSeconds: 1 }));
      out({ workload: 'infer-b256', metric: 'samples/s', value: batch / median(t), median_ms: median(t) * 1e3, reps: t.length, cpu_value: cpuFigure('samples/s', batch, calls, cpuSeconds) });
    }
  }
}

await runJob({ anchor, spec }, async () => {
  if (spec.backend) setBackend(spec.backend);
  setNumThreads(spec.threads);
  // Start the worker threads and wait until they run kernels: no figure is taken on fewer threads.
  await threadsReady();
  const actual = getNumThreads();
  // A single-threaded backend (the reference) ignores setNumThreads; its t2 figure is then a
  // second t1 run, and the line says so.
  if (actual !== spec.threads) console.error(`kiln-${getBackend().name}: asked for ${spec.threads} threads, backend uses ${actual}`);
  manualSeed(0);
  if (spec.workload === 'sgemm') sgemm();
  else if (spec.workload === 'infer') infer();
  else if (spec.workload === 'mobilenetv2') mobilenet();
  else if (spec.workload === 'rss') rss();
  else await train(spec.workload);
});
