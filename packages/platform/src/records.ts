// Recorded runs: a sampled share of runs, buffered off the run's path and written in batches (one
// transaction per batch, so a killed process leaves whole batches or none), trimmed to each point's
// retention cap. A batch that fails (the store is down) is kept and retried with its id, which the
// store remembers, so a batch whose commit went through unacknowledged is not written twice; past
// `maxBuffered` new runs' records are dropped, counted, and reported by a `records.dropped` event
// once the store is back. A partner reads its own runs' outcomes and costs, never the tenants' data.
import type { Records } from './api.js';
import { type Context, partnerScope } from './context.js';
import { invalid, PlatformError } from './errors.js';
import { pageLimit, parseCursor } from './events.js';
import { type RunStats, type RunStatsQuery, runStats } from './run-stats.js';
import { claimBatch, insertRecords, listRecords, type RecordRow, trimBatches, trimRecords } from './store/records.js';
import type { Import } from './tape.js';
import type { Actor, Outcome, Page, PartnerRunRecord, RecordQuery, RunRecord } from './types.js';

export type NewRecord = Omit<RecordRow, 'seq'>;

export interface RecorderOptions {
  /** Records buffered before a write is started at once. Default 2000. */
  batchSize?: number;
  /** Longest a record waits in the buffer, in milliseconds. Default 200. */
  flushMs?: number;
  /** Records held while the store is slow or failing; past it new ones are dropped and counted. Default 100,000. */
  maxBuffered?: number;
}

const OUTCOMES: ReadonlySet<string> = new Set<Outcome>(['ok', 'contained', 'rejected']);

export class Recorder implements Records {
  readonly #ctx: Context;
  readonly #batchSize: number;
  readonly #flushMs: number;
  readonly #maxBuffered: number;
  readonly #onError: (error: unknown) => void;
  #buffer: NewRecord[] = [];
  /** Retention cap per point, as of the latest record added. */
  readonly #retain = new Map<string, number>();
  /** Records written per point since its last trim (a trim scans the point's newest `retain` rows). */
  readonly #sinceTrim = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  /** A batch that failed to write, retried before anything newer. */
  #failed: { id: string; rows: NewRecord[] } | undefined;
  /** Consecutive failed writes: the retry waits longer each time, up to 5 s. */
  #failures = 0;
  /** Records dropped because the buffer was full. */
  dropped = 0;
  /** Drops already reported by an event. */
  #reportedDropped = 0;
  /** Records written by this process. */
  written = 0;

  constructor(ctx: Context, options: RecorderOptions, onError: (error: unknown) => void) {
    this.#ctx = ctx;
    this.#batchSize = options.batchSize ?? 2000;
    this.#flushMs = options.flushMs ?? 200;
    this.#maxBuffered = options.maxBuffered ?? 100_000;
    this.#onError = onError;
  }

  /** Buffers one run's records (all its installations' outcomes, or none when the buffer is full). */
  add(rows: readonly NewRecord[], extensionPoint: string, retain: number): void {
    if (this.buffered + rows.length > this.#maxBuffered) {
      this.dropped += rows.length;
      return;
    }
    for (const row of rows) this.#buffer.push(row);
    this.#retain.set(extensionPoint, retain);
    if (this.#buffer.length >= this.#batchSize) this.#start();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#start(), this.#flushMs);
      this.#timer.unref();
    }
  }

  /** Records held in memory, waiting, being written or failed, not yet written. */
  get buffered(): number {
    return this.#buffer.length + (this.#failed?.rows.length ?? 0) + this.#inFlight;
  }

  /** Rows of the batch being written now. */
  #inFlight = 0;

  /** Writes everything buffered so far; resolves when it is committed, or rejects when the store refuses it. */
  async flush(): Promise<void> {
    while (this.buffered > 0 || this.#writing !== undefined) {
      if (this.#writing === undefined) this.#start();
      const failures = this.#failures;
      await this.#writing;
      if (this.#failures > failures) {
        throw new PlatformError(
          'UNAVAILABLE',
          `Cannot write ${this.buffered} buffered records: the store refused the batch (they are kept and retried)`,
        );
      }
    }
  }

  async list(actor: Actor, query: RecordQuery = {}): Promise<Page<RunRecord | PartnerRunRecord>> {
    const scope = partnerScope(actor);
    if (query.outcome !== undefined && !OUTCOMES.has(query.outcome)) {
      throw invalid('outcome', `must be "ok", "contained" or "rejected", got ${JSON.stringify(query.outcome)}`);
    }
    const limit = pageLimit(query.limit);
    const rows = await listRecords(
      this.#ctx.db,
      {
        extensionPoint: query.extensionPoint,
        // Tenants are the host's data: a partner cannot even filter by them.
        tenant: scope === undefined ? query.tenant : undefined,
        plugin: query.plugin,
        version: query.version,
        outcome: query.outcome,
        partnerId: scope,
      },
      parseCursor(query.after),
      limit,
    );
    const items = rows.map(scope === undefined ? toRecord : toPartnerRecord);
    return { items, next: rows.length === limit ? String(rows.at(-1)?.seq) : undefined };
  }

  #closed = false;

  /** Runs over time, durations and fuel against budget in a window (a partner: its own runs). */
  stats(actor: Actor, query: RunStatsQuery = {}): Promise<RunStats> {
    return runStats(this.#ctx, actor, query);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #start(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#writing !== undefined || this.buffered === 0) return;
    let batch = this.#failed;
    if (batch === undefined) {
      batch = { id: this.#ctx.id('rb'), rows: this.#buffer };
      this.#buffer = [];
    }
    const { id, rows } = batch;
    this.#failed = undefined;
    this.#inFlight = rows.length;
    const points = [...new Set(rows.map((r) => r.extension_point))];
    const dropped = this.dropped;
    const at = this.#ctx.now();
    this.#writing = this.#ctx.db
      .transaction()
      .execute(async (trx) => {
        if (!(await claimBatch(trx, id, rows.length, at))) return undefined;
        await insertRecords(trx, rows);
        for (const point of points) {
          // Trimming costs a scan of `retain` index entries, so it runs once per tenth of the cap
          // written (and on a point's first batch in this process): a point holds at most 10% over its cap.
          const retain = this.#retain.get(point) ?? Number.MAX_SAFE_INTEGER;
          const written = (this.#sinceTrim.get(point) ?? Number.MAX_SAFE_INTEGER) + rows.filter((r) => r.extension_point === point).length;
          if (written >= Math.max(1, Math.floor(retain / 10))) {
            await trimRecords(trx, point, retain);
            // Batch ids only guard retries, which come within minutes.
            await trimBatches(trx, at - 86_400_000);
            this.#sinceTrim.set(point, 0);
          } else this.#sinceTrim.set(point, written);
        }
        if (dropped > this.#reportedDropped) {
          return this.#ctx.events.append(trx, 'records.dropped', 'records', null, {
            dropped: dropped - this.#reportedDropped,
            total: dropped,
          });
        }
        return undefined;
      })
      .then(
        (event) => {
          this.written += rows.length;
          this.#failures = 0;
          if (event !== undefined) {
            this.#reportedDropped = dropped;
            this.#ctx.events.publish(event);
          }
        },
        (error: unknown) => {
          // Kept whole, with its id, for the next attempt: nothing is lost until the buffer is full.
          this.#failed = batch;
          this.#failures++;
          this.#onError(error);
        },
      )
      .finally(() => {
        this.#writing = undefined;
        this.#inFlight = 0;
        if (this.#failed !== undefined) {
          if (this.#timer === undefined && !this.#closed) {
            this.#timer = setTimeout(() => this.#start(), Math.min(5000, 100 * 2 ** Math.min(this.#failures, 6)));
            this.#timer.unref();
          }
        } else if (this.#buffer.length >= this.#batchSize) this.#start();
        else if (this.#buffer.length > 0 && this.#timer === undefined && !this.#closed) {
          this.#timer = setTimeout(() => this.#start(), this.#flushMs);
          this.#timer.unref();
        }
      });
  }
}

function toPartnerRecord(row: RecordRow): PartnerRunRecord {
  return {
    id: row.id,
    extensionPoint: row.extension_point,
    installation: row.installation_id,
    plugin: row.plugin_id,
    partner: row.partner_id,
    version: row.version_id,
    outcome: row.outcome,
    code: row.code,
    fuel: Number(row.fuel),
    budget: Number(row.budget),
    durationUs: Number(row.duration_us),
    at: Number(row.at),
  };
}

function toRecord(row: RecordRow): RunRecord {
  return {
    ...toPartnerRecord(row),
    tenant: row.tenant,
    key: row.run_key,
    input: JSON.parse(row.input),
    output: row.output === null ? null : JSON.parse(row.output),
    message: row.message,
    config: JSON.parse(row.config) as Record<string, string>,
    imports: row.imports === null ? [] : (JSON.parse(row.imports) as Import[]),
  };
}
