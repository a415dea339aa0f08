// What main.ts hands a job process: one workload at one thread count, as a JSON argument.
// By hand: node dist/kiln-job.js '{"workload":"mlp","threads":2}'
import { WORKLOADS, formatRecord, type BenchRecord, type Workload } from './common.js';

export interface JobSpec {
  workload: Workload;
  threads: number;
  /** Kiln: backend name (null = the active one). TF.js: 'cpu' or 'wasm'. */
  backend: string | null;
  seconds: number;
  windows: number;
  /** Minimum training warm-up in seconds. */
  warmup: number;
  sizes: number[];
  /** The Python with PyTorch (PyTorch jobs only). */
  python: string;
  /** MLP training steps of the peak-RSS run (workload `rss`). */
  rssSteps: number;
}

export function parseJobSpec(arg: string | undefined): JobSpec {
  if (!arg) throw new Error('Kiln bench job: expected one JSON argument {"workload": ..., "threads": ...}');
  const o = JSON.parse(arg) as Partial<JobSpec>;
  if (!WORKLOADS.includes(o.workload as Workload)) {
    throw new Error(`Kiln bench job: workload must be one of ${WORKLOADS.join(', ')}, got ${JSON.stringify(o.workload)}`);
  }
  return {
    workload: o.workload as Workload, threads: o.threads ?? 1, backend: o.backend ?? null,
    seconds: o.seconds ?? 1, windows: o.windows ?? 3, warmup: o.warmup ?? 2, sizes: o.sizes ?? [256, 512, 1024], python: o.python ?? '/usr/bin/python3',
    rssSteps: o.rssSteps ?? 10_000,
  };
}

/** Prints a result line on stdout (the anchors add the Node version too). */
export function emit(rec: BenchRecord): void {
  console.log(formatRecord(rec, { node: process.version }));
}

/**
 * Runs a job body; an exception becomes an error line for the job (as run_all.mjs records a
 * crashed anchor), then the process exits: 0 on success, 1 on error. Exiting explicitly also ends
 * thread pools (tfjs-wasm's Emscripten workers, Kiln's wasm workers) that would keep Node alive.
 */
export async function runJob(meta: { anchor: () => string; spec: JobSpec }, body: () => void | Promise<void>): Promise<never> {
  let code = 0;
  try {
    await body();
  } catch (e) {
    const err = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    emit({ anchor: meta.anchor(), threads: meta.spec.threads, workload: meta.spec.workload, error: err.split('\n')[0]! });
    console.error(e);
    code = 1;
  }
  process.exit(code);
}
