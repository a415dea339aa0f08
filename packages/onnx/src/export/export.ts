/**
 * exportOnnx: traces a forward pass through @kiln/tensor and writes an ONNX ModelProto.
 */
import { checkOptions, describeValue, noGrad, Tensor, traceOps, type TraceRecord } from '@kiln/tensor';
import { writeFileAtomic } from '@kiln/nn';
import { encodeModel, type ModelProto, type ValueInfoProto } from '../proto.js';
import { onnxDataType, storeInitializersAs } from '../tensor-proto.js';
import { GraphBuilder } from './builder.js';
import { compositeOps, opExporters } from './ops/index.js';
import { layerExporters } from './layers/index.js';

export const KILN_VERSION = '0.1.0';

/** Anything with a forward; nn Modules also give their parameters' and buffers' state-dict keys. */
export interface Exportable {
  forward(...inputs: Tensor[]): Tensor | Tensor[];
  namedParameters?(): Iterable<[string, Tensor]>;
  namedBuffers?(): Iterable<[string, Tensor]>;
  eval?(): unknown;
  training?: boolean;
}

export interface ExportOptions {
  /** ai.onnx opset (17–21; default 18). */
  opset?: number;
  /**
   * Symbolic dims, PyTorch-style: `{ input: { 0: 'batch' }, output: { 0: 'batch' } }`, or `true`
   * for a symbolic 'batch' dim 0 on every input and output.
   */
  dynamicAxes?: true | Record<string, Record<number, string>>;
  inputNames?: string[];
  outputNames?: string[];
  /** Extra model metadata (metadata_props). */
  metadata?: Record<string, string>;
  docString?: string;
  /**
   * Storage of float32 initializers: 'float16' halves the file (each is stored as FLOAT16 under its
   * state-dict name and Cast back to float32 before use); default 'float32'.
   */
  initializerDtype?: 'float32' | 'float16';
}

const DYNAMIC_AXES_HELP = "want true (dim 0 of every input and output is 'batch') or { <input or output name>: { <dim>: '<name>' } }";
const EXPORT_SPEC = {
  opset: 'int', inputNames: 'names', outputNames: 'names', docString: 'string', initializerDtype: ['float32', 'float16'],
  metadata: (v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((e) => typeof e === 'string') ? null : 'an object of strings'),
  dynamicAxes: (v: unknown) => {
    if (v === true) return null;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return DYNAMIC_AXES_HELP;
    for (const [name, axes] of Object.entries(v)) {
      if (axes === null || typeof axes !== 'object' || Array.isArray(axes)) return `${DYNAMIC_AXES_HELP}; '${name}' maps to ${describeValue(axes)}`;
      for (const [d, label] of Object.entries(axes)) {
        if (!/^\d+$/.test(d) || typeof label !== 'string') return `${DYNAMIC_AXES_HELP}; '${name}' has ${d}: ${describeValue(label)}`;
      }
    }
    return null;
  },
} as const;

export function exportOnnx(model: Exportable, sampleInputs: Tensor | readonly Tensor[], options: ExportOptions = {}): Uint8Array {
  return encodeModel(buildModel(model, sampleInputs, options));
}

/** Builds the ModelProto object (exported for tools that want to inspect before encoding). */
export function buildModel(model: Exportable, sampleInputs: Tensor | readonly Tensor[], options: ExportOptions = {}): ModelProto {
  checkOptions('exportOnnx', options, EXPORT_SPEC);
  const opset = options.opset ?? 18;
  if (!Number.isInteger(opset) || opset < 17 || opset > 21) {
    throw new Error(`Kiln: exportOnnx: opset must be an integer in 17..21, got ${opset}`);
  }
  const inputs = Array.isArray(sampleInputs) ? [...(sampleInputs as readonly Tensor[])] : [sampleInputs as Tensor];
  inputs.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new Error(`Kiln: exportOnnx: sample input ${i} must be a Tensor, got ${Array.isArray(t) ? 'an array' : describeValue(t)}`);
  });
  const inputNames = options.inputNames ?? inputs.map((_, i) => (inputs.length === 1 ? 'input' : `input_${i}`));
  if (inputNames.length !== inputs.length) {
    throw new Error(`Kiln: exportOnnx: ${inputNames.length} inputNames for ${inputs.length} sample inputs`);
  }
  const stateNames = new Map<Tensor, string>();
  for (const [k, t] of model.namedParameters?.() ?? []) if (!stateNames.has(t)) stateNames.set(t, k);
  for (const [k, t] of model.namedBuffers?.() ?? []) if (!stateNames.has(t)) stateNames.set(t, k);

  const axesFor = (name: string): Record<number, string> => {
    const d = options.dynamicAxes;
    if (d === true) return { 0: 'batch' };
    return d?.[name] ?? {};
  };
  const batchDynamic = options.dynamicAxes === true
    || Object.values(options.dynamicAxes ?? {}).some((a) => Object.prototype.hasOwnProperty.call(a, 0));
  const b = new GraphBuilder(stateNames, batchDynamic && inputs[0] && inputs[0].ndim > 0 ? inputs[0].shape[0]! : null);
  inputs.forEach((t, i) => b.bind(t, inputNames[i]!));

  const records: TraceRecord[] = [];
  const tracer = {
    record: (r: TraceRecord) => { records.push(r); },
    wantsComposite(op: string, attrs: Record<string, unknown>): boolean {
      if (op === 'module') {
        const mapping = Object.prototype.hasOwnProperty.call(layerExporters, String(attrs.type)) ? layerExporters[String(attrs.type)] : undefined;
        return mapping !== undefined && (mapping.accepts?.(attrs.module as Record<string, unknown>) ?? true);
      }
      return compositeOps.has(op);
    },
  };
  const wasTraining = model.training;
  if (wasTraining) model.eval?.();
  let result: Tensor | Tensor[];
  try {
    result = noGrad(() => traceOps(tracer, () => model.forward(...inputs)));
  } finally {
    if (wasTraining && typeof (model as { train?: (m: boolean) => unknown }).train === 'function') {
      (model as unknown as { train: (m: boolean) => unknown }).train(true);
    }
  }
  for (const r of records) emitRecord(b, r, opset);

  // Nested outputs (an LSTM's [output, [hN, cN]]) become graph outputs in order.
  const outputs = (Array.isArray(result) ? result : [result]).flat() as Tensor[];
  const outputNames = options.outputNames ?? outputs.map((_, i) => (outputs.length === 1 ? 'output' : `output_${i}`));
  if (outputNames.length !== outputs.length) {
    throw new Error(`Kiln: exportOnnx: ${outputNames.length} outputNames for ${outputs.length} outputs`);
  }
  // Two graph values of one name make an invalid model that only ONNX Runtime rejects, later.
  for (const [what, names] of [['inputNames', inputNames], ['outputNames', outputNames]] as const) {
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) throw new Error(`Kiln: exportOnnx: ${what} has '${dup}' twice, got ${describeValue(names)}`);
  }
  if (options.dynamicAxes && options.dynamicAxes !== true) {
    const known = new Map<string, Tensor>([...inputNames.map((n, i) => [n, inputs[i]!] as const), ...outputNames.map((n, i) => [n, outputs[i]!] as const)]);
    for (const [name, axes] of Object.entries(options.dynamicAxes)) {
      const t = known.get(name);
      if (!t) {
        throw new Error(`Kiln: exportOnnx: dynamicAxes names '${name}', which is not an input or output (inputs: ${inputNames.join(', ')}; outputs: ${outputNames.join(', ')}); ${DYNAMIC_AXES_HELP}`);
      }
      // a dim past the tensor's rank would be dropped, leaving the axis static without a word
      for (const d of Object.keys(axes)) {
        if (Number(d) >= t.ndim) throw new Error(`Kiln: exportOnnx: dynamicAxes gives '${name}' dim ${d}, but '${name}' has shape [${t.shape.join(',')}] (dims 0..${t.ndim - 1})`);
      }
    }
  }
  const inputSet = new Set(inputNames);
  const initSet = new Set(b.initializers.map((t) => t.name));
  outputs.forEach((t, i) => {
    const internal = b.name(t);
    const wanted = outputNames[i]!;
    const producedOnce = !inputSet.has(internal) && !initSet.has(internal) && !outputNames.slice(0, i).some((n) => n === internal);
    if (producedOnce && internal !== wanted) {
      for (const n of b.nodes) {
        n.input = n.input!.map((x) => (x === internal ? wanted : x));
        n.output = n.output!.map((x) => (x === internal ? wanted : x));
      }
      b.bind(t, wanted);
    } else if (internal !== wanted) {
      b.node('Identity', [internal], [wanted]);
    }
  });

  const valueInfo = (name: string, t: Tensor, axes: Record<number, string>): ValueInfoProto => ({
    name,
    type: { tensorType: { elemType: onnxDataType(t.dtype), shape: { dim: t.shape.map((n, d) => (axes[d] !== undefined ? { dimParam: axes[d] } : { dimValue: n })) } } },
  });
  const metadata = { ...(options.metadata ?? {}), kiln_version: KILN_VERSION };
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'kiln',
    producerVersion: KILN_VERSION,
    docString: options.docString ?? '',
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value: String(value) })),
    graph: {
      name: (model as { constructor?: { name?: string } }).constructor?.name ?? 'kiln_graph',
      ...(options.initializerDtype === 'float16' ? storeInitializersAs(b.nodes, b.initializers, 'float16') : { node: b.nodes, initializer: b.initializers }),
      input: inputs.map((t, i) => valueInfo(inputNames[i]!, t, axesFor(inputNames[i]!))),
      output: outputs.map((t, i) => valueInfo(outputNames[i]!, t, axesFor(outputNames[i]!))),
    },
  };
}

function emitRecord(b: GraphBuilder, r: TraceRecord, opset: number): void {
  if (r.op === 'module') {
    const type = String(r.attrs.type);
    const mapping = layerExporters[type]!;
    const module = r.attrs.module as Record<string, unknown>;
    const own = new Set<Tensor>([...((module as { parameters?: () => Tensor[] }).parameters?.() ?? [])]);
    const inputs = r.inputs.filter((t) => !own.has(t));
    mapping.export(b, module, inputs, r.outputs);
    return;
  }
  const fn = opExporters[r.op];
  if (!fn) throw new Error(`Kiln: onnx export: op '${r.op}' (attrs ${JSON.stringify(r.attrs, skipObjects)}) has no ONNX mapping at opset ${opset}`);
  fn(b, r);
}

function skipObjects(_k: string, v: unknown): unknown {
  return _k !== '' && v !== null && typeof v === 'object' && !Array.isArray(v) ? '[object]' : v;
}

/** Exports and writes atomically (temp file + rename). */
export async function saveOnnx(path: string, model: Exportable, sampleInputs: Tensor | readonly Tensor[], options: ExportOptions = {}): Promise<void> {
  await writeFileAtomic(path, exportOnnx(model, sampleInputs, options), 'saveOnnx');
}
