import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type InvoicingDatabase, openDatabase } from '../dist/database.js';
import { runDiscounts } from '../dist/run.js';
import { appliedDiscounts, assertConsistent, invoicingHost, seededDatabase } from './invoices.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** `npm start`'s program on an existing database, resuming whatever run is unfinished. */
function startRun(path: string, env: Record<string, string> = {}): ChildProcess & { output: Promise<string> } {
  const child = spawn(process.execPath, [MAIN, '--db', path, '--resume', '--webhook-invoices', '0'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  return Object.assign(child, { output: once(child, 'exit').then(() => stdout) });
}

/** Reads the database a child process wrote, then closes it. */
function inspect<T>(path: string, look: (db: InvoicingDatabase) => T): T {
  const db = openDatabase(path);
  try {
    return look(db);
  } finally {
    db.close();
  }
}

const pending = (db: InvoicingDatabase) =>
  (db.prepare('SELECT count(*) AS n FROM invoices WHERE discount_run_id IS NULL').get() as { n: number }).n;

/** The discounts an uninterrupted run gives on the same seeded data. */
async function referenceDiscounts(invoices: number): Promise<string[]> {
  using reference = seededDatabase(invoices);
  await using host = await invoicingHost();
  await runDiscounts(reference.db, { host });
  return appliedDiscounts(reference.db);
}

async function resumeAndCheck(path: string, left: number, expected: string[]): Promise<void> {
  const resumed = startRun(path);
  const stdout = await resumed.output;
  assert.equal(resumed.exitCode, 0, stdout);
  assert.match(stdout, new RegExp(`Resumed an interrupted run: ${left.toLocaleString('en-US')} invoices`));
  inspect(path, (db) => {
    assert.equal(pending(db), 0);
    assertConsistent(db);
    assert.deepEqual(appliedDiscounts(db), expected, 'the same discounts as an uninterrupted run, none twice');
    assert.deepEqual(db.prepare('SELECT DISTINCT discount_run_id AS run FROM invoices').all(), [{ run: 1 }], 'one run, resumed');
  });
}

describe('a crash mid-run loses nothing and applies nothing twice', () => {
  it('dying inside an invoice transaction rolls that invoice back, and a rerun resumes from it', async () => {
    const expected = await referenceDiscounts(600);
    using data = seededDatabase(600);
    data.db.close();

    const crashed = startRun(data.path, { INVOICING_KILL_AT: '250' });
    await crashed.output;
    assert.equal(crashed.signalCode, 'SIGKILL');
    inspect(data.path, (db) => {
      assert.equal(pending(db), 351, '249 invoices committed; the 250th rolled back with its transaction');
      assert.equal((db.prepare("SELECT count(*) AS n FROM partner_calls WHERE invoice_id = 'INV-0000250'").get() as { n: number }).n, 0);
      assertConsistent(db);
    });
    await resumeAndCheck(data.path, 351, expected);
  });

  it('a SIGKILL from outside, at whatever point the run has reached, is survived the same way', async () => {
    const expected = await referenceDiscounts(4000);
    using data = seededDatabase(4000);
    data.db.close();

    const run = startRun(data.path);
    // Kill as soon as the run reports its first progress: it is then mid-stream, with most invoices left.
    await new Promise<void>((resolve) => {
      run.stdout?.on('data', (chunk: string) => {
        if (/\d+ \/ 4,000 invoices/.test(chunk)) resolve();
      });
    });
    run.kill('SIGKILL');
    await run.output;
    assert.equal(run.signalCode, 'SIGKILL');
    const left = inspect(data.path, (db) => {
      assertConsistent(db);
      return pending(db);
    });
    assert.ok(left > 0 && left < 4000, `${left} invoices left after the kill`);
    await resumeAndCheck(data.path, left, expected);
  });
});
