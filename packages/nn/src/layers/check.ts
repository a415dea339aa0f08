import type { Tensor } from '@kiln/tensor';

/** Throws `Kiln: <layer>: expected <what>, got input of shape [...]` unless `ok`. */
export function checkInput(layer: string, x: Tensor, ok: boolean, what: string): void {
  if (!ok) throw new Error(`Kiln: ${layer}: expected ${what}, got input of shape [${x.shape.join(',')}]`);
}
