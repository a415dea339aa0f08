import type { Tensor } from '@kiln/tensor';
import { Module } from '../module.js';

export class Sigmoid extends Module {
  override forward(x: Tensor): Tensor { return x.sigmoid(); }
}

export class Tanh extends Module {
  override forward(x: Tensor): Tensor { return x.tanh(); }
}

export class ReLU extends Module {
  override forward(x: Tensor): Tensor { return x.relu(); }
}

/** Throws unless `v` is a finite number (a NaN slope or alpha would turn every negative input into NaN). */
function checkFinite(layer: string, name: string, v: unknown): void {
  if (!(typeof v === 'number' && Number.isFinite(v))) throw new Error(`Kiln: ${layer}: ${name} must be a finite number, got ${typeof v === 'string' ? `'${v}'` : String(v)}`);
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) { super(); checkFinite('LeakyReLU', 'negativeSlope', negativeSlope); }
  override forward(x: Tensor): Tensor { return x.leakyRelu(this.negativeSlope); }
}

export class ELU extends Module {
  constructor(readonly alpha = 1) { super(); checkFinite('ELU', 'alpha', alpha); }
  override forward(x: Tensor): Tensor { return x.elu(this.alpha); }
}

/** GELU; approximate 'tanh' uses the tanh formula, 'none' (default) the exact erf form. */
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
    if (approximate !== 'none' && approximate !== 'tanh') throw new Error(`Kiln: GELU: approximate must be 'none' or 'tanh', got ${JSON.stringify(approximate)}`);
  }
  override forward(x: Tensor): Tensor { return x.gelu(this.approximate); }
}

export class Softmax extends Module {
  constructor(readonly dim = -1) { super(); }
  override forward(x: Tensor): Tensor { return x.softmax(this.dim); }
}

export class LogSoftmax extends Module {
  constructor(readonly dim = -1) { super(); }
  override forward(x: Tensor): Tensor { return x.logSoftmax(this.dim); }
}
