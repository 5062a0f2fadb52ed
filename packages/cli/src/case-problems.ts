// What is wrong with a cases file, said the way its author reads it: which case, which key, and the
// key they probably meant. Ajv finds the problems; this turns its JSON pointers into sentences.
import type { ErrorObject } from 'ajv';
import leven from 'leven';

const INPUTS = ['input', 'inputJson', 'inputBase64'] as const;
const CALL_KEYS = ['function', 'expect', ...INPUTS] as const;

/** One sentence per problem, in file order, without repeats. */
export function caseProblems(errors: readonly ErrorObject[], data: unknown): string[] {
  const problems: string[] = [];
  const suggested = new Set<string>();
  for (const error of errors) {
    // the case's shape (function and expect, or calls) is checked below with a sentence of its own
    if (/^\/cases\/\d+$/.test(error.instancePath) && /^#(\/definitions\/case)?\/oneOf/.test(error.schemaPath)) continue;
    const problem = describe(error, data);
    if (problem === undefined) continue;
    problems.push(problem.text);
    if (problem.suggestion !== undefined) suggested.add(`${error.instancePath} ${problem.suggestion}`);
  }
  const cases = isObject(data) && Array.isArray(data.cases) ? data.cases : [];
  for (const [i, testCase] of cases.entries()) {
    if (!isObject(testCase)) continue;
    problems.push(...shapeProblems(testCase, `/cases/${i}`, data, suggested));
  }
  return [...new Set(problems)];
}

function describe(error: ErrorObject, data: unknown): { text: string; suggestion?: string } | undefined {
  const path = segments(error.instancePath);
  const where = place(path, data);
  if (error.keyword === 'additionalProperties') {
    const key = String(error.params.additionalProperty);
    const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    const near = nearest(key, known);
    return {
      text: `unknown key \`${key}\` ${where.in}${near === undefined ? ` (known keys: ${known.map((k) => `\`${k}\``).join(', ')})` : `; did you mean \`${near}\`?`}`,
      ...(near !== undefined && { suggestion: near }),
    };
  }
  if (error.keyword === 'propertyNames') return undefined; // its pattern error, which names the key, says it
  if (error.keyword === 'pattern' && error.params.pattern === '^[A-Z]+ https?://\\S+$') {
    return { text: `\`${String(error.propertyName)}\` ${where.in} is not "METHOD URL" (such as "GET https://api.example.com/x")` };
  }
  if (error.keyword === 'required') return { text: `\`${String(error.params.missingProperty)}\` is missing ${where.in}` };
  if (error.keyword === 'minProperties' || error.keyword === 'maxProperties') {
    if (path.at(-1) === 'expect')
      return { text: `${where.of} needs exactly one of \`output\`, \`outputJson\`, \`outputBase64\` or \`error\`` };
  }
  if (error.schemaPath.includes('/properties/error/oneOf')) {
    // expect.error: true, a message fragment, or {code, message}; only the object branch has keys to name
    const value = at(data, path);
    if (!isObject(value) || error.keyword === 'oneOf' || !error.schemaPath.includes('/oneOf/2/')) {
      return error.keyword === 'oneOf' && !isObject(value)
        ? { text: `${where.of} must be true, a message fragment or {"code", "message"}` }
        : undefined;
    }
  }
  return { text: `${where.of} ${error.message ?? 'is invalid'}` };
}

/** A case gives function and expect (and an input), or calls with those in each call: not both, not neither. */
function shapeProblems(testCase: Record<string, unknown>, pointer: string, data: unknown, suggested: ReadonlySet<string>): string[] {
  const where = place(segments(pointer), data);
  const problems: string[] = [];
  if (testCase.calls !== undefined) {
    const clash = CALL_KEYS.filter((key) => testCase[key] !== undefined);
    if (clash.length > 0) {
      problems.push(
        `${where.name} gives \`calls\` and ${clash.map((k) => `\`${k}\``).join(', ')}: with calls, each call names its function, input and expect`,
      );
    }
    const calls = Array.isArray(testCase.calls) ? testCase.calls : [];
    for (const [j, call] of calls.entries()) {
      if (isObject(call)) problems.push(...inputProblems(call, place(segments(`${pointer}/calls/${j}`), data).name));
    }
    return [...problems, ...answerProblems(testCase, where.name)];
  }
  for (const key of ['function', 'expect'] as const) {
    // a misspelt key already got its "did you mean": "missing" would only repeat it
    if (testCase[key] === undefined && !suggested.has(`${pointer} ${key}`)) {
      problems.push(`${where.name} has no \`${key}\` (give \`function\` and \`expect\`, or \`calls\`)`);
    }
  }
  return [...problems, ...inputProblems(testCase, where.name), ...answerProblems(testCase, where.name)];
}

function answerProblems(testCase: Record<string, unknown>, name: string): string[] {
  const answers = isObject(testCase.http) ? Object.entries(testCase.http) : [];
  return answers.flatMap(([request, answer]) =>
    isObject(answer) && answer.body !== undefined && answer.bodyJson !== undefined
      ? [`the answer to "${request}" in ${name} gives \`body\` and \`bodyJson\`; keep one`]
      : [],
  );
}

function inputProblems(call: Record<string, unknown>, name: string): string[] {
  const inputs = INPUTS.filter((key) => call[key] !== undefined);
  return inputs.length > 1 ? [`${name} gives its input twice (${inputs.map((k) => `\`${k}\``).join(', ')}); keep one`] : [];
}

/** The closest of `known` to a misspelt key, if one is close enough to be what was meant. */
function nearest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const d = leven(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** How a sentence names a place in the file: "case 2 ("name"), call 1", and a key path below it. */
function place(path: readonly string[], data: unknown): { name: string; in: string; of: string } {
  if (path[0] !== 'cases' || path[1] === undefined) {
    const key = path.join('.');
    return { name: 'the file', in: key === '' ? 'at the top level' : `in \`${key}\``, of: key === '' ? 'the file' : `\`${key}\`` };
  }
  const i = Number(path[1]);
  const testCase = at(data, ['cases', path[1]]);
  const label = isObject(testCase) && typeof testCase.name === 'string' ? ` ("${testCase.name}")` : '';
  let name = `case ${i + 1}${label}`;
  let rest = path.slice(2);
  if (rest[0] === 'calls' && rest[1] !== undefined) {
    name += `, call ${Number(rest[1]) + 1}`;
    rest = rest.slice(2);
  }
  const key = rest.join('.');
  return key === '' ? { name, in: `in ${name}`, of: name } : { name, in: `in \`${key}\` of ${name}`, of: `\`${key}\` of ${name}` };
}

/** The keys of a JSON pointer, unescaped (RFC 6901). */
function segments(pointer: string): string[] {
  return pointer === ''
    ? []
    : pointer
        .slice(1)
        .split('/')
        .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function at(data: unknown, path: readonly string[]): unknown {
  let value = data;
  for (const key of path) value = isObject(value) || Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
