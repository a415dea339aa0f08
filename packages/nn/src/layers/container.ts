import type { Tensor } from '@kiln/tensor';
import { Module } from '../module.js';
import { checkInput } from './check.js';

/** Runs its modules in order; state-dict keys are their indices (`0.weight`, `1.running_mean`). */
export class Sequential extends Module {
  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => this.append(m, i));
  }

  private append(m: Module, i: number): void {
    if (!(m instanceof Module)) throw new Error(`Kiln: Sequential: argument ${i} is not a Module`);
    (this as unknown as Record<string, Module>)[String(i)] = m;
  }

  get length(): number {
    return this.children().length;
  }

  /** The i-th module (negative counts from the end). */
  at(i: number): Module {
    const kids = this.children();
    const m = kids[i < 0 ? kids.length + i : i];
    if (!m) throw new Error(`Kiln: Sequential.at: index ${i} out of range for ${kids.length} modules`);
    return m;
  }

  push(m: Module): this {
    this.append(m, this.length);
    return this;
  }

  override forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.children()) y = m.forward(y) as Tensor;
    return y;
  }
}

/** A list of modules registered under their indices; forward is up to the owner. */
export class ModuleList extends Module {
  constructor(modules: Module[] = []) {
    super();
    modules.forEach((m) => this.push(m));
  }

  get length(): number {
    return this.children().length;
  }

  at(i: number): Module {
    const kids = this.children();
    const m = kids[i < 0 ? kids.length + i : i];
    if (!m) throw new Error(`Kiln: ModuleList.at: index ${i} out of range for ${kids.length} modules`);
    return m;
  }

  push(m: Module): this {
    if (!(m instanceof Module)) throw new Error(`Kiln: ModuleList.push: argument is not a Module`);
    (this as unknown as Record<string, Module>)[String(this.length)] = m;
    return this;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }

  override forward(): never {
    throw new Error('Kiln: ModuleList: has no forward(); iterate over its modules instead');
  }
}

/** Returns its input. */
export class Identity extends Module {
  override forward(x: Tensor): Tensor {
    return x;
  }
}

/** Flattens dims startDim..endDim (default 1..-1: keeps the batch dim). */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }

  override forward(x: Tensor): Tensor {
    const s = this.startDim < 0 ? x.ndim + this.startDim : this.startDim;
    checkInput('Flatten', x, s >= 0 && s < Math.max(x.ndim, 1), `at least ${this.startDim + 1} dims (startDim ${this.startDim})`);
    return x.flatten(this.startDim, this.endDim);
  }
}
