// Pure helpers of the bench: options, the timing rules of ../shared/bench-anchors (README.md,
// "Workload definitions"), deterministic data, the JSON line format and the speed-up table.
// Nothing here imports Kiln or TF.js, so both job kinds and the tests share it.

export const WORKLOADS = ['sgemm', 'mlp', 'lenet', 'infer', 'lstm', 'transformer', 'resnet18', 'mobilenetv2', 'rss'] as const;
export type Workload = (typeof WORKLOADS)[number];
/** The workloads TF.js runs (the anchors' four; the others are Kiln-vs-PyTorch only). */
export const TFJS_WORKLOADS: readonly Workload[] = ['sgemm', 'mlp', 'lenet', 'infer'];

export interface BenchArgs {
  /** Regex on the job id `ANCHOR/WORKLOAD/tTHREADS` (e.g. `kiln-wasm/mlp/t2`). */
  only: RegExp | null;
  /** Minimum length of one training window in seconds (call timing always runs >= 1 s, as the anchors do). */
  seconds: number;
  /** Training windows per process. */
  windows: number;
  /** Minimum training warm-up in seconds, before the first window. */
  warmup: number;
  /** Passes over all jobs (interleaved, as run_all.mjs does); tables take the median over passes. */
  reps: number;
  /** Kiln thread counts. */
  threads: number[];
  /** sgemm sizes. */
  sizes: number[];
  /** Kiln backend name; null = whatever @kiln/tensor has active. */
  backend: string | null;
  /** Run the TF.js anchors. */
  tfjs: boolean;
  /** Run the PyTorch jobs (when `python` has torch). */
  torch: boolean;
  /** The Python with PyTorch. */
  python: string;
  /** Run ONNX Runtime (onnxruntime-node) on Kiln's exported MobileNetV2. */
  ort: boolean;
  /** Include tfjs-cpu LeNet training (~8 s a step; one window). */
  tfjsCpuLenet: boolean;
  /** MLP training steps of the peak-RSS run (workload `rss`). */
  rssSteps: number;
  /** JSONL output file; null = bench-results/raw-<stamp>.jsonl in the app folder. */
  out: string | null;
  /** Other raw JSONL files (e.g. PyTorch anchor runs) to compare against in the ratio table. */
  compare: string[];
  help: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]
  --only REGEX        run only jobs whose id matches, e.g. 'kiln', 'mlp|lenet', 'tfjs-wasm/sgemm/t2'
                      (job ids: ANCHOR/WORKLOAD/tTHREADS; anchors kiln-<backend>, tfjs-cpu, tfjs-wasm)
  --seconds S         minimum training window in seconds (default 1; the anchors' default is 2)
  --windows N         training windows per process (default 3)
  --warmup S          minimum training warm-up in seconds before the first window, for every
                      anchor (default 2; the anchors' rule is >= 0.5: V8 is still compiling the
                      step on background threads for ~2 s, which at 2 threads takes a busy core)
  --reps N            passes over all jobs, interleaved (default 3); the table takes the median over
                      processes, as bench-anchors/summarize.mjs does
  --threads 1,2       Kiln and tfjs-wasm thread counts (default 1,2)
  --sizes 256,512,1024  sgemm sizes (default 256,512,1024)
  --backend NAME      Kiln backend (default: the active one, getBackend().name)
  --no-tfjs           skip the TF.js anchors
  --no-torch          skip the PyTorch jobs (run by default when --python has torch)
  --python PATH       the Python with PyTorch (default /usr/bin/python3)
  --no-ort            skip ONNX Runtime on the exported MobileNetV2
  --tfjs-cpu-lenet    also train LeNet on tfjs-cpu (~8 s per step, one window)
  --rss-steps N       MLP training steps of the peak-RSS run, workload 'rss' (default 10000; it runs
                      in the first pass only)
  --out FILE          raw JSONL output (default apps/bench/bench-results/raw-<stamp>.jsonl)
  --compare FILES     comma-separated raw JSONL files of other anchors (e.g. PyTorch runs of
                      ../shared/bench-anchors) to add as ratio columns; their Kiln lines become
                      a prev-kiln-<backend> column (compare with an earlier run)
  --help`;

function positiveList(name: string, v: string): number[] {
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (!xs.length || xs.some((x) => !Number.isInteger(x) || x < 1)) {
    throw new Error(`Kiln bench: ${name} expects a comma-separated list of positive integers, got '${v}'`);
  }
  return xs;
}

function positive(name: string, v: string): number {
  const x = Number(v);
  if (!(Number.isFinite(x) && x > 0)) throw new Error(`Kiln bench: ${name} expects a positive number, got '${v}'`);
  return x;
}

/** Parses the bench's command line (`--key value` or `--key=value`; flags take no value). */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const a: BenchArgs = {
    only: null, seconds: 1, windows: 3, warmup: 2, reps: 3, threads: [1, 2], sizes: [256, 512, 1024], backend: null,
    tfjs: true, torch: true, python: '/usr/bin/python3', ort: true, tfjsCpuLenet: false, rssSteps: 10_000, out: null, compare: [], help: false,
  };
  const flags: Record<string, () => void> = {
    '--no-tfjs': () => { a.tfjs = false; },
    '--no-torch': () => { a.torch = false; },
    '--no-ort': () => { a.ort = false; },
    '--tfjs-cpu-lenet': () => { a.tfjsCpuLenet = true; },
    '--help': () => { a.help = true; },
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const key = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const flag = flags[key];
    if (flag) { flag(); continue; }
    const value = eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`Kiln bench: option ${key} needs a value`);
    switch (key) {
      case '--only': a.only = new RegExp(value); break;
      case '--seconds': a.seconds = positive(key, value); break;
      case '--windows': a.windows = positiveList(key, value)[0]!; break;
      case '--warmup': a.warmup = positive(key, value); break;
      case '--reps': a.reps = positiveList(key, value)[0]!; break;
      case '--rss-steps': a.rssSteps = positiveList(key, value)[0]!; break;
      case '--threads': a.threads = positiveList(key, value); break;
      case '--sizes': a.sizes = positiveList(key, value); break;
      case '--backend': a.backend = value; break;
      case '--python': a.python = value; break;
      case '--out': a.out = value; break;
      case '--compare': a.compare.push(...value.split(',').filter(Boolean)); break;
      default: throw new Error(`Kiln bench: unknown option '${arg}'\n${USAGE}`);
    }
  }
  return a;
}

// ----------------------------------------------------------------------------- timing rules

export const nowSeconds = (): number => performance.now() / 1e3;

export function median(xs: readonly number[]): number {
  if (!xs.length) throw new Error('Kiln bench: median of an empty list');
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface CallTiming { warmup: number; minReps: number; minSeconds: number; maxReps?: number }

/**
 * Call timing: `warmup` untimed calls, then single calls are timed until there are at least
 * `minReps` of them and `minSeconds` have passed (capped at `maxReps`). Returns every call's
 * seconds; the caller reports the median.
 */
export function timeCalls(fn: () => void, o: CallTiming, clock: () => number = nowSeconds): number[] {
  for (let i = 0; i < o.warmup; i++) fn();
  const maxReps = o.maxReps ?? 10_000;
  const times: number[] = [];
  const start = clock();
  for (;;) {
    const enough = times.length >= o.minReps && (clock() - start >= o.minSeconds || times.length >= maxReps);
    if (enough) return times;
    const t = clock();
    fn();
    times.push(clock() - t);
  }
}

export interface TrainTiming { seconds: number; windows: number; warmupSteps?: number; warmupSeconds?: number }

/**
 * Training rate: warm up for at least `warmupSteps` (2) steps and `warmupSeconds` (0.5, the
 * anchors' minimum; the bench passes its `--warmup`), then `windows` windows of at least
 * `seconds` and 2 steps each. Returns items per second of every window; the caller reports the median.
 */
export function trainRates(step: () => void, itemsPerStep: number, o: TrainTiming, clock: () => number = nowSeconds): number[] {
  const warmupSteps = o.warmupSteps ?? 2;
  const warmupSeconds = o.warmupSeconds ?? 0.5;
  const w0 = clock();
  for (let n = 0; n < warmupSteps || clock() - w0 < warmupSeconds; n++) step();
  const rates: number[] = [];
  for (let w = 0; w < o.windows; w++) {
    const t0 = clock();
    let steps = 0;
    let elapsed = 0;
    do {
      step();
      steps++;
      elapsed = clock() - t0;
    } while (steps < 2 || elapsed < o.seconds);
    rates.push((steps * itemsPerStep) / elapsed);
  }
  return rates;
}

/** CPU seconds this process has used (all its threads). */
export const processCpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * Runs `fn` with a counting wrapper around `step` and measures the CPU time the process used:
 * the figure beside the wall-clock rate that a busy machine does not distort (for 1 thread; at
 * more threads it also counts spin-waiting). Returns fn's result, the calls of `step` and CPU seconds.
 */
export function withCpuTime<T>(step: () => void, fn: (counted: () => void) => T, cpu: () => number = processCpuSeconds): { result: T; calls: number; cpuSeconds: number } {
  let calls = 0;
  const c0 = cpu();
  const result = fn(() => { step(); calls++; });
  return { result, calls, cpuSeconds: cpu() - c0 };
}

/** The CPU-time figure in a record's own unit: per-call CPU ms for `ms`, items per CPU second otherwise. */
export function cpuFigure(metric: string, itemsPerCall: number, calls: number, cpuSeconds: number): number {
  if (!(cpuSeconds > 0) || calls === 0) return NaN;
  return metric === 'ms' ? (cpuSeconds * 1e3) / calls : (itemsPerCall * calls) / cpuSeconds;
}

// ----------------------------------------------------------------------------- data

/** Deterministic float32 values in [-1, 1) from xorshift32 (the values do not affect timing). */
export function randomF32(len: number, seed = 1): Float32Array {
  const out = new Float32Array(len);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Deterministic integers in [0, max) from xorshift32. */
export function randomInts(len: number, max: number, seed = 2): Int32Array {
  const out = new Int32Array(len);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = s % max;
  }
  return out;
}

// ----------------------------------------------------------------------------- records

/** One result line, as the anchor scripts print it (summarize.mjs reads these). */
export interface BenchRecord {
  anchor: string;
  threads: number;
  workload: string;
  metric?: string;
  value?: number;
  n?: number;
  error?: string;
  [extra: string]: unknown;
}

/** The JSON line for a record: anchor, threads, workload, metric, value first, then the rest. */
export function formatRecord(rec: BenchRecord, extra: Record<string, unknown> = {}): string {
  const { anchor, threads, workload, metric, value, ...rest } = rec;
  if (value !== undefined && !Number.isFinite(value)) {
    throw new Error(`Kiln bench: ${anchor}/${workload}: value must be a finite number, got ${value}`);
  }
  return JSON.stringify({ anchor, threads, workload, metric, value, ...rest, ...extra });
}

/** Keeps the lines of a job's stdout that are result records (they start with `{`). */
export function parseRecords(text: string): BenchRecord[] {
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as BenchRecord);
}

export const jobId = (anchor: string, workload: string, threads: number): string => `${anchor}/${workload}/t${threads}`;

/** Key of one figure: anchor-independent, so figures of different anchors line up. */
export const figureKey = (r: BenchRecord): string => `${r.workload}|${r.n ?? ''}|${r.threads}`;

/** Speed-up of `kiln` over `other` (> 1: Kiln is faster). `ms` figures are latencies, lower is better. */
export function speedup(metric: string, kiln: number, other: number): number {
  return metric === 'ms' ? other / kiln : kiln / other;
}

export const fmtNumber = (v: number): string =>
  v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2);

/**
 * A markdown table: one row per Kiln figure, its value, and for every other anchor its value
 * (median over its records) and the speed-up `×` (or the other anchor's error).
 */
export function ratioTable(records: readonly BenchRecord[]): string {
  const isKiln = (r: BenchRecord): boolean => r.anchor.startsWith('kiln');
  const others = [...new Set(records.filter((r) => !isKiln(r)).map((r) => r.anchor))].sort();
  const pooled = new Map<string, { metric: string; values: number[]; error?: string }>();
  for (const r of records) {
    const k = `${r.anchor}|${figureKey(r)}`;
    const g = pooled.get(k) ?? { metric: r.metric ?? '', values: [] };
    if (r.error !== undefined) g.error = r.error;
    else if (typeof r.value === 'number') g.values.push(r.value);
    pooled.set(k, g);
  }
  const kilnKeys = [...new Set(records.filter(isKiln).map((r) => `${r.anchor}|${figureKey(r)}`))];
  const head = ['workload', 'n', 'threads', 'kiln', 'value', 'unit', ...others.map((o) => `${o} (×)`)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const k of kilnKeys) {
    const [anchor, workload, n, threads] = k.split('|') as [string, string, string, string];
    const g = pooled.get(k)!;
    const cells = [workload, n, threads, anchor];
    if (!g.values.length) {
      lines.push(`| ${[...cells, 'FAILED', (g.error ?? '').replace(/\|/g, '/').slice(0, 80), ...others.map(() => '')].join(' | ')} |`);
      continue;
    }
    const v = median(g.values);
    cells.push(fmtNumber(v), g.metric);
    for (const o of others) {
      const og = pooled.get(`${o}|${workload}|${n}|${threads}`);
      if (og?.values.length) cells.push(`${fmtNumber(median(og.values))} (${fmtNumber(speedup(g.metric, v, median(og.values)))}×)`);
      else if (og?.error !== undefined) cells.push('failed');
      else cells.push('—');
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The PyTorch anchor's name in records. */
export const TORCH = 'torch-openblas';

/**
 * Kiln against PyTorch, one row per figure: each side's value at every thread count, Kiln ÷
 * PyTorch at each thread count, and at each one's best thread count (its fastest figure, which
 * may be at different counts). Ratios are speeds (> 1: Kiln is faster; `ms` latencies inverted).
 * Values are medians over the records (processes) of a figure. Null when there is no PyTorch record.
 */
export function torchTable(records: readonly BenchRecord[]): string | null {
  const kilnName = records.find((r) => r.anchor.startsWith('kiln'))?.anchor;
  if (!kilnName || !records.some((r) => r.anchor === TORCH)) return null;
  const threads = [...new Set(records.filter((r) => r.anchor === kilnName || r.anchor === TORCH).map((r) => r.threads))].sort((x, y) => x - y);
  const cell = new Map<string, { metric: string; values: number[]; cpu: number[]; failed: boolean }>();
  const figures: string[] = [];
  for (const r of records) {
    if (r.anchor !== kilnName && r.anchor !== TORCH) continue;
    const fig = `${r.workload}|${r.n ?? ''}`;
    if (!figures.includes(fig)) figures.push(fig);
    const k = `${r.anchor}|${fig}|${r.threads}`;
    const c = cell.get(k) ?? { metric: r.metric ?? '', values: [], cpu: [], failed: false };
    if (r.error !== undefined) c.failed = true;
    else if (typeof r.value === 'number') { c.values.push(r.value); c.metric ||= r.metric ?? ''; }
    if (typeof r.cpu_value === 'number' && Number.isFinite(r.cpu_value)) c.cpu.push(r.cpu_value);
    cell.set(k, c);
  }
  const value = (anchor: string, fig: string, t: number): { v: number; metric: string } | null => {
    const c = cell.get(`${anchor}|${fig}|${t}`);
    return c?.values.length ? { v: median(c.values), metric: c.metric } : null;
  };
  const show = (anchor: string, fig: string, t: number): string => {
    const x = value(anchor, fig, t);
    return x ? fmtNumber(x.v) : cell.get(`${anchor}|${fig}|${t}`)?.failed ? 'failed' : '—';
  };
  const ratio = (k: { v: number; metric: string } | null, p: { v: number; metric: string } | null): string =>
    k && p ? `${speedup(k.metric, k.v, p.v).toFixed(2)}×` : '—';
  /** The fastest figure of a side over thread counts, and its thread count. */
  const best = (anchor: string, fig: string): { v: number; metric: string; t: number } | null => {
    let b: { v: number; metric: string; t: number } | null = null;
    for (const t of threads) {
      const x = value(anchor, fig, t);
      if (x && (!b || speedup(x.metric, x.v, b.v) > 1)) b = { ...x, t };
    }
    return b;
  };
  /** Kiln ÷ PyTorch at 1 thread from CPU time (items per CPU second, or CPU ms per call). */
  const cpuRatio = (fig: string): string => {
    const k = cell.get(`${kilnName}|${fig}|1`);
    const p = cell.get(`${TORCH}|${fig}|1`);
    return k?.cpu.length && p?.cpu.length ? `${speedup(k.metric, median(k.cpu), median(p.cpu)).toFixed(2)}×` : '—';
  };
  const head = ['workload', 'unit', ...threads.map((t) => `Kiln ${t}T`), ...threads.map((t) => `PyTorch ${t}T`),
    ...threads.map((t) => `Kiln ÷ PyTorch ${t}T`), 'Kiln ÷ PyTorch, each at its best', 'Kiln ÷ PyTorch 1T by CPU time'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const fig of figures) {
    const [workload, n] = fig.split('|') as [string, string];
    const metric = [...cell.entries()].find(([k, c]) => k.includes(`|${fig}|`) && c.metric)?.[1].metric ?? '';
    const kb = best(kilnName, fig);
    const pb = best(TORCH, fig);
    lines.push(`| ${[
      n ? `${workload} n=${n}` : workload, metric,
      ...threads.map((t) => show(kilnName, fig, t)), ...threads.map((t) => show(TORCH, fig, t)),
      ...threads.map((t) => ratio(value(kilnName, fig, t), value(TORCH, fig, t))),
      kb && pb ? `${ratio(kb, pb)} (${kb.t}T vs ${pb.t}T)` : '—', cpuRatio(fig),
    ].join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * Checks that Kiln and PyTorch trained the same model: every record that states `params` (the
 * trainable parameter count) must agree with the other side's for that workload, and
 * `initial_loss` (the loss of the first step, before any update) must be within `lossTolerance`
 * (relative) of it — both start from random weights of the same initialisation scheme, so the
 * losses agree in magnitude, not exactly. Returns one message per disagreement.
 */
export function modelMismatches(records: readonly BenchRecord[], lossTolerance = 0.25): string[] {
  const msgs: string[] = [];
  const kilnName = records.find((r) => r.anchor.startsWith('kiln'))?.anchor;
  if (!kilnName) return msgs;
  const workloads = [...new Set(records.map((r) => r.workload))];
  const values = (anchor: string, w: string, key: string): number[] =>
    [...new Set(records.filter((r) => r.anchor === anchor && r.workload === w).map((r) => r[key]).filter((v): v is number => typeof v === 'number'))];
  for (const w of workloads) {
    const kp = values(kilnName, w, 'params');
    const tp = values(TORCH, w, 'params');
    if (kp.length && tp.length && (kp.length > 1 || tp.length > 1 || kp[0] !== tp[0])) {
      msgs.push(`${w}: parameter counts differ: ${kilnName} ${kp.join('/')}, ${TORCH} ${tp.join('/')}`);
    }
    const kl = values(kilnName, w, 'initial_loss');
    const tl = values(TORCH, w, 'initial_loss');
    if (kl.length && tl.length) {
      const k = median(kl);
      const t = median(tl);
      if (!(Math.abs(k - t) <= lossTolerance * Math.abs(t))) {
        msgs.push(`${w}: initial losses differ by more than ${lossTolerance * 100}%: ${kilnName} ${k.toPrecision(4)}, ${TORCH} ${t.toPrecision(4)}`);
      }
    }
  }
  return msgs;
}
