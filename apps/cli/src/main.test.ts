import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed, randn, tensor, type Tensor } from '@kiln/tensor';
import { exportOnnx } from '@kiln/onnx';
import { main } from './main.js';

manualSeed(3);
const w = randn([2, 3]);
const b = randn([2]);
const model = {
  namedParameters: (): [string, Tensor][] => [['fc.weight', w], ['fc.bias', b]],
  forward: (x: Tensor) => x.matmul(w.t()).add(b).relu(),
};
const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
const modelPath = join(dir, 'm.onnx');
writeFileSync(modelPath, exportOnnx(model, randn([2, 3]), { dynamicAxes: true }));
const x = [[1, -2, 0.5], [0.1, 0.2, -0.3]];
writeFileSync(join(dir, 'x.json'), JSON.stringify({ input: x }));

async function capture(argv: string[]): Promise<string> {
  const lines: string[] = [];
  await main(argv, (s) => lines.push(s));
  return lines.join('\n');
}

describe('kiln cli', () => {
  it('inspect prints inputs, outputs, op histogram, parameter count and opset', async () => {
    const info = JSON.parse(await capture(['inspect', modelPath]));
    expect(info.inputs).toEqual([{ name: 'input', shape: ['batch', '3'] }]);
    expect(info.outputs).toEqual([{ name: 'output', shape: ['batch', '2'] }]);
    expect(info.parameters).toBe(8);
    expect(info.opsets).toEqual({ 'ai.onnx': 18 });
    expect(info.producer).toMatch(/^kiln /);
    expect(info.ops.Relu).toBe(1);
  });

  it.each(['kiln', 'ort'])('run --backend %s prints the outputs as JSON', async (backend) => {
    const out = JSON.parse(await capture(['run', modelPath, '--input', join(dir, 'x.json'), '--backend', backend]));
    const ref = model.forward(tensor(x)).toArray() as number[][];
    expect(out.output.length).toBe(2);
    out.output.flat().forEach((v: number, i: number) => expect(v).toBeCloseTo(ref.flat()[i]!, 5));
  });

  it('gives clear usage errors', async () => {
    await expect(capture([])).rejects.toThrow(/usage:/);
    await expect(capture(['frobnicate', modelPath])).rejects.toThrow(/unknown command 'frobnicate'/);
    await expect(capture(['run', modelPath])).rejects.toThrow(/missing --input/);
    await expect(capture(['run', modelPath, '--input', join(dir, 'x.json'), '--backend', 'gpu'])).rejects.toThrow(/--backend must be kiln or ort/);
    await expect(capture(['inspect', join(dir, 'nope.onnx')])).rejects.toThrow(/cannot read/);
  });
});
