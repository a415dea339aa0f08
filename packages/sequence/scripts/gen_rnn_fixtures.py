#!/usr/bin/python3
"""PyTorch reference fixtures for @kiln/sequence's recurrent layers.

Run with Debian's torch 1.13:  /usr/bin/python3 packages/sequence/scripts/gen_rnn_fixtures.py
Writes packages/sequence/fixtures/rnn/<case>.safetensors (float32), each holding
  param.<state-dict key>      the layer's weights (PyTorch's keys and layouts)
  input, h0, c0               the inputs (h0/c0 only when the case passes initial states)
  output, h_n, c_n            torch's outputs (padded outputs as pad_packed_sequence(total_length=T))
  r.output, r.h_n, r.c_n      fixed random weights of the scalar loss  Σ r.output⊙output + Σ r.h_n⊙h_n (+ Σ r.c_n⊙c_n)
  grad.input, grad.h0, grad.c0, grad.param.<key>   the loss's gradients
and in __metadata__: the layer class, its constructor options (JSON) and the lengths.
Also writes fixtures/onnx/{lstm,gru}_torch.onnx (torch.onnx.export, opset 17, dynamic batch and
sequence axes) with <name>.safetensors holding the sample input, h0(, c0) and torch's outputs.
The safetensors files are written by hand (8-byte little-endian header length, JSON, raw data).
"""
import json
import os
import struct

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures')


def write_safetensors(path, tensors, metadata):
    header = {'__metadata__': metadata}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype(np.float32))
        raw = a.tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def layer_case(name, cls, input_size, hidden, opts, T, B, states, lengths=None, seed=0):
    torch.manual_seed(seed)
    kw = {
        'num_layers': opts.get('numLayers', 1), 'bidirectional': opts.get('bidirectional', False),
        'batch_first': opts.get('batchFirst', False), 'bias': opts.get('bias', True),
    }
    if 'projSize' in opts:
        kw['proj_size'] = opts['projSize']
    if 'nonlinearity' in opts:
        kw['nonlinearity'] = opts['nonlinearity']
    m = getattr(nn, cls)(input_size, hidden, **kw)
    D = (2 if kw['bidirectional'] else 1) * kw['num_layers']
    P = opts.get('projSize', hidden)
    x = torch.randn(B, T, input_size) if kw['batch_first'] else torch.randn(T, B, input_size)
    x.requires_grad_(True)
    h0 = torch.randn(D, B, P, requires_grad=True) if states else None
    c0 = torch.randn(D, B, hidden, requires_grad=True) if (states and cls == 'LSTM') else None
    hx = (h0, c0) if cls == 'LSTM' and states else h0
    if lengths is not None:
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=kw['batch_first'], enforce_sorted=False)
        out_p, hn = m(packed, hx)
        out, _ = pad_packed_sequence(out_p, batch_first=kw['batch_first'], total_length=T)
    else:
        out, hn = m(x, hx)
    h_n, c_n = (hn if cls == 'LSTM' else (hn, None))
    r_out = torch.randn_like(out)
    r_h = torch.randn_like(h_n)
    loss = (out * r_out).sum() + (h_n * r_h).sum()
    r_c = None
    if c_n is not None:
        r_c = torch.randn_like(c_n)
        loss = loss + (c_n * r_c).sum()
    loss.backward()
    t = {}
    for k, p in m.state_dict().items():
        t['param.' + k] = p
    t['input'] = x
    if h0 is not None:
        t['h0'] = h0
    if c0 is not None:
        t['c0'] = c0
    t['output'] = out
    t['h_n'] = h_n
    t['r.output'] = r_out
    t['r.h_n'] = r_h
    if c_n is not None:
        t['c_n'] = c_n
        t['r.c_n'] = r_c
    t['grad.input'] = x.grad
    if h0 is not None:
        t['grad.h0'] = h0.grad
    if c0 is not None:
        t['grad.c0'] = c0.grad
    for k, p in m.named_parameters():
        t['grad.param.' + k] = p.grad
    meta = {'class': cls, 'inputSize': str(input_size), 'hiddenSize': str(hidden), 'options': json.dumps(opts),
            'lengths': json.dumps(lengths), 'torch': torch.__version__}
    write_safetensors(os.path.join(ROOT, 'rnn', name + '.safetensors'), t, meta)


def cell_case(name, cls, input_size, hidden, B, opts, seed=0):
    torch.manual_seed(seed)
    m = getattr(nn, cls)(input_size, hidden, **opts)
    x = torch.randn(B, input_size, requires_grad=True)
    h0 = torch.randn(B, hidden, requires_grad=True)
    c0 = torch.randn(B, hidden, requires_grad=True) if cls == 'LSTMCell' else None
    res = m(x, (h0, c0)) if c0 is not None else m(x, h0)
    h1, c1 = res if c0 is not None else (res, None)
    r_h = torch.randn_like(h1)
    loss = (h1 * r_h).sum()
    t = {'param.' + k: p for k, p in m.state_dict().items()}
    t.update({'input': x, 'h0': h0, 'h_n': h1, 'r.h_n': r_h})
    if c1 is not None:
        r_c = torch.randn_like(c1)
        loss = loss + (c1 * r_c).sum()
        t.update({'c0': c0, 'c_n': c1, 'r.c_n': r_c})
    loss.backward()
    t['grad.input'] = x.grad
    t['grad.h0'] = h0.grad
    if c0 is not None:
        t['grad.c0'] = c0.grad
    for k, p in m.named_parameters():
        t['grad.param.' + k] = p.grad
    meta = {'class': cls, 'inputSize': str(input_size), 'hiddenSize': str(hidden), 'options': json.dumps(opts),
            'lengths': 'null', 'torch': torch.__version__}
    write_safetensors(os.path.join(ROOT, 'rnn', name + '.safetensors'), t, meta)


class Wrapped(nn.Module):
    """A recurrent layer returning all of its outputs, for torch.onnx.export."""

    def __init__(self, layer):
        super().__init__()
        self.rnn = layer

    def forward(self, x, h0, c0=None):
        if c0 is not None:
            out, (h, c) = self.rnn(x, (h0, c0))
            return out, h, c
        out, h = self.rnn(x, h0)
        return out, h


def onnx_case(name, layer, input_size, T, B, lstm, seed=0):
    torch.manual_seed(seed)
    model = Wrapped(layer).eval()
    D = (2 if layer.bidirectional else 1) * layer.num_layers
    bf = layer.batch_first
    x = torch.randn(B, T, input_size) if bf else torch.randn(T, B, input_size)
    h0 = torch.randn(D, B, layer.hidden_size)
    args = (x, h0, torch.randn(D, B, layer.hidden_size)) if lstm else (x, h0)
    with torch.no_grad():
        outs = model(*args)
    names_in = ['input', 'h0', 'c0'][:len(args)]
    names_out = ['output', 'h_n', 'c_n'][:len(outs)]
    seq_ax, batch_ax = (1, 0) if bf else (0, 1)
    dyn = {'input': {batch_ax: 'batch', seq_ax: 'seq'}, 'output': {batch_ax: 'batch', seq_ax: 'seq'}}
    for n in names_in[1:] + names_out[1:]:
        dyn[n] = {1: 'batch'}
    path = os.path.join(ROOT, 'onnx', name + '.onnx')
    torch.onnx.export(model, args, path, opset_version=17, input_names=names_in, output_names=names_out, dynamic_axes=dyn)
    t = {n: a for n, a in zip(names_in, args)}
    t.update({n: o for n, o in zip(names_out, outs)})
    t.update({'param.' + k: p for k, p in layer.state_dict().items()})
    meta = {'batchFirst': json.dumps(bf), 'torch': torch.__version__}
    write_safetensors(os.path.join(ROOT, 'onnx', name + '.safetensors'), t, meta)


def main():
    os.makedirs(os.path.join(ROOT, 'rnn'), exist_ok=True)
    os.makedirs(os.path.join(ROOT, 'onnx'), exist_ok=True)
    layer_case('lstm_2layer_bidir_states', 'LSTM', 3, 4, {'numLayers': 2, 'bidirectional': True}, 5, 3, True, seed=1)
    layer_case('lstm_batchfirst', 'LSTM', 4, 5, {'batchFirst': True}, 6, 2, False, seed=2)
    layer_case('lstm_proj_2layer_bidir', 'LSTM', 3, 5, {'numLayers': 2, 'bidirectional': True, 'projSize': 2}, 4, 3, True, seed=3)
    layer_case('lstm_packed_2layer_bidir', 'LSTM', 3, 4, {'numLayers': 2, 'bidirectional': True}, 5, 3, True, [5, 2, 4], seed=4)
    layer_case('lstm_packed_batchfirst_proj', 'LSTM', 3, 4, {'batchFirst': True, 'projSize': 3, 'bidirectional': True}, 6, 4, True, [3, 6, 1, 4], seed=5)
    layer_case('gru_2layer_bidir_states', 'GRU', 3, 4, {'numLayers': 2, 'bidirectional': True}, 5, 3, True, seed=6)
    layer_case('gru_batchfirst_nobias', 'GRU', 4, 3, {'batchFirst': True, 'bias': False}, 6, 2, False, seed=7)
    layer_case('gru_packed_2layer_bidir', 'GRU', 3, 4, {'numLayers': 2, 'bidirectional': True}, 5, 3, True, [2, 5, 3], seed=8)
    layer_case('rnn_tanh_2layer_bidir_states', 'RNN', 3, 4, {'numLayers': 2, 'bidirectional': True}, 5, 3, True, seed=9)
    layer_case('rnn_relu_packed', 'RNN', 3, 4, {'nonlinearity': 'relu', 'bidirectional': True}, 5, 3, True, [4, 1, 5], seed=10)
    cell_case('lstmcell', 'LSTMCell', 3, 4, 2, {}, seed=11)
    cell_case('grucell', 'GRUCell', 3, 4, 2, {}, seed=12)
    cell_case('rnncell_relu', 'RNNCell', 3, 4, 2, {'nonlinearity': 'relu'}, seed=13)
    torch.manual_seed(20)
    onnx_case('lstm_torch', nn.LSTM(3, 4, num_layers=2, bidirectional=True), 3, 5, 2, True, seed=21)
    torch.manual_seed(22)
    onnx_case('gru_torch', nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True), 3, 5, 2, False, seed=23)
    print('fixtures written to', os.path.normpath(ROOT))


if __name__ == '__main__':
    main()
