import { noGrad, type Tensor } from '@kiln/tensor';
import { decodeModel, importOnnx, runSession, type ModelProto } from '@kiln/onnx';
import { parseArgs, type CommandSpec } from '../args.js';
import { InputError, UsageError } from '../errors.js';
import { readInputs } from '../inputs.js';
import { readModelFile, type Out } from './common.js';
import { inspectModel } from './inspect.js';
import { EXECUTION_PROVIDERS, openSession, type Ep } from './session.js';

export const runSpec: CommandSpec = {
  name: 'run',
  positional: ['model.onnx'],
  flags: {
    input: { kind: 'string' },
    ep: { kind: 'string', choices: EXECUTION_PROVIDERS, default: 'cpu' },
    backend: { kind: 'string', choices: ['ort', 'kiln'], default: 'ort' },
    json: { kind: 'bool' },
  },
  help: `kiln run <model.onnx> --input <x.json|x.npy|image.png|image.jpg> [--ep cpu|cuda|webgpu] [--backend ort|kiln] [--json]

Runs the model on one input and prints its outputs (shape, values, and the arg-max of each row
for [N, K] outputs). The last line on stderr says what actually ran.
  --input    x.json: { "<input name>": nested array } or a bare nested array (one-input models);
             x.npy: a NumPy array (<f4, <f8, <i4, <i8, |u1, |b1); image.png/.jpg: scaled to [0, 1],
             converted to the model's channels (1: luminance, 3: RGB) and resized to its H×W
  --ep       ONNX Runtime execution provider (default cpu); one that cannot start here falls
             back to cpu with a note on stderr
  --backend  ort (default: onnxruntime-node) or kiln (import the graph into Kiln and run that)
  --json     print {"outputs": {...}, "backend", "provider"} as JSON`,
};

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(4));

/** Human-readable outputs: shape, up to 12 values per row, arg-max per row of a 2-d output. */
export function formatOutputs(outputs: Record<string, Tensor>): string {
  const lines: string[] = [];
  for (const [name, t] of Object.entries(outputs)) {
    lines.push(`${name}  ${t.dtype} [${t.shape.join(', ')}]`);
    const data = Array.from(t.dataSync() as ArrayLike<number>, Number);
    const cols = t.shape.length >= 2 ? t.shape[t.shape.length - 1]! : data.length;
    const rows = cols ? data.length / cols : 0;
    for (let r = 0; r < Math.min(rows, 8); r++) {
      const row = data.slice(r * cols, (r + 1) * cols);
      const shown = row.slice(0, 12).map(fmt).join(' ') + (row.length > 12 ? ` … (${row.length} values)` : '');
      const arg = t.shape.length === 2 && cols > 1 ? `  → argmax ${row.indexOf(Math.max(...row))}` : '';
      lines.push(`  ${shown}${arg}`);
    }
    if (rows > 8) lines.push(`  … ${rows - 8} more rows`);
  }
  return lines.join('\n');
}

export async function runCommand(argv: readonly string[], out: Out): Promise<void> {
  const { positional, flags } = parseArgs(runSpec, argv);
  const file = positional[0]!;
  if (typeof flags.input !== 'string') throw new UsageError('kiln run: missing --input <x.json|x.npy|image.png|image.jpg>');
  const bytes = await readModelFile(file);
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new InputError(`kiln run: ${file} is not an ONNX model: ${(e as Error).message}`);
  }
  if (!model.graph) throw new InputError(`kiln run: ${file} is not an ONNX model (no graph)`);
  const specs = inspectModel(model).inputs;
  const inputs = await readInputs(flags.input, specs);
  let outputs: Record<string, Tensor>;
  let ran: string, provider: string | null = null;
  if (flags.backend === 'kiln') {
    const module = importOnnx(bytes);
    module.eval();
    const res = noGrad(() => module.forward(...module.inputNames.map((n) => inputs[n]!)));
    const list = Array.isArray(res) ? res : [res];
    outputs = Object.fromEntries(module.outputNames.map((n, i) => [n, list[i]!]));
    ran = 'Kiln (imported graph)';
  } else {
    const opened = await openSession(bytes, flags.ep as Ep, out);
    outputs = await runSession(opened.session, inputs);
    provider = opened.provider;
    ran = `onnxruntime-node, execution provider ${opened.provider}${opened.provider !== flags.ep ? ` (requested ${String(flags.ep)})` : ''}`;
  }
  if (flags.json) {
    out.print(JSON.stringify({ outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.toArray()])), backend: flags.backend, provider }));
  } else {
    out.print(formatOutputs(outputs));
  }
  out.note(`ran on ${ran}`);
}
