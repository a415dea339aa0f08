// Where a job's time goes: summarises a V8 CPU profile (`node --cpu-prof`, a `.cpuprofile` JSON)
// by self time, per function and per group (package folder, Wasm kernels, GC, Node internals).
//
//   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/kiln-job.js '{"workload":"transformer","threads":1,"windows":5}'
//   node dist/profile.js /tmp/prof/CPU.*.cpuprofile [--top 25] [--wasm FILE[:BUILD]] [--within REGEX]
//
// `--within REGEX` counts only samples under a frame whose name (`name (file:line)`) matches,
// e.g. `--within '^step '` for the training step of kiln-job.js without start-up.
//
// V8 names Wasm functions without a name section `wasm-function[N]`; `--wasm` gives their export
// names from the module: a `.wasm` file, or a JS module holding builds as base64 strings
// (`export const BUILD = '...'`, such as the Wasm backend's generated kernels; BUILD defaults to
// `relaxed`, the build the bench's `backend_info` names `relaxed-simd+threads`).
//
// Self time of a sample is the time delta that follows it (V8's `timeDeltas[i + 1]`), which is
// more exact than hit counts × the sampling interval on a machine that stalls the profiler.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber?: number }
export interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
export interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface SelfTime { name: string; group: string; ms: number; share: number }

/**
 * The group a frame counts in: `(gc)`, `(idle)`, `(program)` (V8 itself), `wasm` for Wasm
 * functions, `node:` internals, `<package>/<folders>` (up to 3) for files of a workspace package
 * or app (`tensor/ops`, `tensor/backends/wasm/fast`, `nn/layers`, `sequence/transformer`; just
 * `<package>` for files at its top), a package name under node_modules, else the file name.
 */
export function frameGroup(f: CallFrame): string {
  if (!f.url) {
    if (f.functionName === '(garbage collector)') return '(gc)';
    if (f.functionName === '(idle)' || f.functionName === '(program)' || f.functionName === '(root)') return f.functionName;
    return '(native)';
  }
  if (f.url.startsWith('wasm://')) return 'wasm';
  if (f.url.startsWith('node:')) return 'node:internals';
  const ws = /\/(?:packages|apps)\/([^/]+)\/(?:dist|src)\/((?:[^/]+\/){0,3})/.exec(f.url);
  if (ws) return [ws[1], ...ws[2]!.split('/')].filter(Boolean).join('/');
  const nm = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f.url);
  if (nm) return nm[1]!;
  return f.url.slice(f.url.lastIndexOf('/') + 1);
}

/** A function's display name: `name (file:line)`; anonymous functions by their place; Wasm functions by name. */
export function frameName(f: CallFrame): string {
  const name = f.functionName || '(anonymous)';
  // Wasm functions: the name says it all (their url is a module hash).
  const file = f.url && !f.url.startsWith('wasm://') ? f.url.slice(f.url.lastIndexOf('/') + 1) : '';
  return file ? `${name} (${file}:${f.lineNumber + 1})` : name;
}

/** Reads one unsigned LEB128 number at `at`; returns it and the offset after it. */
function leb(b: Uint8Array, at: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (;;) {
    if (at >= b.length) throw new Error('Kiln bench profile: Wasm module ends inside a number');
    const byte = b[at++]!;
    v += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(byte & 0x80)) return [v, at];
  }
}

/**
 * Export names of a Wasm module's functions by function index, read from its export section
 * (whose indices count imported functions first, as V8's `wasm-function[N]` does).
 */
export function wasmFunctionNames(bytes: Uint8Array): Map<number, string> {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error('Kiln bench profile: not a Wasm module (no \\0asm header)');
  }
  const names = new Map<number, string>();
  const text = new TextDecoder();
  const str = (at: number): [string, number] => {
    const [n, p] = leb(bytes, at);
    return [text.decode(bytes.subarray(p, p + n)), p + n];
  };
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at]!;
    const [size, body] = leb(bytes, at + 1);
    let p = body;
    if (id === 7) {
      let count: number;
      [count, p] = leb(bytes, p);
      for (let i = 0; i < count; i++) {
        let name: string;
        [name, p] = str(p);
        const kind = bytes[p++]!;
        let index: number;
        [index, p] = leb(bytes, p);
        if (kind === 0) names.set(index, name);
      }
    }
    at = body + size;
  }
  return names;
}

/**
 * Renames `wasm-function[N]` frames of a profile (in place) by `names`. Functions that are not
 * exported (helpers the kernels call) keep their index, prefixed by the nearest named Wasm
 * caller: `gemmF32 › wasm-function[13]`. Returns the profile.
 */
export function nameWasmFrames(p: CpuProfile, names: ReadonlyMap<number, string>): CpuProfile {
  const parent = new Map<number, ProfileNode>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const index = (n: ProfileNode): number | null => {
    const m = /^wasm-function\[(\d+)\]$/.exec(n.callFrame.functionName);
    return m ? Number(m[1]) : null;
  };
  const exported = (n: ProfileNode): string | undefined => {
    const i = index(n);
    return i === null ? undefined : names.get(i);
  };
  const renamed = p.nodes.map((n) => {
    const i = index(n);
    if (i === null) return n.callFrame.functionName;
    const own = names.get(i);
    if (own !== undefined) return own;
    for (let up = parent.get(n.id); up && up.callFrame.url.startsWith('wasm://'); up = parent.get(up.id)) {
      const caller = exported(up);
      if (caller !== undefined) return `${caller} › ${n.callFrame.functionName}`;
    }
    return n.callFrame.functionName;
  });
  p.nodes.forEach((n, k) => { n.callFrame.functionName = renamed[k]!; });
  return p;
}

export interface ProfileTimes {
  /** Sampled ms counted (under `within`, when given). */
  total: number;
  /** Self time per function. */
  functions: SelfTime[];
  /** Self time per group. */
  groups: SelfTime[];
  /** Total time per function, callees included (a function counts once per stack). */
  inclusive: SelfTime[];
}

/**
 * Self and inclusive time per function and self time per group, largest first, in ms and as a
 * share of the sampled time. With `within`, only samples with a frame whose name matches it on
 * their stack count (e.g. the training step, leaving start-up out), and the garbage collector's
 * (V8 puts those under the root, not under the code that allocated).
 */
export function selfTimes(p: CpuProfile, within?: RegExp): ProfileTimes {
  if (!Array.isArray(p.nodes) || !Array.isArray(p.samples) || !Array.isArray(p.timeDeltas) || p.samples.length !== p.timeDeltas.length) {
    throw new Error(`Kiln bench profile: not a V8 CPU profile (nodes, samples and timeDeltas of equal length expected)`);
  }
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const perNode = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const us = i + 1 < p.timeDeltas.length ? p.timeDeltas[i + 1]! : 0;
    perNode.set(p.samples[i]!, (perNode.get(p.samples[i]!) ?? 0) + us);
  }
  const fns = new Map<string, SelfTime>();
  const groups = new Map<string, SelfTime>();
  const incl = new Map<string, SelfTime>();
  const add = (m: Map<string, SelfTime>, name: string, group: string, us: number): void => {
    const x = m.get(name) ?? { name, group, ms: 0, share: 0 };
    x.ms += us / 1e3;
    m.set(name, x);
  };
  let total = 0;
  for (const [id, us] of perNode) {
    const node = byId.get(id);
    if (!node) throw new Error(`Kiln bench profile: sample names node ${id}, which the profile does not have`);
    const stack: ProfileNode[] = [];
    for (let n: ProfileNode | undefined = node; n; n = byId.get(parent.get(n.id) ?? -1)) stack.push(n);
    const names = stack.map((n) => frameName(n.callFrame));
    if (within && node.callFrame.functionName !== '(garbage collector)' && !names.some((n) => within.test(n))) continue;
    total += us;
    add(fns, names[0]!, frameGroup(node.callFrame), us);
    add(groups, frameGroup(node.callFrame), frameGroup(node.callFrame), us);
    const seen = new Set<string>();
    stack.forEach((n, k) => {
      if (seen.has(names[k]!)) return;
      seen.add(names[k]!);
      add(incl, names[k]!, frameGroup(n.callFrame), us);
    });
  }
  const done = (xs: Map<string, SelfTime>): SelfTime[] =>
    [...xs.values()].map((x) => ({ ...x, share: total > 0 ? (x.ms * 1e3) / total : 0 })).sort((a, b) => b.ms - a.ms || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { total: total / 1e3, functions: done(fns), groups: done(groups), inclusive: done(incl) };
}

/** The report `node dist/profile.js` prints: groups, then the top functions. */
export function profileReport(p: CpuProfile, top = 25, within?: RegExp): string {
  const s = selfTimes(p, within);
  const pct = (x: SelfTime): string => `${(x.share * 100).toFixed(1).padStart(5)}%`;
  const row = (x: SelfTime, group = true): string => `  ${pct(x)}  ${x.ms.toFixed(0).padStart(7)} ms  ${x.name}${group ? `  [${x.group}]` : ''}`;
  const lines = [`sampled ${s.total.toFixed(0)} ms${within ? ` under frames matching ${within}` : ''}`, '', 'self time by group:'];
  for (const g of s.groups) if (g.share >= 0.005) lines.push(row(g, false));
  lines.push('', `top ${top} functions by self time:`, ...s.functions.slice(0, top).map((f) => row(f)));
  lines.push('', `top ${top} functions by total time (callees included):`, ...s.inclusive.slice(0, top).map((f) => row(f)));
  return lines.join('\n');
}

/** A `.wasm` file, or the base64 build `BUILD` (default `relaxed`) of a JS module `export const BUILD = '...'`. */
function loadWasm(spec: string): Uint8Array {
  const m = /^(.*?)(?::(\w+))?$/.exec(spec)!;
  const file = m[1]!;
  if (file.endsWith('.wasm')) return new Uint8Array(fs.readFileSync(file));
  const build = m[2] ?? 'relaxed';
  const found = new RegExp(`export const ${build} = '([A-Za-z0-9+/=]+)'`).exec(fs.readFileSync(file, 'utf8'));
  if (!found) throw new Error(`Kiln bench profile: --wasm ${spec}: no base64 build 'export const ${build} = ...' in ${file}`);
  return new Uint8Array(Buffer.from(found[1]!, 'base64'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const args = process.argv.slice(2);
  const t = args.indexOf('--top');
  const top = t >= 0 ? Number(args.splice(t, 2)[1]) : 25;
  const w = args.indexOf('--wasm');
  const wasm = w >= 0 ? args.splice(w, 2)[1] : undefined;
  const u = args.indexOf('--within');
  const within = u >= 0 ? args.splice(u, 2)[1] : undefined;
  if (!args.length || !(top > 0) || (w >= 0 && !wasm) || (u >= 0 && !within)) {
    console.error('Usage: node dist/profile.js FILE.cpuprofile [FILE...] [--top N] [--wasm FILE.wasm | --wasm KERNELS.js[:BUILD]] [--within REGEX]');
    process.exit(1);
  }
  const names = wasm ? wasmFunctionNames(loadWasm(wasm)) : null;
  for (const file of args) {
    console.log(`== ${file}`);
    const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
    console.log(profileReport(names ? nameWasmFrames(prof, names) : prof, top, within ? new RegExp(within) : undefined));
  }
}
