import { describe, expect, it } from 'vitest';
import { Generator } from '@kiln/tensor';
import {
  countDetections, detectionScores, detectionSteps, labelWindows, makeTriggerClip, makeTriggerClips, NEGATIVE_WORDS, renderWord, TRIGGER_WORD, triggerBatch,
  triggerFeatures, triggerLabels, triggerPlotSVG, TriggerWordModel, wordDuration, type TriggerClip,
} from './index.js';

const rms = (a: Float32Array, from: number, to: number) => {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i]! ** 2;
  return Math.sqrt(s / Math.max(1, to - from));
};

describe('trigger-word data', () => {
  const clips = makeTriggerClips(40, { seed: 7 });

  it('is seeded; words sit apart inside the clip (1.5 s free after a trigger), 0–3 triggers and 0–3 negatives, louder than the background', () => {
    const again = makeTriggerClips(3, { seed: 7 });
    expect(again.map((c) => c.events)).toEqual(clips.slice(0, 3).map((c) => c.events));
    expect(Array.from(again[0]!.audio)).toEqual(Array.from(clips[0]!.audio));
    expect(makeTriggerClips(1, { seed: 8 })[0]!.events).not.toEqual(clips[0]!.events);
    const names = new Set([TRIGGER_WORD.name, ...NEGATIVE_WORDS.map((w) => w.name)]);
    const triggers = clips.map((c) => c.events.filter((e) => e.trigger).length);
    expect(Math.min(...triggers)).toBe(0);
    expect(Math.max(...triggers)).toBe(3);
    for (const c of clips) {
      expect(c.audio.length).toBe(40000);
      expect(c.events.filter((e) => !e.trigger).length).toBeLessThanOrEqual(3);
      c.events.forEach((e, i) => {
        expect(names.has(e.word)).toBe(true);
        expect(e.trigger).toBe(e.word === 'activate');
        expect(e.start).toBeGreaterThanOrEqual(0);
        expect(e.end).toBeLessThanOrEqual(c.duration);
        if (i > 0) expect(e.start).toBeGreaterThanOrEqual(c.events[i - 1]!.end + (c.events[i - 1]!.trigger ? 1.55 : 0.05) - 1e-3);
        const speech = rms(c.audio, Math.round(e.start * 4000), Math.round(e.end * 4000));
        const before = rms(c.audio, Math.max(0, Math.round(e.start * 4000) - 400), Math.round(e.start * 4000));
        if (i === 0 || c.events[i - 1]!.end < e.start - 0.15) expect(speech).toBeGreaterThan(before);
      });
    }
    const d = wordDuration(TRIGGER_WORD);
    expect(d).toBeCloseTo(0.16 + 0.04 + 0.13 + 0.04 + 0.18, 12);
    expect(() => makeTriggerClip(new Generator(1), { noise: [0.5, 0.1] })).toThrow(/Kiln: makeTriggerClip: option 'noise' must be a \[min, max\] pair/);
    expect(() => makeTriggerClip(new Generator(1), { sampleRate: 1000 })).toThrow(/sampleRate must be >= 2000/);
    expect(() => makeTriggerClips(0)).toThrow(/Kiln: makeTriggerClips: n must be an integer >= 1, got 0/);
  });

  it('the hum and the words, synthesised by phasor recurrences, equal their Math.sin definitions to float32 rounding', () => {
    // no noise and no words: the clip is the hum humA·sin(ω·i) alone (draws: level, humF, humA)
    const clip = makeTriggerClip(new Generator(4), { noise: [0, 0], maxTriggers: 0, maxNegatives: 0 });
    const g = new Generator(4);
    g.random();
    const humF = 80 + 170 * g.random(), humA = 0.03 * g.random();
    let err = 0;
    for (let i = 0; i < clip.audio.length; i++) err = Math.max(err, Math.abs(clip.audio[i]! - humA * Math.sin((2 * Math.PI * humF * i) / 4000)));
    expect(humA).toBeGreaterThan(0.005);
    expect(err).toBeLessThan(humA * 1e-6);
    // a word: each formant is a linear chirp, phase Σ 2π·f(i)/sampleRate, under raised-cosine ramps
    const u = { stretch: 1.1, pitch: 0.95, gain: 0.4 };
    const out = new Float32Array(4000);
    const end = renderWord(out, 100, TRIGGER_WORD, 4000, u);
    const ref = new Float64Array(4000);
    let pos = 100;
    const ramp = 60;
    TRIGGER_WORD.syllables.forEach((syl, si) => {
      const n = Math.round(syl.dur * u.stretch * 4000);
      syl.formants.forEach(([f0, f1], fi) => {
        let phase = 0;
        for (let i = 0; i < n; i++) {
          phase += (2 * Math.PI * (f0 + ((f1 - f0) * i) / n) * u.pitch) / 4000;
          const env = i < ramp ? 0.5 - 0.5 * Math.cos((Math.PI * i) / ramp) : i > n - ramp ? 0.5 - 0.5 * Math.cos((Math.PI * (n - i)) / ramp) : 1;
          ref[pos + i]! += u.gain * (fi === 0 ? 1 : 0.6) * env * Math.sin(phase);
        }
      });
      pos += n + (si < 2 ? Math.round(syl.gap! * u.stretch * 4000) : 0);
    });
    expect(end).toBe(pos);
    let werr = 0;
    for (let i = 0; i < 4000; i++) werr = Math.max(werr, Math.abs(out[i]! - ref[i]!));
    expect(werr).toBeLessThan(1e-6);
  });

  it('labels are 1 for the 50 output steps after each trigger ends (k = ⌊end·Ty/10 s⌋, steps k+1 … k+50)', () => {
    const ty = 401;
    for (const c of clips) {
      const y = triggerLabels(c, ty);
      const expected = new Float32Array(ty);
      for (const e of c.events.filter((x) => x.trigger)) {
        const k = Math.floor((e.end * ty) / 10);
        for (let t = k + 1; t <= k + 50 && t < ty; t++) expected[t] = 1;
      }
      expect(Array.from(y)).toEqual(Array.from(expected));
    }
    const c: TriggerClip = { audio: new Float32Array(40000), sampleRate: 4000, duration: 10, events: [
      { word: 'activate', trigger: true, start: 1, end: 1.5 }, { word: 'swoop', trigger: false, start: 3, end: 3.45 }, { word: 'activate', trigger: true, start: 9.3, end: 9.9 },
    ] };
    expect(labelWindows(c, 400)).toEqual([[61, 111], [397, 400]]); // the second window is cut at the clip's end
    expect(triggerLabels(c, 400).reduce((s, v) => s + v, 0)).toBe(53);
  });

  it('features are 33 × 801 standardised dB; a batch stacks them with labels of Ty steps', () => {
    const f = triggerFeatures(clips[0]!);
    expect([f.freqs, f.frames]).toEqual([33, 801]);
    const mean = f.values.reduce((s, v) => s + v, 0) / f.values.length;
    const sd = Math.sqrt(f.values.reduce((s, v) => s + (v - mean) ** 2, 0) / f.values.length);
    expect(Math.abs(mean)).toBeLessThan(1e-5);
    expect(Math.abs(sd - 1)).toBeLessThan(1e-4);
    const m = new TriggerWordModel(33);
    const ty = m.outputLength(801);
    expect(ty).toBe(401);
    const { x, y } = triggerBatch(clips.slice(0, 3), ty);
    expect(x.shape).toEqual([3, 33, 801]);
    expect(y.shape).toEqual([3, 401]);
    expect(m.forward(x).shape).toEqual([3, 401]);
    expect(() => m.forward(x.transpose(1, 2))).toThrow(/Kiln: TriggerWordModel: input must be \[batch, 33, frames\], got \[3,801,33\]/);
    expect(() => new TriggerWordModel(33, { hidden: 3 } as never)).toThrow(/Kiln: TriggerWordModel: unknown option 'hidden'/);
  });
});

describe('event-level detection scores', () => {
  const windows: [number, number][] = [[10, 20], [40, 50]];
  const probs = (high: [number, number][], n = 60) => Float32Array.from({ length: n }, (_, t) => (high.some(([a, b]) => t >= a && t < b) ? 0.9 : 0.1));

  it('a crossing inside a window is a hit; flicker inside one window counts once; early, late and stray crossings are false positives', () => {
    expect(detectionSteps(probs([[12, 15], [16, 18]]))).toEqual([12, 16]);
    expect(detectionSteps([0.7, 0.2, 0.5], 0.5)).toEqual([0, 2]); // t = 0 counts; p = θ counts
    expect(countDetections(probs([[12, 15], [16, 18], [41, 49]]), windows)).toEqual({ tp: 2, fp: 0, fn: 0 });
    expect(countDetections(probs([[9, 19], [41, 49]]), windows)).toEqual({ tp: 1, fp: 1, fn: 1 }); // fired one step early
    expect(countDetections(probs([[12, 25], [26, 30]]), windows)).toEqual({ tp: 1, fp: 1, fn: 1 }); // re-fired after the window
    expect(countDetections(probs([]), windows)).toEqual({ tp: 0, fp: 0, fn: 2 });
    expect(countDetections(probs([[30, 32]]), [])).toEqual({ tp: 0, fp: 1, fn: 0 });
    const s = detectionScores([{ tp: 3, fp: 1, fn: 2 }, { tp: 1, fp: 0, fn: 0 }]);
    expect([s.precision, s.recall]).toEqual([0.8, 4 / 6]);
    expect(s.f1).toBeCloseTo((2 * 0.8 * (4 / 6)) / (0.8 + 4 / 6), 12);
    expect(detectionScores([{ tp: 0, fp: 0, fn: 0 }]).f1).toBe(1);
    expect(detectionScores([{ tp: 0, fp: 2, fn: 1 }]).f1).toBe(0);
  });

  it('the plot draws the spectrogram, words, windows, threshold and detections', () => {
    const c = makeTriggerClips(1, { seed: 3 })[0]!;
    const p = Float32Array.from({ length: 401 }, (_, t) => 0.5 + 0.45 * Math.sin(t / 9));
    const svg = triggerPlotSVG(c, p, { title: 'clip <3>' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('clip &lt;3&gt;');
    for (const e of c.events) expect(svg).toContain(`>${e.word}</text>`);
    expect(svg.match(/<line [^>]*stroke="#c33" stroke-width="2"/g)!.length).toBe(detectionSteps(p).length);
    expect(svg.match(/fill="#d8f0dc"/g)?.length ?? 0).toBe(labelWindows(c, 401).length);
    expect(() => triggerPlotSVG(c, [0.1, NaN])).toThrow(/Kiln: triggerPlotSVG: probs\[1\] is NaN/);
  });
});
