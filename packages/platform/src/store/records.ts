// Recorded runs: written in batches, read by sequence with filters, trimmed to each point's cap.
import { CompiledQuery, sql } from 'kysely';
import type { Db, Row } from './schema.js';

export type RecordRow = Row<'records'>;
type NewRecordRow = Omit<RecordRow, 'seq'>;

// A multi-row insert binds every column of every row; 400 rows × 20 columns stays under both
// SQLite's 32,766 and PostgreSQL's 65,535 parameters per statement.
const ROWS_PER_STATEMENT = 400;
const COLUMNS = [
  'id',
  'extension_point',
  'tenant',
  'run_key',
  'installation_id',
  'plugin_id',
  'partner_id',
  'version_id',
  'outcome',
  'code',
  'message',
  'input',
  'output',
  'config',
  'imports',
  'logs',
  'fuel',
  'budget',
  'duration_us',
  'at',
] as const satisfies readonly (keyof NewRecordRow)[];

/**
 * The statement for `count` rows, compiled by Kysely for this dialect once and reused with new
 * parameters (one cache per dialect adapter): building a 7,200-value insert through the query builder per batch costs more than
 * SQLite's write of it.
 */
const statements = new WeakMap<object, Map<number, string>>();

function insertSql(db: Db, count: number): string {
  const { adapter } = db.getExecutor();
  let byCount = statements.get(adapter);
  if (byCount === undefined) {
    byCount = new Map();
    statements.set(adapter, byCount);
  }
  let text = byCount.get(count);
  if (text === undefined) {
    const template = Object.fromEntries(COLUMNS.map((c) => [c, null])) as unknown as NewRecordRow;
    text = db
      .insertInto('records')
      .columns(COLUMNS)
      .values(Array.from({ length: count }, () => template))
      .compile().sql;
    byCount.set(count, text);
  }
  return text;
}

export async function insertRecords(db: Db, rows: readonly NewRecordRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
    const parameters: unknown[] = [];
    for (const row of chunk) for (const column of COLUMNS) parameters.push(row[column]);
    await db.executeQuery(CompiledQuery.raw(insertSql(db, chunk.length), parameters));
  }
}

export interface RecordFilter {
  extensionPoint?: string | undefined;
  tenant?: string | undefined;
  plugin?: string | undefined;
  version?: string | undefined;
  outcome?: 'ok' | 'contained' | 'rejected' | undefined;
  partnerId?: string | undefined;
}

export function listRecords(db: Db, filter: RecordFilter, after: number, limit: number): Promise<RecordRow[]> {
  let query = db.selectFrom('records').selectAll().where('seq', '>', after);
  if (filter.extensionPoint !== undefined) query = query.where('extension_point', '=', filter.extensionPoint);
  if (filter.tenant !== undefined) query = query.where('tenant', '=', filter.tenant);
  if (filter.plugin !== undefined) query = query.where('plugin_id', '=', filter.plugin);
  if (filter.version !== undefined) query = query.where('version_id', '=', filter.version);
  if (filter.outcome !== undefined) query = query.where('outcome', '=', filter.outcome);
  if (filter.partnerId !== undefined) query = query.where('partner_id', '=', filter.partnerId);
  return query.orderBy('seq').limit(limit).execute();
}

/** Keeps the newest `retain` records of a point. */
export async function trimRecords(db: Db, extensionPoint: string, retain: number): Promise<void> {
  const cutoff = await db
    .selectFrom('records')
    .select('seq')
    .where('extension_point', '=', extensionPoint)
    .orderBy('seq', 'desc')
    .limit(1)
    .offset(retain)
    .executeTakeFirst();
  if (cutoff === undefined) return;
  await db.deleteFrom('records').where('extension_point', '=', extensionPoint).where('seq', '<=', cutoff.seq).execute();
}

export async function countRecords(db: Db, extensionPoint: string | undefined): Promise<number> {
  let query = db.selectFrom('records').select((eb) => eb.fn.countAll<number>().as('n'));
  if (extensionPoint !== undefined) query = query.where('extension_point', '=', extensionPoint);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

/** Claims a batch id in the batch's transaction; false when that batch was already written. */
export async function claimBatch(db: Db, id: string, rows: number, at: number): Promise<boolean> {
  const claimed = await db
    .insertInto('record_batches')
    .values({ id, rows, at })
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return claimed !== undefined;
}

/** Forgets batch ids older than `before` (ms): a retry never comes that late. */
export async function trimBatches(db: Db, before: number): Promise<void> {
  await db.deleteFrom('record_batches').where('at', '<', before).execute();
}

/**
 * Stores a writer's totals since it started: records accepted and committed. Neither ever goes down:
 * a sync and a batch's transaction run side by side, each with the totals it knew when it began.
 */
export async function saveWriter(db: Db, id: string, accepted: number, written: number, at: number): Promise<void> {
  const larger = (column: 'accepted' | 'written') =>
    sql<number>`case when ${sql.ref(`excluded.${column}`)} > ${sql.ref(`record_writers.${column}`)} then ${sql.ref(`excluded.${column}`)} else ${sql.ref(`record_writers.${column}`)} end`;
  await db
    .insertInto('record_writers')
    .values({ id, accepted, written, seen_at: at })
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet((eb) => ({ accepted: larger('accepted'), written: larger('written'), seen_at: eb.ref('excluded.seen_at') })),
    )
    .execute();
}

/**
 * Marks the rows of writers other than `self` not heard from since `before` (ms) as reported at `at`
 * and returns those that had accepted more than they committed: their records were lost. A marked
 * row stays a day, so records recovered from the writer's spool later can still be added to its
 * count; rows marked longer ago are removed.
 */
export async function claimQuietWriters(db: Db, self: string, before: number, at: number) {
  await db
    .deleteFrom('record_writers')
    .where('reported_at', '<', at - 86_400_000)
    .execute();
  const rows = await db
    .updateTable('record_writers')
    .set({ reported_at: at })
    .where('id', '!=', self)
    .where('seen_at', '<', before)
    .where('reported_at', 'is', null)
    .returning(['id', 'accepted', 'written'])
    .execute();
  return rows.filter((r) => Number(r.accepted) > Number(r.written));
}

/** When each of these writers was last heard from and whether it was reported; absent: no row. */
export function writerStates(db: Db, ids: readonly string[]) {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom('record_writers').select(['id', 'seen_at', 'reported_at']).where('id', 'in', ids).execute();
}

/**
 * Adds `records` recovered from a dead writer's spool to its committed count (and to its accepted
 * count where the records came after its last sync), so accepted minus written stays what was lost.
 */
export async function creditWriter(db: Db, id: string, records: number): Promise<void> {
  const written = sql<number>`${sql.ref('written')} + ${records}`;
  await db
    .updateTable('record_writers')
    .set({
      written,
      accepted: sql<number>`case when ${sql.ref('accepted')} < ${written} then ${written} else ${sql.ref('accepted')} end`,
    })
    .where('id', '=', id)
    .execute();
}

/** Forgets this writer (it closed with everything committed). */
export async function removeWriter(db: Db, id: string): Promise<void> {
  await db.deleteFrom('record_writers').where('id', '=', id).execute();
}

type CostFilter = Pick<RecordFilter, 'extensionPoint' | 'plugin' | 'partnerId'>;

function costQuery(db: Db, filter: CostFilter, since: number) {
  let query = db.selectFrom('records').where('at', '>=', since);
  if (filter.extensionPoint !== undefined) query = query.where('extension_point', '=', filter.extensionPoint);
  if (filter.plugin !== undefined) query = query.where('plugin_id', '=', filter.plugin);
  if (filter.partnerId !== undefined) query = query.where('partner_id', '=', filter.partnerId);
  return query;
}

/**
 * Runs since `since` (ms) grouped by time bucket (`bucketMs` wide), point, plug-in, outcome and code,
 * with fuel sums and maxima: one scan in the store, a few rows back whatever the number of runs.
 */
export function sumRecordCosts(db: Db, filter: CostFilter, since: number, bucketMs: number) {
  // Literals, not parameters: PostgreSQL matches the grouped expression with the selected one by its
  // text, and two parameters ($1, $3) never match. Both are integers the domain computed.
  const bucket = sql<number>`(${sql.ref('at')} - ${sql.lit(Math.trunc(since))}) / ${sql.lit(Math.trunc(bucketMs))}`;
  return costQuery(db, filter, since)
    .select((eb) => [
      bucket.as('bucket'),
      'extension_point',
      'plugin_id',
      'outcome',
      'code',
      eb.fn.countAll<number>().as('runs'),
      eb.fn.sum<number>('fuel').as('fuel'),
      eb.fn.max<number>('fuel').as('fuel_max'),
      eb.fn.sum<number>('budget').as('budget'),
      sql<number>`max(cast(${eb.ref('fuel')} as double precision) / nullif(${eb.ref('budget')}, 0))`.as('share_max'),
    ])
    .groupBy([bucket, 'extension_point', 'plugin_id', 'outcome', 'code'])
    .execute();
}

/** Durations of the newest `limit` runs since `since` (ms), for percentiles. */
export function recentDurations(db: Db, filter: CostFilter, since: number, limit: number) {
  return costQuery(db, filter, since).select(['extension_point', 'plugin_id', 'duration_us']).orderBy('seq', 'desc').limit(limit).execute();
}
