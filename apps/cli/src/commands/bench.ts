import { noGrad, randn, setNumThreads, type Tensor } from '@kiln/tensor';
import { exportOnnx, importOnnx, runSession, decodeModel } from '@kiln/onnx';
import { parseArgs, positiveInt, type CommandSpec } from '../args.js';
import { InputError, UsageError } from '../errors.js';
import { buildZooModel, defaultInput } from '../zoo.js';
import { readModelFile, type Out } from './common.js';
import { table, inspectModel } from './inspect.js';
import { EXECUTION_PROVIDERS, openSession, type Ep } from './session.js';

export const benchSpec: CommandSpec = {
  name: 'bench',
  positional: [],
  flags: {
    model: { kind: 'string', default: 'lenet5' },
    onnx: { kind: 'string' },
    batch: { kind: 'int', default: 1 },
    runs: { kind: 'int', default: 30 },
    threads: { kind: 'int' },
    ep: { kind: 'string', choices: EXECUTION_PROVIDERS, default: 'cpu' },
    json: { kind: 'bool' },
  },
  help: `kiln bench [--model lenet5 | --onnx model.onnx] [--batch 1] [--runs 30] [--threads N] [--ep cpu|cuda|webgpu] [--json]

Times inference of one model on random inputs, on Kiln and on ONNX Runtime (the same weights:
a zoo model is exported to ONNX in memory, an ONNX file is imported into Kiln), after 3 warm-up
runs; prints the median and the 10th/90th percentiles in ms and the throughput.
  --model    a zoo name, freshly initialised (default lenet5)
  --onnx     an ONNX file instead (its input must have fixed dims apart from a symbolic batch)
  --threads  Kiln's thread count (default: the machine's cores)`,
};

interface Timing { backend: string; medianMs: number; p10Ms: number; p90Ms: number; samplesPerSecond: number }

async function time(runs: number, batch: number, backend: string, f: () => Promise<void> | void): Promise<Timing> {
  for (let i = 0; i < 3; i++) await f();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await f();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!;
  return { backend, medianMs: q(0.5), p10Ms: q(0.1), p90Ms: q(0.9), samplesPerSecond: (1000 * batch) / q(0.5) };
}

export async function benchCommand(argv: readonly string[], out: Out): Promise<void> {
  const { flags } = parseArgs(benchSpec, argv);
  const batch = positiveInt(benchSpec, 'batch', flags.batch);
  const runs = positiveInt(benchSpec, 'runs', flags.runs);
  if (flags.threads !== undefined) setNumThreads(positiveInt(benchSpec, 'threads', flags.threads));
  let bytes: Uint8Array;
  let forward: (x: Tensor) => unknown;
  let shape: number[];
  let label: string;
  if (typeof flags.onnx === 'string') {
    bytes = await readModelFile(flags.onnx);
    let dims: (number | string)[];
    try {
      dims = inspectModel(decodeModel(bytes)).inputs[0]?.shape ?? [];
    } catch (e) {
      throw new InputError(`kiln bench: ${flags.onnx} is not an ONNX model: ${(e as Error).message}`);
    }
    if (dims.slice(1).some((d) => typeof d !== 'number')) throw new UsageError(`kiln bench: ${flags.onnx}'s input has symbolic dims [${dims.join(', ')}] beyond the batch; only the batch may be symbolic`);
    shape = [batch, ...(dims.slice(1) as number[])];
    const m = importOnnx(bytes);
    m.eval();
    forward = (x) => m.forward(x);
    label = flags.onnx;
  } else {
    const name = flags.model as string;
    const m = buildZooModel(name, {}, 'bench');
    m.eval();
    shape = [batch, ...defaultInput(name)];
    bytes = exportOnnx(m, randn([1, ...shape.slice(1)]), { dynamicAxes: true });
    forward = (x) => m.forward(x);
    label = `${name} (fresh weights)`;
  }
  const x = randn(shape);
  const kiln = await time(runs, batch, 'Kiln', () => { noGrad(() => (forward(x) as Tensor).dataSync()); });
  const opened = await openSession(bytes, flags.ep as Ep, out);
  const name = opened.session.inputNames[0]!;
  const ort = await time(runs, batch, `ORT ${opened.provider}`, async () => { await runSession(opened.session, { [name]: x }); });
  if (flags.json) {
    out.print(JSON.stringify({ model: label, inputShape: shape, runs, results: [kiln, ort] }, null, 2));
    return;
  }
  out.print(`${label}, input [${shape.join(', ')}], ${runs} runs after 3 warm-ups`);
  out.print(table([['backend', 'median ms', 'p10 ms', 'p90 ms', 'samples/s'], ...[kiln, ort].map((r) => [r.backend, r.medianMs.toFixed(3), r.p10Ms.toFixed(3), r.p90Ms.toFixed(3), r.samplesPerSecond.toFixed(0)])]));
}
