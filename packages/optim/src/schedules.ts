/**
 * Learning-rate schedules. A schedule is a plain function `(step) => lr` (step = epoch or
 * iteration, starting at 0), so they compose (`warmup(cosine(...), 5)`); `LRScheduler` applies
 * one to an optimizer's groups on each `.step()`.
 */
import type { Optimizer } from './optimizer.js';

export type Schedule = (step: number) => number;

function check(name: string, ok: boolean, msg: string): void {
  if (!ok) throw new Error(`Kiln: ${name}: ${msg}`);
}

/** α₀ / (1 + decayRate·epoch) (the course's 1/(1 + decay·epoch) decay). */
export function inverseTimeDecay(lr0: number, decayRate: number): Schedule {
  check('inverseTimeDecay', decayRate >= 0, `decayRate must be >= 0, got ${decayRate}`);
  return (e) => lr0 / (1 + decayRate * e);
}

/** α₀ · gammaᵉᵖᵒᶜʰ (e.g. 0.95). */
export function exponentialDecay(lr0: number, gamma: number): Schedule {
  check('exponentialDecay', gamma > 0, `gamma must be > 0, got ${gamma}`);
  return (e) => lr0 * gamma ** e;
}

/** k / √epoch (epochs counted from 1, so step 0 gives k). */
export function inverseSqrtEpoch(k: number): Schedule {
  return (e) => k / Math.sqrt(e + 1);
}

/** k / √t with t the mini-batch number counted from 1 (step 0 gives k). */
export function inverseSqrtStep(k: number): Schedule {
  return (t) => k / Math.sqrt(t + 1);
}

/** Staircase: α₀ · gamma^⌊epoch / stepSize⌋ (PyTorch's StepLR). */
export function stepDecay(lr0: number, stepSize: number, gamma = 0.1): Schedule {
  check('stepDecay', Number.isInteger(stepSize) && stepSize > 0, `stepSize must be a positive integer, got ${stepSize}`);
  return (e) => lr0 * gamma ** Math.floor(e / stepSize);
}

/** Cosine annealing from α₀ to etaMin over tMax steps (then held at etaMin): etaMin + (α₀−etaMin)(1+cos(π·t/tMax))/2. */
export function cosineAnnealing(lr0: number, tMax: number, etaMin = 0): Schedule {
  check('cosineAnnealing', tMax > 0, `tMax must be > 0, got ${tMax}`);
  return (t) => etaMin + ((lr0 - etaMin) * (1 + Math.cos((Math.PI * Math.min(t, tMax)) / tMax))) / 2;
}

/**
 * Linear warm-up over `warmupSteps`: lr = schedule(t)·startFactor→1 linearly for t < warmupSteps,
 * then `after(t − warmupSteps)`. `after` may be any schedule (composable) or a constant.
 */
export function linearWarmup(after: Schedule | number, warmupSteps: number, startFactor = 0): Schedule {
  check('linearWarmup', Number.isInteger(warmupSteps) && warmupSteps >= 0, `warmupSteps must be a non-negative integer, got ${warmupSteps}`);
  const f: Schedule = typeof after === 'number' ? () => after : after;
  return (t) => (t < warmupSteps ? f(0) * (startFactor + ((1 - startFactor) * t) / warmupSteps) : f(t - warmupSteps));
}

/** A constant learning rate. */
export function constant(lr: number): Schedule {
  return () => lr;
}

/**
 * Drives an optimizer's learning rate. Each group's lr becomes `schedule(step) · initialLr/defaults.lr`
 * (initialLr: the group's lr when the first scheduler was attached)
 * (so per-group ratios are kept); call `.step()` once per epoch (or per iteration for step-based
 * schedules). `setLr` overrides manually until the next `.step()`.
 */
export class LRScheduler {
  /** Number of `.step()` calls so far. */
  lastStep = 0;
  private readonly ratios: number[];

  constructor(readonly optimizer: Optimizer, readonly schedule: Schedule) {
    const opt = optimizer as Partial<Optimizer> | null;
    if (!opt || !Array.isArray(opt.paramGroups) || typeof opt.defaults?.lr !== 'number') {
      throw new Error(`Kiln: LRScheduler: optimizer must be an Optimizer (e.g. new SGD(model.parameters(), { lr })), got ${opt === null || (typeof opt !== 'object' && typeof opt !== 'function') ? String(opt) : typeof opt === 'function' ? 'a function' : (opt.constructor?.name ?? 'an object')}`);
    }
    if (typeof schedule !== 'function') throw new Error(`Kiln: LRScheduler: schedule must be a function (step) => lr, got ${typeof schedule === 'number' ? `${schedule} (use constant(${schedule}))` : typeof schedule}`);
    const base = optimizer.defaults.lr;
    // like PyTorch's initial_lr: the first scheduler records each group's starting lr
    this.ratios = optimizer.paramGroups.map((g) => {
      if (typeof g.initialLr !== 'number') g.initialLr = g.lr;
      return base > 0 ? (g.initialLr as number) / base : 1;
    });
    this.apply();
  }

  private apply(): void {
    const lr = this.schedule(this.lastStep);
    if (!Number.isFinite(lr) || lr < 0) throw new Error(`Kiln: LRScheduler: schedule gave lr ${lr} at step ${this.lastStep}`);
    this.optimizer.paramGroups.forEach((g, i) => { g.lr = lr * this.ratios[i]!; });
  }

  step(): void {
    this.lastStep++;
    this.apply();
  }

  /** The current learning rate of each group. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** Manual setter: sets every group's lr (or group `group` only). */
  setLr(lr: number, group?: number): void {
    if (!(lr >= 0)) throw new Error(`Kiln: LRScheduler.setLr: lr must be >= 0, got ${lr}`);
    if (group === undefined) this.optimizer.paramGroups.forEach((g) => { g.lr = lr; });
    else {
      const g = this.optimizer.paramGroups[group];
      if (!g) throw new Error(`Kiln: LRScheduler.setLr: no group ${group} (have ${this.optimizer.paramGroups.length})`);
      g.lr = lr;
    }
  }

  stateDict(): { lastStep: number } {
    return { lastStep: this.lastStep };
  }

  loadStateDict(sd: { lastStep: number }): void {
    const step = sd?.lastStep;
    if (!(Number.isInteger(step) && step >= 0)) throw new Error(`Kiln: LRScheduler.loadStateDict: lastStep must be a non-negative integer, got ${String(step)}`);
    this.lastStep = sd.lastStep;
    this.apply();
  }
}

/** Sets the learning rate of every group of `optimizer` (manual schedule). */
export function setLr(optimizer: Optimizer, lr: number): void {
  if (!(lr >= 0)) throw new Error(`Kiln: setLr: lr must be >= 0, got ${lr}`);
  for (const g of optimizer.paramGroups) g.lr = lr;
}
