import { createRequire } from 'node:module';

/** Reports progress within an epoch: a cli-progress bar on a TTY, otherwise one plain line per epoch. */
export interface ProgressReporter {
  startEpoch(epoch: number, epochs: number, batches: number): void;
  update(batch: number, loss: number): void;
  endEpoch(line: string): void;
  stop(): void;
}

interface Bar { start(total: number, value: number, payload?: object): void; update(value: number, payload?: object): void; stop(): void }

class BarReporter implements ProgressReporter {
  private bar: Bar | null = null;
  private readonly Ctor: new (opts: object, preset: object) => Bar;
  private readonly preset: object;
  constructor(private readonly stream: NodeJS.WriteStream) {
    const cp = createRequire(import.meta.url)('cli-progress') as { SingleBar: new (o: object, p: object) => Bar; Presets: { shades_classic: object } };
    this.Ctor = cp.SingleBar;
    this.preset = cp.Presets.shades_classic;
  }
  startEpoch(epoch: number, epochs: number, batches: number): void {
    this.bar = new this.Ctor({ format: `epoch ${epoch}/${epochs} [{bar}] {value}/{total} loss {loss} eta {eta}s`, stream: this.stream, hideCursor: true, clearOnComplete: true }, this.preset);
    this.bar.start(batches, 0, { loss: '-' });
  }
  update(batch: number, loss: number): void { this.bar?.update(batch, { loss: loss.toFixed(4) }); }
  endEpoch(line: string): void { this.bar?.stop(); this.bar = null; this.stream.write(`${line}\n`); }
  stop(): void { this.bar?.stop(); this.bar = null; }
}

class LineReporter implements ProgressReporter {
  constructor(private readonly write: (s: string) => void) {}
  startEpoch(): void {}
  update(): void {}
  endEpoch(line: string): void { this.write(`${line}\n`); }
  stop(): void {}
}

class Silent implements ProgressReporter {
  startEpoch(): void {} update(): void {} endEpoch(): void {} stop(): void {}
}

/** 'auto': a bar when the stream is a TTY and no `write` is given, else lines; 'lines': always lines; false: nothing. */
export type ProgressMode = 'auto' | 'bar' | 'lines' | false;

/**
 * A reporter for `mode`. Plain lines go to `write` (default: the stream); the bar draws on
 * `stream` (default process.stdout).
 */
export function makeReporter(mode: ProgressMode, write?: (s: string) => void, stream: NodeJS.WriteStream = process.stdout): ProgressReporter {
  if (mode !== 'auto' && mode !== 'bar' && mode !== 'lines' && mode !== false) {
    throw new Error(`Kiln: fit: progress must be 'auto', 'bar', 'lines' or false, got ${JSON.stringify(mode)}`);
  }
  if (mode === false) return new Silent();
  if (mode === 'bar' || (mode === 'auto' && stream.isTTY === true && !write)) return new BarReporter(stream);
  return new LineReporter(write ?? ((s) => stream.write(s)));
}
