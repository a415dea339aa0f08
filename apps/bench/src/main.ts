// `npm run bench`: Kiln on the shared anchor workloads (../shared/bench-anchors/README.md),
// printing the anchor JSON lines so bench-anchors/summarize.mjs can table them.
// Only sgemm is implemented so far; MLP/LeNet and the TF.js side are not yet written.
import { tensor, getBackend, setNumThreads, noGrad } from '@kiln/tensor';

interface Args { only: RegExp; seconds: number; threads: number[] }

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { only: /.*/, seconds: 1, threads: [1] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`Kiln bench: option ${k} needs a value`);
    if (k === '--only') a.only = new RegExp(v);
    else if (k === '--seconds') a.seconds = Number(v);
    else if (k === '--threads') a.threads = v.split(',').map(Number);
    else throw new Error(`Kiln bench: unknown option ${k} (known: --only, --seconds, --threads)`);
    i++;
  }
  return a;
}

const now = (): number => performance.now() / 1e3;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// Same rule as the anchors' timeCalls: warm-up calls, then single timed calls until
// at least minReps calls and minSeconds have passed; the caller reports the median.
function timeCalls(fn: () => void, minReps: number, minSeconds: number, warmup: number): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  const t0 = now();
  while (times.length < minReps || (now() - t0 < minSeconds && times.length < 10000)) {
    const t = now();
    fn();
    times.push(now() - t);
  }
  return times;
}

// Deterministic float32 data in [-1, 1) (xorshift32); values do not affect timing.
function randomF32(len: number, seed: number): Float32Array {
  const a = new Float32Array(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    a[i] = x / 2147483648 - 1;
  }
  return a;
}

function emit(rec: Record<string, unknown>): void {
  console.log(JSON.stringify({ ...rec, node: process.version }));
}

function benchSgemm(args: Args, threads: number): void {
  for (const n of [256, 512, 1024]) {
    if (!args.only.test(`sgemm-${n}`)) continue;
    const a = tensor(randomF32(n * n, 1), { shape: [n, n] });
    const b = tensor(randomF32(n * n, 2), { shape: [n, n] });
    const t = timeCalls(() => noGrad(() => a.matmul(b)), 3, args.seconds, 1);
    const med = median(t);
    emit({ anchor: `kiln-${getBackend().name}`, threads, workload: 'sgemm', n, metric: 'GFLOPS',
      value: (2 * n ** 3) / med / 1e9, median_ms: med * 1e3, reps: t.length });
  }
}

const args = parseArgs(process.argv.slice(2));
for (const th of args.threads) {
  setNumThreads(th);
  benchSgemm(args, th);
}
