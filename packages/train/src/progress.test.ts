import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Tensor } from '@kiln/tensor';
import { crossEntropy } from '@kiln/nn';
import { SGD } from '@kiln/optim';
import { fit, makeReporter } from './index.js';
import { accuracyMetric, toySetup } from './test-utils/toy.js';

const ce = (o: Tensor, y: Tensor) => crossEntropy(o, y);

/** A stand-in for process.stdout that records what is written. */
function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  const chunks: string[] = [];
  return { isTTY, columns: 120, write: (s: string) => { chunks.push(String(s)); return true; }, text: () => chunks.join('') } as never;
}

const LINE = /^epoch (\d+)\/3 · loss \d+\.\d{4} · dev loss \d+\.\d{4} · accuracy \d\.\d{4} · lr 0\.200 · \d+\.\ds\n$/;

describe('progress output', () => {
  afterEach(() => { vi.restoreAllMocks(); vi.useRealTimers(); });

  it("'lines' writes one plain line per epoch with losses, metrics, lr and time", async () => {
    const { model, train, dev } = toySetup();
    const lines: string[] = [];
    const h = await fit(model, { train, dev, loss: ce, optimizer: new SGD(model.parameters(), { lr: 0.2 }), epochs: 3, metrics: { accuracy: accuracyMetric }, progress: 'lines', log: (s) => lines.push(s) });
    expect(lines).toHaveLength(3);
    lines.forEach((l, i) => {
      expect(l).toMatch(LINE);
      expect(l).toContain(`epoch ${i + 1}/3 · loss ${h.trainLoss[i]!.toFixed(4)} · dev loss ${h.devLoss[i]!.toFixed(4)} · accuracy ${h.metrics.accuracy![i]!.toFixed(4)}`);
      expect(l).not.toMatch(/\x1b/); // no terminal control codes
    });
  });

  it("the default ('auto') writes plain lines to stdout when stdout is not a TTY", async () => {
    const { model, train, dev } = toySetup();
    const written: string[] = [];
    const isTTY = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
    Object.defineProperty(process.stdout, 'isTTY', { value: false, configurable: true });
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { written.push(String(s)); return true; });
    try {
      await fit(model, { train, dev, loss: ce, optimizer: new SGD(model.parameters(), { lr: 0.2 }), epochs: 3, metrics: { accuracy: accuracyMetric } });
    } finally {
      vi.restoreAllMocks();
      if (isTTY) Object.defineProperty(process.stdout, 'isTTY', isTTY);
      else delete (process.stdout as { isTTY?: boolean }).isTTY;
    }
    const ours = written.filter((s) => s.startsWith('epoch '));
    expect(ours).toHaveLength(3);
    for (const l of ours) expect(l).toMatch(LINE);
    expect(written.join('')).not.toMatch(/\x1b|\[[░█]/);
  });

  it('progress false writes nothing', async () => {
    const { model, train } = toySetup();
    const log = vi.fn();
    await fit(model, { train, loss: ce, optimizer: new SGD(model.parameters(), { lr: 0.2 }), epochs: 2, progress: false, log });
    expect(log).not.toHaveBeenCalled();
  });

  it("'auto' on a TTY draws a bar with batch count and running loss, then the epoch line", () => {
    vi.useFakeTimers();
    const tty = fakeStream(true);
    const r = makeReporter('auto', undefined, tty);
    r.startEpoch(1, 2, 4);
    expect(tty.text()).toMatch(/epoch 1\/2 \[[░█]+\] 0\/4 loss -/);
    r.update(3, 0.5);
    vi.advanceTimersByTime(500); // the bar redraws on its own timer
    expect(tty.text()).toMatch(/epoch 1\/2 \[█+░+\] 3\/4 loss 0\.5000/);
    r.endEpoch('epoch 1/2 · loss 0.5000');
    expect(tty.text().endsWith('epoch 1/2 · loss 0.5000\n')).toBe(true);
    r.stop();
  });

  it("'auto' on a non-TTY stream, or with a log function, gives lines only", () => {
    const pipe = fakeStream(false);
    const r = makeReporter('auto', undefined, pipe);
    r.startEpoch(1, 2, 4); r.update(1, 2); r.update(2, 1);
    expect(pipe.text()).toBe('');
    r.endEpoch('epoch 1/2 · loss 1.0000');
    expect(pipe.text()).toBe('epoch 1/2 · loss 1.0000\n');

    const tty = fakeStream(true), lines: string[] = [];
    const r2 = makeReporter('auto', (s) => lines.push(s), tty);
    r2.startEpoch(1, 1, 3); r2.update(1, 1); r2.endEpoch('done'); r2.stop();
    expect(tty.text()).toBe('');
    expect(lines).toEqual(['done\n']);
  });

  it("'bar' sizes the bar from the loader's length, or from the previous epoch for a plain iterable", async () => {
    const { model, trainData } = toySetup();
    const x = trainData.x, y = trainData.y;
    const plain = { *[Symbol.iterator]() { for (let i = 0; i < 24; i += 8) yield [x.slice(0, i, i + 8), y.slice(0, i, i + 8)]; } };
    const written: string[] = [];
    const isTTY = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
    Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true });
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { written.push(String(s)); return true; });
    try {
      await fit(model, { train: plain, loss: ce, optimizer: new SGD(model.parameters(), { lr: 0.2 }), epochs: 2, progress: 'bar' });
    } finally {
      vi.restoreAllMocks();
      if (isTTY) Object.defineProperty(process.stdout, 'isTTY', isTTY);
      else delete (process.stdout as { isTTY?: boolean }).isTTY;
    }
    const text = written.join('');
    expect(text).toMatch(/epoch 1\/2 \[[░█]+\] 0\/0 loss -/);
    expect(text).toMatch(/epoch 2\/2 \[[░█]+\] 0\/3 loss -/);
    expect(text).toMatch(/epoch 2\/2 · loss \d\.\d{4} · lr 0\.200/);
  });

  it("makeReporter rejects an unknown mode", () => {
    expect(() => makeReporter('verbose' as never)).toThrow(/Kiln: fit: progress must be 'auto', 'bar', 'lines' or false, got "verbose"/);
  });
});
