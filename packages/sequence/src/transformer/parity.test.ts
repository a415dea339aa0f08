/**
 * PyTorch parity: fixtures from scripts/gen_transformer_fixtures.py (torch 1.13, eval mode).
 * State dicts of nn.MultiheadAttention, nn.TransformerEncoderLayer/DecoderLayer and
 * nn.Transformer load strictly into Kiln's layers, which must give torch's outputs (and attention
 * weights) to 1e-5 in float32, with bool and float masks, key padding, batchFirst both ways,
 * post-norm and normFirst, relu and gelu.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '@kiln/tensor';
import { loadSafetensors, type StateDict } from '@kiln/nn';
import { MultiheadAttention, Transformer, TransformerDecoderLayer, TransformerEncoderLayer } from './index.js';

const dir = fileURLToPath(new URL('../../fixtures/transformer/', import.meta.url));

async function fixture(name: string): Promise<{ sd: StateDict; inp: Record<string, Tensor>; out: Record<string, Tensor>; config: Record<string, unknown> }> {
  const { tensors, metadata } = await loadSafetensors(`${dir}${name}.safetensors`);
  const pick = (prefix: string) => Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
  return { sd: pick('sd.') as StateDict, inp: pick('in.') as Record<string, Tensor>, out: pick('out.') as Record<string, Tensor>, config: JSON.parse(metadata.config!) as Record<string, unknown> };
}

let worst = 0;
function close(name: string, a: Tensor | null, b: Tensor): void {
  expect(a, name).not.toBeNull();
  expect(a!.shape, name).toEqual(b.shape);
  const x = a!.dataSync(), y = b.dataSync();
  let err = 0;
  for (let i = 0; i < x.length; i++) err = Math.max(err, Math.abs(x[i]! - y[i]!));
  worst = Math.max(worst, err);
  expect(err, `${name}: max |kiln − torch|`).toBeLessThan(1e-5);
}

const layerOptions = (c: Record<string, unknown>) => ({
  dimFeedforward: c.dimFeedforward as number, activation: c.activation as 'relu' | 'gelu',
  normFirst: (c.norm_first as boolean | undefined) ?? false, batchFirst: (c.batch_first as boolean | undefined) ?? false,
});

describe('Transformer layers: PyTorch 1.13 parity (eval)', () => {
  for (const bf of [0, 1]) {
    it(`MultiheadAttention batchFirst=${bf === 1}: bool attnMask + keyPaddingMask, float attnMask, averaged and per-head weights`, async () => {
      const { sd, inp, out } = await fixture(`mha_bf${bf}`);
      const m = new MultiheadAttention(8, 2, { batchFirst: bf === 1 });
      m.loadStateDict(sd);
      m.eval();
      const [o, w] = m.forward(inp.q!, inp.k!, inp.v!, { keyPaddingMask: inp.kpm!, attnMask: inp.am_bool! });
      close('out', o, out.out!);
      close('weights', w, out.w!);
      const [o2, w2] = m.forward(inp.q!, inp.k!, inp.v!, { keyPaddingMask: inp.kpm!, attnMask: inp.am_float!, averageAttnWeights: false });
      close('out (float mask)', o2, out.out2!);
      close('per-head weights', w2, out.w2!);
    });
  }

  it('MultiheadAttention: [L, S] and [B·H, L, S] float masks; kdim/vdim without bias', async () => {
    const f = await fixture('mha_floatmask');
    const m = new MultiheadAttention(8, 4, { batchFirst: true });
    m.loadStateDict(f.sd);
    m.eval();
    const [o, w] = m.forward(f.inp.q!, f.inp.k!, f.inp.v!, { attnMask: f.inp.am!, averageAttnWeights: false });
    close('out', o, f.out.out!);
    close('w', w, f.out.w!);
    const [o3, w3] = m.forward(f.inp.q!, f.inp.k!, f.inp.v!, { attnMask: f.inp.am3! });
    close('out (3-d mask)', o3, f.out.out3!);
    close('w (3-d mask)', w3, f.out.w3!);
    const g = await fixture('mha_kdim');
    const mk = new MultiheadAttention(8, 2, { batchFirst: true, kdim: 6, vdim: 3, bias: false });
    expect(Object.keys(mk.stateDict()).sort()).toEqual(Object.keys(g.sd).sort());
    mk.loadStateDict(g.sd);
    mk.eval();
    const [ok, wk] = mk.forward(g.inp.q!, g.inp.k!, g.inp.v!);
    close('out (kdim/vdim)', ok, g.out.out!);
    close('w (kdim/vdim)', wk, g.out.w!);
  });

  for (const name of ['post_relu', 'pre_gelu', 'post_gelu_bf']) {
    it(`TransformerEncoderLayer and TransformerDecoderLayer (${name})`, async () => {
      const e = await fixture(`enc_${name}`);
      const enc = new TransformerEncoderLayer(8, 2, layerOptions(e.config));
      enc.loadStateDict(e.sd);
      enc.eval();
      close('encoder layer', enc.forward(e.inp.src!, { srcKeyPaddingMask: e.inp.kpm! }), e.out.y!);
      const d = await fixture(`dec_${name}`);
      const dec = new TransformerDecoderLayer(8, 2, layerOptions(d.config));
      dec.loadStateDict(d.sd);
      dec.eval();
      close('decoder layer', dec.forward(d.inp.tgt!, d.inp.mem!, { tgtMask: d.inp.tgt_mask!, memoryKeyPaddingMask: d.inp.kpm! }), d.out.y!);
    });
  }

  it('Transformer (2 + 2 layers, final norms, batchFirst) with causal tgtMask and padding masks', async () => {
    const f = await fixture('transformer');
    const m = new Transformer({ dModel: 8, nhead: 2, numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 12, batchFirst: true });
    expect(Object.keys(m.stateDict()).sort()).toEqual(Object.keys(f.sd).sort());
    m.loadStateDict(f.sd);
    m.eval();
    const y = m.forward(f.inp.src!, f.inp.tgt!, { tgtMask: f.inp.tgt_mask!, srcKeyPaddingMask: f.inp.kpm!, memoryKeyPaddingMask: f.inp.kpm! });
    close('transformer', y, f.out.y!);
    console.log(`transformer parity: worst max |kiln − torch| so far ${worst.toExponential(2)}`);
  });
});
