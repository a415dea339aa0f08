/**
 * ONNX's own backend node tests (onnx 1.12, converted by scripts/gen_node_tests.py into
 * fixtures/node/<Op>.json.gz) run through importOnnx. Every case of a claimed op must pass unless it
 * is listed in BY_DESIGN with the reason; each claimed op must pass ≥ 95% of its cases.
 * `KILN_CONFORMANCE_WRITE=1 npx vitest run src/import/conformance.test.ts` rewrites
 * fixtures/node/results.json and the table in README.md.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { noGrad, type Tensor } from '@kiln/tensor';
import { decodeTensorProto } from '../proto.js';
import { protoToTensor } from '../tensor-proto.js';
import { importOnnx } from './import.js';
import { importHandlers } from './ops/index.js';
import { BY_DESIGN, conformanceTable, type OpResult } from './test-utils/conformance-report.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIR = join(ROOT, 'fixtures', 'node');

interface Case { name: string; opset: number; domain: string; model: string; inputs: string[]; outputs: string[]; rtol: number; atol: number }
interface Bundle { op: string; onnx: string; cases: Case[] }

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const bundles: Bundle[] = readdirSync(DIR).filter((f) => f.endsWith('.json.gz')).sort()
  .map((f) => JSON.parse(gunzipSync(readFileSync(join(DIR, f))).toString('utf8')) as Bundle);

/**
 * A test tensor. NumPy has no bfloat16, so onnx stores bfloat16 test data as UINT16 bit patterns
 * under a BFLOAT16-typed graph value (as ONNX Runtime's runner reads them); decode those by the
 * declared type.
 */
function load(s: string, declared: number | undefined, what: string): Tensor {
  const p = decodeTensorProto(b64(s), what);
  if ((declared === 16 || declared === 10) && p.dataType === 4) p.dataType = declared;
  return protoToTensor(p, what);
}

/** Runs one case; returns null on success, else why it failed. */
function runCase(c: Case): string | null {
  try {
    const m = importOnnx(b64(c.model));
    const g = m._graph;
    const inputs = c.inputs.map((s, i) => load(s, g.input?.[i]?.type?.tensorType?.elemType, `test input ${i}`));
    const byName = new Map(m._graph.input?.map((v, i) => [v.name ?? '', inputs[i]!]) ?? []);
    const feed = m.inputNames.map((n) => {
      const t = byName.get(n);
      if (!t) throw new Error(`no test data for input '${n}'`);
      return t;
    });
    const out = noGrad(() => m.forward(...feed));
    const outs = Array.isArray(out) ? out : [out];
    for (let i = 0; i < c.outputs.length; i++) {
      const want = load(c.outputs[i]!, g.output?.[i]?.type?.tensorType?.elemType, `expected output ${i}`);
      const why = mismatch(outs[i], want, c.rtol, c.atol);
      if (why) return `output ${i}: ${why}`;
    }
    return null;
  } catch (e) {
    return (e as Error).message.split('\n')[0]!;
  }
}

const kind = (t: Tensor) => (t.dtype === 'bool' ? 'bool' : t.dtype === 'int32' ? 'int' : 'float');

function mismatch(got: Tensor | undefined, want: Tensor, rtol: number, atol: number): string | null {
  if (!got) return 'missing';
  if (got.shape.join(',') !== want.shape.join(',')) return `shape [${got.shape.join(',')}], expected [${want.shape.join(',')}]`;
  if (kind(got) !== kind(want)) return `dtype ${got.dtype}, expected ${want.dtype}`;
  const a = got.dataSync(), b = want.dataSync();
  for (let j = 0; j < b.length; j++) {
    const x = Number(a[j]), y = Number(b[j]);
    if (Number.isNaN(y) ? !Number.isNaN(x) : !(x === y || Math.abs(x - y) <= atol + rtol * Math.abs(y))) {
      return `element ${j}: ${x}, expected ${y}`;
    }
  }
  return null;
}

describe('ONNX backend node tests (onnx 1.12)', () => {
  const claimed = bundles.filter((b) => Object.hasOwn(importHandlers, b.op));
  const results: OpResult[] = [];

  it('fixtures are present', () => {
    expect(bundles.length).toBeGreaterThan(100);
    expect(claimed.length).toBeGreaterThan(50);
  });

  for (const b of claimed) {
    it(`${b.op}: every case passes or is listed in BY_DESIGN, ≥ 95% of the rest pass`, () => {
      const r: OpResult = { op: b.op, opsets: [...new Set(b.cases.map((c) => c.opset))].sort((x, y) => x - y), total: b.cases.length, passed: 0, failures: {} };
      for (const c of b.cases) {
        const why = runCase(c);
        if (why === null) r.passed++;
        else r.failures[c.name] = why;
      }
      results.push(r);
      const unexpected = Object.entries(r.failures).filter(([n]) => !BY_DESIGN[n]);
      expect(unexpected).toEqual([]);
      const nowPassing = b.cases.filter((c) => BY_DESIGN[c.name] && !r.failures[c.name]).map((c) => c.name);
      expect(nowPassing, 'listed in BY_DESIGN but passing: drop them from the list').toEqual([]);
      const inScope = r.total - b.cases.filter((c) => BY_DESIGN[c.name]).length;
      expect(r.passed / inScope).toBeGreaterThanOrEqual(0.95);
    });
  }

  it('ops Kiln does not claim are refused by name, not mis-run', () => {
    for (const b of bundles.filter((x) => !Object.hasOwn(importHandlers, x.op))) {
      const c = b.cases[0]!;
      if ((c.domain ?? '') !== '') continue;
      expect(() => importOnnx(b64(c.model)), b.op).toThrow(new RegExp(`op ${b.op} is not supported|opset`));
    }
  });

  it('writes the results and README table (KILN_CONFORMANCE_WRITE=1 only)', () => {
    if (!process.env.KILN_CONFORMANCE_WRITE) return;
    results.sort((x, y) => (x.op < y.op ? -1 : 1));
    const resultsPath = join(DIR, 'results.json');
    const before = existsSync(join(DIR, 'results-before.json')) ? JSON.parse(readFileSync(join(DIR, 'results-before.json'), 'utf8')) as OpResult[] : [];
    writeFileSync(resultsPath, JSON.stringify(results, null, 1) + '\n');
    const readme = join(ROOT, 'README.md');
    const table = conformanceTable(results, before, bundles.filter((x) => !Object.hasOwn(importHandlers, x.op)).map((x) => [x.op, x.cases.length]),
      JSON.parse(readFileSync(join(DIR, 'skipped.json'), 'utf8')) as Record<string, { cases: number; reason: string }>);
    const text = existsSync(readme) ? readFileSync(readme, 'utf8') : '# @kiln/onnx\n';
    const start = '<!-- conformance:start -->', end = '<!-- conformance:end -->';
    const block = `${start}\n${table}\n${end}`;
    writeFileSync(readme, text.includes(start) ? text.replace(new RegExp(`${start}[\\s\\S]*${end}`), block) : `${text.trimEnd()}\n\n${block}\n`);
  });
});
