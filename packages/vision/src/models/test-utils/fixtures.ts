/** Fixture access and the parity measure of the zoo tests. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { loadSafetensors, type Module, type StateDict } from '@kiln/nn';
import { noGrad, type Tensor } from '@kiln/tensor';
import { hashFill, hashInput } from './hash-weights.js';

export const fixturePath = (name: string): string => fileURLToPath(new URL(`../../../fixtures/${name}`, import.meta.url));

interface KeyInfo { params: number; keys: [string, number[]][] }
let keysCache: Record<string, KeyInfo> | null = null;
/** torchvision's state-dict keys, shapes and parameter count of a full-size model. */
export function torchvisionKeys(name: string): KeyInfo {
  keysCache ??= JSON.parse(readFileSync(fixturePath('torchvision-keys.json'), 'utf8')) as Record<string, KeyInfo>;
  const info = keysCache[name];
  if (!info) throw new Error(`no torchvision keys recorded for ${name}`);
  return info;
}

const stCache = new Map<string, Promise<StateDict>>();
export function loadFixture(name: string): Promise<StateDict> {
  if (!stCache.has(name)) stCache.set(name, loadSafetensors(fixturePath(name)).then((c) => c.tensors));
  return stCache.get(name)!;
}

export const paramCount = (m: Module): number => m.parameters().reduce((a, p) => a + p.numel(), 0);

/** max |a − b| / max |b|: the error relative to the reference output's magnitude. */
export function relativeError(actual: Tensor, expected: Tensor): number {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync(), b = expected.dataSync();
  let diff = 0, mag = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(Number(a[i]) - Number(b[i])));
    mag = Math.max(mag, Math.abs(Number(b[i])));
  }
  return diff / mag;
}

/** Asserts the model's state dict has exactly torchvision's keys, in torchvision's order, and shapes. */
export function expectTorchvisionKeys(model: Module, name: string): void {
  const info = torchvisionKeys(name);
  const ours = Object.entries(model.stateDict()).map(([k, t]) => [k, [...t.shape]]);
  expect(ours).toEqual(info.keys);
  expect(paramCount(model)).toBe(info.params);
}

/**
 * Fills `model` with the hash weights, runs the fixture's input in eval mode, returns the relative
 * error. The model may be built under withoutInit: loading its own filled tensors marks them loaded.
 */
export async function parityError(model: Module, fixtureCase: string, inputShape: number[]): Promise<number> {
  const sd = model.stateDict();
  hashFill(sd);
  model.loadStateDict(sd);
  model.eval();
  const out = noGrad(() => model.forward(hashInput(inputShape)) as Tensor);
  const ref = (await loadFixture('parity.safetensors'))[fixtureCase]!;
  const err = relativeError(out, ref);
  console.log(`torchvision parity ${fixtureCase}: relative error ${err.toExponential(2)} (max |y| ${Math.max(...Array.from(ref.dataSync(), (v) => Math.abs(Number(v)))).toPrecision(3)})`);
  return err;
}

