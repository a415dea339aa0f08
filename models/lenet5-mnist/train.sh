#!/usr/bin/env sh
# Rebuilds this folder's model.onnx, model.safetensors, curves.json/.svg and metrics.json with the
# kiln CLI (seeded: the same files on any machine; about 4 minutes on 2 busy cores).
set -e
cd "$(dirname "$0")"
npx turbo run build --filter=@kiln/cli... --output-logs=errors-only
node ../../apps/cli/dist/main.js train lenet5 --variant modern --data mnist --epochs 12 --seed 0 --out .
