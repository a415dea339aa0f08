import { describe, expect, it } from 'vitest';
import { manualSeed, randn, conv2d, maxPool2d, avgPool2d, softmax, logSoftmax, layerNorm, type Tensor } from '@kiln/tensor';
import { exportOnnx } from './export.js';
import { decodeModel } from '../proto.js';
import { createSession, runSession } from '../runtime/session.js';

manualSeed(0);

/** A raw-op MLP (no @kiln/nn): parameters named like a state dict. */
function mlp() {
  const p = { 'fc1.weight': randn([8, 5]), 'fc1.bias': randn([8]), 'fc2.weight': randn([3, 8]), 'fc2.bias': randn([3]) };
  return {
    namedParameters: () => Object.entries(p) as [string, Tensor][],
    forward: (x: Tensor) => logSoftmax(x.matmul(p['fc1.weight'].t()).add(p['fc1.bias']).relu()
      .matmul(p['fc2.weight'].t()).add(p['fc2.bias']), 1),
  };
}

function convNet() {
  const p = { 'conv.weight': randn([4, 2, 3, 3]).mul(0.3), 'conv.bias': randn([4]), 'fc.weight': randn([3, 36]).mul(0.3) };
  return {
    namedParameters: () => Object.entries(p) as [string, Tensor][],
    forward: (x: Tensor) => {
      let h = conv2d(x, p['conv.weight'], p['conv.bias'], { padding: 1 }).tanh();
      h = maxPool2d(h, 2);
      h = avgPool2d(h, 2, { ceilMode: true, padding: 1 });
      return softmax(h.flatten(1).matmul(p['fc.weight'].t()), -1);
    },
  };
}

/** Functional layer norms (no @kiln/nn module): weight and bias, bias only over 2 dims, neither. */
function layerNorms() {
  const p = { 'ln1.weight': randn([6]).mul(0.5).add(1), 'ln1.bias': randn([6]), 'ln2.bias': randn([3, 6]) };
  return {
    namedParameters: () => Object.entries(p) as [string, Tensor][],
    forward: (x: Tensor) => {
      const h = layerNorm(x.mul(3).add(1), [6], p['ln1.weight'], p['ln1.bias']).relu();
      return layerNorm(layerNorm(h, [3, 6], null, p['ln2.bias'], 1e-3), 6);
    },
  };
}

function maxRel(a: Tensor, b: Tensor): number {
  const x = a.dataSync(), y = b.dataSync();
  expect(y.length).toBe(x.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(Number(x[i]) - Number(y[i])) / Math.max(1, Math.abs(Number(x[i]))));
  return m;
}

describe.each(['node', 'web'] as const)('export parity on onnxruntime-%s', (backend) => {
  for (const [name, make, shape] of [['mlp', mlp, [5]], ['conv net', convNet, [2, 8, 8]], ['layer norms', layerNorms, [3, 6]]] as const) {
    it(`${name}: one dynamic-batch model matches Kiln at batch 1 and 7`, async () => {
      const model = make();
      const bytes = exportOnnx(model, randn([3, ...shape]), { dynamicAxes: true });
      const session = await createSession(bytes, { backend });
      for (const batch of [1, 7]) {
        const x = randn([batch, ...shape]);
        const out = await runSession(session, { input: x });
        const ref = model.forward(x);
        expect(out.output!.shape).toEqual(ref.shape);
        expect(maxRel(ref, out.output!)).toBeLessThan(1e-4);
      }
    });
  }
});

describe('exportOnnx model structure', () => {
  it('names initializers by state-dict key, stamps producer/IR/opset and a symbolic batch', () => {
    const m = decodeModel(exportOnnx(mlp(), randn([2, 5]), { dynamicAxes: true, metadata: { task: 'digits' } }));
    expect(m.irVersion).toBe(8);
    expect(m.producerName).toBe('kiln');
    expect(m.opsetImport).toEqual([{ domain: '', version: 18 }]);
    expect(m.graph!.initializer!.map((t) => t.name)).toEqual(expect.arrayContaining(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']));
    expect(m.graph!.input![0]!.type!.tensorType!.shape!.dim![0]).toEqual({ dimParam: 'batch' });
    expect(m.metadataProps).toEqual(expect.arrayContaining([{ key: 'task', value: 'digits' }]));
    expect(m.graph!.node!.map((n) => n.opType)).toContain('LogSoftmax');
  });

  it('maps the functional layerNorm to one LayerNormalization each (axis −k, eps; ones for a missing scale)', () => {
    const g = decodeModel(exportOnnx(layerNorms(), randn([2, 3, 6]))).graph!;
    const norms = g.node!.filter((n) => n.opType === 'LayerNormalization');
    expect(norms.map((n) => [n.input!.length, n.attribute!.find((a) => a.name === 'axis')!.i])).toEqual([[3, -1], [3, -2], [2, -1]]);
    expect(norms[0]!.input!.slice(1)).toEqual(['ln1.weight', 'ln1.bias']);
    expect(norms[1]!.input![2]).toBe('ln2.bias');
    expect(norms[1]!.attribute!.find((a) => a.name === 'epsilon')!.f).toBeCloseTo(1e-3, 9);
    expect(g.node!.map((n) => n.opType)).not.toContain('ReduceMean');
  });

  it('rejects an unsupported opset', () => {
    expect(() => exportOnnx(mlp(), randn([2, 5]), { opset: 12 })).toThrow(/opset must be an integer in 17\.\.21, got 12/);
  });
});

describe('saveOnnx', () => {
  it('writes atomically: the file loads on ORT, and a failed write leaves the old contents and no temp file', async () => {
    const { mkdtemp, readdir, readFile, mkdir, writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { saveOnnx } = await import('./export.js');
    const dir = await mkdtemp(join(tmpdir(), 'kiln-save-onnx-'));
    const m = mlp();
    const path = join(dir, 'mlp.onnx');
    await saveOnnx(path, m, randn([2, 5]));
    const s = await createSession(new Uint8Array(await readFile(path)));
    expect((await runSession(s, { input: randn([2, 5]) })).output!.shape).toEqual([2, 3]);
    // A directory in the way makes the rename fail.
    const blocked = join(dir, 'blocked.onnx');
    await mkdir(blocked);
    await writeFile(join(blocked, 'keep'), 'x');
    await expect(saveOnnx(blocked, m, randn([2, 5]))).rejects.toThrow(/Kiln: saveOnnx: could not write .*blocked\.onnx/);
    expect((await readdir(dir)).sort()).toEqual(['blocked.onnx', 'mlp.onnx']);
    expect(await readdir(blocked)).toEqual(['keep']);
  });
});
