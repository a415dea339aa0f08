import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';

/** Where a command writes: results to `print` (stdout), progress and notes to `note` (stderr). */
export interface Out {
  print(s: string): void;
  note(s: string): void;
}

/** Reads a file a command was given; a missing or unreadable one is an InputError (exit 3). */
export async function readInputFile(file: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`kiln: cannot read ${what} '${file}': ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message}`);
  }
}

/** Reads an .onnx file; a file that cannot even start a protobuf is an InputError. */
export async function readModelFile(file: string): Promise<Uint8Array> {
  const bytes = await readInputFile(file, 'model');
  if (bytes.byteLength === 0) throw new InputError(`kiln: ${file} is empty, not an ONNX model`);
  return bytes;
}
