/**
 * Building a model without drawing its random weights (PyTorch's `meta` device /
 * `nn.utils.skip_init`): for counting parameters, reading keys and shapes, or loading a checkpoint
 * into a model whose initial weights would be thrown away anyway.
 *
 * Inside `withoutInit(build)` every `nn.init` function (and any custom initialiser that asks
 * `deferInit`) leaves its tensor as allocated — zeros — and records it as awaiting weights. A
 * module built in the scope then refuses to run `forward` while any tensor of its subtree is still
 * awaiting: a model of zeros would run and give constant outputs that look like a result.
 * `loadStateDict` and the `nn.init` functions (called outside the scope) clear the record, entry by
 * entry, so a partial `loadStateDict(sd, { strict: false })` leaves the missing tensors named in
 * the error. Writes through `copy_`, `fill_` or `dataSync()` are not tracked: load with
 * `loadStateDict` instead (after writing into the module's own tensors in place,
 * `model.loadStateDict(model.stateDict())` declares them loaded and copies nothing).
 */
import type { Tensor } from '@kiln/tensor';
import type { Module } from './module.js';

/** Tensors an initialiser skipped inside withoutInit and nothing has loaded since. */
const awaitingWeights = new WeakSet<Tensor>();
/** Modules built inside withoutInit whose subtree may still hold awaiting tensors. */
const awaitingModules = new WeakSet<Module>();
/** One list per open scope (nested scopes stack): the modules constructed in it. */
const scopes: Module[][] = [];
let unchecked = 0;

/**
 * Runs `build` (synchronous) with weight initialisation switched off and returns its result:
 * parameters stay zeros, the draws from the random generator do not happen (so the seeded stream
 * is not advanced), and every module built refuses `forward` until its weights are loaded.
 *
 * ```ts
 * const model = withoutInit(() => vgg16());   // no 138 M random draws
 * model.loadStateDict(checkpoint);            // now it runs
 * ```
 */
export function withoutInit<T>(build: () => T): T {
  if (typeof build !== 'function') throw new Error(`Kiln: withoutInit: build must be a function, got ${typeof build}`);
  const built: Module[] = [];
  scopes.push(built);
  let result: T;
  try {
    result = build();
  } finally {
    scopes.pop();
  }
  if (result !== null && typeof (result as { then?: unknown } | undefined)?.then === 'function') {
    throw new Error('Kiln: withoutInit: build returned a Promise; the scope ends when build returns, so build the model synchronously');
  }
  for (const m of built) if (uninitialisedKeys(m).length) awaitingModules.add(m);
  return result;
}

/**
 * For initialisers: inside withoutInit, records `t` as awaiting weights and returns true (the
 * caller then returns without filling it); elsewhere returns false and clears any such record,
 * since the caller is about to give `t` its values.
 */
export function deferInit(t: Tensor): boolean {
  if (scopes.length) {
    awaitingWeights.add(t);
    return true;
  }
  awaitingWeights.delete(t);
  return false;
}

/**
 * The dotted state-dict keys of `module` built under withoutInit and not yet loaded (empty for a
 * model built normally or fully loaded).
 */
export function uninitialisedKeys(module: Module): string[] {
  return Object.entries(module.stateDict()).filter(([, t]) => awaitingWeights.has(t)).map(([k]) => k);
}

/** @internal Module's constructor: records modules constructed inside a scope. */
export function noteConstructed(m: Module): void {
  if (scopes.length) scopes[scopes.length - 1]!.push(m);
}

/** @internal loadStateDict and Module.to: `target` received values (or replaces `from`). */
export function noteLoaded(target: Tensor, from?: Tensor): void {
  if (from && awaitingWeights.has(from)) awaitingWeights.add(target);
  else awaitingWeights.delete(target);
}

/** @internal Runs `fn` with the forward check off: summary() only needs output shapes. */
export function uncheckedForward<T>(fn: () => T): T {
  unchecked++;
  try {
    return fn();
  } finally {
    unchecked--;
  }
}

/** @internal Module's forward wrapper: throws while `m`'s subtree awaits weights. */
export function checkWeightsLoaded(m: Module): void {
  if (!awaitingModules.has(m) || unchecked) return;
  const keys = uninitialisedKeys(m);
  if (!keys.length) {
    awaitingModules.delete(m);
    return;
  }
  const total = Object.keys(m.stateDict()).length;
  const shown = keys.slice(0, 4).join(', ') + (keys.length > 4 ? `, … (${keys.length - 4} more)` : '');
  throw new Error(
    `Kiln: ${m.constructor.name}.forward: ${keys.length} of its ${total} parameters and buffers were built under withoutInit and have not been loaded (${shown}); `
    + 'load them with loadStateDict, or give them values with an nn.init function, before running the model',
  );
}
