#!/usr/bin/env node
/**
 * The kiln command line.
 *   kiln inspect model.onnx                      inputs/outputs, op histogram, parameters, opset
 *   kiln run model.onnx --input x.json [--backend kiln|ort]
 * x.json: { "<input name>": nested number array } or a bare nested array for a one-input model.
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { tensor, type Tensor } from '@kiln/tensor';
import { createSession, decodeModel, importOnnx, runSession, type ModelProto, type ValueInfoProto } from '@kiln/onnx';

const USAGE = `usage:
  kiln inspect <model.onnx>
  kiln run <model.onnx> --input <x.json> [--backend kiln|ort]`;

export class UsageError extends Error {}

const dims = (v: ValueInfoProto) => (v.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimParam ?? String(d.dimValue ?? '?'));

/** The report printed by `kiln inspect`, as data. */
export function inspectModel(model: ModelProto): Record<string, unknown> {
  const g = model.graph ?? {};
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  const histogram: Record<string, number> = {};
  for (const n of g.node ?? []) histogram[n.opType ?? '?'] = (histogram[n.opType ?? '?'] ?? 0) + 1;
  const parameters = (g.initializer ?? []).reduce((s, t) => s + (t.dims ?? []).reduce((a, b) => a * Number(b), 1), 0);
  return {
    producer: `${model.producerName ?? ''} ${model.producerVersion ?? ''}`.trim(),
    irVersion: model.irVersion ?? 0,
    opsets: Object.fromEntries((model.opsetImport ?? []).map((o) => [o.domain || 'ai.onnx', o.version ?? 0])),
    inputs: (g.input ?? []).filter((v) => !inits.has(v.name)).map((v) => ({ name: v.name, shape: dims(v) })),
    outputs: (g.output ?? []).map((v) => ({ name: v.name, shape: dims(v) })),
    ops: histogram,
    nodes: (g.node ?? []).length,
    parameters,
    metadata: Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
  };
}

function nested(t: Tensor): unknown {
  return t.toArray();
}

export async function main(argv: string[], print: (s: string) => void = console.log): Promise<void> {
  const [cmd, file, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h') throw new UsageError(USAGE);
  if (cmd !== 'inspect' && cmd !== 'run') throw new UsageError(`kiln: unknown command '${cmd}'\n${USAGE}`);
  if (!file) throw new UsageError(`kiln ${cmd}: missing <model.onnx>\n${USAGE}`);
  const bytes = new Uint8Array(await readFile(file).catch((e: Error) => { throw new UsageError(`kiln ${cmd}: cannot read '${file}': ${e.message}`); }));
  if (cmd === 'inspect') {
    if (rest.length) throw new UsageError(`kiln inspect: unexpected arguments ${rest.join(' ')}\n${USAGE}`);
    print(JSON.stringify(inspectModel(decodeModel(bytes)), null, 2));
    return;
  }
  let inputPath: string | undefined;
  let backend = 'kiln';
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--input') inputPath = rest[++i];
    else if (rest[i] === '--backend') backend = rest[++i] ?? '';
    else throw new UsageError(`kiln run: unknown option '${rest[i]}'\n${USAGE}`);
  }
  if (!inputPath) throw new UsageError(`kiln run: missing --input <x.json>\n${USAGE}`);
  if (backend !== 'kiln' && backend !== 'ort') throw new UsageError(`kiln run: --backend must be kiln or ort, got '${backend}'`);
  let json: unknown;
  try { json = JSON.parse(await readFile(inputPath, 'utf8')); } catch (e) { throw new UsageError(`kiln run: cannot read JSON from '${inputPath}': ${(e as Error).message}`); }
  const module = importOnnx(bytes);
  const names = module.inputNames;
  const record = Array.isArray(json) ? { [names[0] ?? 'input']: json } : (json as Record<string, unknown>);
  const inputs: Record<string, Tensor> = {};
  for (const n of names) {
    if (!(n in record)) throw new UsageError(`kiln run: ${inputPath} lacks input '${n}' (model inputs: ${names.join(', ')})`);
    inputs[n] = tensor(record[n] as number[]);
  }
  let outputs: Record<string, Tensor>;
  if (backend === 'ort') {
    outputs = await runSession(await createSession(bytes), inputs);
  } else {
    module.eval();
    const out = module.forward(...names.map((n) => inputs[n]!));
    const list = Array.isArray(out) ? out : [out];
    outputs = Object.fromEntries(module.outputNames.map((n, i) => [n, list[i]!]));
  }
  print(JSON.stringify(Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, nested(v)]))));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((e: Error) => {
    console.error(e instanceof UsageError ? e.message : `kiln: ${e.message}`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  });
}
