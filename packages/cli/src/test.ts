import { readFile } from 'node:fs/promises';
import { isTenonError } from '@tenon/runtime';
import { Command, Option } from 'commander';
import { diffLines } from 'diff';
import { CasesError, loadCases } from './cases.js';
import { EXIT } from './exit-codes.js';
import type { Io } from './main.js';
import { type CaseResult, caseName, runCases } from './run-cases.js';

/** `tenon test`: run a plug-in against declared cases before shipping it to a host. */
export function testCommand(io: Io, exit: (status: number) => void): Command {
  return new Command('test')
    .description('Run the cases of a cases.json file against a plug-in and report each, with a diff on failure')
    .argument('<plugin>', 'the .wasm module to test')
    .option('--cases <file>', 'the cases file (see cases.schema.json in @tenon/cli)', 'cases.json')
    .option('--filter <text>', 'run only the cases whose name (or, unnamed, "function #n") contains this text')
    .addOption(
      new Option('--reporter <format>', 'text for people; json (one document) or junit (XML) on stdout for CI')
        .choices(['text', 'json', 'junit'])
        .default('text'),
    )
    .addHelpText('after', '\nExit codes:\n  0  every case passed\n  1  a case failed\n  2  the plug-in or the cases file could not be used')
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout.write(t), writeErr: (t) => io.stderr.write(t) })
    .action(async (plugin: string, flags: TestFlags) => {
      exit(await runTest(plugin, flags, io));
    });
}

interface TestFlags {
  cases: string;
  filter?: string;
  reporter: 'text' | 'json' | 'junit';
}

async function runTest(plugin: string, flags: TestFlags, io: Io): Promise<number> {
  const casesPath = flags.cases;
  const text = flags.reporter === 'text';
  let wasm: Uint8Array;
  try {
    wasm = await readFile(plugin);
  } catch (error) {
    io.stderr.write(`tenon: cannot read "${plugin}": ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  try {
    const loaded = await loadCases(casesPath);
    const filter = flags.filter;
    // named before filtering, so that an unnamed case keeps its number in the file
    const named = loaded.cases.map((c, i) => ({ ...c, name: caseName(c, i) }));
    const cases = filter === undefined ? named : named.filter((c) => c.name.includes(filter));
    if (cases.length === 0) {
      io.stderr.write(`tenon: no case of "${casesPath}" has "${filter}" in its name\n`);
      return EXIT.usage;
    }
    if (text) io.stdout.write(`${plugin}: ${cases.length} case${cases.length === 1 ? '' : 's'}\n`);
    const results = await runCases(wasm, cases, loaded.functions, (result) => {
      if (text) io.stdout.write(report(result));
    });
    const failed = results.filter((r) => !r.passed).length;
    if (text) io.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
    else if (flags.reporter === 'json')
      io.stdout.write(`${JSON.stringify({ plugin, passed: results.length - failed, failed, cases: results }, null, 2)}\n`);
    else io.stdout.write(junit(plugin, results));
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
  else if (result.actual !== undefined) text += `        actual: ${result.actual.replace(/\n$/, '')}\n`;
  return text;
}

const xml = (value: string): string => value.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? c);

/** JUnit XML, the report CI systems (GitHub, GitLab, Jenkins) read: one testcase per case. */
function junit(plugin: string, results: readonly CaseResult[]): string {
  const failed = results.filter((r) => !r.passed).length;
  let text = `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites tests="${results.length}" failures="${failed}">\n`;
  text += `  <testsuite name="${xml(plugin)}" tests="${results.length}" failures="${failed}">\n`;
  for (const result of results) {
    text += `    <testcase name="${xml(result.name)}" classname="${xml(plugin)}"`;
    if (result.passed) {
      text += ' />\n';
      continue;
    }
    const detail =
      result.expected !== undefined && result.actual !== undefined ? diff(result.expected, result.actual) : (result.actual ?? '');
    text += `>\n      <failure message="${xml(result.problem ?? 'failed')}">${xml(detail)}</failure>\n    </testcase>\n`;
  }
  return `${text}  </testsuite>\n</testsuites>\n`;
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
