/**
 * A pool of worker threads that share the Wasm memory and run their share of a task.
 *
 * Each worker instantiates the same module over the same shared memory and sleeps on a
 * generation counter. The caller writes a task, bumps the counter, does share 0 itself and
 * spins until the others report done. Everything goes through Atomics on shared memory, never
 * through messages, because a training loop is synchronous JavaScript: it never yields to the
 * event loop, so a message from a worker would not be seen until it ended.
 *
 * Workers are started lazily (the first task that wants them) and report readiness through
 * shared flags; until they are ready, tasks run on fewer threads. Results never depend on the
 * thread count (see gemmTask), only speed does.
 *
 * Control words (i32, at CTRL): 0 generation, 1 done count, 2 task descriptor, 3 thread count,
 * 4 failure flag, 5 task kind (an index into TASKS), 8 + t: worker t is ready.
 */
import { CTRL, MAX_THREADS, type WasmRuntime } from './runtime.js';

const GEN = 0;
const DONE = 1;
const TASK = 2;
const THREADS = 3;
const FAILED = 4;
const KIND = 5;
const READY = 8;

/** The Wasm exports a task can run, each `(desc, tid, threads)`. */
export const TASKS = ['gemmTask', 'convTask'] as const;
export type TaskName = (typeof TASKS)[number];

/** The worker's whole program, as source, so it needs no file of its own on any runtime. */
const workerSource = `
function kilnWorker(data) {
  const { module, memory, tid, ctrl } = data;
  const c = new Int32Array(memory.buffer, ctrl, ${READY + MAX_THREADS});
  let tasks;
  try {
    const instance = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('abort'); } } });
    tasks = ${JSON.stringify(TASKS)}.map((name) => instance.exports[name]);
  } catch (e) {
    return; // never marked ready, so never given a share
  }
  Atomics.store(c, ${READY} + tid, 1);
  let seen = Atomics.load(c, ${GEN});
  for (;;) {
    let spins = 0;
    let gen;
    // Spin briefly (back-to-back tasks arrive microseconds apart), then sleep. An odd generation
    // is a task being written: wait for the even one that publishes it.
    while ((gen = Atomics.load(c, ${GEN})) === seen || (gen & 1) === 1) {
      if (++spins > 20000) { Atomics.wait(c, ${GEN}, gen); spins = 0; }
    }
    const threads = Atomics.load(c, ${THREADS});
    const task = Atomics.load(c, ${TASK});
    const kind = Atomics.load(c, ${KIND});
    // A newer task was published while we read: read again, so no task runs twice or torn.
    if (Atomics.load(c, ${GEN}) !== gen) continue;
    seen = gen;
    if (tid >= threads) continue;
    try {
      tasks[kind](task, tid, threads);
    } catch (e) {
      Atomics.store(c, ${FAILED}, 1);
    }
    Atomics.add(c, ${DONE}, 1);
  }
}
`;

interface Startable {
  unref?(): void;
}

type WorkerFactory = (tid: number) => Startable;

/**
 * How this runtime starts a thread: node:worker_threads where it exists (Node, and Deno and Bun
 * through their Node compatibility; its workers can be unref'd, which Deno's Web Workers cannot,
 * so a finished script exits), Web Workers from a Blob URL otherwise (browsers).
 */
function workerFactory(rt: WasmRuntime): WorkerFactory | null {
  const data = (tid: number) => ({ module: rt.module, memory: rt.memory, tid, ctrl: CTRL });
  const g = globalThis as {
    Worker?: new (url: string | URL, options?: { type?: string }) => Startable & { postMessage(m: unknown): void };
    Blob?: typeof Blob;
    URL?: typeof URL;
    process?: { getBuiltinModule?: (id: string) => unknown };
  };
  let wt: { Worker: new (src: string, opts: { eval: boolean; workerData: unknown }) => Startable } | undefined;
  try {
    wt = g.process?.getBuiltinModule?.('node:worker_threads') as typeof wt;
  } catch {
    wt = undefined;
  }
  if (wt?.Worker) {
    const src = `${workerSource}\nkilnWorker(require('node:worker_threads').workerData);\n`;
    return (tid) => new wt.Worker(src, { eval: true, workerData: data(tid) });
  }
  if (typeof g.Worker === 'function' && g.Blob && g.URL?.createObjectURL) {
    const url = g.URL.createObjectURL(new g.Blob([`${workerSource}\nself.onmessage = (e) => kilnWorker(e.data);\n`], { type: 'text/javascript' }));
    return (tid) => {
      const w = new g.Worker!(url, { type: 'module' });
      w.postMessage(data(tid));
      return w;
    };
  }
  return null;
}

export class WorkerPool {
  private readonly ctrl: Int32Array;
  private readonly factory: WorkerFactory | null;
  private started = 1;
  /** The most threads any task has run on so far (for diagnostics). */
  maxThreadsUsed = 1;

  constructor(private readonly rt: WasmRuntime) {
    this.ctrl = new Int32Array(rt.memory.buffer, CTRL, READY + MAX_THREADS);
    this.factory = rt.shared ? workerFactory(rt) : null;
  }

  /** True when this runtime can run more than one thread. */
  get canThread(): boolean {
    return this.factory !== null;
  }

  /** Starts workers (asynchronously) until `threads` threads exist in all. */
  private grow(threads: number): void {
    if (!this.factory) return;
    for (; this.started < Math.min(threads, MAX_THREADS); this.started++) {
      const w = this.factory(this.started);
      // A sleeping worker must not keep the process alive.
      w.unref?.();
    }
  }

  /**
   * Runs the Wasm export `task(desc, tid, threads)` on up to `threads` threads (this one
   * included) and returns when all are done.
   */
  run(task: TaskName, desc: number, threads: number): void {
    const fn = this.rt.exports[task];
    const c = this.ctrl;
    if (threads > 1) this.grow(threads);
    let t = 1;
    while (t < threads && t < MAX_THREADS && Atomics.load(c, READY + t) === 1) t++;
    if (t === 1) {
      fn(desc, 0, 1);
      return;
    }
    if (t > this.maxThreadsUsed) this.maxThreadsUsed = t;
    // Publish like a seqlock: odd while the fields change, even once they are complete.
    Atomics.add(c, GEN, 1);
    Atomics.store(c, TASK, desc);
    Atomics.store(c, KIND, TASKS.indexOf(task));
    Atomics.store(c, THREADS, t);
    Atomics.store(c, DONE, 0);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    fn(desc, 0, t);
    while (Atomics.load(c, DONE) < t - 1) {
      // Spin: the other shares take about as long as ours did.
    }
    if (Atomics.load(c, FAILED) !== 0) {
      Atomics.store(c, FAILED, 0);
      throw new Error(`Kiln: wasm backend: a worker thread failed while running ${task}`);
    }
  }
}
