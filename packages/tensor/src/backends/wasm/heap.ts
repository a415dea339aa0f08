/**
 * Long-lived storage in the Wasm memory — optimizer state, and the parameters and gradient
 * slots an optimizer moves there (`residentArrays`) — which kernels read and update in place
 * from one step to the next instead of copying it in and out; and the blocks a backward pass
 * keeps its gradients in (activations.ts), cached by size class from one step to the next.
 * One heap per runtime (`WasmHeap.of`): every owner shares its bytes.
 *
 * Blocks sit between the threads' packing scratch and the per-call staging area: an allocation
 * that no freed block can hold takes the bytes at `rt.operandBase` and moves that up (staging
 * always starts above the heap); freeing the top block moves it back down, and freed blocks
 * below are reused first-fit. The heap keeps to half of the memory's maximum so staging always
 * has room; beyond that, and where no Wasm memory exists, storage falls back to the JS heap.
 * Owners free their blocks (an optimizer from a finaliser, the autograd engine after each
 * node), so memory stays steady without `dispose`.
 */
import type { StateArena } from '../../backend.js';
import { align, operandCapacity, type WasmRuntime } from './runtime.js';

interface Block {
  ptr: number;
  size: number;
  free: boolean;
}

const heaps = new WeakMap<WasmRuntime, WasmHeap>();

export class WasmHeap {
  /** The one heap of a runtime: every owner (optimizer state, parameters, activations) shares its bytes. */
  static of(rt: WasmRuntime): WasmHeap {
    let heap = heaps.get(rt);
    if (!heap) heaps.set(rt, (heap = new WasmHeap(rt)));
    return heap;
  }

  private readonly base: number;
  private readonly limit: number;
  /** Blocks by address, covering [base, rt.operandBase) without gaps. */
  private readonly blocks: Block[] = [];
  /**
   * Gives cached, unused blocks back to the heap (the activation pool's free lists) when an
   * allocation finds no room; true when it freed any. Caches must never crowd out state.
   */
  reclaim: (() => boolean) | null = null;

  private constructor(private readonly rt: WasmRuntime) {
    this.base = rt.operandBase;
    this.limit = this.base + Math.floor(operandCapacity(rt) / 2);
  }

  /** Bytes between the heap's base and the staging area (in use or freed but below a used block). */
  get extent(): number {
    return this.rt.operandBase - this.base;
  }

  /** A zeroed (unless `zero` is false), 64-byte aligned block of at least `bytes`; null when the heap is full. */
  alloc(bytes: number, zero = true): number | null {
    const size = align(Math.max(bytes, 1), 64);
    const rt = this.rt;
    let ptr = -1;
    for (let i = 0; i < this.blocks.length; i++) {
      const b = this.blocks[i]!;
      if (!b.free || b.size < size) continue;
      if (b.size > size) this.blocks.splice(i + 1, 0, { ptr: b.ptr + size, size: b.size - size, free: true });
      b.size = size;
      b.free = false;
      ptr = b.ptr;
      break;
    }
    if (ptr < 0) {
      ptr = rt.operandBase;
      if (ptr + size > this.limit) return this.reclaim?.() ? this.alloc(bytes, zero) : null;
      rt.ensure(ptr + size);
      rt.operandBase = ptr + size;
      this.blocks.push({ ptr, size, free: false });
    }
    if (zero) new Uint8Array(rt.memory.buffer, ptr, size).fill(0); // the bytes held staged operands or old state
    return ptr;
  }

  free(ptr: number): void {
    const i = this.blocks.findIndex((b) => b.ptr === ptr);
    const b = this.blocks[i];
    if (!b || b.free) throw new Error(`Kiln: wasm heap: free of ${ptr}, which is not an allocated block`);
    b.free = true;
    // Merge with free neighbours, then give a free top back to the staging area.
    const next = this.blocks[i + 1];
    if (next?.free) { b.size += next.size; this.blocks.splice(i + 1, 1); }
    const prev = this.blocks[i - 1];
    if (prev?.free) { prev.size += b.size; this.blocks.splice(i, 1); }
    const top = this.blocks[this.blocks.length - 1];
    if (top?.free) {
      this.blocks.pop();
      this.rt.operandBase = top.ptr;
    }
  }
}

/** Float64 state in a heap block (see backend.ts, StateArena). */
export class WasmStateArena implements StateArena {
  private freed = false;

  constructor(readonly heap: WasmHeap, private readonly rt: WasmRuntime, private readonly at: number, readonly length: number) {}

  /** Byte address of value 0; throws once freed. */
  get ptr(): number {
    if (this.freed) throw new Error('Kiln: wasm backend: optimizer state used after it was freed');
    return this.at;
  }

  get live(): boolean {
    return !this.freed;
  }

  view(offset: number, length: number): Float64Array {
    if (!(offset >= 0 && length >= 0 && offset + length <= this.length)) {
      throw new Error(`Kiln: StateArena.view: [${offset}, ${offset + length}) is outside the ${this.length} values`);
    }
    return new Float64Array(this.rt.memory.buffer, this.ptr + offset * 8, length);
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.heap.free(this.at);
  }
}

/** One block shared by several views: freed when the last of them has been collected. */
interface SharedBlock {
  heap: WasmHeap;
  ptr: number;
  views: number;
}

const blockFinalizer = new FinalizationRegistry<SharedBlock>((b) => {
  if (--b.views === 0) b.heap.free(b.ptr);
});

/**
 * Float32 arrays of the given lengths, back to back in one heap block (so a group of them is
 * one contiguous run for a fused kernel), each a view of the Wasm memory that kernels find with
 * `rt.residentPtr`; values unspecified. Only on a shared memory, whose views survive growth;
 * null there too when the heap is full. The block is freed once every view has been collected.
 */
export function residentArrays(heap: WasmHeap, rt: WasmRuntime, lengths: readonly number[]): Float32Array[] | null {
  if (!rt.shared) return null;
  const total = lengths.reduce((s, n) => s + n, 0);
  const ptr = heap.alloc(total * 4, false);
  if (ptr === null) return null;
  const block: SharedBlock = { heap, ptr, views: lengths.length };
  const views: Float32Array[] = [];
  let at = ptr;
  for (const n of lengths) {
    const v = new Float32Array(rt.memory.buffer, at, n);
    blockFinalizer.register(v, block);
    views.push(v);
    at += n * 4;
  }
  if (!views.length) heap.free(ptr);
  return views;
}
