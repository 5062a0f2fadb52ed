// A run's plug-in log lines, kept for its record. The runtime's logger belongs to the compiled
// plug-in, shared by every tenant's run of it; a call is synchronous, so the point routes lines to
// the one capture open during its call, and lines outside any recorded call are dropped.
import type { Logger } from '@tenon/runtime';
import type { RunLogs } from './types.js';

/** Lines a record keeps; past either bound the rest are only counted, so a chatty plug-in cannot swell the store. */
export const MAX_LOG_LINES = 50;
/** Bytes of log text (UTF-8) a record keeps. */
export const MAX_LOG_TEXT_BYTES = 8 * 1024;

type Level = RunLogs['lines'][number]['level'];

/** The lines of one call, bounded. */
export class LogCapture {
  readonly lines: RunLogs['lines'] = [];
  dropped = 0;
  #bytes = 0;

  add(level: Level, message: string): void {
    const bytes = Buffer.byteLength(message);
    // Once one line is dropped every later one is too: the kept lines are the run's first, with no gap.
    if (this.dropped > 0 || this.lines.length >= MAX_LOG_LINES || this.#bytes + bytes > MAX_LOG_TEXT_BYTES) {
      this.dropped++;
      return;
    }
    this.#bytes += bytes;
    this.lines.push({ level, message });
  }

  /** The record's column: null when the call logged nothing, the common case. */
  json(): string | null {
    return this.lines.length === 0 && this.dropped === 0 ? null : JSON.stringify({ lines: this.lines, dropped: this.dropped });
  }
}

/** A logger whose lines go to whichever capture is open, or nowhere. */
export class LogRouter {
  current: LogCapture | undefined;
  readonly logger: Logger = {
    trace: (message) => this.current?.add('trace', message),
    debug: (message) => this.current?.add('debug', message),
    info: (message) => this.current?.add('info', message),
    warn: (message) => this.current?.add('warn', message),
    error: (message) => this.current?.add('error', message),
  };
}

/** The record column read back. */
export function parseLogs(column: string | null): RunLogs {
  return column === null ? { lines: [], dropped: 0 } : (JSON.parse(column) as RunLogs);
}
