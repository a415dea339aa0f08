import { describe, expect, it } from 'vitest';
import { kernels, manualSeed, tensor, traceOps, zeros, type TraceRecord } from '@kiln/tensor';
import { BatchNorm2d, Conv2d, Flatten, Linear, Module, ReLU, Sequential, summary } from './index.js';

class Net extends Module {
  features = new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2), new ReLU());
  bn1 = new BatchNorm2d(2);
  flat = new Flatten();
  fc = new Linear(8, 3);
  override forward(x: ReturnType<typeof zeros>) {
    return this.fc.forward(this.flat.forward(this.bn1.forward(this.features.forward(x))));
  }
}

describe('Module', () => {
  it('names parameters and buffers like PyTorch', () => {
    const sd = Object.keys(new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2), new Linear(4, 2)).stateDict());
    expect(sd).toEqual([
      '0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked', '2.weight', '2.bias',
    ]);
    const net = new Net();
    const keys = Object.keys(net.stateDict());
    expect(keys).toContain('features.0.weight');
    expect(keys).toContain('bn1.running_mean');
    expect(net.stateDict()['bn1.num_batches_tracked']!.dtype).toBe('int32');
    expect(net.namedParameters().map(([k]) => k)).toEqual([
      'features.0.weight', 'features.0.bias', 'features.1.weight', 'features.1.bias', 'bn1.weight', 'bn1.bias', 'fc.weight', 'fc.bias',
    ]);
    expect(net.children().length).toBe(4);
    expect(net.namedModules().map(([k]) => k)).toEqual(['', 'features', 'features.0', 'features.1', 'features.2', 'bn1', 'flat', 'fc']);
  });

  it('eval moves float32 parameters into the backend\'s memory where it has one, same values, same outputs', () => {
    manualSeed(3);
    const net = new Sequential(new Linear(20, 16), new ReLU(), new Linear(16, 4));
    const x = tensor(Float32Array.from({ length: 40 }, (_, i) => Math.sin(i)), { shape: [2, 20] });
    const before = net.parameters().map((p) => Float32Array.from(p.dataSync()));
    const y0 = Array.from(net.forward(x).dataSync());
    net.eval();
    const canMove = kernels().residentArrays?.([1]) != null;
    net.parameters().forEach((p, i) => {
      expect(p._residentValues).toBe(canMove);
      expect(p._gradSlot).toBeNull(); // no gradient slots for inference
      expect(Array.from(p.dataSync())).toEqual(Array.from(before[i]!));
    });
    expect(Array.from(net.forward(x).dataSync())).toEqual(y0);
    net.eval(); // again: nothing moves twice
    expect(net.parameters().every((p) => p._residentValues === canMove)).toBe(true);
  });

  it('train/eval propagate; requiresGrad_ freezes a submodule; zeroGrad clears', () => {
    const net = new Net();
    net.eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.features.at(1).training).toBe(true);
    net.features.requiresGrad_(false);
    expect(net.features.parameters().every((p) => !p.requiresGrad)).toBe(true);
    expect(net.fc.weight.requiresGrad).toBe(true);
    net.forward(zeros([2, 1, 4, 4]).add(tensor([1, 2, 3, 4]))).sum().backward();
    expect(net.fc.weight.grad).not.toBeNull();
    expect(net.features.at(0).parameters()[0]!.grad).toBeNull();
    net.zeroGrad();
    expect(net.fc.weight.grad).toBeNull();
  });

  it('stateDict round trip and clear load errors', () => {
    manualSeed(1);
    const a = new Net();
    manualSeed(2);
    const b = new Net();
    expect(b.fc.weight.toArray()).not.toEqual(a.fc.weight.toArray());
    b.loadStateDict(a.stateDict());
    expect(b.fc.weight.toArray()).toEqual(a.fc.weight.toArray());
    const sd = { ...a.stateDict() };
    delete sd['fc.bias'];
    expect(() => b.loadStateDict(sd)).toThrow(/missing keys: fc\.bias/);
    expect(() => b.loadStateDict({ ...a.stateDict(), extra: zeros([1]) })).toThrow(/unexpected keys: extra/);
    expect(b.loadStateDict(sd, { strict: false }).missingKeys).toEqual(['fc.bias']);
    expect(() => b.loadStateDict(sd, { Strict: false } as never)).toThrow(/Kiln: \w+\.loadStateDict: unknown option 'Strict' \(known: strict\)/);
    expect(() => b.loadStateDict({ ...a.stateDict(), 'fc.weight': zeros([3, 7]) })).toThrow(/shape mismatch for 'fc.weight': checkpoint has \[3,7\], model has \[3,8\]/);
  });

  it('a failed loadStateDict leaves every value as it was (all entries are checked before any is copied)', () => {
    manualSeed(1);
    const a = new Net();
    manualSeed(2);
    const b = new Net();
    const before = Object.fromEntries(Object.entries(b.stateDict()).map(([k, t]) => [k, t.toArray()]));
    // fc.weight comes last, so a copy-as-you-check loader would already have overwritten the rest
    expect(() => b.loadStateDict({ ...a.stateDict(), 'fc.weight': zeros([3, 7]) })).toThrow(/shape mismatch for 'fc.weight'/);
    for (const [k, t] of Object.entries(b.stateDict())) expect(t.toArray(), k).toEqual(before[k]);
    expect(Object.keys(b.stateDict()).slice(-2)).toEqual(['fc.weight', 'fc.bias']);
  });

  it('to(float64) converts parameters and float buffers but keeps int buffers', () => {
    const net = new Net().double();
    expect(net.parameters().every((p) => p.dtype === 'float64' && p.requiresGrad)).toBe(true);
    expect(net.bn1.running_mean!.dtype).toBe('float64');
    expect(net.bn1.num_batches_tracked!.dtype).toBe('int32');
    expect(net.forward(zeros([1, 1, 4, 4], { dtype: 'float64' })).dtype).toBe('float64');
    // PyTorch raises for both; an int32 module lost its weights, a string mode switched training on
    expect(() => new Net().to('int32' as never)).toThrow(/^Kiln: Net\.to: dtype must be 'float32' or 'float64', got 'int32'$/);
    expect(() => new Net().train('false' as never)).toThrow(/^Kiln: Net\.train: mode must be a boolean, got 'false'$/);
    expect(() => new Net().requiresGrad_(0 as never)).toThrow(/^Kiln: Net\.requiresGrad_: flag must be a boolean, got 0$/);
  });

  it('apply visits every module; summary reports shapes and counts', () => {
    const seen: string[] = [];
    new Net().apply((m) => seen.push(m.constructor.name));
    expect(seen).toEqual(['Conv2d', 'BatchNorm2d', 'ReLU', 'Sequential', 'BatchNorm2d', 'Flatten', 'Linear', 'Net']);
    const s = new Net().summary([1, 1, 4, 4]);
    expect(s.rows.find((r) => r.name === 'features.0')!.outputShape).toEqual([1, 2, 2, 2]);
    expect(s.rows.find((r) => r.name === 'fc')!.params).toBe(27);
    expect(s.totalParams).toBe(20 + 4 + 4 + 27);
    expect(String(s)).toMatch(/Total params: 55/);
    // the third argument is the input dtype; an options object there used to be ignored
    expect(() => summary(new Net(), [1, 1, 4, 4], { depth: 1 } as never)).toThrow(/^Kiln: summary: dtype must be 'float32', 'float64', 'int32' or 'bool', got \{"depth":1\}$/);
  });

  it('routes forward through composite("module") only while tracing', () => {
    const lin = new Linear(2, 1);
    const records: TraceRecord[] = [];
    traceOps({ record: (r) => records.push(r), wantsComposite: (op) => op === 'module' }, () => lin.forward(zeros([1, 2])));
    expect(records).toHaveLength(1);
    expect(records[0]!.op).toBe('module');
    expect(records[0]!.attrs.type).toBe('Linear');
    expect(records[0]!.attrs.module).toBe(lin);
    expect(records[0]!.inputs).toHaveLength(3);
    expect(records[0]!.inputs[1]).toBe(lin.weight);
    const inner: TraceRecord[] = [];
    traceOps({ record: (r) => inner.push(r) }, () => lin.forward(zeros([1, 2])));
    expect(inner.map((r) => r.op)).toEqual(['linear']);
  });

  it('a traced call lists tensors from arguments, array arguments and option objects, in order', () => {
    class Probe extends Module {
      override forward(x: unknown, _pair: unknown, _opts: unknown): unknown { return x; }
    }
    const p = new Probe();
    const [a, b, c, d] = [zeros([1]), zeros([2]), zeros([3]), zeros([4])];
    const records: TraceRecord[] = [];
    traceOps({ record: (r) => records.push(r), wantsComposite: (op) => op === 'module' }, () => p.forward(a, [b, 7, c], { lengths: d, flag: true }));
    expect(records[0]!.inputs).toEqual([a, b, c, d]);
  });
});
