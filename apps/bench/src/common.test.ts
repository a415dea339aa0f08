import { describe, expect, it } from 'vitest';
import {
  cpuFigure, formatRecord, median, modelMismatches, withCpuTime, parseBenchArgs, parseRecords, randomF32, randomInts, ratioTable, speedup, timeCalls, torchTable, trainRates, type BenchRecord,
} from './common.js';
import { parseJobSpec } from './job.js';

/** A fake clock that advances only when the timed function says so. */
function fakeClock(): { clock: () => number; advance: (s: number) => void } {
  let t = 0;
  return { clock: () => t, advance: (s) => { t += s; } };
}

describe('median', () => {
  it('takes the middle value of an odd list and the mean of the middle two of an even one', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });
  it('does not reorder its input and rejects an empty list', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
    expect(() => median([])).toThrow(/empty/);
  });
});

describe('timeCalls', () => {
  it('runs the warm-up untimed, then at least minReps calls and minSeconds', () => {
    const { clock, advance } = fakeClock();
    let calls = 0;
    const times = timeCalls(() => { calls++; advance(0.1); }, { warmup: 3, minReps: 5, minSeconds: 1 }, clock);
    // 1 s at 0.1 s a call: 10 timed calls (more than minReps), plus 3 warm-up calls.
    expect(times.length).toBe(10);
    expect(calls).toBe(13);
    for (const t of times) expect(t).toBeCloseTo(0.1, 12);
  });
  it('stops at maxReps once minReps is met, and never below minReps', () => {
    const { clock, advance } = fakeClock();
    expect(timeCalls(() => advance(0.001), { warmup: 0, minReps: 5, minSeconds: 10, maxReps: 7 }, clock).length).toBe(7);
    expect(timeCalls(() => advance(5), { warmup: 0, minReps: 5, minSeconds: 1 }, clock).length).toBe(5);
  });
});

describe('trainRates', () => {
  it('warms up for >= 2 steps and 0.5 s, then gives items/s of each window of >= seconds and >= 2 steps', () => {
    const { clock, advance } = fakeClock();
    let steps = 0;
    const rates = trainRates(() => { steps++; advance(0.25); }, 64, { seconds: 1, windows: 3 }, clock);
    expect(rates).toEqual([256, 256, 256]); // 4 steps × 64 items / 1 s
    expect(steps).toBe(2 + 3 * 4);
  });
  it('takes 2 steps per window even when one step is longer than the window', () => {
    const { clock, advance } = fakeClock();
    let steps = 0;
    const rates = trainRates(() => { steps++; advance(8); }, 64, { seconds: 1, windows: 1 }, clock);
    expect(rates).toEqual([8]); // 2 × 64 / 16 s
    expect(steps).toBe(4);
  });
  it('warms up for warmupSeconds when given (the bench passes --warmup)', () => {
    const { clock, advance } = fakeClock();
    let steps = 0;
    trainRates(() => { steps++; advance(0.25); }, 64, { seconds: 1, windows: 1, warmupSeconds: 2 }, clock);
    expect(steps).toBe(8 + 4); // 2 s of 0.25 s steps, then one window of 4
  });
});

describe('random data', () => {
  it('is deterministic per seed and within range', () => {
    const a = randomF32(1000, 1);
    expect(randomF32(1000, 1)).toEqual(a);
    expect(randomF32(1000, 2)).not.toEqual(a);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...a)).toBeLessThan(1);
    const k = randomInts(1000, 10);
    expect(Math.min(...k)).toBe(0);
    expect(Math.max(...k)).toBe(9);
  });
});

describe('JSON lines', () => {
  it('puts anchor, threads, workload, metric, value first and round-trips', () => {
    const rec: BenchRecord = { anchor: 'kiln-wasm', threads: 2, workload: 'sgemm', n: 512, metric: 'GFLOPS', value: 41.5, median_ms: 6.5, reps: 9 };
    const line = formatRecord({ ...rec }, { node: 'v20' });
    expect(Object.keys(JSON.parse(line) as object).slice(0, 5)).toEqual(['anchor', 'threads', 'workload', 'metric', 'value']);
    expect(parseRecords(`banner\n${line}\n\n`)).toEqual([{ ...rec, node: 'v20' }]);
  });
  it('keeps error lines and rejects a non-finite value', () => {
    const err = formatRecord({ anchor: 'tfjs-wasm', threads: 1, workload: 'lenet', error: 'Error: Kernel missing' });
    expect(JSON.parse(err)).toEqual({ anchor: 'tfjs-wasm', threads: 1, workload: 'lenet', error: 'Error: Kernel missing' });
    expect(() => formatRecord({ anchor: 'kiln-x', threads: 1, workload: 'mlp', metric: 'samples/s', value: NaN })).toThrow(/finite/);
  });
});

describe('parseBenchArgs', () => {
  it('has defaults that finish in minutes', () => {
    const a = parseBenchArgs([]);
    expect(a).toMatchObject({
      only: null, seconds: 1, windows: 3, warmup: 2, reps: 3, threads: [1, 2], sizes: [256, 512, 1024], backend: null, tfjs: true, tfjsCpuLenet: false,
      torch: true, python: '/usr/bin/python3', ort: true,
    });
    expect(parseBenchArgs(['--no-torch', '--no-ort', '--python', '/opt/py'])).toMatchObject({ torch: false, ort: false, python: '/opt/py' });
  });
  it('reads values, --key=value and flags', () => {
    const a = parseBenchArgs(['--only', 'kiln/(mlp|lenet)', '--seconds=0.5', '--threads', '1', '--sizes', '64,128', '--backend', 'wasm', '--no-tfjs', '--compare', 'a.jsonl,b.jsonl', '--reps', '3', '--warmup', '0.5']);
    expect(a.only?.test('kiln/mlp/t1')).toBe(true);
    expect(a.only?.test('kiln/sgemm/t1')).toBe(false);
    expect(a).toMatchObject({ seconds: 0.5, threads: [1], sizes: [64, 128], backend: 'wasm', tfjs: false, compare: ['a.jsonl', 'b.jsonl'], reps: 3, warmup: 0.5 });
  });
  it('names the option and value it rejects', () => {
    expect(() => parseBenchArgs(['--threads', '1,0'])).toThrow(/--threads.*'1,0'/);
    expect(() => parseBenchArgs(['--seconds', '-1'])).toThrow(/--seconds.*'-1'/);
    expect(() => parseBenchArgs(['--warmup', 'x'])).toThrow(/--warmup.*'x'/);
    expect(() => parseBenchArgs(['--frobnicate', '1'])).toThrow(/unknown option '--frobnicate'/);
    expect(() => parseBenchArgs(['--only'])).toThrow(/--only needs a value/);
  });
});

describe('parseJobSpec', () => {
  it('fills defaults and rejects unknown workloads', () => {
    expect(parseJobSpec('{"workload":"mlp","threads":2}')).toEqual({
      workload: 'mlp', threads: 2, backend: null, seconds: 1, windows: 3, warmup: 2, sizes: [256, 512, 1024], python: '/usr/bin/python3', rssSteps: 10_000,
    });
    expect(parseJobSpec('{"workload":"resnet18"}').workload).toBe('resnet18');
    expect(() => parseJobSpec('{"workload":"gru"}')).toThrow(/workload must be one of/);
  });
});

describe('ratio table', () => {
  it('gives Kiln speed-ups per anchor at the same workload, size and threads; latencies invert', () => {
    expect(speedup('samples/s', 300, 100)).toBe(3);
    expect(speedup('ms', 0.5, 2)).toBe(4);
    const recs: BenchRecord[] = [
      { anchor: 'kiln-wasm', threads: 1, workload: 'sgemm', n: 256, metric: 'GFLOPS', value: 40 },
      { anchor: 'tfjs-wasm', threads: 1, workload: 'sgemm', n: 256, metric: 'GFLOPS', value: 20 },
      { anchor: 'tfjs-wasm', threads: 1, workload: 'sgemm', n: 512, metric: 'GFLOPS', value: 1 },
      { anchor: 'kiln-wasm', threads: 2, workload: 'lenet', metric: 'samples/s', value: 5000 },
      { anchor: 'tfjs-wasm', threads: 2, workload: 'lenet', error: 'Error: Kernel' },
      { anchor: 'kiln-wasm', threads: 1, workload: 'infer-b1', metric: 'ms', value: 0.1 },
      { anchor: 'tfjs-cpu', threads: 1, workload: 'infer-b1', metric: 'ms', value: 2 },
    ];
    const lines = ratioTable(recs).split('\n');
    expect(lines[0]).toBe('| workload | n | threads | kiln | value | unit | tfjs-cpu (×) | tfjs-wasm (×) |');
    expect(lines[2]).toBe('| sgemm | 256 | 1 | kiln-wasm | 40.0 | GFLOPS | — | 20.0 (2.00×) |');
    expect(lines[3]).toBe('| lenet |  | 2 | kiln-wasm | 5000 | samples/s | — | failed |');
    expect(lines[4]).toBe('| infer-b1 |  | 1 | kiln-wasm | 0.10 | ms | 2.00 (20.0×) | — |');
    expect(lines.length).toBe(5);
  });
  it('pools repeated processes of one figure by their median', () => {
    const recs: BenchRecord[] = [10, 30, 20].flatMap((v, rep) => [
      { anchor: 'kiln-reference', threads: 1, workload: 'mlp', metric: 'samples/s', value: v, rep },
      { anchor: 'tfjs-wasm', threads: 1, workload: 'mlp', metric: 'samples/s', value: v / 2 + 5, rep },
    ]);
    expect(ratioTable(recs).split('\n')[2]).toBe('| mlp |  | 1 | kiln-reference | 20.0 | samples/s | 15.0 (1.33×) |');
  });
});

describe('Kiln ÷ PyTorch table', () => {
  it('gives each side per thread count, the ratio per thread count and at each one\'s best', () => {
    const recs: BenchRecord[] = [
      ...[900, 1100, 1000].map((value, rep): BenchRecord => ({ anchor: 'kiln-wasm', threads: 1, workload: 'mlp', metric: 'samples/s', value, rep, cpu_value: value * 2 })),
      { anchor: 'kiln-wasm', threads: 2, workload: 'mlp', metric: 'samples/s', value: 1800 },
      { anchor: 'torch-openblas', threads: 1, workload: 'mlp', metric: 'samples/s', value: 2000, cpu_value: 2500 },
      { anchor: 'torch-openblas', threads: 2, workload: 'mlp', metric: 'samples/s', value: 1500 },
      { anchor: 'kiln-wasm', threads: 1, workload: 'infer-b1', metric: 'ms', value: 4 },
      { anchor: 'kiln-wasm', threads: 2, workload: 'infer-b1', metric: 'ms', value: 2 },
      { anchor: 'torch-openblas', threads: 1, workload: 'infer-b1', metric: 'ms', value: 1 },
      { anchor: 'torch-openblas', threads: 2, workload: 'infer-b1', metric: 'ms', value: 0.5 },
      { anchor: 'kiln-wasm', threads: 1, workload: 'lstm', error: 'Error: no LSTM' },
      { anchor: 'torch-openblas', threads: 1, workload: 'lstm', metric: 'tokens/s', value: 9000 },
      { anchor: 'tfjs-wasm', threads: 1, workload: 'mlp', metric: 'samples/s', value: 1 },
    ];
    const lines = torchTable(recs)!.split('\n');
    expect(lines[0]).toBe('| workload | unit | Kiln 1T | Kiln 2T | PyTorch 1T | PyTorch 2T | Kiln ÷ PyTorch 1T | Kiln ÷ PyTorch 2T | Kiln ÷ PyTorch, each at its best | Kiln ÷ PyTorch 1T by CPU time |');
    // Kiln's best is 2T (1800), PyTorch's 1T (2000); by CPU time at 1T: median 2000 / 2500.
    expect(lines[2]).toBe('| mlp | samples/s | 1000 | 1800 | 2000 | 1500 | 0.50× | 1.20× | 0.90× (2T vs 1T) | 0.80× |');
    // Latencies: lower is better, ratios are speed ratios.
    expect(lines[3]).toBe('| infer-b1 | ms | 4.00 | 2.00 | 1.00 | 0.50 | 0.25× | 0.25× | 0.25× (2T vs 2T) | — |');
    expect(lines[4]).toBe('| lstm | tokens/s | failed | — | 9000 | — | — | — | — | — |');
    expect(lines.length).toBe(5);
  });
  it('is null without PyTorch records (the bench then prints Kiln-only figures)', () => {
    expect(torchTable([{ anchor: 'kiln-wasm', threads: 1, workload: 'mlp', metric: 'samples/s', value: 1 }])).toBeNull();
  });
});

describe('CPU-time figures', () => {
  it('count the calls and the CPU seconds used meanwhile, in the record\'s unit', () => {
    let cpu = 10;
    const step = (): void => { cpu += 0.5; };
    const r = withCpuTime(step, (counted) => { for (let i = 0; i < 4; i++) counted(); return 'done'; }, () => cpu);
    expect(r).toEqual({ result: 'done', calls: 4, cpuSeconds: 2 });
    expect(cpuFigure('samples/s', 64, r.calls, r.cpuSeconds)).toBe(128); // 4 × 64 items / 2 s
    expect(cpuFigure('ms', 1, r.calls, r.cpuSeconds)).toBe(500); // 2000 ms / 4 calls
    expect(cpuFigure('ms', 1, 0, 1)).toBeNaN();
  });
});

describe('modelMismatches', () => {
  const rec = (anchor: string, workload: string, params: number, initial_loss: number): BenchRecord =>
    ({ anchor, threads: 1, workload, metric: 'tokens/s', value: 1, params, initial_loss });
  it('is empty when both sides report the same parameter count and losses of one magnitude', () => {
    expect(modelMismatches([rec('kiln-wasm', 'transformer', 412992, 4.33), rec('torch-openblas', 'transformer', 412992, 4.2)])).toEqual([]);
    // Workloads that one side does not report are not compared.
    expect(modelMismatches([rec('kiln-wasm', 'mlp', 5, 2.3)])).toEqual([]);
  });
  it('names the workload and both values when the models differ', () => {
    const msgs = modelMismatches([
      rec('kiln-wasm', 'transformer', 412992, 4.33), rec('torch-openblas', 'transformer', 1000, 4.3),
      rec('kiln-wasm', 'lstm', 10, 9), rec('torch-openblas', 'lstm', 10, 4.16),
    ]);
    expect(msgs).toEqual([
      'transformer: parameter counts differ: kiln-wasm 412992, torch-openblas 1000',
      'lstm: initial losses differ by more than 25%: kiln-wasm 9.000, torch-openblas 4.160',
    ]);
  });
});

describe('parseBenchArgs --rss-steps', () => {
  it('defaults to 10000 steps and takes a positive integer', () => {
    expect(parseBenchArgs([]).rssSteps).toBe(10_000);
    expect(parseBenchArgs(['--rss-steps', '500']).rssSteps).toBe(500);
    expect(() => parseBenchArgs(['--rss-steps', '0'])).toThrow(/--rss-steps.*'0'/);
  });
});
