/**
 * Trigger-word data as in the course (5.3.2): 10 s clips of background noise with 0–3 instances of
 * the trigger word and 0–3 negative words at random, non-overlapping positions; the input is the
 * clip's spectrogram and the target is 1 for the `labelSteps` (50) output steps after each trigger
 * ends: with Ty output steps over the clip, a trigger ending at time e sets y[k+1 … k+50] = 1,
 * k = ⌊e·Ty/duration⌋ (the course's rule).
 *
 * Defaults keep it cheap: 4 kHz audio; a 64-point STFT every 50 samples (12.5 ms) gives 33 × 801
 * features per clip; features are dB (floor 1e-10) standardised per clip (zero mean, unit variance).
 */
import { checkOptions, Generator, Tensor } from '@kiln/tensor';
import { spectrogramCore } from '../stft.js';
import { NEGATIVE_WORDS, randomUtterance, renderWord, TRIGGER_WORD, wordDuration, type SyntheticWord } from './words.js';

export interface TriggerClipOptions {
  /** Samples per second (default 4000). */
  sampleRate?: number;
  /** Clip length in seconds (default 10). */
  duration?: number;
  /** The number of triggers is uniform in 0 … maxTriggers (default 3). */
  maxTriggers?: number;
  /** The number of negative words is uniform in 0 … maxNegatives (default 3). */
  maxNegatives?: number;
  /** Background noise level, uniform in [min, max] (default [0.01, 0.08]; words peak at 0.15–0.8). */
  noise?: readonly [number, number];
  /**
   * Seconds kept free of other words after each trigger (default 1.5, just over the labelled
   * window of 50 steps = 1.25 s): the speaker waits for the chime, and two triggers never share
   * one run of 1s, which would leave the second without an onset to detect.
   */
  triggerGap?: number;
}

export interface TriggerEvent {
  word: string;
  trigger: boolean;
  /** Seconds from the start of the clip. */
  start: number;
  end: number;
}

export interface TriggerClip {
  audio: Float32Array;
  sampleRate: number;
  duration: number;
  events: TriggerEvent[];
}

const CLIP_SPEC = {
  sampleRate: 'posint', duration: 'finite', maxTriggers: 'nonnegint', maxNegatives: 'nonnegint', triggerGap: (v: unknown) => (typeof v === 'number' && v >= 0 && Number.isFinite(v) ? null : 'a number of seconds >= 0'),
  noise: (v: unknown) => (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && x >= 0 && Number.isFinite(x)) && v[0] <= v[1] ? null : 'a [min, max] pair of levels >= 0'),
} as const;

/** Output of mulberry32 for the state `x`, as a uniform of zero mean and unit variance. */
function mulberry32Uniform(x: number): number {
  let t = Math.imul(x ^ (x >>> 15), x | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5) * 3.4641016151377544; // √12
}

/**
 * Writes the background into `audio`: low-passed plus white noise at `level`, and a hum
 * humA·sin(ω·i). Noise samples come from a small PRNG (mulberry32) seeded by the clip's generator,
 * 20× cheaper than drawing each sample from the Generator; its state is a local int32 (bit-for-bit
 * the uint32 of the reference algorithm under `>>>`), which keeps the loop in registers.
 * The hum turns a phasor (c, s) by ω each sample instead of calling Math.sin 40 000 times a clip;
 * it restarts from the exact angle every 1024 samples, so it stays within ~1e-15 of Math.sin —
 * below float32's resolution. With renderWord's chirp recurrence, 453 of 12 M samples (300 clips)
 * differ from the Math.sin synthesis, each by one float32 ulp; the trained F1 is unchanged.
 */
function addBackground(audio: Float32Array, seed: number, level: number, omega: number, humA: number): void {
  const cosW = Math.cos(omega), sinW = Math.sin(omega);
  let state = seed | 0, lp = 0, c = 1, s = 0;
  for (let i = 0; i < audio.length; i++) {
    if ((i & 1023) === 0) { c = Math.cos(omega * i); s = Math.sin(omega * i); }
    state = (state + 0x6d2b79f5) | 0;
    lp = 0.95 * lp + 0.312 * mulberry32Uniform(state);
    state = (state + 0x6d2b79f5) | 0;
    audio[i] = level * (0.7 * lp + 0.3 * mulberry32Uniform(state)) + humA * s;
    const next = s * cosW + c * sinW;
    c = c * cosW - s * sinW;
    s = next;
  }
}

/** One random clip drawn from `gen`. */
export function makeTriggerClip(gen: Generator, options: TriggerClipOptions = {}): TriggerClip {
  checkOptions('makeTriggerClip', options, CLIP_SPEC);
  const sampleRate = options.sampleRate ?? 4000, duration = options.duration ?? 10;
  if (sampleRate < 2000) throw new Error(`Kiln: makeTriggerClip: sampleRate must be >= 2000 (the words reach 900 Hz… 1.9 kHz), got ${sampleRate}`);
  if (!(duration >= 2)) throw new Error(`Kiln: makeTriggerClip: duration must be >= 2 s, got ${duration}`);
  const n = Math.round(sampleRate * duration);
  const audio = new Float32Array(n);
  // Background: low-passed plus white noise, and a mains-like hum.
  const [lo, hi] = options.noise ?? [0.01, 0.08];
  const level = lo + (hi - lo) * gen.random();
  const humF = 80 + 170 * gen.random(), humA = 0.03 * gen.random();
  addBackground(audio, gen.randint(0, 0x7fffffff), level, (2 * Math.PI * humF) / sampleRate, humA);
  const words: SyntheticWord[] = [];
  const nTrig = gen.randint(0, (options.maxTriggers ?? 3) + 1), nNeg = gen.randint(0, (options.maxNegatives ?? 3) + 1);
  for (let i = 0; i < nTrig; i++) words.push(TRIGGER_WORD);
  for (let i = 0; i < nNeg; i++) words.push(NEGATIVE_WORDS[gen.randint(0, NEGATIVE_WORDS.length)]!);
  const events: TriggerEvent[] = [];
  const taken: [number, number][] = []; // occupied stretches: words, and triggers with their gap
  const gap = options.triggerGap ?? 1.5;
  for (const w of words) {
    const u = randomUtterance(gen);
    const len = wordDuration(w, u.stretch), reserve = w === TRIGGER_WORD ? gap : 0;
    // The course's insertion: random onsets, retried until the stretch overlaps nothing placed (50 ms apart).
    for (let attempt = 0; attempt < 50; attempt++) {
      const start = Math.round(gen.random() * (duration - len - 0.05) * sampleRate) / sampleRate;
      const until = start + len + reserve;
      if (taken.some(([a, b]) => start < b + 0.05 && until > a - 0.05)) continue;
      const endSample = renderWord(audio, Math.round(start * sampleRate), w, sampleRate, u);
      events.push({ word: w.name, trigger: w === TRIGGER_WORD, start, end: endSample / sampleRate });
      taken.push([start, until]);
      break;
    }
  }
  events.sort((a, b) => a.start - b.start);
  return { audio, sampleRate, duration, events };
}

/** `n` clips from a seeded generator (the same seed gives the same clips). */
export function makeTriggerClips(n: number, options: TriggerClipOptions & { seed?: number } = {}): TriggerClip[] {
  const { seed = 0, ...rest } = options;
  if (!Number.isInteger(n) || n < 1) throw new Error(`Kiln: makeTriggerClips: n must be an integer >= 1, got ${n}`);
  const gen = new Generator(seed);
  return Array.from({ length: n }, () => makeTriggerClip(gen, rest));
}

/** The labelled windows `[from, to)` of output steps: 50 steps after each trigger's end (clipped to Ty). */
export function labelWindows(clip: TriggerClip, ty: number, labelSteps = 50): [number, number][] {
  return clip.events.filter((e) => e.trigger).map((e) => {
    const k = Math.floor((e.end * ty) / clip.duration);
    return [Math.min(ty, k + 1), Math.min(ty, k + 1 + labelSteps)] as [number, number];
  }).filter(([a, b]) => b > a);
}

/** The target `[Ty]`: 1 inside the labelled windows, 0 elsewhere. */
export function triggerLabels(clip: TriggerClip, ty: number, labelSteps = 50): Float32Array {
  const y = new Float32Array(ty);
  for (const [a, b] of labelWindows(clip, ty, labelSteps)) y.fill(1, a, b);
  return y;
}

export interface TriggerFeatureOptions {
  /** STFT size (default 64). */
  nFft?: number;
  /** STFT hop in samples (default 50). */
  hopLength?: number;
}

/** The model's input `[freq, frames]`: per-clip standardised dB power spectrogram (Hann window, centred). */
export function triggerFeatures(clip: TriggerClip, options: TriggerFeatureOptions = {}): { values: Float32Array; freqs: number; frames: number } {
  checkOptions('triggerFeatures', options, { nFft: 'posint', hopLength: 'posint' });
  const r = spectrogramCore('triggerFeatures', clip.audio, { nFft: options.nFft ?? 64, hopLength: options.hopLength ?? 50, window: 'hann', power: 2 });
  const p = r.values[0]!;
  // 10·log10(x) as (10/ln 10)·ln(x): V8's Math.log is ~1.6× faster than Math.log10, and the two
  // agree to ~1e-14 relative, far below the float32 features' resolution.
  const dB = 10 / Math.LN10;
  let mean = 0;
  for (let i = 0; i < p.length; i++) { p[i] = dB * Math.log(Math.max(p[i]!, 1e-10)); mean += p[i]!; }
  mean /= p.length;
  let v = 0;
  for (let i = 0; i < p.length; i++) v += (p[i]! - mean) ** 2;
  const sd = Math.sqrt(v / p.length) || 1;
  const values = new Float32Array(p.length);
  for (let i = 0; i < p.length; i++) values[i] = (p[i]! - mean) / sd;
  return { values, freqs: r.bins, frames: r.frames };
}

/** A batch: inputs `[B, freq, frames]` and targets `[B, Ty]`. */
export function triggerBatch(clips: readonly TriggerClip[], ty: number, options: TriggerFeatureOptions & { labelSteps?: number } = {}): { x: Tensor; y: Tensor } {
  const { labelSteps = 50, ...feat } = options;
  if (clips.length === 0) throw new Error('Kiln: triggerBatch: no clips');
  const f = clips.map((c) => triggerFeatures(c, feat));
  const { freqs, frames } = f[0]!;
  const x = new Float32Array(clips.length * freqs * frames);
  f.forEach((e, i) => {
    if (e.frames !== frames) throw new Error(`Kiln: triggerBatch: clip ${i} has ${e.frames} frames, clip 0 has ${frames} (clips must have one length)`);
    x.set(e.values, i * freqs * frames);
  });
  const y = new Float32Array(clips.length * ty);
  clips.forEach((c, i) => y.set(triggerLabels(c, ty, labelSteps), i * ty));
  return { x: new Tensor(x, [clips.length, freqs, frames], 'float32'), y: new Tensor(y, [clips.length, ty], 'float32') };
}
