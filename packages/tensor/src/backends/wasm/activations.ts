/**
 * Float32 op outputs in the Wasm heap for the autograd engine (src/activations.ts): the
 * gradients flowing between nodes and the temporaries of backward functions. Kernels find them
 * with `rt.residentPtr` and read and write them in place, so they are never staged nor copied
 * out. The engine gives every block back once backward has consumed it; a block never escapes
 * to user code (a gradient that ends in `.grad` is copied to the JS heap first).
 *
 * Blocks are kept by size class, each class a free list, so a training step's outputs take the
 * blocks the previous step gave back without a search through the heap: below 64 KiB a class is
 * an exact multiple of 64 bytes, above it four classes per power of two (1, 1.25, 1.5, 1.75 ×
 * 2^k: at most 25 % slack). Freed blocks stay cached in their class; when the heap has no room
 * for a new block — this one, or an optimizer's state — the cache goes back to the heap (where
 * neighbours merge) and the allocation is tried once more; then the caller falls back to a JS
 * array.
 */
import type { WasmHeap } from './heap.js';
import type { WasmRuntime } from './runtime.js';

const SMALL = 65536;

/** The bytes of the size class that holds `bytes`. */
export function sizeClass(bytes: number): number {
  if (bytes <= SMALL) return Math.max(64, Math.ceil(bytes / 64) * 64);
  const quarter = 2 ** (Math.floor(Math.log2(bytes)) - 2);
  return Math.ceil(bytes / quarter) * quarter;
}

export interface ActivationStats {
  /** Blocks handed out and not given back. */
  liveBlocks: number;
  liveBytes: number;
  /** Given-back blocks cached in their size class for the next step. */
  cachedBlocks: number;
  cachedBytes: number;
  /** Bytes the whole heap spans (parameters, optimizer state and these blocks). */
  heapBytes: number;
}

export class ActivationPool {
  /** Free blocks by size class. */
  private readonly free = new Map<number, number[]>();
  /** Size class of every block handed out, by address. */
  private readonly live = new Map<number, number>();
  private liveBytes = 0;
  private cachedBlocks = 0;
  private cachedBytes = 0;

  constructor(private readonly heap: WasmHeap, private readonly rt: WasmRuntime) {
    // Any owner that finds the heap full (an optimizer's state, say) gets the cached blocks first.
    heap.reclaim = () => {
      const any = this.cachedBlocks > 0;
      this.flush();
      return any;
    };
  }

  /** `length` floats in a block of the heap (zeroed when `zero`), or null when the heap is full. */
  take(length: number, zero: boolean): Float32Array | null {
    const size = sizeClass(length * 4);
    let ptr = this.free.get(size)?.pop();
    if (ptr !== undefined) {
      this.cachedBlocks--;
      this.cachedBytes -= size;
    } else {
      // A full heap takes the cached blocks back first (reclaim) and tries once more.
      ptr = this.heap.alloc(size, false) ?? undefined;
      if (ptr === undefined) return null;
    }
    this.live.set(ptr, size);
    this.liveBytes += size;
    const array = new Float32Array(this.rt.memory.buffer, ptr, length);
    // Zeroed 8 bytes at a time: V8 fills a shared buffer element by element, so a float64 view
    // of the (64-byte aligned, 64-byte multiple) block fills it in half the stores, ~2× faster.
    if (zero) new Float64Array(array.buffer, ptr, (length + 1) >> 1).fill(0);
    return array;
  }

  /** Gives back an array `take` returned; its bytes may be handed out again at once. */
  give(array: Float32Array): void {
    const ptr = array.byteOffset;
    const size = this.rt.residentPtr(array) === ptr ? this.live.get(ptr) : undefined;
    if (size === undefined) throw new Error(`Kiln: wasm activations: give of an array at ${ptr} that is not a live block`);
    this.live.delete(ptr);
    this.liveBytes -= size;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(ptr);
    this.cachedBlocks++;
    this.cachedBytes += size;
  }

  /** Returns every cached block to the heap. */
  flush(): void {
    for (const list of this.free.values()) for (const ptr of list) this.heap.free(ptr);
    this.free.clear();
    this.cachedBlocks = 0;
    this.cachedBytes = 0;
  }

  stats(): ActivationStats {
    return { liveBlocks: this.live.size, liveBytes: this.liveBytes, cachedBlocks: this.cachedBlocks, cachedBytes: this.cachedBytes,
      heapBytes: this.heap.extent };
  }
}
