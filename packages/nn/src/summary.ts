import { noGrad, zeros, Tensor, type DType } from '@kiln/tensor';
import type { Module } from './module.js';
import { uncheckedForward } from './without-init.js';

export interface SummaryRow {
  name: string;
  type: string;
  outputShape: number[] | null;
  params: number;
}

export interface Summary {
  rows: SummaryRow[];
  totalParams: number;
  trainableParams: number;
  toString(): string;
}

/**
 * Runs a zero input of `inputShape` through `model` (eval mode, no grad) and records each
 * leaf module's output shape and parameter count; `String(summary(...))` prints a table.
 */
export function summary(model: Module, inputShape: readonly number[], dtype: DType = 'float32'): Summary {
  // the third argument is the input dtype, not an options object
  if (!(['float32', 'float64', 'int32', 'bool'] as unknown[]).includes(dtype)) throw new Error(`Kiln: summary: dtype must be 'float32', 'float64', 'int32' or 'bool', got ${typeof dtype === 'object' ? JSON.stringify(dtype) : String(dtype)}`);
  const rows: SummaryRow[] = [];
  const restore: (() => void)[] = [];
  for (const [name, m] of model.namedModules()) {
    if (name === '' || m.children().length) continue;
    const row: SummaryRow = { name, type: m.constructor.name, outputShape: null, params: m.parameters().reduce((a, p) => a + p.numel(), 0) };
    rows.push(row);
    const f = m.forward;
    m.forward = (...a: unknown[]) => {
      const y = f(...a) as unknown;
      if (y instanceof Tensor) row.outputShape = [...y.shape];
      return y;
    };
    restore.push(() => { m.forward = f; });
  }
  const wasTraining = model.training;
  model.eval();
  try {
    // shapes only: a model built under withoutInit may be summarised before its weights are loaded
    uncheckedForward(() => noGrad(() => model.forward(zeros(inputShape, { dtype: model.parameters()[0]?.dtype ?? dtype }))));
  } finally {
    restore.forEach((r) => r());
    model.train(wasTraining);
  }
  const params = model.parameters();
  const totalParams = params.reduce((a, p) => a + p.numel(), 0);
  const trainableParams = params.filter((p) => p.requiresGrad).reduce((a, p) => a + p.numel(), 0);
  return {
    rows, totalParams, trainableParams,
    toString() {
      const cells = rows.map((r) => [`${r.name} (${r.type})`, r.outputShape ? `[${r.outputShape.join(', ')}]` : '-', r.params.toLocaleString('en-US')]);
      const head = ['Layer (type)', 'Output shape', 'Params'];
      const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
      const line = (c: string[]) => c.map((s, i) => (i === 2 ? s.padStart(w[i]!) : s.padEnd(w[i]!))).join('  ');
      const rule = '-'.repeat(w.reduce((a, b) => a + b + 2, -2));
      return [line(head), rule, ...cells.map(line), rule,
        `Total params: ${totalParams.toLocaleString('en-US')}`,
        `Trainable params: ${trainableParams.toLocaleString('en-US')}`,
        `Non-trainable params: ${(totalParams - trainableParams).toLocaleString('en-US')}`].join('\n');
    },
  };
}
