/**
 * Exit codes of the kiln command, for scripts:
 *   0  success
 *   1  the command ran and failed (ONNX Runtime refused the model, training diverged, ...)
 *   2  usage: unknown command or flag, a missing or malformed argument
 *   3  an input file is missing, unreadable or not what it claims to be (not ONNX, bad .npy, ...)
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, badInput: 3 } as const;

/** A mistake in the command line; printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  readonly exitCode = EXIT.usage;
}

/** A file the command was given is missing or malformed; exit code 3. */
export class InputError extends Error {
  readonly exitCode = EXIT.badInput;
}

/** The exit code for an error thrown by a command. */
export function exitCodeOf(e: unknown): number {
  return e instanceof UsageError || e instanceof InputError ? e.exitCode : EXIT.failure;
}
