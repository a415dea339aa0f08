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

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) { super(); }
  override forward(x: Tensor): Tensor { return x.leakyRelu(this.negativeSlope); }
}

export class ELU extends Module {
  constructor(readonly alpha = 1) { super(); }
  override forward(x: Tensor): Tensor { return x.elu(this.alpha); }
}

/** GELU; approximate 'tanh' uses the tanh formula, 'none' (default) the exact erf form. */
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') { super(); }
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
