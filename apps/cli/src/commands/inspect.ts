import { basename } from 'node:path';
import { decodeModel, type ModelProto, type ValueInfoProto } from '@kiln/onnx';
import { InputError } from '../errors.js';
import type { CommandSpec } from '../args.js';
import { parseArgs } from '../args.js';
import { readModelFile, type Out } from './common.js';

export const inspectSpec: CommandSpec = {
  name: 'inspect',
  positional: ['model.onnx'],
  flags: { json: { kind: 'bool' } },
  help: `kiln inspect <model.onnx> [--json]

Prints what an ONNX model holds: producer, IR version and opsets, inputs and outputs (element
type and shape; symbolic dims by name), parameter count, an op histogram and the metadata.
  --json   print the same report as JSON (for scripts)`,
};

/** ONNX TensorProto element types by number. */
const ELEM: Record<number, string> = { 1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16' };

/** One graph input or output as the report gives it. */
export interface ValueReport { name: string; type: string; shape: (number | string)[] }

/** The report printed by `kiln inspect`, as data. */
export interface InspectReport {
  producer: string;
  irVersion: number;
  opsets: Record<string, number>;
  inputs: ValueReport[];
  outputs: ValueReport[];
  nodes: number;
  ops: Record<string, number>;
  parameters: number;
  initializers: number;
  metadata: Record<string, string>;
}

const value = (v: ValueInfoProto): ValueReport => ({
  name: v.name ?? '',
  type: ELEM[v.type?.tensorType?.elemType ?? 0] ?? 'unknown',
  shape: (v.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimParam || (d.dimValue != null ? Number(d.dimValue) : '?')),
});

/** Builds the `kiln inspect` report of a decoded model. */
export function inspectModel(model: ModelProto): InspectReport {
  const g = model.graph ?? {};
  const inits = g.initializer ?? [];
  const initNames = new Set(inits.map((t) => t.name));
  const ops: Record<string, number> = {};
  for (const n of g.node ?? []) ops[n.opType ?? '?'] = (ops[n.opType ?? '?'] ?? 0) + 1;
  return {
    producer: `${model.producerName ?? ''} ${model.producerVersion ?? ''}`.trim(),
    irVersion: Number(model.irVersion ?? 0),
    opsets: Object.fromEntries((model.opsetImport ?? []).map((o) => [o.domain || 'ai.onnx', Number(o.version ?? 0)])),
    inputs: (g.input ?? []).filter((v) => !initNames.has(v.name)).map(value),
    outputs: (g.output ?? []).map(value),
    nodes: (g.node ?? []).length,
    ops,
    parameters: inits.reduce((s, t) => s + (t.dims ?? []).reduce((a: number, b) => a * Number(b), 1), 0),
    initializers: inits.length,
    metadata: Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
  };
}

/** Renders rows of cells as a left-aligned text table with a header rule. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** The human-readable form of the report. */
export function formatReport(file: string, bytes: number, r: InspectReport): string {
  const shape = (v: ValueReport) => `[${v.shape.join(', ')}]`;
  const out = [
    `${basename(file)}  (${(bytes / 1024).toFixed(1)} KiB)`,
    `producer ${r.producer || '?'} · IR ${r.irVersion} · opsets ${Object.entries(r.opsets).map(([d, v]) => `${d} ${v}`).join(', ')}`,
    `${r.parameters.toLocaleString('en-US')} parameters in ${r.initializers} initializers · ${r.nodes} nodes`,
    '',
    table([['', 'name', 'type', 'shape'], ...r.inputs.map((v) => ['input', v.name, v.type, shape(v)]), ...r.outputs.map((v) => ['output', v.name, v.type, shape(v)])]),
    '',
    table([['op', 'count'], ...Object.entries(r.ops).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k, v]) => [k, String(v)])]),
  ];
  const meta = Object.entries(r.metadata);
  if (meta.length) out.push('', table([['metadata', 'value'], ...meta.map(([k, v]) => [k, v])]));
  return out.join('\n');
}

export async function inspectCommand(argv: readonly string[], out: Out): Promise<void> {
  const { positional, flags } = parseArgs(inspectSpec, argv);
  const file = positional[0]!;
  const bytes = await readModelFile(file);
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new InputError(`kiln inspect: ${file} is not an ONNX model: ${(e as Error).message}`);
  }
  if (!model.graph) throw new InputError(`kiln inspect: ${file} is not an ONNX model (no graph)`);
  const report = inspectModel(model);
  out.print(flags.json ? JSON.stringify(report, null, 2) : formatReport(file, bytes.byteLength, report));
}
