/**
 * A pool of worker threads that share the Wasm memory and run their share of a task.
 *
 * Each worker instantiates the same module over the same shared memory and sleeps on a
 * generation counter. The caller writes a task, bumps the counter, does share 0 itself and
 * spins until the others report done. Everything a task needs goes through Atomics on shared
 * memory, never through messages, because a training loop is synchronous JavaScript: it never
 * yields to the event loop, so a message from a worker would not be seen until it ended.
 *
 * Workers are started lazily (the first task that wants them, or `ready()`) and report
 * readiness through shared flags and one message; until they are ready, tasks run on fewer
 * threads. Results never depend on the thread count (see gemmTask), only speed does.
 * `ready()` resolves once the workers exist (it never guesses with a sleep).
 *
 * A worker that dies or hangs mid-task must not hang the caller: the caller's wait is bounded
 * (`timeoutMs` past the end of its own share), then the missing workers are stopped and
 * dropped (a later task starts fresh ones) and the task throws an error naming them.
 *
 * Control words (i32, at CTRL): 0 generation, 1 done count, 2 task descriptor, 3 thread count,
 * 4 failure flag, 5 task kind (an index into TASKS), 6 test hook (tid + 1 of a worker that
 * must quit at its next task without finishing it), 8 + t: worker t is ready, 8 + MAX_THREADS
 * + t: the generation of the last task worker t finished.
 */
import { CTRL, MAX_THREADS, env, type WasmRuntime } from './runtime.js';

const GEN = 0;
const DONE = 1;
const TASK = 2;
const THREADS = 3;
const FAILED = 4;
const KIND = 5;
const QUIT = 6;
const READY = 8;
const FINISHED = READY + MAX_THREADS;
const WORDS = FINISHED + MAX_THREADS;

/** The Wasm exports a task can run, each `(desc, tid, threads)`. */
export const TASKS = ['gemmTask', 'convTask', 'depthwiseTask', 'lstmForwardTask', 'lstmBackwardTask', 'poolTask', 'optimTask'] as const;
export type TaskName = (typeof TASKS)[number];

/**
 * The worker's whole program, as source, so it needs no file of its own on any runtime.
 * `post` sends one message to the pool: `{ ready: true }`, or `{ error }` when the module
 * cannot be instantiated (the worker then ends).
 */
const workerSource = `
function kilnWorker(data, post) {
  const { module, memory, tid, ctrl } = data;
  const c = new Int32Array(memory.buffer, ctrl, ${WORDS});
  let tasks;
  try {
    const instance = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('abort'); } } });
    tasks = ${JSON.stringify(TASKS)}.map((name) => instance.exports[name]);
  } catch (e) {
    post({ error: String(e && e.message || e) });
    return; // never marked ready, so never given a share
  }
  let seen = Atomics.load(c, ${GEN});
  Atomics.store(c, ${READY} + tid, 1);
  post({ ready: true });
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
    // Test hook: die here, as a crashed thread would, without finishing the task.
    if (Atomics.compareExchange(c, ${QUIT}, tid + 1, 0) === tid + 1) return;
    try {
      tasks[kind](task, tid, threads);
    } catch (e) {
      Atomics.store(c, ${FAILED}, 1);
    }
    Atomics.store(c, ${FINISHED} + tid, gen);
    Atomics.add(c, ${DONE}, 1);
    Atomics.notify(c, ${DONE});
  }
}
`;

/** What the pool needs of a thread handle: node:worker_threads' Worker or a Web Worker. */
interface WorkerHandle {
  unref?(): void;
  ref?(): void;
  terminate?(): unknown;
  on?(event: string, fn: (arg: unknown) => void): unknown;
  addEventListener?(event: string, fn: (e: { data?: unknown; message?: string }) => void): unknown;
}

type WorkerFactory = (tid: number) => WorkerHandle;

/**
 * How this runtime starts a thread: node:worker_threads where it exists (Node, and Deno and Bun
 * through their Node compatibility; its workers can be unref'd, which Deno's Web Workers cannot,
 * so a finished script exits), Web Workers from a Blob URL otherwise (browsers).
 */
function workerFactory(rt: WasmRuntime): WorkerFactory | null {
  const data = (tid: number) => ({ module: rt.module, memory: rt.memory, tid, ctrl: CTRL });
  const g = globalThis as {
    Worker?: new (url: string | URL, options?: { type?: string }) => WorkerHandle & { postMessage(m: unknown): void };
    Blob?: typeof Blob;
    URL?: typeof URL;
    process?: { getBuiltinModule?: (id: string) => unknown };
  };
  let wt: { Worker: new (src: string, opts: { eval: boolean; workerData: unknown }) => WorkerHandle } | undefined;
  try {
    wt = g.process?.getBuiltinModule?.('node:worker_threads') as typeof wt;
  } catch {
    wt = undefined;
  }
  if (wt?.Worker) {
    const src = `${workerSource}\nconst wt = require('node:worker_threads');\nkilnWorker(wt.workerData, (m) => wt.parentPort.postMessage(m));\n`;
    return (tid) => new wt.Worker(src, { eval: true, workerData: data(tid) });
  }
  if (typeof g.Worker === 'function' && g.Blob && g.URL?.createObjectURL) {
    const url = g.URL.createObjectURL(new g.Blob([`${workerSource}\nself.onmessage = (e) => kilnWorker(e.data, (m) => self.postMessage(m));\n`], { type: 'text/javascript' }));
    return (tid) => {
      const w = new g.Worker!(url, { type: 'module' });
      w.postMessage(data(tid));
      return w;
    };
  }
  return null;
}

interface Slot {
  worker: WorkerHandle;
  state: 'starting' | 'ready' | 'dead';
  /** Why it died (a start-up error, an exit, a missed deadline). */
  reason: string;
  /** Callbacks of `ready()` calls waiting for this slot to settle. */
  waiters: Array<() => void>;
  /** It never came up: not restarted. */
  failedStart: boolean;
}

/** Calls `fn` on a worker's `event` (node:worker_threads emitter or Web Worker target). */
function listen(w: WorkerHandle, event: 'message' | 'error' | 'exit', fn: (arg: unknown) => void): void {
  if (typeof w.on === 'function') w.on(event, fn);
  else if (event !== 'exit') w.addEventListener?.(event, (e) => fn(event === 'message' ? e.data : e.message ?? e));
}

/** Whether this thread may block in Atomics.wait (a browser page's main thread may not). */
const CAN_BLOCK = ((): boolean => {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
})();

/** Default bound (ms) on waiting for workers: `KILN_WORKER_TIMEOUT_MS`, else 60 s. */
function defaultTimeout(): number {
  const v = Number(env('KILN_WORKER_TIMEOUT_MS'));
  return Number.isFinite(v) && v > 0 ? v : 60_000;
}

export class WorkerPool {
  private readonly ctrl: Int32Array;
  private readonly factory: WorkerFactory | null;
  /** slots[t] is worker t (t ≥ 1; this thread is 0). */
  private readonly slots: Array<Slot | undefined> = [];
  /** The most threads any task has run on so far (for diagnostics). */
  maxThreadsUsed = 1;
  /**
   * Bound in ms on waiting for workers: for `ready()`, and for a task's other shares once this
   * thread's share is done. A worker that misses it is treated as dead.
   */
  timeoutMs = defaultTimeout();

  constructor(private readonly rt: WasmRuntime) {
    this.ctrl = new Int32Array(rt.memory.buffer, CTRL, WORDS);
    this.factory = rt.shared ? workerFactory(rt) : null;
  }

  /** True when this runtime can run more than one thread. */
  get canThread(): boolean {
    return this.factory !== null;
  }

  /** Starts workers (asynchronously) until `threads` threads exist in all; replaces dead ones that once started. */
  private grow(threads: number): void {
    if (!this.factory) return;
    for (let tid = 1; tid < Math.min(threads, MAX_THREADS); tid++) {
      const old = this.slots[tid];
      if (old && (old.state !== 'dead' || old.failedStart)) continue;
      const worker = this.factory(tid);
      const slot: Slot = { worker, state: 'starting', reason: '', waiters: [], failedStart: false };
      this.slots[tid] = slot;
      const settle = (): void => {
        for (const w of slot.waiters.splice(0)) w();
      };
      listen(worker, 'message', (m) => {
        const msg = m as { ready?: boolean; error?: string } | null;
        if (msg?.ready && slot.state === 'starting') slot.state = 'ready';
        else if (msg?.error !== undefined) this.markDead(tid, slot, `could not instantiate the module: ${msg.error}`, true);
        settle();
      });
      const died = (why: string) => (arg: unknown): void => {
        if (slot.state !== 'dead') this.markDead(tid, slot, `${why} ${arg instanceof Error ? arg.message : String(arg)}`, slot.state === 'starting');
        settle();
      };
      listen(worker, 'error', died('threw:'));
      listen(worker, 'exit', died('exited with code'));
      // A sleeping worker must not keep the process alive.
      worker.unref?.();
    }
  }

  private markDead(tid: number, slot: Slot, reason: string, failedStart: boolean): void {
    slot.state = 'dead';
    slot.reason = reason;
    slot.failedStart ||= failedStart;
    if (this.slots[tid] === slot) Atomics.store(this.ctrl, READY + tid, 0);
  }

  /**
   * Resolves once `threads` threads (this one included) can run tasks: starts the missing
   * workers and waits for each to report ready. Rejects, naming the worker, when one fails to
   * start or is not ready within `timeoutMs`.
   */
  async ready(threads: number): Promise<void> {
    if (!this.factory || threads <= 1) return;
    this.grow(threads);
    const want = this.slots.slice(1, Math.min(threads, MAX_THREADS)) as Slot[];
    const pending = want.filter((s) => s.state === 'starting');
    // Keep the process alive while waiting (the workers are unref'd once they run).
    for (const s of pending) s.worker.ref?.();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        Promise.all(pending.map((s) => new Promise<void>((resolve) => s.waiters.push(resolve)))),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, this.timeoutMs); }),
      ]);
    } finally {
      clearTimeout(timer);
      for (const s of pending) s.worker.unref?.();
    }
    const bad = want.map((s, i) => [i + 1, s] as const).filter(([, s]) => s.state !== 'ready');
    if (bad.length) {
      const what = bad.map(([tid, s]) => `worker ${tid} ${s.state === 'dead' ? s.reason : `not ready after ${this.timeoutMs} ms`}`);
      throw new Error(`Kiln: threadsReady: ${threads} threads requested, but ${what.join('; ')}`);
    }
  }

  /** Test hook: worker `tid` quits at its next task without finishing it, as a crashed thread would. */
  simulateWorkerDeath(tid: number): void {
    Atomics.store(this.ctrl, QUIT, tid + 1);
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
    const gen = Atomics.add(c, GEN, 1) + 2;
    Atomics.store(c, TASK, desc);
    Atomics.store(c, KIND, TASKS.indexOf(task));
    Atomics.store(c, THREADS, t);
    Atomics.store(c, DONE, 0);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    fn(desc, 0, t);
    // Spin: the other shares take about as long as ours did. Look at the clock only now and then.
    // Past a short spin, sleep on DONE (workers notify it) where this thread may block: on a
    // machine with more runnable threads than cores, spinning here takes the core a worker needs
    // to finish its share, and a step can take many times longer.
    let deadline = 0;
    for (let spins = 0, done: number; (done = Atomics.load(c, DONE)) < t - 1; spins++) {
      if ((spins & 0xfff) !== 0xfff) continue;
      const now = performance.now();
      if (deadline === 0) deadline = now + this.timeoutMs;
      else if (now > deadline) this.abandon(task, gen, t);
      if (spins > 0x3fff && CAN_BLOCK) Atomics.wait(c, DONE, done, 1);
    }
    if (Atomics.load(c, FAILED) !== 0) {
      Atomics.store(c, FAILED, 0);
      throw new Error(`Kiln: wasm backend: a worker thread failed while running ${task}`);
    }
  }

  /** The workers of a task that missed its deadline are stopped and dropped; throws naming them. */
  private abandon(task: TaskName, gen: number, threads: number): never {
    const c = this.ctrl;
    const late: number[] = [];
    for (let tid = 1; tid < threads; tid++) {
      if (Atomics.load(c, FINISHED + tid) === gen) continue;
      late.push(tid);
      const slot = this.slots[tid];
      if (slot) {
        this.markDead(tid, slot, `missed the deadline of ${task}`, false);
        slot.worker.terminate?.();
      }
    }
    Atomics.store(c, FAILED, 0);
    throw new Error(`Kiln: wasm backend: worker thread${late.length > 1 ? 's' : ''} ${late.join(', ')} did not finish ${task} `
      + `within ${this.timeoutMs} ms of this thread's share (died or stuck); stopped, later tasks start new workers`);
  }
}
