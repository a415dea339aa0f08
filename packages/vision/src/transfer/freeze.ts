/**
 * Freezing for transfer learning. `freeze` turns gradients off for every parameter of a module
 * (and clears any it already holds, so no optimizer step can move them) and pins each batch-norm
 * layer inside it to eval mode: a frozen layer keeps normalising with its stored running
 * statistics, and does not update them, even after `model.train()` — otherwise a frozen trunk
 * would still drift with every training batch, and its features would differ between training
 * and inference.
 */
import { Module } from '@kiln/nn';

/** What `model.train(mode)` asked of a pinned layer, applied again when it is unfrozen. */
const requested = new WeakMap<Module, boolean>();

/** Batch-norm-like layers: those with running statistics (BatchNorm1d/2d/3d, and any layer registering a running_mean buffer). */
function hasRunningStats(m: Module): boolean {
  return m._bufferNames.has('running_mean');
}

function pinEval(m: Module): void {
  if (requested.has(m)) return;
  requested.set(m, m.training);
  Object.defineProperty(m, 'training', {
    configurable: true,
    enumerable: true,
    get: () => false,
    set: (v: boolean) => { requested.set(m, v); },
  });
}

function unpin(m: Module): void {
  if (!requested.has(m)) return;
  const mode = requested.get(m)!;
  requested.delete(m);
  Object.defineProperty(m, 'training', { configurable: true, enumerable: true, writable: true, value: mode });
}

function checkModule(op: string, module: unknown): asserts module is Module {
  if (!(module instanceof Module)) throw new Error(`Kiln: ${op}: expected a Module, got ${module === null ? 'null' : typeof module}`);
}

/** Stops training `module`: requiresGrad off and gradients cleared for its parameters; its batch norms stay in eval mode. Returns it. */
export function freeze<M extends Module>(module: M): M {
  checkModule('freeze', module);
  for (const p of module.parameters()) { p.requiresGrad = false; p.grad = null; }
  for (const m of module.modules()) if (hasRunningStats(m)) pinEval(m);
  return module;
}

/** Undoes `freeze`: requiresGrad on, and batch norms follow train()/eval() again (in the mode last asked for). Returns it. */
export function unfreeze<M extends Module>(module: M): M {
  checkModule('unfreeze', module);
  for (const p of module.parameters()) p.requiresGrad = true;
  for (const m of module.modules()) unpin(m);
  return module;
}

/** True when no parameter of `module` requires a gradient (a module without parameters counts as frozen). */
export function isFrozen(module: Module): boolean {
  checkModule('isFrozen', module);
  return module.parameters().every((p) => !p.requiresGrad);
}

/** The parameters that still train: pass these to an optimizer after freezing a part of the model. */
export function trainableParameters(module: Module): ReturnType<Module['parameters']> {
  checkModule('trainableParameters', module);
  return module.parameters().filter((p) => p.requiresGrad);
}
