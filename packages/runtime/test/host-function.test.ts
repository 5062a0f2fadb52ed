import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePlugin, type HostFunction, type Plugin } from '../src/index.js';
import { fixture, u64 } from './fixtures.js';

const upper = (bytes: Uint8Array): Uint8Array => bytes.map((b) => (b >= 97 && b <= 122 ? b - 32 : b));

const add: HostFunction = { name: 'add_i64', params: ['i64', 'i64'], results: ['i64'], call: (_c, a: bigint, b: bigint) => a + b };

async function hostCall(reflect: HostFunction['call'], extra: Partial<HostFunction> = {}): Promise<Plugin> {
  const compiled = await compilePlugin(fixture('host_call'), {
    logLevel: 'off',
    functions: [{ name: 'reflect', params: ['ptr'], results: ['ptr'], call: reflect, ...extra }, add],
  });
  return compiled.instantiate();
}

describe('host functions', () => {
  test('a host function reads the plug-in’s block and returns a new one', async () => {
    using plugin = await hostCall((context, offset: bigint) => context.write(upper(context.read(offset) ?? new Uint8Array())));
    assert.equal(plugin.call('reflect', 'hello, host').text(), 'HELLO, HOST');
  });

  test('view() reads a block without a copy, and writing it back survives Extism memory growing', async () => {
    using plugin = await hostCall((context, offset: bigint) => context.write(context.view(offset)!));
    const input = new Uint8Array(3 << 20).map((_, i) => i % 251);
    assert.deepEqual(plugin.call('reflect', input).bytes(), input);
    assert.equal(plugin.call('reflect', 'small').text(), 'small');
  });

  test("a view kept past its host call reads as empty, never as a later call's bytes", async () => {
    const kept: Uint8Array[] = [];
    using plugin = await hostCall((context, offset: bigint) => {
      const view = context.view(offset)!;
      kept.push(view);
      return context.write(view);
    });
    assert.equal(plugin.call('reflect', 'first customer').text(), 'first customer');
    assert.equal(plugin.call('reflect', 'second customer').text(), 'second customer');
    assert.deepEqual(
      kept.map((view) => view.length),
      [0, 0],
    );
    assert.throws(() => kept[0]!.set([1]), { name: 'TypeError', message: /detached/ });
  });

  test('alloc() gives a zeroed block the host fills in place through view(), with no copy of the result', async () => {
    using plugin = await hostCall((context, offset: bigint) => {
      const length = context.length(offset);
      const out = context.alloc(length + 2);
      const target = context.view(out)!;
      assert.deepEqual([...target], new Array(length + 2).fill(0));
      target.set(context.view(offset)!);
      target.set([33, 33], length);
      return out;
    });
    assert.equal(plugin.call('reflect', 'in place').text(), 'in place!!');
    const large = new Uint8Array(3 << 20).map((_, i) => i % 251);
    assert.deepEqual(plugin.call('reflect', large).bytes().subarray(0, large.length), large);
  });

  test("a view of an allocated block kept past its host call reads as empty, never as a later call's bytes", async () => {
    const kept: Uint8Array[] = [];
    using plugin = await hostCall((context, offset: bigint) => {
      const out = context.alloc(context.length(offset));
      const view = context.view(out)!;
      view.set(context.view(offset)!);
      kept.push(view);
      return out;
    });
    assert.equal(plugin.call('reflect', 'tenant one').text(), 'tenant one');
    assert.equal(plugin.call('reflect', 'tenant two').text(), 'tenant two');
    assert.deepEqual(
      kept.map((view) => view.length),
      [0, 0],
    );
    assert.throws(() => kept[1]!.set([1]), { name: 'TypeError', message: /detached/ });
  });

  test('alloc() past Extism memory fails the call with MEMORY_LIMIT; a bad length is the host function’s error', async () => {
    const compiled = await compilePlugin(fixture('host_call'), {
      logLevel: 'off',
      memory: { maxPages: 4 },
      functions: [{ name: 'reflect', params: ['ptr'], results: ['ptr'], call: (context) => context.alloc(8 << 20) }, add],
    });
    using plugin = compiled.instantiate();
    assert.throws(() => plugin.call('reflect', 'x'), {
      name: 'LimitError',
      code: 'MEMORY_LIMIT',
      message: /host function block of \d+ bytes/,
    });
    using bad = await hostCall((context) => context.alloc(-1));
    assert.throws(() => bad.call('reflect', 'x'), {
      name: 'HostFunctionError',
      code: 'HOST_FUNCTION_FAILED',
      message: /alloc\(\) takes a byte count, got -1/,
    });
    assert.equal(bad.call('add').bytes().length, 8, 'the instance still answers');
  });

  test('text, json and writeJson move structured data both ways', async () => {
    using plugin = await hostCall((context, offset: bigint) => {
      const order = context.json<{ items: number[] }>(offset);
      return context.writeJson({ total: order?.items.reduce((a, b) => a + b, 0), text: context.text(offset)?.length });
    });
    assert.deepEqual(plugin.call('reflect', { items: [1, 2, 3] }).json(), { total: 6, text: 17 });
  });

  test('i64 arguments arrive as bigint and a number result is converted for an i64 result', async () => {
    const compiled = await compilePlugin(fixture('host_call'), {
      functions: [
        { name: 'reflect', params: ['ptr'], results: ['ptr'], call: () => 0 },
        { name: 'add_i64', params: ['i64', 'i64'], results: ['i64'], call: (_c, a: bigint, b: bigint) => Number(a + b) },
      ],
    });
    using plugin = compiled.instantiate();
    assert.equal(u64(plugin.call('add').bytes()), 42);
  });

  test('the per-call hostContext reaches the host function and is gone after the call', async () => {
    const seen: unknown[] = [];
    using plugin = await hostCall((context) => {
      seen.push(context.hostContext);
      return 0;
    });
    plugin.call('reflect', 'x', { hostContext: { tenant: 'acme' } });
    plugin.call('reflect', 'x');
    assert.deepEqual(seen, [{ tenant: 'acme' }, undefined]);
  });

  test('a host function that throws fails the call with HOST_FUNCTION_FAILED, keeping the cause', async () => {
    const cause = new Error('database is down');
    using plugin = await hostCall(() => {
      throw cause;
    });
    assert.throws(() => plugin.call('reflect', 'x'), {
      name: 'HostFunctionError',
      code: 'HOST_FUNCTION_FAILED',
      functionName: 'reflect',
      message: 'Host function "extism:host/user reflect" failed: database is down',
      cause,
    });
    assert.throws(() => plugin.call('reflect', 'x'), { code: 'HOST_FUNCTION_FAILED' }, 'and again: the host is fine');
  });

  test('a host function that returns a Promise in-thread fails the call clearly', async () => {
    using plugin = await hostCall(async () => 0);
    assert.throws(() => plugin.call('reflect', 'x'), { code: 'HOST_FUNCTION_FAILED', message: /returned a Promise/ });
  });

  test('a host function returning the wrong type fails the call clearly', async () => {
    using plugin = await hostCall(() => 'not an offset');
    assert.throws(() => plugin.call('reflect', 'x'), { code: 'HOST_FUNCTION_FAILED', message: /expected an i64 result, got the string/ });
  });

  test('a host function calling back into the same instance fails with REENTRANT_CALL', async () => {
    let plugin: Plugin | undefined;
    plugin = await hostCall(() => plugin!.call('reflect', 'again'));
    assert.throws(
      () => plugin!.call('reflect', 'x'),
      (error: Error & { code?: string; cause?: { code?: string } }) => {
        assert.equal(error.code, 'HOST_FUNCTION_FAILED');
        assert.equal(error.cause?.code, 'REENTRANT_CALL');
        return true;
      },
    );
    plugin.close();
  });

  test('a host function may call another instance of the same plug-in', async () => {
    const compiled = await compilePlugin(fixture('host_call'), {
      functions: [
        {
          name: 'reflect',
          params: ['ptr'],
          results: ['ptr'],
          call: (context, offset: bigint) =>
            depth++ === 0 ? context.write(inner.call('reflect', context.read(offset)!).bytes()) : context.write('inner'),
        },
        add,
      ],
    });
    let depth = 0;
    const inner = compiled.instantiate();
    using outer = compiled.instantiate();
    assert.equal(outer.call('reflect', 'x').text(), 'inner');
    inner.close();
  });

  test('vars are readable and writable from a host function', async () => {
    using plugin = await hostCall((context) => {
      context.setVar('seen', 'yes');
      return context.write(context.getVar('seen') ?? new Uint8Array());
    });
    assert.equal(plugin.call('reflect', 'x').text(), 'yes');
    assert.equal(Buffer.from(plugin.getVar('seen')!).toString(), 'yes');
  });

  test('reading a wild offset from a host function gives null, not someone else’s bytes', async () => {
    using plugin = await hostCall((context) => {
      assert.equal(context.read(2n ** 40n), null);
      assert.equal(context.read(-1), null);
      assert.equal(context.text(12345n), null);
      assert.equal(context.length(7), 0);
      return context.write('');
    });
    assert.equal(plugin.call('reflect', 'x').length, 0);
  });

  test('host functions are declared with checked shapes', async () => {
    await assert.rejects(compilePlugin(fixture('host_call'), { functions: [{ name: '', params: [], results: [], call: () => 0 }] }), {
      name: 'TypeError',
      message: /functions\[0\]\.name/,
    });
    await assert.rejects(
      compilePlugin(fixture('host_call'), { functions: [{ name: 'x', params: ['i128' as 'i64'], results: [], call: () => 0 }] }),
      { name: 'TypeError', message: /functions\[0\]\.params/ },
    );
  });
});
