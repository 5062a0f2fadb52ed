import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KERNEL_IMPORTS, KERNEL_WASM_ONLY, Kernel, type KernelHost } from '../src/kernel/kernel.js';

// The kernel's plug-in-facing exports, called from JavaScript exactly as a plug-in would call them.
type Env = {
  alloc(n: bigint): bigint;
  free(p: bigint): void;
  length(p: bigint): bigint;
  length_unsafe(p: bigint): bigint;
  load_u8(p: bigint): number;
  load_u64(p: bigint): bigint;
  store_u8(p: bigint, v: number): void;
  store_u64(p: bigint, v: bigint): void;
  input_length(): bigint;
  input_offset(): bigint;
  input_load_u8(k: bigint): number;
  input_load_u64(k: bigint): bigint;
  output_set(p: bigint, n: bigint): void;
  error_set(p: bigint): void;
  error_get(): bigint;
  input_set(p: bigint, n: bigint): void;
  reset(): void;
  memory_bytes(): bigint;
  get_log_level(): number;
  log_info(p: bigint): void;
};

function kernel(maxPages?: number, host?: Partial<KernelHost>): { k: Kernel; env: Env } {
  const k = new Kernel(maxPages);
  if (host) k.host = { ...k.host, ...host };
  return { k, env: k.env as unknown as Env };
}

const WILD = [0n, 1n, 255n, 2n ** 32n, 2n ** 40n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n - 8n];

describe('kernel memory', () => {
  test('alloc returns distinct 8-aligned blocks whose length is the size asked for', () => {
    const { env } = kernel();
    const a = env.alloc(10n);
    const b = env.alloc(3n);
    assert.notEqual(a, 0n);
    assert.notEqual(b, a);
    assert.equal(a % 8n, 0n);
    assert.equal(b % 8n, 0n);
    assert.equal(env.length(a), 10n);
    assert.equal(env.length(b), 3n);
    assert.equal(env.length_unsafe(b), 3n);
  });

  test('alloc(0) is the null offset and length(0) is 0', () => {
    const { env } = kernel();
    assert.equal(env.alloc(0n), 0n);
    assert.equal(env.length(0n), 0n);
  });

  test('length is 0 for offsets that are not the start of a live block', () => {
    const { env } = kernel();
    const a = env.alloc(64n);
    for (const p of [...WILD, a + 1n, a + 8n, a - 16n]) assert.equal(env.length(p), 0n, `length(${p})`);
    env.free(a);
    assert.equal(env.length(a), 0n);
  });

  test('a freed block is not handed out again while memory has room, and stays readable', () => {
    const { env } = kernel();
    const a = env.alloc(16n);
    env.store_u64(a, 0x1234n);
    env.free(a);
    const b = env.alloc(16n);
    assert.notEqual(b, a);
    assert.equal(env.load_u64(a), 0x1234n);
  });

  /** Fill a one-page kernel with blocks of `size` bytes; returns them. */
  function fill(env: Env, size: bigint): bigint[] {
    const blocks: bigint[] = [];
    for (let p = env.alloc(size); p !== 0n; p = env.alloc(size)) blocks.push(p);
    return blocks;
  }

  test('once memory is full, a freed block of a fitting size is reused rather than growing memory', () => {
    const { k, env } = kernel(1);
    const blocks = fill(env, 1000n);
    env.free(blocks[10]!);
    assert.equal(env.alloc(900n), blocks[10]);
    assert.equal(env.length(blocks[10]!), 900n);
    assert.equal(k.memory.buffer.byteLength, 65536);
  });

  test("the host's alloc zeroes a reused block: nothing of the bytes freed with it shows", () => {
    const { k, env } = kernel(1);
    const blocks = fill(env, 1000n);
    for (let i = 0n; i < 1000n; i += 8n) env.store_u64(blocks[10]! + i, 0xdead_beef_dead_beefn);
    env.free(blocks[10]!);
    const offset = k.alloc(900);
    assert.equal(BigInt(offset), blocks[10]);
    assert.deepEqual(k.view(offset), new Uint8Array(900));
    assert.equal(k.alloc(65536), -1);
  });

  test('a large freed block is split so its rest serves other allocations', () => {
    const { env } = kernel(1);
    const big = env.alloc(4096n);
    fill(env, 8n); // leaves less than a 16-byte block's room at the end
    env.free(big);
    const small = env.alloc(16n);
    const next = env.alloc(16n);
    assert.equal(small, big);
    assert.ok(next > small && next < big + 4096n, 'second block comes out of the split remainder');
  });

  test('1,000 alloc/free cycles of 1 KiB do not grow memory past its first page', () => {
    const { k, env } = kernel();
    for (let i = 0; i < 1000; i++) env.free(env.alloc(1024n));
    assert.equal(k.memory.buffer.byteLength, 65536);
  });

  test('double free and free of wild offsets are ignored', () => {
    const { env } = kernel();
    const a = env.alloc(32n);
    const b = env.alloc(32n);
    env.free(a);
    env.free(a);
    for (const p of WILD) env.free(p);
    assert.equal(env.length(b), 32n);
    const c = env.alloc(32n);
    const d = env.alloc(32n);
    assert.notEqual(c, d, 'a double free must not hand the same block out twice');
  });

  test('stores then loads round-trip bytes and little-endian u64s inside a block', () => {
    const { env } = kernel();
    const p = env.alloc(16n);
    env.store_u8(p, 0x1ff);
    assert.equal(env.load_u8(p), 0xff);
    env.store_u64(p + 8n, 0x0102030405060708n);
    assert.equal(env.load_u64(p + 8n), 0x0102030405060708n);
    assert.equal(env.load_u8(p + 8n), 0x08);
  });

  test('loads outside memory return 0 and stores there are dropped, never a trap', () => {
    const { env } = kernel();
    for (const p of WILD) {
      assert.equal(env.load_u8(p), 0);
      assert.equal(env.load_u64(p), 0n);
      env.store_u8(p, 1);
      env.store_u64(p, 1n);
    }
    const end = env.memory_bytes();
    assert.equal(env.load_u64(end - 7n), 0n, 'an 8-byte load straddling the end returns 0');
  });

  test('the allocator bookkeeping below the heap can be neither read nor written', () => {
    const { env } = kernel();
    const a = env.alloc(32n);
    env.free(a);
    env.alloc(8n);
    for (let p = 0n; p < 256n; p += 8n) {
      env.store_u64(p, -1n);
      assert.equal(env.load_u64(p), 0n);
    }
    assert.equal(env.alloc(32n) % 8n, 0n, 'allocator still works');
  });

  test('alloc returns 0 when memory cannot grow past maxPages', () => {
    const { env } = kernel(2);
    assert.notEqual(env.alloc(65536n), 0n);
    assert.equal(env.alloc(65536n), 0n);
    assert.equal(env.alloc(2n ** 40n), 0n);
    assert.equal(env.alloc(-1n & (2n ** 64n - 1n)), 0n);
    assert.notEqual(env.alloc(100n), 0n, 'small allocations still fit');
  });
});

describe('kernel input and output', () => {
  test('input loads are relative to the input and return 0 past its end', () => {
    const { k, env } = kernel();
    k.beginText('abcdefghij');
    assert.equal(env.input_length(), 10n);
    assert.equal(env.input_load_u8(0n), 97);
    assert.equal(env.input_load_u8(9n), 106);
    assert.equal(env.input_load_u8(10n), 0);
    assert.equal(env.input_load_u64(2n), 0x6a69686766656463n);
    assert.equal(env.input_load_u64(3n), 0n, 'an 8-byte read past the end is 0');
    for (const p of WILD.slice(3)) {
      assert.equal(env.input_load_u8(p), 0);
      assert.equal(env.input_load_u64(p), 0n);
    }
    assert.equal(env.length(env.input_offset()), 10n);
  });

  test('an empty input has offset 0 and length 0', () => {
    const { k, env } = kernel();
    k.begin(new Uint8Array(0));
    assert.equal(env.input_offset(), 0n);
    assert.equal(env.input_length(), 0n);
    assert.equal(env.input_load_u64(0n), 0n);
  });

  test('non-ASCII text input is encoded as UTF-8', () => {
    const { k, env } = kernel();
    k.beginText('héllo ✓');
    const bytes = Array.from({ length: Number(env.input_length()) }, (_, i) => env.input_load_u8(BigInt(i)));
    assert.equal(Buffer.from(bytes).toString('utf8'), 'héllo ✓');
  });

  test('freeing the input block sets input_length to 0', () => {
    const { k, env } = kernel();
    k.beginText('hello');
    env.free(env.input_offset());
    assert.equal(env.input_length(), 0n);
  });

  test('output survives the plug-in freeing its block after output_set', () => {
    const { k, env } = kernel();
    k.begin(new Uint8Array(0));
    const p = env.alloc(4n);
    for (let i = 0; i < 4; i++) env.store_u8(p + BigInt(i), 65 + i);
    env.output_set(p, 4n);
    env.free(p);
    const offset = k.exports.host_output();
    assert.equal(Buffer.from(k.u8.subarray(offset, offset + k.exports.host_output_length())).toString(), 'ABCD');
  });

  test('an output range outside memory is reported as invalid, not read', () => {
    const { k, env } = kernel();
    k.begin(new Uint8Array(0));
    const p = env.alloc(8n);
    for (const [off, len] of [
      [2n ** 40n, 10n],
      [p, 2n ** 40n],
      [2n ** 64n - 1n, 2n],
      [1n, 4n],
    ] as const) {
      env.output_set(off, len);
      assert.equal(k.exports.host_output(), -1, `output_set(${off}, ${len})`);
    }
    env.output_set(0n, 0n);
    assert.equal(k.exports.host_output(), 0);
  });

  test('error_set records a message block; a wild or empty error counts as none', () => {
    const { k, env } = kernel();
    k.begin(new Uint8Array(0));
    env.error_set(12345n);
    assert.equal(k.exports.host_error(), 0);
    const p = env.alloc(2n);
    env.store_u8(p, 104);
    env.store_u8(p + 1n, 105);
    env.error_set(p);
    assert.equal(env.error_get(), p);
    assert.equal(k.readText(k.exports.host_error()), 'hi');
  });

  test('input_set accepts only ranges inside the heap', () => {
    const { k, env } = kernel();
    k.beginText('original');
    const before = env.input_offset();
    env.input_set(2n ** 40n, 4n);
    env.input_set(before, 2n ** 63n);
    env.input_set(2n ** 64n - 1n, 2n);
    assert.equal(env.input_offset(), before);
    assert.equal(env.input_length(), 8n);
  });

  test('starting a call forgets every block of the previous one', () => {
    const { k, env } = kernel();
    k.begin(new Uint8Array(0));
    const p = env.alloc(16n);
    k.beginText('next');
    assert.equal(env.length(p), 4n, 'the old offset now names the new input block');
    assert.equal(k.exports.host_heap_bytes(), 16 + 8);
  });

  test('logs below the host level are freed without calling the host', () => {
    const lines: number[] = [];
    const { k, env } = kernel(undefined, { log: (level, p) => lines.push(level, p) });
    k.exports.host_set_log_level(3);
    assert.equal(env.get_log_level(), 3);
    k.begin(new Uint8Array(0));
    const p = env.alloc(8n);
    env.log_info(p);
    assert.deepEqual(lines, []);
    assert.equal(env.length(p), 0n, 'the message block was freed');
  });
});

describe('which kernel imports call out to JavaScript', () => {
  // The rewriter lets a counted loop call KERNEL_WASM_ONLY imports without a check per iteration,
  // trusting that they never reach JavaScript (which could throw an exception the plug-in catches).
  const reached: string[] = [];
  const spy = (name: string) => () => {
    reached.push(name);
    return 0;
  };
  const host: KernelHost = {
    config_get: spy('config_get'),
    var_get: spy('var_get'),
    var_set: spy('var_set'),
    log: spy('log'),
    http_request: spy('http_request'),
    http_headers: spy('http_headers'),
  };

  // every parameter is an i64 but store_u8's value
  const args = (name: string, fn: unknown, arg: bigint): (bigint | number)[] =>
    Array.from({ length: (fn as { length: number }).length }, (_, i) => (name === 'store_u8' && i === 1 ? Number(arg & 0xffn) : arg));

  test('every import in KERNEL_WASM_ONLY stays in WebAssembly, whatever its arguments; every other one reaches the host', () => {
    const k = new Kernel(undefined);
    k.host = host;
    k.exports.host_set_log_level(0);
    const env = k.env as Record<string, (...args: (bigint | number)[]) => unknown>;
    const block = (env.alloc as (n: bigint) => bigint)(16n);
    for (const name of KERNEL_IMPORTS) {
      const fn = env[name]!;
      for (const arg of [0n, block, ...WILD]) {
        reached.length = 0;
        try {
          fn(...args(name, fn, arg));
        } catch (error) {
          assert.ok(error instanceof WebAssembly.RuntimeError, `${name}: ${error}`);
        }
        if (KERNEL_WASM_ONLY.has(name)) assert.deepEqual(reached, [], `${name}(${arg})`);
      }
      if (!KERNEL_WASM_ONLY.has(name)) {
        reached.length = 0;
        // a log line is a block the host reads (an empty one is freed unread)
        fn(...args(name, fn, name.startsWith('log_') ? (env.alloc as (n: bigint) => bigint)(4n) : 0n));
        assert.equal(reached.length, 1, `${name} reaches the host`);
      }
    }
  });
});
