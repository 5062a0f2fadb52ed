import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type HostFunction, loadHostFunctions } from '@tenon/runtime';
import ajv, { type ValidateFunction } from 'ajv';
import { caseProblems } from './case-problems.js';

/** What a case expects: exactly one of these. */
export type Expectation =
  | { output: string }
  | { outputJson: unknown }
  | { outputBase64: string }
  | { error: true | string | { code?: string; message?: string } };

/** The input of a call: at most one of these (none is an empty input). */
export interface CallInput {
  input?: string;
  inputJson?: unknown;
  inputBase64?: string;
}

/** One call of a case that makes several, on one instance. */
export interface CaseCall extends CallInput {
  name?: string;
  function: string;
  maxFuel?: number;
  expect: Expectation;
}

/** An answer a case gives to one of the plug-in's HTTP requests. */
export interface HttpAnswer {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  bodyJson?: unknown;
}

/** One declared call of a plug-in (or several, with `calls`) and what it should give. */
export interface TestCase extends CallInput {
  name?: string;
  function?: string;
  config?: Record<string, string>;
  wasi?: boolean;
  fuel?: number;
  timeoutMs?: number;
  maxPages?: number;
  maxFuel?: number;
  allowedHosts?: string[];
  /** Answers by "METHOD URL". */
  http?: Record<string, HttpAnswer>;
  expect?: Expectation;
  calls?: CaseCall[];
}

export interface CasesFile {
  hostFunctions?: string;
  cases: TestCase[];
}

/** A cases file that cannot be used: unreadable, not JSON, or not what the schema describes. */
export class CasesError extends Error {
  override readonly name = 'CasesError';
}

export const CASES_SCHEMA: object = JSON.parse(readFileSync(new URL('../cases.schema.json', import.meta.url), 'utf8'));
let validate: ValidateFunction<CasesFile> | undefined;

/** Read and validate a cases file; host functions named in it are imported relative to it. */
export async function loadCases(path: string): Promise<{ cases: TestCase[]; functions: HostFunction[] }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new CasesError(`Cannot read cases from "${path}": ${(error as Error).message}`);
  }
  validate ??= new ajv.default({ allErrors: true, verbose: true }).compile<CasesFile>(CASES_SCHEMA);
  const valid = validate(parsed);
  const problems = caseProblems(validate.errors ?? [], parsed);
  if (!valid && problems.length === 0)
    problems.push(...(validate.errors ?? []).map((e) => `${e.instancePath || '(top level)'} ${e.message}`));
  if (!valid || problems.length > 0) throw invalidCases(path, problems);
  const file = parsed as CasesFile;
  const functions = file.hostFunctions === undefined ? [] : [...(await loadHostFunctions(resolve(dirname(path), file.hostFunctions)))];
  return { cases: file.cases, functions };
}

function invalidCases(path: string, problems: string[]): CasesError {
  return new CasesError(`"${path}" is not a valid cases file:\n${problems.map((p) => `  ${p}`).join('\n')}`);
}
