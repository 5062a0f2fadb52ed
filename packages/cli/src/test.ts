import { readFile } from 'node:fs/promises';
import { isTenonError } from '@tenon/runtime';
import { Command } from 'commander';
import { diffLines } from 'diff';
import { type CaseResult, CasesError, loadCases, runCases } from './cases.js';
import { EXIT } from './exit-codes.js';
import type { Io } from './main.js';

/** `tenon test`: run a plug-in against declared cases before shipping it to a host. */
export function testCommand(io: Io, exit: (status: number) => void): Command {
  return new Command('test')
    .description('Run the cases of a cases.json file against a plug-in and report each, with a diff on failure')
    .argument('<plugin>', 'the .wasm module to test')
    .requiredOption('--cases <file>', 'the cases file (see cases.schema.json in @tenon/cli)')
    .addHelpText('after', '\nExit codes:\n  0  every case passed\n  1  a case failed\n  2  the plug-in or the cases file could not be used')
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout.write(t), writeErr: (t) => io.stderr.write(t) })
    .action(async (plugin: string, flags: { cases: string }) => {
      exit(await runTest(plugin, flags.cases, io));
    });
}

async function runTest(plugin: string, casesPath: string, io: Io): Promise<number> {
  let wasm: Uint8Array;
  try {
    wasm = await readFile(plugin);
  } catch (error) {
    io.stderr.write(`tenon: cannot read "${plugin}": ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  try {
    const { cases, functions } = await loadCases(casesPath);
    io.stdout.write(`${plugin}: ${cases.length} case${cases.length === 1 ? '' : 's'}\n`);
    const results = await runCases(wasm, cases, functions, (result) => io.stdout.write(report(result)));
    const failed = results.filter((r) => !r.passed).length;
    io.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
    return failed === 0 ? EXIT.ok : EXIT.pluginError;
  } catch (error) {
    if (error instanceof CasesError || isTenonError(error)) {
      io.stderr.write(`tenon: ${isTenonError(error) ? `${error.code}: ` : ''}${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}

function report(result: CaseResult): string {
  // fuel, not time: it is what a host limits and it does not vary from run to run
  const cost = result.fuel === undefined ? '' : ` (fuel ${result.fuel})`;
  if (result.passed) return `  ok    ${result.name}${cost}\n`;
  let text = `  FAIL  ${result.name}${cost}\n        ${result.problem}\n`;
  if (result.expected !== undefined && result.actual !== undefined) text += diff(result.expected, result.actual);
  else if (result.actual !== undefined) text += `        actual: ${result.actual}\n`;
  return text;
}

/** Expected lines with "-", actual with "+", shared lines indented: the way a reviewer reads it. */
function diff(expected: string, actual: string): string {
  let text = '        - expected  + actual\n';
  for (const part of diffLines(`${expected}\n`, `${actual}\n`)) {
    const mark = part.added ? '+ ' : part.removed ? '- ' : '  ';
    for (const line of part.value.replace(/\n$/, '').split('\n')) text += `        ${mark}${line}\n`;
  }
  return text;
}
