#!/usr/bin/python3
"""Runs onnx.checker.check_model(full_check=True) over the files scripts/export-for-checker.test.ts wrote
and records the results in packages/onnx/fixtures/checker/results.json (checked by src/export/checker.test.ts).
   /usr/bin/python3 scripts/check_exports.py [DIR]   (default /tmp/kiln-checker; see check-exports.sh)
"""
import json, os, sys

import onnx

DIR = sys.argv[1] if len(sys.argv) > 1 else '/tmp/kiln-checker'
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'checker', 'results.json')

manifest = json.load(open(os.path.join(DIR, 'manifest.json')))
results = {}
for name, entry in manifest.items():
    r = {'layer': entry['layer']}
    if entry['file'] is None:
        r.update(ok=False, stage='export', error=entry.get('error', ''))
    else:
        path = os.path.join(DIR, entry['file'])
        try:
            m = onnx.load(path)
            onnx.checker.check_model(m, full_check=True)
            r.update(ok=True, opset=m.opset_import[0].version, ir=m.ir_version, nodes=len(m.graph.node),
                     ops=sorted({n.op_type for n in m.graph.node}))
        except Exception as e:  # noqa: BLE001 - every checker failure is recorded
            r.update(ok=False, stage='checker', error=str(e).split('\n')[0][:300])
    results[name] = r
os.makedirs(os.path.dirname(OUT), exist_ok=True)
json.dump({'onnx': onnx.__version__, 'full_check': True, 'results': results}, open(OUT, 'w'), indent=1, sort_keys=True)
bad = {k: v for k, v in results.items() if not v['ok']}
print(f'{len(results) - len(bad)}/{len(results)} pass onnx.checker (full_check) with onnx {onnx.__version__}')
for k, v in bad.items():
    print(f'  {k}: {v["stage"]}: {v["error"]}')
