import { kernels } from './backend.js';
import type { Tensor } from './tensor.js';

/**
 * Moves float32 leaf tensors into the active backend's own memory where it has one (the wasm
 * backend's resident storage): their values back to back in one block, a gradient slot for each
 * back to back in a second. Kernels then read the values in place, backward writes gradients
 * into the slots, and a fused optimizer update runs over both blocks without a copy. Optimizers
 * do this for their parameters and `fuseConvBn` for the weights it folds. Tensors already moved
 * stay where they are; without room (or without such a backend) everything stays in the JS heap.
 */
export function makeResident(tensors: readonly Tensor[]): void {
  const k = kernels();
  if (!k.residentArrays) return;
  const todo = tensors.filter((t) => t.dtype === 'float32' && t._gradSlot === null && t.isLeaf);
  if (!todo.length) return;
  const lengths = todo.map((t) => t.numel());
  const data = k.residentArrays(lengths);
  const slots = data && k.residentArrays(lengths);
  if (!data || !slots) return;
  todo.forEach((t, i) => t._adoptResident(data[i]!, slots[i]!));
}
