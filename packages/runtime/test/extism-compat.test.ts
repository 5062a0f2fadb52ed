import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import createExtismPlugin from '@extism/extism';
import createExtism1Plugin from 'extism-1';
import * as dropIn from '../src/extism.js';
import { createPlugin } from '../src/index.js';
import { fixture } from './fixtures.js';

// Our test plug-ins are real Extism plug-ins: the same bytes give the same outputs under
// @extism/extism (2.0.0-rc13 and 1.0.3) and under Tenon.

type ExtismOutput = { bytes(): Uint8Array } | null;
type ExtismPlugin = { call(name: string, input?: string | Uint8Array): Promise<ExtismOutput>; close(): Promise<void> };
type Create = (manifest: unknown, options?: unknown) => Promise<ExtismPlugin>;

const upper = (bytes: Uint8Array): Uint8Array => bytes.map((b) => (b >= 97 && b <= 122 ? b - 32 : b));

interface Case {
  fixture: string;
  fn: string;
  input: string;
  config?: Record<string, string>;
  wasi?: boolean;
  /**
   * Where a JS host departs from Extism's reference (Rust) runtime, which Tenon follows: what it
   * does today, asserted, so that a fix upstream fails the test and the case becomes an equal one.
   */
  departs1?: Departure;
  departs2?: Departure;
}

interface Departure {
  why: string;
  /** The output bytes it gives today (null: no output at all)... */
  output?: number[] | null;
  /** ...or the error it fails to load with. */
  loadError?: RegExp;
}

const cases: Case[] = [
  { fixture: 'count_vowels', fn: 'count_vowels', input: 'Hello, World!' },
  { fixture: 'count_vowels', fn: 'count_vowels', input: '' },
  { fixture: 'count_vowels_c', fn: 'count_vowels', input: 'The quick brown fox jumps over the lazy dog' },
  { fixture: 'echo', fn: 'echo', input: 'x'.repeat(4096 + 5) },
  { fixture: 'echo', fn: 'echo_bytewise', input: 'byte by byte' },
  { fixture: 'echo', fn: 'echo_noop', input: 'no copy' },
  { fixture: 'host_call', fn: 'reflect', input: 'to the host and back' },
  { fixture: 'config_var', fn: 'config', input: 'greeting', config: { greeting: 'hi there' } },
  { fixture: 'config_var', fn: 'counter', input: '' },
  { fixture: 'kv', fn: 'greet', input: 'Ada', config: { greeting: 'hello' } },
  {
    fixture: 'fail',
    fn: 'output_then_free',
    input: '',
    departs1: { why: 'it loses an output block freed after output_set', output: null },
    departs2: { why: 'it loses an output block freed after output_set (js-sdk#79)', output: null },
  },
  {
    fixture: 'fail',
    fn: 'short_output',
    input: '',
    departs1: { why: 'it returns the whole block, not the length set', output: [...Buffer.from('kept')] },
    departs2: { why: 'it returns the whole block, not the length set', output: [...Buffer.from('kept')] },
  },
  { fixture: 'globals', fn: 'count', input: '' },
  {
    fixture: 'math_app',
    fn: 'twenty_one_doubled',
    input: '',
    departs1: { why: 'it does no linking between modules', loadError: /module="math"/ },
  },
];

/** The case's manifest modules: math_app links the library it imports by name. */
function modules(c: Case): { data: Uint8Array; name?: string }[] {
  if (c.fixture !== 'math_app') return [{ data: fixture(c.fixture) }];
  return [
    { data: fixture('math_lib'), name: 'math' },
    { data: fixture('math_app'), name: 'main' },
  ];
}

async function extism(create: Create, c: Case): Promise<ExtismPlugin> {
  const wasm = modules(c);
  return create(
    { wasm, config: c.config ?? {} },
    {
      useWasi: c.wasi ?? false,
      config: c.config ?? {},
      functions: {
        'extism:host/user': {
          reflect: (cx: { read(p: bigint): { bytes(): Uint8Array } | null; store(b: Uint8Array): bigint }, p: bigint) =>
            cx.store(upper(cx.read(p)!.bytes())),
          add_i64: (_cx: unknown, a: bigint, b: bigint) => a + b,
        },
      },
    },
  );
}

async function tenon(c: Case): Promise<Uint8Array> {
  const wasm = modules(c);
  using plugin = await createPlugin(
    { wasm, config: c.config ?? {} },
    {
      logLevel: 'off',
      functions: [
        { name: 'reflect', params: ['ptr'], results: ['ptr'], call: (cx, p: bigint) => cx.write(upper(cx.read(p)!)) },
        { name: 'add_i64', params: ['i64', 'i64'], results: ['i64'], call: (_cx, a: bigint, b: bigint) => a + b },
      ],
    },
  );
  return plugin.call(c.fn, c.input).bytes();
}

/** The host still behaves as recorded, and still unlike Tenon; when either changes, this fails. */
async function assertDeparture(create: Create, c: Case, departure: Departure): Promise<void> {
  const ours = [...(await tenon(c))];
  const changed = 'the reference host changed: if it now matches Tenon, make this an identical-output case';
  if (departure.loadError) {
    await assert.rejects(extism(create, c), departure.loadError, changed);
    return;
  }
  const plugin = await extism(create, c);
  try {
    const output = await plugin.call(c.fn, c.input);
    const theirs = output === null ? null : [...output.bytes()];
    assert.deepEqual(theirs, departure.output, changed);
    assert.notDeepEqual(theirs, ours);
  } finally {
    await plugin.close();
  }
}

describe('the same plug-ins under @extism/extism and Tenon', () => {
  for (const c of cases) {
    const label = `${c.fixture} ${c.fn}(${JSON.stringify(c.input.length > 20 ? `${c.input.slice(0, 20)}...` : c.input)})`;
    for (const [version, create, departure] of [
      ['2.0.0-rc13', createExtismPlugin, c.departs2],
      ['1.0.3', createExtism1Plugin, c.departs1],
    ] as const) {
      if (departure) {
        test(`${label} under ${version} still departs from Extism's reference runtime: ${departure.why}`, async () => {
          await assertDeparture(create as unknown as Create, c, departure);
        });
        continue;
      }
      test(`${label} gives identical output under ${version}`, async () => {
        const plugin = await extism(create as unknown as Create, c);
        try {
          const theirs = (await plugin.call(c.fn, c.input))?.bytes() ?? new Uint8Array(0);
          assert.deepEqual(Buffer.from(await tenon(c)), Buffer.from(theirs));
        } finally {
          await plugin.close();
        }
      });
    }
  }

  test('a plug-in error fails the call under both hosts', async () => {
    const plugin = await extism(createExtismPlugin as unknown as Create, { fixture: 'fail', fn: 'fail', input: 'nope' });
    try {
      await assert.rejects(plugin.call('fail', 'nope'), /nope/);
    } finally {
      await plugin.close();
    }
    await assert.rejects(tenon({ fixture: 'fail', fn: 'fail', input: 'nope' }), { code: 'PLUGIN_FAILED', pluginMessage: 'nope' });
  });
});

describe('the @tenon/runtime/extism drop-in', () => {
  test('createPlugin, call and host functions have @extism/extism’s shape', async () => {
    const plugin = await dropIn.createPlugin(
      { wasm: [{ data: fixture('host_call') }] },
      {
        useWasi: false,
        functions: {
          'extism:host/user': {
            reflect: (cx: dropIn.CallContext, p: bigint) => {
              assert.equal(cx.hostContext(), 'ctx');
              return cx.store(upper(cx.read(p)!.bytes()));
            },
            add_i64: (_cx: dropIn.CallContext, a: bigint, b: bigint) => a + b,
          },
        },
      },
    );
    const output = await plugin.call('reflect', 'drop in', 'ctx');
    assert.ok(output instanceof DataView);
    assert.equal(output.text(), 'DROP IN');
    assert.equal(output.string(), 'DROP IN');
    assert.equal(await plugin.functionExists('reflect'), true);
    assert.equal(await plugin.functionExists('nope'), false);
    await plugin.close();
  });

  test('a call with no output resolves to null, as in @extism/extism', async () => {
    const plugin = await dropIn.createPlugin({ wasm: [{ data: fixture('fail') }] });
    assert.equal(await plugin.call('no_output'), null);
    await assert.rejects(plugin.call('fail', 'broken'), { code: 'PLUGIN_FAILED' });
    await plugin.close();
  });

  test('config, json() and vars work through the drop-in', async () => {
    const plugin = await dropIn.createPlugin({ wasm: [{ data: fixture('kv') }] }, { config: { greeting: 'hey' } });
    assert.equal((await plugin.call('greet', 'you'))?.text(), 'hey, you!');
    await plugin.close();
    const counter = await dropIn.createPlugin({ wasm: [{ data: fixture('count_vowels') }] });
    assert.deepEqual((await counter.call('count_vowels', 'aaa'))?.json(), { count: 3 });
    await counter.close();
  });
});
