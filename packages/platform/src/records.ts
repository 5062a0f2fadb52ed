// Recorded runs: a sampled share of runs, buffered off the run's path and written in batches (one
// transaction per batch, so a killed process leaves whole batches or none), trimmed to each point's
// retention cap. A batch that fails (the store is down) is kept and retried with its id, which the
// store remembers, so a batch whose commit went through unacknowledged is not written twice; past
// `maxBuffered` new runs' records are dropped, counted, and reported by a `records.dropped` event
// once the store is back. Each process keeps its totals in the store (records accepted, synced every
// `countMs`; records committed, with each batch), so when a process dies with records uncommitted,
// another one reports how many with a `records.lost` event. With a spool (spool.ts) each run's
// records are also on disk before `add()` returns, and the records of a dead process are recovered
// from there instead of lost (recovery.ts). A partner reads its own runs' outcomes and costs, never
// the tenants' data.
import type { Records } from './api.js';
import { type Context, partnerScope } from './context.js';
import { invalid, PlatformError } from './errors.js';
import { pageLimit, parseCursor } from './events.js';
import { recoverSpool } from './recovery.js';
import { parseLogs } from './run-logs.js';
import { type RunStats, type RunStatsQuery, runStats } from './run-stats.js';
import { Spool } from './spool.js';
import {
  claimBatch,
  claimQuietWriters,
  insertRecords,
  listRecords,
  type RecordRow,
  removeWriter,
  saveWriter,
  trimBatches,
  trimRecords,
} from './store/records.js';
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
  /** How often this process's count of accepted records is stored, in milliseconds. Default 100. */
  countMs?: number;
  /**
   * A process whose count has not moved for this long, in milliseconds, with records accepted but
   * not committed, is taken for dead and its uncommitted records reported lost. Default 60,000.
   */
  lostAfterMs?: number;
  /**
   * A directory where each run's records are written (one line per run, no fsync) until their
   * batch commits, so a killed process loses none; `false`: off. Default `PATH.spool` beside a
   * SQLite file, `<tmpdir>/tenon-spool/<16 hex digits of the store URL's SHA-256>` for PostgreSQL,
   * off for an in-memory store.
   */
  spool?: string | false;
}

/** A batch: its id (its spool segment's, if any), its rows, and the drops it reports when it commits. */
interface Batch {
  id: string;
  rows: NewRecord[];
  /** `dropped` when the batch was cut: the drops noted in its segment are the ones it reports. */
  dropped: number;
  segment: string | undefined;
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
  #failed: Batch | undefined;
  /** Consecutive failed writes: the retry waits longer each time, up to 5 s. */
  #failures = 0;
  /** Records dropped because the buffer was full. */
  dropped = 0;
  /** Drops already reported by an event. */
  #reportedDropped = 0;
  /** Records written by this process. */
  written = 0;
  /** Records taken into the buffer by this process (written, buffered, or lost if it dies now). */
  accepted = 0;
  /** This process's row in the store's count of accepted and written records. */
  readonly #writer: string;
  readonly #countMs: number;
  readonly #lostAfterMs: number;
  #countTimer: NodeJS.Timeout | undefined;
  #counting: Promise<void> | undefined;
  /** When the store last answered after failing (or this process started), and when others were last checked. */
  #upSince: number;
  #checkedAt: number;
  readonly #spool: Spool | undefined;

  constructor(ctx: Context, options: RecorderOptions, onError: (error: unknown) => void) {
    this.#ctx = ctx;
    this.#batchSize = options.batchSize ?? 2000;
    this.#flushMs = options.flushMs ?? 200;
    this.#maxBuffered = options.maxBuffered ?? 100_000;
    this.#countMs = options.countMs ?? 100;
    this.#lostAfterMs = options.lostAfterMs ?? 60_000;
    this.#onError = onError;
    this.#writer = ctx.id('rw');
    this.#spool = typeof options.spool === 'string' ? new Spool(options.spool, this.#writer, () => ctx.id('rb'), onError) : undefined;
    // Reachable until a count fails: at open, the quiet rows of others are reported at once.
    this.#upSince = Number.NEGATIVE_INFINITY;
    this.#checkedAt = ctx.now();
  }

  /** Buffers one run's records (all its installations' outcomes, or none when the buffer is full). */
  add(rows: readonly NewRecord[], extensionPoint: string, retain: number): void {
    if (this.buffered + rows.length > this.#maxBuffered) {
      this.dropped += rows.length;
      this.#spool?.drop(rows.length);
      return;
    }
    this.#spool?.append(rows);
    for (const row of rows) this.#buffer.push(row);
    this.accepted += rows.length;
    this.#countLater();
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

  /** Whether records held in memory are also in a spool (recovered should this process stop now). */
  get spooled(): boolean {
    return this.#spool !== undefined;
  }

  close(): void {
    if (!this.#closed) this.#spool?.close();
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#countTimer !== undefined) clearTimeout(this.#countTimer);
    this.#countTimer = undefined;
  }

  /** Everything was written: this process's count leaves the store with it (it closes). */
  async retire(): Promise<void> {
    await this.#counting;
    if (this.buffered === 0 && this.accepted === this.written) await removeWriter(this.#ctx.db, this.#writer);
  }

  /** Stores this process's totals, and every `lostAfterMs` reports other processes that died with records uncommitted. */
  count(): Promise<void> {
    this.#counting ??= this.#count().finally(() => {
      this.#counting = undefined;
    });
    return this.#counting;
  }

  async #count(): Promise<void> {
    const now = this.#ctx.now();
    const accepted = this.accepted;
    try {
      if (accepted > 0) await saveWriter(this.#ctx.db, this.#writer, accepted, this.written, now);
      if (now - this.#checkedAt >= this.#lostAfterMs) await this.reportLost();
    } catch (error) {
      this.#upSince = Number.POSITIVE_INFINITY;
      this.#onError(error);
      // Retried: the count must reach the store before this process could die with these records.
      this.#countLater();
      return;
    }
    if (this.#upSince === Number.POSITIVE_INFINITY) this.#upSince = now;
    // Runs recorded while this count was under way (their timer found it running) are counted next.
    if (this.accepted !== accepted) this.#countLater();
  }

  #countLater(): void {
    if (this.#countTimer !== undefined || this.#closed) return;
    this.#countTimer = setTimeout(() => {
      this.#countTimer = undefined;
      void this.count();
    }, this.#countMs);
    this.#countTimer.unref();
  }

  /**
   * Recovers the spooled records of dead processes, then reports, with one `records.lost` event
   * each, the processes whose count has not moved for `lostAfterMs` and that had accepted more
   * records than they committed. Judging by the store's count waits until this process has itself
   * reached the store for that long: the others may simply not have reconnected yet.
   */
  async reportLost(): Promise<void> {
    const now = this.#ctx.now();
    this.#checkedAt = now;
    const judge = now - this.#upSince >= this.#lostAfterMs;
    if (this.#spool !== undefined && !this.#closed) {
      await recoverSpool(this.#ctx, this.#spool, { quietBefore: judge ? now - this.#lostAfterMs : undefined }, this.#onError);
    }
    if (!judge) return;
    const events = await this.#ctx.db.transaction().execute(async (trx) => {
      const appended = [];
      for (const w of await claimQuietWriters(trx, this.#writer, now - this.#lostAfterMs, now)) {
        const [accepted, written] = [Number(w.accepted), Number(w.written)];
        appended.push(
          await this.#ctx.events.append(trx, 'records.lost', 'records', null, {
            writer: w.id,
            lost: accepted - written,
            accepted,
            written,
          }),
        );
      }
      return appended;
    });
    for (const event of events) this.#ctx.events.publish(event);
  }

  #start(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#writing !== undefined || this.buffered === 0) return;
    let batch = this.#failed;
    if (batch === undefined) {
      // The segment's id is the batch's: recovering a segment whose batch committed inserts nothing.
      const segment = this.#spool?.cut();
      batch = { id: segment?.id ?? this.#ctx.id('rb'), rows: this.#buffer, dropped: this.dropped, segment: segment?.path };
      this.#buffer = [];
    }
    const { id, rows, dropped } = batch;
    this.#failed = undefined;
    this.#inFlight = rows.length;
    const points = [...new Set(rows.map((r) => r.extension_point))];
    const at = this.#ctx.now();
    const [accepted, written] = [this.accepted, this.written + rows.length];
    this.#writing = this.#ctx.db
      .transaction()
      .execute(async (trx) => {
        if (!(await claimBatch(trx, id, rows.length, at))) return undefined;
        await insertRecords(trx, rows);
        await saveWriter(trx, this.#writer, accepted, written, at);
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
          if (batch.segment !== undefined) this.#spool?.remove(batch.segment);
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
    logs: parseLogs(row.logs),
  };
}
