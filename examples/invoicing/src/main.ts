// `npm start`: seed an invoicing database, let every partner decide the discounts on every invoice
// in process, then ask the same partners the same questions over webhooks, and compare.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openDatabase } from './database.js';
import { PARTNERS } from './partners.js';
import { egressLine, percentile, runReport } from './report.js';
import { runDiscounts } from './run.js';
import { seedDatabase } from './seed.js';
import { runWebhooks, startWebhookService } from './webhooks.js';

const USAGE = `usage: node dist/main.js [options]
  --db <path>              database file (default: examples/invoicing/.data/invoicing.db)
  --invoices <n>           invoices to seed (default 10000; up to 9999999)
  --seed <n>               seed of the generated data (default 1)
  --resume                 continue an interrupted run on the existing database, without seeding
  --webhook-invoices <n>   invoices to send through the webhooks (default: all; 0 skips them)`;

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: fileURLToPath(new URL('../.data/invoicing.db', import.meta.url)) },
    invoices: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    resume: { type: 'boolean', default: false },
    'webhook-invoices': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const integer = (name: string, text: string | undefined) => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a whole number, got "${text}"\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const invoiceCount = integer('invoices', args.invoices);
const webhookLimit = args['webhook-invoices'] === undefined ? undefined : integer('webhook-invoices', args['webhook-invoices']);
// Progress on one rewritten line when a person watches; a line per step otherwise (logs, CI).
const tty = process.stdout.isTTY;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const micros = (us: number) => (us < 10 ? `${fmt(us, 1)} µs` : us < 10_000 ? `${fmt(us)} µs` : `${fmt(us / 1000, 1)} ms`);
const seconds = (ms: number) => `${fmt(ms / 1000, 1)} s`;
const progress = (label: string) => {
  let lastTenth = -1;
  return (done: number, total: number) => {
    const tenth = total === 0 ? 10 : Math.floor((done / total) * 10);
    if (tty) {
      const width = 30;
      const filled = total === 0 ? width : Math.round((done / total) * width);
      process.stdout.write(`\r   [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${fmt(done)} / ${fmt(total)} ${label}`);
      if (done === total) process.stdout.write('\n');
    } else if (tenth !== lastTenth) {
      lastTenth = tenth;
      console.log(`   ${fmt(done)} / ${fmt(total)} ${label}`);
    }
  };
};
const table = (rows: string[][]) => {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  for (const row of rows)
    console.log(`   ${row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('   ')}`);
};

console.log('Tenon invoicing demo: partners decide the discounts on each invoice, inside the host, next to its data\n');
if (!args.resume) {
  rmSync(args.db, { force: true });
  for (const suffix of ['-wal', '-shm']) rmSync(args.db + suffix, { force: true });
}
mkdirSync(dirname(args.db), { recursive: true });
const db = openDatabase(args.db);

if (!args.resume) {
  const started = performance.now();
  const seeded = seedDatabase(db, {
    invoices: invoiceCount,
    seed: integer('seed', args.seed),
    onProgress: (n) => progress('invoices seeded')(n, invoiceCount),
  });
  console.log(
    `1. Seeded ${fmt(seeded.invoices)} invoices (${fmt(seeded.lines)} lines, ${fmt(seeded.customers)} customers) into ${args.db} in ${seconds(performance.now() - started)}\n`,
  );
}

console.log(`2. In process: each invoice through ${PARTNERS.length} partner plug-ins, sandboxed, one transaction per invoice`);
// Crash tests set INVOICING_KILL_AT=n: the process kills itself inside the n-th invoice's transaction.
const killAt = process.env.INVOICING_KILL_AT ? integer('INVOICING_KILL_AT', process.env.INVOICING_KILL_AT) : undefined;
const run = await runDiscounts(db, {
  partners: PARTNERS,
  onProgress: progress('invoices'),
  ...(killAt !== undefined && { killInsideTransactionAt: killAt }),
});
const report = runReport(db, run.runId);
console.log(
  `   ${run.resumed ? 'Resumed an interrupted run: ' : ''}${fmt(run.invoices)} invoices in ${seconds(run.elapsedMs)}; run total ${fmt(report.invoices)} invoices, ` +
    `${fmt(report.discounts)} discounts applied, worth EUR ${fmt(report.discountCents / 100, 2)}\n`,
);
table([
  ['partner', 'language', 'calls', 'answers accepted', 'discounts applied', 'p50 call', 'p99 call', 'p50 fuel', 'p99 fuel'],
  ...report.partners.map((p) => {
    const partner = PARTNERS.find((x) => x.name === p.partner);
    return [
      p.partner,
      partner?.language ?? '?',
      fmt(p.calls),
      fmt(p.answered),
      fmt(p.discountsApplied),
      micros(p.p50Micros),
      micros(p.p99Micros),
      fmt(p.p50Fuel),
      fmt(p.p99Fuel),
    ];
  }),
]);
if (report.incidents.length > 0) {
  console.log('\n   Contained by the sandbox, or rejected by the host, and the run went on:');
  table(
    report.incidents.map((i) => [i.partner, i.reason, fmt(i.count), i.example.length > 120 ? `${i.example.slice(0, 117)}...` : i.example]),
  );
}

// What left the host, from the runtime's record of every request the plug-ins made or tried.
const egress = egressLine(report);
console.log(`\n   What left the host, from the audit trail: ${egress}`);

const webhookPartners = PARTNERS.filter((p) => p.name !== 'hostile');
if (webhookLimit !== 0) {
  console.log(
    `\n3. The same partners' logic behind webhooks (Fastify on 127.0.0.1), one POST per invoice and partner (${webhookPartners.map((p) => p.name).join(', ')})`,
  );
  const service = await startWebhookService(webhookPartners);
  try {
    const webhooks = await runWebhooks(db, service.url, {
      partners: webhookPartners,
      ...(webhookLimit !== undefined && { limit: webhookLimit }),
      onProgress: progress('invoices'),
    });
    const rows = [['partner', 'requests', 'p50 round trip', 'p99 round trip', 'differs from in process', 'failed']];
    for (const [name, result] of webhooks.byPartner) {
      rows.push([
        name,
        fmt(result.callMicros.length),
        micros(percentile(result.callMicros, 0.5)),
        micros(percentile(result.callMicros, 0.99)),
        fmt(result.mismatches),
        fmt(result.failures),
      ]);
    }
    console.log(`   ${fmt(webhooks.invoices)} invoices in ${seconds(webhooks.elapsedMs)}\n`);
    table(rows);

    const inProcess = percentile(
      report.partners.filter((p) => webhooks.byPartner.has(p.partner)).flatMap((p) => p.callMicros),
      0.5,
    );
    const overHttp = percentile(
      [...webhooks.byPartner.values()].flatMap((r) => r.callMicros),
      0.5,
    );
    console.log('\nThe case for moving compute to data, in two numbers:');
    console.log(
      `   ${fmt(overHttp / inProcess)}x faster: a partner answers in ${micros(inProcess)} in process, ${micros(overHttp)} over a webhook on the same machine (p50)`,
    );
    const sent = report.egress.reduce((sum, e) => sum + e.bytesSent, 0);
    console.log(
      `   ${fmt(sent)} bytes of invoice data left the host in process (the audit trail above), where the webhooks were sent ${fmt(webhooks.bytesSent / 1e6, 1)} MB of it`,
    );
  } finally {
    await service.stop();
  }
}
db.close();
