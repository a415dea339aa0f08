import { describe, expect, it } from 'vitest';
import { frameGroup, frameName, nameWasmFrames, profileReport, selfTimes, wasmFunctionNames, type CpuProfile } from './profile.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

/** root → step → { matmul kernel (wasm), gc }; samples at step, kernel, kernel, gc. */
function tinyProfile(): CpuProfile {
  return {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 4] },
      { id: 2, callFrame: frame('step', 'file:///w/main/apps/bench/dist/kiln-job.js', 9), children: [3] },
      { id: 3, callFrame: frame('sgemm_f32', 'wasm://wasm/0012abcd', 0) },
      { id: 4, callFrame: frame('(garbage collector)') },
    ],
    samples: [2, 3, 3, 4],
    // Sample i lasts until sample i + 1: step 1 ms, kernel 2 + 3 ms, gc (last) 0.
    timeDeltas: [0, 1000, 2000, 3000],
    startTime: 0,
    endTime: 6000,
  };
}

describe('frameGroup', () => {
  it('groups by workspace package folder, node_modules package, Wasm, Node internals and V8 pseudo-frames', () => {
    expect(frameGroup(frame('matmul', 'file:///work/main/packages/tensor/dist/ops/linalg.js'))).toBe('tensor/ops');
    expect(frameGroup(frame('forward', 'file:///work/main/packages/sequence/dist/transformer/attention.js'))).toBe('sequence/transformer');
    expect(frameGroup(frame('finish', 'file:///work/main/packages/tensor/dist/autograd.js'))).toBe('tensor');
    expect(frameGroup(frame('unary', 'file:///work/main/packages/tensor/dist/backends/reference/elementwise.js'))).toBe('tensor/backends/reference');
    expect(frameGroup(frame('f', 'file:///work/main/packages/tensor/dist/backends/wasm/fast/x.js'))).toBe('tensor/backends/wasm/fast');
    expect(frameGroup(frame('f', 'file:///w/packages/tensor/dist/a/b/c/d/x.js'))).toBe('tensor/a/b/c');
    expect(frameGroup(frame('x', 'file:///work/main/node_modules/@tensorflow/tfjs-core/dist/index.js'))).toBe('@tensorflow/tfjs-core');
    expect(frameGroup(frame('k', 'wasm://wasm/00abc'))).toBe('wasm');
    expect(frameGroup(frame('readFile', 'node:fs'))).toBe('node:internals');
    expect(frameGroup(frame('(garbage collector)'))).toBe('(gc)');
    expect(frameGroup(frame('(program)'))).toBe('(program)');
    expect(frameGroup(frame('Float32Array'))).toBe('(native)');
  });
  it('names functions by file and 1-based line', () => {
    expect(frameName(frame('step', 'file:///a/b/kiln-job.js', 9))).toBe('step (kiln-job.js:10)');
    expect(frameName(frame('', 'file:///a/b/x.js', 0))).toBe('(anonymous) (x.js:1)');
    expect(frameName(frame('(garbage collector)'))).toBe('(garbage collector)');
  });
});

describe('selfTimes', () => {
  it('sums the time after each sample per function and per group, largest first', () => {
    const s = selfTimes(tinyProfile());
    expect(s.total).toBe(6);
    expect(s.functions.map((f) => [f.name, f.ms, f.share])).toEqual([
      ['sgemm_f32', 5, 5 / 6], ['step (kiln-job.js:10)', 1, 1 / 6], ['(garbage collector)', 0, 0],
    ]);
    expect(s.groups.map((g) => [g.name, g.ms])).toEqual([['wasm', 5], ['bench', 1], ['(gc)', 0]]);
    // Inclusive: step covers its own 1 ms and the kernel's 5 ms; the root covers everything.
    expect(s.inclusive.map((f) => [f.name, f.ms])).toEqual([['(root)', 6], ['step (kiln-job.js:10)', 6], ['sgemm_f32', 5], ['(garbage collector)', 0]]);
    expect(profileReport(tinyProfile(), 2)).toContain('83.3%        5 ms  sgemm_f32  [wasm]');
  });
  it('counts only samples under a matching frame with `within`, and the garbage collector\'s', () => {
    const p = tinyProfile();
    p.timeDeltas = [0, 1000, 2000, 3000];
    p.samples = [2, 3, 4, 3]; // step 1 ms, kernel 2 ms, gc 3 ms, kernel (last) 0
    const s = selfTimes(p, /^sgemm/);
    expect(s.total).toBe(5);
    expect(s.functions.map((f) => [f.name, f.ms])).toEqual([['(garbage collector)', 3], ['sgemm_f32', 2]]);
    expect(selfTimes(p, /^step /).total).toBe(6);
    expect(selfTimes(p, /^nothing$/).total).toBe(3);
  });
  it('rejects what is not a CPU profile, naming what it expected', () => {
    expect(() => selfTimes({ nodes: [], samples: [1], timeDeltas: [], startTime: 0, endTime: 0 })).toThrow(/timeDeltas of equal length/);
    expect(() => selfTimes({ nodes: [], samples: [7], timeDeltas: [0], startTime: 0, endTime: 0 })).toThrow(/node 7/);
  });
});

describe('wasmFunctionNames', () => {
  // A module importing one function (index 0) and defining two, exported as 'a' (1) and 'b' (2).
  const module = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // types: () -> ()
    0x02, 0x07, 0x01, 0x01, 0x6d, 0x01, 0x66, 0x00, 0x00, // import m.f: func type 0
    0x03, 0x03, 0x02, 0x00, 0x00, // two functions of type 0
    0x07, 0x09, 0x02, 0x01, 0x61, 0x00, 0x01, 0x01, 0x62, 0x00, 0x02, // exports a = func 1, b = func 2
    0x0a, 0x07, 0x02, 0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b, // two empty bodies
  ]);
  it('maps function indices (imports first) to export names, and renames profile frames by them', () => {
    expect(WebAssembly.validate(module)).toBe(true);
    const names = wasmFunctionNames(module);
    expect([...names]).toEqual([[1, 'a'], [2, 'b']]);
    const p = tinyProfile();
    p.nodes[2]!.callFrame.functionName = 'wasm-function[2]';
    expect(nameWasmFrames(p, names).nodes[2]!.callFrame.functionName).toBe('b');
    expect(selfTimes(p).functions[0]!.name).toBe('b');
    // A helper that is not exported (index 0 here) is named after its nearest exported Wasm caller.
    const q = tinyProfile();
    q.nodes[2]!.callFrame.functionName = 'wasm-function[1]';
    q.nodes[2]!.children = [5];
    q.nodes.push({ id: 5, callFrame: { functionName: 'wasm-function[0]', url: 'wasm://wasm/0012abcd', lineNumber: 0 } });
    nameWasmFrames(q, names);
    expect(q.nodes.map((n) => n.callFrame.functionName)).toEqual(['(root)', 'step', 'a', '(garbage collector)', 'a › wasm-function[0]']);
  });
  it('rejects bytes that are not a Wasm module', () => {
    expect(() => wasmFunctionNames(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/not a Wasm module/);
  });
});
