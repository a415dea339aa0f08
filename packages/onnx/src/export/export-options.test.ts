import { describe, expect, it } from 'vitest';
import { manualSeed, randn, float16ToFloat32, float32ToFloat16, noGrad, type Tensor } from '@kiln/tensor';
import { Conv2d, Flatten, Linear, ReLU, Sequential } from '@kiln/nn';
import { exportOnnx } from './export.js';
import { decodeModel, DataType } from '../proto.js';
import { importOnnx } from '../import/import.js';
import { createSession, runSession } from '../runtime/session.js';

manualSeed(3);
const net = () => new Sequential(new Conv2d(2, 4, 3, { padding: 1 }), new ReLU(), new Flatten(), new Linear(4 * 5 * 5, 3));
const x = randn([2, 2, 5, 5]);

describe('exportOnnx options are validated', () => {
  it("dynamicAxes keyed by dim instead of by name is an error that says what is wanted", () => {
    const m = net();
    expect(() => exportOnnx(m, x, { dynamicAxes: { 0: 'batch' } as never }))
      .toThrow("Kiln: exportOnnx: option 'dynamicAxes' must be want true (dim 0 of every input and output is 'batch') or { <input or output name>: { <dim>: '<name>' } }; '0' maps to 'batch'");
    expect(() => exportOnnx(m, x, { dynamicAxes: { inp: { 0: 'batch' } } }))
      .toThrow("Kiln: exportOnnx: dynamicAxes names 'inp', which is not an input or output (inputs: input; outputs: output)");
    expect(() => exportOnnx(m, x, { dynamicAxes: { input: { batch: 'b' } } as never })).toThrow("'input' has batch: 'b'");
    // a dim past the rank used to be dropped, leaving the axis static
    expect(() => exportOnnx(m, x, { dynamicAxes: { output: { 2: 'n' } } })).toThrow(/^Kiln: exportOnnx: dynamicAxes gives 'output' dim 2, but 'output' has shape \[2,3\] \(dims 0\.\.1\)$/);
    const ok = decodeModel(exportOnnx(m, x, { dynamicAxes: { input: { 0: 'n' }, output: { 0: 'n' } } }));
    expect(ok.graph!.input![0]!.type!.tensorType!.shape!.dim![0]).toEqual({ dimParam: 'n' });
  });

  it('unknown keys and wrong types name the option', () => {
    const m = net();
    expect(() => exportOnnx(m, x, { opsetVersion: 17 } as never)).toThrow("Kiln: exportOnnx: unknown option 'opsetVersion' (known: opset, inputNames");
    expect(() => exportOnnx(m, x, { inputNames: 'x' } as never)).toThrow("option 'inputNames' must be an array of strings, got 'x'");
    expect(() => exportOnnx(m, x, { metadata: { a: 1 } } as never)).toThrow("option 'metadata' must be an object of strings");
    expect(() => exportOnnx(m, x, { initializerDtype: 'bfloat16' } as never)).toThrow("option 'initializerDtype' must be one of 'float32', 'float16'");
    expect(() => exportOnnx(m, x, 'opset17' as never)).toThrow('Kiln: exportOnnx: options must be an object');
    expect(() => exportOnnx(m, [x, x], { inputNames: ['a', 'a'] })).toThrow(/^Kiln: exportOnnx: inputNames has 'a' twice, got \["a","a"\]$/);
    expect(() => exportOnnx(m, [[1, 2]] as never)).toThrow(/^Kiln: exportOnnx: sample input 0 must be a Tensor, got an array$/);
  });

  it('runSession refuses an input name the model does not have, and a non-Tensor input', async () => {
    const m = net();
    const s = await createSession(exportOnnx(m, x));
    await expect(runSession(s, { input: x, inptu: x })).rejects.toThrow(/^Kiln: runSession: 'inptu' is not an input of the model \(model inputs: input\)$/);
    await expect(runSession(s, { input: [1, 2] as never })).rejects.toThrow(/^Kiln: runSession: input 'input' must be a Tensor, got an array$/);
  });
});

describe("initializerDtype: 'float16'", () => {
  it('stores weights as FLOAT16 under their state-dict names, runs on ORT, imports back and fine-tunes', async () => {
    const m = net();
    m.eval();
    const full = exportOnnx(m, x);
    const half = exportOnnx(m, x, { initializerDtype: 'float16' });
    const g = decodeModel(half).graph!;
    const bytes = (m: Uint8Array) => decodeModel(m).graph!.initializer!.reduce((a, t) => a + (t.rawData?.byteLength ?? 0), 0);
    expect(bytes(half)).toBe(bytes(full) / 2);
    expect(half.byteLength).toBeLessThan(full.byteLength);
    const w = g.initializer!.find((t) => t.name === '0.weight')!;
    expect(w.dataType).toBe(DataType.FLOAT16);
    expect(g.node!.filter((n) => n.opType === 'Cast')).toHaveLength(4);
    // The reference: the same net with weights rounded to float16.
    const rounded = net();
    const sd = m.stateDict();
    rounded.loadStateDict(Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, t.dtype === 'float32'
      ? new (t.constructor as new (d: Float32Array, s: number[], dt: 'float32') => Tensor)(float16ToFloat32(float32ToFloat16(t.dataSync() as Float32Array)), [...t.shape], 'float32') : t])));
    rounded.eval();
    const want = noGrad(() => rounded.forward(x)).dataSync();
    const s = await createSession(half, { backend: 'node' });
    const got = (await runSession(s, { input: x })).output!.dataSync();
    for (let i = 0; i < want.length; i++) expect(Math.abs(Number(got[i]) - Number(want[i]))).toBeLessThan(1e-4);
    const imp = importOnnx(half);
    const y = imp.forward(x) as Tensor;
    y.dataSync().forEach((v, i) => expect(Math.abs(Number(v) - Number(want[i]))).toBeLessThan(1e-4));
    expect(Object.keys(imp.stateDict()).sort()).toEqual(['0.bias', '0.weight', '3.bias', '3.weight']);
    // gradients reach the (float32-stored) parameters through the Cast nodes
    y.square().mean().backward();
    expect(imp.stateDict()['0.weight']!.grad).toBeTruthy();
  });
});

describe('createSession options are validated', () => {
  it('unknown keys and wrong types name the option', async () => {
    const bytes = exportOnnx(net(), x);
    await expect(createSession(bytes, { providers: ['cpu'] } as never)).rejects.toThrow("Kiln: createSession: unknown option 'providers' (known: backend, executionProviders, logSeverityLevel)");
    await expect(createSession(bytes, { logSeverityLevel: 7 } as never)).rejects.toThrow("createSession: option 'logSeverityLevel' must be one of 0, 1, 2, 3, 4, got 7");
    await expect(createSession(bytes, { backend: 'gpu' } as never)).rejects.toThrow("createSession: backend must be 'node' or 'web', got 'gpu'");
  });
});
