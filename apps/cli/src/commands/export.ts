import { dirname, basename, extname, join } from 'node:path';
import { randn } from '@kiln/tensor';
import { parseSafetensors } from '@kiln/nn';
import { saveOnnx } from '@kiln/onnx';
import { parseArgs, positiveInt, type CommandSpec } from '../args.js';
import { InputError, UsageError } from '../errors.js';
import { buildZooModel, defaultInput } from '../zoo.js';
import { readInputFile, type Out } from './common.js';

export const exportSpec: CommandSpec = {
  name: 'export',
  positional: ['checkpoint.safetensors'],
  flags: {
    model: { kind: 'string' },
    opset: { kind: 'int', default: 18 },
    out: { kind: 'string' },
    'num-classes': { kind: 'int' },
    'in-channels': { kind: 'int' },
    'input-size': { kind: 'int' },
    variant: { kind: 'string' },
  },
  help: `kiln export <checkpoint.safetensors> --model <zoo name> [--opset 17..21] [--out model.onnx]
            [--num-classes N] [--in-channels C] [--input-size S] [--variant NAME]

Builds the zoo model, loads the checkpoint's weights into it (every key must match) and writes
ONNX with a symbolic batch dim (input 'input' [batch, C, S, S], output 'logits').
  --model        zoo name (lenet5, resnet18, ...); default: the checkpoint's kiln.model metadata
  --opset        ai.onnx opset, 17 to 21 (default 18)
  --out          output file (default: the checkpoint's path with .onnx)
  --num-classes, --in-channels, --input-size, --variant
                 override the checkpoint's metadata (written by kiln train) or the model's defaults`,
};

/** Metadata keys that `kiln train` writes into its checkpoint and `kiln export` reads back. */
export const META = { model: 'kiln.model', numClasses: 'kiln.num_classes', inChannels: 'kiln.in_channels', inputSize: 'kiln.input_size', variant: 'kiln.variant' } as const;

export async function exportCommand(argv: readonly string[], out: Out): Promise<void> {
  const { positional, flags } = parseArgs(exportSpec, argv);
  const file = positional[0]!;
  const opset = flags.opset as number;
  if (opset < 17 || opset > 21) throw new UsageError(`kiln export: --opset must be an integer from 17 to 21, got ${opset}`);
  const bytes = await readInputFile(file, 'checkpoint');
  let ckpt: ReturnType<typeof parseSafetensors>;
  try {
    ckpt = parseSafetensors(bytes);
  } catch (e) {
    throw new InputError(`kiln export: ${file} is not a readable safetensors checkpoint: ${(e as Error).message}`);
  }
  const meta = ckpt.metadata;
  const name = (flags.model as string | undefined) ?? meta[META.model];
  if (!name) throw new UsageError(`kiln export: missing --model <zoo name> (${file} does not name its model in its metadata)`);
  const fromMeta = (key: string, flag: string): number | undefined => {
    if (flags[flag] !== undefined) return positiveInt(exportSpec, flag, flags[flag]);
    const v = meta[key];
    return v === undefined ? undefined : Number(v);
  };
  const [c0, s0] = defaultInput(name);
  const numClasses = fromMeta(META.numClasses, 'num-classes');
  const inChannels = fromMeta(META.inChannels, 'in-channels') ?? c0;
  const size = fromMeta(META.inputSize, 'input-size') ?? s0;
  const variant = (flags.variant as string | undefined) ?? meta[META.variant];
  const model = buildZooModel(name, { numClasses, inChannels, variant }, 'export');
  try {
    model.loadStateDict(ckpt.tensors);
  } catch (e) {
    throw new InputError(`kiln export: ${file} does not fit model '${name}': ${(e as Error).message}`);
  }
  model.eval();
  const target = (flags.out as string | undefined) ?? join(dirname(file), `${basename(file, extname(file))}.onnx`);
  await saveOnnx(target, model, randn([1, inChannels, size, size]), {
    opset, dynamicAxes: true, inputNames: ['input'], outputNames: ['logits'],
    metadata: { [META.model]: name, ...(variant ? { [META.variant]: variant } : {}), 'kiln.input': `float32 [batch, ${inChannels}, ${size}, ${size}]` },
  });
  out.print(target);
  out.note(`exported ${name} from ${file} to ${target} (opset ${opset})`);
}
