/**
 * Runs the built `kiln` bin (dist/main.js, as npm links it) as a script would: stdout, stderr and
 * the exit code.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { manualSeed, randn, noGrad, type Tensor } from '@kiln/tensor';
import { serializeSafetensors } from '@kiln/nn';
import { createSession, decodeModel, encodeModel, exportOnnx, runSession } from '@kiln/onnx';
import { buildZooModel } from './zoo.js';
import { main } from './cli.js';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Result { code: number; stdout: string; stderr: string }
function kiln(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: dir, timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** The same command line in this process (for the many error cases; the bin is spawned for the rest). */
async function cli(...args: string[]): Promise<Result> {
  const stdout: string[] = [], stderr: string[] = [];
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const code = await main(args, { print: (t) => stdout.push(`${t}\n`), note: (t) => stderr.push(`${t}\n`) });
    return { code, stdout: stdout.join(''), stderr: stderr.join('') };
  } finally {
    process.chdir(cwd);
  }
}

// a LeNet-5 with fixed random weights, its checkpoint and its ONNX export
manualSeed(7);
const lenet = buildZooModel('lenet5', {}, 'test');
lenet.eval();
const ckpt = join(dir, 'lenet.safetensors');
writeFileSync(ckpt, serializeSafetensors(lenet.stateDict()));
const onnxPath = join(dir, 'lenet.onnx');
writeFileSync(onnxPath, exportOnnx(lenet, randn([1, 1, 32, 32]), { dynamicAxes: true, inputNames: ['input'], outputNames: ['logits'] }));
const x = randn([2, 1, 32, 32]);
const expected = noGrad(() => lenet.forward(x) as Tensor).toArray() as number[][];
writeFileSync(join(dir, 'x.json'), JSON.stringify({ input: x.toArray() }));
writeFileSync(join(dir, 'bad.onnx'), 'this is not a protobuf, just text\n');

function npy(descr: string, shape: number[], data: ArrayBufferView): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0, header.length & 255, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

function expectLogits(out: number[][], ref: number[][]): void {
  expect(out.length).toBe(ref.length);
  out.flat().forEach((v, i) => expect(Math.abs(v - ref.flat()[i]!)).toBeLessThan(1e-4));
}

describe('kiln (the built bin)', () => {
  it('prints help, per-command help and the version; a bare call is a usage error', async () => {
    const bare = await kiln();
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/usage: kiln <command>/);
    const help = await kiln('--help');
    expect(help.code).toBe(0);
    for (const c of ['inspect', 'run', 'export', 'train', 'bench']) expect(help.stdout).toContain(`  ${c} `);
    for (const c of ['inspect', 'run', 'export', 'train', 'bench']) {
      const h = await cli(c, '--help');
      expect(h.code).toBe(0);
      expect(h.stdout.startsWith(`kiln ${c}`)).toBe(true);
    }
    expect((await cli('help', 'train')).stdout).toMatch(/--data mnist\|shapes/);
    expect((await kiln('--version')).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('exit code 2 for bad command lines, naming the command and flag', async () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['inspect'], /kiln inspect: missing <model.onnx>/],
      [['inspect', onnxPath, '--frob'], /unknown flag '--frob' \(known: --json\)/],
      [['run', onnxPath], /kiln run: missing --input/],
      [['run', onnxPath, '--input', 'x.json', '--ep', 'tpu'], /--ep must be one of cpu, cuda, webgpu, got 'tpu'/],
      [['run', onnxPath, '--input', 'x.txt'], /--input must be a .json, .npy, .png or .jpg file/],
      [['export', ckpt], /missing --model/],
      [['export', ckpt, '--model', 'lenet99'], /unknown model 'lenet99' \(the zoo has: .*lenet5/],
      [['export', ckpt, '--model', 'lenet5', '--opset', '12'], /--opset must be an integer from 17 to 21, got 12/],
      [['train', 'lenet5', '--data', 'cifar', '--out', 'o'], /--data must be one of mnist, shapes, got 'cifar'/],
      [['train', 'lenet5', '--data', 'mnist', '--epochs', 'two', '--out', 'o'], /--epochs must be an integer, got 'two'/],
      [['train', 'lenet5', '--data', 'mnist'], /missing --out DIR/],
      [['bench', '--runs', '0'], /--runs must be a positive integer, got 0/],
      [['bench', '--json=yes'], /--json is a switch and takes no value/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
    // the bin exits with the same code and message
    const r = await kiln('train', 'lenet5', '--data', 'cifar', '--out', 'o');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--data must be one of mnist, shapes, got 'cifar'\n\(see: kiln train --help\)/);
  });

  it('exit code 3 for missing or malformed files', async () => {
    writeFileSync(join(dir, 'bad.npy'), 'NUMPY?');
    writeFileSync(join(dir, 'bad.json'), '{ "input": [1, 2');
    writeFileSync(join(dir, 'bad.png'), 'not a png');
    writeFileSync(join(dir, 'bad.safetensors'), new Uint8Array([1, 2, 3]));
    const cases: [string[], RegExp][] = [
      [['inspect', 'missing.onnx'], /cannot read model 'missing.onnx': no such file/],
      [['inspect', 'bad.onnx'], /bad.onnx is not an ONNX model/],
      [['run', onnxPath, '--input', 'nope.json'], /cannot read --input 'nope.json': no such file/],
      [['run', onnxPath, '--input', 'bad.json'], /bad.json is not valid JSON/],
      [['run', onnxPath, '--input', 'bad.npy'], /bad.npy is not a readable .npy file/],
      [['run', onnxPath, '--input', 'bad.png'], /bad.png is not a readable PNG or JPEG/],
      [['export', 'bad.safetensors', '--model', 'lenet5'], /not a readable safetensors checkpoint/],
      [['export', ckpt, '--model', 'lenet5', '--num-classes', '5'], /does not fit model 'lenet5': .*shape mismatch/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect({ args, code: r.code }).toEqual({ args, code: 3 });
      expect(r.stderr).toMatch(message);
    }
    const r = await kiln('inspect', 'bad.onnx');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/bad.onnx is not an ONNX model/);
  });

  it('exit code 1 when the command runs and fails (ONNX Runtime refuses the model)', async () => {
    const m = decodeModel(new Uint8Array(readFileSync(onnxPath)));
    m.graph!.node![0]!.opType = 'NoSuchOp';
    writeFileSync(join(dir, 'broken.onnx'), encodeModel(m));
    const r = await kiln('run', 'broken.onnx', '--input', 'x.json');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ONNX Runtime rejected the model: .*NoSuchOp/);
    expect(r.stdout).toBe('');
  });

  it('inspect prints a table, and the same report with --json', async () => {
    const r = await kiln('inspect', onnxPath);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^input\s+input\s+float32\s+\[batch, 1, 32, 32\]$/m);
    expect(r.stdout).toMatch(/^output\s+logits\s+float32\s+\[batch, 10\]$/m);
    expect(r.stdout).toContain('61,706 parameters in 10 initializers');
    expect(r.stdout).toMatch(/^Conv\s+3$/m);
    const j = JSON.parse((await cli('inspect', onnxPath, '--json')).stdout);
    expect(j.inputs).toEqual([{ name: 'input', type: 'float32', shape: ['batch', 1, 32, 32] }]);
    expect(j.parameters).toBe(61706);
    expect(j.opsets).toEqual({ 'ai.onnx': 18 });
    expect(j.ops.Conv).toBe(3);
  });

  it('run takes .json, .npy and .png inputs; ORT and Kiln agree with the model', async () => {
    for (const backend of ['ort', 'kiln']) {
      const r = await (backend === 'ort' ? kiln : cli)('run', onnxPath, '--input', 'x.json', '--json', '--backend', backend);
      expect(r.code).toBe(0);
      expectLogits(JSON.parse(r.stdout).outputs.logits, expected);
      expect(r.stderr).toContain(backend === 'ort' ? 'ran on onnxruntime-node, execution provider cpu' : 'ran on Kiln');
    }
    writeFileSync(join(dir, 'x.npy'), npy('<f4', [2, 1, 32, 32], x.dataSync() as Float32Array));
    expectLogits(JSON.parse((await cli('run', onnxPath, '--input', 'x.npy', '--json')).stdout).outputs.logits, expected);
    writeFileSync(join(dir, 'x64.npy'), npy('<f8', [2, 1, 32, 32], Float64Array.from(x.dataSync() as Float32Array)));
    expect((await cli('run', onnxPath, '--input', 'x64.npy', '--backend', 'kiln')).code).toBe(0);
    // a 56×56 RGB image: grey = its luminance, resized to 32×32
    const png = new PNG({ width: 56, height: 56 });
    for (let p = 0; p < 56 * 56; p++) png.data.set([(p * 7) % 256, (p * 3) % 256, (p * 11) % 256, 255], 4 * p);
    writeFileSync(join(dir, 'digit.png'), PNG.sync.write(png));
    const text = await cli('run', onnxPath, '--input', 'digit.png');
    expect(text.code).toBe(0);
    expect(text.stdout.trimEnd()).toMatch(/^logits {2}float32 \[1, 10\]\n {2}(-?\d+\.\d{4} ){9}-?\d+\.\d{4} {2}→ argmax \d$/);
    const viaImage = JSON.parse((await cli('run', onnxPath, '--input', 'digit.png', '--json')).stdout).outputs.logits;
    const { imageToInput } = await import('./inputs.js');
    const xi = imageToInput(readFileSync(join(dir, 'digit.png')), { name: 'input', shape: ['batch', 1, 32, 32] });
    expect(xi.shape).toEqual([1, 1, 32, 32]);
    expectLogits(viaImage, noGrad(() => lenet.forward(xi) as Tensor).toArray() as number[][]);
    // a JPEG of the same picture decodes (lossy) to nearly the same input
    const { encodeJpeg } = await import('@kiln/vision');
    const rgb = new Uint8Array(56 * 56 * 3);
    for (let p = 0; p < 56 * 56; p++) rgb.set([png.data[4 * p]!, png.data[4 * p + 1]!, png.data[4 * p + 2]!], 3 * p);
    writeFileSync(join(dir, 'digit.jpg'), encodeJpeg({ width: 56, height: 56, channels: 3, data: rgb }, { quality: 95 }));
    const xj = imageToInput(readFileSync(join(dir, 'digit.jpg')), { name: 'input', shape: ['batch', 1, 32, 32] });
    expect(xj.sub(xi).abs().mean().item()).toBeLessThan(0.05);
    expect((await cli('run', onnxPath, '--input', 'digit.jpg')).code).toBe(0);
  });

  it('run --ep cuda / webgpu falls back to cpu where the provider cannot start, and says which ran', async () => {
    for (const ep of ['cuda', 'webgpu']) {
      const r = await (ep === 'cuda' ? kiln : cli)('run', onnxPath, '--input', 'x.json', '--ep', ep, '--json');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expectLogits(out.outputs.logits, expected);
      if (out.provider === 'cpu') {
        expect(r.stderr).toContain(`execution provider '${ep}' is not available here`);
        expect(r.stderr).toContain(`ran on onnxruntime-node, execution provider cpu (requested ${ep})`);
      } else {
        expect(out.provider).toBe(ep);
        expect(r.stderr).toContain(`ran on onnxruntime-node, execution provider ${ep}`);
      }
    }
  });

  it('export turns a checkpoint into ONNX that ONNX Runtime runs like the model', async () => {
    const r = await kiln('export', ckpt, '--model', 'lenet5', '--opset', '17', '--out', 'exported.onnx');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('exported.onnx');
    const s = await createSession(new Uint8Array(readFileSync(join(dir, 'exported.onnx'))));
    expectLogits((await runSession(s, { input: x })).logits!.toArray() as number[][], expected);
    const info = JSON.parse((await cli('inspect', 'exported.onnx', '--json')).stdout);
    expect(info.opsets['ai.onnx']).toBe(17);
    expect(info.metadata['kiln.model']).toBe('lenet5');
  });

  it('train writes weights, ONNX, curves and metrics with dev and held-out test accuracy; export reads its metadata', async () => {
    const r = await kiln('train', 'lenet5', '--data', 'mnist', '--epochs', '2', '--limit', '600', '--out', 'run');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/epoch 1\/2 .*accuracy/);
    for (const f of ['model.safetensors', 'model.onnx', 'curves.json', 'curves.svg', 'metrics.json']) expect(existsSync(join(dir, 'run', f))).toBe(true);
    const m = JSON.parse(readFileSync(join(dir, 'run', 'metrics.json'), 'utf8'));
    expect(m.splits).toEqual({ train: 600, dev: 1000, test: 1000 });
    expect(m.testAccuracy).toBeGreaterThan(0.3); // 2 epochs on 600 digits: well above chance (0.1)
    expect(m.devAccuracy).toBeGreaterThan(0.3);
    expect(m.ortTestAccuracy).toBe(m.testAccuracy);
    expect(m.maxAbsLogitDiffKilnOrt).toBeLessThan(1e-4);
    expect(r.stdout).toContain(`test accuracy ${(100 * m.testAccuracy).toFixed(2)}% (held out)`);
    expect(readFileSync(join(dir, 'run', 'curves.svg'), 'utf8')).toContain('data-name="metrics"');
    const e = await cli('export', join('run', 'model.safetensors'));
    expect(e.code).toBe(0);
    expect(e.stdout.trim()).toBe(join('run', 'model.onnx'));
  });

  it('train on shapes (3-channel generated images)', async () => {
    const r = await cli('train', 'lenet5', '--data', 'shapes', '--epochs', '1', '--limit', '200', '--out', 'shapes', '--variant', 'modern');
    expect(r.code).toBe(0);
    const info = JSON.parse((await cli('inspect', join('shapes', 'model.onnx'), '--json')).stdout);
    expect(info.inputs[0].shape).toEqual(['batch', 3, 32, 32]);
    expect(info.outputs[0].shape).toEqual(['batch', 4]);
    expect(info.metadata['kiln.classes']).toBe('circle,square,triangle,star');
  });

  it('bench times Kiln and ORT on a zoo model or an ONNX file', async () => {
    const r = await kiln('bench', '--runs', '3', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.inputShape).toEqual([1, 1, 32, 32]);
    expect(j.results.map((t: { backend: string }) => t.backend)).toEqual(['Kiln', 'ORT cpu']);
    for (const t of j.results) expect(t.medianMs).toBeGreaterThan(0);
    const f = await cli('bench', '--onnx', onnxPath, '--batch', '4', '--runs', '3');
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toMatch(/input \[4, 1, 32, 32\], 3 runs/);
  });
});
