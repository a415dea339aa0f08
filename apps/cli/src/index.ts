/**
 * @kiln/cli — the `kiln` command line (inspect, run, export, train, bench), also callable from code:
 * `await main(['inspect', 'model.onnx'])` returns the exit code.
 */
export { main, USAGE } from './cli.js';
export { EXIT, UsageError, InputError, exitCodeOf } from './errors.js';
export { COMMANDS } from './commands/index.js';
export type { Out } from './commands/common.js';
export { inspectModel, formatReport, type InspectReport, type ValueReport } from './commands/inspect.js';
export { parseNpy, imageToInput, readInputs, type InputSpec } from './inputs.js';
export { zoo, buildZooModel, type ZooFactory, type ZooOptions } from './zoo.js';
export type { CommandSpec, FlagKind, Parsed } from './args.js';
