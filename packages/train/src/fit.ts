import { Tensor, checkOptions, isOptionsObject, noGrad, stepScope, type OptionKind } from '@kiln/tensor';
import { Module, saveSafetensors, type StateDict } from '@kiln/nn';
import { clipGradNorm, type Optimizer, type LRScheduler } from '@kiln/optim';
import { makeReporter, type ProgressMode } from './progress.js';
import { saveLearningCurves } from './curves.js';

/**
 * A metric over a whole epoch's outputs and targets (e.g. `(o, y) => accuracy(predictions(o), y)`).
 * It runs after the epoch's batches, outside any step scope, on outputs that left their scopes:
 * it may keep them.
 */
export type Metric = (output: Tensor, target: Tensor) => number;
/**
 * The training loss of a batch. It runs inside the step's scope (see `FitOptions.stepScope`):
 * a tensor it stores for later must go through `keep` of @kiln/tensor.
 */
export type LossFn = (output: Tensor, target: Tensor) => Tensor;

/** Per-epoch record of a training run. */
export interface History {
  epochs: number[];
  trainLoss: number[];
  devLoss: number[];
  /** `name` for train metrics is `train <name>`, dev metrics keep their name. */
  metrics: Record<string, number[]>;
  lr: number[];
  seconds: number[];
  bestEpoch?: number;
  stoppedEarly: boolean;
  /** With `clipGradNorm`: each epoch's largest gradient norm before clipping. */
  gradNorm?: number[];
}

/** A recurrent state: a tensor (RNN/GRU h) or nested arrays of them (LSTM [h, c], per layer). */
export type RecurrentState = Tensor | readonly RecurrentState[];

/**
 * A model that carries a recurrent state from one call to the next (`fit`'s truncated BPTT,
 * sampling): `forwardWithState(x, null)` starts from its initial state.
 */
export interface Stateful {
  forwardWithState(x: Tensor, state: RecurrentState | null): [Tensor, RecurrentState];
}

/**
 * Truncated backpropagation through time: each batch is cut into windows of `steps` time steps;
 * after each window fit runs backward and an optimizer step, and the state carried into the next
 * window is detached, so gradients flow back at most `steps` steps. Without `tbptt`, fit runs
 * backpropagation through the whole sequence (one forward and backward per batch).
 */
export interface TbpttOptions {
  /** Time steps per window (k). */
  steps: number;
  /** The time dim of inputs and targets (default 1: [batch, time, ...]; 0 for time-major). */
  timeDim?: number;
  /**
   * 'batch' (default): each batch starts from the initial state. 'epoch': the state carries on
   * (detached) into the next batch — for batches that continue the same streams, as in a language
   * model over one long text — and resets at each epoch. Every batch must then hold the same
   * number of streams (the recurrent layer rejects a state of another batch size).
   */
  carry?: 'batch' | 'epoch';
}

/** Detaches every tensor of a recurrent state (the state's values stay, its history goes). */
export function detachState(state: RecurrentState): RecurrentState {
  return state instanceof Tensor ? state.detach() : state.map(detachState);
}

export interface EpochLogs { epoch: number; trainLoss: number; devLoss?: number; metrics: Record<string, number>; lr: number; seconds: number }

/**
 * Hooks of `fit`. They run between steps, outside any step scope, and receive numbers only; a
 * tensor a callback reads from the model (an attention map) is one the model kept (`keep`), or
 * was made in a step with `stepScope: false`, and stays valid while the callback holds it.
 */
export interface Callbacks {
  onEpochStart?(epoch: number): void | Promise<void>;
  onBatchEnd?(batch: number, loss: number): void;
  /** Returning `false` stops training. */
  onEpochEnd?(logs: EpochLogs, history: History): void | boolean | Promise<void | boolean>;
  onTrainEnd?(history: History): void | Promise<void>;
}

export interface EarlyStopping {
  /** A dev metric name, or 'loss' for the dev loss. */
  monitor: string;
  /**
   * Epochs without improvement to tolerate (default 0). Like PyTorch's ReduceLROnPlateau: with
   * patience 2 the first two epochs without improvement are ignored and training stops at the third.
   */
  patience?: number;
  /** An improvement must beat the best value by more than this (default 0). */
  minDelta?: number;
  /** Default 'min' for 'loss', 'max' for metrics. */
  mode?: 'min' | 'max';
  /** Load the best epoch's weights (parameters and buffers) back at the end of training (default true). */
  restoreBest?: boolean;
}

export interface FitOptions {
  train: Iterable<Tensor[]>;
  dev?: Iterable<Tensor[]>;
  loss: LossFn;
  optimizer: Optimizer;
  epochs: number;
  /** Stepped once per epoch. */
  schedule?: LRScheduler;
  metrics?: Record<string, Metric>;
  callbacks?: Callbacks | Callbacks[];
  progress?: ProgressMode;
  /** Where plain progress lines go (default stdout). */
  log?: (s: string) => void;
  earlyStopping?: EarlyStopping;
  /** Save `dir/<name>-epoch<N>.safetensors` every `every` epochs (atomic). */
  checkpoint?: { dir: string; every: number; name?: string };
  /** Write `<prefix>.json` and `<prefix>.svg` learning curves at the end. */
  curves?: string;
  /** Also compute metrics on the training batches (default false, saves time). */
  trainMetrics?: boolean;
  /**
   * Rescale the gradients before each optimizer step so their joint L2 norm is at most this
   * (`clipGradNorm` of @kiln/optim); `Infinity` clips nothing but still records `history.gradNorm`.
   */
  clipGradNorm?: number;
  /** Truncated BPTT for a `Stateful` model (see `TbpttOptions`). */
  tbptt?: TbpttOptions;
  /**
   * Run each step (each tbptt window) and each evaluation batch in `stepScope` of @kiln/tensor
   * (default true): the forward pass's outputs stay in the backend's memory and all go back when
   * the step ends, so a tensor made in a step and used after it throws a clear error unless it
   * was returned or passed to `keep` (Kiln's modules keep what they store, such as
   * `MultiheadAttention`'s `lastWeights`). `false` runs the steps as plain code, for a model
   * that keeps forward outputs in ways it cannot mark (same results, each step a little slower).
   */
  stepScope?: boolean;
}

export interface EvalResult { loss: number; metrics: Record<string, number> }

export interface EvaluateOptions {
  /** Run each batch in `stepScope` of @kiln/tensor (default true; see `FitOptions.stepScope`). */
  stepScope?: boolean;
}

/**
 * A batch must be `[input, target, ...]`: a dataset of inputs alone (`new TensorDataset(x)`) would
 * reach the loss with an undefined target and fail there with a bare TypeError.
 */
function checkBatch(fn: string, b: number, batch: unknown): void {
  if (!Array.isArray(batch) || batch.length < 2 || batch[0] === undefined || batch[1] === undefined) {
    const got = Array.isArray(batch) ? `${batch.length} entr${batch.length === 1 ? 'y' : 'ies'}` : batch instanceof Tensor ? 'a Tensor' : typeof batch;
    throw new Error(`Kiln: ${fn}: batch ${b} must be [input, target] (e.g. from new TensorDataset(x, y)), got ${got}`);
  }
}

/** `fn()`, in a step scope when `scoped`. */
const maybeScoped = <T>(scoped: boolean, fn: () => T): T => (scoped ? stepScope(fn) : fn());

function cloneState(sd: StateDict): StateDict {
  const out: StateDict = {};
  for (const [k, v] of Object.entries(sd)) out[k] = v.detach().clone();
  return out;
}

/**
 * Runs `model` (in eval mode, no grad) over `loader`, each batch in a `stepScope` unless
 * `options.stepScope` is false; loss averaged per example, metrics over all outputs.
 */
export function evaluate(model: Module, loader: Iterable<Tensor[]>, metrics: Record<string, Metric> = {}, loss?: LossFn, options: EvaluateOptions = {}): EvalResult {
  checkOptions('evaluate', options, { stepScope: 'boolean' });
  if (!isIterable(loader)) throw new Error(`Kiln: evaluate: loader must be an iterable of [input, target] batches (e.g. a DataLoader), got ${String(loader)}`);
  // metrics and loss are positional: an options object or a loss in the metrics slot would fail only after the whole pass
  if (metrics === null || typeof metrics !== 'object' || Array.isArray(metrics)) throw new Error(`Kiln: evaluate: metrics must be an object of functions, got ${typeof metrics === 'function' ? 'a function (pass the loss as the 4th argument)' : String(metrics)}`);
  for (const [k, m] of Object.entries(metrics)) if (typeof m !== 'function') throw new Error(`Kiln: evaluate: metric '${k}' must be a function (output, target) => number, got ${String(m)}`);
  if (loss !== undefined && typeof loss !== 'function') throw new Error(`Kiln: evaluate: loss must be a function (output, target) => Tensor, got ${String(loss)}`);
  const scoped = options.stepScope ?? true;
  const wasTraining = model.training;
  model.eval();
  const outs: Tensor[] = [], ys: Tensor[] = [];
  const hasMetrics = Object.keys(metrics).length > 0;
  let total = 0, count = 0, batches = 0;
  try {
    noGrad(() => {
      for (const batch of loader) {
        checkBatch('evaluate', ++batches, batch);
        const [x, y] = batch;
        // Each batch in a step scope: the activations stay in the backend's memory; the output is returned, so it stays.
        const [o, l] = maybeScoped(scoped, (): [Tensor, number] => {
          const out = model.forward(x) as Tensor;
          return [out, loss ? (loss(out, y!).item() as number) : 0];
        });
        const n = o.shape[0] ?? 1;
        if (loss) total += l * n;
        count += n;
        if (hasMetrics) { outs.push(o); ys.push(y!); }
      }
    });
  } finally {
    model.train(wasTraining);
  }
  const result: Record<string, number> = {};
  // metrics see all outputs at once; without metrics nothing is concatenated (so batches may differ in shape, e.g. sequence length)
  if (hasMetrics && outs.length > 0) {
    const o = concatRows(outs), y = concatRows(ys);
    for (const [k, m] of Object.entries(metrics)) result[k] = m(o, y);
  }
  return { loss: count > 0 && loss ? total / count : NaN, metrics: result };
}

function concatRows(ts: Tensor[]): Tensor {
  if (ts.length === 1) return ts[0]!;
  const first = ts[0]!, n = ts.reduce((a, t) => a + t.shape[0]!, 0);
  const data = first.dataSync(), Ctor = data.constructor as new (n: number) => Float32Array;
  const out = new Ctor(ts.reduce((a, t) => a + t.dataSync().length, 0));
  let off = 0;
  for (const t of ts) { out.set(t.dataSync() as Float32Array, off); off += t.dataSync().length; }
  return new Tensor(out as never, [n, ...first.shape.slice(1)], first.dtype);
}

const isIterable = (v: unknown): boolean => v != null && typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';

const iterableKind = (v: unknown): string | null => (isIterable(v) ? null : 'an iterable of [input, target] batches (e.g. a DataLoader)');

/** Kinds of fit's options (checked by @kiln/tensor's shared checkOptions); nested objects are checked key by key below. */
const FIT_SPEC: Record<string, OptionKind> = {
  train: iterableKind,
  dev: iterableKind,
  loss: 'function',
  optimizer: (v) => {
    const opt = v as Partial<Optimizer> | null;
    return opt && typeof opt === 'object' && typeof opt.step === 'function' && Array.isArray(opt.paramGroups) ? null : 'an Optimizer (e.g. new SGD(model.parameters(), { lr }))';
  },
  epochs: 'number',
  schedule: (v) => (v !== null && typeof v === 'object' && typeof (v as { step?: unknown }).step === 'function' ? null : 'an LRScheduler'),
  metrics: 'object',
  callbacks: (v) => (v !== null && typeof v === 'object' && (!Array.isArray(v) || v.every((c) => c !== null && typeof c === 'object' && !Array.isArray(c))) ? null : 'a Callbacks object or an array of them'),
  progress: (v) => (v === 'auto' || v === 'bar' || v === 'lines' || v === false ? null : "'auto', 'bar', 'lines' or false"),
  log: 'function',
  earlyStopping: 'object',
  checkpoint: 'object',
  curves: 'string',
  trainMetrics: 'boolean',
  clipGradNorm: 'number',
  tbptt: 'object',
  stepScope: 'boolean',
};
const EARLY_STOPPING_SPEC: Record<string, OptionKind> = { monitor: 'string', patience: 'int', minDelta: 'number', mode: ['min', 'max'], restoreBest: 'boolean' };
const CHECKPOINT_SPEC: Record<string, OptionKind> = { dir: 'string', every: 'int', name: 'string' };
const TBPTT_SPEC: Record<string, OptionKind> = { steps: 'int', timeDim: 'int', carry: ['batch', 'epoch'] };
const CALLBACKS_SPEC: Record<string, OptionKind> = { onEpochStart: 'function', onBatchEnd: 'function', onEpochEnd: 'function', onTrainEnd: 'function' };

/** Checks a nested option object of fit, naming its keys `<name>.<key>` (e.g. `tbptt.steps`). */
function checkNested(name: string, v: unknown, spec: Record<string, OptionKind>): void {
  if (v === undefined) return;
  const prefixed = (o: object) => Object.fromEntries(Object.entries(o).map(([k, x]) => [`${name}.${k}`, x]));
  checkOptions('fit', prefixed(v as object), Object.fromEntries(Object.entries(spec).map(([k, kind]) => [`${name}.${k}`, kind])));
}

/** Validates fit's options up front, so a bad option fails before any training time is spent. */
function checkFitOptions(model: Module, o: FitOptions): void {
  const fail = (msg: string): never => { throw new Error(`Kiln: fit: ${msg}`); };
  if (!model || typeof (model as { forward?: unknown }).forward !== 'function') fail(`model must be a Module with a forward method, got ${String(model)}`);
  if (!o || typeof o !== 'object') fail('options are required: { train, loss, optimizer, epochs, ... }');
  // unknown keys and wrong types: the shared checker; the semantic checks follow
  checkOptions('fit', o, FIT_SPEC);
  checkNested('earlyStopping', o.earlyStopping, EARLY_STOPPING_SPEC);
  checkNested('checkpoint', o.checkpoint, CHECKPOINT_SPEC);
  checkNested('tbptt', o.tbptt, TBPTT_SPEC);
  const cbList = o.callbacks === undefined ? [] : Array.isArray(o.callbacks) ? o.callbacks : [o.callbacks];
  // plain callback objects must not hold misspelt hooks; class instances may carry other members
  cbList.forEach((cb, i) => { if (isOptionsObject(cb)) checkNested(Array.isArray(o.callbacks) ? `callbacks[${i}]` : 'callbacks', cb, CALLBACKS_SPEC); });
  if (!Number.isInteger(o.epochs) || o.epochs < 1) fail(`epochs must be a positive integer, got ${String(o.epochs)}`);
  if (!isIterable(o.train)) fail(`train must be an iterable of [input, target] batches (e.g. a DataLoader), got ${String(o.train)}`);
  if (o.dev !== undefined && !isIterable(o.dev)) fail(`dev must be an iterable of [input, target] batches (e.g. a DataLoader), got ${String(o.dev)}`);
  if (typeof o.loss !== 'function') fail(`loss must be a function (output, target) => Tensor, got ${String(o.loss)}`);
  if (!o.optimizer || typeof o.optimizer.step !== 'function' || !Array.isArray(o.optimizer.paramGroups)) fail('optimizer must be an Optimizer (e.g. new SGD(model.parameters(), { lr }))');
  for (const [k, m] of Object.entries(o.metrics ?? {})) if (typeof m !== 'function') fail(`metric '${k}' must be a function (output, target) => number`);
  const es = o.earlyStopping;
  if (es) {
    if (!o.dev) fail(`earlyStopping monitors '${es.monitor}' on the dev set, but no dev set was given`);
    const names = Object.keys(o.metrics ?? {});
    // 'loss' means the dev loss; a metric of that name would be the one a reader expects to be watched
    if (es.monitor === 'loss' && names.includes('loss')) fail("earlyStopping monitors 'loss', which is both the dev loss and a metric named 'loss'; rename the metric");
    if (es.monitor !== 'loss' && !names.includes(es.monitor)) {
      fail(`earlyStopping monitors '${es.monitor}', which is not 'loss' or one of the metrics [${names.join(', ')}]`);
    }
    if (es.patience !== undefined && !(Number.isInteger(es.patience) && es.patience >= 0)) fail(`earlyStopping.patience must be an integer >= 0, got ${es.patience}`);
    if (es.minDelta !== undefined && !(es.minDelta >= 0)) fail(`earlyStopping.minDelta must be >= 0, got ${es.minDelta}`);
  }
  const c = o.checkpoint;
  if (c) {
    if (typeof c.dir !== 'string' || c.dir === '') fail(`checkpoint.dir must be a directory path, got ${String(c.dir)}`);
    if (!(Number.isInteger(c.every) && c.every >= 1)) fail(`checkpoint.every must be a positive integer (epochs), got ${String(c.every)}`);
    if (c.name !== undefined && (c.name === '' || /[\\/]/.test(c.name))) fail(`checkpoint.name must be a file name without slashes, got '${c.name}'`);
  }
  const sched = o.schedule as { optimizer?: unknown } | undefined;
  if (sched?.optimizer !== undefined && sched.optimizer !== o.optimizer) fail('schedule drives a different optimizer than the one given to fit (its lr changes would not reach training)');
  if (o.curves !== undefined && (typeof o.curves !== 'string' || o.curves === '')) fail(`curves must be a path prefix, got ${String(o.curves)}`);
  if (o.clipGradNorm !== undefined && !(typeof o.clipGradNorm === 'number' && o.clipGradNorm > 0)) fail(`clipGradNorm must be a number > 0 (a max gradient norm), got ${String(o.clipGradNorm)}`);
  const tb = o.tbptt;
  if (tb !== undefined) {
    if (!(Number.isInteger(tb.steps) && tb.steps >= 1)) fail(`tbptt.steps must be a positive integer, got ${String(tb.steps)}`);
    if (tb.timeDim !== undefined && !(Number.isInteger(tb.timeDim) && tb.timeDim >= 0)) fail(`tbptt.timeDim must be an integer >= 0, got ${String(tb.timeDim)}`);
    if (typeof (model as Partial<Stateful>).forwardWithState !== 'function') fail('tbptt needs a Stateful model: forwardWithState(x, state) => [output, state]');
  }
}

/**
 * Trains `model` for `epochs`, returning the per-epoch history. Each step (and each tbptt window)
 * runs in `stepScope` (see `@kiln/tensor`): a tensor the model (or the loss) makes in a step and
 * stores for a later one must be passed to `keep`, else using it later throws a clear error
 * (module state updated in place, as BatchNorm's running statistics, needs nothing). A model
 * that stores forward outputs in ways it cannot mark trains with `stepScope: false`.
 */
export async function fit(model: Module, options: FitOptions): Promise<History> {
  checkFitOptions(model, options);
  const { train, dev, loss, optimizer, epochs, tbptt: tb } = options;
  const cbs = options.callbacks === undefined ? [] : Array.isArray(options.callbacks) ? options.callbacks : [options.callbacks];
  const metrics = options.metrics ?? {};
  const es = options.earlyStopping;
  const esMode = es?.mode ?? (es?.monitor === 'loss' ? 'min' : 'max');
  const save = options.checkpoint;
  const scoped = options.stepScope ?? true;
  const history: History = { epochs: [], trainLoss: [], devLoss: [], metrics: {}, lr: [], seconds: [], stoppedEarly: false };
  const reporter = makeReporter(options.progress ?? 'auto', options.log);
  let best = esMode === 'min' ? Infinity : -Infinity, bestState: StateDict | null = null, waited = 0;
  // the bar's total: the loader's length, else the count seen in the previous epoch
  let lastBatches = 0;
  const batchesOf = (it: Iterable<Tensor[]>) => {
    const n = 'length' in (it as object) ? Number((it as unknown as { length: number }).length) : NaN;
    return Number.isInteger(n) && n >= 0 ? n : lastBatches;
  };
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      for (const cb of cbs) await cb.onEpochStart?.(epoch);
      const t0 = performance.now();
      const lr = optimizer.paramGroups[0]?.lr ?? NaN;
      model.train();
      reporter.startEpoch(epoch, epochs, batchesOf(train));
      let total = 0, count = 0, b = 0, maxNorm = 0;
      let carried: RecurrentState | null = null;
      // one forward, backward and update; returns the loss value
      const update = (out: Tensor, target: Tensor, where: string): number => {
        const l = loss(out, target);
        const v = l.item() as number;
        // checked before the update, so the weights stay those of the last finite step
        if (!Number.isFinite(v)) throw new Error(`Kiln: fit: loss became ${v} at epoch ${epoch}, batch ${b + 1}${where} (lr ${lr})`);
        l.backward();
        if (options.clipGradNorm !== undefined) maxNorm = Math.max(maxNorm, clipGradNorm(optimizer.paramGroups.flatMap((g) => g.params), options.clipGradNorm));
        optimizer.step();
        return v;
      };
      for (const batch of train) {
        checkBatch('fit', b + 1, batch);
        const [x, y] = batch;
        let v: number, n: number;
        if (tb) {
          if ((tb.carry ?? 'batch') === 'batch') carried = null;
          const td = tb.timeDim ?? 1;
          const steps = x!.shape[td];
          if (steps === undefined || y!.shape[td] !== steps) {
            throw new Error(`Kiln: fit: tbptt cuts inputs and targets along time dim ${td}, but batch ${b + 1} has input [${x!.shape.join(',')}] and target [${y!.shape.join(',')}]`);
          }
          n = x!.shape[td === 0 ? 1 : 0] ?? 1;
          let sum = 0;
          for (let t0 = 0; t0 < steps; t0 += tb.steps) {
            const len = Math.min(tb.steps, steps - t0);
            // The window's activations are given back when the scope ends; the carried state is returned, so it stays.
            const [wv, next] = maybeScoped(scoped, (): [number, RecurrentState] => {
              optimizer.zeroGrad();
              const [out, state] = (model as unknown as Stateful).forwardWithState(x!.narrow(td, t0, len), carried);
              return [update(out, y!.narrow(td, t0, len), `, steps ${t0}–${t0 + len - 1}`), detachState(state)];
            });
            sum += wv * len;
            carried = next;
          }
          v = sum / steps;
        } else {
          // One step in a step scope: its activations live in the backend's memory (where it
          // has any) and all go back when the step ends; only numbers leave it.
          [v, n] = maybeScoped(scoped, (): [number, number] => {
            optimizer.zeroGrad();
            const out = model.forward(x) as Tensor;
            return [update(out, y!, ''), out.shape[0] ?? 1];
          });
        }
        total += v * n; count += n; b++;
        reporter.update(b, total / count);
        for (const cb of cbs) cb.onBatchEnd?.(b, v);
      }
      if (b === 0) {
        throw new Error(`Kiln: fit: train gave no batches in epoch ${epoch}${epoch > 1 ? ' (a one-shot iterator? pass a DataLoader or an array, which can be iterated every epoch)' : ''}`);
      }
      lastBatches = b;
      options.schedule?.step();
      const logs: EpochLogs = { epoch, trainLoss: total / count, metrics: {}, lr, seconds: 0 };
      if (options.trainMetrics && Object.keys(metrics).length > 0) {
        for (const [k, v] of Object.entries(evaluate(model, train, metrics, undefined, { stepScope: scoped }).metrics)) logs.metrics[`train ${k}`] = v;
      }
      if (dev) {
        const r = evaluate(model, dev, metrics, loss, { stepScope: scoped });
        logs.devLoss = r.loss;
        Object.assign(logs.metrics, r.metrics);
      }
      logs.seconds = (performance.now() - t0) / 1000;
      history.epochs.push(epoch);
      history.trainLoss.push(logs.trainLoss);
      history.devLoss.push(logs.devLoss ?? NaN);
      history.lr.push(lr);
      history.seconds.push(logs.seconds);
      if (options.clipGradNorm !== undefined) (history.gradNorm ??= []).push(maxNorm);
      for (const [k, v] of Object.entries(logs.metrics)) (history.metrics[k] ??= new Array<number>(epoch - 1).fill(NaN)).push(v);
      const parts = [`epoch ${epoch}/${epochs}`, `loss ${logs.trainLoss.toFixed(4)}`];
      if (logs.devLoss !== undefined) parts.push(`dev loss ${logs.devLoss.toFixed(4)}`);
      for (const [k, v] of Object.entries(logs.metrics)) parts.push(`${k} ${v.toFixed(4)}`);
      parts.push(`lr ${lr.toPrecision(3)}`, `${logs.seconds.toFixed(1)}s`);
      reporter.endEpoch(parts.join(' · '));
      if (save && epoch % save.every === 0) {
        const { join } = await import('node:path');
        const { mkdir } = await import('node:fs/promises');
        await mkdir(save.dir, { recursive: true });
        await saveSafetensors(join(save.dir, `${save.name ?? 'model'}-epoch${epoch}.safetensors`), model.stateDict(), { epoch: String(epoch) });
      }
      let stop = false;
      for (const cb of cbs) if ((await cb.onEpochEnd?.(logs, history)) === false) stop = true;
      if (es) {
        const v = es.monitor === 'loss' ? logs.devLoss! : logs.metrics[es.monitor]!;
        const delta = es.minDelta ?? 0;
        const improved = esMode === 'min' ? v < best - delta : v > best + delta;
        if (improved) {
          best = v; waited = 0; history.bestEpoch = epoch;
          if (es.restoreBest ?? true) bestState = cloneState(model.stateDict());
        } else if (++waited > (es.patience ?? 0)) {
          history.stoppedEarly = true;
          stop = true;
        }
      }
      if (stop) break;
    }
  } finally {
    reporter.stop();
  }
  if (bestState) model.loadStateDict(bestState);
  if (options.curves) await saveLearningCurves(history, options.curves);
  for (const cb of cbs) await cb.onTrainEnd?.(history);
  return history;
}
