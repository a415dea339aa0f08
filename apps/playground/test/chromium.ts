/**
 * Test helpers: build the playground, serve it with `vite preview` (cross-origin isolated) and
 * with a plain static server (no COOP/COEP: the single-threaded build), and launch Debian's
 * Chromium through playwright-core. A missing Chromium is an error, never a skip.
 */
import { build, preview, type PreviewServer } from 'vite';
import { chromium, type Browser } from 'playwright-core';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CHROMIUM = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium';
/** The flags this machine's closed network needs (no background connections), headless, no GPU process. */
export const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function requireChromium(): string {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`playground: the browser tests need Chromium at ${CHROMIUM} and it is missing: install Debian's chromium (\`apt-get install -y chromium\`; .ci/run does this when it is missing), or point KILN_CHROMIUM at a Chromium binary`);
  }
  return CHROMIUM;
}

export async function launch(extraArgs: string[] = [], withoutArgs: string[] = []): Promise<Browser> {
  const args = [...CHROMIUM_FLAGS.filter((a) => !withoutArgs.includes(a)), ...extraArgs];
  return chromium.launch({ executablePath: requireChromium(), headless: true, args, timeout: 60_000 });
}

/** Builds the app into a fresh temporary folder. */
export async function buildApp(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'kiln-playground-'));
  await build({ root: ROOT, configFile: join(ROOT, 'vite.config.ts'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
  return outDir;
}

export async function servePreview(outDir: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: PreviewServer = await preview({ root: ROOT, configFile: join(ROOT, 'vite.config.ts'), logLevel: 'error', build: { outDir }, preview: { host: '127.0.0.1', port: 0, open: false } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('playground: vite preview reported no local URL');
  return { url, close: () => server.close() };
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.onnx': 'application/octet-stream', '.bin': 'application/octet-stream', '.css': 'text/css' };

/** A static server without COOP/COEP: pages it serves are not cross-origin isolated. */
export async function servePlain(outDir: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const rel = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!)).replace(/^(\.\.[/\\])+/, '');
    let file = join(outDir, rel);
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!file.startsWith(outDir) || !existsSync(file)) { res.statusCode = 404; res.end('not found'); return; }
    res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream');
    res.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export function removeBuild(outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
}
