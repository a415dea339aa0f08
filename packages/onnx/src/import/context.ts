/** What an import handler sees: its node, attribute readers and its input tensors. */
import type { Tensor } from '@kiln/tensor';
import type { AttributeProto, NodeProto } from '../proto.js';
import { AttributeType } from '../proto.js';
import { protoToTensor } from '../tensor-proto.js';

/**
 * The most elements a node may create from sizes read out of the file (2^28: 1 GiB of float32). A
 * corrupt pads/sizes/shape value then fails by name instead of exhausting memory.
 */
export const MAX_NODE_ELEMENTS = 2 ** 28;

export class NodeContext {
  private readonly attrs = new Map<string, AttributeProto>();
  constructor(readonly node: NodeProto, readonly opset: number, readonly inputs: (Tensor | null)[]) {
    for (const a of node.attribute ?? []) this.attrs.set(a.name ?? '', a);
  }

  get op(): string { return this.node.opType ?? ''; }

  /** An error naming the node, op and opset. */
  error(message: string): Error {
    return new Error(`Kiln: onnx import: node '${this.node.name ?? ''}' (${this.op}, opset ${this.opset}): ${message}`);
  }

  input(i: number): Tensor {
    const t = this.inputs[i];
    if (!t) throw this.error(`missing required input ${i}`);
    return t;
  }

  optionalInput(i: number): Tensor | null {
    return this.inputs[i] ?? null;
  }

  /** Integer values of a constant-foldable input (shape, axes, pads...). */
  ints(i: number): number[] {
    return Array.from(this.input(i).dataSync(), Number);
  }

  has(name: string): boolean { return this.attrs.has(name); }

  int(name: string, fallback?: number): number {
    const a = this.attrs.get(name);
    if (!a) { if (fallback === undefined) throw this.error(`missing attribute '${name}'`); return fallback; }
    return Number(a.i ?? 0);
  }

  float(name: string, fallback: number): number {
    const a = this.attrs.get(name);
    return a ? Number(a.f ?? 0) : fallback;
  }

  intList(name: string, fallback?: number[]): number[] {
    const a = this.attrs.get(name);
    if (!a) { if (fallback === undefined) throw this.error(`missing attribute '${name}'`); return fallback; }
    return (a.ints ?? []).map(Number);
  }

  floatList(name: string): number[] {
    return (this.attrs.get(name)?.floats ?? []).map(Number);
  }

  /** The attribute's value by its declared type (number, string, or list), or undefined. */
  attrValue(name: string): unknown {
    const a = this.attrs.get(name);
    if (!a) return undefined;
    switch (a.type) {
      case AttributeType.STRING: return new TextDecoder().decode(a.s ?? new Uint8Array());
      case AttributeType.FLOAT: return Number(a.f ?? 0);
      case AttributeType.INT: return Number(a.i ?? 0);
      case AttributeType.INTS: return (a.ints ?? []).map(Number);
      case AttributeType.FLOATS: return (a.floats ?? []).map(Number);
      default: return a.s ? new TextDecoder().decode(a.s) : a.i !== undefined ? Number(a.i) : a.f;
    }
  }

  string(name: string, fallback: string): string {
    const a = this.attrs.get(name);
    return a?.s ? new TextDecoder().decode(a.s) : fallback;
  }

  tensorAttr(name: string): Tensor | null {
    const a = this.attrs.get(name);
    return a?.t ? protoToTensor(a.t, `attribute '${name}' of node '${this.node.name ?? ''}'`) : null;
  }

  /** Throws unless a tensor of `shape` (from sizes in the file) is small enough to allocate. */
  checkSize(shape: readonly number[], what: string): void {
    const n = shape.reduce((a, b) => a * b, 1);
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw this.error(`${what} [${shape.join(', ')}] is not a shape of non-negative integers`);
    if (n > MAX_NODE_ELEMENTS) throw this.error(`${what} [${shape.join(', ')}] has ${n} elements, more than the ${MAX_NODE_ELEMENTS} an imported node may create`);
  }

  /** Throws if an attribute is set to anything but the values Kiln implements. */
  only(name: string, allowed: readonly (number | string)[]): void {
    const a = this.attrs.get(name);
    if (!a) return;
    const v = a.type === AttributeType.STRING ? new TextDecoder().decode(a.s ?? new Uint8Array()) : Number(a.i ?? a.f ?? 0);
    if (!allowed.includes(v)) throw this.error(`attribute ${name}=${JSON.stringify(v)} is not supported (supported: ${allowed.join(', ')})`);
  }
}

export type OpHandler = (ctx: NodeContext) => Tensor | Tensor[];
