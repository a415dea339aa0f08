#!/usr/bin/python3
"""Converts ONNX's own backend node tests into compact fixtures for @kiln/onnx's conformance test.

Run with Debian's python3-onnx (1.12):  /usr/bin/python3 packages/onnx/scripts/gen_node_tests.py

Collects the node test cases shipped with the onnx package (the same cases that
`python3 -m onnx.backend.test.cmd_tools generate-data` writes), keeps the single-node ones (the
`_expanded` variants test function bodies, not the op), and writes one gzip'd JSON bundle per op to
packages/onnx/fixtures/node/<Op>.json.gz:
  { "op": "Conv", "onnx": "1.12.0", "cases": [ { "name", "opset", "model": b64, "inputs": [b64 TensorProto],
    "outputs": [b64 TensorProto], "rtol", "atol" } ] }
Ops whose cases take non-tensor inputs (sequences, optionals, maps) or are out of Kiln's scope
(strings, quantisation, training optimisers) are skipped and listed in fixtures/node/skipped.json.
`npm test` needs only the committed bundles.
"""
import base64, gzip, io, json, os, sys

import numpy as np
# onnx 1.12's case generators still use NumPy aliases removed in NumPy 1.24.
for _alias, _type in [('float', float), ('int', int), ('bool', bool), ('object', object), ('str', str), ('complex', complex)]:
    if _alias not in np.__dict__:
        setattr(np, _alias, _type)

import onnx
from onnx import numpy_helper
import onnx.backend.test.case.node as node_test

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'node')
# Out of scope for a float/int tensor framework, or too large for the repo (a few hundred KB each).
OUT_OF_SCOPE = {
    'SoftmaxCrossEntropyLoss': 'fixture too large (1.1 MB); not a claimed op',
    'NegativeLogLikelihoodLoss': 'fixture too large (0.4 MB); not a claimed op',
    'Tile': 'fixture too large (0.16 MB); not a claimed op',
    'StringNormalizer': 'string tensors', 'TfIdfVectorizer': 'text op',
    'Adagrad': 'training optimiser (ai.onnx.preview.training)', 'Adam': 'training optimiser', 'Momentum': 'training optimiser',
}


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode('ascii')


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    bundles: dict = {}
    skipped: dict = {}
    for case in node_test.collect_testcases(None):
        model = case.model
        nodes = model.graph.node
        if len(nodes) != 1:
            continue  # _expanded function bodies and multi-node cases
        op = nodes[0].op_type
        if op in OUT_OF_SCOPE:
            skipped.setdefault(op, {'reason': OUT_OF_SCOPE[op], 'cases': 0})['cases'] += 1
            continue
        if any(not v.type.HasField('tensor_type') for v in list(model.graph.input) + list(model.graph.output)):
            skipped.setdefault(op, {'reason': 'non-tensor inputs/outputs (sequence/optional/map)', 'cases': 0})['cases'] += 1
            continue
        opset = min([o.version for o in model.opset_import if o.domain in ('', 'ai.onnx')] or [0])
        for i, (inputs, outputs) in enumerate(case.data_sets):
            name = case.name if len(case.data_sets) == 1 else f'{case.name}#{i}'
            entry = {
                'name': name, 'opset': opset, 'domain': nodes[0].domain,
                'model': b64(model.SerializeToString()),
                'inputs': [b64(numpy_helper.from_array(np.asarray(x), model.graph.input[j].name).SerializeToString()) for j, x in enumerate(inputs)],
                'outputs': [b64(numpy_helper.from_array(np.asarray(y), model.graph.output[j].name).SerializeToString()) for j, y in enumerate(outputs)],
                'rtol': float(case.rtol), 'atol': float(case.atol),
            }
            bundles.setdefault(op, []).append(entry)
    for f in os.listdir(OUT):
        if f.endswith('.json.gz'):
            os.remove(os.path.join(OUT, f))
    total = 0
    for op, cases in sorted(bundles.items()):
        cases.sort(key=lambda c: c['name'])
        data = json.dumps({'op': op, 'onnx': onnx.__version__, 'cases': cases}, sort_keys=True).encode()
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode='wb', mtime=0, compresslevel=9) as g:
            g.write(data)
        with open(os.path.join(OUT, f'{op}.json.gz'), 'wb') as f:
            f.write(buf.getvalue())
        total += len(buf.getvalue())
    with open(os.path.join(OUT, 'skipped.json'), 'w') as f:
        json.dump(skipped, f, indent=1, sort_keys=True)
        f.write('\n')
    n = sum(len(c) for c in bundles.values())
    print(f'{n} cases of {len(bundles)} ops, {total / 1e6:.2f} MB in {OUT}', file=sys.stderr)


if __name__ == '__main__':
    main()
