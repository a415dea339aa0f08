/**
 * A pool of worker threads that share the Wasm memory and run shares of a task.
 *
 * Each worker instantiates the same module over the same shared memory and sleeps on a
 * generation counter. The caller writes a task — a kernel, its descriptor and a number of
 * shares —, bumps the counter, and then every thread, the caller included, claims shares one at
 * a time from a shared counter and runs `kernel(desc, share, shares, thread)` until none are
 * left. The caller never waits for a worker to wake up: a worker that is asleep, descheduled or
 * still starting simply claims nothing, and the caller runs its shares itself — so a task never
 * costs more than on one thread plus a few atomic operations. It waits only for shares that a
 * worker has claimed and not yet finished. Everything goes through Atomics on shared memory,
 * never through messages, because a training loop is synchronous JavaScript: it never yields to
 * the event loop, so a message from a worker would not be seen until it ended.
 *
 * Results never depend on which thread ran a share, or on how many threads ran: a kernel's
 * share is a fixed part of the work given (share, shares), and the number of shares is chosen by
 * the caller. Kernels that need scratch memory index it by share (at most MAX_THREADS shares) or
 * by the fourth argument, the thread running it (0 is the caller).
 *
 * Workers are started lazily (the first task that wants them, or `ready()`) and report
 * readiness through shared flags and one message; until they are ready, the caller runs every
 * share. `ready()` resolves once the workers exist (it never guesses with a sleep).
 *
 * A worker that dies or hangs mid-share must not hang the caller: the caller's wait is bounded
 * (`timeoutMs` past the end of its own shares), then the missing workers are stopped and
 * dropped (a later task starts fresh ones) and the task throws an error naming them.
 *
 * Control words (i32, at CTRL): 0 generation (odd while a task is being written), 1 shares
 * finished by workers, 2 task descriptor, 3 threads the task is offered to, 4 failure flag,
 * 5 task kind (an index into TASKS), 6 test hook (tid + 1 of a worker that must quit after
 * claiming a share, without finishing it), 7 shares, 8 next share to claim (tagged with the
 * task's generation in the high bits, so a worker that read an older task cannot claim a share
 * of a newer one), 16 + t: worker t is ready, 16 + MAX_THREADS + t: the generation of the last
 * task worker t began claiming, 16 + 2·MAX_THREADS + t: the last one it finished.
 */
import { CTRL, MAX_THREADS, env, type WasmRuntime } from './runtime.js';

const GEN = 0;
const DONE = 1;
const TASK = 2;
const THREADS = 3;
const FAILED = 4;
const KIND = 5;
const QUIT = 6;
const SHARES = 7;
const NEXT = 8;
const READY = 16;
const CLAIMING = READY + MAX_THREADS;
const FINISHED = CLAIMING + MAX_THREADS;
const WORDS = FINISHED + MAX_THREADS;
/** Most shares per task: the low 8 bits of NEXT count them, the 23 above tag the task. */
export const MAX_SHARES = 255;

/** The tag of the task published at (even) generation `gen`. */
function tagOf(gen: number): number {
  return (gen >>> 1) & 0x7fffff;
}

/**
 * Claims the next share of the task tagged `tag`: its index, or -1 when none is left or a newer
 * task has replaced it. As source text for the worker's program; this thread runs the copy below
 * (no `new Function`, which a page's content security policy may forbid).
 */
const claimSource = `function claim(c, tag, shares) {
  for (;;) {
    const v = Atomics.load(c, ${NEXT});
    if (v >>> 8 !== tag || (v & 0xff) >= shares) return -1;
    if (Atomics.compareExchange(c, ${NEXT}, v, v + 1) === v) return v & 0xff;
  }
}`;
function claim(c: Int32Array, tag: number, shares: number): number {
  for (;;) {
    const v = Atomics.load(c, NEXT);
    if (v >>> 8 !== tag || (v & 0xff) >= shares) return -1;
    if (Atomics.compareExchange(c, NEXT, v, v + 1) === v) return v & 0xff;
  }
}

/** The Wasm exports a task can run, each `(desc, tid, threads)`. */
export const TASKS = ['gemmTask', 'convTask', 'depthwiseTask', 'lstmForwardTask', 'lstmBackwardTask', 'poolTask', 'optimTask', 'columnSumTask', 'channelTask', 'tapsTask', 'softmaxTask', 'indexRowsTask', 'layerNormTask', 'stridedCopyTask', 'gemvTask'] as const;
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
  ${claimSource}
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
    let task = Atomics.load(c, ${TASK});
    let kind = Atomics.load(c, ${KIND});
    let shares = Atomics.load(c, ${SHARES});
    // A newer task was published while we read: read again, so no task runs torn.
    if (Atomics.load(c, ${GEN}) !== gen) continue;
    seen = gen;
    if (tid >= threads) continue;
    Atomics.store(c, ${CLAIMING} + tid, gen);
    let share;
    while ((share = claim(c, ((gen >>> 1) & 0x7fffff), shares)) >= 0) {
      // Test hook: die here, holding a share, as a crashed thread would.
      if (Atomics.compareExchange(c, ${QUIT}, tid + 1, 0) === tid + 1) return;
      if (Atomics.load(c, ${GEN}) !== gen) {
        // Descheduled across 2^23 tasks, the tag came round and the share is of the newest task,
        // whose fields were all written before its first share could be claimed: run that one.
        while (((gen = Atomics.load(c, ${GEN})) & 1) === 1);
        seen = gen;
        task = Atomics.load(c, ${TASK});
        kind = Atomics.load(c, ${KIND});
        shares = Atomics.load(c, ${SHARES});
        Atomics.store(c, ${CLAIMING} + tid, gen);
      }
      try {
        tasks[kind](task, share, shares, tid);
      } catch (e) {
        Atomics.store(c, ${FAILED}, 1);
      }
      Atomics.add(c, ${DONE}, 1);
      Atomics.notify(c, ${DONE});
    }
    Atomics.store(c, ${FINISHED} + tid, gen);
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
   * Runs the Wasm export `task(desc, share, shares, thread)` for every share in [0, shares),
   * on up to `threads` threads (this one included), and returns when all are done.
   */
  run(task: TaskName, desc: number, shares: number, threads = shares): void {
    const fn = this.rt.exports[task];
    const c = this.ctrl;
    if (!(shares >= 1 && shares <= MAX_SHARES && Number.isInteger(shares))) {
      throw new Error(`Kiln: wasm backend: ${task} asked for ${shares} shares, expected an integer in [1, ${MAX_SHARES}]`);
    }
    threads = Math.min(threads, shares, MAX_THREADS);
    if (threads > 1) this.grow(threads);
    let t = 1;
    while (t < threads && Atomics.load(c, READY + t) === 1) t++;
    if (t === 1) {
      for (let s = 0; s < shares; s++) fn(desc, s, shares, 0);
      return;
    }
    if (t > this.maxThreadsUsed) this.maxThreadsUsed = t;
    // Publish like a seqlock: odd while the fields change, even once they are complete. NEXT is
    // written last, so a share can only be claimed once the fields are in place.
    const gen = Atomics.add(c, GEN, 1) + 2;
    Atomics.store(c, TASK, desc);
    Atomics.store(c, KIND, TASKS.indexOf(task));
    Atomics.store(c, THREADS, t);
    Atomics.store(c, SHARES, shares);
    Atomics.store(c, DONE, 0);
    Atomics.store(c, NEXT, tagOf(gen) << 8);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    let mine = 0;
    let error: unknown = null;
    // The test hook needs a worker to claim a share, so this thread leaves them all to it.
    if (Atomics.load(c, QUIT) === 0) {
      try {
        for (let s: number; (s = claim(c, tagOf(gen), shares)) >= 0; mine++) fn(desc, s, shares, 0);
      } catch (e) {
        // Take the unclaimed shares off the table and wait for those the workers hold: the next
        // task would overwrite their operands.
        error = e;
        for (mine++; claim(c, tagOf(gen), shares) >= 0;) mine++;
      }
    }
    // Spin while workers finish the shares they hold: about one share's time. Look at the clock
    // only now and then. Past a short spin, sleep on DONE (workers notify it) where this thread
    // may block: on a machine with more runnable threads than cores, spinning here takes the core
    // a worker needs to finish its share.
    const need = shares - mine;
    let deadline = 0;
    for (let spins = 0, done: number; (done = Atomics.load(c, DONE)) < need; spins++) {
      if ((spins & 0xfff) !== 0xfff) continue;
      const now = performance.now();
      if (deadline === 0) deadline = now + this.timeoutMs;
      else if (now > deadline) this.abandon(task, gen, t);
      if (spins > 0x3fff && CAN_BLOCK) Atomics.wait(c, DONE, done, 1);
    }
    if (error !== null) throw error;
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
      if (Atomics.load(c, CLAIMING + tid) !== gen || Atomics.load(c, FINISHED + tid) === gen) continue;
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
