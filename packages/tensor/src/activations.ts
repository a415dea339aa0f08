/**
 * Op outputs that live in the backend's own memory (the wasm backend: blocks of its heap, see
 * backends/wasm/activations.ts), so its kernels read and write them in place instead of staging
 * them in and copying them out. Two owners hand them out, each of which knows when its tensors
 * die:
 *
 * A backward pass (always on). The engine (autograd.ts) holds the gradients flowing between
 * nodes in its own map, and a backward function's temporaries die when it returns, except what
 * it returns. So:
 * - while a pass runs, float32 outputs of at least MIN_BYTES made through the op layer's
 *   allocators (`empty`, `uninitialized`) come from `takeActivation`, and the pass records
 *   them as its own;
 * - after each node's backward, the pass gives back every block of its own that no pending
 *   gradient overlaps (that node's temporaries, the gradient it consumed, the addends of an
 *   accumulation); at the end it gives back the rest;
 * - a gradient that reaches user code (a leaf's or a retained tensor's `.grad`) is first copied
 *   to a JS array (`escape`), so no block is ever reachable from outside the pass and none can
 *   be read after it was reused. A gradient slot of an optimizer's parameter takes its copy
 *   there, as before.
 * A backward function must not keep a tensor it made beyond its return (none in Kiln does).
 *
 * A step scope (`stepScope(fn)`, opt-in: `fit` and the bench's training step use it). While
 * `fn` runs, outputs outside a pass (the forward pass, the optimizer's temporaries) come from
 * blocks too, and the scope notes every tensor made in it and, per block, the tensors over it
 * (views share a block). When `fn` returns or throws:
 * - every graph recorded in the scope is cut (its nodes throw a clear error if backward ever
 *   reaches them), since a backward function may hold a block's array directly;
 * - a block under a tensor `fn` returned (or a leaf that requires grad, such as a parameter of a
 *   module built in the scope) moves to the enclosing scope, or at the outermost one is copied
 *   to the JS heap and every tensor over it repointed to the copy (so they stay valid); a block
 *   under a tensor passed to `keep` does the same at every scope up to the outermost, as the
 *   mark travels with the block;
 * - every other block goes back to the pool, and the tensors over it are repointed to
 *   `RELEASED`, whose every use throws an error saying what happened.
 * Inside the scope, `dataSync()` of a tensor over a block first moves that block's tensors to a
 * JS copy (`ownData`): no array user code holds ever points into a reusable block.
 *
 * Without `takeActivation` (other backends, no shared memory, a full heap, tracing), outputs
 * are JS arrays as before.
 */
import { kernels } from './backend.js';
import type { Tensor } from './tensor.js';
import type { TypedArray } from './dtype.js';
import { carryVersion, type GradNode } from './autograd.js';
import { isTracing } from './trace.js';

/** Below this, a JS array costs less than the bookkeeping (and the wasm kernels stay in TypeScript). */
const MIN_BYTES = 4096;

interface Held {
  array: Float32Array;
  start: number;
  end: number;
  release: (array: Float32Array) => void;
  /** A step scope's block: the scope that owns it and the tensors over it. */
  scope?: StepScope;
  tensors?: Tensor[];
  /** A tensor over it was passed to `keep`: the block outlives every scope, like a returned one. */
  kept?: boolean;
}

interface StepScope {
  blocks: Held[];
  /** Every tensor made while the scope was the innermost one (their graphs end with it). */
  made: Tensor[];
}

/** The blocks of the running backward pass, in allocation order. */
let held: Held[] | null = null;

function isWasmView(a: ArrayBufferView): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer;
}

function overlaps(h: Held, a: ArrayBufferView): boolean {
  return a.byteOffset < h.end && a.byteOffset + a.byteLength > h.start && isWasmView(a);
}

/** Float32 storage for an op output from the pass's or the step scope's blocks, or null (then a JS array is used). */
export function scopedFloat32(length: number, zero: boolean): Float32Array | null {
  if (length * 4 < MIN_BYTES) return null;
  const pass = held;
  const scope = pass === null && scopeDepth > 0 && !isTracing() ? scopes[scopeDepth - 1]! : null;
  if (pass === null && scope === null) return null;
  const k = kernels();
  if (!k.takeActivation || !k.releaseActivation) return null;
  const array = k.takeActivation(length, zero);
  if (!array) return null;
  const h: Held = { array, start: array.byteOffset, end: array.byteOffset + array.byteLength, release: k.releaseActivation };
  if (pass) {
    pass.push(h);
    passArrays.add(array);
  } else {
    h.scope = scope!;
    h.tensors = [];
    scope!.blocks.push(h);
    stepBlockOf.set(array, h);
  }
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

/** `t` itself, or when its data lies in a block (of the pass or a step scope), a copy of it in the JS heap (for `.grad`). */
export function escape(t: Tensor): Tensor {
  if (!isPassOwned(t) && !inStepBlock(t)) return t;
  const copy = new Float32Array(t._data.length);
  copy.set(t._data);
  return new (t.constructor as typeof Tensor)(copy, t.shape, t.dtype);
}

// ---- Step scopes ----

const scopes: StepScope[] = [];
/** How many step scopes are open; the Tensor constructor calls `noteTensor` only when > 0. */
export let scopeDepth = 0;
/** A step block's array (as `takeActivation` made it) → its record. */
const stepBlockOf = new WeakMap<Float32Array, Held>();
/** A tensor over a step block → that block's record. */
const heldOf = new WeakMap<Tensor, Held>();
/** Arrays of pass blocks: tensors over them need no search through the step blocks. */
const passArrays = new WeakSet<Float32Array>();

const releasedMessage =
  "Kiln: this tensor was made inside stepScope() and its memory was given back to the backend when the scope ended; to use it later, return it from the scope's function or pass it to keep() inside the scope (@kiln/train's fit and evaluate run each step in a scope unless given stepScope: false)";
/** Stands in for the data of a tensor whose block was given back: every use throws. */
const RELEASED = new Proxy(new Float32Array(0), {
  get() { throw new Error(releasedMessage); },
  set() { throw new Error(releasedMessage); },
  has() { throw new Error(releasedMessage); },
}) as TypedArray;

function stepBlockUnder(d: TypedArray): Held | undefined {
  const direct = stepBlockOf.get(d as Float32Array);
  if (direct) return direct;
  for (let i = scopes.length - 1; i >= 0; i--) {
    for (const h of scopes[i]!.blocks) {
      if (h.array.buffer === d.buffer && d.byteOffset >= h.start && d.byteOffset + d.byteLength <= h.end) return h;
    }
  }
  return undefined;
}

/** Called by the Tensor constructor while a step scope is open: notes `t` in it (and on its block). */
export function noteTensor(t: Tensor): void {
  scopes[scopeDepth - 1]!.made.push(t);
  const d = t._data;
  if (d.byteLength === 0 || passArrays.has(d as Float32Array) || !isWasmView(d)) return;
  const h = stepBlockUnder(d);
  if (!h) return;
  h.tensors!.push(t);
  heldOf.set(t, h);
}

function inStepBlock(t: Tensor): boolean {
  const h = heldOf.get(t);
  return h !== undefined && t._data.buffer === h.array.buffer;
}

/** Copies a step block to the JS heap and repoints every tensor still over it (views stay views of one copy). */
function moveOut(h: Held): void {
  const copy = h.array.slice();
  const moved = new Map<TypedArray, TypedArray>();
  for (const t of h.tensors!) {
    const d = t._data;
    if (d.buffer !== h.array.buffer) continue; // moved already
    let n = moved.get(d);
    if (!n) {
      const Ctor = d.constructor as new (buffer: ArrayBufferLike, offset: number, length: number) => TypedArray;
      n = d === h.array ? copy : new Ctor(copy.buffer, d.byteOffset - h.start, d.length);
      carryVersion(d, n);
      moved.set(d, n);
    }
    t._data = n;
    heldOf.delete(t);
  }
  h.tensors!.length = 0;
}

/**
 * `t`'s data for user code (`dataSync()`): inside a step scope, a tensor over a block is first
 * moved to the JS heap with the block's other tensors, so the array returned is never reused.
 */
export function ownData(t: Tensor): TypedArray {
  if (scopeDepth > 0) {
    const h = heldOf.get(t);
    if (h && t._data.buffer === h.array.buffer) moveOut(h);
  }
  return t._data;
}

function endedNode(op: string): GradNode {
  return {
    op,
    inputs: [],
    backward: () => {
      throw new Error(
        `Kiln: backward: the graph through '${op}' was released when the stepScope() it was recorded in ended; call backward() inside the scope`,
      );
    },
  };
}

// Structural: this file cannot import the Tensor class (tensor.ts imports it).
const isTensor = (value: object): value is Tensor => '_data' in value && 'shape' in value && 'dtype' in value;

/** The tensors in `value`: a tensor, or arrays and plain objects of them (a few levels deep). */
function tensorsIn(value: unknown, out: Tensor[], depth: number): void {
  if (value === null || typeof value !== 'object' || depth > 8) return;
  if (isTensor(value)) {
    out.push(value as Tensor);
  } else if (Array.isArray(value)) {
    for (const v of value) tensorsIn(v, out, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) tensorsIn(v, out, depth + 1);
  }
}

function closeStepScope(scope: StepScope, result: unknown): void {
  scopes.pop();
  scopeDepth = scopes.length;
  const parent = scopes[scopes.length - 1];
  const keep = new Set<Held>();
  const returned: Tensor[] = [];
  tensorsIn(result, returned, 0);
  // Leaves that require grad (a module's parameters built in the scope) are kept like returned ones.
  for (const t of scope.made) {
    if (t._node) t._node = endedNode(t._node.op);
    else if (t.requiresGrad) returned.push(t);
  }
  for (const t of returned) {
    const h = heldOf.get(t);
    if (h && h.scope === scope && t._data !== RELEASED && t._data.buffer === h.array.buffer) keep.add(h);
  }
  for (const h of scope.blocks) {
    // A kept block moves up with its mark, so every enclosing scope keeps it too (unless
    // `dataSync()` already moved its tensors out: then there is nothing left to copy).
    if (h.kept && h.tensors!.length) keep.add(h);
    if (keep.has(h) && parent) {
      h.scope = parent;
      parent.blocks.push(h);
      continue;
    }
    if (keep.has(h)) moveOut(h);
    for (const t of h.tensors!) {
      if (t._data.buffer !== h.array.buffer) continue;
      t._data = RELEASED;
      heldOf.delete(t);
    }
    h.tensors!.length = 0;
    stepBlockOf.delete(h.array);
    h.release(h.array);
  }
}

/**
 * Runs `fn` (one training or inference step) with its op outputs in the backend's memory where
 * it has any, and gives them all back when `fn` returns or throws. Tensors returned by `fn` (by
 * itself, or in arrays and plain objects), tensors passed to `keep` and leaves made inside that
 * require grad (parameters) stay valid; any other tensor made inside must not be
 * used afterwards (doing so throws), nor can backward run through a graph recorded inside it
 * once it has ended. Nothing needs it: memory stays steady without it; it saves the copying and
 * allocation of the forward pass's outputs. Scopes nest. `fn` must be synchronous.
 */
export function stepScope<T>(fn: () => T): T {
  const scope: StepScope = { blocks: [], made: [] };
  scopes.push(scope);
  scopeDepth = scopes.length;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    closeStepScope(scope, undefined);
    throw e;
  }
  const isPromise = result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function';
  closeStepScope(scope, isPromise ? undefined : result);
  if (isPromise) throw new Error('Kiln: stepScope: fn returned a Promise; the scope only covers synchronous work (await outside it)');
  return result;
}

/**
 * Marks `t`, made inside a `stepScope`, to outlive it and every enclosing scope (TF.js's
 * `tf.keep`): for a tensor a step stores for later (a module's `lastWeights`, a key/value cache,
 * a value a callback collects) rather than returns. At the outermost scope's end its block is
 * copied to the JS heap with every tensor over it, as for a returned tensor, so views stay views
 * of one copy. Only the values survive: the graph recorded in the scope is cut all the same
 * (backward through `t` afterwards throws), so keep a detached tensor. Once out of the scopes a
 * kept tensor is ordinary JS memory that the garbage collector frees when it is dropped, so
 * keeping a new tensor every step holds nothing beyond what user code still references.
 * Outside any scope (or for a tensor not in the backend's memory) it only returns `t`.
 * Returns `t`.
 */
export function keep<T extends Tensor>(t: T): T {
  if (t === null || typeof t !== 'object' || !isTensor(t)) {
    const got = t === null ? 'null' : Array.isArray(t) ? `an array (keep each tensor in it)` : typeof t === 'object' ? `a ${(t as object).constructor?.name ?? 'object'}` : `${typeof t} ${String(t)}`;
    throw new Error(`Kiln: keep: t must be a Tensor, got ${got}`);
  }
  if (t._data === RELEASED) {
    throw new Error('Kiln: keep: this tensor was made inside a stepScope() that has already ended and given its memory back; call keep(t) inside that scope, before it ends');
  }
  if (scopeDepth === 0) return t;
  const h = heldOf.get(t) ?? (isWasmView(t._data) ? stepBlockUnder(t._data) : undefined);
  if (h?.tensors && t._data.buffer === h.array.buffer) {
    h.kept = true;
    if (!heldOf.has(t)) { h.tensors.push(t); heldOf.set(t, h); }
  }
  return t;
}
