/**
 * Property-based fuzzing of the ONNX loading path (decodeModel → importOnnx → forward) with
 * fast-check: truncated, bit-flipped, spliced and random bytes, and structured corruptions (absurd
 * dims, cycles, missing inputs, wild attribute and shape values, foreign opsets). Every outcome must
 * be a result or a `Kiln: ...` error; a JavaScript error leaking through (TypeError, stack overflow)
 * is a finding. KILN_FUZZ_RUNS scales the case counts (scripts/fuzz-long.mjs runs it long).
 */
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { manualSeed, noGrad, randn, type Tensor } from '@kiln/tensor';
import { BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '@kiln/nn';
import { exportOnnx } from '../export/export.js';
import { decodeModel, decodeTensorProto, encodeModel, type ModelProto } from '../proto.js';
import { protoToTensor } from '../tensor-proto.js';
import { importOnnx } from './import.js';

const SCALE = Number(process.env.KILN_FUZZ_RUNS ?? 1);
const SEED = process.env.KILN_FUZZ_SEED ? Number(process.env.KILN_FUZZ_SEED) : 20261202;
const TIMEOUT = 60_000 * Math.max(1, SCALE);
const runs = (n: number) => ({ numRuns: Math.max(1, Math.round(n * SCALE)), seed: SEED, endOnFailure: true });

/** Internal JavaScript errors that mean the loader trusted the file somewhere it should not have. */
const INTERNAL = /Cannot read prop|is not a function|is not iterable|Maximum call stack|of undefined|of null|is not defined$|Invalid array length|Array buffer allocation failed|NaN/;

interface Seed { name: string; bytes: Uint8Array; inputs: Tensor[] }

function seeds(): Seed[] {
  manualSeed(5);
  const net = new Sequential(new Conv2d(2, 3, 3, { padding: 1 }), new BatchNorm2d(3), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(3 * 2 * 2, 4));
  net.eval();
  const x = randn([1, 2, 4, 4]);
  const out: Seed[] = [{ name: 'kiln-cnn', bytes: exportOnnx(net, x), inputs: [x] }];
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'node');
  const pick: Record<string, string[]> = {
    Resize: ['test_resize_upsample_scales_cubic', 'test_resize_downsample_sizes_nearest'],
    MaxPool: ['test_maxpool_2d_same_upper', 'test_maxpool_with_argmax_2d_precomputed_pads'],
    ConvTranspose: ['test_convtranspose_output_shape'], Slice: ['test_slice_negative_axes'], Reshape: ['test_reshape_allowzero_reordered'],
    Pad: ['test_constant_pad'], Gather: ['test_gather_negative_indices'], Expand: ['test_expand_dim_changed'], Split: ['test_split_equal_parts_1d'],
  };
  for (const [op, names] of Object.entries(pick)) {
    const bundle = JSON.parse(gunzipSync(readFileSync(join(dir, `${op}.json.gz`))).toString()) as { cases: { name: string; model: string; inputs: string[] }[] };
    for (const n of names) {
      const c = bundle.cases.find((k) => k.name === n);
      if (!c) throw new Error(`fuzz seed ${n} missing from fixtures`);
      const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
      out.push({ name: n, bytes: b64(c.model), inputs: c.inputs.map((s) => protoToTensor(decodeTensorProto(b64(s)))) });
    }
  }
  return out;
}

const SEEDS = seeds();
const stats = { cases: 0, kilnErrors: 0, loaded: 0, findings: [] as string[], slowestMs: 0, slowest: '' };

/** Loads and runs `bytes`; returns a finding (a non-Kiln failure) or null. */
function probe(bytes: Uint8Array, inputs: Tensor[]): string | null {
  stats.cases++;
  const t0 = performance.now();
  try {
    const m = importOnnx(bytes);
    noGrad(() => m.forward(...inputs.slice(0, m.inputNames.length)));
    stats.loaded++;
    if (performance.now() - t0 > stats.slowestMs) { stats.slowestMs = performance.now() - t0; stats.slowest = 'loaded and ran'; }
    if (process.env.KILN_FUZZ_SLOW_DIR && performance.now() - t0 > Number(process.env.KILN_FUZZ_SLOW_MS ?? 2000)) {
      writeFileSync(join(process.env.KILN_FUZZ_SLOW_DIR, `slow-${Math.round(performance.now() - t0)}ms-${stats.cases}.onnx`), bytes);
    }
    return null;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (!(e instanceof Error) || !msg.startsWith('Kiln: ') || INTERNAL.test(msg)) return `${e instanceof Error ? e.constructor.name : typeof e}: ${msg.slice(0, 300)}`;
    stats.kilnErrors++;
    if (performance.now() - t0 > stats.slowestMs) { stats.slowestMs = performance.now() - t0; stats.slowest = msg.slice(0, 200); }
    return null;
  }
}

const seedArb = fc.constantFrom(...SEEDS);

/** Structured corruptions of the decoded model. */
type Mutation = (m: ModelProto, r: () => number) => void;
const pickOf = <T>(xs: T[], r: () => number): T | undefined => xs[Math.floor(r() * xs.length)];
const WILD = [0, -1, -2, 1, 2, 3, 7, 1e3, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, 1e12, 2 ** 53 - 1];
const MUTATIONS: Record<string, Mutation> = {
  absurdDims: (m, r) => { const t = pickOf(m.graph?.initializer ?? [], r); if (t) t.dims = pickOf([[1e6, 1e6], [1e12], [2 ** 53], [-1, 4], [0], [3, 1e9, 1e9]], r)!; },
  dropRawData: (m, r) => { const t = pickOf(m.graph?.initializer ?? [], r); if (t) { t.rawData = new Uint8Array(0); t.dims = [1e12]; } },
  reverseNodes: (m) => { m.graph?.node?.reverse(); },
  selfCycle: (m, r) => { const n = pickOf(m.graph?.node ?? [], r); if (n?.input?.length && n.output?.length) n.input[0] = n.output[0]!; },
  laterInput: (m, r) => { const ns = m.graph?.node ?? []; if (ns.length > 1 && ns[0]!.input?.length) ns[0]!.input[0] = pickOf(ns.slice(1), r)!.output![0]!; },
  missingInput: (m, r) => { const n = pickOf(m.graph?.node ?? [], r); if (n?.input?.length) n.input[Math.floor(r() * n.input.length)] = 'no_such_value'; },
  dropInitializer: (m, r) => { const g = m.graph; if (g?.initializer?.length) g.initializer.splice(Math.floor(r() * g.initializer.length), 1); },
  dropGraphInput: (m) => { m.graph?.input?.shift(); },
  duplicateOutput: (m) => { const ns = m.graph?.node ?? []; if (ns.length > 1 && ns[0]!.output?.length && ns[1]!.output?.length) ns[1]!.output[0] = ns[0]!.output[0]!; },
  wildIntAttr: (m, r) => {
    const n = pickOf(m.graph?.node ?? [], r);
    const a = pickOf(n?.attribute ?? [], r);
    if (!a) return;
    if (a.ints?.length) a.ints = a.ints.map(() => pickOf(WILD, r)!);
    else if (a.i !== undefined) a.i = pickOf(WILD, r)!;
    else if (a.f !== undefined) a.f = pickOf([NaN, Infinity, -1e30, 0], r)!;
    else if (a.s) a.s = new TextEncoder().encode(pickOf(['SAME_UPPER', 'bogus', '', 'cubic', 'tf_crop_and_resize'], r)!);
  },
  wildIntData: (m, r) => {
    const t = pickOf((m.graph?.initializer ?? []).filter((x) => x.dataType === 7), r);
    if (t?.rawData) { const v = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength); for (let i = 0; i + 8 <= t.rawData.byteLength; i += 8) v.setBigInt64(i, BigInt(pickOf(WILD, r)!), true); }
  },
  wildOpset: (m, r) => { if (m.opsetImport?.[0]) m.opsetImport[0].version = pickOf([0, 1, 5, 6, 10, 12, 22, 1000, -3], r)!; },
  foreignDomain: (m, r) => { const n = pickOf(m.graph?.node ?? [], r); if (n) n.domain = 'com.example'; },
  wrongType: (m, r) => { const t = pickOf(m.graph?.initializer ?? [], r); if (t) t.dataType = pickOf([0, 8, 14, 15, 17, 99, 10, 16, 7], r)!; },
  externalData: (m, r) => { const t = pickOf(m.graph?.initializer ?? [], r); if (t) { t.dataLocation = 1; t.externalData = [{ key: 'location', value: '../../etc/passwd' }]; } },
};

describe('fuzzing the ONNX loading path (fast-check)', () => {
  const pristine = SEEDS.map((s) => Uint8Array.from(s.bytes));
  afterEach(() => { SEEDS.forEach((s, i) => { if (Buffer.compare(Buffer.from(s.bytes), Buffer.from(pristine[i]!)) !== 0) throw new Error(`seed ${s.name} was modified`); }); });
  it('seeds load and run', () => {
    for (const s of SEEDS) expect(probe(s.bytes, s.inputs), s.name).toBeNull();
  });

  it('truncated files', () => {
    fc.assert(fc.property(seedArb, fc.double({ min: 0, max: 1, noNaN: true }), (s, f) => {
      expect(probe(s.bytes.slice(0, Math.floor(f * s.bytes.length)), s.inputs)).toBeNull();
    }), runs(400));
  }, TIMEOUT);

  it('bit flips, byte overwrites and splices', () => {
    fc.assert(fc.property(seedArb, fc.array(fc.tuple(fc.nat(), fc.nat(7)), { minLength: 1, maxLength: 8 }), (s, flips) => {
      const b = s.bytes.slice();
      for (const [at, bit] of flips) b[at % b.length]! ^= 1 << bit;
      expect(probe(b, s.inputs)).toBeNull();
    }), runs(1200));
    fc.assert(fc.property(seedArb, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.boolean(), (s, at, junk, insert) => {
      const p = at % s.bytes.length;
      const b = insert ? new Uint8Array([...s.bytes.subarray(0, p), ...junk, ...s.bytes.subarray(p)]) : s.bytes.slice();
      if (!insert) b.set(junk.subarray(0, b.length - p), p);
      expect(probe(b, s.inputs)).toBeNull();
    }), runs(400));
  }, TIMEOUT);

  it('random bytes, with and without a valid-looking prefix', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), fc.boolean(), (junk, prefixed) => {
      const b = prefixed ? new Uint8Array([...SEEDS[0]!.bytes.subarray(0, 24), ...junk]) : junk;
      expect(probe(b, SEEDS[0]!.inputs)).toBeNull();
    }), runs(400));
  }, TIMEOUT);

  it('structured corruptions: absurd dims, cycles, missing inputs, wild attributes and shapes', () => {
    const names = Object.keys(MUTATIONS);
    fc.assert(fc.property(seedArb, fc.array(fc.constantFrom(...names), { minLength: 1, maxLength: 3 }), fc.integer(), (s, muts, rs) => {
      let state = rs >>> 0 || 1;
      const r = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
      const m = decodeModel(s.bytes);
      for (const k of muts) MUTATIONS[k]!(m, r);
      let bytes: Uint8Array;
      try { bytes = encodeModel(m); } catch { return; } // not encodable: nothing to load
      expect(probe(bytes, s.inputs)).toBeNull();
    }), runs(800));
  }, TIMEOUT);

  it('a declared 10^12-element initializer fails by name without allocating', () => {
    const m = decodeModel(SEEDS[0]!.bytes);
    const t = m.graph!.initializer![0]!;
    t.dims = [1e6, 1e6];
    expect(() => importOnnx(encodeModel(m))).toThrow(new RegExp(`Kiln: onnx: initializer '${t.name!.replace('.', '\\.')}' raw_data has \\d+ bytes, expected 4000000000000`));
    t.rawData = new Uint8Array(0);
    expect(() => importOnnx(encodeModel(m))).toThrow(/has 0 float_data values, expected 1000000000000/);
  });

  it('cycles and missing inputs are refused at import, naming the node and value', () => {
    const m = decodeModel(SEEDS[0]!.bytes);
    const ns = m.graph!.node!;
    ns[0]!.input![0] = ns[2]!.output![0]!;
    expect(() => importOnnx(encodeModel(m))).toThrow(/node '.*' \(#0, Conv, opset 18\) reads '.*', which node '.*' \(#2, .*\) produces later: the graph is not in topological order or has a cycle/);
    ns[0]!.input![0] = 'ghost';
    expect(() => importOnnx(encodeModel(m))).toThrow(/reads 'ghost', which no graph input, initializer or node produces/);
  });

  it('reports its counts', () => {
    console.log(`onnx fuzz: ${stats.cases} cases, ${stats.kilnErrors} Kiln errors, ${stats.loaded} loaded and ran, ${stats.findings.length} findings, slowest case ${stats.slowestMs.toFixed(0)} ms (${stats.slowest})`);
    expect(stats.cases).toBeGreaterThan(3000 * Math.min(1, SCALE));
  });
});
