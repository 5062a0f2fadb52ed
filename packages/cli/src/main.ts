import { Command, CommanderError } from 'commander';
import { callCommand } from './call.js';
import { EXIT } from './exit-codes.js';
import { newCommand } from './new.js';
import { promoteCommand } from './promote.js';
import { pushCommand } from './push.js';
import { replayCommand } from './replay.js';
import { serveCommand } from './serve.js';
import { testCommand } from './test.js';

/** Where a command reads and writes; tests pass their own. */
export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
}

/** Run `tenon` with `argv` (without node and the script); resolves to the exit status. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let status: number = EXIT.ok;
  const program = new Command('tenon')
    .description('Run Extism-ABI WebAssembly plug-ins in process, sandboxed, as plain functions')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  const exit = (code: number): void => {
    status = code;
  };
  program.addCommand(callCommand(io, exit));
  program.addCommand(testCommand(io, exit));
  program.addCommand(newCommand(io, exit));
  program.addCommand(serveCommand(io, exit));
  program.addCommand(pushCommand(io, exit));
  program.addCommand(replayCommand(io, exit));
  program.addCommand(promoteCommand(io, exit));
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    io.stderr.write(`tenon: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.internal;
  }
  return status;
}
