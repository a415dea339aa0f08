import { describe, expect, it } from 'vitest';
import { Generator, getBackend, manualSeed, setBackend } from '@kiln/tensor';
import { EncoderDecoder } from './attention-model.js';
import { greedyAll, train } from './test-utils/train.js';

describe('plain encoder–decoder (no attention) learns to reverse strings of 2–5 symbols (6 kinds)', () => {
  it('reaches ≥ 70% exact match on held-out strings', () => {
    const g = new Generator(5);
    const make = (n: number) => Array.from({ length: n }, () => Array.from({ length: g.randint(2, 6) }, () => 3 + g.randint(0, 6)));
    const trainX = make(1000), testX = make(200);
    manualSeed(1);
    const m = new EncoderDecoder(9, 9, { padId: 0, bosId: 1, eosId: 2, embeddingDim: 8, encoderHidden: 32, decoderHidden: 48, attention: false });
    const previous = getBackend().name;
    setBackend('wasm');
    try {
      const losses = train(m, trainX, trainX.map((x) => [...x].reverse().concat(2)), { epochs: 10, batch: 50, lr: 0.01, seed: 2 });
      const out = greedyAll(m, testX, 8).tokens;
      const acc = out.filter((o, i) => o.join() === [...testX[i]!].reverse().join()).length / testX.length;
      console.log(`reverse (plain encoder–decoder, GRU 32×2 → 48): loss ${losses[0]!.toFixed(3)} → ${losses.at(-1)!.toFixed(3)}, held-out exact match ${(100 * acc).toFixed(1)}%`);
      expect(losses.at(-1)!).toBeLessThan(losses[0]! / 5);
      expect(acc).toBeGreaterThanOrEqual(0.7); // chance: < 1/6² per string
    } finally {
      setBackend(previous);
    }
  });
});

