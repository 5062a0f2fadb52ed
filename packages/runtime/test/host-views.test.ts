import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type CallContext, compilePlugin, type Plugin } from '../src/index.js';
import { fixture } from './fixtures.js';

/** What one host call of "note" saw: its block's offset, the view it took, and what it read then. */
interface Noted {
  readonly tenant: unknown;
  readonly offset: number;
  readonly view: Uint8Array;
  readonly text: string;
  /** What each view kept from earlier host calls read during this one. */
  readonly earlier: string[];
}

const decoder = new TextDecoder();

/** host_twice with a "note" host function that keeps every view it takes in `noted` (and throws when `fail` says). */
async function noting(noted: Noted[], { fail, instance }: { fail?: () => boolean; instance?: 'fresh' } = {}): Promise<Plugin> {
  const compiled = await compilePlugin(fixture('host_twice'), {
    logLevel: 'off',
    ...(instance && { instance }),
    functions: [
      {
        name: 'note',
        params: ['ptr'],
        call: (context: CallContext, offset: bigint) => {
          const view = context.view(offset)!;
          const earlier = noted.map((n) => decoder.decode(n.view));
          noted.push({ tenant: context.hostContext, offset: Number(offset), view, text: decoder.decode(view), earlier });
          if (fail?.()) throw new Error('the host gave up');
        },
      },
    ],
  });
  return compiled.instantiate();
}

describe('views of Extism memory', () => {
  test("a view kept from a host call reads as empty once the plug-in call returns, and never as the next call's bytes", async () => {
    const noted: Noted[] = [];
    using plugin = await noting(noted);
    assert.equal(plugin.call('twice', 'tenant one', { hostContext: 'one' }).text(), 'tenant one');
    const [first, second] = noted as [Noted, Noted];
    assert.deepEqual([first.text, second.text], ['aaaaaaaaaa', '##########']);
    assert.equal(second.offset, first.offset);
    // within one plug-in call a kept view reads that call's memory as it is now (the documented rule)
    assert.deepEqual(second.earlier, ['##########']);
    // once the call has returned, every view of it is detached
    for (const { view } of noted) {
      assert.equal(view.length, 0);
      assert.equal(view.byteLength, 0);
      assert.throws(() => view.set([1]), { name: 'TypeError', message: /detached/ });
    }

    // the next tenant's call writes over the same memory: the views kept from the first read nothing of it
    assert.equal(plugin.call('twice', 'tenant two', { hostContext: 'two' }).text(), 'tenant two');
    const [third, fourth] = noted.slice(2) as [Noted, Noted];
    assert.equal(third.tenant, 'two');
    // the heap starts over each call: the next tenant's block is where the views kept from the first pointed
    assert.equal(third.offset, first.offset);
    assert.deepEqual(third.earlier, ['', '']);
    assert.deepEqual(fourth.earlier, ['', '', '##########']);
    assert.deepEqual(
      noted.map((n) => n.view.length),
      [0, 0, 0, 0],
    );
  });

  test('a view is detached when the call fails in the host function that took it', async () => {
    const noted: Noted[] = [];
    using plugin = await noting(noted, { fail: () => noted.length === 1 });
    assert.throws(() => plugin.call('twice', 'tenant one'), {
      name: 'HostFunctionError',
      code: 'HOST_FUNCTION_FAILED',
      message: /gave up/,
    });
    assert.equal(noted.length, 1);
    assert.equal(noted[0]!.text, 'aaaaaaaaaa');
    assert.equal(noted[0]!.view.length, 0);
  });

  test('a view taken in a fresh instance’s call is detached before the next call’s instance runs', async () => {
    const noted: Noted[] = [];
    using plugin = await noting(noted, { instance: 'fresh' });
    plugin.call('twice', 'one', { hostContext: 'one' });
    assert.deepEqual(
      noted.map((n) => n.view.length),
      [0, 0],
    );
    plugin.call('twice', 'two', { hostContext: 'two' });
    assert.deepEqual(
      noted.map((n) => [n.tenant, n.text, n.view.length]),
      [
        ['one', 'aaa', 0],
        ['one', '###', 0],
        ['two', 'aaa', 0],
        ['two', '###', 0],
      ],
    );
  });
});
