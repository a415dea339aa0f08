/**
 * Graph capture. Every op reports itself here after it runs; when a tracer is installed (the
 * ONNX exporter installs one), it sees each op's name, inputs, outputs and attributes, in
 * execution order. Composite ops (softmax, layer norm, gelu...) are reported as one node when
 * the tracer says it has a better mapping for them, and as their primitives otherwise.
 */
import type { Tensor } from './tensor.js';

export type Attrs = Readonly<Record<string, unknown>>;

export interface TraceRecord {
  op: string;
  inputs: readonly Tensor[];
  outputs: readonly Tensor[];
  attrs: Attrs;
}

export interface Tracer {
  record(entry: TraceRecord): void;
  /** True to have a composite op reported as one node rather than as its primitives. */
  wantsComposite?(op: string, attrs: Attrs): boolean;
}

let active: Tracer | null = null;
let suspended = 0;

/** Runs `fn` with `tracer` receiving every op; tracers do not nest. */
export function traceOps<T>(tracer: Tracer, fn: () => T): T {
  if (active) throw new Error('Kiln: traceOps: a trace is already running');
  active = tracer;
  try {
    return fn();
  } finally {
    active = null;
  }
}

/** True while a tracer (traceOps) is recording ops. */
export function isTracing(): boolean {
  return active !== null && suspended === 0;
}

/** Called by every op after computing its outputs. */
export function emit(op: string, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: Attrs = {}): void {
  if (active && suspended === 0) active.record({ op, inputs, outputs, attrs });
}

/**
 * Runs a composite op. Under a tracer that wants `op` whole, its inner ops are hidden and one
 * record is emitted; otherwise the inner ops are traced as usual.
 */
export function composite<T extends Tensor | Tensor[]>(op: string, inputs: readonly Tensor[], attrs: Attrs, fn: () => T): T {
  if (!active || suspended > 0 || !active.wantsComposite?.(op, attrs)) return fn();
  suspended++;
  let out: T;
  try {
    out = fn();
  } finally {
    suspended--;
  }
  emit(op, inputs, Array.isArray(out) ? out : [out as Tensor], attrs);
  return out;
}
