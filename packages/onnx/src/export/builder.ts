/**
 * GraphBuilder: accumulates ONNX nodes and initializers while a forward pass is traced. Every
 * Kiln tensor gets one value name; tensors not produced by a traced op and not graph inputs
 * become initializers — named by their state-dict key when they are parameters/buffers,
 * `const_N` otherwise.
 */
import type { Tensor } from '@kiln/tensor';
import type { AttributeProto, NodeProto, TensorProto } from '../proto.js';
import { AttributeType } from '../proto.js';
import { int64Proto, tensorToProto } from '../tensor-proto.js';

export type AttrValue = number | string | number[] | { floats: number[] } | { float: number };

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly names = new Map<Tensor, string>();
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(
    private readonly stateNames: Map<Tensor, string>,
    /** Batch size of the sample inputs when the batch dim is exported symbolic, else null. */
    readonly dynamicBatch: number | null,
  ) {}

  unique(base: string): string {
    let name = base;
    while (this.used.has(name)) name = `${base}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  /** Registers a tensor under a fixed name (graph inputs). */
  bind(t: Tensor, name: string): void {
    this.used.add(name);
    this.names.set(t, name);
  }

  has(t: Tensor): boolean {
    return this.names.has(t);
  }

  /** The value name of `t`, turning unseen tensors into initializers. */
  name(t: Tensor): string {
    const known = this.names.get(t);
    if (known !== undefined) return known;
    const key = this.stateNames.get(t);
    const name = this.unique(key ?? 'const');
    this.initializers.push(tensorToProto(name, t));
    this.names.set(t, name);
    return name;
  }

  /** A fresh name for `t`, produced by the node about to be added. */
  output(t: Tensor, hint: string): string {
    const name = this.unique(hint);
    this.names.set(t, name);
    return name;
  }

  /** An alias: `t` is the same value as `src` (ops exported as no-ops). */
  alias(t: Tensor, src: Tensor): void {
    this.names.set(t, this.name(src));
  }

  int64(values: readonly number[], hint = 'shape', scalar = false): string {
    const name = this.unique(hint);
    this.initializers.push(int64Proto(name, values, scalar ? [] : [values.length]));
    return name;
  }

  floatScalar(value: number, dtype: 'float32' | 'float64' = 'float32', hint = 'scalar'): string {
    const name = this.unique(hint);
    const raw = new Uint8Array(dtype === 'float32' ? 4 : 8);
    const v = new DataView(raw.buffer);
    if (dtype === 'float32') v.setFloat32(0, value, true); else v.setFloat64(0, value, true);
    this.initializers.push({ name, dims: [], dataType: dtype === 'float32' ? 1 : 11, rawData: raw });
    return name;
  }

  /** Adds a node; returns its output names. */
  node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue | undefined> = {}): string[] {
    const attribute: AttributeProto[] = [];
    for (const [name, v] of Object.entries(attrs)) {
      if (v === undefined) continue;
      if (typeof v === 'number') attribute.push({ name, type: AttributeType.INT, i: v });
      else if (typeof v === 'string') attribute.push({ name, type: AttributeType.STRING, s: new TextEncoder().encode(v) });
      else if (Array.isArray(v)) attribute.push({ name, type: AttributeType.INTS, ints: v });
      else if ('floats' in v) attribute.push({ name, type: AttributeType.FLOATS, floats: v.floats });
      else attribute.push({ name, type: AttributeType.FLOAT, f: v.float });
    }
    this.nodes.push({ opType, input: inputs, output: outputs, name: this.unique(`${opType}_${this.nodes.length}`), attribute });
    return outputs;
  }

  /** A node with one new intermediate output; returns its name. */
  tmp(opType: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}): string {
    return this.node(opType, inputs, [this.unique(`${opType.toLowerCase()}_out`)], attrs)[0]!;
  }
}
