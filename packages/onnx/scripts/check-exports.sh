#!/bin/sh
# Exports every layer and zoo model (scripts/checker-cases.ts), runs onnx.checker (full_check) on each
# and records the results in fixtures/checker/results.json. Run from packages/onnx.
set -e
DIR=${KILN_CHECKER_DIR:-/tmp/kiln-checker}
rm -rf "$DIR"
KILN_CHECKER_DIR="$DIR" KILN_SCRIPT_TEST=scripts/export-for-checker.test.ts npx vitest run --config scripts/vitest.real.config.ts
/usr/bin/python3 scripts/check_exports.py "$DIR"
