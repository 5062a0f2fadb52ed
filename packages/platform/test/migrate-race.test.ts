// Tests and hosts share one PostgreSQL database, each in its own schema. Kysely's migrator reads the
// catalog of every schema; one dropped by another client during that read must not fail opening ours.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { createPlatform } from '../src/index.js';
import { newStore, PG_URL } from './helpers.js';

test('a store opens while other clients create and drop schemas in the same database', {
  skip: PG_URL === undefined ? 'TENON_PG_URL is not set: PostgreSQL store tests skipped' : false,
}, async () => {
  const churn = new pg.Client({ connectionString: PG_URL });
  await churn.connect();
  let stop = false;
  const churning = (async () => {
    for (let i = 0; !stop; i++) {
      const name = `churn_${process.pid}_${i}`;
      await churn.query(`create schema "${name}"; create table "${name}".t (id serial primary key, v text)`);
      await churn.query(`drop schema "${name}" cascade`);
    }
  })();
  const stores = await Promise.all(Array.from({ length: 12 }, () => newStore('postgres')));
  try {
    const opened = await Promise.allSettled(stores.map((store) => createPlatform({ store: store.url })));
    for (const result of opened) if (result.status === 'fulfilled') await result.value.close();
    const failures = opened.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
    assert.deepEqual(failures, []);
  } finally {
    stop = true;
    await churning;
    await churn.end();
    await Promise.all(stores.map((store) => store.drop()));
  }
});
