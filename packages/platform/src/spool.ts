// The record spool: each run's records are appended to a local file, one JSON line per run, before
// they wait in memory for their batch, so a process killed before the batch commits leaves them on
// disk. One file (segment) per batch, named with the batch's id, deleted once the batch commits. The
// kernel's page cache keeps what was written when the process dies: no fsync, so it survives a kill,
// not a power cut. Whoever finds a dead writer's segments renames them to its own name (only one
// renamer wins) and inserts them under the batch id, which the store refuses a second time.
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { invalid } from './errors.js';
import type { RecordRow } from './store/records.js';

type NewRecord = Omit<RecordRow, 'seq'>;

/** Writers with an open spool in this process: another writer id under this pid is a previous incarnation. */
const openWriters = new Set<string>();

/** Spool directories that are the platform's to remove when empty: the defaults, and those it created. */
const ownedDirs = new Set<string>();

/**
 * The spool directory for a store, created: `option` itself; by default `PATH.spool` beside a SQLite
 * file, or `<tmpdir>/tenon-spool/<key>` for PostgreSQL (the key: 16 hex digits of the SHA-256 of
 * the URL without its password, schema included); none for an in-memory store or `false`.
 */
export function spoolDirectory(store: string, option: string | false | undefined): string | undefined {
  if (option === false) return undefined;
  let dir = option;
  if (dir === undefined) {
    if (/^postgres(ql)?:\/\//.test(store)) dir = join(tmpdir(), 'tenon-spool', storeKey(store));
    else if (store.startsWith('sqlite:') && store !== 'sqlite::memory:') dir = `${store.slice('sqlite:'.length)}.spool`;
    else return undefined;
  }
  if (typeof dir !== 'string' || dir === '') {
    throw invalid('records.spool', `must be a directory or false, got ${JSON.stringify(dir)}`);
  }
  let created: string | undefined;
  try {
    created = mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw invalid('records.spool', `cannot create the spool directory "${dir}": ${(error as Error).message}`);
  }
  if (option === undefined || created !== undefined) ownedDirs.add(dir);
  return dir;
}

function storeKey(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return createHash('sha256').update(parsed.toString()).digest('hex').slice(0, 16);
}

/** A segment being written or waiting for its batch to commit. */
export interface Segment {
  /** The batch id, also in the file name. */
  readonly id: string;
  readonly path: string;
  fd: number | undefined;
  rows: number;
  dropped: number;
}

/** Who holds segments in the directory: the writer that wrote them or claimed them, and its process. */
export interface Holder {
  writer: string;
  pid: number;
  host: string;
  /** File names. */
  names: string[];
}

/** A segment read back for recovery: the batch id, whose records they were, and what it holds. */
export interface SpooledBatch {
  id: string;
  origin: string;
  path: string;
  rows: NewRecord[];
  dropped: number;
}

const SUFFIX = '.seg';

// name: <holder writer>+<holder pid>+<holder host>+<origin writer>+<batch id>.seg, each part
// URI-encoded so none holds a "+" (ids come from a host-supplied function).
function segmentName(holder: string, origin: string, batch: string): string {
  return `${holder}+${encodeURIComponent(origin)}+${encodeURIComponent(batch)}${SUFFIX}`;
}

function parseName(name: string) {
  if (!name.endsWith(SUFFIX)) return undefined;
  const parts = name.slice(0, -SUFFIX.length).split('+');
  if (parts.length !== 5) return undefined;
  const [writer, pid, host, origin, batch] = parts.map(decodeURIComponent) as [string, string, string, string, string];
  if (!/^\d+$/.test(pid)) return undefined;
  return { writer, pid: Number(pid), host, origin, batch };
}

export class Spool {
  readonly dir: string;
  readonly #writer: string;
  /** This writer's part of a file name: writer, pid, host. */
  readonly #holder: string;
  readonly #host = hostname();
  readonly #newId: () => string;
  readonly #onError: (error: unknown) => void;
  #current: Segment | undefined;

  constructor(dir: string, writer: string, newId: () => string, onError: (error: unknown) => void) {
    this.dir = dir;
    this.#writer = writer;
    this.#holder = [writer, String(process.pid), this.#host].map(encodeURIComponent).join('+');
    this.#newId = newId;
    this.#onError = onError;
    openWriters.add(writer);
  }

  /** Appends one run's records to the segment of the batch being gathered. */
  append(rows: readonly NewRecord[]): void {
    this.#write(`${JSON.stringify(rows)}\n`, rows.length, 0);
  }

  /** Notes records dropped (the buffer was full), so they are counted should this process die. */
  drop(count: number): void {
    this.#write(`{"dropped":${count}}\n`, 0, count);
  }

  #write(line: string, rows: number, dropped: number): void {
    const segment = this.#current ?? this.#open();
    if (segment?.fd === undefined) return;
    try {
      writeSync(segment.fd, line);
      segment.rows += rows;
      segment.dropped += dropped;
    } catch (error) {
      // Then these records are held in memory only, as without a spool.
      this.#onError(error);
    }
  }

  #open(): Segment | undefined {
    const id = this.#newId();
    const path = join(this.dir, segmentName(this.#holder, this.#writer, id));
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.#onError(error);
        return undefined;
      }
      // Another process closing cleanly removed the directory, empty, an instant ago.
      try {
        mkdirSync(this.dir, { recursive: true });
        fd = openSync(path, 'wx');
      } catch (again) {
        this.#onError(again);
        return undefined;
      }
    }
    this.#current = { id, path, fd, rows: 0, dropped: 0 };
    return this.#current;
  }

  /** Ends the segment being gathered: its records are now a batch. Undefined when none was written. */
  cut(): Segment | undefined {
    const segment = this.#current;
    this.#current = undefined;
    if (segment?.fd !== undefined) {
      closeSync(segment.fd);
      segment.fd = undefined;
    }
    return segment;
  }

  /** The batch committed: its segment goes. */
  remove(path: string): void {
    try {
      unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.#onError(error);
    }
  }

  /**
   * Closes the segment being gathered, removing it when it holds nothing to recover, and the
   * directory when it is empty and the platform's (not one the host made). Segments of batches not
   * committed stay for recovery.
   */
  close(): void {
    const segment = this.cut();
    if (segment !== undefined && segment.rows === 0 && segment.dropped === 0) this.remove(segment.path);
    openWriters.delete(this.#writer);
    if (!ownedDirs.has(this.dir)) return;
    try {
      rmdirSync(this.dir);
    } catch {
      // Not empty (another process's segments), or gone: either way nothing to do.
    }
  }

  /**
   * Holders of segments this writer may have to recover: other writers' segments, and its own
   * claims on them (a recovery that failed and is retried), never the segments it is writing.
   */
  holders(): Holder[] {
    const byHolder = new Map<string, Holder>();
    for (const name of readdirSync(this.dir)) {
      const parsed = parseName(name);
      if (parsed === undefined || (parsed.writer === this.#writer && parsed.origin === this.#writer)) continue;
      const key = `${parsed.writer}\n${parsed.pid}\n${parsed.host}`;
      let holder = byHolder.get(key);
      if (holder === undefined) {
        holder = { writer: parsed.writer, pid: parsed.pid, host: parsed.host, names: [] };
        byHolder.set(key, holder);
      }
      holder.names.push(name);
    }
    return [...byHolder.values()];
  }

  /** Whether this holder's process is known dead without asking the store (same host only). */
  deadHere(holder: Holder): boolean | undefined {
    if (holder.host !== this.#host) return undefined;
    if (holder.writer === this.#writer) return true;
    // The same pid: this process, and the writer is no longer open in it (a closed platform), or a
    // previous process that had the same pid (a restarted container's pid 1).
    if (holder.pid === process.pid) return !openWriters.has(holder.writer);
    try {
      process.kill(holder.pid, 0);
      return false;
    } catch (error) {
      // EPERM: alive, under another user.
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }

  /** The newest change to any of these segments, in milliseconds since the epoch (0 when none is left). */
  modifiedAt(names: readonly string[]): number {
    let newest = 0;
    for (const name of names) {
      try {
        newest = Math.max(newest, statSync(join(this.dir, name)).mtimeMs);
      } catch {
        // Taken by another recoverer meanwhile.
      }
    }
    return newest;
  }

  /**
   * Takes a segment for this writer by renaming it to this writer's name: of two recoverers, one
   * rename succeeds and the other finds the file gone. Returns the batch read back, or undefined.
   */
  claim(name: string): SpooledBatch | undefined {
    const parsed = parseName(name);
    if (parsed === undefined) return undefined;
    let path = join(this.dir, name);
    if (parsed.writer !== this.#writer) {
      const claimed = join(this.dir, segmentName(this.#holder, parsed.origin, parsed.batch));
      try {
        renameSync(path, claimed);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      path = claimed;
    }
    return { id: parsed.batch, origin: parsed.origin, path, ...readSegment(readFileSync(path, 'utf8')) };
  }
}

/**
 * A segment's runs and drops. The last line may be cut short (the process was killed in the
 * middle of writing it): that run's `add()` never returned, so it was not accepted, and is skipped.
 */
export function readSegment(text: string): { rows: NewRecord[]; dropped: number } {
  const rows: NewRecord[] = [];
  let dropped = 0;
  const lines = text.split('\n');
  // After the last newline: empty, or the torn line.
  lines.pop();
  for (const line of lines) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      // Only a damaged disk garbles a line before the last: what it held cannot be told.
      continue;
    }
    if (Array.isArray(value)) for (const row of value) rows.push(row as NewRecord);
    else dropped += Number((value as { dropped?: unknown } | null)?.dropped) || 0;
  }
  return { rows, dropped };
}
