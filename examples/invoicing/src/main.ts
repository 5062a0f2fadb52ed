// `npm start`: seed an invoicing database, let every partner decide the discounts on every invoice
// in process, then ask the same partners the same questions over webhooks, and compare.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { OPERATOR } from '@tenon/platform';
import { openDatabase } from './database.js';
import { openPlatform } from './host-platform.js';
import { compareIsolation } from './isolation.js';
import { MERCHANTS, PARTNERS } from './partners.js';
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
// The platform's store (extension points, partners, versions, installations, records, events) sits beside the invoices.
const platformStore = `${args.db.replace(/\.db$/, '')}.platform.db`;
if (!args.resume) {
  for (const path of [args.db, platformStore]) {
    rmSync(path, { force: true });
    for (const suffix of ['-wal', '-shm']) rmSync(path + suffix, { force: true });
  }
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

console.log(`2. The platform: the host defines invoice.discounts; partners upload their plug-ins; merchants install them`);
const platformStarted = performance.now();
const host = await openPlatform(`sqlite:${platformStore}`);
const limits = host.point.info.limits;
console.log(
  `   ${host.point.name}: export "${host.point.info.function}", fuel ${fmt(limits.fuel)} + ${fmt(limits.fuelPerInputKiB)} per KiB of invoice (at most ×${limits.maxFuelScale}), ` +
    `${limits.timeoutMs} ms, ${limits.maxPages} pages, ${host.point.info.simulations.length} simulations, ${host.point.info.record.sample * 100}% of runs recorded\n`,
);
table([
  ['partner', 'language', 'upload', 'size', 'checks', 'simulations', 'max fuel / budget', 'validated in'],
  ...host.uploads.map(({ partner, version }) => {
    const sims = version.report.simulations;
    const worst = sims.reduce((w, s) => (s.fuel / s.budget > w.fuel / w.budget ? s : w), sims[0] ?? { fuel: 0, budget: 1 });
    return [
      partner.name,
      partner.language,
      version.status,
      `${fmt(version.size / 1024, 1)} KiB`,
      `${version.report.checks.filter((c) => c.ok).length}/${version.report.checks.length}`,
      `${sims.filter((x) => x.ok).length}/${host.point.info.simulations.length}`,
      sims.length > 0 ? `${fmt(worst.fuel)} / ${fmt(worst.budget)}` : '-',
      `${fmt(version.report.durationMs, 1)} ms`,
    ];
  }),
]);
for (const { partner, version } of host.uploads.filter((u) => u.version.status === 'rejected')) {
  console.log(
    `\n   Refused: ${partner.name}'s upload (sha256 ${version.sha256.slice(0, 12)}...), kept with its report and never installable:`,
  );
  for (const check of version.report.checks) console.log(`     ${check.ok ? 'ok  ' : 'FAIL'} ${check.name.padEnd(11)} ${check.message}`);
}
console.log('');
table([['merchant (tenant)', 'installed, in order'], ...MERCHANTS.map((m) => [m.tenant, m.partners.join(' → ')])]);
console.log(`   Set up in ${seconds(performance.now() - platformStarted)}\n`);

console.log('3. In process: each invoice through point.run for its merchant, sandboxed, one transaction per invoice');
// Crash tests set INVOICING_KILL_AT=n: the process kills itself inside the n-th invoice's transaction.
const killAt = process.env.INVOICING_KILL_AT ? integer('INVOICING_KILL_AT', process.env.INVOICING_KILL_AT) : undefined;
const run = await runDiscounts(db, {
  host,
  onProgress: progress('invoices'),
  ...(killAt !== undefined && { killInsideTransactionAt: killAt }),
});
const report = runReport(db, run.runId);
await host.platform.flush();
const records = await host.platform.records.list(OPERATOR, { limit: 1000 });
console.log(
  `   ${run.resumed ? 'Resumed an interrupted run: ' : ''}${fmt(run.invoices)} invoices in ${seconds(run.elapsedMs)}; run total ${fmt(report.invoices)} invoices, ` +
    `${fmt(report.discounts)} discounts applied, worth EUR ${fmt(report.discountCents / 100, 2)}; ` +
    `${records.next === undefined ? fmt(records.items.length) : 'over 1,000'} outcomes recorded in the platform store\n`,
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
console.log('');
table([
  ['merchant', 'invoices', 'answers ok', 'contained', 'rejected', 'discounts'],
  ...report.tenants.map((t) => [
    t.tenant,
    fmt(t.invoices),
    fmt(t.ok),
    fmt(t.contained),
    fmt(t.rejected),
    `EUR ${fmt(t.discountCents / 100, 2)}`,
  ]),
]);
if (report.incidents.length > 0) {
  console.log('\n   Contained by the sandbox, or rejected by the host, and the run went on:');
  table(
    report.incidents.map((i) => [i.partner, i.reason, fmt(i.count), i.example.length > 120 ? `${i.example.slice(0, 117)}...` : i.example]),
  );
}

// What left the host, from the runtime's record of every request the plug-ins made or tried in their calls.
console.log(`\n   What left the host, from the audit trail: ${egressLine(report)}`);

// Every run above had an instance of its own (isolation "fresh"): what that costs against one kept instance.
const isolation = await compareIsolation(PARTNERS, limits);
console.log(
  `\n   A new instance for every invoice (instantiate, call, close) against one instance kept for all, ${fmt(isolation[0]?.invoices ?? 0)} invoices each, p50:`,
);
table([
  ['partner', 'kept', 'fresh per invoice', 'fresh / kept', 'back to back: kept', 'fresh', 'fresh / kept'],
  ...isolation.map((f) => [
    f.partner,
    micros(f.reusedMicros),
    micros(f.freshMicros),
    `${fmt(f.freshMicros / f.reusedMicros, 2)}x`,
    micros(f.reusedBackToBackMicros),
    micros(f.backToBackMicros),
    `${fmt(f.backToBackMicros / f.reusedBackToBackMicros, 2)}x`,
  ]),
]);

const webhookPartners = PARTNERS.filter((p) => p.name !== 'hostile');
if (webhookLimit !== 0) {
  console.log(
    `\n4. The same partners' logic behind webhooks (Fastify on 127.0.0.1), one POST per invoice and partner (${webhookPartners.map((p) => p.name).join(', ')})`,
  );
  const service = await startWebhookService(webhookPartners);
  try {
    const webhooks = await runWebhooks(db, service.url, {
      host,
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
await host.close();
db.close();
