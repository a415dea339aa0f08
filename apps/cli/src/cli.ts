import { createRequire } from 'node:module';
import { EXIT, UsageError, exitCodeOf } from './errors.js';
import { COMMANDS } from './commands/index.js';
import type { Out } from './commands/common.js';

const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

export const USAGE = `kiln ${VERSION} — train, export, inspect and run ONNX models made with Kiln

usage: kiln <command> [arguments]

commands:
${Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(8)} ${c.summary}`).join('\n')}

kiln <command> --help   help for one command
kiln --version          the version

exit codes: 0 success · 1 the command failed · 2 bad command line · 3 bad or missing input file`;

const stdio: Out = { print: (s) => console.log(s), note: (s) => console.error(s) };

/**
 * Runs the kiln command line on `argv` (without node and the script) and returns the exit code;
 * errors are printed through `out.note`, never thrown.
 */
export async function main(argv: readonly string[], out: Out = stdio): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      const topic = cmd === 'help' ? rest[0] : undefined;
      if (topic !== undefined) {
        const c = COMMANDS[topic];
        if (!c) throw new UsageError(`kiln help: unknown command '${topic}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
        out.print(c.spec.help);
      } else if (cmd === undefined) {
        out.note(USAGE);
      } else {
        out.print(USAGE);
      }
      return cmd === undefined ? EXIT.usage : EXIT.ok;
    }
    if (cmd === '--version' || cmd === '-v') {
      out.print(VERSION);
      return EXIT.ok;
    }
    const c = COMMANDS[cmd];
    if (!c) throw new UsageError(`kiln: unknown command '${cmd}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
    if (rest.includes('--help') || rest.includes('-h')) {
      out.print(c.spec.help);
      return EXIT.ok;
    }
    await c.run(rest, out);
    return EXIT.ok;
  } catch (e) {
    const code = exitCodeOf(e);
    const msg = e instanceof Error ? e.message : String(e);
    out.note(code === EXIT.usage ? `${msg}\n(see: kiln ${cmd && COMMANDS[cmd] ? `${cmd} ` : ''}--help)` : msg.startsWith('kiln') ? msg : `kiln ${cmd}: ${msg}`);
    return code;
  }
}
