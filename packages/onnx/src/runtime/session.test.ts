import { describe, expect, it } from 'vitest';
import { loadOrt, type OrtImporter } from './session.js';

/** An importer that fails the way a runtime does when the package is not installed. */
const missing = (code: string | undefined, message: (pkg: string) => string): OrtImporter => async (pkg) => {
  throw Object.assign(new Error(message(pkg)), code ? { code } : {});
};

describe('ONNX Runtime is an optional peer, loaded lazily', () => {
  it.each([
    ['node', 'Node', missing('ERR_MODULE_NOT_FOUND', (p) => `Cannot find package '${p}' imported from /app/x.js`)],
    ['web', 'Node', missing('ERR_MODULE_NOT_FOUND', (p) => `Cannot find package '${p}' imported from /app/x.js`)],
    ['node', 'Bun', missing(undefined, (p) => `Cannot find package '${p}' from '/app/x.js'`)],
    ['web', 'Deno', missing(undefined, (p) => `Could not find package "${p}" from referrer "file:///app/x.js".`)],
  ] as const)('backend %s, missing package as %s reports it: names the package to install', async (backend, _rt, importer) => {
    const pkg = backend === 'node' ? 'onnxruntime-node' : 'onnxruntime-web';
    const err = await loadOrt(backend, importer).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^Kiln: createSession: /);
    expect((err as Error).message).toContain(`needs the optional peer dependency ${pkg}`);
    expect((err as Error).message).toContain(`npm install ${pkg}`);
  });

  it('a package that is present but broken (a missing dependency inside it, a failing addon) is reported as such', async () => {
    const inner = missing('ERR_MODULE_NOT_FOUND', () => `Cannot find package 'onnxruntime-common' imported from /app/node_modules/onnxruntime-node/dist/index.js`);
    const e1 = (await loadOrt('node', inner).catch((e: Error) => e)) as Error;
    expect(e1.message).toMatch(/could not load onnxruntime-node: Cannot find package 'onnxruntime-common'/);
    expect(e1.message).not.toContain('npm install');
    const e2 = (await loadOrt('node', missing(undefined, () => 'libonnxruntime.so.1: cannot open shared object file')).catch((e: Error) => e)) as Error;
    expect(e2.message).toBe("Kiln: createSession: backend 'node' could not load onnxruntime-node: libonnxruntime.so.1: cannot open shared object file");
  });

  it('loads the installed package (its default export or the namespace)', async () => {
    const ort = await loadOrt('node');
    expect(typeof ort.InferenceSession.create).toBe('function');
    const fake = { InferenceSession: { create: async () => ({}) }, Tensor: class {} };
    expect(await loadOrt('web', async () => ({ default: fake }))).toBe(fake);
    expect(await loadOrt('web', async () => fake)).toBe(fake);
  });
});
