// ONNX Runtime (onnxruntime-node, CPU) on Kiln's exported MobileNetV2, in its own process: the
// same model main.ts's Kiln job runs (width 1.0, 1000 classes, seed 0), exported by @kiln/onnx
// with a dynamic batch axis, timed as the Kiln job times it (batch-1 latency, batch-32 rate).
import { exportOnnx } from '@kiln/onnx';
import { manualSeed, randn } from '@kiln/tensor';
import { mobilenetV2 } from '@kiln/vision/models';
import * as ort from 'onnxruntime-node';
import { cpuFigure, median, processCpuSeconds, randomF32 } from './common.js';
import { emit, parseJobSpec, runJob } from './job.js';

const spec = parseJobSpec(process.argv[2]);

/** Async call timing with the rules of common.ts's timeCalls (session.run is asynchronous). */
async function timeCallsAsync(fn: () => Promise<unknown>, warmup: number, minReps: number, minSeconds: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (!(times.length >= minReps && performance.now() - start >= minSeconds * 1e3)) {
    const t = performance.now();
    await fn();
    times.push((performance.now() - t) / 1e3);
  }
  return times;
}

await runJob({ anchor: () => 'ort-node', spec }, async () => {
  if (spec.workload !== 'mobilenetv2') throw new Error(`Kiln bench: ort-node runs only mobilenetv2, got ${spec.workload}`);
  manualSeed(0);
  const model = mobilenetV2({ widthMult: 1 }).eval();
  const bytes = exportOnnx(model, randn([1, 3, 224, 224]), { dynamicAxes: true, inputNames: ['input'], outputNames: ['logits'] });
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: spec.threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const out = (rec: { workload: string; metric: string; value: number; [k: string]: unknown }): void =>
    emit({ anchor: 'ort-node', threads: spec.threads, ...rec, onnx_bytes: bytes.length });
  for (const batch of [1, 32]) {
    const input = new ort.Tensor('float32', randomF32(batch * 3 * 224 * 224, 5), [batch, 3, 224, 224]);
    // The output is read back to JS, as the Kiln job reads its own.
    const fn = async (): Promise<unknown> => ((await session.run({ input })).logits!.data as Float32Array)[0];
    let calls = 0;
    const counted = async (): Promise<unknown> => { calls++; return fn(); };
    const c0 = processCpuSeconds();
    if (batch === 1) {
      const t = await timeCallsAsync(counted, 5, 10, 1);
      out({ workload: 'mobilenetv2-b1', metric: 'ms', value: median(t) * 1e3, reps: t.length, cpu_value: cpuFigure('ms', 1, calls, processCpuSeconds() - c0) });
    } else {
      const t = await timeCallsAsync(counted, 1, 3, 1);
      out({ workload: 'mobilenetv2-b32', metric: 'samples/s', value: batch / median(t), median_ms: median(t) * 1e3, reps: t.length, cpu_value: cpuFigure('samples/s', batch, calls, processCpuSeconds() - c0) });
    }
  }
});
