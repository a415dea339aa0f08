/**
 * `Module`: the base of every layer and model. Parameters, buffers and submodules are
 * discovered from the module's own fields in assignment order, so state-dict keys follow
 * PyTorch's (`features.0.weight`, `bn1.running_mean`).
 */
import { checkOptions, composite, isTracing, makeResident, noGrad, Tensor, type DType } from '@kiln/tensor';
import { summary, type Summary } from './summary.js';
import { checkWeightsLoaded, noteConstructed, noteLoaded } from './without-init.js';

const parameterSet = new WeakSet<Tensor>();

/** Marks `t` as a trainable parameter (requiresGrad = true) and returns it. */
export function parameter(t: Tensor, requiresGrad = true): Tensor {
  t.requiresGrad = requiresGrad;
  parameterSet.add(t);
  return t;
}

/** True when `t` was created with `parameter()`. */
export function isParameter(t: unknown): t is Tensor {
  return t instanceof Tensor && parameterSet.has(t);
}

export type StateDict = Record<string, Tensor>;

export interface LoadStateDictOptions {
  /** Throw on missing or unexpected keys (default true). Shape mismatches always throw. */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/**
 * Base class of layers and models.
 *
 * Fields holding a `parameter(...)` tensor become parameters, fields holding a `Module` become
 * submodules, and tensors registered with `registerBuffer` become buffers; names come from
 * the field names (fields starting with `_` are private and skipped).
 *
 * ONNX hook: the constructor wraps `forward` so that, while a tracer is active (`isTracing()`),
 * each call runs inside `composite('module', [...tensor inputs, ...own parameters and
 * buffers], { module, type }, forward)` — an exporter can then map a whole layer to one node.
 * Tensor inputs are the tensor arguments, the tensors in array arguments and the tensor values
 * of plain option objects, in argument order.
 * With no tracer the wrapper calls straight through, after refusing a module built under
 * `withoutInit` whose weights are not loaded yet (see without-init.ts).
 */
export class Module {
  /** True in training mode (dropout active, batch norm uses batch statistics). */
  training = true;
  /** @internal names of buffer fields */
  _bufferNames: Set<string> = new Set();

  constructor() {
    noteConstructed(this);
    const original = this.forward;
    Object.defineProperty(this, 'forward', {
      enumerable: false,
      configurable: true,
      writable: true,
      value: (...args: unknown[]): unknown => {
        checkWeightsLoaded(this);
        if (!isTracing()) return original.apply(this, args);
        // Tensor arguments, tensors inside array arguments ([h0, c0]) and tensor values of option
        // objects ({ lengths }), so a layer mapping sees every tensor the call depends on.
        const inputs = args.flatMap((a) => (a instanceof Tensor ? [a]
          : Array.isArray(a) ? a.filter((x) => x instanceof Tensor)
            : a !== null && typeof a === 'object' && Object.getPrototypeOf(a) === Object.prototype ? Object.values(a).filter((x) => x instanceof Tensor) : []));
        const own = [...this.ownParameters().map(([, p]) => p), ...this.ownBuffers().map(([, b]) => b)];
        return composite('module', [...inputs, ...own], { module: this, type: this.constructor.name }, () => original.apply(this, args) as Tensor);
      },
    });
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  forward(..._inputs: any[]): any {
    throw new Error(`Kiln: ${this.constructor.name}: forward() is not implemented`);
  }

  /** Registers (or replaces) a buffer: state that is saved but not trained (running statistics). */
  registerBuffer(name: string, value: Tensor | null): void {
    this._bufferNames.add(name);
    (this as unknown as Record<string, unknown>)[name] = value;
  }

  /** @internal */
  private fields(): [string, unknown][] {
    return Object.keys(this)
      .filter((k) => !k.startsWith('_') && k !== 'forward' && k !== 'training')
      .map((k) => [k, (this as unknown as Record<string, unknown>)[k]]);
  }

  /** This module's own (non-recursive) parameters. */
  ownParameters(): [string, Tensor][] {
    return this.fields().filter(([k, v]) => isParameter(v) && !this._bufferNames.has(k)) as [string, Tensor][];
  }

  /** This module's own (non-recursive) buffers. */
  ownBuffers(): [string, Tensor][] {
    return this.fields().filter(([k, v]) => this._bufferNames.has(k) && v instanceof Tensor) as [string, Tensor][];
  }

  /** Direct submodules with their field names. */
  namedChildren(): [string, Module][] {
    return this.fields().filter(([, v]) => v instanceof Module) as [string, Module][];
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and all descendants, depth first, keyed by dotted path ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [k, m] of this.namedChildren()) out.push(...m.namedModules(prefix ? `${prefix}.${k}` : k));
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [path, m] of this.namedModules()) {
      for (const [k, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([path ? `${path}.${k}` : k, p]);
      }
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules()) {
      for (const [k, b] of m.ownBuffers()) out.push([path ? `${path}.${k}` : k, b]);
    }
    return out;
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /** Sets training mode on this module and all descendants. */
  train(mode = true): this {
    // a truthy string ('false') would switch dropout and batch statistics on (PyTorch raises too)
    if (typeof mode !== 'boolean') throw new Error(`Kiln: ${this.constructor.name}.train: mode must be a boolean, got ${typeof mode === 'string' ? `'${mode}'` : String(mode)}`);
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /**
   * Sets evaluation mode on this module and all descendants. On a backend with its own memory
   * (the wasm backend), float32 parameters also move there, as an optimizer moves them, so
   * inference reads the weights in place instead of copying them in on every call.
   */
  eval(): this {
    makeResident(this.parameters(), { gradSlots: false });
    return this.train(false);
  }

  /** Freezes (false) or unfreezes every parameter of this module (transfer learning). */
  requiresGrad_(flag = true): this {
    if (typeof flag !== 'boolean') throw new Error(`Kiln: ${this.constructor.name}.requiresGrad_: flag must be a boolean, got ${typeof flag === 'string' ? `'${flag}'` : String(flag)}`);
    for (const p of this.parameters()) p.requiresGrad = flag;
    return this;
  }

  /** Clears gradients (set to null by default, like PyTorch's set_to_none). */
  zeroGrad(setToNone = true): void {
    for (const p of this.parameters()) {
      if (setToNone || !p.grad) p.grad = null;
      else noGrad(() => p.grad!.zero_());
    }
  }

  /** Calls `fn` on every module (children first, then this), like PyTorch's apply. */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** Converts floating parameters and buffers to `dtype` (in place on the module; int buffers keep theirs). */
  to(dtype: DType): this {
    // as PyTorch: parameters stay floating (int32 would truncate every weight and stop their gradients)
    if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`Kiln: ${this.constructor.name}.to: dtype must be 'float32' or 'float64', got ${typeof dtype === 'string' ? `'${dtype}'` : String(dtype)}`);
    for (const m of this.modules()) {
      const rec = m as unknown as Record<string, unknown>;
      for (const [k, p] of m.ownParameters()) {
        if (p.dtype === dtype) continue;
        const q = parameter(p.detach().to(dtype), p.requiresGrad);
        q.name = p.name;
        noteLoaded(q, p); // a converted tensor still awaiting weights keeps awaiting them
        rec[k] = q;
      }
      for (const [k, b] of m.ownBuffers()) {
        if (b.dtype === dtype || b.dtype === 'int32' || b.dtype === 'bool') continue;
        rec[k] = b.to(dtype);
        noteLoaded(rec[k] as Tensor, b);
      }
    }
    return this;
  }

  double(): this {
    return this.to('float64');
  }

  float(): this {
    return this.to('float32');
  }

  /** Parameters and buffers by dotted key (the tensors themselves, not copies). */
  stateDict(): StateDict {
    // PyTorch's order: module by module, its parameters then its buffers
    const sd: StateDict = {};
    for (const [path, m] of this.namedModules()) {
      for (const [k, t] of [...m.ownParameters(), ...m.ownBuffers()]) {
        const key = path ? `${path}.${k}` : k;
        if (!(key in sd)) sd[key] = t;
      }
    }
    return sd;
  }

  /**
   * Copies values from `sd` into this module's parameters and buffers. Shape mismatches
   * always throw; missing/unexpected keys throw when strict (default) and are returned otherwise.
   */
  loadStateDict(sd: StateDict, options: LoadStateDictOptions = {}): LoadStateDictResult {
    checkOptions(`${this.constructor.name}.loadStateDict`, options, { strict: 'boolean' });
    const strict = options.strict ?? true;
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !(k in sd));
    const unexpectedKeys = Object.keys(sd).filter((k) => !(k in own));
    if (strict && (missingKeys.length || unexpectedKeys.length)) {
      const parts: string[] = [];
      if (missingKeys.length) parts.push(`missing keys: ${missingKeys.join(', ')}`);
      if (unexpectedKeys.length) parts.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
      throw new Error(`Kiln: ${this.constructor.name}.loadStateDict: ${parts.join('; ')}`);
    }
    // check every entry before copying any, so a bad checkpoint leaves the module untouched
    const pairs: [Tensor, Tensor][] = [];
    for (const [k, target] of Object.entries(own)) {
      const src = sd[k];
      if (!src) continue;
      if (!(src instanceof Tensor)) throw new Error(`Kiln: ${this.constructor.name}.loadStateDict: '${k}' is not a Tensor`);
      if (src.shape.length !== target.shape.length || src.shape.some((d, i) => d !== target.shape[i])) {
        throw new Error(
          `Kiln: ${this.constructor.name}.loadStateDict: shape mismatch for '${k}': checkpoint has [${src.shape.join(',')}], model has [${target.shape.join(',')}]`,
        );
      }
      pairs.push([target, src]);
    }
    // a tensor loaded onto itself (weights written into stateDict()'s tensors in place) copies nothing
    noGrad(() => { for (const [target, src] of pairs) { if (src !== target) target.copy_(src.detach()); noteLoaded(target); } });
    return { missingKeys, unexpectedKeys };
  }

  /** Output shapes and parameter counts for an input of `inputShape`; `String()` of it is a table. */
  summary(inputShape: readonly number[]): Summary {
    return summary(this, inputShape);
  }

  /** One line per module for printing, like PyTorch's repr. */
  extraRepr(): string {
    return '';
  }

  toString(): string {
    const kids = this.namedChildren();
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (!kids.length) return `${head})`;
    const body = kids.map(([k, m]) => `  (${k}): ${m.toString().split('\n').join('\n  ')}`).join('\n');
    return `${head}\n${body}\n)`;
  }
}
