/**
 * Op outputs that live in the backend's own memory while a backward pass runs (the wasm
 * backend: blocks of its heap, see backends/wasm/activations.ts), so its kernels read and write
 * them in place instead of staging them in and copying them out.
 *
 * Only the backward pass allocates them, because only there is every tensor's lifetime known:
 * the engine (autograd.ts) holds the gradients flowing between nodes in its own map, and a
 * backward function's temporaries die when it returns, except what it returns. So:
 * - while a pass runs, float32 outputs of at least MIN_BYTES made through the op layer's
 *   allocators (`empty`, `uninitialized`, `allocateLike`) come from
 *   `takeActivation`, and the pass records them as its own;
 * - after each node's backward, the pass gives back every block of its own that no pending
 *   gradient overlaps (that node's temporaries, the gradient it consumed, the addends of an
 *   accumulation); at the end it gives back the rest;
 * - a gradient that reaches user code (a leaf's or a retained tensor's `.grad`) is first copied
 *   to a JS array (`escape`), so no block is ever reachable from outside the pass and none can
 *   be read after it was reused. A gradient slot of an optimizer's parameter takes its copy
 *   there, as before.
 * A backward function must not keep a tensor it made beyond its return (none in Kiln does).
 * Without `takeActivation` (other backends, no shared memory, a full heap, tracing), outputs
 * are JS arrays as before.
 */
import { kernels } from './backend.js';
import type { Tensor } from './tensor.js';
import { isTracing } from './trace.js';

/** Below this, a JS array costs less than the bookkeeping (and the wasm kernels stay in TypeScript). */
const MIN_BYTES = 4096;

interface Held {
  array: Float32Array;
  start: number;
  end: number;
  release: (array: Float32Array) => void;
}

/** The blocks of the running backward pass, in allocation order. */
let held: Held[] | null = null;

function isWasmView(a: ArrayBufferView): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer;
}

function overlaps(h: Held, a: ArrayBufferView): boolean {
  return a.byteOffset < h.end && a.byteOffset + a.byteLength > h.start && isWasmView(a);
}

/** Float32 storage for an op output from the pass's blocks, or null (then a JS array is used). */
export function scopedFloat32(length: number, zero: boolean): Float32Array | null {
  if (held === null || length * 4 < MIN_BYTES) return null;
  const k = kernels();
  if (!k.takeActivation || !k.releaseActivation) return null;
  const array = k.takeActivation(length, zero);
  if (!array) return null;
  held.push({ array, start: array.byteOffset, end: array.byteOffset + array.byteLength, release: k.releaseActivation });
  return array;
}

/**
 * Starts a backward pass's scope; false when one is already running (a nested pass leaves the
 * releasing to the outer one) or a tracer is recording (then outputs stay JS arrays).
 */
export function openPassScope(): boolean {
  // A tracer keeps the tensors it sees: none of them may be a block of the pass.
  if (held !== null || isTracing()) return false;
  held = [];
  return true;
}

/** Ends the pass: gives back every block still held. */
export function closePassScope(): void {
  const list = held;
  held = null;
  if (list) for (const h of list) h.release(h.array);
}

/** How many blocks the pass holds (a mark for `releaseUnreferenced`). */
export function passMark(): number {
  return held?.length ?? 0;
}

/**
 * Gives back the pass's blocks that were allocated since `mark` or overlap one of `consumed`,
 * unless one of `pending` overlaps them (their data is still to be read).
 */
export function releaseUnreferenced(mark: number, consumed: readonly Tensor[], pending: Iterable<Tensor>): void {
  const list = held;
  if (!list || !list.length) return;
  const candidates: Held[] = [];
  for (let i = 0; i < list.length; i++) {
    const h = list[i]!;
    if (i >= mark || consumed.some((t) => overlaps(h, t._data))) candidates.push(h);
  }
  if (!candidates.length) return;
  const keep = new Set<Held>();
  for (const t of pending) for (const h of candidates) if (!keep.has(h) && overlaps(h, t._data)) keep.add(h);
  let w = 0;
  for (let i = 0; i < list.length; i++) {
    const h = list[i]!;
    if (candidates.includes(h) && !keep.has(h)) h.release(h.array);
    else list[w++] = h;
  }
  list.length = w;
}

/** True when `t`'s data lies in one of the running pass's blocks. */
export function isPassOwned(t: Tensor): boolean {
  return held !== null && held.some((h) => overlaps(h, t._data));
}

/** `t` itself, or when its data lies in a block of the pass, a copy of it in the JS heap (for `.grad`). */
export function escape(t: Tensor): Tensor {
  if (!isPassOwned(t)) return t;
  const copy = new Float32Array(t._data.length);
  copy.set(t._data);
  return new (t.constructor as typeof Tensor)(copy, t.shape, t.dtype);
}
