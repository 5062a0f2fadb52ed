// Catch-up by event cursor on PostgreSQL is complete: an event whose transaction commits late, after
// many others, still reaches every other process, once.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPlatform, OPERATOR, type PlatformEvent } from '../src/index.js';
import { openStore } from '../src/store/db.js';
import { appendEvent } from '../src/store/events.js';
import { newStore, PG_URL } from './helpers.js';

const skip = PG_URL === undefined ? 'TENON_PG_URL is not set: the PostgreSQL follower tests are skipped' : false;

describe('following another process on PostgreSQL', { skip }, () => {
  test('an event whose transaction commits late, while 100 others wait, is applied, and every event is published once', async () => {
    const store = await newStore('postgres');
    const follower = await createPlatform({ store: store.url });
    const writer = await createPlatform({ store: store.url });
    const slow = await openStore(store.url);
    try {
      const partner = await writer.partners.create(OPERATOR, { name: 'acme' });
      const seen: PlatformEvent[] = [];
      follower.events.subscribe(OPERATOR, (event) => seen.push(event));

      // A transaction that appends its event, then stays open while others commit theirs.
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let appended: () => void = () => {};
      const isAppended = new Promise<void>((resolve) => {
        appended = resolve;
      });
      const late = slow.db.transaction().execute(async (trx) => {
        const row = await appendEvent(trx, {
          id: 'ev-late',
          type: 'partner.key-rotated',
          at: Date.now(),
          partner_id: partner.id,
          subject: partner.id,
          data: '{}',
        });
        appended();
        await held;
        return row;
      });
      await isAppended;
      const changes = Array.from({ length: 100 }, (_, i) => writer.quotas.set(OPERATOR, partner.id, { runsPerMinute: i + 1 }));
      // Time for the others to commit past the held number, and reach the follower, if the log let
      // them (it must not: they wait for the held transaction, and this waits the full 3 s).
      for (let i = 0; i < 150 && seen.filter((e) => e.type === 'quota.set').length < 100; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      release();
      const lateRow = await late;
      await Promise.all(changes);

      const last = (await writer.events.list(OPERATOR, { limit: 1000 })).items.at(-1) as PlatformEvent;
      for (let i = 0; !seen.some((e) => e.cursor === last.cursor); i++) {
        assert.ok(i < 500, `the follower reached the last event ${last.cursor} (saw ${seen.length})`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const ids = seen.map((e) => e.id);
      assert.equal(new Set(ids).size, ids.length, 'no event published twice');
      assert.ok(ids.includes('ev-late'), `the late event (seq ${lateRow.seq}) was applied`);
      assert.deepEqual(seen.filter((e) => e.type === 'quota.set').map((e) => e.data.runsPerMinute).length, 100);
      // The follower's quota is the last one committed: every change applied, in commit order.
      const final = (await writer.events.list(OPERATOR, { limit: 1000 })).items.filter((e) => e.type === 'quota.set').at(-1);
      assert.deepEqual(seen.filter((e) => e.type === 'quota.set').at(-1)?.data, final?.data);
    } finally {
      await slow.db.destroy();
      await writer.close();
      await follower.close();
      await store.drop();
    }
  });
});
