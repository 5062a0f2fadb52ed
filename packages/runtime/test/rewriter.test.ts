import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { LimitError, LoadError } from '../src/index.js';
import { instrument } from '../src/limits/instrument.js';
import { fixture } from './fixtures.js';

/** Bounded in CI; `npm run fuzz` raises it. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

const fixtures = readdirSync(new URL('fixtures/build/', import.meta.url))
  .filter((f) => f.endsWith('.wasm'))
  .map((f) => f.slice(0, -5));

const meterImports = (fuel: WebAssembly.Global) => ({ tenon: { fuel, refuel: () => (fuel.value = 1 << 30) } });

describe('the bytecode rewriter', () => {
  for (const name of fixtures) {
    test(`${name}: the rewritten module validates, metered or not, capped or not`, () => {
      const bytes = fixture(name);
      // 1100 pages: above every fixture's initial memory (bulk starts at 1024), below most declared maximums
      for (const options of [{ meter: false }, { meter: true }, { meter: true, maxPages: 1100 }]) {
        assert.ok(WebAssembly.validate(instrument(bytes, options) as Uint8Array<ArrayBuffer>), JSON.stringify(options));
      }
    });
  }

  test('every post-MVP feature computes the same results after metering', () => {
    const bytes = fixture('features');
    const env = { 'extism:host/env': { alloc: () => 0n } };
    const original = new WebAssembly.Instance(new WebAssembly.Module(bytes), env);
    const fuel = new WebAssembly.Global({ value: 'i32', mutable: true }, 1 << 30);
    const metered = new WebAssembly.Instance(new WebAssembly.Module(instrument(bytes, { meter: true }) as Uint8Array<ArrayBuffer>), {
      ...env,
      ...meterImports(fuel),
    });
    for (const fn of ['numeric', 'multi', 'bulk', 'refs', 'simd', 'tail', 'exceptions', 'control']) {
      const expected = (original.exports[fn] as () => number)();
      fuel.value = 1 << 30;
      assert.equal((metered.exports[fn] as () => number)(), expected, fn);
      assert.ok((fuel.value as number) < 1 << 30, `${fn} was charged`);
    }
  });

  test('the same call is charged the same fuel every time', () => {
    const bytes = instrument(fixture('features'), { meter: true }) as Uint8Array<ArrayBuffer>;
    const used = [1, 2, 3].map(() => {
      const fuel = new WebAssembly.Global({ value: 'i32', mutable: true }, 1 << 30);
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
        'extism:host/env': { alloc: () => 0n },
        ...meterImports(fuel),
      });
      (instance.exports.control as () => number)();
      return (1 << 30) - (fuel.value as number);
    });
    assert.deepEqual(used, [used[0], used[0], used[0]]);
  });

  test('function indices in calls, exports, tables and ref.func survive the two new imports', () => {
    const bytes = fixture('features');
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(instrument(bytes, { meter: true }) as Uint8Array<ArrayBuffer>));
    assert.deepEqual(imports.slice(-2), [
      { module: 'tenon', name: 'fuel', kind: 'global' },
      { module: 'tenon', name: 'refuel', kind: 'function' },
    ]);
  });

  const malformed: [string, Uint8Array, RegExp][] = [
    ['empty input', new Uint8Array(0), /not a WebAssembly module/],
    ['bad magic', Uint8Array.from([0, 0x61, 0x73, 0x6e, 1, 0, 0, 0]), /not a WebAssembly module/],
    ['a section running past the end', Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 50, 1]), /truncated/],
    ['an unknown section id', Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 42, 0]), /unknown section id 42/],
    ['sections out of order', Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 3, 1, 0, 1, 1, 0]), /out of order/],
    [
      'a malformed LEB128',
      Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
      /malformed LEB128/,
    ],
  ];
  for (const [what, bytes, message] of malformed) {
    test(`${what} is a LoadError`, () => {
      assert.throws(
        () => instrument(bytes, { meter: true }),
        (error) => error instanceof LoadError && message.test(error.message),
      );
    });
  }

  test('an invalid opcode is a LoadError naming it', () => {
    // (module (func)) with its body's "end" replaced by 0xff
    const bytes = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 4, 1, 2, 0, 0xff]);
    assert.throws(() => instrument(bytes, { meter: true }), { name: 'LoadError', message: /unknown opcode 0xff/ });
  });

  test('a 100 MB module is rewritten without trouble (one big data segment)', () => {
    const size = 100 * 1024 * 1024;
    const header = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 4, 1, 0, 0x80, 0x0c]);
    // data section: one passive segment of `size` bytes
    const leb = (n: number): number[] => {
      const out: number[] = [];
      do {
        let b = n & 0x7f;
        n >>>= 7;
        if (n) b |= 0x80;
        out.push(b);
      } while (n);
      return out;
    };
    const segment = [1, 1, ...leb(size)];
    const section = [11, ...leb(segment.length + size), ...segment];
    const bytes = new Uint8Array(header.length + section.length + size);
    bytes.set(header);
    bytes.set(section, header.length);
    const out = instrument(bytes, { meter: true, maxPages: 2048 });
    assert.ok(out.length > size);
    assert.ok(WebAssembly.validate(out as Uint8Array<ArrayBuffer>));
  });
});

describe('fuzzing the rewriter (fast-check)', () => {
  const valid = fixtures.map((name) => fixture(name));

  test('random bytes give a LoadError, a memory over the cap, or a module that is valid exactly when the input was', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (tail) => {
        const bytes = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...tail]);
        rewritesFaithfully(bytes, { meter: true, maxPages: 4 });
      }),
      { numRuns: RUNS },
    );
  });

  test('mutated and truncated real modules give a LoadError, or a module that is valid exactly when the input was', () => {
    for (const original of valid) rewritesFaithfully(original, { meter: true }); // the unmutated ones, every run
    fc.assert(
      fc.property(
        fc.constantFrom(...valid),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.option(fc.nat()),
        (original, flips, cut) => {
          const bytes = original.slice(0, cut === null ? undefined : 8 + (cut % Math.max(1, original.length - 8)));
          for (const [at, value] of flips) if (bytes.length > 8) bytes[8 + (at % (bytes.length - 8))] = value;
          rewritesFaithfully(bytes, { meter: true });
        },
      ),
      { numRuns: RUNS },
    );
  });
});

/**
 * Both directions: a valid module is never refused and comes out valid; an invalid one is refused
 * with a LoadError or comes out invalid (the compiler then refuses it), never "repaired".
 */
function rewritesFaithfully(bytes: Uint8Array, options: Parameters<typeof instrument>[1]): void {
  const valid = WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>);
  let out: Uint8Array;
  try {
    out = instrument(bytes, options);
  } catch (error) {
    // a memory declared larger than the cap is refused whether or not the rest is valid
    if (error instanceof LimitError && error.code === 'MEMORY_LIMIT' && options?.maxPages !== undefined) return;
    if (!(error instanceof LoadError)) throw error;
    assert.equal(valid, false, `a valid module was refused: ${error.message}`);
    return;
  }
  assert.equal(
    WebAssembly.validate(out as Uint8Array<ArrayBuffer>),
    valid,
    valid ? 'a valid module came out invalid' : 'an invalid module came out valid',
  );
}
