import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, DataType } from './proto.js';

describe('onnx protobuf codec', () => {
  const model = {
    irVersion: 8, opsetImport: [{ domain: '', version: 18 }], producerName: 'kiln',
    metadataProps: [{ key: 'a', value: 'b' }],
    graph: {
      name: 'g',
      initializer: [{ name: 'w', dims: [2, 3], dataType: DataType.FLOAT, rawData: new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer) }],
      node: [{ opType: 'Relu', input: ['x'], output: ['y'], attribute: [{ name: 'k', type: 2, i: 5_000_000_000 }] }],
      input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 3 }] } } } }],
    },
  };

  it('round-trips a model with int64 fields as plain numbers', () => {
    const back = decodeModel(encodeModel(model));
    expect(back.irVersion).toBe(8);
    expect(typeof back.irVersion).toBe('number');
    expect(back.opsetImport).toEqual([{ domain: '', version: 18 }]);
    expect(back.graph!.initializer![0]!.dims).toEqual([2, 3]);
    expect(back.graph!.node![0]!.attribute![0]!.i).toBe(5_000_000_000);
    expect(back.graph!.input![0]!.type!.tensorType!.shape!.dim).toEqual([{ dimParam: 'batch' }, { dimValue: 3 }]);
    expect(back.metadataProps).toEqual([{ key: 'a', value: 'b' }]);
    const raw = back.graph!.initializer![0]!.rawData!;
    expect(Array.from(new Float32Array(raw.buffer, raw.byteOffset, 6))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rejects truncated and bit-flipped bytes with an Error, never a crash', () => {
    const bytes = encodeModel(model);
    let seed = 1;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 500; trial++) {
      const b = bytes.slice(0, Math.floor(rnd() * bytes.length));
      const at = Math.floor(rnd() * b.length);
      if (trial % 2 && at < b.length) b[at] = b[at]! ^ (1 << Math.floor(rnd() * 8));
      try { decodeModel(b); } catch (e) { expect(e).toBeInstanceOf(Error); expect((e as Error).message).toMatch(/Kiln: onnx decode/); }
    }
    expect(() => decodeModel(bytes.subarray(0, 5))).toThrow(/truncated/);
  });
});
