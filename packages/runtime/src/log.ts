/** How much plug-in logging the host wants; `off` silences plug-ins entirely. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'off';

/** Where plug-in log lines (and WASI stdout/stderr) go. */
export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Levels in ABI order: `get_log_level` reports the index; off is i32::MAX, as in Extism. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export const LOG_OFF = 0x7fffffff;

export function logLevelNumber(level: LogLevel): number {
  if (level === 'off') return LOG_OFF;
  const index = LOG_LEVELS.indexOf(level);
  if (index < 0) throw new TypeError(`logLevel must be one of ${[...LOG_LEVELS, 'off'].join(', ')}, got "${level}"`);
  return index;
}

/** The default logger: the console, one method per level. */
export const consoleLogger: Logger = {
  trace: (message) => console.debug(message),
  debug: (message) => console.debug(message),
  info: (message) => console.info(message),
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};
