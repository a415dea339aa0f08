import type { CommandSpec } from '../args.js';
import type { Out } from './common.js';
import { benchCommand, benchSpec } from './bench.js';
import { exportCommand, exportSpec } from './export.js';
import { inspectCommand, inspectSpec } from './inspect.js';
import { runCommand, runSpec } from './run.js';
import { trainCommand, trainSpec } from './train.js';

/** Every kiln command: its spec (flags, help) and what it does. */
export const COMMANDS: Record<string, { spec: CommandSpec; run: (argv: readonly string[], out: Out) => Promise<void>; summary: string }> = {
  inspect: { spec: inspectSpec, run: inspectCommand, summary: 'show an ONNX model\'s inputs, outputs, ops and parameters' },
  run: { spec: runSpec, run: runCommand, summary: 'run an ONNX model on a .json, .npy or .png input' },
  export: { spec: exportSpec, run: exportCommand, summary: 'turn a safetensors checkpoint of a zoo model into ONNX' },
  train: { spec: trainSpec, run: trainCommand, summary: 'train a zoo model on mnist or shapes; write weights, ONNX, curves' },
  bench: { spec: benchSpec, run: benchCommand, summary: 'time inference on Kiln and on ONNX Runtime' },
};
