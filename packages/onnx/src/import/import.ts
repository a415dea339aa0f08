/**
 * importOnnx: decodes an ONNX model into a Kiln Module. Float initializers become trainable
 * parameters whose state-dict keys are the initializer names; forward() interprets the graph
 * node by node with @kiln/tensor ops, so the imported model trains like any other.
 */
import { Module, parameter } from '@kiln/nn';
import { broadcastShapes, Tensor } from '@kiln/tensor';
import { DataType, decodeModel, type GraphProto, type ModelProto, type NodeProto } from '../proto.js';
import { protoToTensor } from '../tensor-proto.js';
import { NodeContext } from './context.js';
import { importHandlers } from './ops/index.js';

/** Every ai.onnx opset ONNX has defined; each handler reads its node by the rules of that opset's op version. */
export const MIN_IMPORT_OPSET = 1;
export const MAX_IMPORT_OPSET = 21;

/** Ops whose output is the broadcast of their inputs: its size is checked before they run. */
const BROADCASTING = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Where', 'Max', 'Min', 'Sum', 'Mean', 'PRelu', 'Mod', 'BitShift']);

/** Field names Module reserves or skips; such initializers get a `p_` prefix. */
function fieldName(name: string): string {
  return name === '' || name.startsWith('_') || name === 'forward' || name === 'training' || name in Module.prototype ? `p_${name}` : name;
}

/**
 * Kiln dtypes that may feed a floating graph input: either precision (the interpreter computes
 * in what it is given), never integers or booleans. Integer inputs (ids) are left to the ops,
 * which name what they need.
 */
const ELEM_DTYPES: Record<number, readonly string[]> = { [DataType.FLOAT]: ['float32', 'float64'], [DataType.DOUBLE]: ['float32', 'float64'] };
const ELEM_NAMES: Record<number, string> = { [DataType.FLOAT]: 'float32', [DataType.DOUBLE]: 'float64' };

export class OnnxModule extends Module {
  /** @internal */ readonly _graph: GraphProto;
  /** @internal */ readonly _opset: number;
  /** @internal initializer name → field name (parameters) */
  readonly _paramFields = new Map<string, string>();
  /** @internal non-float initializers (shapes, indices) */
  readonly _constants = new Map<string, Tensor>();
  /** @internal */ readonly _inputNames: string[];
  /** @internal */ readonly _outputNames: string[];
  /** Producer, opset and metadata of the imported file. */
  readonly _info: { producerName: string; irVersion: number; opset: number; metadata: Record<string, string> };

  constructor(model: ModelProto) {
    super();
    const graph = model.graph;
    if (!graph) throw new Error('Kiln: onnx import: the model has no graph');
    const opsets = model.opsetImport ?? [];
    const main = opsets.find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
    const opset = Number(main?.version ?? 0);
    if (!main || opset < MIN_IMPORT_OPSET || opset > MAX_IMPORT_OPSET) {
      throw new Error(`Kiln: onnx import: ai.onnx opset ${main ? opset : '(missing)'} is not supported (supported: ${MIN_IMPORT_OPSET}..${MAX_IMPORT_OPSET})`);
    }
    this._graph = graph;
    this._opset = opset;
    this._info = {
      producerName: model.producerName ?? '', irVersion: Number(model.irVersion ?? 0), opset,
      metadata: Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
    };
    const self = this as unknown as Record<string, unknown>;
    const seen = new Set<string>();
    for (const init of graph.initializer ?? []) {
      const name = init.name ?? '';
      if (seen.has(name)) throw new Error(`Kiln: onnx import: initializer '${name}' is defined twice`);
      seen.add(name);
      const t = protoToTensor(init);
      if (t.dtype === 'float32' || t.dtype === 'float64') {
        const field = fieldName(name);
        self[field] = parameter(t);
        this._paramFields.set(name, field);
      } else {
        this._constants.set(name, t);
      }
    }
    const isInit = (n: string) => this._paramFields.has(n) || this._constants.has(n);
    this._inputNames = (graph.input ?? []).map((v) => v.name ?? '').filter((n) => !isInit(n));
    this._outputNames = (graph.output ?? []).map((v) => v.name ?? '');
    checkGraph(graph, this._inputNames, [...this._paramFields.keys(), ...this._constants.keys()], opset);
    for (const node of graph.node ?? []) {
      const op = node.opType ?? '';
      if ((node.domain ?? '') !== '' && node.domain !== 'ai.onnx') {
        throw new Error(`Kiln: onnx import: node '${node.name ?? ''}' (${op}, opset ${opset}): domain '${node.domain}' is not supported`);
      }
      if (!Object.prototype.hasOwnProperty.call(importHandlers, op)) {
        throw new Error(`Kiln: onnx import: node '${node.name ?? ''}' (${op}, opset ${opset}): op ${op} is not supported`);
      }
    }
  }

  /**
   * Each floating input against its declared element type (where the file declares one): ONNX
   * Runtime refuses a mismatch, and the interpreter would otherwise run on it (int32 values into
   * a float graph) and return numbers of no meaning. Shapes are not checked: some files (the ONNX
   * conformance suite's among them) declare shapes their own test data do not have.
   */
  private checkInputs(inputs: readonly Tensor[]): void {
    const declared = new Map((this._graph.input ?? []).map((v) => [v.name ?? '', v.type?.tensorType] as const));
    this._inputNames.forEach((n, i) => {
      const t = inputs[i];
      if (!(t instanceof Tensor)) throw new Error(`Kiln: OnnxModule.forward: input ${i} ('${n}') must be a Tensor, got ${Array.isArray(t) ? 'an array' : typeof t}`);
      const tt = declared.get(n);
      const want = tt?.elemType != null ? ELEM_DTYPES[Number(tt.elemType)] : undefined;
      if (want && !want.includes(t.dtype)) {
        throw new Error(`Kiln: OnnxModule.forward: input '${n}' is declared ${ELEM_NAMES[Number(tt!.elemType)]} and needs a float32 or float64 tensor, got ${t.dtype} [${t.shape.join(',')}]`);
      }
    });
  }

  /** Graph input names (without initializers), in order. */
  get inputNames(): string[] { return [...this._inputNames]; }
  get outputNames(): string[] { return [...this._outputNames]; }

  override forward(...inputs: Tensor[]): Tensor | Tensor[] {
    if (inputs.length !== this._inputNames.length) {
      throw new Error(`Kiln: OnnxModule.forward: expected ${this._inputNames.length} inputs (${this._inputNames.join(', ')}), got ${inputs.length}`);
    }
    this.checkInputs(inputs);
    const values = new Map<string, Tensor>();
    const self = this as unknown as Record<string, Tensor>;
    for (const [name, field] of this._paramFields) values.set(name, self[field]!);
    for (const [name, t] of this._constants) values.set(name, t);
    this._inputNames.forEach((n, i) => values.set(n, inputs[i]!));
    for (const node of this._graph.node ?? []) this.runNode(node, values);
    const outs = this._outputNames.map((n) => {
      const t = values.get(n);
      if (!t) throw new Error(`Kiln: onnx import: graph output '${n}' is never produced`);
      return t;
    });
    return outs.length === 1 ? outs[0]! : outs;
  }

  private runNode(node: NodeProto, values: Map<string, Tensor>): void {
    const ins = (node.input ?? []).map((n) => {
      if (n === '') return null;
      const t = values.get(n);
      if (!t) throw new Error(`Kiln: onnx import: node '${node.name ?? ''}' (${node.opType}, opset ${this._opset}): input '${n}' is not defined before this node`);
      return t;
    });
    const ctx = new NodeContext(node, this._opset, ins);
    let result: Tensor | Tensor[];
    try {
      if (BROADCASTING.has(node.opType ?? '')) {
        const shapes = ins.filter((t): t is Tensor => !!t).map((t) => t.shape);
        if (shapes.length > 1) ctx.checkSize(shapes.reduce((a, b) => broadcastShapes(node.opType ?? '', a, b)), 'broadcast output');
      }
      result = importHandlers[node.opType ?? '']!(ctx);
    } catch (e) {
      const msg = (e as Error).message;
      throw msg.startsWith('Kiln: onnx import:') ? e : ctx.error(msg);
    }
    const outs = Array.isArray(result) ? result : [result];
    (node.output ?? []).forEach((name, i) => {
      if (name === '') return;
      const t = outs[i];
      if (!t) throw ctx.error(`produced ${outs.length} outputs, output ${i} ('${name}') is missing`);
      values.set(name, t);
    });
  }
}

/**
 * Checks the graph's wiring before anything runs: nodes in topological order (so no cycles), every
 * node input produced by a graph input, an initializer or an earlier node, each value produced once,
 * and every graph output produced. Errors name the node and the value.
 */
function checkGraph(graph: GraphProto, inputs: string[], inits: string[], opset: number): void {
  const producedBy = new Map<string, string>();
  for (const n of [...inputs, ...inits]) producedBy.set(n, n === '' ? '' : inputs.includes(n) ? 'graph input' : 'initializer');
  const later = new Map<string, string>();
  const label = (n: NodeProto, i: number) => `node '${n.name ?? ''}' (#${i}, ${n.opType ?? ''}, opset ${opset})`;
  (graph.node ?? []).forEach((n, i) => { for (const o of n.output ?? []) if (o && !later.has(o)) later.set(o, label(n, i)); });
  (graph.node ?? []).forEach((n, i) => {
    for (const v of n.input ?? []) {
      if (v === '' || producedBy.has(v)) continue;
      const by = later.get(v);
      throw new Error(by
        ? `Kiln: onnx import: ${label(n, i)} reads '${v}', which ${by} produces later: the graph is not in topological order or has a cycle`
        : `Kiln: onnx import: ${label(n, i)} reads '${v}', which no graph input, initializer or node produces`);
    }
    for (const o of n.output ?? []) {
      if (!o) continue;
      if (producedBy.has(o)) throw new Error(`Kiln: onnx import: ${label(n, i)} produces '${o}', which ${producedBy.get(o)} already defines (each value must be assigned once)`);
      producedBy.set(o, label(n, i));
    }
  });
  for (const o of graph.output ?? []) {
    const name = o.name ?? '';
    if (!producedBy.has(name)) throw new Error(`Kiln: onnx import: graph output '${name}' is never produced`);
  }
}

/** Decodes ONNX bytes into a trainable Kiln Module. */
export function importOnnx(bytes: Uint8Array): OnnxModule {
  return new OnnxModule(decodeModel(bytes));
}
