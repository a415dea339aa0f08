/**
 * The playground in a real browser (Debian's Chromium driven by playwright-core): build the app,
 * serve it with `vite preview` (COOP/COEP), draw digits with the mouse and check LeNet-5's answer
 * on onnxruntime-web, train in the page's Web Worker and check the loss fell, that the threaded
 * build ran on more than one thread, and that the ONNX export agrees with Kiln on
 * onnxruntime-web. Every wait is for a condition on the page; the timeouts only guard hangs.
 * Screenshots go to apps/playground/test-output/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROOT, buildApp, launch, removeBuild, requireChromium, servePlain, servePreview } from './chromium.js';
import type { OpsMessage } from '../src/ops-worker.js';
import { setNumThreads, threadsReady, wasmInfo } from '@kiln/tensor';
import { DEFAULT_TRAIN, decodeSlice, trainMlp } from '../src/train-core.js';
import { mnistSlice } from '../vite.config.js';
import type { PlaygroundState } from '../src/main.js';

const SHOTS = join(ROOT, 'test-output');
const WAIT = { timeout: 150_000 };

let outDir = '', browser: Browser, page: Page, server: { url: string; close(): Promise<void> };

const state = (p: Page) => p.evaluate(() => (window as unknown as { __playground: PlaygroundState }).__playground);

/** Strokes in the pad's 280×280 pixel coordinates. */
const DIGITS: Record<number, Array<Array<[number, number]>>> = {
  1: [[[140, 40], [140, 240]]],
  7: [[[70, 50], [210, 50], [120, 240]]],
  0: [Array.from({ length: 33 }, (_, i): [number, number] => [140 + 62 * Math.sin((i * Math.PI) / 16), 140 - 95 * Math.cos((i * Math.PI) / 16)])],
};

async function draw(p: Page, strokes: Array<Array<[number, number]>>): Promise<void> {
  const box = (await p.locator('#pad').boundingBox())!;
  for (const stroke of strokes) {
    const [x0, y0] = stroke[0]!;
    await p.mouse.move(box.x + x0, box.y + y0);
    await p.mouse.down();
    for (const [x, y] of stroke.slice(1)) await p.mouse.move(box.x + x, box.y + y, { steps: 8 });
    await p.mouse.up();
  }
}

beforeAll(async () => {
  requireChromium(); // a missing Chromium fails here with the install command, never skips
  mkdirSync(SHOTS, { recursive: true });
  outDir = await buildApp();
  server = await servePreview(outDir);
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url);
  await page.waitForFunction(() => document.body.dataset.ready, undefined, WAIT);
  const s = await state(page);
  if (!s.ready) throw new Error(`playground: the page failed to start: ${s.error} ${errors.join('; ')}`);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (outDir) removeBuild(outDir);
});

describe('playground in Chromium', () => {
  it('is cross-origin isolated and reports the ONNX Runtime provider that runs (WebGPU falls back to wasm without an adapter)', async () => {
    const s = await state(page);
    expect(s.isolated).toBe(true);
    const gpu = await page.evaluate(async () => {
      const g = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      return { api: !!g, adapter: g ? !!(await g.requestAdapter()) : false };
    });
    console.log(`playground: navigator.gpu ${gpu.api}, adapter ${gpu.adapter}; LeNet-5 runs on [${s.providers.join(', ')}]${s.fallbacks.map((f) => `; ${f.provider} skipped: ${f.reason}`).join('')}`);
    if (gpu.adapter) {
      expect(s.providers[0]).toBe('webgpu');
    } else {
      expect(s.providers).toEqual(['wasm']);
      if (gpu.api) expect(s.fallbacks.map((f) => f.provider)).toEqual(['webgpu']);
    }
    expect(await page.locator('#provider').textContent()).toBe(s.providers.join(', '));
  });

  it('classifies digits drawn with the mouse (1, 7, 0)', async () => {
    let n = 0;
    for (const digit of [1, 7, 0]) {
      await page.click('#clear');
      await draw(page, DIGITS[digit]!);
      n++;
      await page.waitForFunction((k) => Number(document.body.dataset.predictions ?? 0) >= k, n, WAIT);
      await page.screenshot({ path: join(SHOTS, `digit-${digit}.png`) });
      const s = await state(page);
      const got = s.predictions[n - 1]!;
      console.log(`playground: drew ${digit}, LeNet-5 says ${got.digit} (${(100 * got.confidence).toFixed(1)}%)`);
      expect(got.digit).toBe(digit);
      expect(await page.locator('#prediction').textContent()).toBe(String(digit));
    }
  });

  it('trains in a Web Worker on several threads, the loss falls, and the ONNX export agrees on onnxruntime-web', async () => {
    await page.click('#train');
    await page.waitForFunction(() => {
      const t = (window as unknown as { __playground: PlaygroundState }).__playground.training;
      return !!t.done || !!t.error;
    }, undefined, WAIT);
    await page.screenshot({ path: join(SHOTS, 'trained.png'), fullPage: true });
    const t = (await state(page)).training;
    expect(t.error).toBeUndefined();
    const started = t.started!, done = t.done!;
    const first = t.losses.slice(0, 5).reduce((a, b) => a + b, 0) / 5;
    const last = t.losses.slice(-10).reduce((a, b) => a + b, 0) / 10;
    console.log(`playground: browser training (${started.build}, ${started.threads} threads, kernels used up to ${done.maxThreadsUsed}): ${t.losses.length} steps in ${(done.ms / 1000).toFixed(2)} s, mean loss of the first 5 steps ${first.toFixed(3)}, of the last 10 ${last.toFixed(3)}; export ${done.onnxBytes} B on ORT [${done.ortProviders.join(', ')}]: accuracy ${(100 * done.ortAccuracy).toFixed(1)}% (Kiln ${(100 * done.kilnAccuracy).toFixed(1)}%), max |diff| ${done.maxAbsDiff.toExponential(2)}`);
    expect(started.isolated).toBe(true);
    expect(started.backend).toBe('wasm');
    expect(started.build).toMatch(/\+threads$/);
    expect(started.threads).toBeGreaterThan(1);
    expect(done.maxThreadsUsed).toBeGreaterThan(1);
    expect(t.losses).toHaveLength(started.steps);
    expect(last).toBeLessThan(first * 0.5);
    expect(done.kilnAccuracy).toBeGreaterThan(0.7);
    expect(done.ortAccuracy).toBe(done.kilnAccuracy);
    expect(done.maxAbsDiff).toBeLessThan(1e-4);

    // the same model, data, seed and steps on Node (same thread count): same losses, and the time beside the browser's
    setNumThreads(started.threads);
    await threadsReady();
    const node = await trainMlp(decodeSlice(mnistSlice()), DEFAULT_TRAIN);
    const drift = Math.max(...node.losses.map((l, i) => Math.abs(l - t.losses[i]!)));
    console.log(`playground: Node ${process.version} (${wasmInfo()?.build}, ${started.threads} threads): ${node.losses.length} steps in ${(node.ms / 1000).toFixed(2)} s vs the browser worker's ${(done.ms / 1000).toFixed(2)} s; largest loss difference from the browser run ${drift.toExponential(2)}`);
    expect(node.losses).toHaveLength(t.losses.length);
    expect(drift).toBeLessThan(1e-4);
  });
});

/** Opens ops.html at `base` and waits for the suite's result. */
async function opSuite(base: string, shot: string): Promise<Extract<OpsMessage, { type: 'done' }>> {
  const p = await browser.newPage({ viewport: { width: 900, height: 1100 } });
  try {
    await p.goto(new URL('ops.html', base).href);
    await p.waitForFunction(() => !!(window as unknown as { __ops?: unknown }).__ops, undefined, WAIT);
    await p.screenshot({ path: join(SHOTS, shot), fullPage: true });
    const m = await p.evaluate(() => (window as unknown as { __ops: OpsMessage }).__ops);
    if (m.type === 'error') throw new Error(`op suite failed in the browser: ${m.message}`);
    const bad = m.results.filter((r) => !r.ok);
    const worst = Math.max(...m.results.filter((r) => r.kind === 'parity').map((r) => r.maxErr));
    console.log(`playground: op suite at ${base} (${m.build}, isolated ${m.isolated}, threads ${m.threads}, kernels used up to ${m.maxThreadsUsed}): ${m.results.length - bad.length}/${m.results.length} passed, largest wasm-vs-reference error ${worst.toExponential(2)}`);
    expect(bad.map((r) => `${r.name}: ${r.maxErr} ${r.detail ?? ''}`)).toEqual([]);
    expect(m.results.length).toBeGreaterThanOrEqual(40);
    return m;
  } finally {
    await p.close();
  }
}

describe('@kiln/tensor op suite in Chromium (wasm backend against the reference, forward and backward)', () => {
  it('threaded build in a cross-origin isolated page', async () => {
    const m = await opSuite(server.url, 'ops-isolated.png');
    expect(m.isolated).toBe(true);
    expect(m.build).toMatch(/\+threads$/);
    expect(m.maxThreadsUsed).toBeGreaterThan(1);
  });

  it('single-threaded build in a plain page (no COOP/COEP)', async () => {
    const plain = await servePlain(outDir);
    try {
      const m = await opSuite(plain.url, 'ops-plain.png');
      expect(m.isolated).toBe(false);
      expect(m.build).not.toMatch(/threads/);
      expect(m.maxThreadsUsed).toBe(1);
    } finally {
      await plain.close();
    }
  });
});

describe('onnxruntime-web WebGPU provider (Chromium with its SwiftShader Vulkan)', () => {
  it('LeNet-5 runs on webgpu and agrees with wasm', async () => {
    const gpuBrowser = await launch(['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader'], ['--disable-gpu']);
    try {
      const p = await gpuBrowser.newPage();
      await p.goto(server.url);
      await p.waitForFunction(() => document.body.dataset.ready, undefined, WAIT);
      const s = await state(p);
      expect(s.error).toBeUndefined();
      const adapter = await p.evaluate(async () => {
        const a = await (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { vendor: string; architecture: string; description: string } } | null> } }).gpu?.requestAdapter();
        return a ? `${a.info?.vendor ?? '?'} ${a.info?.architecture ?? ''} ${a.info?.description ?? ''}`.trim() : null;
      });
      // this is the machine's claim to a WebGPU adapter: without one the parity check cannot run, and that is a failure
      expect(adapter, 'Chromium offered no WebGPU adapter with --use-webgpu-adapter=swiftshader').not.toBeNull();
      const r = await p.evaluate((n) => (window as unknown as { __lenetParity(n: number): Promise<{ providers: string[]; wasmProviders: string[]; maxAbsDiff: number; agree: number; correct: number; count: number }> }).__lenetParity(n), 100);
      console.log(`playground: WebGPU adapter '${adapter}'; LeNet-5 on [${r.providers.join(', ')}] vs [${r.wasmProviders.join(', ')}] over ${r.count} digits: max |diff| ${r.maxAbsDiff.toExponential(2)}, argmax agreement ${r.agree}/${r.count}, webgpu correct ${r.correct}/${r.count}`);
      expect(r.providers[0]).toBe('webgpu');
      expect(r.wasmProviders).toEqual(['wasm']);
      expect(r.maxAbsDiff).toBeLessThan(1e-3);
      expect(r.agree).toBe(r.count);
      // and a drawn digit, classified on WebGPU
      await draw(p, DIGITS[7]!);
      await p.waitForFunction(() => Number(document.body.dataset.predictions ?? 0) >= 1, undefined, WAIT);
      await p.screenshot({ path: join(SHOTS, 'webgpu-digit-7.png') });
      expect((await state(p)).predictions[0]!.digit).toBe(7);
      expect(await p.locator('#provider').textContent()).toBe('webgpu, wasm');
    } finally {
      await gpuBrowser.close();
    }
  });
});
