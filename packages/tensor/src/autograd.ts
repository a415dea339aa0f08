/**
 * Reverse-mode autograd on a dynamic tape. Each op that has an input requiring grad links its
 * output to a {@link GradNode}; `backward` sorts the graph topologically from the root, seeds
 * the root's gradient and walks the order in reverse, adding each node's input gradients into
 * a map, so a tensor used twice receives both contributions. Leaves accumulate into `.grad`.
 */
import type { Tensor } from './tensor.js';
import { checkOptions } from './options.js';
import { closePassScope, escape, openPassScope, passMark, releaseUnreferenced } from './activations.js';

export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Gradients for each input given the output's gradient; null where none flows. */
  readonly backward: (grad: Tensor) => ReadonlyArray<Tensor | null | undefined>;
  /** Versions of the inputs' buffers and then the output's when the op ran (see bumpVersion). */
  readonly versions?: readonly number[];
}

/**
 * In-place updates bump a per-buffer version (views share their buffer, so they share it);
 * backward refuses a node whose inputs or output changed since the op ran, since its
 * gradient would silently be computed from the new values.
 */
const bufferVersions = new WeakMap<object, number>();

/** The number of in-place updates `buffer` has had. */
export function versionOf(buffer: object): number {
  return bufferVersions.get(buffer) ?? 0;
}

/** Gives `to` the version of `from` (a tensor's values moved to a new buffer, see activations.ts). */
export function carryVersion(from: object, to: object): void {
  const v = bufferVersions.get(from);
  if (v !== undefined) bufferVersions.set(to, v);
}

/** Records an in-place update of `buffer`. */
export function bumpVersion(buffer: object): void {
  bufferVersions.set(buffer, versionOf(buffer) + 1);
}

function checkVersions(t: Tensor, node: GradNode): void {
  const v = node.versions;
  if (!v) return;
  const tensors = [...node.inputs, t];
  tensors.forEach((x, i) => {
    if (versionOf(x._data) !== v[i]) {
      const which = i < node.inputs.length ? `input ${i}` : 'output';
      throw new Error(
        `Kiln: backward: the ${which} of '${node.op}' was modified by an in-place op (add_, mul_, copy_, ...) after '${node.op}' used it, so its gradient would be wrong; use the out-of-place op or clone() before updating`,
      );
    }
  });
}

let gradEnabled = true;

/** True unless inside noGrad() (ops record the tape only then). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording the tape (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** Runs `fn` with recording on, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

export interface BackwardOptions {
  /** Keep the graph so backward can run through it again (default false: it is freed). */
  retainGraph?: boolean;
}

/** The engine behind `Tensor.backward`. */
export function runBackward(root: Tensor, seed: Tensor, options: BackwardOptions = {}): void {
  checkOptions('backward', options, { retainGraph: 'boolean' });
  // Gradients are computed off the tape (no higher-order gradients yet).
  noGrad(() => backwardPass(root, seed, options));
}

function backwardPass(root: Tensor, seed: Tensor, options: BackwardOptions): void {
  // Gradients and backward temporaries may live in the backend's memory for the pass
  // (activations.ts): given back as soon as nothing pending reads them, copied out where they
  // become a `.grad`.
  const scoped = openPassScope();
  try {
    walkBackward(root, seed, options, scoped);
  } finally {
    if (scoped) closePassScope();
  }
}

function walkBackward(root: Tensor, seed: Tensor, options: BackwardOptions, scoped: boolean): void {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS post-order: deep graphs (long RNN unrolls) must not overflow the JS stack.
  const stack: Array<[Tensor, number]> = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t._node?.inputs ?? [];
    if (i < inputs.length) {
      top[1] = i + 1;
      const child = inputs[i]!;
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }

  const grads = new Map<Tensor, Tensor>([[root, seed]]);
  // Buffers already stored as some tensor's .grad (or owned by the caller, the seed): a second
  // tensor receiving the same buffer (add's [g, g], a view's backward) gets a copy, so in-place
  // updates of one .grad (clipping, weight decay) never change another.
  const stored = new Set<unknown>([seed._data]);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i]!;
    const g = grads.get(t);
    if (!g) continue;
    grads.delete(t);
    const node = t._node;
    const mark = passMark();
    const consumed: Tensor[] = [g];
    if (!node || t._retainsGrad) {
      t._accumulateGrad(stored.has(g._data) ? g.clone() : g);
      if (t._grad) {
        t._grad = escape(t._grad);
        stored.add(t._grad._data);
      }
    }
    if (node) {
      checkVersions(t, node);
      const inputGrads = node.backward(g);
      node.inputs.forEach((input, k) => {
        const ig = inputGrads[k];
        if (!ig || !input.requiresGrad) return;
        const prev = grads.get(input);
        if (prev) consumed.push(prev, ig);
        grads.set(input, prev ? prev.add(ig) : ig);
      });
      if (!options.retainGraph) t._node = freedNode(node.op);
    }
    if (scoped) releaseUnreferenced(mark, consumed, grads.values());
  }
}

/** Stands in for a node whose graph a backward pass has released. */
function freedNode(op: string): GradNode {
  return {
    op,
    inputs: [],
    backward: () => {
      throw new Error(
        `Kiln: backward: the graph through '${op}' was freed by an earlier backward(); pass { retainGraph: true } to the first backward() to run it twice`,
      );
    },
  };
}
