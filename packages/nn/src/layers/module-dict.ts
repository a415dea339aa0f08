import { Module } from '../module.js';

/**
 * Modules held under string keys, PyTorch's ModuleDict: state-dict keys are `<key>.<param>`
 * (`heads.cls.weight`). Insertion order is kept, except that JavaScript lists integer-like keys
 * ('0', '1') before the others. forward is up to the owner.
 */
export class ModuleDict extends Module {
  constructor(modules: Record<string, Module> | Iterable<readonly [string, Module]> = {}) {
    super();
    const entries = Symbol.iterator in Object(modules) ? [...(modules as Iterable<readonly [string, Module]>)] : Object.entries(modules);
    for (const [k, m] of entries) this.set(k, m);
  }

  /** Adds or replaces the module under `key`. */
  set(key: string, m: Module): this {
    if (typeof key !== 'string' || key === '' || key.includes('.') || key.startsWith('_')) {
      throw new Error(`Kiln: ModuleDict.set: key must be a non-empty string without '.' that does not start with '_', got ${JSON.stringify(key)}`);
    }
    if (key in this && !this.has(key)) {
      throw new Error(`Kiln: ModuleDict.set: key '${key}' clashes with a ModuleDict property or method`);
    }
    if (!(m instanceof Module)) throw new Error(`Kiln: ModuleDict.set: the value for '${key}' is not a Module`);
    (this as unknown as Record<string, Module>)[key] = m;
    return this;
  }

  /** The module under `key`; throws naming the known keys when it is missing. */
  get(key: string): Module {
    if (!this.has(key)) throw new Error(`Kiln: ModuleDict.get: no module under '${key}' (keys: ${this.keys().join(', ') || 'none'})`);
    return (this as unknown as Record<string, Module>)[key]!;
  }

  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this, key) && (this as unknown as Record<string, unknown>)[key] instanceof Module;
  }

  /** Removes `key`; returns the module that was there. */
  pop(key: string): Module {
    const m = this.get(key);
    delete (this as unknown as Record<string, unknown>)[key];
    return m;
  }

  keys(): string[] {
    return this.namedChildren().map(([k]) => k);
  }

  values(): Module[] {
    return this.children();
  }

  entries(): [string, Module][] {
    return this.namedChildren();
  }

  get length(): number {
    return this.children().length;
  }

  /** Iterates over the keys, as PyTorch's ModuleDict does. */
  [Symbol.iterator](): Iterator<string> {
    return this.keys()[Symbol.iterator]();
  }

  override forward(): never {
    throw new Error('Kiln: ModuleDict: has no forward(); call the modules it holds instead');
  }
}
