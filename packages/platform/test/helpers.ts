// Test setup: a platform on an in-memory store with a clock the test moves and ids it can read,
// the fixture plug-ins (built by scripts/build-fixtures.js), and extension points over them.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe } from 'node:test';
import pg from 'pg';
import { type Actor, createPlatform, type ExtensionPointDefinition, OPERATOR, type Platform, type PlatformOptions } from '../src/index.js';

/** The bytes of test/fixtures/build/<name>.wasm. */
export function fixture(name: string): Uint8Array {
  return readFileSync(new URL(`fixtures/build/${name}.wasm`, import.meta.url));
}

/** The bytes of a built example plug-in (examples/plugins/<name>). */
export function example(name: string): Uint8Array {
  return readFileSync(new URL(`../../../examples/plugins/${name}/build/plugin.wasm`, import.meta.url));
}

/** The module with a custom section appended: the same code, other bytes (another version). */
export function withCustomSection(bytes: Uint8Array, name: string): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const section = [0, nameBytes.length + 1, nameBytes.length, ...nameBytes];
  const out = new Uint8Array(bytes.length + section.length);
  out.set(bytes);
  out.set(section, bytes.length);
  return out;
}

/** A clock the test moves by hand. */
export interface Clock {
  now: () => number;
  advance(ms: number): void;
}

export function clock(start = Date.UTC(2026, 0, 1)): Clock {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

export interface TestPlatform {
  platform: Platform;
  clock: Clock;
}

/** PostgreSQL for the tests (CI sets it); unset, the PostgreSQL half of every store test is skipped. */
export const PG_URL = process.env.TENON_PG_URL;

/** One engine a store test runs on. */
export interface Engine {
  name: 'sqlite' | 'postgres';
  /** A platform with a manual clock on a new, empty store of this engine. */
  testPlatform(options?: PlatformOptions): Promise<TestPlatform & AsyncDisposable>;
}

/** A new store: an in-memory SQLite database, or a fresh PostgreSQL schema dropped by `drop()`. */
export async function newStore(engine: 'sqlite' | 'postgres'): Promise<{ url: string; schema?: string; drop(): Promise<void> }> {
  if (engine === 'sqlite') return { url: ':memory:', drop: async () => {} };
  if (PG_URL === undefined) throw new Error('TENON_PG_URL is not set');
  // Tests run concurrently, one process per file: each store is its own schema, so no two collide.
  const schema = `t_${randomBytes(8).toString('hex')}`;
  const url = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${schema}`;
  return { url, schema, drop: () => dropSchema(schema) };
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

const ENGINES: readonly Engine[] = (['sqlite', 'postgres'] as const).map((name) => ({
  name,
  async testPlatform(options: PlatformOptions = {}) {
    const store = await newStore(name);
    const t = await testPlatform({ store: store.url, ...options });
    return {
      ...t,
      async [Symbol.asyncDispose]() {
        await t.platform.close();
        await store.drop();
      },
    };
  },
}));

/**
 * `describe(title)` once per engine, so every behaviour holds on each. Without TENON_PG_URL the
 * PostgreSQL suite is skipped with a line saying so.
 */
export function forEachEngine(title: string, body: (engine: Engine) => void): void {
  for (const engine of ENGINES) {
    const skip = engine.name === 'postgres' && PG_URL === undefined ? 'TENON_PG_URL is not set: PostgreSQL store tests skipped' : false;
    describe(`${title} (${engine.name})`, { skip }, () => body(engine));
  }
}

/** A platform with a manual clock; records flush only when the test says so (or at close). */
export async function testPlatform(options: PlatformOptions = {}): Promise<TestPlatform & AsyncDisposable> {
  const time = clock();
  const platform = await createPlatform({
    now: time.now,
    records: { flushMs: 60_000 },
    onError: (error) => {
      throw error;
    },
    ...options,
  });
  return { platform, clock: time, [Symbol.asyncDispose]: () => platform.close() };
}

/** An echo-shaped point over the behaviours fixture: `function` picks the behaviour. */
export function behaviourPoint(name: string, fn: string, extra: Partial<ExtensionPointDefinition> = {}): ExtensionPointDefinition {
  return {
    name,
    function: fn,
    input: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
    output: { type: 'object', properties: { n: { type: 'integer', maximum: 100 } }, required: ['n'] },
    limits: { fuel: 200_000, fuelPerInputKiB: 100_000, maxFuelScale: 5, timeoutMs: 1000, maxPages: 4, maxOutputBytes: 4096 },
    ...extra,
  };
}

/** The count-vowels point of PLATFORM.md's example. */
export function vowelsPoint(extra: Partial<ExtensionPointDefinition> = {}): ExtensionPointDefinition {
  return {
    name: 'text.vowels',
    function: 'count_vowels',
    input: { type: 'string' },
    output: { type: 'object', properties: { count: { type: 'integer' } }, required: ['count'] },
    limits: { fuel: 1_000_000, fuelPerInputKiB: 100_000, maxFuelScale: 10, timeoutMs: 1000, maxPages: 16, maxOutputBytes: 4096 },
    simulations: [
      { name: 'greeting', input: 'Hello, World!', expect: { output: { count: 3 } } },
      { name: 'empty', input: '', expect: { output: { count: 0 } } },
    ],
    ...extra,
  };
}

/** A partner, its actor, and a plug-in of its on `point`. */
export async function partnerWithPlugin(
  platform: Platform,
  point: string,
  name = 'acme',
): Promise<{ actor: Actor; partnerId: string; pluginId: string; key: string }> {
  const partner = await platform.partners.create(OPERATOR, { name });
  const actor = (await platform.authenticate(partner.key)) as Actor;
  const plugin = await platform.plugins.create(actor, { name: `${name}-plugin`, extensionPoint: point });
  return { actor, partnerId: partner.id, pluginId: plugin.id, key: partner.key };
}

/** Defines the point, uploads `bytes` as a partner's version (it must validate), installs it for each tenant. */
export async function installed(
  platform: Platform,
  definition: ExtensionPointDefinition,
  bytes: Uint8Array,
  tenants: readonly string[],
  partnerName = 'acme',
): Promise<{ actor: Actor; partnerId: string; pluginId: string; versionId: string; installations: string[] }> {
  if (!(await platform.extensionPoints.list(OPERATOR)).some((p) => p.name === definition.name)) {
    await platform.extensionPoints.define(OPERATOR, definition);
  }
  const owner = await partnerWithPlugin(platform, definition.name, partnerName);
  const version = await platform.versions.upload(owner.actor, owner.pluginId, bytes);
  if (version.status !== 'validated') throw new Error(`fixture rejected: ${JSON.stringify(version.report)}`);
  const installations: string[] = [];
  for (const tenant of tenants) {
    installations.push((await platform.installations.create(OPERATOR, { tenant, plugin: owner.pluginId, version: version.id })).id);
  }
  return { ...owner, versionId: version.id, installations };
}
